"""The answer as a value: what the advisor returns and every renderer, the CLI, the chat and the exports take.

Frozen dataclasses, so an answer can't change after it is made and two equal answers compare equal. The
JSON form and the JSON Schema both come from these classes: `Answer.to_dict()` writes the document
(a field without a default is always written, `null` when empty; a field with a default is written only
when it differs from it), `Answer.from_dict()` reads one back with validation, and `json_schema()` is
generated from the type annotations (pydantic's `TypeAdapter`), so the schema can't drift from the code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from functools import cache, cached_property
from typing import Any, Literal

from kb.model.conclusions import RuleRef
from kb.model.facts import Scalar, Source

SCHEMA_ID = "https://w3id.org/oscar/schema/justification.schema.json"
Option = Literal["open_source", "commercial", "build_in_house", "open_core", "hybrid"]
Kind = Literal["recommendation", "obligation", "risk", "note", "question"]


@dataclasses.dataclass(frozen=True)
class SourceSpan:
    """Where a cited passage stands in its file as stored, so a reviewer can check it without OSCAR.

    `start` and `end` are character offsets into the file (Unicode code points of its UTF-8 text as stored: a
    CRLF is two characters, a byte-order mark is not counted); `line`,
    `column`, `end_line`, `end_column` are 1-based (the end inclusive: the position of the last character).
    `text` is the file's own characters there: `file[start:end]`. The citation's `text` is the same with
    whitespace runs collapsed, and with what the reader takes out of a file's markup (Markdown emphasis and
    link targets, HTML tags and entities) taken out. For a PDF the offsets are into the text its pages hold
    (pages separated by form feeds), and `page` is the page the passage starts on."""

    file: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    page: int | None = None


@dataclasses.dataclass(frozen=True)
class Citation:
    """A passage cited in support of a conclusion: `text` is its document's cleaned text `[start:end]`.

    `n` numbers it across the answer (one passage keeps one number); `score` is its support."""

    n: int
    doc: str
    title: str
    heading: str | None
    start: int
    end: int
    text: str
    score: float
    source: SourceSpan | None = None
    """The passage's place in the file as stored (`start`/`end` above are offsets into the cleaned text)."""


@dataclasses.dataclass(frozen=True)
class Conclusion:
    """One conclusion of the answer: what the rule `rule` drew from the facts `because`, with its citations.

    `option` and `strength` are set for recommendations (the option argued for, and the signed weight)."""

    id: str
    kind: Kind
    title: str
    statement: str
    rule: RuleRef
    because: tuple[str, ...]
    citations: tuple[Citation, ...]
    option: Option | None = None
    strength: float | None = None
    assumptions: tuple[str, ...] = ()
    """What this conclusion rests on that no source states ("Amazon SageMaker: certifications"): the curated
    facts an analyst marked `oscar:assumed` / `oscar:assumption`, among those its rule tested."""
    criterion: str | None = None
    """The decision criterion it speaks to (`criterion:vendor_lock_in`), as its rule says: its row in the
    comparison of options."""


@dataclasses.dataclass(frozen=True)
class FactEntry:
    """A fact the answer used: given by the asker (field by field), from a profile, the ontology, or derived.

    `value` holds the fact's fields; a derived fact's `source.from_facts` names the facts it came from."""

    id: str
    kind: str
    value: dict[str, Scalar]
    source: Source

    def __hash__(self) -> int:  # its dict fields aren't hashable: hash the canonical JSON instead
        return _json_hash(self)


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """The option with the most weighed support, its strength (0-1) and every option's score."""

    option: Option
    strength: float
    scores: dict[str, float]
    conclusions: tuple[str, ...] = ()
    """Ids of the recommendation conclusions for the chosen option."""
    tie: tuple[Option, ...] = ()
    """Other options weighed as high as `option` (within TIE_MARGIN): no decision between them yet."""

    def __hash__(self) -> int:  # its dict fields aren't hashable: hash the canonical JSON instead
        return _json_hash(self)


@dataclasses.dataclass(frozen=True)
class Question:
    """Something the advisor still needs to know, as `kind.field` (e.g. `asker.team_size`).

    `decisive`: supplying it could change the recommended option. `confirm`: a value read from the
    question but not sure enough to take: the question asks whether it was meant."""

    field: str
    question: str
    rules: tuple[str, ...]
    decisive: bool = False
    confirm: Scalar | None = None


@dataclasses.dataclass(frozen=True)
class RuleCheck:
    """A rule that would recommend an option not chosen: whether it fired, and each condition that failed."""

    rule: RuleRef
    title: str
    fired: bool
    failed: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class SetTo:
    """An asker field (`asker.name`) and a value for it."""

    field: str
    value: Scalar


@dataclasses.dataclass(frozen=True)
class Change:
    """One or two asker facts that, had the asker said them, would have changed the outcome for an option:
    with them the option leads (`leads`), or, when nothing the asker could say makes it lead, its support
    would rise most. `score` is the option's weighed support with them."""

    facts: tuple[SetTo, ...]
    score: float
    leads: bool


