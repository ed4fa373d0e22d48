"""The reader's data, as analysts write it in `reader/`: asker fields, phrases, cues and quantities.

- `fields.yaml`: every field of the `asker` fact (type, allowed values, unit, doc, the question that asks
  for it, whether it can change a recommendation).
- `phrases/*.yaml`: for a field value or a kind of question, token patterns (spaCy `Matcher` format) and
  example utterances that should read as it, and near misses that must not.
- `cues.yaml`: the words that negate, hedge, end a negation's scope, or say who does what ("we sell" vs
  "we buy"), applied by the reader to every kind of fact.
- `quantities.yaml`: units, scales, vague amounts and currencies.
- `thresholds.yaml`: per-field similarity thresholds, fitted on the labelled dev split
  (`kb eval understanding --fit`).

Everything is validated with file and line; nothing here knows the matcher library beyond checking that
patterns are in its format (`kb.advisor.reader` runs them).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.model.problems import Problem, display_path
from kb.yamlfile import TEXT, UNREADABLE, YList, YMap, line_at, read_checked, read_yaml
from kb.yamlfile import validate as validate_shape

FIELD_TYPES = ("bool", "int", "float", "str", "ref")
ROLES = ("offer", "acquire")
# Token attributes a blank English pipeline fills; others (LEMMA, POS, DEP, ENT_TYPE ...) need a trained
# pipeline and would silently never match, so a pattern using them is refused.
PATTERN_ATTRS = frozenset({
    "ORTH", "TEXT", "LOWER", "NORM", "LENGTH", "IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER", "IS_UPPER",
    "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP", "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL", "SHAPE", "PREFIX",
    "SUFFIX", "OP",
})


@dataclass(frozen=True)
class FieldDecl:
    """One asker field as `fields.yaml` declares it."""

    name: str
    type: str
    doc: str
    values: tuple[tuple[str, str], ...] = ()
    """Allowed values of a `str` field, each with its one-line description."""
    unit: str = ""
    ask: str = ""
    decisive: bool = False
    cues: tuple[str, ...] = ()
    """Words one of which must stand in the same clause for a quantity to count as this field."""
    counter_cues: tuple[str, ...] = ()
    """Words that show a quantity in their clause is something else ("we pay 3k a month" is no budget)."""
    counter_cues_unless: tuple[str, ...] = ()
    """Words that keep the quantity this field's despite a counter cue ("we pay 3k now, the budget is 5k")."""
    range: tuple[float, float] | None = None
    """Smallest and largest plausible value of a number field: a quantity outside it is something else ("3
    million monthly users" is no team, "the 2000s" no latency)."""
    shown_as: str = ""
    """How a person reads the number's unit beside it ("people", "ms", "US$ a year")."""
    file: str = ""
    line: int = 0
    worry: bool = False
    """Its values are fears of what might happen: a hedge or condition ("it might get abandoned", "if we end up
    stuck") states them all the same, and a negation inside the words read is the fear's content ("my fear is
    it won't talk to our ERP"); a negation before them ("not worried about lock-in", "nothing legacy to integrate
    with") or after them ("lock-in is not a concern") still unsays them."""
    not_when: tuple[str, ...] = ()
    """Kinds of question in which it is not read: in a question about a licence's obligations, "we want to modify
    it" is a use of the component (`modifies`), not a need to customise."""
    implied_by: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(fact kind, field, values): naming an ontology entity of that kind whose field holds one of the values
    states this (bool) field true ("we fine-tune Gemma": Gemma is an offering of type model)."""
    refines: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(value, the values it says more than): read together, the narrower alone is taken ("air-gapped, on our own
    servers" is air_gapped)."""
    others: tuple[str, ...] = ()
    """Words by which the asker speaks of someone else for this field alone, as cues.yaml `others` does for all
    ("the client, a regional airline, has $90k": a client's budget is no budget)."""


@dataclass(frozen=True)
class Entry:
    """One phrase entry: what it reads as (a field value or a kind of question) and how it is recognised."""

    id: str
    """`file:line`, how a fact read through it says where it came from."""
    field: str | None
    value: Any
    asked: str | None
    role: str | None
    hedge: bool
    patterns: tuple[tuple[list[dict[str, Any]], int], ...]
    examples: tuple[tuple[str, int], ...]
    near_misses: tuple[tuple[str, int], ...]
    start: bool = False
    """Its patterns count only where they open a clause ("what is ..." asks a definition; "... what customers
    pay for" does not)."""
    names: tuple[str, ...] = ()
    """Of an `asked` entry: kinds of entity whose naming asks this kind of question ("license": a question
    naming a licence asks what it obliges), unless a pattern of another kind than recommendation says more."""
    terms: tuple[str, ...] = ()
    """Of an `asked` entry: kinds of entity that are terms, not things to choose between: a comparison naming
    only these ("open source vs open core", "weak and strong copyleft, what's the difference?") asks this kind
    of question (what the terms mean)."""
    over: tuple[str, ...] = ()
    """Of an `asked` entry: kinds of question its patterns decide over, though those come first in the order
    ("SageMaker vs running it ourselves?" weighs building against buying: advice, not a comparison)."""
    salient: bool = False
    """Its patterns count only in a sentence that says the thing matters most (a word of cues.yaml `salience`):
    "it has to plug into our CRM" is a requirement, "plugging into our CRM is the big worry" a main concern."""


