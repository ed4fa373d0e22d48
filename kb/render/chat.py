"""The chat's pieces: the answer message (Markdown) and the HTML panels (sources, why?, why not?, what if?,
facts, record, problems), each a pure function of the answer (and, for sources, of the passage's
surrounding text and provenance). Templates in `templates/chat/`; every asker or corpus string is escaped
by the template environment: HTML panels are autoescaped, the message is escaped for Markdown so no tag,
link, image or autolink is possible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from kb.model.answer import Answer, Change, Citation, WhyNot
from kb.render import words
from kb.render.jsondoc import digest
from kb.render.templating import markdown_text, render

HEADINGS = (("recommendation", "Reasons"), *words.KIND_HEADINGS[1:])
"""Headings in the chat: a recommendation's conclusions are the reasons for it."""
CONTEXT_CHARS = 160
"""Characters of the document shown on each side of a cited span."""


@dataclass(frozen=True)
class PassageContext:
    """What the corpus says around a cited span, and where the document comes from."""

    before: str
    after: str
    publisher: str = ""
    url: str = ""
    location: str = ""
    """`path:line` of the span's first character in the source file (`, page N` for a PDF)."""


ContextLookup = Callable[[Citation], PassageContext | None]


def message(answer: Answer) -> str:
    """The answer as a Markdown message: recommendation, reasons, obligations, risks, notes, questions."""
    return render("chat", "chat/message.md.j2", answer=answer, headings=HEADINGS,
                  reading=words.reading_lines(answer)).strip()


def user_message(question: str) -> str:
    """The asker's own question, shown literally."""
    return markdown_text(question)


def sources_html(answer: Answer | None, context: ContextLookup | None = None) -> str:
    """Each cited passage with its span highlighted in the surrounding text, its title and provenance."""
    cited = [(c, context(c) if context else None) for c in answer.citations()] if answer else []
    return render("html", "chat/sources.html.j2", answer=answer, cited=cited).strip()


def why_html(answer: Answer | None, glossary: words.Glossary | None = None) -> str:
    """Each conclusion's reasons as a sentence per step (names and values in words, rules by title and
    place, `glossary` naming them), with the rule and facts as recorded one click away."""
    facts = {f.id: f for f in answer.facts} if answer else {}
    return render("html", "chat/why.html.j2", answer=answer, facts=facts, glossary=glossary).strip()


def why_not_html(answer: Answer | None) -> str:
    """For each option not chosen: the rules that would have recommended it and the condition that failed."""
    return render("html", "chat/why_not.html.j2", answer=answer).strip()


def why_not_option_html(answer: Answer, entry: WhyNot) -> str:
    """One option not chosen, for people: its support and the asker facts that would have made it lead (or
    raised it most), in words."""
    return render("html", "chat/why_not_option.html.j2", answer=answer, entry=entry).strip()


def change_html(answer: Answer, change: Change) -> str:
    """One set of asker facts a Why not? offers to try, in words ("serving latency: 19 ms and ...")."""
    return render("html", "chat/change.html.j2", change=change,
                  said=words.said_words(change.facts, words.entity_names(answer))).strip()


def what_if_html(changed: Sequence[tuple[str, object]], answer: Answer, current: Answer | None) -> str:
    """The answer that would follow if some asker facts changed (`changed`: (field id, value) pairs), and
    how its conclusions differ from the current ones."""
    before = {c.statement for c in current.conclusions} if current else set()
    after = {c.statement for c in answer.conclusions}
    changes = (("It would add", sorted(after - before)), ("It would drop", sorted(before - after)))
    return render("html", "chat/what_if.html.j2", answer=answer, changes=changes,
                  said=words.said_words(changed, words.entity_names(answer))).strip()


def facts_html(answer: Answer | None) -> str:
    """Every fact the answer used (asked, read from a profile, from the ontology, derived) and its source."""
    return render("html", "chat/facts.html.j2", answer=answer).strip()


def record_html(answer: Answer | None, base: str | None = None) -> str:
    """The answer's record id (the hash in its export files' names), the knowledge versions behind it and,
    under the link `base` (which ends in `/`), a download link per export format, made when clicked."""
    from kb.render import LABELS

    return render("html", "chat/record.html.j2", answer=answer, digest=digest(answer) if answer else "",
                  base=base, labels=LABELS).strip()


