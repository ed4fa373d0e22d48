"""Understanding a question without a network model: what is asked, and the facts it states, with spans.

Entities (licenses, offerings, vendors, certifications, industries, criteria) are found by their ontology
labels; numbers with units (team size, latency, budget, deadline) and yes/no statements ("we ship
on-prem", "we're not regulated") by patterns. Every observation keeps the span of the question it came
from, so the answer can show where each fact was read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kb.facts import Scalar, Source

# --- observations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One thing the question states: an asker field (`team_size`), or an entity (`mention`/`requirement`).

    For `mention` and `requirement`, `value` is the entity id; for asker fields it is the field's value.
    """

    key: str
    value: Scalar
    source: Source
    negated: bool = False
    """For entities: the question denies it ("we don't need HIPAA"), so a conversation drops it."""


@dataclass(frozen=True)
class Understanding:
    """What a question asks and the observations it makes, in the order they appear."""

    question: str
    asked: str
    observations: tuple[Observation, ...] = field(default_factory=tuple)
    in_domain: bool = True



_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_NUM = r"(\d[\d,]*(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"


def _number(text: str) -> float:
    t = text.lower().replace(",", "")
    return float(_NUMBER_WORDS[t]) if t in _NUMBER_WORDS else float(t)


def _span(question: str, start: int, end: int) -> Source:
    return Source(kind="question", text=question[start:end], start=start, end=end)


# A negation shortly before a statement turns it around ("we are not regulated", "we don't ship on-prem").
_NEGATION = re.compile(
    r"\b(?:not|no|never|don't|dont|do not|doesn't|does not|aren't|isn't|won't|without|nor|neither)\b[^.;,!?]{0,24}$",
    re.IGNORECASE,
)

# field -> value when stated, and the phrases that state it
_FLAGS: tuple[tuple[str, Scalar, str], ...] = (
    ("regulated", True, r"regulated|regulatory|under regulation|compliance[- ]heavy"),
    (
        "distributes",
        True,
        r"distribut\w*|ship(?:s|ping)? (?:it |our \w+ )?to (?:customers|clients|users)"
        r"|on[- ]prem\w*|embedded in (?:our|a) product|sell (?:the|our) software|redistribut\w*"
        r"|shipped (?:sdk|product|app|application|binary|device|software)"
        r"|(?:ship|ships|shipping) (?:an? |our )?(?:sdk|app|binary|binaries|device|firmware)",
    ),
    (
        "network_service",
        True,
        # offering a service ourselves, not buying one: "we offer a SaaS", "our SaaS product"
        r"(?:we (?:offer|run|sell|provide|operate|host)|our) (?:a |an |the )?(?:saas|hosted|web|online)\b[\w -]{0,20}"
        r"|customer[- ]facing (?:api|service)|(?:offer|sell|provide) (?:it|them|our \w+) as a service",
    ),
    (
        "sensitive_data",
        True,
        r"phi|pii|patient data|health data|health records|personal data|sensitive data"
        r"|medical records|cardholder data",
    ),
    ("fine_tuning", True, r"fine[- ]?tun\w*"),
    ("uses_foundation_model", True, r"llms?|large language models?|foundation models?|gen(?:erative)? ?ai"),
    ("legacy_serving", True, r"legacy (?:serving|systems?|infrastructure|stack)|mainframe"),
    ("customization", True, r"customi[sz]\w*|modify the (?:source|code|model)|deep(?:ly)? custom\w*"),
    (
        "core_differentiator",
        True,
        r"(?:core |key |competitive )?differentiator|competitive advantage|core ip"
        r"|secret sauce",
    ),
    ("ml_skills", "none", r"no (?:ml|machine learning|data science) (?:engineers|expertise|skills|experience|team)"),
    (
        "ml_skills",
        "strong",
        r"(?:strong|experienced|senior|deep) (?:ml|machine learning|mlops) (?:team|engineers|"
        r"expertise|skills)",
    ),
    (
        "ml_skills",
        "some",
        r"(?:some|junior|limited) (?:ml|machine learning) (?:engineers|expertise|skills|"
        r"experience)",
    ),
)
_FLAG_PATTERNS = [(f, v, re.compile(r"\b(?:" + p + r")\b", re.IGNORECASE)) for f, v, p in _FLAGS]