@dataclass(frozen=True)
class Cues:
    negation_before: tuple[str, ...] = ()
    negation_after: tuple[str, ...] = ()
    pseudo_negation: tuple[str, ...] = ()
    terminators: tuple[str, ...] = ()
    departures: tuple[str, ...] = ()
    """Negation words (besides `negation_before`) that leave something for something else ("moving off",
    "replacing"): their scope ends at an arrival word ("moving off TensorFlow to PyTorch" drops TensorFlow, not
    PyTorch)."""
    arrivals: tuple[str, ...] = ()
    hedges_before: tuple[str, ...] = ()
    hedges_after: tuple[str, ...] = ()
    approximate: tuple[str, ...] = ()
    """Hedge words that, right before a number, say about how many, not whether ("maybe a dozen people")."""
    conditions: tuple[str, ...] = ()
    """Words that open a condition ("if we", "once we"): a fact inside one is hedged in a request for advice but
    is the very case asked about in a question about obligations ("what must we publish if we ship it?")."""
    second_options: tuple[str, ...] = ()
    """Words that open a second option weighed in a question: a fact just before them is an option, not said
    ("build on open weights or stay with the API?")."""
    roles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    window: int = 6
    requirement: tuple[str, ...] = ()
    """Words that make a named certification a requirement rather than a mention."""
    salience: tuple[str, ...] = ()
    """Words that say a thing matters most ("the biggest worry", "top priority"): a `salient` entry needs one."""
    first_person: tuple[str, ...] = ()
    """Words by which the asker speaks of themselves; a definition or comparison question states facts of
    the asker only in a clause with one of them."""
    others: tuple[str, ...] = ()
    """Words by which the asker speaks of someone else (a client, a past employer, "they"): a fact read after
    one in its sentence, with no word of `first_person` or `others_until` between, is theirs, not the asker's."""
    others_until: tuple[str, ...] = ()
    """Words that return from someone else to the asker ("my last job was at a bank, now I run a bakery")."""
    self_words: tuple[str, ...] = ()
    """Words before an industry that say it is the asker's own ("we're a", "as a")."""
    customers: tuple[str, ...] = ()
    """Words before an industry that make it whom the asker serves ("to", "for")."""
    organisations: tuple[str, ...] = ()
    """Words after an industry that make it what the asker is ("a fintech startup")."""
    functions: tuple[str, ...] = ()
    """Words after an industry word that make it a job or department, not an industry ("our finance director")."""
    departments: tuple[str, ...] = ()
    """Industry words that also name a department: followed by "team" or "desk" they are one ("our finance
    team", "the research group at a retailer"), not the asker's industry."""
    compounds: tuple[str, ...] = ()
    """Words just before an industry word that make it another thing ("a seed bank", "a food bank")."""
    groups: tuple[str, ...] = ()
    """Words after one of `departments` that make it a department ("our finance team", "the trading desk")."""
    qualifiers: tuple[str, ...] = ()
    """Words that may stand between a word of `self` and an industry, describing it ("we're a small bank", "a
    brand-new neobank")."""
    not_names: tuple[str, ...] = ()
    """Capitalised words never reported as unknown names (places, months, job titles)."""
    domain: tuple[str, ...] = ()
    """Words that show a question is about choosing ML software even when no fact was read in it."""
    alternatives: tuple[str, ...] = ()
    """What may stand between two named products to make the question a choice between them ("MLflow or
    DVC?", "GPT-4 vs Claude"): the whole gap between the names, as one phrase."""