@dataclasses.dataclass(frozen=True)
class WhyNot:
    """An option not chosen, its weighed support, the rules that argue for it, and the asker facts that
    would have changed the outcome for it (tried against the rules, at most two)."""

    option: Option
    score: float
    rules: tuple[RuleCheck, ...]
    changes: tuple[Change, ...] = ()


@dataclasses.dataclass(frozen=True)
class Cell:
    """How one option fares on one criterion: the recommendations for or against it that speak to the
    criterion (conclusion ids), or, when none does, how such an option typically fares as the ontology
    says (`typical`)."""

    option: Option
    conclusions: tuple[str, ...] = ()
    typical: str = ""


@dataclasses.dataclass(frozen=True)
class Compared:
    """One criterion of the comparison of options (a row): its name and meaning, a cell per option, the
    risks that speak to it (conclusion ids), and where the ontology defines it."""

    criterion: str
    name: str
    definition: str
    cells: tuple[Cell, ...]
    risks: tuple[str, ...] = ()
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Unsure:
    """A reading that would matter but was not sure enough to take (`field` as `asker.name`): asked back
    instead of taken."""

    field: str
    value: Scalar
    score: float
    text: str
    question: str


@dataclasses.dataclass(frozen=True)
class Hedged:
    """A fact the asker said as a maybe ("maybe later we'd sell it"), or said of someone else ("I used to work at
    a bank"): not taken."""

    field: str
    value: Scalar
    text: str


@dataclasses.dataclass(frozen=True)
class Ambiguous:
    """A name in the question that fits several entities, and their names."""

    text: str
    candidates: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Reading:
    """How the latest question was read beyond its facts: what it asks and how that was decided, names not
    known, readings not sure enough to take, facts stated as a maybe and facts said of someone else."""

    unknown: tuple[str, ...] = ()
    unsure: tuple[Unsure, ...] = ()
    hedged: tuple[Hedged, ...] = ()
    asked_how: Source | None = None
    ambiguous: tuple[Ambiguous, ...] = ()
    """Names that fit several entities ("Llama": Llama 2, 3.1, 3.2 or 3.3): none taken, the asker asked."""
    others: tuple[Hedged, ...] = ()
    """Facts said of someone else ("my brother's startup sells drone mapping"): not taken as the asker's."""


@dataclasses.dataclass(frozen=True)
class StackFinding:
    """What a rule concluded about a component of a stack (or about several at once): `cites` numbers the
    clause or passage its rule rests on among the answer's citations (`StackReview.citations`)."""

    kind: Kind
    statement: str
    rule: RuleRef
    cites: tuple[int, ...] = ()
    components: tuple[str, ...] = ()
    """For a finding about several components (an incompatible pair): their names and versions."""


@dataclasses.dataclass(frozen=True)
class StackRow:
    """One component of a stack as reviewed: what the file declares, where, and what its licence asks."""

    component: str
    version: str
    licence: str
    """The licence as declared ("unknown" when nothing says)."""
    applies: str
    """The licences that apply once an OR is chosen (SPDX ids joined by AND), or "unknown"."""
    where: str
    """Where the file says it: `requirements.txt:12`, `sbom.cdx.json#/components/3`."""
    licence_from: str
    """`declared` (the file), `installed metadata`, `classifier`, or empty when unknown."""
    findings: tuple[StackFinding, ...] = ()
    purl: str = ""
    offering: str = ""
    """The offering the ontology knows this component as (its name), when it does."""

    def count(self, kind: str) -> int:
        """How many findings of `kind` (obligation, risk, question, note) this component has."""
        return sum(f.kind == kind for f in self.findings)


@dataclasses.dataclass(frozen=True)
class StackProblem:
    """Part of a stack file that could not be read: where (`file:line` or `file#/pointer`) and why."""

    where: str
    message: str


@dataclasses.dataclass(frozen=True)
class StackReview:
    """A whole stack reviewed under the rules: a row per component, the findings about several components
    at once, the passages the findings cite, and what could not be read.

    `use` is how the stack is used as the conversation says (distributed, network, internal), or `unknown`:
    then the rules ask instead of concluding what only shipping or serving would oblige."""

    file: str
    format: str
    use: str
    components: tuple[StackRow, ...]
    citations: tuple[Citation, ...] = ()
    across: tuple[StackFinding, ...] = ()
    """Findings about several components at once (two licences that cannot be combined, say)."""
    problems: tuple[StackProblem, ...] = ()

    def count(self, kind: str) -> int:
        """How many findings of `kind` the components have, all rows together."""
        return sum(r.count(kind) for r in self.components)

    def to_dict(self) -> dict[str, Any]:
        """The review as JSON data: the `stack` member of the justification document."""
        out: dict[str, Any] = _plain(self)
        return out


