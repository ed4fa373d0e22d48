"""How the parts of an answer read in words: one place for a value, a fact's source, an option, a reading.

Plain text: every function returns text to be escaped where it is put (the templates do that).
"""

from __future__ import annotations

from collections.abc import Mapping

from kb.model.answer import Answer
from kb.model.facts import Source
from kb.vocab import OPTION_LABELS

KIND_HEADINGS = (
    ("recommendation", "Recommendations"),
    ("obligation", "Obligations"),
    ("risk", "Risks"),
    ("note", "Notes"),
    ("question", "Open questions"),
)
"""Conclusion kinds in the order an answer shows them, with their headings."""

OUTWEIGHED = "its conditions held, but other options weighed more"


def could_change(asked: str) -> str:
    """What a decisive question back could change: a licence question's duties, else the recommendation."""
    return "what the licences ask of you" if asked == "obligations" else "the recommendation"
"""Why a rule that fired for an option not chosen did not carry the decision."""


CLEAR_STRENGTH = 0.6
"""A recommendation at least this strong, and this far ahead of the next option (CLEAR_LEAD), is "clear"."""
CLEAR_LEAD = 0.2


def strength_text(recommendation: object) -> str:
    """A recommendation's strength in words: "a clear lead" when strong and well ahead of the next option,
    else "leaning"; the numbers stay in the Why? view and the records."""
    strength = float(getattr(recommendation, "strength", 0.0))
    scores = sorted((float(v) for v in dict(getattr(recommendation, "scores", {}) or {}).values()), reverse=True)
    lead = scores[0] - scores[1] if len(scores) > 1 else scores[0] if scores else 0.0
    return "a clear lead" if strength >= CLEAR_STRENGTH and lead >= CLEAR_LEAD else "leaning"


USE_WORDS = {"distributed": "shipped to others", "network": "offered over a network",
             "distributed and network": "shipped to others and offered over a network",
             "internal": "used only inside the organisation", "unknown": "not said yet (the rules ask)"}


def use_text(use: str) -> str:
    """How a stack is used, in words ("shipped to others")."""
    return USE_WORDS.get(use, use)


def option_label(option: object) -> str:
    """An option for people: `commercial` -> "Buy a commercial / managed offering"."""
    return OPTION_LABELS.get(str(option), str(option))


def value_text(value: object) -> str:
    """A fact value for people: booleans as yes/no, a field dict as `name=value` pairs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={value_text(v)}" for k, v in sorted(value.items()))
    return str(value)


def source_text(source: Source, to_asker: bool = False) -> str:
    """Where a fact came from, in words: the question's words and characters (and how they were read), the
    profile's file and line, the ontology's file, line and triple, or the rule that derived it.
    `to_asker`: spoken to the asker ("your question"), as the chat does, not about them."""
    kind = source.kind
    question = "your question" if to_asker else "the question"
    if kind == "question":
        where = f" (characters {source.start}-{source.end})" if source.start is not None else ""
        quoted = f' "{source.text}"' if source.text else ""
        return f"{question}{quoted}{where}{how_read(source)}"
    if kind == "profile":
        line = f", line {source.line}" if source.line else ""
        return f"profile file {source.file or ''}{line}"
    if kind == "ontology":
        where = source.file or "ontology"
        if source.line:
            where += f":{source.line}"
        triple = " ".join(source.triple or ())
        return f"ontology {where}" + (f" ({triple})" if triple else "")
    if kind == "derived":
        return f"derived by rule {source.rule or '?'} from {', '.join(source.from_facts) or 'no facts'}"
    if kind == "corpus":
        return f"corpus document {source.doc or ''}"
    if kind == "user":
        return "set by you" if to_asker else "set by the asker"
    return str(kind)


def how_read(source: Source) -> str:
    """How the question's words were read: ", read by the phrase at reader/phrases/x.yaml:12"."""
    how, via = source.how, source.via
    if not how or not via:
        return ""
    if how == "example":
        return f', read as like the example "{via}" (similarity {float(source.score or 0):.2f})'
    if how == "fuzzy":
        return f', read as a misspelling of "{via}"'
    if how == "pattern":
        return f", read by the phrase at {via}"
    if how == "quantity":
        return f", read as {via}"
    return ""


def reading_lines(answer: Answer) -> list[str]:
    """What was read of the latest question beyond its facts: names not known, and facts said as a maybe
    (not taken)."""
    reading = answer.reading
    if reading is None:
        return []
    out: list[str] = []
    if reading.unknown:
        names = ", ".join(f'"{n}"' for n in reading.unknown)
        out.append(f"I don't know {names} yet, so nothing about {'it' if len(reading.unknown) == 1 else 'them'}"
                   " is in this answer.")
    for a in reading.ambiguous:
        options = ", ".join(a.candidates[:-1]) + f" or {a.candidates[-1]}" if len(a.candidates) > 1 else a.candidates[0]
        out.append(f'"{a.text}" could be {options}: say which, and I will take it into account.')
    for h in reading.hedged:
        out.append(f'You said "{h.text}" as a maybe, so I did not take {h.field.replace("_", " ")} '
                   f"= {value_text(h.value)} as a fact.")
    return out


def versions_text(versions: Mapping[str, object]) -> str:
    """Knowledge versions in one line."""
    return ", ".join(f"{k} {str(v)[:12]}" for k, v in sorted(versions.items()))


def derivation_lines(answer: Answer, fact_ids: tuple[str, ...] | list[str], indent: int = 0) -> list[str]:
    """The facts behind a conclusion as an indented tree, each with where it came from; a derived fact
    expands into the facts it was derived from."""
    facts = {f.id: f for f in answer.facts}
    out: list[str] = []

    def walk(fid: str, depth: int, seen: frozenset[str]) -> None:
        fact = facts.get(fid)
        if fact is None or fid in seen:
            return
        out.append(f"{'  ' * depth}{fid}: {value_text(fact.value)} ({source_text(fact.source)})")
        for child in fact.source.from_facts:
            walk(child, depth + 1, seen | {fid})

    for fid in fact_ids:
        walk(fid, indent, frozenset())
    return out
