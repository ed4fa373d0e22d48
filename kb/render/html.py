"""The decision record as one self-contained HTML page (no scripts, no outside resources)."""

from __future__ import annotations

from kb.model.answer import Answer
from kb.render import words
from kb.render.compare import chart
from kb.render.jsondoc import digest
from kb.render.templating import render


def to_html(answer: Answer) -> str:
    """The page; every string is escaped by the template environment."""
    rec = answer.recommendation
    return render("html", "record.html.j2", answer=answer, digest=digest(answer),
                  title=words.option_label(rec.option) if rec else "No recommendation",
                  reading=words.reading_lines(answer), chart=chart(answer),
                  by_id={c.id: c for c in answer.conclusions}, names=words.entity_names(answer))
