"""The answer for a person reading a terminal (`kb ask`)."""

from __future__ import annotations

from kb.model.answer import Answer, StackReview
from kb.render import words
from kb.render.templating import render


def render_text(answer: Answer, why: bool = False) -> str:
    """Recommendation, conclusions with citation numbers, open questions and the numbered sources; with
    `why`, the facts behind each conclusion as a tree."""
    text = render("text", "answer.txt.j2", answer=answer, why=why, reading=words.reading_lines(answer),
                  derivation=lambda ids: words.derivation_lines(answer, ids))
    return text.strip() + "\n"


def render_stack_text(stack: StackReview) -> str:
    """A reviewed stack as `kb stack` prints it: a row per component with what its licence asks for this use,
    findings across components, what was not read, and the clauses cited."""
    return render("text", "stack.txt.j2", stack=stack).strip() + "\n"
