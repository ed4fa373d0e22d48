"""The engine around durable_rules: chaining, negation, explanations, bounds, isolation and cleanup."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

import kb.engine.durable as durable
from kb.engine.rulebase import ConsequentError, LiveRuleBase, RuleBase, RunawayRuleError
from kb.model.facts import Fact, Source
from kb.model.problems import KnowledgeError

DATA = Path(__file__).parents[1] / "data" / "rules"
SRC = Source(kind="profile", file="profile.yaml")


def f(fid: str, kind: str, **fields: object) -> Fact:
    return Fact.make(fid, kind, fields, SRC)  # type: ignore[arg-type]


def gpl_case(**asker: object) -> list[Fact]:
    return [
        f("asker", "asker", **asker),
        f("mention:offering:x", "mention", entity="offering:x", entity_kind="offering"),
        f("offering:x", "offering", name="X", license="license:GPL-3.0-only"),
        f("license:GPL-3.0-only", "license", name="GPL", family="strong_copyleft", copyleft=True),
    ]


@pytest.fixture(scope="module")
def base() -> RuleBase:
    rb = RuleBase.load([DATA / "chain.yaml"])
    yield rb
    rb.close()


def test_chained_conclusion_cites_rule_facts_and_derivation(base: RuleBase) -> None:
    result = base.consult(gpl_case(distributes=True, team_size=30))
    (ob,) = [c for c in result.conclusions if c.kind == "obligation"]
    assert ob.rule_ref.id == "t.ship-copyleft"
    assert ob.rule_ref.file.endswith("chain.yaml") and ob.rule_ref.line == 24
    assert ob.statement == "Shipping offering:x (strong_copyleft) obliges you to share derived work."
    (derived,) = result.derived
    assert set(ob.because) == {"asker", derived.id}
    assert derived.source.kind == "derived" and derived.source.rule == "t.copyleft-use"
    assert set(derived.source.from_facts) == {"mention:offering:x", "offering:x", "license:GPL-3.0-only"}
    tree = {d.fact.id: d for d in result.why(ob.id)}
    assert {c.fact.id for c in tree[derived.id].children} == set(derived.source.from_facts)
    assert "derived by t.copyleft-use" in "\n".join(tree[derived.id].lines())


def test_no_distribution_no_obligation(base: RuleBase) -> None:
    result = base.consult(gpl_case(distributes=False, team_size=30))
    assert not [c for c in result.conclusions if c.kind == "obligation"]
    assert len(result.derived) == 1


def test_negation_holds_only_without_the_fact(base: RuleBase) -> None:
    alone = base.consult([f("asker", "asker", regulated=True, team_size=30)])
    assert "t.no-hipaa" in alone.fired
    req = f("requirement:certification:hipaa_baa", "requirement", certification="certification:hipaa_baa")
    # The requirement sorts after the asker: the gate keeps the rule from firing before it arrives.
    blocked = base.consult([f("asker", "asker", regulated=True, team_size=30), req])
    assert "t.no-hipaa" not in blocked.fired
    (failure,) = blocked.explain_failed("t.no-hipaa") or ()
    assert "requirement:certification:hipaa_baa" in failure.reason and failure.line == 41


def test_any_group_alternatives_merge_into_one_conclusion(base: RuleBase) -> None:
    result = base.consult([f("asker", "asker", team_size=4, ml_skills="none")])
    small = [c for c in result.conclusions if c.rule_ref.id == "t.small"]
    assert len(small) == 1 and small[0].statement == "buy (team of 4)"
    assert base.consult([f("asker", "asker", team_size=40, ml_skills="none")]).fired >= {"t.small"}


def test_conflicting_recommendations_are_kept_and_weighed(base: RuleBase) -> None:
    result = base.consult([f("asker", "asker", team_size=4, ml_skills="strong")])
    recs = [c for c in result.conclusions if c.kind == "recommendation"]
    assert {(c.option, c.stance) for c in recs} == {("commercial", "for"), ("commercial", "against"),
                                                   ("open_source", "for")}
    scores = {s.option: s.score for s in result.weighing()}
    assert scores == {"commercial": pytest.approx(0.3), "open_source": pytest.approx(0.5)}
    assert result.weighing()[0].option == "open_source"


def test_explain_failed_names_the_condition(base: RuleBase) -> None:
    result = base.consult([f("asker", "asker", team_size=40, ml_skills="some")])
    assert result.explain_failed("t.small") is not None
    reasons = [str(x) for x in result.explain_failed("t.small") or ()]
    assert any("team_size < 10" in r and "is 40" in r for r in reasons)
    assert any("ml_skills == none" in r and "some" in r for r in reasons)
    (ship,) = result.explain_failed("t.ship-copyleft") or ()
    assert ship.reason == "asker fails distributes == True (asker.distributes is not known)"
    shipping = base.consult([f("asker", "asker", distributes=True)])
    assert shipping.explain_failed("t.ship-copyleft")[0].reason == "no copyleft_use fact is known"  # type: ignore[index]
    fired = base.consult([f("asker", "asker", team_size=4)])
    assert fired.explain_failed("t.small") is None


def test_runaway_rule_is_stopped_and_named() -> None:
    rb = RuleBase.load([DATA / "runaway.yaml"], max_derived_per_rule=200)
    try:
        with pytest.raises(RunawayRuleError) as err:
            rb.consult([f("asker", "asker")])
        assert err.value.rule is not None and err.value.rule.id == "t.grow"
        assert "runaway.yaml" in str(err.value)
        assert rb.engine.live_sessions() == 0
    finally:
        rb.close()


def test_error_inside_a_consequent_is_surfaced(monkeypatch: pytest.MonkeyPatch, base: RuleBase) -> None:
    class Exploding(list):  # type: ignore[type-arg]
        def append(self, item: object) -> None:
            raise RuntimeError("boom")

    original = durable._Record

    def broken() -> durable._Record:
        record = original()
        record.activations = Exploding()
        return record

    monkeypatch.setattr(durable, "_Record", broken)
    with pytest.raises(ConsequentError) as err:
        base.consult([f("asker", "asker", team_size=4)])
    assert "boom" in str(err.value) and err.value.rule is not None
    assert base.engine.live_sessions() == 0
    monkeypatch.setattr(durable, "_Record", original)
    assert "t.small" in base.consult([f("asker", "asker", team_size=4)]).fired


def test_unknown_fact_kind_is_refused(base: RuleBase) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        base.consult([f("x", "nonsense")])


def test_reload_compiles_under_fresh_names_and_keeps_old_on_error(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text((DATA / "chain.yaml").read_text())
    live = LiveRuleBase([rules])
    first = live.current
    assert "t.small" in live.consult([f("asker", "asker", team_size=4)]).fired
    second = live.reload()
    assert second is live.current and second.engine.prefix != first.engine.prefix  # type: ignore[attr-defined]
    rules.write_text("rules:\n  - id: Broken id\n")
    with pytest.raises(KnowledgeError):
        live.reload()
    assert live.current is second
    assert "t.small" in live.consult([f("asker", "asker", team_size=4)]).fired
    second.close()


def _profiles() -> list[list[Fact]]:
    return [
        gpl_case(distributes=True, team_size=3, ml_skills="none", regulated=True),
        gpl_case(distributes=False, team_size=50, ml_skills="strong", regulated=False),
        [f("asker", "asker", team_size=4, ml_skills="strong", regulated=True),
         f("requirement:certification:hipaa_baa", "requirement", certification="certification:hipaa_baa")],
        [f("asker", "asker", team_size=90, ml_skills="some")],
    ]


def test_concurrent_consultations_never_mix(base: RuleBase) -> None:
    profiles = _profiles()
    alone = [base.consult(p) for p in profiles]
    assert len({a.conclusions for a in alone}) == len(profiles)  # the profiles do contradict
    errors: list[str] = []

    def worker(k: int) -> None:
        for i in range(200):
            j = (i + k) % len(profiles)
            got = base.consult(profiles[j])
            if got.conclusions != alone[j].conclusions or got.facts != alone[j].facts:
                errors.append(f"thread {k}, consultation {i}: differs from profile {j} alone")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert base.engine.live_sessions() == 0


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def test_thousands_of_consultations_leak_nothing(base: RuleBase) -> None:
    profiles = _profiles()
    for p in profiles * 50:  # warm-up: allocator pools reach their working size
        base.consult(p)
    gc.collect()
    threads, rss = threading.active_count(), _rss_mb()
    # More than the engine's 1,024 live sessions per ruleset: a leaked session would fail here.
    for i in range(5000):
        base.consult(profiles[i % len(profiles)])
    gc.collect()
    assert base.engine.live_sessions() == 0
    assert threading.active_count() == threads
    assert _rss_mb() - rss < 16


def test_reload_while_consulting_loses_no_consultation(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text((DATA / "chain.yaml").read_text())
    live = LiveRuleBase([rules])
    stop = threading.Event()
    errors: list[BaseException] = []
    done = [0]

    def consult() -> None:
        while not stop.is_set():
            try:
                assert "t.small" in live.consult([f("asker", "asker", team_size=4)]).fired
                done[0] += 1
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

    worker = threading.Thread(target=consult)
    worker.start()
    for _ in range(3):
        live.reload()
    stop.set()
    worker.join()
    live.current.close()
    assert errors == [] and done[0] > 0


def test_tiny_and_huge_numbers_and_every_asker_field_at_once_are_consulted(base: RuleBase) -> None:
    # durable_rules' JSON reader knows no exponents: 1e-05 once took the whole process down
    from kb.advisor.conversation import ASKER_FIELDS

    every = {name: {"bool": False, "int": 7, "float": 1e-05}.get(spec.type, spec.values[0] if spec.values else "x")
             for name, spec in ASKER_FIELDS.items()}
    result = base.consult(gpl_case(**{**every, "distributes": True, "team_size": 30, "latency_ms": 2.5e-07,
                                      "budget_usd": 10**15, "deadline_months": 1e16}))
    assert [c.rule_ref.id for c in result.conclusions if c.kind == "obligation"] == ["t.ship-copyleft"]