@dataclass(frozen=True)
class Quantities:
    currencies: tuple[tuple[str, tuple[str, ...], float], ...] = ()
    scales: tuple[tuple[str, float], ...] = ()
    vague: tuple[tuple[str, float], ...] = ()
    units: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()
    rates_as_of: str = ""
    lead_ins: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Words after which a bare number is of a unit kind ("a team of twelve")."""
    no_article: tuple[str, ...] = ()
    """Unit kinds for which "a"/"an" is no number ("a data scientist" counts no team)."""
    implies_currency: tuple[tuple[str, str], ...] = ()
    """Scale words that say money by themselves ("forty grand"), with the currency they mean."""
    not_after: tuple[str, ...] = ()
    """Words after which a number is no quantity of any kind ("100%", "10x the traffic")."""
    described: tuple[str, ...] = ()
    """Unit kinds whose unit word may follow a word or two describing it ("6 cleared engineers")."""
    sums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Per unit kind, what joins two counts into one ("two data scientists plus one ML engineer": three)."""
    corrections: tuple[str, ...] = ()
    """Words after which a bare number corrects the count or amount before it ("6 people. sorry, 9")."""
    parts: tuple[tuple[str, Parts], ...] = ()
    """Per unit kind, how a count that is a part of the team is said ("6 engineers of whom 2 do ML")."""
    counted: tuple[str, ...] = ()
    """Things counted per period, which make a number no money ("250k monthly users", "2M requests a day")."""
    periods_before: tuple[tuple[str, float], ...] = ()
    """Words that, before an amount in its clause, say its period ("our monthly budget is 5k"), with the factor
    that makes it a year's."""


@dataclass(frozen=True)
class Parts:
    """How a part of a count is said (quantities.yaml `parts`): the words that join it to the whole, the work
    that makes it the count read, how far that work may follow, and the words before a count that add the
    asker to it."""

    joins: tuple[str, ...] = ()
    work: tuple[str, ...] = ()
    between: tuple[str, ...] = ()
    whole: tuple[str, ...] = ()
    window: int = 6
    self_words: tuple[str, ...] = ()
    wholes: tuple[str, ...] = ()
    """Words before a count that make it the whole a part stated before was counted from ("out of 2000 staff",
    "inside a 90-person IT department")."""
    headcount: tuple[str, ...] = ()
    """Unit words that count everyone, not who does the work ("25 staff", "60 people")."""
    nobody: tuple[str, ...] = ()
    """Words that say none of a headcount does the work ("25 staff, nobody technical"): the count is no team."""
    organisation: int | None = None
    """A headcount this large counts an organisation, not the people who would do the work ("a 300-person
    insurer", "about 2,000 employees"): no team is read from it."""
    self_after: tuple[str, ...] = ()
    """Words right after a count that add the asker to it ("4 PhD students + me")."""


@dataclass(frozen=True)
class Phrasebook:
    """Everything in `reader/`, loaded and validated; `problems` lists every mistake found."""

    fields: Mapping[str, FieldDecl]
    entries: tuple[Entry, ...] = ()
    cues: Cues = field(default_factory=Cues)
    quantities: Quantities = field(default_factory=Quantities)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    version: str = ""
    learned: Mapping[str, float] = field(default_factory=dict)
    """Field -> the probability its learned reading needs (thresholds.yaml `learned`; absent: not read so)."""
    problems: tuple[Problem, ...] = ()


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int | float) and not isinstance(v, bool))
    return ()


