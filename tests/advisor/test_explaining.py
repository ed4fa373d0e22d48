"""An answer explained for people, over the questions of tests/data/advisor/questions.yaml: Why? as a sentence
per step, Why not? with the facts that would have changed the outcome (each tried again here), the options
compared criterion by criterion, and the chart of each option's support."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kb.advisor.advise import CHANGES_SHOWN, Advisor, KnowledgeBase
from kb.advisor.conversation import Conversation
from kb.model.answer import Answer
from kb.render import export
from kb.render.compare import chart
from kb.render.words import Glossary, why_steps

CASES = yaml.safe_load((Path(__file__).parents[1] / "data" / "advisor" / "questions.yaml").read_text())
ADVISED = [c["question"] for c in CASES if c["asked"] in ("recommendation", "comparison")]


@pytest.fixture(scope="module")
def answered(knowledge_base: KnowledgeBase) -> list[tuple[Conversation, Answer]]:
    advisor = Advisor(knowledge_base)
    return [advisor.ask(Conversation(), q) for q in ADVISED]


def test_why_reads_as_sentences_from_the_askers_words_to_the_rule(
        answered: list[tuple[Conversation, Answer]], knowledge_base: KnowledgeBase) -> None:
    glossary = Glossary.of(knowledge_base.rules.book)
    titles = {r.id: r.title for r in knowledge_base.rules.book.rules}
    for _, answer in answered:
        for c in answer.conclusions:
            steps = why_steps(answer, c, glossary)
            assert steps[-1].kind == "applies" and steps[-1].where == f"{c.rule.file}:{c.rule.line}"
            assert steps[-1].title == (titles[c.rule.id] or c.rule.id)
            for s in steps:
                if s.kind in ("said", "named"):
                    assert s.words and s.words in answer.question  # the asker's own words, quoted
                if s.kind == "derived":  # a rule in between is named by its title, not its id
                    assert s.title in titles.values() and s.where.startswith("rules/")
                assert not re.search(r"\b(asker\.[a-z_]+|industry:[a-z_]+|offering:[a-z_]+)", s.what), s.what


def test_each_change_offered_in_why_not_does_what_it_says(
        answered: list[tuple[Conversation, Answer]], knowledge_base: KnowledgeBase) -> None:
    advisor = Advisor(knowledge_base)
    offered = 0
    for conversation, answer in answered:
        for entry in answer.why_not:
            assert len(entry.changes) <= CHANGES_SHOWN
            assert entry.option != answer.option
            for change in entry.changes:
                assert 1 <= len(change.facts) <= 2
                tried = advisor.what_if_all(conversation, {s.field.removeprefix("asker."): s.value
                                                           for s in change.facts})
                support = tried.recommendation.scores.get(entry.option, 0.0) if tried.recommendation else 0.0
                assert support == pytest.approx(change.score, abs=1e-3)
                if change.leads:  # tried for real: the option is then recommended (or tied for the lead)
                    assert tried.recommendation is not None
                    assert entry.option in (tried.recommendation.option, *tried.recommendation.tie)
                    offered += 1
                else:
                    assert support > entry.score
    assert offered >= 5, "the advisor hardly ever finds facts that would change its recommendation"


def test_the_comparison_has_each_criterion_a_conclusion_speaks_to_in_its_cell(
        answered: list[tuple[Conversation, Answer]], knowledge_base: KnowledgeBase) -> None:
    rows_seen = 0
    for _, answer in answered:
        rows = {row.criterion: row for row in answer.comparison}
        for c in answer.conclusions:
            if not c.criterion or c.kind not in ("recommendation", "risk"):
                continue
            row = rows[c.criterion]
            assert knowledge_base.ontology.label(c.criterion) == row.name
            if c.kind == "risk":
                assert c.id in row.risks
            else:
                cell = next(x for x in row.cells if x.option == c.option)
                assert c.id in cell.conclusions and not cell.typical
        for row in answer.comparison:
            cited = {cid for cell in row.cells for cid in cell.conclusions} | set(row.risks)
            assert cited and all(answer.conclusions[[x.id for x in answer.conclusions].index(i)].criterion
                                 == row.criterion for i in cited)
        rows_seen += len(rows)
    assert rows_seen >= len(answered), "few answers compare the options on any criterion"


def test_the_chart_draws_each_options_support_split_by_criterion(answered: list[tuple[Conversation, Answer]]) -> None:
    for _, answer in answered:
        drawn = chart(answer)
        if answer.recommendation is None:
            assert drawn is None
            continue
        assert drawn is not None
        scale = None
        for bar in drawn.bars:
            net = sum(s.value for s in bar.segments)
            assert net == pytest.approx(bar.score, abs=1e-3)  # the bar adds up the way the advisor weighs
            for s in bar.segments:
                assert (s.x >= drawn.zero) == (s.value > 0)
                scale = scale or s.width / abs(s.value)
                assert s.width / abs(s.value) == pytest.approx(scale)
        html = export(answer, "html")[1]
        assert "<svg" in html and "<script" not in html
        assert all(row.name in html for row in answer.comparison)