STACK_COLUMNS = ("component", "version", "licence", "obligations", "risks", "questions", "where")
"""The stack table's columns: counts are numbers, so a click on a heading sorts by them."""


def stack_rows(answer: Answer | None) -> list[list[object]]:
    """The stack table: one row per component (name, version, licence that applies, how many obligations,
    risks and questions its licence brings for this use, where the file lists it)."""
    review = answer.stack if answer is not None else None
    if review is None:
        return []
    return [[r.component, r.version, r.licence if r.applies == "unknown" else r.applies,
             r.count("obligation"), r.count("risk"), r.count("question"), _place(r.where, review.file)]
            for r in review.components]


def _place(where: str, file: str) -> str:
    """Where a component is within the stack's file: `line 12`, or its JSON pointer `#/components/3`."""
    place = where.removeprefix(file)
    return f"line {place[1:]}" if place.startswith(":") else place or where


def stack_html(answer: Answer | None) -> str:
    """The stack's summary above its table: the file, how it is used, findings across components, what
    was not read."""
    return render("html", "chat/stack.html.j2", review=answer.stack if answer else None).strip()


def stack_row_html(answer: Answer | None, component: str, version: str) -> str:
    """One row's Why?: what the file declares and where, the licences that apply, and for each finding
    the rule (file and line), the facts it rests on and the clause it cites, with its text."""
    review = answer.stack if answer else None
    row = next((r for r in review.components if r.component == component and r.version == version), None) \
        if review else None
    cited = {c.n: c for c in review.citations} if review else {}
    return render("html", "chat/stack_row.html.j2", review=review, row=row, cited=cited).strip()


def stack_message(answer: Answer) -> str:
    """The chat message that reports a stack read and reviewed (Markdown)."""
    return render("chat", "chat/stack_message.md.j2", review=answer.stack).strip()


def problems_html(problems: Iterable[object], ok: str = "") -> str:
    """Knowledge-base problems as `path:line: message`, one a line."""
    return render("html", "chat/problems.html.j2", problems=[str(p) for p in problems], ok=ok).strip()


def versions_html(versions: Mapping[str, object]) -> str:
    """The knowledge versions line of the chat's status bar."""
    return render("html", "chat/versions.html.j2", versions=versions).strip()


@dataclass(frozen=True)
class Input:
    """The input that sets one fact, as the chat draws it (`chat/inputs.html.j2`)."""

    target: str
    """The fact it sets (`asker.team_size`)."""
    kind: str
    """"buttons" (one per choice: a click sets it), "select", "number" or "text" (each with a Set button)."""
    label: str
    """What the fact is, in words, for screen readers."""
    choices: tuple[tuple[str, str], ...] = ()
    """(value, as shown) for buttons and select."""
    unit: str = ""
    current: str = ""
    """The value it holds now, as stored ("6", "strong"), or empty."""


@dataclass(frozen=True)
class MissingRow:
    """One question asked back, with its input."""

    field: str
    question: str
    decisive: bool
    input: Input | None


@dataclass(frozen=True)
class KnownRow:
    """One fact the asker gave, where it came from, its input and a Remove button."""

    id: str
    label: str
    value: str
    source: str
    input: Input | None


def missing_html(rows: Sequence[MissingRow]) -> str:
    """The questions asked back, each with the input that answers it in one click; empty when none."""
    return render("html", "chat/missing.html.j2", rows=rows).strip()


def facts_editor_html(rows: Sequence[KnownRow]) -> str:
    """The facts the asker gave, each with its input and a Remove button."""
    return render("html", "chat/facts_editor.html.j2", rows=rows).strip()


def why_not_options_html(answer: Answer | None) -> str:
    """Each option not chosen, for people, and each change that would have made it lead, with a Try it
    button (`data-target` is "option.change", the entry's and the change's places in `answer.why_not`)."""
    changes = [[Markup(change_html(answer, c)) for c in entry.changes] for entry in answer.why_not] if answer else []
    return render("html", "chat/why_not_options.html.j2", answer=answer, changes=changes).strip()


