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
