"""What-if trials weigh the options with the recommending slice of the rules only: it must weigh every
consultation exactly as the whole rule base does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kb.advisor.conversation import Conversation
from kb.advisor.reading_eval import _read, end_to_end_schema
from kb.engine.rulebase import recommending_slice


def test_the_slice_keeps_every_recommending_rule_and_what_they_read(knowledge_base: Any) -> None:
    book = knowledge_base.rules.book
    kept = {r.id for r in recommending_slice(book).rules}
    recommending = {r.id for r in book.rules if any(t.kind == "recommendation" for t in r.then)}
    assert recommending and recommending <= kept
    assert len(kept) < len(book.rules)


def test_the_slice_weighs_as_the_whole_rule_base_does(knowledge_base: Any, kb_root: Path) -> None:
    questions = [str(q["text"]) for q in _read(kb_root / "reader" / "eval" / "end_to_end.yaml",
                                                end_to_end_schema())["questions"]]
    rules = knowledge_base.rules
    for question in questions:
        conversation = Conversation()
        conversation.add_turn(knowledge_base.understand(question))
        facts = conversation.facts(knowledge_base.ontology, "recommendation")
        for name, value in (("team_size", 3), ("team_size", 400), ("ml_skills", "strong"),
                            ("regulated", True), ("main_concern", "cost")):
            trial = conversation.what_if(name, value).facts(knowledge_base.ontology, "recommendation")
            assert rules.weigh(trial) == rules.consult(trial).weighing(), (question, name, value)
        assert rules.weigh(facts) == rules.consult(facts).weighing(), question


def test_trials_weighed_by_difference_weigh_as_the_rules_do(knowledge_base: Any, kb_root: Path) -> None:
    """Why not? and the questions back weigh every value worth trying of every field a rule tests, and pairs
    of them, by running only the rules a change can reach (`Baseline`): each must weigh as the whole slice."""
    from kb.advisor.advise import Advisor

    advisor = Advisor(knowledge_base)
    questions = [str(q["text"]) for q in _read(kb_root / "reader" / "eval" / "end_to_end.yaml",
                                                end_to_end_schema())["questions"]]
    rules, ontology = knowledge_base.rules, knowledge_base.ontology
    fields, _ = advisor._what_ifs(knowledge_base)
    singles = [(name, value) for name in fields for value in advisor._candidates(knowledge_base, name)[:12]]
    assert len(singles) > len(fields)
    trials = 0
    for question in questions[::3]:
        conversation = Conversation()
        conversation.add_turn(knowledge_base.understand(question))
        baseline = rules.baseline(conversation.facts(ontology, "recommendation"))
        assert baseline.weighing() == rules.weigh(conversation.facts(ontology, "recommendation")), question
        changed = [conversation.what_if(name, value) for name, value in singles]
        changed += [conversation.what_if(*a).what_if(*b) for a, b in zip(singles, singles[7:], strict=False)]
        for trial in changed:
            facts = trial.facts(ontology, "recommendation")
            assert baseline.weigh(facts) == rules.weigh(facts), (question, trial.known())
            trials += 1
    assert trials > 1000


RULES = """\
topic: Trials
derives:
  crew:
    doc: the team, as counted
    fields:
      size: {type: int, doc: people}
rules:
  - id: t.crew
    title: Every asker has a crew
    when:
      - fact: asker
        where: {regulated: true}
    then:
      - derive: crew
        fields: {size: $asker.team_size}
  - id: t.big-crew
    title: A big crew can build
    when:
      - fact: crew
        where: {size: {ge: 50}}
    then:
      - kind: recommendation
        option: build_in_house
        strength: 0.5
        statement: A big crew can build.
    evidence: {query: big team builds its own platform}
  - id: t.said-cost
    title: Cost said
    when:
      - fact: asker
        as: a
    then:
      - kind: recommendation
        option: open_source
        strength: 0.2
        statement: "Said: {a.main_concern}."
    evidence: {query: main concern}
"""


def test_a_change_reaches_the_rules_that_quote_the_field_without_testing_it(tmp_path: Path) -> None:
    """`t.crew` tests only `regulated`, but copies `team_size` into the fact `t.big-crew` tests: a trial on
    the team's size must run both."""
    from kb.engine.rulebase import RuleBase
    from kb.model.facts import Fact, Source

    path = tmp_path / "trials.yaml"
    path.write_text(RULES, encoding="utf-8")
    rules = RuleBase.load([path])

    def asker(**fields: object) -> list[Fact]:
        return [Fact.make("asker", "asker", fields, Source(kind="user"))]

    baseline = rules.baseline(asker(regulated=True, team_size=5, main_concern="cost"))
    assert [s.option for s in baseline.weighing()] == ["open_source"]
    for trial in (asker(regulated=True, team_size=80, main_concern="cost"),
                  asker(regulated=False, team_size=80, main_concern="cost"),
                  asker(regulated=True, team_size=80),
                  asker(regulated=True, team_size=5, main_concern="lock_in")):
        assert baseline.weigh(trial) == rules.weigh(trial), trial
    assert [s.option for s in baseline.weigh(asker(regulated=True, team_size=80, main_concern="cost"))] == [
        "build_in_house", "open_source"]
