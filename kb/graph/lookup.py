"""Looking entities up by any of their labels, case- and punctuation-insensitively.

"GPLv3", "GPL-3.0" and "GNU GPL v3" all reach `license:GPL-3.0-only`; "sklearn" and "scikit learn" reach
`offering:scikit_learn`. A label is compared by a strict key (case folded, punctuation dropped) and,
when nothing matches strictly, by a loose key that also drops version noise ("version 2.0" ~ "v2" ~ "2").
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# How much a label says about its entity: its own identifier beats an alias identifier (an SPDX id
# deprecated in its favour), which beats its preferred name, then a synonym, then a data key. Lower wins.
RANK_ID = 0
RANK_ALIAS_ID = 1
RANK_PREFERRED = 2
RANK_ALT = 3
RANK_KEY = 4

# When entities of different kinds share a name ("Databricks" the company and the platform), the one a
# question most likely means comes first, whichever of its names it is; data keys come after every name.
KIND_ORDER = ("offering", "license", "certification", "industry", "criterion", "vendor")


def exact_key(label: str) -> str:
    """Case folded, spaces trimmed: tells apart ids that differ only in punctuation."""
    return unicodedata.normalize("NFKC", label).casefold().strip()


def strict_key(label: str) -> str:
    """Case folded, "+" read as "or later", everything but letters and digits dropped."""
    text = unicodedata.normalize("NFKC", label).casefold().replace("+", " or later ")
    text = text.replace("licence", "license")
    return re.sub(r"[\W_]+", "", text)


def loose_key(label: str) -> str:
    """The strict key without noise: a leading "the", "version" -> "v", "2.0" -> "2", "v3" -> "3"."""
    text = unicodedata.normalize("NFKC", label).casefold().replace("+", " or later ")
    text = text.replace("licence", "license")
    text = re.sub(r"^\W*the\b", "", text)
    text = re.sub(r"\bversion\b", "v", text)
    text = re.sub(r"(\d)\.0(?!\d)", r"\1", text)
    text = re.sub(r"[\W_]+", "", text)
    return re.sub(r"v(?=\d)", "", text)


@dataclass(frozen=True)
class Label:
    """One label of one entity, and how strongly it names it."""

    entity: str
    text: str
    rank: int


class LabelIndex:
    """Entity ids by label. Built once per loaded ontology."""

    def __init__(self, labels: Iterable[Label]):
        self._labels: dict[str, list[Label]] = defaultdict(list)
        self._table: dict[str, tuple[str, ...]] | None = None
        self._exact: dict[str, dict[str, int]] = defaultdict(dict)
        self._strict: dict[str, dict[str, int]] = defaultdict(dict)
        self._loose: dict[str, dict[str, int]] = defaultdict(dict)
        self._keys: list[tuple[Label, str, str, str]] = []
        for label in labels:
            self._add(label, exact_key(label.text), strict_key(label.text), loose_key(label.text))

    def _add(self, label: Label, exact: str, strict: str, loose: str) -> None:
        self._labels[label.entity].append(label)
        self._keys.append((label, exact, strict, loose))
        for index, key in ((self._exact, exact), (self._strict, strict), (self._loose, loose)):
            if not key:
                continue
            best = index[key].get(label.entity)
            if best is None or label.rank < best:
                index[key][label.entity] = label.rank

    def rows(self) -> list[list[str | int]]:
        """Every label with its three keys, as JSON-ready rows (`from_rows` builds the same index back)."""
        return [[label.entity, label.text, label.rank, exact, strict, loose]
                for label, exact, strict, loose in self._keys]

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[str | int]]) -> LabelIndex:
        index = cls(())
        for entity, text, rank, exact, strict, loose in rows:
            index._add(Label(str(entity), str(text), int(rank)), str(exact), str(strict), str(loose))
        return index

    def lookup(self, label: str, kind: str | None = None) -> list[str]:
        """Ids of the entities `label` names (of `kind` only, if given), best match first."""
        return [e for e, _ in self._ranked(label, kind)]

    def _ranked(self, label: str, kind: str | None = None) -> list[tuple[str, int]]:
        """(id, rank) of the entities `label` names, best first, from the strictest match that finds any."""
        for index, key in ((self._exact, exact_key(label)), (self._strict, strict_key(label)),
                           (self._loose, loose_key(label))):
            found = {e: r for e, r in index.get(key, {}).items() if kind is None or _kind(e) == kind}
            if found:
                order = sorted(found, key=lambda e: (found[e] >= RANK_KEY, _kind_order(e), found[e], e))
                return [(e, found[e]) for e in order]
        return []

    def resolve(self, label: str, kind: str | None = None) -> str | None:
        """The one entity `label` most likely names, or None."""
        found = self.lookup(label, kind)
        return found[0] if found else None

    def decisive(self, label: str) -> str | None:
        """The entity `label` names if one is named more strongly than the rest (a preferred label against
        alternative ones, a licence's own id against a deprecated one); None for a tie of the same kind at the
        same strength ("Llama": an alternative name of every Llama release)."""
        ranked = self._ranked(label)
        if len(ranked) > 1 and _kind(ranked[0][0]) == _kind(ranked[1][0]) == "offering" \
                and ranked[0][1] == ranked[1][1]:
            return None
        return ranked[0][0] if ranked else None

    def labels(self) -> dict[str, tuple[str, ...]]:
        """Every entity's labels, strongest first (id -> labels), for scanning text for mentions."""
        if self._table is None:
            self._table = {
                entity: tuple(dict.fromkeys(lab.text for lab in sorted(labs, key=lambda x: (x.rank, x.text))))
                for entity, labs in sorted(self._labels.items())
            }
        return dict(self._table)

    def labels_of(self, entity: str, rank: int | None = None) -> tuple[str, ...]:
        """One entity's labels, strongest first (only those of one rank, if given)."""
        labs = sorted(self._labels.get(entity, ()), key=lambda x: (x.rank, x.text))
        return tuple(dict.fromkeys(lab.text for lab in labs if rank is None or lab.rank == rank))


def _kind(entity: str) -> str:
    return entity.partition(":")[0]


def _kind_order(entity: str) -> int:
    kind = _kind(entity)
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def index_from_mapping(labels: Mapping[str, Iterable[str]]) -> LabelIndex:
    """An index over plain id -> labels data (all labels ranked as preferred)."""
    return LabelIndex(Label(e, text, RANK_PREFERRED) for e, texts in labels.items() for text in texts)
