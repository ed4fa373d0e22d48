"""Conclusions: what a consultation concludes, each carrying the rule that drew it and the facts behind it.

A `Conclusion` names its rule (`RuleRef`: id, file, line), the ids of the facts that matched (`because`),
and an `EvidenceHint` (what to look for in the corpus, and the passage the rule rests on). Derived facts
carry `Source(kind="derived", rule=..., from_facts=...)`, so `derivation` can rebuild the whole tree behind
a conclusion. Conflicting recommendations are all kept; `weigh` adds them up per option.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kb.model.facts import Fact

Stance = Literal["for", "against"]


@dataclass(frozen=True, order=True)
class RuleRef:
    """Where a rule is written: its id, the file, and the line its entry starts on."""

    id: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.id} ({self.file}:{self.line})"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "file": self.file, "line": self.line}


@dataclass(frozen=True)
class EvidenceHint:
    """What to look for in the corpus for a conclusion, and the passage its rule rests on.

    `query` is the retrieval query; `doc` the corpus file the rule's argument comes from; `quote` a short
    phrase of that document (as written there) that locates the passage. `entity`, for a rule that cites
    the passage the ontology names for an entity it binds (`evidence.of`), is that entity's id (empty when
    unbound): such a conclusion cites that passage alone, or nothing when the entity names none.
    """

    query: str
    doc: str | None = None
    quote: str | None = None
    entity: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"query": self.query}
        if self.doc is not None:
            out["doc"] = self.doc
        if self.quote is not None:
            out["quote"] = self.quote
        if self.entity is not None:
            out["entity"] = self.entity
        return out


@dataclass(frozen=True)
class Conclusion:
    """One conclusion of a consultation.

    - `kind`: recommendation, obligation, risk, note or question.
    - `option`/`strength`/`stance`: for recommendations, the option argued for (or against) and how strongly
      (0 < strength <= 1).
    - `asks`: for questions, the fact to supply as `kind.field` (e.g. `asker.team_size`).
    - `because`: ids of the facts that matched the rule's conditions, sorted.
    """

    id: str
    kind: str
    statement: str
    rule_ref: RuleRef
    because: tuple[str, ...]
    title: str = ""
    option: str | None = None
    strength: float | None = None
    stance: Stance = "for"
    asks: str | None = None
    criterion: str | None = None
    evidence_hint: EvidenceHint | None = None

    @property
    def weight(self) -> float:
        """Signed support this conclusion gives its option (0 for non-recommendations)."""
        if self.kind != "recommendation" or self.strength is None:
            return 0.0
        return self.strength if self.stance == "for" else -self.strength

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "statement": self.statement,
            "rule": self.rule_ref.to_dict(),
            "because": list(self.because),
        }
        if self.option is not None:
            out["option"] = self.option
        if self.strength is not None:
            out["strength"] = self.strength
            out["stance"] = self.stance
        if self.asks is not None:
            out["asks"] = self.asks
        if self.criterion is not None:
            out["criterion"] = self.criterion
        if self.evidence_hint is not None:
            out["evidence_hint"] = self.evidence_hint.to_dict()
        return out


@dataclass(frozen=True)
class OptionScore:
    """The weighed support for one option: the sum of signed strengths, and the conclusions behind it."""

    option: str
    score: float
    supporting: tuple[str, ...]
    opposing: tuple[str, ...]


def weigh(conclusions: Iterable[Conclusion]) -> tuple[OptionScore, ...]:
    """Add up recommendations per option (for minus against), best first; ties broken by option name.

    Every recommendation counts, so conflicting ones are weighed against each other, never dropped. One
    rule is one argument: when it fires several times for the same option and stance (two reasons to
    think the team is regulated, say), it counts once, at its strongest, and every firing is listed.
    """
    strongest: dict[tuple[str, str, str], float] = {}
    pro: dict[str, list[str]] = {}
    con: dict[str, list[str]] = {}
    for c in conclusions:
        if c.kind != "recommendation" or c.option is None:
            continue
        key = (c.option, c.rule_ref.id, c.stance)
        strongest[key] = max(strongest.get(key, 0.0), abs(c.weight))
        (pro if c.stance == "for" else con).setdefault(c.option, []).append(c.id)
    totals: dict[str, float] = {}
    for (option, _, stance), strength in strongest.items():
        totals[option] = totals.get(option, 0.0) + (strength if stance == "for" else -strength)
    scores = [
        OptionScore(o, round(s, 6), tuple(sorted(pro.get(o, []))), tuple(sorted(con.get(o, []))))
        for o, s in totals.items()
    ]
    return tuple(sorted(scores, key=lambda s: (-s.score, s.option)))


@dataclass(frozen=True)
class Derivation:
    """A node of the tree behind a conclusion or fact: the fact, and how it was derived (if it was)."""

    fact: Fact
    rule: str | None = None
    children: tuple[Derivation, ...] = field(default=())

    def lines(self, indent: int = 0) -> list[str]:
        """The tree as indented text lines, one fact a line, with where each came from."""
        src = self.fact.source
        where = f"derived by {self.rule}" if self.rule else src.kind + (f" {src.file}" if src.file else "")
        fields = ", ".join(f"{k}={v}" for k, v in self.fact.fields)
        out = [f"{'  ' * indent}{self.fact.id} [{self.fact.kind}] {fields} ({where})"]
        for child in self.children:
            out.extend(child.lines(indent + 1))
        return out


def derivation(fact_id: str, facts: Mapping[str, Fact], _seen: frozenset[str] = frozenset()) -> Derivation:
    """The derivation tree of `fact_id` among `facts` (by id): derived facts expand into what they came from."""
    fact = facts[fact_id]
    if fact.source.kind != "derived" or fact_id in _seen:
        return Derivation(fact)
    seen = _seen | {fact_id}
    children = tuple(derivation(f, facts, seen) for f in fact.source.from_facts if f in facts)
    return Derivation(fact, fact.source.rule, children)
