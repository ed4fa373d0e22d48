"""How the parts of an answer read in words: one place for a value, a fact's source, an option, a reading.

Plain text: every function returns text to be escaped where it is put (the templates do that).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kb.model.answer import Answer, Conclusion, FactEntry, SetTo
from kb.model.facts import Source
from kb.vocab import FACT_KINDS, OPTION_LABELS

if TYPE_CHECKING:
    from kb.rulebook.rules import Rulebook

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
    if how == "learned":
        words = ", ".join(f'"{w.strip()}"' for w in via.split(", "))
        return (f", read by what the labelled questions teach, mostly from {words} "
                f"(probability {float(source.score or 0):.2f})")
    if how == "fuzzy":
        return f', read as a misspelling of "{via}"'
    if how == "pattern":
        return f", read by the phrase at {via}"
    if how == "quantity":
        return f", read as {via}"
    if how == "entity":
        return f", implied by naming {via}"
    return ""


def reading_lines(answer: Answer) -> list[str]:
    """What was read of the latest question beyond its facts: names not known, and facts said as a maybe or of
    someone else (not taken)."""
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
    for h in reading.others:
        out.append(f'You said "{h.text}" of someone else, so I did not take {h.field.replace("_", " ")} '
                   f"= {value_text(h.value)} as yours.")
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


# -- the reasons in sentences ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Glossary:
    """What the answer names by id only, as a person reads it: each rule's title and place, and what each
    kind of fact the rules derive means (from the rule files' `derives:`)."""

    rules: Mapping[str, tuple[str, str, int]] = field(default_factory=dict)
    """Rule id -> (title, file, line)."""
    kinds: Mapping[str, str] = field(default_factory=dict)
    """Derived fact kind -> what it means."""

    @staticmethod
    def of(book: Rulebook) -> Glossary:
        """The glossary of a rule book."""
        return Glossary({r.id: (r.title, r.file, r.line) for r in book.rules},
                        {name: d.doc for name, d in book.derived_kinds.items()})

    def rule(self, rule_id: str) -> tuple[str, str]:
        """A rule's title (its id when it has none) and `file:line` ("" when not known)."""
        title, file, line = self.rules.get(rule_id, (rule_id, "", 0))
        return title or rule_id, f"{file}:{line}" if file else ""


@dataclass(frozen=True)
class Step:
    """One sentence of a reason: what the asker said (`said`, `profile`, `set`), what the ontology holds
    (`known`), what a rule took from it (`derived`), and the rule that draws the conclusion (`applies`)."""

    kind: str
    what: str
    where: str = ""
    title: str = ""
    words: str = ""
    """The asker's own words, for what was read from the question."""


def field_label(name: str) -> str:
    """An asker field for people: its one-line meaning from reader/fields.yaml ("people on the ML team")."""
    spec = FACT_KINDS["asker"].fields.get(name)
    doc = spec.doc if spec is not None else name.replace("_", " ")
    return doc.split(" (")[0].rstrip(".")


def field_value(name: str, value: object, names: Mapping[str, str] | None = None) -> str:
    """An asker field's value for people: yes/no, a number with its unit, a choice with its meaning, an
    entity by its name (`names`: id -> name)."""
    spec = FACT_KINDS["asker"].fields.get(name)
    if isinstance(value, str) and names and value in names:
        return names[value]
    text = value_text(value)
    if spec is None:
        return text
    if spec.shown_as and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{text} {spec.shown_as}"
    if spec.values and value in spec.values:
        meaning = spec.value_docs[spec.values.index(value)] if len(spec.value_docs) > spec.values.index(value) \
            else ""
        return f"{text.replace('_', ' ')} ({meaning})" if meaning else text.replace("_", " ")
    return text


def said_words(changed: Iterable[SetTo | tuple[str, object]], names: Mapping[str, str] | None = None
               ) -> list[tuple[str, str]]:
    """Asker fields and values (`asker.name`, value) as a person reads them: (what the field means, the
    value in words), as a Why not?'s change, a what-if and the record say them."""
    pairs = ((c.field, c.value) if isinstance(c, SetTo) else c for c in changed)
    return [(field_label(f.removeprefix("asker.")), field_value(f.removeprefix("asker."), v, names)) for f, v in pairs]


def link_words(kind: str, fields: Mapping[str, object], name: Callable[[str], str]) -> str | None:
    """A curated link between entities in words ("Amazon SageMaker holds HIPAA BAA", "finance buyers expect
    PCI DSS"), `name` naming each entity by its id; None for any other fact."""
    if kind == "holds":
        return f"{name(str(fields.get('offering')))} holds {name(str(fields.get('certification')))}"
    if kind == "expects":
        return f"{name(str(fields.get('industry')))} buyers expect {name(str(fields.get('certification')))}"
    return None


def entity_names(answer: Answer) -> dict[str, str]:
    """The names of the entities among the answer's facts, by id."""
    return {f.id: str(f.value["name"]) for f in answer.facts if isinstance(f.value.get("name"), str)}


def _entity_words(fact: FactEntry, names: Mapping[str, str]) -> str:
    """A curated fact in words: "finance (an industry)", "finance buyers expect PCI DSS"."""
    value = fact.value
    link = link_words(fact.kind, value, lambda ident: names.get(ident, "?"))
    if link is not None:
        return link
    name = str(value.get("name") or fact.id)
    if fact.kind == "industry":
        return f"{name} is {'a regulated' if value.get('regulated') else 'an'} industry"
    if fact.kind == "offering":
        kind = str(value.get("type") or "offering").replace("_", " ")
        delivery = str(value.get("delivery") or "").replace("_", " ")
        licence = names.get(str(value.get("license")), "")
        return f"{name} is a {kind}" + (f", delivered as {delivery}" if delivery else "") + \
            (f", under {licence}" if licence else "")
    if fact.kind == "license":
        family = str(value.get("family") or "").replace("_", " ")
        return f"{name} is a {family} licence" if family else name
    return f"{name} (a {fact.kind.replace('_', ' ')})"


def _derived_words(fact: FactEntry, glossary: Glossary) -> str:
    meaning = glossary.kinds.get(fact.kind, fact.kind.replace("_", " ")).strip().rstrip(".")
    meaning = meaning[:1].lower() + meaning[1:]
    shown = [f"{value_text(v)}" if isinstance(v, str) else f"{k.replace('_', ' ')} {value_text(v)}"
             for k, v in sorted(fact.value.items()) if not str(v).startswith(("license:", "offering:"))]
    return meaning + (f" ({'; '.join(shown)})" if shown else "")


def why_steps(answer: Answer, conclusion: Conclusion, glossary: Glossary | None = None) -> list[Step]:
    """A conclusion's reasons as sentences, one per step, the asker's words and the ontology's entries first,
    then what each rule took from them, last the rule that draws the conclusion."""
    glossary = glossary or Glossary()
    facts = {f.id: f for f in answer.facts}
    names = entity_names(answer)
    steps: list[Step] = []
    seen: set[str] = set()

    def walk(fid: str) -> None:
        fact = facts.get(fid)
        if fact is None or fid in seen or fact.kind == "inquiry" or fid == "asker":
            return
        seen.add(fid)
        src = fact.source
        if src.kind == "derived":
            for parent in src.from_facts:
                walk(parent)
            title, where = glossary.rule(src.rule or "")
            steps.append(Step("derived", _derived_words(fact, glossary), where or
                              (f"{src.file}:{src.line}" if src.file else ""), title))
            return
        if fid.startswith("asker."):
            name = fid.removeprefix("asker.")
            what = f"{field_label(name)}: {field_value(name, fact.value.get(name), names)}"
        elif fact.kind == "mention":
            what = names.get(str(fact.value.get("entity")), str(fact.value.get("entity")))
        else:
            what = _entity_words(fact, names)
        if src.kind == "question":
            steps.append(Step("named" if fact.kind == "mention" else "said", what, words=src.text or ""))
        elif src.kind == "profile":
            steps.append(Step("profile", what, f"{src.file}" + (f", line {src.line}" if src.line else "")))
        elif src.kind == "user":
            steps.append(Step("set", what))
        elif src.kind == "ontology":
            steps.append(Step("known", what, f"{src.file}:{src.line}" if src.file and src.line else src.file or ""))
        else:
            steps.append(Step("known", what, source_text(src)))

    for fid in conclusion.because:
        walk(fid)
    title = conclusion.title or conclusion.rule.id
    what = conclusion.statement
    if conclusion.kind == "recommendation" and conclusion.option and conclusion.strength is not None:
        side = "against" if conclusion.strength < 0 else "for"
        what += f" It counts {side} {option_label(conclusion.option).lower()}, weight {abs(conclusion.strength):g}."
    steps.append(Step("applies", what, f"{conclusion.rule.file}:{conclusion.rule.line}", title))
    return steps


def css_name(ident: str) -> str:
    """A fact id as a CSS class name part (`asker.team_size` -> `asker-team_size`): the chat's `css` filter."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", ident)