def load_fields(path: Path, problems: list[Problem]) -> dict[str, FieldDecl]:
    """The asker fields of `fields.yaml` (those without mistakes); mistakes are appended to `problems`."""
    from kb.vocab import ASKED_KINDS  # kb.vocab loads the fields file with this function: imported here, once
    shown = display_path(path)
    doc = read_checked(path, FIELDS_FILE_SCHEMA, problems, "the fields file", "the asker's fields are declared here")
    if doc is None:
        return {}
    out: dict[str, FieldDecl] = {}
    fields: YMap = doc["fields"]
    for name, spec in fields.items():
        line = fields.key_lines[name]

        def err(at: int, message: str, name: str = name) -> None:
            problems.append(Problem(shown, at, f"field `{name}`: {message}"))

        ftype, fdoc = spec["type"], spec["doc"]
        values: list[tuple[str, str]] = []
        raw_values = spec.get("values")
        if raw_values is not None:
            if ftype != "str":
                err(spec.key_lines["values"], "only `str` fields take `values`")
            elif isinstance(raw_values, YMap):
                values = [(str(k), str(v or "")) for k, v in raw_values.items()]
            else:
                values = [(str(v), "") for v in raw_values]
        unit = spec.get("unit", "")
        if unit and ftype not in ("int", "float"):
            err(spec.key_lines["unit"], "only number fields take a `unit`")
        decisive, ask = spec.get("decisive", False), spec.get("ask", "")
        for kind in _texts(spec.get("not_when")):
            if kind not in ASKED_KINDS:
                err(spec.key_lines["not_when"], f"`not_when`: `{kind}` is no kind of question "
                                                f"(kinds: {', '.join(ASKED_KINDS)})")
        shown_as = str(spec.get("shown_as", "")).strip()
        if shown_as and ftype not in ("int", "float"):
            err(spec.key_lines["shown_as"], "only number fields take `shown_as`")
        implied: list[tuple[str, str, tuple[str, ...]]] = []
        implied_by = spec.get("implied_by")
        if implied_by is not None:
            if ftype != "bool":
                err(spec.key_lines["implied_by"], "only bool fields take `implied_by` (naming the entity states true)")
            for kind, tests in implied_by.items() if isinstance(implied_by, YMap) else ():
                for fname, vals in tests.items() if isinstance(tests, YMap) else ():
                    implied.append((str(kind), str(fname), tuple(str(v) for v in _texts(vals))))
        refines: list[tuple[str, tuple[str, ...]]] = []
        allowed = {v for v, _ in values}
        for narrow, wider in spec.get("refines", {}).items() if isinstance(spec.get("refines"), YMap) else ():
            bad = [str(v) for v in (str(narrow), *_texts(wider)) if str(v) not in allowed]
            if bad:
                err(spec.key_lines["refines"], f"`refines`: {', '.join(bad)} is no value of `{name}`")
            refines.append((str(narrow), tuple(str(v) for v in _texts(wider))))
        if "cues" in spec and not unit:
            err(spec.key_lines["cues"], "only number fields with a `unit` take `cues`")
        if "counter_cues_unless" in spec and "counter_cues" not in spec:
            err(spec.key_lines["counter_cues_unless"], "`counter_cues_unless` needs `counter_cues`")
        bounds: tuple[float, float] | None = None
        if "range" in spec:
            low, high = (float(v) for v in spec["range"])
            if ftype not in ("int", "float"):
                err(spec.key_lines["range"], "only number fields take a `range`")
            elif low > high:
                err(spec.key_lines["range"],
                    f"`range` goes from the smallest to the largest value, not {low:g} to {high:g}")
            else:
                bounds = (low, high)
        out[name] = FieldDecl(name, str(ftype), fdoc.strip(), tuple(values), str(unit or ""), ask.strip(),
                              decisive, tuple(c.lower() for c in _texts(spec.get("cues"))),
                              tuple(c.lower() for c in _texts(spec.get("counter_cues"))),
                              tuple(c.lower() for c in _texts(spec.get("counter_cues_unless"))), bounds, shown_as,
                              shown, line, bool(spec.get("worry", False)),
                              tuple(str(k) for k in _texts(spec.get("not_when"))), tuple(implied), tuple(refines),
                              tuple(c.lower() for c in _texts(spec.get("others"))))
    return out


def coerce_value(decl: FieldDecl, value: Any) -> Any:
    """`value` as the field's type, or ValueError saying what was expected."""
    if decl.type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"`{decl.name}` is true or false, not {value!r}")
        return value
    if decl.type in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"`{decl.name}` is a number, not {value!r}")
        return int(value) if decl.type == "int" else float(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"`{decl.name}` is text, not {value!r}")
    allowed = [v for v, _ in decl.values]
    if allowed and value not in allowed:
        raise ValueError(f"`{decl.name}` is one of {', '.join(allowed)}, not {value!r}")
    return value


def _check_pattern(pattern: Any) -> str | None:
    """What is wrong with a token pattern beyond spaCy's own schema (attributes a blank pipeline lacks)."""
    if not isinstance(pattern, list) or not pattern or not all(isinstance(t, dict) for t in pattern):
        return "a pattern is a phrase (text) or a list of token mappings such as {LOWER: lock}"
    for token in pattern:
        for key in token:
            if str(key).upper() not in PATTERN_ATTRS:
                return (f"token attribute `{key}` needs a trained pipeline; use LOWER / NORM with IN or REGEX "
                        f"(available: {', '.join(sorted(PATTERN_ATTRS - {'OP'}))})")
    return None


TEXT_ATTRS = frozenset({"ORTH", "TEXT", "LOWER", "NORM", "PREFIX", "SUFFIX", "SHAPE"})


def _as_text(attr: str, value: Any) -> Any:
    """Numbers written in a text attribute's value (`{LOWER: {IN: [one, 1]}}`) as the text they match."""
    if attr not in TEXT_ATTRS:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return {k: [str(x) if isinstance(x, int | float) and not isinstance(x, bool) else x for x in v]
                if isinstance(v, list) else v for k, v in value.items()}
    return value


def _tokens_pattern(phrase: str) -> list[dict[str, Any]]:
    """A phrase as a token pattern on lower-cased text, tokenised as the reader tokenises questions."""
    from kb.advisor.reader import tokenizer

    return [{"LOWER": t.lower_} for t in tokenizer()(phrase) if not t.is_space]