_TEAM = [
    re.compile(
        _NUM + r"[\s-]*(?:person|people|member|engineer|developer|dev|data scientist|ml engineer|"
        r"strong|headcount)s?\b",
        re.IGNORECASE,
    ),
    re.compile(r"\bteam of " + _NUM + r"\b", re.IGNORECASE),
    re.compile(r"\bwe(?:'re| are) (?:only |just )?" + _NUM + r"\b(?! ?(?:ms|months?|weeks?|years?|%))", re.IGNORECASE),
]
_SOLO = re.compile(r"\b(?:solo (?:founder|developer|engineer)|just me|one[- ]person)\b", re.IGNORECASE)
_LATENCY = re.compile(r"(?<![\w.])" + r"(\d+(?:\.\d+)?)\s*(ms|msec|milliseconds?|s|sec|seconds?)\b", re.IGNORECASE)
_LATENCY_CONTEXT = re.compile(r"latenc|respon|p9\d|serv|inference|real[- ]time", re.IGNORECASE)
_BUDGET = [
    re.compile(r"(?:\$|usd ?|us\$)\s?(\d[\d,]*(?:\.\d+)?)\s*(k|m|mm|million|thousand)?\b", re.IGNORECASE),
    re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(k|m|million|thousand)?\s*(?:usd|dollars|eur|euros|€)", re.IGNORECASE),
    re.compile(r"budget (?:of|is|around|about|~)?\s*(\d[\d,]*(?:\.\d+)?)\s*(k|m|million|thousand)?\b", re.IGNORECASE),
]
_PER_MONTH = re.compile(r"^\s*(?:/|a|per)\s*(?:month|mo)\b", re.IGNORECASE)
_DEADLINE = re.compile(
    r"\b(?:in|within|under|by|next|less than|inside)\s+(?:the next\s+|about\s+|a\s+)?"
    + _NUM
    + r"?\s*(weeks?|months?|quarters?|years?)\b",
    re.IGNORECASE,
)
_UNIT_MONTHS = {"week": 12 / 52, "month": 1.0, "quarter": 3.0, "year": 12.0}
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6}

