"""The citation policy, measured on the labelled pairs (tests/data/citations) over the end-to-end questions:
the suite fails under the documented floors (docs/advisor.md; `kb eval citations` prints the figures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kb.advisor.advise import Advisor
from kb.advisor.citation_eval import LABELS, evaluate, load_labels
from kb.advisor.citation_eval import questions as measured_questions
from kb.advisor.conversation import Conversation
from kb.config import PROJECT_ROOT

FLOORS = {"dev": 0.98, "test": 0.95}
"""Precision floors over the end-to-end questions and the reader's dev utterances: the target (0.95) on the test
split, measured once at 0.967 of 61; dev (fitted on) a citation or two below its 0.994 of 160."""


SAMPLE = 4
"""The default suite answers the end-to-end questions and every fourth dev utterance (about a minute);
`pytest -m slow` answers them all, as `kb eval citations` does (several minutes, growing with the dev split)."""


@pytest.fixture(scope="module")
def questions(kb_root: Path) -> list[str]:
    return measured_questions(kb_root / "reader")


def _meet_the_floors(knowledge_base: Any, questions: list[str]) -> None:
    tallies = evaluate(knowledge_base, questions, load_labels(PROJECT_ROOT / LABELS))
    for split, tally in tallies.items():
        figures = tally.figures()
        if not tally.labelled:
            continue
        assert figures["precision"] >= FLOORS[split], (split, figures, tally.unsupported)
        assert figures["own_passage_recall"] in (None, 1.0), (split, figures)
        assert figures["furniture_rate"] <= 0.02, (split, figures)


def test_citations_meet_the_documented_floors_on_a_sample(knowledge_base: Any, kb_root: Path) -> None:
    _meet_the_floors(knowledge_base, measured_questions(kb_root / "reader", every=SAMPLE))


@pytest.mark.slow
def test_citations_meet_the_documented_floors_on_every_question(knowledge_base: Any, questions: list[str]) -> None:
    _meet_the_floors(knowledge_base, questions)


def test_questions_asked_back_cite_their_rules_passage_or_nothing_and_furniture_is_never_cited(
        knowledge_base: Any, questions: list[str]) -> None:
    rules = {r.id: r for r in knowledge_base.rules.book.rules}
    advisor = Advisor(knowledge_base)
    for question in questions[:40]:
        _, answer = advisor.ask(Conversation(), question)
        for c in answer.conclusions:
            for cit in c.citations:
                doc = knowledge_base.corpus.get(cit.doc)
                own = rules[c.rule.id].evidence
                is_own = own is not None and own.quote is not None and \
                    " ".join(own.quote.split()).lower() in " ".join(cit.text.split()).lower()
                assert is_own or doc.citable(cit.heading or "", cit.text), (c.rule.id, cit.text[:80])
                if c.kind == "question":
                    assert is_own, (c.rule.id, cit.text[:80])


def test_a_definition_cites_the_passage_its_idea_names_or_nothing(knowledge_base: Any) -> None:
    """Every concept and criterion of the ontology, asked about: the definition cites the passage its
    `oscar:evidenceQuote` locates, alone; an idea that names no passage is defined without a citation."""
    rules = {r.id: r for r in knowledge_base.rules.book.rules}
    advisor = Advisor(knowledge_base)
    ideas = [f for f in knowledge_base.ontology.facts() if f.kind in ("concept", "criterion")]
    defined = 0
    for idea in ideas:
        _, answer = advisor.ask(Conversation(), f"what does {idea.get('name')} mean?")
        for c in answer.conclusions:
            evidence = rules[c.rule.id].evidence
            if evidence is None or evidence.of is None or idea.id not in c.because:
                continue
            defined += 1
            quote = idea.get("quote")
            if quote is None:
                assert c.citations == (), (idea.id, c.citations[0].text[:80])
            else:
                assert len(c.citations) == 1, (idea.id, [x.text[:60] for x in c.citations])
                assert " ".join(str(quote).split()).lower() in " ".join(c.citations[0].text.split()).lower(), idea.id
    assert defined >= len(ideas) // 2, (defined, len(ideas))