def _validate_patterns(entries: list[Entry], problems: list[Problem]) -> None:
    """Run every pattern through spaCy's own validation (`Matcher(validate=True)`), with file and line."""
    from spacy.matcher import Matcher

    from kb.advisor.reader import tokenizer

    matcher = Matcher(tokenizer().vocab, validate=True)
    for entry in entries:
        path = entry.id.rsplit(":", 1)[0]
        for pattern, line in entry.patterns:
            try:
                matcher.add("check", [pattern])
            except Exception as exc:  # spaCy raises ValueError / MatchPatternError with the schema's words
                message = " ".join(str(exc).split())
                problems.append(Problem(path, line, f"pattern not in spaCy's Matcher format: {message[:300]}"))
            finally:
                if "check" in matcher:
                    matcher.remove("check")


def load_entries(folder: Path, fields: Mapping[str, FieldDecl], asked_kinds: tuple[str, ...],
                 problems: list[Problem], validate: bool = True) -> list[Entry]:
    """Every phrase entry of `phrases/*.yaml`, checked against the fields and kinds of question."""
    entries: list[Entry] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        shown = display_path(path)
        if not path.is_file():
            problems.append(Problem(shown, 0, "not a file"))
            continue
        doc = read_yaml(path, shown, problems, "a phrase file")
        if doc is UNREADABLE:
            continue
        if doc is None:
            problems.append(Problem(shown, 0, "empty phrase file: give `phrases:` with at least one entry"))
            continue
        if not validate_shape(doc, PHRASE_FILE_SCHEMA, shown, problems):
            continue
        items: YList = doc["phrases"]
        for item, line in zip(items, items.item_lines, strict=True):
            entry = _entry(item, line, shown, fields, asked_kinds, problems)
            if entry is not None:
                entries.append(entry)
    if validate:
        _validate_patterns(entries, problems)
    return entries


def _entry(item: Any, line: int, shown: str, fields: Mapping[str, FieldDecl], asked_kinds: tuple[str, ...],
           problems: list[Problem]) -> Entry | None:
    def err(at: int, message: str) -> None:
        problems.append(Problem(shown, at, message))

    name, asked = item.get("field"), item.get("asked")
    value: Any = None
    if (name is None) == (asked is None):
        err(line, "a phrase entry reads as either a `field` (with `value`) or an `asked` kind of question")
        return None
    if name is not None:
        decl = fields.get(str(name))
        if decl is None:
            err(item.key_lines["field"], f"unknown field `{name}` (declared in reader/fields.yaml: "
                                         f"{', '.join(sorted(fields))})")
            return None
        if "value" not in item:
            err(line, f"entry for `{name}` needs `value`")
            return None
        try:
            value = coerce_value(decl, item["value"])
        except ValueError as exc:
            err(item.key_lines["value"], str(exc))
            return None
        if decl.type == "ref" and not re.fullmatch(r"[a-z]+:\S+", str(value)):
            err(item.key_lines["value"], f"`{name}` takes an ontology id such as industry:finance")
            return None
    elif asked not in asked_kinds:
        err(item.key_lines["asked"], f"`asked` is one of: {', '.join(asked_kinds)}")
        return None
    role, hedge, start = item.get("role"), item.get("hedge", False), item.get("start", False)
    patterns: list[tuple[list[dict[str, Any]], int]] = []
    raw = item.get("patterns", YList())
    for pattern, at in zip(raw, raw.item_lines, strict=True):
        if isinstance(pattern, str):
            patterns.append((_tokens_pattern(pattern), at))
            continue
        problem = _check_pattern(pattern)
        if problem:
            err(at, problem)
            continue
        patterns.append(([{str(k).upper(): _as_text(str(k).upper(), v) for k, v in t.items()} for t in pattern], at))

    def texts(key: str) -> list[tuple[str, int]]:
        lst = item.get(key, YList())
        return [(text.strip(), at) for text, at in zip(lst, lst.item_lines, strict=True)]

    examples, near = texts("examples"), texts("near_misses")
    names = tuple(str(n) for n in item.get("names", ()))
    terms = tuple(str(n) for n in item.get("terms", ()))
    over = tuple(str(n) for n in item.get("over", ()))
    for key, given in (("names", names), ("terms", terms), ("over", over)):
        if given and asked is None:
            err(item.key_lines[key], f"`{key}` belongs to an `asked` entry (the kinds of question a name asks)")
            return None
    if not patterns and not examples and not names and not terms:
        err(line, "an entry needs `patterns` or `examples` (or both)")
        return None
    return Entry(f"{shown}:{line}", str(name) if name is not None else None, value,
                 str(asked) if asked is not None else None, role, bool(hedge), tuple(patterns),
                 tuple(examples), tuple(near), start, names, terms, over, bool(item.get("salient", False)))


