"""Facts: what the engine reasons over, each carrying where it came from.

A fact is flat (durable_rules crashes on facts with many nested keys, upstream #300): a kind, a stable
id, and scalar fields. Its `source` says where it came from: a question span, a profile file, an ontology
triple, a corpus document, or a rule that derived it from other facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Scalar = str | int | float | bool

SourceKind = Literal["question", "profile", "ontology", "corpus", "derived", "user"]


@dataclass(frozen=True)
class Source:
    """Where a fact came from.

    - question: `start`/`end` are character offsets into `text` (the asker's question).
    - profile: `file` (and `line` where known) of the profile the asker supplied.
    - ontology: `file`, `line` where known, and the `triple` (subject, predicate, object) as N3 strings.
    - corpus: `doc` id.
    - derived: `rule` id that derived it and the ids of the facts it was derived `from_facts`.
    - user: set or corrected by the asker in a conversation.
    """

    kind: SourceKind
    file: str | None = None
    line: int | None = None
    triple: tuple[str, str, str] | None = None
    text: str | None = None
    start: int | None = None
    end: int | None = None
    doc: str | None = None
    rule: str | None = None
    from_facts: tuple[str, ...] = ()
    how: str | None = None
    """For a question: how the words were read: `label` (an entity's name), `fuzzy` (a misspelt name),
    `pattern` (a phrase pattern), `example` (like an example utterance), `quantity` (a number with a unit)."""
    via: str | None = None
    """What read it: the phrase file and line, the example utterance, the label, or the unit and rate."""
    score: float | None = None
    """How close the words came to what read them (1.0 for an exact pattern or label)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict holding only the fields that are set."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("file", "line", "text", "start", "end", "doc", "rule", "how", "via", "score"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.triple is not None:
            out["triple"] = list(self.triple)
        if self.from_facts:
            out["from_facts"] = list(self.from_facts)
        return out


@dataclass(frozen=True)
class Fact:
    """One fact: `id` is stable across runs (e.g. `license:GPL-3.0-only`, `asker:team_size`)."""

    id: str
    kind: str
    fields: tuple[tuple[str, Scalar], ...]
    source: Source = field(compare=False)

    @staticmethod
    def make(id: str, kind: str, fields: dict[str, Scalar], source: Source) -> Fact:
        """Build a fact from a dict of fields (stored sorted, so equal facts compare equal)."""
        return Fact(id=id, kind=kind, fields=tuple(sorted(fields.items())), source=source)

    def get(self, name: str, default: Scalar | None = None) -> Scalar | None:
        for key, value in self.fields:
            if key == name:
                return value
        return default

    def as_dict(self) -> dict[str, Scalar]:
        """The plain dict the engine sees: fields plus `kind` and `id`."""
        return {**dict(self.fields), "kind": self.kind, "id": self.id}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "fields": dict(self.fields), "source": self.source.to_dict()}
