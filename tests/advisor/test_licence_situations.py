"""A licensing reviewer's situations (tests/data/licence_situations.yaml, written by reading the licence texts,
not the rules): a licence used a given way gets the obligations, restrictions and permissions the reviewer
expects, each cited to the clause that states it, and none of the duties that do not apply to that use.

A situation is the licence named and the asker's use as facts, answered by the real rule engine over the
shipped knowledge base. An expectation holds when some conclusion cites the clause of the licence text that
holds the reviewer's quote (a passage under the same clause heading, or holding the quote); an `absent`
duty holds when no conclusion rests on the reviewer's words (no rule's own quote overlaps them: a short
licence such as ISC grants and conditions in one sentence). Add a situation to the data file: nothing here changes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kb.advisor.advise import Advisor
from kb.advisor.conversation import Conversation
from kb.model.answer import Answer

DATA = Path(__file__).parents[1] / "data" / "licence_situations.yaml"
SITUATIONS: list[dict[str, Any]] = yaml.safe_load(DATA.read_text(encoding="utf-8"))["situations"]


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def _find(text: str, quote: str) -> tuple[int, int]:
    """Where `quote` is in `text`, whitespace and case aside."""
    m = re.search(r"\s+".join(re.escape(w) for w in quote.split()), text, re.IGNORECASE)
    assert m is not None, f"the quote is not in the licence text: {quote!r}"
    return m.start(), m.end()


def _heading_at(knowledge_base: Any, doc_id: str, offset: int) -> str | None:
    heading = None
    for h in knowledge_base.corpus.get(doc_id).headings:
        if h.start <= offset:
            heading = h.text
    return heading


def _answer(knowledge_base: Any, situation: dict[str, Any]) -> Answer:
    conversation = Conversation()
    for name, value in situation["use"].items():
        conversation.set_fact(name, value)
    conversation.add_entity("mention", f"license:{situation['licence']}")
    return Advisor(knowledge_base).answer(conversation)


@pytest.mark.parametrize("situation", SITUATIONS, ids=[s["name"] for s in SITUATIONS])
def test_a_licence_used_this_way_gets_the_clauses_a_reviewer_expects(knowledge_base: Any,
                                                                      situation: dict[str, Any]) -> None:
    answer = _answer(knowledge_base, situation)
    cited = [(cit.doc, _squash(cit.text), cit.heading) for c in answer.conclusions for cit in c.citations]
    for item in situation.get("expect") or ():
        text = knowledge_base.corpus.get(item["doc"]).text
        start, _ = _find(text, item["quote"])
        heading = _heading_at(knowledge_base, item["doc"], start)
        assert any(doc == item["doc"] and (_squash(item["quote"]) in passage or h == heading)
                   for doc, passage, h in cited), \
            f"{situation['name']}: nothing cites {item['doc']} {heading or ''} for: {item['says']}"
    evidence = {r.id: r.evidence for r in knowledge_base.rules.book.rules if r.evidence is not None}
    for item in situation.get("absent") or ():
        text = knowledge_base.corpus.get(item["doc"]).text
        lo, hi = _find(text, item["quote"])
        for c in answer.conclusions:
            ev = evidence.get(c.rule.id)
            if ev is None or ev.doc != item["doc"] or not ev.quote:
                continue
            a, b = _find(text, ev.quote)
            assert not (a < hi and lo < b), f"{situation['name']}: {c.rule} says what does not apply: {item['says']}"