def _cues(path: Path, problems: list[Problem]) -> Cues:
    doc = read_checked(path, CUES_SCHEMA, problems, "the cues file", "negation, hedge and role words are declared here")
    if doc is None:
        return Cues()

    def section(name: str) -> YMap:
        value = doc.get(name)
        return value if isinstance(value, YMap) else YMap.empty()

    neg, hedges, roles, industry = section("negation"), section("hedges"), section("roles"), section("industry")
    others = section("others")
    window = neg.get("window", 6)

    def low(v: Any) -> tuple[str, ...]:
        return tuple(t.lower() for t in _texts(v))

    return Cues(
        negation_before=low(neg.get("before")), negation_after=low(neg.get("after")),
        pseudo_negation=low(neg.get("pseudo")), terminators=low(neg.get("terminators")),
        departures=low(neg.get("departures")), arrivals=low(neg.get("arrivals")),
        hedges_before=low(hedges.get("before")), hedges_after=low(hedges.get("after")),
        approximate=low(hedges.get("approximate")),
        conditions=low(hedges.get("conditions")), second_options=low(hedges.get("second_options")),
        roles=tuple((r, low(words)) for r, words in roles.items()), window=window,
        requirement=low(doc.get("requirement")), salience=low(doc.get("salience")),
        first_person=low(doc.get("first_person")), others=low(others.get("before")),
        others_until=low(others.get("until")),
        self_words=low(industry.get("self")), customers=low(industry.get("customers")),
        organisations=low(industry.get("organisations")), functions=low(industry.get("functions")),
        compounds=low(industry.get("compounds")), departments=low(industry.get("departments")),
        qualifiers=low(industry.get("qualifiers")), groups=low(industry.get("groups")),
        not_names=low(doc.get("not_names")),
        domain=low(doc.get("domain")), alternatives=low(doc.get("alternatives")))


def _quantities(path: Path, problems: list[Problem]) -> Quantities:
    shown = display_path(path)
    doc = read_checked(path, QUANTITIES_SCHEMA, problems, "the quantities file",
                       "units and currencies are declared here")
    if doc is None:
        return Quantities()

    currencies = [(str(code), tuple(s.lower() for s in _texts(spec["symbols"])), float(spec["usd"]))
                  for code, spec in doc.get("currencies", {}).items()]

    def pairs(key: str) -> tuple[tuple[str, float], ...]:
        return tuple((str(word), float(v)) for word, v in doc.get(key, {}).items())

    def word_lists(key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:  # kind -> lower-cased words
        lists = doc.get(key, YMap())
        return tuple((str(k), tuple(w.lower() for w in _texts(v))) for k, v in lists.items()) if isinstance(
            lists, YMap) else ()

    units = [(str(kind), tuple((str(word).lower(), float(v)) for word, v in words.items()))
             for kind, words in doc.get("units", {}).items()]
    implied = doc.get("implies_currency", YMap())
    codes = {c for c, _, _ in currencies}
    implies: list[tuple[str, str]] = []
    for word, code in implied.items() if isinstance(implied, YMap) else ():
        if code not in codes:
            problems.append(Problem(shown, implied.key_lines[word],
                                    f"`{word}`: `{code}` is not a currency of this file"))
        else:
            implies.append((str(word), str(code)))
    return Quantities(tuple(currencies), pairs("scales"), pairs("vague"), tuple(units),
                      str(doc.get("rates_as_of", "")), word_lists("lead_ins"),
                      tuple(str(k) for k in _texts(doc.get("no_article"))),
                      tuple(implies), tuple(str(w).lower() for w in _texts(doc.get("not_after"))),
                      tuple(str(k) for k in _texts(doc.get("described"))),
                      word_lists("sums"), tuple(str(w).lower() for w in _texts(doc.get("corrections"))),
                      tuple(_parts(doc.get("parts"))), tuple(str(w).lower() for w in _texts(doc.get("counted"))),
                      tuple((w.lower(), f) for w, f in pairs("periods_before")))


def _parts(node: Any) -> list[tuple[str, Parts]]:
    """quantities.yaml `parts`, per unit kind (validated by QUANTITIES_SCHEMA before)."""
    out: list[tuple[str, Parts]] = []
    for kind, spec in node.items() if isinstance(node, YMap) else ():
        def words(key: str, spec: Any = spec) -> tuple[str, ...]:
            return tuple(str(w).lower() for w in _texts(spec.get(key)))
        out.append((str(kind), Parts(words("joins"), words("work"), words("between"), words("whole"),
                                     int(spec.get("window", Parts.window)), words("self"), words("wholes"),
                                     words("headcount"), words("nobody"),
                                     int(spec["organisation"]) if "organisation" in spec else None,
                                     words("self_after"))))
    return out


def _thresholds(path: Path, fields: Mapping[str, FieldDecl], problems: list[Problem]
                ) -> tuple[dict[str, float], dict[str, float]]:
    """(similarity thresholds, learned readers' probability thresholds); a learned field must be a field of
    fields.yaml that is no quantity (a number is read by its unit, never guessed)."""
    doc = read_checked(path, THRESHOLDS_SCHEMA, problems, "the thresholds file")
    if doc is None:
        return {}, {}
    learned = doc.get("learned") or {}
    for name in learned:
        decl = fields.get(str(name))
        if decl is None or decl.unit:
            problems.append(Problem(display_path(path), line_at(doc, ["learned", name]),
                                    f"learned: `{name}` is not " + ("a field of fields.yaml" if decl is None else
                                                                   "read by learning: it is a quantity")))
    return ({str(name): float(v) for name, v in doc["thresholds"].items()},
            {str(name): float(v) for name, v in learned.items() if (d := fields.get(str(name))) and not d.unit})


# --- The shapes of the reader's files (JSON Schema, checked by the one YAML reader) ---------------------
_WORDS: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": ["string", "number"]}}]}
_POSITIVE: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0}