CSS = """
.oscar-sources .oscar-cite{border:1px solid var(--border-color-primary);border-radius:6px;
  padding:.5rem .7rem;margin:.4rem 0}
.oscar-n{font-weight:700}
.oscar-meta,.oscar-from{font-size:.85em;opacity:.8}
.oscar-passage{margin:.4rem 0 0 0;padding:.3rem .6rem;border-left:3px solid #c9a400;white-space:pre-wrap}
.oscar-passage mark{background:#ffe98a;color:#1b1b1b;padding:0 .1em}
.oscar-kind{font-size:.75em;text-transform:uppercase;letter-spacing:.05em;opacity:.75}
.oscar-derivation{margin:.3rem 0;padding:.3rem .5rem;border:1px solid var(--border-color-primary);
  border-radius:6px}
.oscar-derivation summary{cursor:pointer}
.oscar-problems{color:#b00020}
.oscar-facts td,.oscar-facts th{padding:.15rem .4rem;text-align:left;vertical-align:top}
.oscar-empty{opacity:.7}
.oscar-stack-summary p{margin:.2rem 0}
.oscar-stack-row h4{margin:.2rem 0}
.oscar-steps{margin:.3rem 0 .3rem 1.2rem;padding:0}.oscar-step{margin:.15rem 0}
.oscar-raw{margin:.3rem 0 .1rem 0;font-size:.9em}.oscar-raw summary{opacity:.8}
.oscar-compare-table{border-collapse:collapse;width:100%}
.oscar-compare-table td,.oscar-compare-table th{padding:.3rem .5rem;border:1px solid var(--border-color-primary);
  vertical-align:top;text-align:left;font-size:.9em}
.oscar-against strong{color:#c0392b}.oscar-for strong{color:#2e8540}.oscar-typical{opacity:.8;font-style:italic}
.oscar-swatch{display:inline-block;width:.8em;height:.8em;margin:0 .25em 0 .7em;vertical-align:-.05em}
.oscar-chart figcaption{font-size:.85em;opacity:.85}.oscar-chart svg{max-width:100%;height:auto}
.oscar-change strong{font-weight:600}
.oscar-hidden{display:none!important}
.oscar-downloads{display:flex;flex-wrap:wrap;gap:.5rem;margin:.6rem 0}
.oscar-download{display:inline-block;padding:.45rem .9rem;border:1px solid var(--border-color-primary);
  border-radius:var(--button-large-radius,8px);background:var(--button-secondary-background-fill);
  color:var(--button-secondary-text-color);text-decoration:none;font-weight:600}
.oscar-download:hover{background:var(--button-secondary-background-fill-hover)}
.oscar-row{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem .6rem;margin:.35rem 0;padding:.35rem .5rem;
  border:1px solid var(--border-color-primary);border-radius:6px}
.oscar-row>div:first-child{flex:1 1 16rem}
.oscar-inputs{display:flex;flex-wrap:wrap;align-items:center;gap:.35rem}
.oscar-btn{padding:.25rem .7rem;border:1px solid var(--button-secondary-border-color,var(--border-color-primary));
  border-radius:var(--button-small-radius,6px);background:var(--button-secondary-background-fill);
  color:var(--button-secondary-text-color);font-weight:600;font-size:.9em;cursor:pointer;min-width:3.2rem}
.oscar-btn:hover{background:var(--button-secondary-background-fill-hover)}
.oscar-btn.oscar-chosen{background:var(--button-primary-background-fill);color:var(--button-primary-text-color)}
.oscar-btn.oscar-remove{background:var(--button-cancel-background-fill,#fdecea);
  color:var(--button-cancel-text-color,#b00020)}
.oscar-input{padding:.25rem .4rem;border:1px solid var(--input-border-color,var(--border-color-primary));
  border-radius:4px;background:var(--input-background-fill);color:var(--body-text-color);max-width:16rem}
input.oscar-input[type=number]{width:6.5rem}
.oscar-number{display:inline-flex;flex-direction:column;font-size:.8em;gap:.1rem}
.oscar-number .oscar-input{font-size:1.25em}
"""


def compare_html(answer: Answer | None) -> str:
    """The options side by side: a chart of each option's support by criterion, and a table of the criteria
    that matter for this asker with each cell's reason and citations."""
    from kb.render.compare import chart

    if answer is None:
        return render("html", "chat/compare_empty.html.j2").strip()
    return render("html", "compare.html.j2", answer=answer, chart=chart(answer),
                  by_id={c.id: c for c in answer.conclusions}).strip()
