"""An answer asks back only what is worth asking now: readings to confirm and questions whose answer could
change the recommendation, at most three. Every question the rules raised stays in the record."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from kb.model.answer import Answer
from kb.render import chat as render_chat
from kb.render.markdown import to_markdown
from kb.render.text import render_text

DOC = json.loads((Path(__file__).parents[1] / "data" / "justification.json").read_text())


def answer_with(missing: list[dict[str, object]]) -> Answer:
    doc = copy.deepcopy(DOC)
    doc["missing"] = missing
    return Answer.from_dict(doc)


def q(field: str, decisive: bool = False, confirm: object = None) -> dict[str, object]:
    out: dict[str, object] = {"field": f"asker.{field}", "question": f"Ask about {field.replace('_', ' ')} now",
                              "rules": ["r"], "decisive": decisive}
    if confirm is not None:
        out["confirm"] = confirm
    return out


def test_only_confirmations_and_decisive_questions_are_asked_at_most_three() -> None:
    answer = answer_with([q("industry", confirm="industry:finance"), q("budget_usd", decisive=True),
                          q("deadline_months"), q("team_size", decisive=True), q("gpus", decisive=True),
                          q("cloud_provider")])
    assert [m.field for m in answer.asked_back()] == ["asker.industry", "asker.budget_usd", "asker.team_size"]
    text, message = render_text(answer), render_chat.message(answer)
    for shown in (text, message):
        assert "Ask about budget usd now" in shown and "Ask about team size now" in shown
        assert "Ask about deadline months now" not in shown and "Ask about gpus now" not in shown
    record = to_markdown(answer)
    assert all(f"Ask about {f} now" in record for f in ("deadline months", "gpus", "cloud provider"))


def test_an_answer_with_nothing_decisive_to_ask_asks_nothing() -> None:
    answer = answer_with([q("deadline_months"), q("cloud_provider")])
    assert answer.asked_back() == []
    assert "tell me" not in render_text(answer) and "still need to know" not in render_chat.message(answer)