def _mapping(title: str, properties: dict[str, Any], required: tuple[str, ...] = (), **more: Any) -> dict[str, Any]:
    return {"type": "object", "title": title, "properties": properties, "additionalProperties": False,
            **({"required": list(required)} if required else {}), **more}


FIELD_SCHEMA = _mapping("a field", {
    "type": {"enum": list(FIELD_TYPES)},
    "doc": TEXT,
    "values": {"type": ["object", "array"]},
    "unit": {"type": "string"},
    "shown_as": {"type": "string", "description": "how the chat names a number's unit beside it (people, ms)"},
    "ask": {"type": "string"},
    "decisive": {"type": "boolean"},
    "worry": {"type": "boolean", "description": "values are fears: hedges, conditions and negations inside their "
              "words do not unsay them; a negation before or after them does"},
    "not_when": {**_WORDS, "description": "kinds of question in which the field is not read"},
    "implied_by": {"type": "object", "description": "fact kind -> field -> values: naming such an entity states the "
                   "field true", "additionalProperties": {"type": "object", "additionalProperties": _WORDS}},
    "cues": _WORDS, "counter_cues": _WORDS, "counter_cues_unless": _WORDS,
    "others": {**_WORDS, "description": "words that speak of someone else for this field alone (cues.yaml `others`)"},
    "refines": {"type": "object", "description": "value -> the values it says more than: read together, it alone "
                "is taken", "additionalProperties": _WORDS},
    "range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
              "description": "[smallest, largest] plausible value"},
}, required=("type", "doc"))
FIELD_KEYS = tuple(FIELD_SCHEMA["properties"])
FIELDS_FILE_SCHEMA = _mapping("the fields file", {
    "fields": {"type": "object", "additionalProperties": FIELD_SCHEMA,
               "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$",
                                 "description": "a field's name is lowercase letters, digits and `_`"}},
}, required=("fields",))
"""reader/fields.yaml: the asker's fields."""

_UTTERANCES: dict[str, Any] = {"type": "array", "items": TEXT}
ENTRY_SCHEMA = _mapping("a phrase entry", {
    "field": TEXT,
    "value": {"type": ["string", "number", "boolean"]},
    "asked": TEXT,
    "role": {"enum": list(ROLES)},
    "patterns": {"type": "array", "items": {"anyOf": [TEXT, {"type": "array", "items": {"type": "object"}}]}},
    "examples": _UTTERANCES,
    "near_misses": _UTTERANCES,
    "hedge": {"type": "boolean"},
    "start": {"type": "boolean"},
    "salient": {"type": "boolean"},
    "names": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$",
                                         "description": "an entity kind such as license"}},
    "terms": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$",
                                         "description": "an entity kind whose names are terms, such as concept"}},
    "over": {"type": "array", "items": {"enum": ["out_of_scope", "obligations", "process", "comparison", "definition"],
                                        "description": "a kind of question this entry's patterns decide over"}},
})
ENTRY_KEYS = tuple(ENTRY_SCHEMA["properties"])
PHRASE_FILE_SCHEMA = _mapping("a phrase file", {"phrases": {"type": "array", "minItems": 1, "items": ENTRY_SCHEMA}},
                              required=("phrases",))
"""reader/phrases/*.yaml: what utterances read as a field's value or a kind of question."""

