"""The decision record as Markdown, with MADR's headings, numbered citations and a rule-trace appendix."""

from __future__ import annotations

from kb.model.answer import Answer
from kb.render import words
from kb.render.jsondoc import digest
from kb.render.templating import render
from kb.vocab import OPTION_LABELS


def to_markdown(answer: Answer) -> str:
    """An architecture decision record (every asker or corpus string escaped for Markdown)."""
    rec = answer.recommendation
    text = render("markdown", "record.md.j2", answer=answer, digest=digest(answer),
                  title=words.option_label(rec.option) if rec else "No recommendation",
                  reading=words.reading_lines(answer), options=OPTION_LABELS,
                  scores=rec.scores if rec else {})
    return text.rstrip() + "\n"