@dataclasses.dataclass(frozen=True)
class Answer:
    """One answer with everything that backs it: the facts, the conclusions with the rule that drew each and
    the passages that support it, what is still missing, why the other options were not chosen, and the
    versions of the knowledge used."""

    question: str
    """The question as asked (the latest turn)."""
    turns: tuple[str, ...]
    """Every question of the conversation, in order."""
    asked: str
    """What is asked: recommendation, obligations, comparison, definition, process, out_of_scope."""
    facts: tuple[FactEntry, ...]
    conclusions: tuple[Conclusion, ...]
    recommendation: Recommendation | None
    missing: tuple[Question, ...]
    why_not: tuple[WhyNot, ...]
    versions: dict[str, str]
    """Content hashes of the knowledge used: rules, ontology, corpus, model, reader."""
    abstention: str | None
    """Why the advisor did not answer (outside what it knows, or no rule applies), or null."""
    reading: Reading | None = None
    stack: StackReview | None = None
    """The review of a stack (SBOM or dependency file) the asker gave beside the questions, or null."""
    answered_at: str | None = None
    """When the answer was made: UTC, ISO 8601 to the second (the record's date)."""
    oscar_version: str | None = None
    """The version of OSCAR that made it (the record's software agent)."""
    deciders: tuple[str, ...] = ()
    """Who decides, as the record names them (given at export: `kb export --deciders`, the API's export)."""
    comparison: tuple[Compared, ...] = ()
    """The options against the criteria that matter for this asker (those a conclusion speaks to), most
    weighty first."""
    schema_version: Literal[1] = 1

    def __hash__(self) -> int:  # its dict fields aren't hashable: hash the canonical JSON instead
        return self._hash

    @cached_property
    def _hash(self) -> int:
        """The canonical JSON's hash, worked out once: the chat hashes the answer it keeps at every event."""
        return _json_hash(self)

    # -- reading the answer -----------------------------------------------------------------------------
    def citations(self, conclusions: Iterable[Conclusion] | None = None) -> list[Citation]:
        """Every distinct citation of the answer (or of `conclusions`), ordered by its number."""
        seen: dict[int, Citation] = {}
        for conclusion in self.conclusions if conclusions is None else conclusions:
            for cit in conclusion.citations:
                seen.setdefault(cit.n, cit)
        for cit in self.stack.citations if self.stack is not None and conclusions is None else ():
            seen.setdefault(cit.n, cit)
        return [seen[n] for n in sorted(seen)]

    def shown(self, kind: str | None = None) -> list[Conclusion]:
        """The conclusions (of `kind`) an answer for a person shows: all but the rules' questions, which are
        asked back instead (`asked_back`) when the rules raised any; the record shows every conclusion."""
        return [c for c in self.conclusions if (kind is None or c.kind == kind)
                and not (c.kind == "question" and self.missing)]

    def asked_back(self, most: int = 3) -> list[Question]:
        """The questions worth asking the asker now: readings to confirm, then the decisive ones (whose answer
        could change the recommendation), at most `most`. `missing` keeps every question the rules raised."""
        return [m for m in self.missing if m.confirm is not None or m.decisive][:most]

    def of_kind(self, kind: str) -> list[Conclusion]:
        return [c for c in self.conclusions if c.kind == kind]

    def fact(self, fid: str) -> FactEntry | None:
        return next((f for f in self.facts if f.id == fid), None)

    @property
    def option(self) -> str | None:
        """The recommended option, or None."""
        return self.recommendation.option if self.recommendation else None

    # -- JSON -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The justification document (JSON-ready), as `json_schema()` describes it."""
        out = _plain(self)
        out["schema_version"] = self.schema_version
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Answer:
        """An answer from its JSON document; raises jsonschema.ValidationError when it is not well formed."""
        validate(data)
        return _adapter().validate_python(dict(data), strict=False)


def validate(data: Mapping[str, Any]) -> None:
    """Raise jsonschema.ValidationError (with the path of the first problem) when `data` is not a
    well-formed justification document."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator().iter_errors(dict(data)))
    if error is not None:
        raise error


@cache
def _validator() -> Any:
    """One compiled validator: building it is most of the cost of a validation."""
    import jsonschema

    cls = jsonschema.validators.validator_for(json_schema())
    cls.check_schema(json_schema())
    return cls(json_schema())


def _json_hash(value: Any) -> int:
    import json

    return hash(json.dumps(_plain(value), sort_keys=True, ensure_ascii=True))


def _plain(value: Any) -> Any:
    """A value as JSON data: dataclasses as objects (fields with a default left out while they hold it)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, Source):
            return value.to_dict()
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            has_default = f.default is not dataclasses.MISSING
            if has_default and item == f.default:
                continue
            out[f.name] = _plain(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@cache
def _adapter() -> Any:
    import pydantic

    return pydantic.TypeAdapter(Answer)


@cache
def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the justification document, generated from `Answer`."""
    schema: dict[str, Any] = _adapter().json_schema(mode="serialization")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "OSCAR justification (decision record)",
        **{k: v for k, v in schema.items() if k != "title"},
    }
    _close(schema)
    return schema


def _close(node: Any) -> None:
    """No properties beyond the declared ones, anywhere: a misspelt key in a saved document is an error."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
            for prop in node["properties"].values():
                prop.pop("title", None)  # generated from the name ("Id" for id): says nothing
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for value in node:
            _close(value)