CUES_SCHEMA = _mapping("the cues file", {
    "negation": _mapping("`negation`", {"window": {"type": "integer", "minimum": 1, "maximum": 20},
                                        "before": _WORDS, "after": _WORDS, "pseudo": _WORDS,
                                        "terminators": _WORDS, "departures": _WORDS, "arrivals": _WORDS}),
    "hedges": _mapping("`hedges`", {"before": _WORDS, "after": _WORDS, "conditions": _WORDS,
                                    "approximate": _WORDS, "second_options": _WORDS}),
    "roles": _mapping("`roles`", {role: _WORDS for role in ROLES}),
    "requirement": _WORDS, "salience": _WORDS, "first_person": _WORDS, "not_names": _WORDS, "domain": _WORDS,
    "alternatives": _WORDS,
    "others": _mapping("`others`", {"before": _WORDS, "until": _WORDS}),
    "industry": _mapping("`industry`", {"self": _WORDS, "customers": _WORDS, "organisations": _WORDS,
                                         "functions": _WORDS, "compounds": _WORDS, "departments": _WORDS,
                                         "qualifiers": _WORDS, "groups": _WORDS}),
})
"""reader/cues.yaml: negation, hedge, role and requirement words."""

_FACTORS: dict[str, Any] = {"type": "object", "additionalProperties": _POSITIVE}
QUANTITIES_SCHEMA = _mapping("the quantities file", {
    "rates_as_of": {"type": "string"},
    "currencies": {"type": "object", "additionalProperties": _mapping(
        "a currency", {"symbols": _WORDS, "usd": _POSITIVE}, required=("symbols", "usd"))},
    "scales": _FACTORS,
    "vague": _FACTORS,
    "no_article": _WORDS, "described": _WORDS,
    "sums": {"type": "object", "additionalProperties": _WORDS},
    "not_after": _WORDS, "corrections": _WORDS, "counted": _WORDS, "periods_before": _FACTORS,
    "parts": {"type": "object", "additionalProperties": _mapping("a kind's parts", {
        "joins": _WORDS, "work": _WORDS, "between": _WORDS, "whole": _WORDS, "self": _WORDS, "self_after": _WORDS,
        "wholes": _WORDS, "headcount": _WORDS, "nobody": _WORDS,
        "organisation": {"type": "integer", "minimum": 2},
        "window": {"type": "integer", "minimum": 1, "maximum": 12}},
        required=("work",))},
    "implies_currency": {"type": "object", "additionalProperties": {"type": "string"}},
    "lead_ins": {"type": "object", "additionalProperties": _WORDS},
    "units": {"type": "object", "additionalProperties": _FACTORS},
})
"""reader/quantities.yaml: currencies, scales, vague amounts and units."""

THRESHOLDS_SCHEMA = _mapping("the thresholds file", {
    "thresholds": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0,
                                                              "maximum": 1}},
    "learned": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0,
                                                           "maximum": 1}},
}, required=("thresholds",))
"""reader/thresholds.yaml: per-field similarity thresholds."""


def reader_files(folder: Path) -> list[Path]:
    """Every file of the reader's data (for versioning a loaded phrasebook)."""
    return sorted(p for p in folder.rglob("*.yaml") if p.is_file() and "eval" not in p.relative_to(folder).parts)


def load_phrasebook(folder: Path, asked_kinds: tuple[str, ...], validate: bool = True) -> Phrasebook:
    """Everything in the reader's folder; mistakes are collected in `problems`, never raised."""
    problems: list[Problem] = []
    fields = load_fields(folder / "fields.yaml", problems)
    entries = load_entries(folder / "phrases", fields, asked_kinds, problems, validate)
    cues = _cues(folder / "cues.yaml", problems)
    quantities = _quantities(folder / "quantities.yaml", problems)
    known_units = {k for k, _ in quantities.units} | {"money"}
    for kind, _ in quantities.lead_ins:
        if kind not in known_units:
            problems.append(Problem(display_path(folder / "quantities.yaml"), 0,
                                    f"lead_ins: `{kind}` is not a unit kind ({', '.join(sorted(known_units))})"))
    for decl in fields.values():
        if decl.unit and decl.unit not in known_units:
            problems.append(Problem(decl.file, decl.line, f"field `{decl.name}`: unit `{decl.unit}` is not a kind "
                                                          f"of reader/quantities.yaml "
                                                          f"({', '.join(sorted(known_units))})"))
    thresholds, learned = _thresholds(folder / "thresholds.yaml", fields, problems)
    h = hashlib.sha256()
    for path in reader_files(folder):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return Phrasebook(fields, tuple(entries), cues, quantities, thresholds, h.hexdigest()[:12], learned,
                      tuple(problems))


def check_reader(paths: Any) -> list[Problem]:
    """`kb check`: every mistake in the reader's files (fields, phrases, cues, quantities, thresholds)."""
    from kb import vocab

    book = load_phrasebook(paths.reader, vocab.ASKED_KINDS)
    return [*book.problems]