# --- what is asked -----------------------------------------------------------------------------------------
_ASKED = (
    (
        "obligations",
        re.compile(
            r"\b(?:obligations?|must (?:we|i) (?:do|publish|release|disclose)|what does (?:the )?.{0,30}licen[cs]e"
            r" (?:require|mean|allow)|what does .{0,40} (?:require|oblige)|do (?:we|i) have to|requirements of"
            r"|what do (?:we|i) owe"
            r"|comply with (?:the )?licen[cs]e|attribution|can (?:we|i) (?:use|ship|sell|"
            r"modify|embed|fine[- ]tune) .{0,60}(?:commercial|product|closed)|copyleft (?:obligations|"
            r"requirements))\b",
            re.IGNORECASE,
        ),
    ),
    (
        "comparison",
        re.compile(
            r"\b(?:vs\.?|versus|compare[ds]?|comparison|difference between|better than|"
            r"which is better)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "process",
        re.compile(
            r"\b(?:how (?:do|should|can) (?:we|i) (?:buy|choose|evaluate|select|procure|run|"
            r"pick|assess)|buying process|procurement|rfp|proof of concept|vendor selection|"
            r"steps to)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "recommendation",
        re.compile(
            r"\b(?:should (?:we|i)|is it (?:wise|worth|better|smart)|recommend\w*|"
            r"build (?:or|vs\.?|versus) buy|which (?:one|platform|option|framework)|"
            r"choose|self[- ]host\w*|worth it|go with|advice|decide)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "definition",
        re.compile(r"^\s*(?:what(?:'s| is| are| does)|define|explain|meaning of|tell me about)\b", re.IGNORECASE),
    ),
)
_DOMAIN = re.compile(
    r"\b(?:ml|mlops|machine learning|ai|models?|licen[cs]\w*|open[- ]?source|proprietary|vendors?|platforms?|"
    r"frameworks?|build|buy|self[- ]host\w*|managed|copyleft|osi|saas|inference|training|deploy\w*|"
    r"lock[- ]in|compliance|weights|dataset\w*|data science|llms?|pipelines?|serving|open[- ]core|"
    r"infrastructure|commercial|support)\b",
    re.IGNORECASE,
)


def _negated(question: str, start: int) -> bool:
    return bool(_NEGATION.search(question[max(0, start - 40) : start]))


def _flags(question: str) -> Iterable[Observation]:
    for fld, value, pattern in _FLAG_PATTERNS:
        for m in pattern.finditer(question):
            v: Scalar = value
            if isinstance(value, bool) and _negated(question, m.start()):
                v = not value
            yield Observation(fld, v, _span(question, m.start(), m.end()))


def _numbers(question: str) -> Iterable[Observation]:
    for pattern in _TEAM:
        for m in pattern.finditer(question):
            yield Observation("team_size", int(_number(m.group(1))), _span(question, m.start(), m.end()))
    for m in _SOLO.finditer(question):
        yield Observation("team_size", 1, _span(question, m.start(), m.end()))
    for m in _LATENCY.finditer(question):
        unit = m.group(2).lower()
        near = question[max(0, m.start() - 60) : m.end() + 30]
        if unit.startswith(("s", "sec")) and not _LATENCY_CONTEXT.search(near):
            continue  # "3 seconds" alone is no latency requirement
        ms = float(m.group(1)) * (1.0 if unit.startswith("m") else 1000.0)
        yield Observation("latency_ms", ms, _span(question, m.start(), m.end()))
    for pattern in _BUDGET:
        for m in pattern.finditer(question):
            amount = float(m.group(1).replace(",", "")) * _SCALE.get((m.group(2) or "").lower(), 1.0)
            end = m.end()
            if _PER_MONTH.match(question[end:]):
                amount *= 12
                end += _PER_MONTH.match(question[end:]).end()  # type: ignore[union-attr]
            yield Observation("budget_usd", int(amount), _span(question, m.start(), end))
    for m in _DEADLINE.finditer(question):
        count = _number(m.group(1)) if m.group(1) else 1.0
        unit = m.group(2).lower().rstrip("s")
        yield Observation("deadline_months", round(count * _UNIT_MONTHS[unit], 2), _span(question, m.start(), m.end()))


# --- entities ---------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_LICENSE_AFTER = re.compile(r"[\s-]{0,2}licen[cs]", re.IGNORECASE)
_LICENSE_BEFORE = re.compile(r"licen[cs](?:e|ed under)(?: the)?[\s:]{1,3}$", re.IGNORECASE)


def tokens(text: str) -> tuple[str, ...]:
    """The label's words, lower-cased, punctuation dropped: how labels and questions are compared."""
    return tuple(t.lower() for t in _TOKEN.findall(text))


class EntityMatcher:
    """Finds entity labels in text, longest match first, at word boundaries.

    `labels` maps an entity id (`kind:slug`) to its labels. Labels that are one plain word and belong to
    the generated license catalogue ("JSON", "Vim", "Intel") are ordinary words too often, so they count
    only beside the word "license".
    """

    def __init__(self, labels: Mapping[str, Iterable[str]], guarded: Iterable[str] = (),
                 prefer: Callable[[str], str | None] | None = None):
        """`prefer(label)`: for a label several entities share ("GPL-3.0" is both -only and -or-later in
        SPDX's deprecated ids), the one it most likely means; without it, all of them are found."""
        index: dict[tuple[str, ...], set[str]] = {}
        spelled: dict[tuple[str, ...], str] = {}
        self._guarded = set(guarded)
        for ident, names in labels.items():
            for name in names:
                key = tokens(name)
                if key:
                    index.setdefault(key, set()).add(ident)
                    spelled.setdefault(key, name)
        if prefer is not None:
            for key, ids in index.items():
                if len(ids) > 1 and (best := prefer(spelled[key])) in ids:
                    index[key] = {best}
        self._index = index
        self._longest = max((len(k) for k in self._index), default=0)

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """(entity id, start, end) for each label found in `text`, in order, overlaps resolved longest-first."""
        words = [(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
        found: list[tuple[str, int, int]] = []
        i = 0
        while i < len(words):
            for n in range(min(self._longest, len(words) - i), 0, -1):
                key = tuple(w for w, _, _ in words[i : i + n])
                ids = self._index.get(key)
                if not ids:
                    continue
                start, end = words[i][1], words[i + n - 1][2]
                plain_word = n == 1 and key[0].isalpha() and ids <= self._guarded
                if plain_word and not (_LICENSE_AFTER.match(text, end) or _LICENSE_BEFORE.search(text[:start])):
                    continue
                for ident in sorted(ids):
                    found.append((ident, start, end))
                i += n - 1
                break
            i += 1
        return found


def understand(question: str, matcher: EntityMatcher | None = None) -> Understanding:
    """Read a question: what it asks and every observation it makes, each with its span."""
    observations: list[Observation] = []
    if matcher is not None:
        for ident, start, end in matcher.find(question):
            kind = ident.split(":", 1)[0]
            key = {"certification": "requirement", "industry": "industry"}.get(kind, "mention")
            negated = key == "requirement" and _negated(question, start)
            observations.append(Observation(key, ident, _span(question, start, end), negated))
    observations.extend(_flags(question))
    observations.extend(_numbers(question))
    observations.sort(key=lambda o: (o.source.start or 0, o.key))
    in_domain = bool(observations) or bool(_DOMAIN.search(question))
    asked = "out_of_scope"
    if in_domain:
        asked = next((name for name, pattern in _ASKED if pattern.search(question)), "recommendation")
    return Understanding(question=question, asked=asked, observations=tuple(observations), in_domain=in_domain)
