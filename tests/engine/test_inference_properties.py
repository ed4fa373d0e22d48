"""Engine invariants over generated consultations (Hypothesis), on the seed rule base.

Fact order never changes what is concluded; running again gives the same; every conclusion cites a rule
and facts that exist; and the engine fires exactly the rules the Python reading of the rules says hold.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.config import Paths
from kb.engine.reference import reference_engine
from kb.engine.rulebase import RuleBase
from kb.model.facts import Fact, Source
from kb.rulebook.rules import load_rules, matches, rule_files

PATHS = Paths.default()
BOOK = load_rules(rule_files(PATHS.rules), None, PATHS.corpus, PATHS.root)
BASE = RuleBase.from_rulebook(BOOK)
REFERENCE = RuleBase.from_rulebook(BOOK, engine=reference_engine)
SRC = Source(kind="profile")

OFFERINGS = [
    ("offering:pt", {"name": "PyTorch", "type": "framework", "delivery": "open_source", "license": "license:BSD"}),
    ("offering:sm", {"name": "SageMaker", "type": "platform", "delivery": "managed_saas"}),
    ("offering:db", {"name": "Databricks", "type": "platform", "delivery": "open_core", "commercial_support": True}),
    ("offering:gpl", {"name": "GplLib", "type": "library", "delivery": "open_source", "license": "license:GPL"}),
    ("offering:llm", {"name": "OpenLLM", "type": "model", "delivery": "open_source", "open_weights": True,
                      "license": "license:RAIL"}),
    ("offering:api", {"name": "ClosedLLM", "type": "model", "delivery": "managed_saas"}),
]
LICENSES = [
    Fact.make("license:BSD", "license", {"name": "BSD", "family": "permissive", "osi_approved": True}, SRC),
    Fact.make("license:GPL", "license", {"name": "GPL", "family": "strong_copyleft", "osi_approved": True}, SRC),
    Fact.make("license:RAIL", "license", {"name": "RAIL", "family": "source_available", "osi_approved": False,
                                          "use_restrictions": True}, SRC),
]

asker_fields = st.fixed_dictionaries({}, optional={
    "team_size": st.integers(1, 60),
    "budget_usd": st.integers(1, 500).map(lambda k: k * 1000),
    "latency_ms": st.floats(1, 300, allow_nan=False),
    "deadline_months": st.integers(1, 36),
    "distributes": st.booleans(),
    "network_service": st.booleans(),
    "regulated": st.booleans(),
    "sensitive_data": st.booleans(),
    "core_differentiator": st.booleans(),
    "customization": st.booleans(),
    "fine_tuning": st.booleans(),
    "uses_foundation_model": st.booleans(),
    "legacy_serving": st.booleans(),
    "ml_skills": st.sampled_from(["none", "some", "strong"]),
})


@st.composite
def consultations(draw: st.DrawFn) -> list[Fact]:
    facts = [Fact.make("asker", "asker", draw(asker_fields), SRC), *LICENSES]
    for oid, fields in draw(st.lists(st.sampled_from(OFFERINGS), max_size=4, unique_by=lambda o: o[0])):
        facts.append(Fact.make(oid, "offering", fields, SRC))
        facts.append(Fact.make(f"mention:{oid}", "mention", {"entity": oid, "entity_kind": "offering"}, SRC))
    for cert in draw(st.lists(st.sampled_from(["certification:hipaa_baa", "certification:soc2_type2"]),
                              max_size=2, unique=True)):
        facts.append(Fact.make(f"requirement:{cert}", "requirement", {"certification": cert}, SRC))
    if draw(st.booleans()):
        facts.append(Fact.make("holds:sm", "holds", {"offering": "offering:sm",
                                                     "certification": "certification:soc2_type2"}, SRC))
    return facts


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(consultations(), st.randoms(use_true_random=False))
def test_fact_order_does_not_change_conclusions(facts: list[Fact], rnd: object) -> None:
    shuffled = list(facts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert BASE.consult(facts).conclusions == BASE.consult(shuffled).conclusions


@SETTINGS
@given(consultations())
def test_rerun_is_idempotent_and_conclusions_cite_rules_and_facts(facts: list[Fact]) -> None:
    first = BASE.consult(facts)
    again = BASE.consult(facts)
    assert first == again
    ids = {f.id for f in first.facts}
    rules = {r.id: r for r in BOOK.rules}
    for c in first.conclusions:
        assert c.rule_ref.id in rules and rules[c.rule_ref.id].line == c.rule_ref.line
        assert c.because and set(c.because) <= ids
    for d in first.derived:
        assert d.source.rule in rules and set(d.source.from_facts) <= ids


@SETTINGS
@given(consultations())
def test_engine_fires_what_the_rules_say(facts: list[Fact]) -> None:
    result = BASE.consult(facts)
    everything = list(result.facts)
    expected = {r.id for r in BOOK.rules for alt in r.alternatives if next(matches(alt, everything), None) is not None}
    assert result.fired == expected
    for rule in BOOK.rules:
        if rule.id not in result.fired:
            assert result.explain_failed(rule.id)


@SETTINGS
@given(consultations())
def test_a_second_engine_plugs_in_and_agrees_with_the_engine_of_record(facts: list[Fact]) -> None:
    ours, reference = BASE.consult(facts), REFERENCE.consult(facts)
    assert ours.activations == reference.activations
    assert {f.id: f.fields for f in ours.facts} == {f.id: f.fields for f in reference.facts}
    assert ours.conclusions == reference.conclusions
    assert ours.weighing() == reference.weighing()
