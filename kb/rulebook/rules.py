"""Rule files: load the analysts' YAML rules with line numbers, validate them, and compile them for the engine.

A rule file (`rules/*.yaml`) holds `rules:` (each with `id`, `title`, `when`, `then`, `evidence`), the derived
fact kinds it declares (`derives:`), and its own examples (`tests:`). The format is documented in
`docs/rules.md`; the words it may use are declared in `kb/vocab.py`.

Loading is all or nothing: `load_rules` returns a `Rulebook` only when every file is clean, and otherwise
raises `KnowledgeError` with every problem as `path:line: message`. `compile_rulebook` turns a rulebook
into engine partitions (plain durable_rules definitions, see `Partition`), sized and indexed so that a
consultation only runs the partitions its facts can trigger. This module never imports the engine.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb import vocab
from kb.config import Paths, inside
from kb.model.facts import Fact, Scalar, Source
from kb.model.problems import KnowledgeError, Problem, display_path
from kb.rulebook.schema import RULE_FILE_SCHEMA
from kb.yamlfile import UNREADABLE, YList, YMap, read_yaml, validate

# --- The parsed form -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A reference to a field of a fact matched earlier in the same rule: `$name.field`."""

    name: str
    field: str

    def __str__(self) -> str:
        return f"${self.name}.{self.field}"


TestValue = Scalar | Ref | tuple[Scalar, ...] | None


@dataclass(frozen=True)
class FieldTest:
    """One test on one field of a fact: `field op value` (value is None for exists/absent)."""

    field: str
    op: str
    value: TestValue
    line: int

    def __str__(self) -> str:
        if self.op in ("exists", "absent"):
            return f"{self.field} {self.op}"
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return f"{self.field} {vocab.OPERATORS[self.op].symbol} {value}"


@dataclass(frozen=True)
class Match:
    """A condition on one fact: its kind, the name it is bound to, its field tests; or, if `negated`,
    the requirement that no such fact exists."""

    kind: str
    name: str
    tests: tuple[FieldTest, ...]
    line: int
    negated: bool = False

    def describe(self) -> str:
        tests = " and ".join(str(t) for t in self.tests)
        what = f"{self.kind}{' ' + tests if tests else ''}"
        named = self.kind if self.name == self.kind else f"{self.kind} {self.name}"
        return f"no {what}" if self.negated else f"{named}{': ' + tests if tests else ''}"


@dataclass(frozen=True)
class Group:
    """`all` or `any` of conditions."""

    op: str
    items: tuple[Condition, ...]
    line: int


Condition = Match | Group


@dataclass(frozen=True)
class Then:
    """One conclusion a rule draws (kind in vocab.CONCLUSION_KINDS) with its statement template."""

    kind: str
    statement: str
    line: int
    option: str | None = None
    strength: float | None = None
    stance: str = "for"
    asks: str | None = None
    criterion: str | None = None
    """The decision criterion the conclusion speaks to (`criterion:vendor_lock_in`): its row in the comparison."""
    criterion_line: int = 0


@dataclass(frozen=True)
class Derive:
    """A fact a rule derives: its declared kind and field values (literals, `$name.field` or templates)."""

    kind: str
    fields: tuple[tuple[str, Scalar | Ref], ...]
    line: int


@dataclass(frozen=True)
class Evidence:
    """Where the rule's argument comes from: a corpus document, a phrase of it, and a retrieval query; or
    (`of`) the passage the ontology names for the entity a condition binds (its `oscar:evidenceQuote`), for a
    rule whose statement is that entity's definition."""

    doc: str | None
    quote: str | None
    query: str | None
    line: int
    of: str | None = None


@dataclass(frozen=True)
class Rule:
    """One analyst rule, with where it is written."""

    id: str
    title: str
    file: str
    line: int
    when: Group
    alternatives: tuple[tuple[Match, ...], ...]
    then: tuple[Then, ...]
    derives: tuple[Derive, ...]
    evidence: Evidence | None

    @property
    def reads(self) -> frozenset[str]:
        """Fact kinds this rule's conditions mention (matched or negated)."""
        return frozenset(m.kind for alt in self.alternatives for m in alt)

    @property
    def negates(self) -> frozenset[str]:
        return frozenset(m.kind for alt in self.alternatives for m in alt if m.negated)

    @property
    def consumes(self) -> frozenset[str]:
        return frozenset(m.kind for alt in self.alternatives for m in alt if not m.negated)


def field_reads(rule: Rule) -> dict[str, frozenset[str]]:
    """Per fact kind the rule matches, the fields of such a fact that can change what the rule does: those its
    conditions test, and those it quotes from a fact it binds (`$name.field` in a test or a derived field,
    `{name.field}` in a statement or a derived field)."""
    bound: dict[str, str] = {}
    out: dict[str, set[str]] = {}
    quoted: list[tuple[str, str]] = []
    for alt in rule.alternatives:
        for m in alt:
            bound.setdefault(m.name, m.kind)
            fields = out.setdefault(m.kind, set())
            for t in m.tests:
                fields.add(t.field)
                if isinstance(t.value, Ref):
                    quoted.append((t.value.name, t.value.field))
    for th in rule.then:
        quoted.extend(_TEMPLATE.findall(th.statement))
    for d in rule.derives:
        for _, value in d.fields:
            if isinstance(value, Ref):
                quoted.append((value.name, value.field))
            elif isinstance(value, str):
                quoted.extend(_TEMPLATE.findall(value))
    if rule.evidence is not None and rule.evidence.of is not None:
        quoted += [(rule.evidence.of, "quote"), (rule.evidence.of, "quote_doc")]
    for name, fname in quoted:
        if name in bound:
            out.setdefault(bound[name], set()).add(fname)
    return {kind: frozenset(fields) for kind, fields in out.items()}


@dataclass(frozen=True)
class DerivedKind:
    """A fact kind that rules derive, declared in a rule file's `derives:` section."""

    name: str
    doc: str
    fields: Mapping[str, vocab.FieldSpec]
    file: str
    line: int


@dataclass(frozen=True)
class Expectation:
    """One expected (or forbidden) outcome of a rule test: a conclusion or a derived fact."""

    line: int
    rule: str | None = None
    kind: str | None = None
    option: str | None = None
    fact: str | None = None
    statement: str | None = None

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in (("rule", self.rule), ("kind", self.kind), ("option", self.option),
                                           ("fact", self.fact), ("statement~", self.statement)) if v]
        return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class RuleTest:
    """An analyst's example: given facts (and ontology entities), the conclusions expected and forbidden."""

    name: str
    file: str
    line: int
    facts: tuple[Fact, ...]
    ontology: tuple[str, ...]
    expect: tuple[Expectation, ...]
    expect_not: tuple[Expectation, ...]


@dataclass(frozen=True)
class RuleFile:
    path: str
    topic: str
    rules: tuple[Rule, ...]
    derived: tuple[DerivedKind, ...]
    tests: tuple[RuleTest, ...]


@dataclass(frozen=True)
class Rulebook:
    """Every rule file of a knowledge base, validated."""

    files: tuple[RuleFile, ...]

    @functools.cached_property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for f in self.files for r in f.rules)

    @functools.cached_property
    def _by_id(self) -> dict[str, Rule]:
        out: dict[str, Rule] = {}
        for r in self.rules:
            out.setdefault(r.id, r)
        return out

    @property
    def derived_kinds(self) -> dict[str, DerivedKind]:
        return {d.name: d for f in self.files for d in f.derived}

    @property
    def tests(self) -> tuple[RuleTest, ...]:
        return tuple(t for f in self.files for t in f.tests)

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    def fingerprint(self) -> str:
        """A short hash of the rules as loaded, to name the rule base's version."""
        h = hashlib.sha256()
        for f in self.files:
            h.update(f.path.encode())
            h.update(repr((f.rules, f.derived)).encode())
        return h.hexdigest()[:12]


# --- Parsing --------------------------------------------------------------------------------------------

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REF = re.compile(r"^\$([a-z][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$")
_TEMPLATE = re.compile(r"\{([a-z][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\}")
_TERM = re.compile(r"^([a-z]+):(\S+)$")
RESERVED_NAMES = frozenset({"sid", "g"})
RESERVED_FIELDS = frozenset({"id", "kind", "sid", "key"})
MAX_TESTS_PER_CONDITION = 16
MAX_CONDITIONS = 12
FACTS_PER_KIND = 30
"""How many facts of one kind a consultation is assumed to hold when estimating a rule's fan-out (a question
naming thirty products; the asker and the inquiry are one each)."""
SINGLE_KINDS = frozenset({"asker", "inquiry"})
MAX_COMBINATIONS = 100_000
"""A rule whose conditions may match more combinations of facts than this is refused by `kb check`: the
engine builds every match before any bound applies (four unconstrained `license` conditions over thirty
licences took 33 s and 1.1 GB)."""
MAX_ALTERNATIVES = 32
MAX_DERIVED_FIELDS = 20


class _Reader:
    """Parses one rule file, collecting problems instead of raising."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = problems

    def err(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def text(self, m: YMap, key: str, what: str, required: bool = True) -> str | None:
        value = m.get(key)
        if value is None:
            if required:
                self.err(m.line, f"{what} needs `{key}`")
            return None
        if not isinstance(value, str) or not value.strip():
            self.err(m.key_lines[key], f"`{key}` of {what} must be non-empty text")
            return None
        return value.strip()

    # conditions
    def condition(self, node: Any, line: int, names: set[str]) -> Condition | None:
        if not isinstance(node, YMap):
            self.err(line, "a condition must be a mapping with `fact`, `none`, `all` or `any`")
            return None
        heads = [k for k in ("fact", "none", "all", "any") if k in node]
        if len(heads) != 1:
            self.err(node.line, "a condition needs exactly one of `fact`, `none`, `all`, `any`")
            return None
        head = heads[0]
        if head in ("all", "any"):
            return self.group(head, node[head], node.key_lines[head], names)
        if head == "none":
            inner = node["none"]
            if not isinstance(inner, YMap) or "fact" not in inner:
                self.err(node.key_lines["none"], "`none` takes one fact condition (`fact:` and `where:`)")
                return None
            if "as" in inner:
                self.err(inner.key_lines["as"], "a `none` condition cannot bind a name (`as`): no fact is matched")
            return self.match(inner, names, negated=True)
        return self.match(node, names, negated=False)

    def group(self, op: str, items: Any, line: int, names: set[str]) -> Group | None:
        if not isinstance(items, YList) or not items:
            self.err(line, f"`{op}` takes a non-empty list of conditions")
            return None
        parsed = [self.condition(item, items.item_lines[i], names) for i, item in enumerate(items)]
        if any(p is None for p in parsed):
            return None
        return Group(op, tuple(p for p in parsed if p is not None), line)

    def match(self, node: YMap, names: set[str], negated: bool) -> Match | None:
        kind = node.get("fact")
        if not isinstance(kind, str) or not kind:
            self.err(node.line, "`fact` must name a fact kind")
            return None
        name = node.get("as", kind)
        if not isinstance(name, str) or not _NAME.match(name) or name in RESERVED_NAMES:
            self.err(node.key_lines.get("as", node.line),
                     f"`as` must be a lowercase name (letters, digits, _) other than {sorted(RESERVED_NAMES)}")
            return None
        where = node.get("where", YMap())
        tests: list[FieldTest] = []
        if not isinstance(where, YMap):
            self.err(node.key_lines.get("where", node.line), "`where` must map field names to tests")
            return None
        if not hasattr(where, "key_lines"):
            where.key_lines, where.line = {}, node.line
        for fname, spec in where.items():
            fline = where.key_lines[fname]
            if isinstance(spec, YMap):
                if not spec:
                    self.err(fline, f"no test given for field `{fname}`")
                for op, value in spec.items():
                    oline = spec.key_lines[op]
                    if op not in vocab.OPERATORS:
                        self.err(oline, f"unknown operator `{op}` (expected one of: {', '.join(vocab.OPERATORS)})")
                        continue
                    test = self.field_test(fname, op, value, oline)
                    if test:
                        tests.append(test)
            else:
                test = self.field_test(fname, "eq", spec, fline)
                if test:
                    tests.append(test)
        if len(tests) > MAX_TESTS_PER_CONDITION:
            self.err(node.line, f"a condition may test at most {MAX_TESTS_PER_CONDITION} fields")
        if not negated:
            names.add(name)
        return Match(kind, name, tuple(tests), node.line, negated)

    def field_test(self, fname: str, op: str, value: Any, line: int) -> FieldTest | None:
        arity = vocab.OPERATORS[op].operand
        if arity == "flag":
            if value is not True:
                self.err(line, f"`{op}` takes `true` (write `{fname}: {{{op}: true}}`)")
                return None
            return FieldTest(fname, op, None, line)
        if arity == "list":
            if not isinstance(value, list) or not value:
                self.err(line, f"`{op}` takes a non-empty list of values")
                return None
            scalars = []
            for v in value:
                if not isinstance(v, str | int | float | bool) or (isinstance(v, str) and _REF.match(v)):
                    self.err(line, f"`{op}` takes literal values, not {v!r}")
                    return None
                scalars.append(v)
            return FieldTest(fname, op, tuple(scalars), line)
        if isinstance(value, str) and (ref := _REF.match(value)):
            return FieldTest(fname, op, Ref(ref.group(1), ref.group(2)), line)
        if not isinstance(value, str | int | float | bool):
            self.err(line, f"`{fname}` must be compared with a single value, not {value!r}")
            return None
        if op in ("lt", "le", "gt", "ge") and (isinstance(value, bool) or not isinstance(value, int | float)):
            self.err(line, f"`{op}` compares numbers; `{value!r}` is not a number")
            return None
        return FieldTest(fname, op, value, line)

    # conclusions
    def then(self, node: Any, line: int) -> Then | Derive | None:
        if not isinstance(node, YMap):
            self.err(line, "each item of `then` is a mapping with `kind:` (a conclusion) or `derive:` (a fact)")
            return None
        if "derive" in node:
            kind = node.get("derive")
            fields = node.get("fields", YMap())
            if not isinstance(kind, str) or not isinstance(fields, YMap):
                self.err(node.line, "`derive` names a declared fact kind and `fields` maps its fields to values")
                return None
            values: list[tuple[str, Scalar | Ref]] = []
            for fname, value in fields.items():
                if isinstance(value, str) and (ref := _REF.match(value)):
                    values.append((fname, Ref(ref.group(1), ref.group(2))))
                elif isinstance(value, str | int | float | bool):
                    values.append((fname, value))
                else:
                    self.err(fields.key_lines[fname], f"field `{fname}` must be a value, a `$name.field` or text")
            return Derive(kind, tuple(sorted(values)), node.line)
        kind = node.get("kind")
        if kind not in vocab.CONCLUSION_KINDS:
            self.err(node.key_lines.get("kind", node.line),
                     f"unknown conclusion kind `{kind}` (expected one of: {', '.join(vocab.CONCLUSION_KINDS)})")
            return None
        statement = self.text(node, "statement", f"a `{kind}` conclusion")
        option = node.get("option")
        strength = node.get("strength")
        stance = node.get("stance", "for")
        asks = node.get("asks")
        if kind == "recommendation":
            if option not in vocab.OPTIONS:
                self.err(node.key_lines.get("option", node.line),
                         f"unknown option `{option}` (expected one of: {', '.join(vocab.OPTIONS)})")
            if isinstance(strength, bool) or not isinstance(strength, int | float) or not 0 < strength <= 1:
                self.err(node.key_lines.get("strength", node.line),
                         "a recommendation needs `strength`: a number above 0 and at most 1")
            if stance not in vocab.STANCES:
                self.err(node.key_lines.get("stance", node.line),
                         f"`stance` is one of: {', '.join(vocab.STANCES)}")
        else:
            for key in ("option", "strength", "stance"):
                if key in node:
                    self.err(node.key_lines[key], f"`{key}` belongs to recommendations, not to a `{kind}`")
        if kind == "question":
            if not isinstance(asks, str) or "." not in asks:
                self.err(node.key_lines.get("asks", node.line),
                         "a question needs `asks`: the fact to supply as kind.field (e.g. asker.team_size)")
            else:
                qkind, qfield = asks.split(".", 1)
                spec = vocab.FACT_KINDS.get(qkind)
                if spec is None or qfield not in spec.fields:
                    self.err(node.key_lines["asks"], f"`asks: {asks}` is not a known fact field")
        elif "asks" in node:
            self.err(node.key_lines["asks"], "`asks` belongs to questions")
        criterion = node.get("criterion")
        if "criterion" in node and not (isinstance(criterion, str) and criterion.startswith("criterion:")):
            self.err(node.key_lines["criterion"],
                     "`criterion` names a criterion of the ontology, e.g. criterion:vendor_lock_in")
            criterion = None
        if statement is None:
            return None
        return Then(kind, statement, node.line, option if isinstance(option, str) else None,
                    float(strength) if isinstance(strength, int | float) and not isinstance(strength, bool) else None,
                    stance if isinstance(stance, str) else "for", asks if isinstance(asks, str) else None,
                    criterion if isinstance(criterion, str) else None, node.key_lines.get("criterion", node.line))

    def evidence(self, node: Any, line: int) -> Evidence | None:
        if not isinstance(node, YMap):
            self.err(line, "`evidence` is a mapping with `doc`, `quote` and `query`")
            return None
        doc = self.text(node, "doc", "`evidence`", required=False)
        quote = self.text(node, "quote", "`evidence`", required=False)
        query = self.text(node, "query", "`evidence`", required=False)
        of = self.text(node, "of", "`evidence`", required=False)
        if of and (doc or quote):
            self.err(node.line, "`evidence` names the passage of a bound entity (`of`) or a `doc` and `quote`, "
                                "not both")
        if doc and not quote:
            self.err(node.line, "`evidence` names a `doc`; give the `quote` (a short phrase of it) too")
        if not doc and not query and not of:
            self.err(node.line, "`evidence` needs a `doc` (with `quote`), an entity's passage (`of`) or a `query`")
        return Evidence(doc, quote, query, node.line, of or None)

    def rule(self, node: Any, line: int) -> Rule | None:
        if not isinstance(node, YMap):
            self.err(line, "each rule is a mapping with `id`, `title`, `when`, `then`")
            return None
        rule_id = node.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            self.err(node.key_lines.get("id", node.line),
                     "a rule needs an `id`: lowercase letters, digits, `.`, `-`, `_` (e.g. licensing.gpl-distribution)")
            return None
        title = self.text(node, "title", f"rule `{rule_id}`") or ""
        when = node.get("when")
        names: set[str] = set()
        group = None
        if isinstance(when, YList):
            group = self.group("all", when, node.key_lines["when"], names)
        elif isinstance(when, YMap):
            cond = self.condition(when, node.key_lines["when"], names)
            group = cond if isinstance(cond, Group) else Group("all", (cond,), when.line) if cond else None
        else:
            self.err(node.key_lines.get("when", node.line), f"rule `{rule_id}` needs `when`: a list of conditions")
        then = node.get("then")
        thens: list[Then] = []
        derives: list[Derive] = []
        if not isinstance(then, YList) or not then:
            self.err(node.key_lines.get("then", node.line), f"rule `{rule_id}` needs `then`: a list of conclusions")
        else:
            for i, item in enumerate(then):
                parsed = self.then(item, then.item_lines[i])
                if isinstance(parsed, Then):
                    thens.append(parsed)
                elif isinstance(parsed, Derive):
                    derives.append(parsed)
        evidence = self.evidence(node["evidence"], node.key_lines["evidence"]) if "evidence" in node else None
        if evidence is None and thens and "evidence" not in node:
            self.err(node.line, f"rule `{rule_id}` draws conclusions but names no `evidence`")
        if group is None:
            return None
        alternatives = _expand(group)
        if len(alternatives) > MAX_ALTERNATIVES:
            self.err(node.key_lines["when"], f"`any` groups expand to {len(alternatives)} alternatives "
                     f"(at most {MAX_ALTERNATIVES}); split the rule")
            return None
        for alt in alternatives:
            if len(alt) > MAX_CONDITIONS:
                self.err(node.key_lines["when"], f"at most {MAX_CONDITIONS} conditions per alternative")
                return None
            if all(m.negated for m in alt):
                self.err(node.key_lines["when"], "every alternative of `when` needs one fact that is matched "
                         "(not only `none` conditions)")
                return None
            combinations, loose = fan_out(alt)
            if combinations > MAX_COMBINATIONS:
                self.err(node.key_lines["when"], f"rule `{rule_id}`: its conditions may match about "
                         f"{combinations:,} combinations of facts (more than {MAX_COMBINATIONS:,}): "
                         f"{', '.join(f'`{k}`' for k in loose)} conditions are matched with no join to the others; "
                         "join each to an earlier fact with `$name.field`, or narrow it by `id`")
                return None
        return Rule(rule_id, title, self.path, node.line, group, tuple(alternatives), tuple(thens), tuple(derives),
                    evidence)


def fan_out(alt: Sequence[Match]) -> tuple[int, list[str]]:
    """An upper estimate of the combinations of facts one alternative can match, and the kinds of the
    conditions that multiply it. A condition joined to an earlier fact (`$name.field` with `eq`) or picked by
    its `id` matches about one fact per combination; any other matches up to FACTS_PER_KIND (one for
    SINGLE_KINDS); a `none` multiplies nothing."""
    total, loose = 1, []
    for m in alt:
        if m.negated or m.kind in SINGLE_KINDS:
            continue
        pinned = any(t.op == "eq" and (isinstance(t.value, Ref) or t.field == "id") for t in m.tests)
        if pinned:
            continue
        total *= FACTS_PER_KIND
        loose.append(m.kind)
    return total, loose


def _expand(cond: Condition) -> list[tuple[Match, ...]]:
    """The alternatives (disjunctive normal form) of a condition tree: each a sequence of matches."""
    if isinstance(cond, Match):
        return [(cond,)]
    if cond.op == "any":
        return [alt for item in cond.items for alt in _expand(item)]
    out: list[tuple[Match, ...]] = [()]
    for item in cond.items:
        out = [prefix + alt for prefix in out for alt in _expand(item)][: MAX_ALTERNATIVES + 1]
    return out


def _parse_file(path: Path, shown: str, problems: list[Problem]) -> RuleFile | None:
    doc = read_yaml(path, shown, problems, "rule file")
    if doc is UNREADABLE:
        return None
    if doc is None:
        problems.append(Problem(shown, 1, "empty rule file: add `rules:` or remove the file"))
        return None
    reader = _Reader(shown, problems)
    if not isinstance(doc, YMap):
        reader.err(1, "a rule file is a mapping with `topic`, `derives`, `rules` and `tests`")
        return None
    if not validate(doc, RULE_FILE_SCHEMA, shown, problems):
        return None  # the shape is wrong: what the values mean is checked once it is right
    topic = doc.get("topic", "")
    derived: list[DerivedKind] = []
    decl = doc.get("derives", YMap())
    if not isinstance(decl, YMap):
        reader.err(doc.key_lines["derives"], "`derives` maps each derived fact kind to its `doc` and `fields`")
    else:
        for name, spec in decl.items():
            d = _derived_kind(reader, name, spec, decl.key_lines[name])
            if d:
                derived.append(d)
    rules: list[Rule] = []
    items = doc.get("rules", YList())
    if not isinstance(items, YList):
        reader.err(doc.key_lines["rules"], "`rules` is a list of rules")
    else:
        for i, item in enumerate(items):
            r = reader.rule(item, items.item_lines[i])
            if r:
                rules.append(r)
    tests: list[RuleTest] = []
    titems = doc.get("tests", YList())
    if not isinstance(titems, YList):
        reader.err(doc.key_lines["tests"], "`tests` is a list of examples")
    else:
        for i, item in enumerate(titems):
            t = _rule_test(reader, item, titems.item_lines[i])
            if t:
                tests.append(t)
    return RuleFile(shown, str(topic), tuple(rules), tuple(derived), tuple(tests))


def _derived_kind(reader: _Reader, name: str, spec: Any, line: int) -> DerivedKind | None:
    if not _NAME.match(name) or name in vocab.FACT_KINDS:
        reader.err(line, f"derived fact kind `{name}` must be a new lowercase name (not a kind of kb/vocab.py)")
        return None
    if not isinstance(spec, YMap):
        reader.err(line, f"derived fact kind `{name}` needs `doc` and `fields`")
        return None
    doc = reader.text(spec, "doc", f"derived fact kind `{name}`") or ""
    fields: dict[str, vocab.FieldSpec] = {}
    raw = spec.get("fields", YMap())
    if not isinstance(raw, YMap):
        reader.err(spec.key_lines.get("fields", line), "`fields` maps field names to `{type, doc}`")
        return None
    for fname, fspec in raw.items():
        fline = raw.key_lines[fname]
        if fname in RESERVED_FIELDS:
            reader.err(fline, f"`{fname}` is reserved; name the field otherwise")
            continue
        if not isinstance(fspec, YMap) or fspec.get("type") not in ("str", "int", "float", "bool", "ref"):
            reader.err(fline, f"field `{fname}` needs `type` (str, int, float, bool or ref) and `doc`")
            continue
        values = fspec.get("values", [])
        fields[fname] = vocab.FieldSpec(fspec["type"], str(fspec.get("doc", "")), tuple(str(v) for v in values))
    if len(fields) > MAX_DERIVED_FIELDS:
        reader.err(line, f"a derived fact kind has at most {MAX_DERIVED_FIELDS} fields (the engine keeps facts flat)")
    return DerivedKind(name, doc, fields, reader.path, line)


def _rule_test(reader: _Reader, node: Any, line: int) -> RuleTest | None:
    if not isinstance(node, YMap):
        reader.err(line, "each test is a mapping with `name`, `given`, `expect`")
        return None
    name = reader.text(node, "name", "a test") or f"line {line}"
    facts: list[Fact] = []
    given = node.get("given", YList())
    if not isinstance(given, YList):
        reader.err(node.key_lines.get("given", line), "`given` is a list of facts")
        given = YList()
    counters: dict[str, int] = {}
    for i, item in enumerate(given):
        fline = given.item_lines[i]
        if not isinstance(item, YMap) or not isinstance(item.get("kind"), str):
            reader.err(fline, "each given fact is a mapping with `kind` and its fields")
            continue
        kind = item["kind"]
        counters[kind] = counters.get(kind, 0) + 1
        default_id = kind if kind == "asker" else f"{kind}:{counters[kind]}"
        fid = item.get("id", default_id)
        values = {k: v for k, v in item.items() if k not in ("kind", "id")}
        bad = [k for k, v in values.items() if not isinstance(v, str | int | float | bool)]
        if bad:
            reader.err(fline, f"fact fields must be single values: {', '.join(bad)}")
            continue
        facts.append(Fact.make(str(fid), kind, values, Source(kind="profile", file=reader.path, line=fline)))
    onto = node.get("ontology", YList())
    if not isinstance(onto, list) or not all(isinstance(x, str) for x in onto):
        reader.err(node.key_lines.get("ontology", line), "`ontology` is a list of entity ids (e.g. offering:pytorch)")
        onto = []

    def expectations(key: str) -> tuple[Expectation, ...]:
        items = node.get(key, YList())
        if not isinstance(items, YList):
            reader.err(node.key_lines.get(key, line), f"`{key}` is a list of expected conclusions")
            return ()
        out = []
        for i, e in enumerate(items):
            eline = items.item_lines[i]
            if isinstance(e, str):
                out.append(Expectation(eline, rule=e))
                continue
            if not isinstance(e, YMap):
                reader.err(eline, "an expectation is a rule id or a mapping of rule/kind/option/fact/statement")
                continue
            out.append(Expectation(eline, **{k: str(v) for k, v in e.items()}))
        return tuple(out)

    expect, expect_not = expectations("expect"), expectations("expect_not")
    if not expect and not expect_not:
        reader.err(line, f"test `{name}` expects nothing: give `expect` or `expect_not`")
    return RuleTest(name, reader.path, line, tuple(facts), tuple(onto), expect, expect_not)


# --- Validation across files ------------------------------------------------------------------------------


def _field_spec(kind: str, fname: str, derived: Mapping[str, DerivedKind]) -> vocab.FieldSpec | None:
    if fname in ("id", "kind"):
        return vocab.FieldSpec("ref" if fname == "id" else "str", fname)
    if kind in vocab.FACT_KINDS:
        return vocab.FACT_KINDS[kind].fields.get(fname)
    if kind in derived:
        return derived[kind].fields.get(fname)
    return None


def _kind_fields(kind: str, derived: Mapping[str, DerivedKind]) -> Sequence[str]:
    if kind in vocab.FACT_KINDS:
        return tuple(vocab.FACT_KINDS[kind].fields)
    if kind in derived:
        return tuple(derived[kind].fields)
    return ()


def _check_value(spec: vocab.FieldSpec, value: Scalar) -> str | None:
    """What is wrong with comparing a field of this spec to this literal, or None."""
    if spec.type in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expects a number, not {value!r}"
    elif spec.type == "bool":
        if not isinstance(value, bool):
            return f"expects true or false, not {value!r}"
    elif not isinstance(value, str):
        return f"expects text, not {value!r}"
    elif spec.values and value not in spec.values:
        return f"is one of {', '.join(spec.values)}; `{value}` is not"
    return None


def _check_term(value: Scalar, terms: frozenset[str] | None) -> str | None:
    """An id of an ontology kind (`offering:x`, `license:y`, ...) that the ontology does not hold."""
    if terms is None or not isinstance(value, str):
        return None
    m = _TERM.match(value)
    if m and m.group(1) in vocab.ONTOLOGY_ID_PREFIXES and value not in terms:
        return f"unknown ontology term `{value}`"
    return None


def _validate(files: Sequence[RuleFile], terms: frozenset[str] | None, corpus: Path | None) -> list[Problem]:
    problems: list[Problem] = []
    derived: dict[str, DerivedKind] = {}
    for f in files:
        for d in f.derived:
            if d.name in derived:
                other = derived[d.name]
                problems.append(Problem(f.path, d.line, f"derived fact kind `{d.name}` is already declared at "
                                        f"{other.file}:{other.line}"))
            else:
                derived[d.name] = d
    seen: dict[str, Rule] = {}
    consumed: dict[str, tuple[str, int]] = {}
    produced: set[str] = set()
    corpus_docs: dict[str, str] = {}
    for f in files:
        for rule in f.rules:
            if rule.id in seen:
                first = seen[rule.id]
                problems.append(Problem(f.path, rule.line,
                                        f"duplicate rule id `{rule.id}` (first at {first.file}:{first.line})"))
            else:
                seen[rule.id] = rule
            problems.extend(_validate_rule(rule, derived, terms))
            for alt in rule.alternatives:
                for m in alt:
                    if m.kind in derived:
                        consumed.setdefault(m.kind, (f.path, m.line))
            for made in rule.derives:
                produced.add(made.kind)
            if rule.evidence and rule.evidence.doc and corpus is not None:
                problems.extend(_check_evidence(rule, corpus, corpus_docs))
    for name, d in derived.items():
        if name not in consumed:
            problems.append(Problem(d.file, d.line,
                                    f"derived fact kind `{name}` is never used by any rule's conditions"))
        if name not in produced:
            where = consumed.get(name, (d.file, d.line))
            problems.append(Problem(where[0], where[1], f"no rule derives fact kind `{name}`"))
    problems.extend(stratify(files, derived)[1])
    for f in files:
        for t in f.tests:
            problems.extend(_validate_test(t, seen, derived, terms))
    return problems


def _validate_rule(rule: Rule, derived: Mapping[str, DerivedKind], terms: frozenset[str] | None) -> list[Problem]:
    problems: list[Problem] = []

    def err(line: int, message: str) -> None:
        problems.append(Problem(rule.file, line, f"rule `{rule.id}`: {message}"))

    bound_everywhere: set[str] | None = None
    for alt in rule.alternatives:
        bound: dict[str, str] = {}
        for m in alt:
            if m.kind not in vocab.FACT_KINDS and m.kind not in derived:
                err(m.line, f"unknown fact kind `{m.kind}` (known: {', '.join(sorted([*vocab.FACT_KINDS, *derived]))})")
                if not m.negated:
                    bound[m.name] = m.kind
                continue
            for t in m.tests:
                spec = _field_spec(m.kind, t.field, derived)
                if spec is None:
                    err(t.line, f"unknown field `{t.field}` of `{m.kind}` "
                        f"(fields: {', '.join(['id', *_kind_fields(m.kind, derived)])})")
                    continue
                if isinstance(t.value, Ref):
                    if t.value.name not in bound:
                        err(t.line, f"`{t.value}` refers to `{t.value.name}`, which no earlier condition binds")
                    elif _field_spec(bound[t.value.name], t.value.field, derived) is None:
                        err(t.line, f"`{t.value}`: `{bound[t.value.name]}` has no field `{t.value.field}`")
                    continue
                values = t.value if isinstance(t.value, tuple) else (t.value,) if t.value is not None else ()
                for v in values:
                    if t.op in ("lt", "le", "gt", "ge") and spec.type not in ("int", "float"):
                        err(t.line, f"`{t.op}` compares numbers, but `{m.kind}.{t.field}` is {spec.type}")
                        break
                    msg = _check_value(spec, v)
                    if msg:
                        err(t.line, f"`{m.kind}.{t.field}` {msg}")
                    msg = _check_term(v, terms) if spec.type == "ref" else None
                    if msg:
                        err(t.line, msg)
            if not m.negated:
                if m.name in bound:
                    err(m.line, f"name `{m.name}` is bound twice; give one of the conditions `as: <name>`")
                bound[m.name] = m.kind
        bound_everywhere = set(bound) if bound_everywhere is None else bound_everywhere & set(bound)
        for th in rule.then:
            for name, fname in _TEMPLATE.findall(th.statement):
                if name in bound and _field_spec(bound[name], fname, derived) is None:
                    err(th.line, f"statement quotes `{{{name}.{fname}}}`, but `{bound[name]}` has no field `{fname}`")
        for d in rule.derives:
            for _, value in d.fields:
                if isinstance(value, Ref) and value.name in bound and _field_spec(bound[value.name], value.field,
                                                                                  derived) is None:
                    err(d.line, f"`{value}`: `{bound[value.name]}` has no field `{value.field}`")
    everywhere = bound_everywhere or set()
    ev = rule.evidence
    if ev is not None and ev.of is not None:
        kinds = {m.kind for alt in rule.alternatives for m in alt if not m.negated and m.name == ev.of}
        if ev.of not in everywhere:
            err(ev.line, f"`evidence.of` names `{ev.of}`, which is not bound in every alternative of `when`")
        elif any(_field_spec(k, "quote", derived) is None for k in kinds):
            err(ev.line, f"`evidence.of`: `{ev.of}` is a `{next(iter(kinds))}` fact, which names no passage "
                         "(only facts with a `quote` field do: concepts and criteria)")
    for th in rule.then:
        for name, _ in _TEMPLATE.findall(th.statement):
            if name not in everywhere:
                err(th.line, f"statement quotes `{name}`, which is not bound in every alternative of `when`")
        if th.criterion and (msg := _check_term(th.criterion, terms)):
            err(th.criterion_line, f"`criterion`: {msg}")
    for d in rule.derives:
        if d.kind not in derived:
            err(d.line, f"derives `{d.kind}`, which no file declares under `derives:`")
            continue
        declared = derived[d.kind]
        missing = set(declared.fields) - {f for f, _ in d.fields}
        if missing:
            err(d.line, f"derived `{d.kind}` lacks field(s) {', '.join(sorted(missing))}")
        for fname, value in d.fields:
            fspec = declared.fields.get(fname)
            if fspec is None:
                err(d.line, f"derived `{d.kind}` has no field `{fname}` (fields: {', '.join(declared.fields)})")
            elif isinstance(value, Ref):
                if value.name not in everywhere:
                    err(d.line, f"`{value}` refers to `{value.name}`, which is not bound in every alternative")
            elif isinstance(value, str) and _TEMPLATE.search(value):
                for name, _ in _TEMPLATE.findall(value):
                    if name not in everywhere:
                        err(d.line, f"`{fname}` quotes `{name}`, which is not bound in every alternative")
            else:
                msg = _check_value(fspec, value)
                if msg:
                    err(d.line, f"`{d.kind}.{fname}` {msg}")
    return problems


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _check_evidence(rule: Rule, corpus: Path, cache: dict[str, str]) -> list[Problem]:
    ev = rule.evidence
    assert ev is not None and ev.doc is not None
    if ev.doc not in cache:
        path = corpus / ev.doc
        if not inside(path, corpus):
            return [Problem(rule.file, ev.line, f"rule `{rule.id}`: evidence names `{ev.doc}`, which is outside "
                            "the corpus folder: name a file of corpus/")]
        try:
            cache[ev.doc] = _normalise(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            cache[ev.doc] = ""
    text = cache[ev.doc]
    if not text:
        return [Problem(rule.file, ev.line, f"rule `{rule.id}`: evidence names `{ev.doc}`, which is not in the corpus")]
    if ev.quote and _normalise(ev.quote) not in text:
        return [Problem(rule.file, ev.line, f"rule `{rule.id}`: the quote is not found in {ev.doc}: {ev.quote!r}")]
    return []


def _validate_test(t: RuleTest, rules: Mapping[str, Rule], derived: Mapping[str, DerivedKind],
                   terms: frozenset[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    if terms is not None:
        terms = terms | {f.id for f in t.facts}  # an example may describe entities of its own
    for f in t.facts:
        line = f.source.line or t.line
        if f.kind not in vocab.FACT_KINDS and f.kind not in derived:
            problems.append(Problem(t.file, line, f"test `{t.name}`: unknown fact kind `{f.kind}`"))
            continue
        for fname, value in f.fields:
            spec = _field_spec(f.kind, fname, derived)
            if spec is None:
                problems.append(Problem(t.file, line, f"test `{t.name}`: unknown field `{fname}` of `{f.kind}`"))
                continue
            msg = _check_value(spec, value) or (_check_term(value, terms) if spec.type == "ref" else None)
            if msg:
                problems.append(Problem(t.file, line, f"test `{t.name}`: `{f.kind}.{fname}` {msg}"))
    for term in t.ontology:
        msg = _check_term(term, terms)
        if msg:
            problems.append(Problem(t.file, t.line, f"test `{t.name}`: {msg}"))
    for e in (*t.expect, *t.expect_not):
        if e.rule and e.rule not in rules:
            problems.append(Problem(t.file, e.line, f"test `{t.name}`: no rule `{e.rule}`"))
        if e.kind and e.kind not in vocab.CONCLUSION_KINDS:
            problems.append(Problem(t.file, e.line, f"test `{t.name}`: unknown conclusion kind `{e.kind}`"))
        if e.option and e.option not in vocab.OPTIONS:
            problems.append(Problem(t.file, e.line, f"test `{t.name}`: unknown option `{e.option}`"))
        if e.fact and e.fact not in derived:
            problems.append(Problem(t.file, e.line, f"test `{t.name}`: `{e.fact}` is not a derived fact kind"))
    return problems


def stratify(files: Sequence[RuleFile], derived: Mapping[str, DerivedKind]) -> tuple[dict[str, int], list[Problem]]:
    """Each rule's stratum: rules that test for the absence of a derived kind run after every rule deriving it.

    A cycle through `none` (a kind whose derivation depends on its own absence) has no stratum: a problem.
    """
    rules = [r for f in files for r in f.rules]
    derivers: dict[str, list[Rule]] = {}
    for r in rules:
        for d in r.derives:
            derivers.setdefault(d.kind, []).append(r)
    stratum = {r.id: 0 for r in rules}
    limit = len(rules) + 1
    for _ in range(limit):
        changed = False
        for r in rules:
            need = 0
            for kind in r.consumes & set(derivers):
                need = max(need, *(stratum[d.id] for d in derivers[kind]))
            for kind in r.negates & set(derivers):
                need = max(need, *(stratum[d.id] + 1 for d in derivers[kind]))
            if need > stratum[r.id]:
                stratum[r.id] = need
                changed = True
        if not changed:
            return stratum, []
        if max(stratum.values(), default=0) > limit:
            break
    worst = max(rules, key=lambda r: stratum[r.id])
    return stratum, [Problem(worst.file, worst.line, f"rule `{worst.id}`: its conditions depend on the absence of "
                             "a fact it (or a rule it feeds) derives; break the cycle through `none`")]


# --- Loading --------------------------------------------------------------------------------------------


def rule_files(folder: Path) -> list[Path]:
    """The rule files of a folder: every `*.yaml` / `*.yml`, found by glob, sorted (a folder so named is
    listed too, and reported as not a file rather than skipped in silence)."""
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def parse_rules(paths: Iterable[str | Path], terms: frozenset[str] | None = None, corpus: Path | None = None,
                root: Path | None = None) -> tuple[Rulebook, list[Problem]]:
    """Parse and validate rule files; returns what parsed and every problem (nothing raised for bad input).

    `terms` is the set of ontology ids (None skips the unknown-term check); `corpus` the folder the evidence
    documents live in (None skips the evidence check).
    """
    problems: list[Problem] = []
    files = []
    for p in paths:
        path = Path(p)
        parsed = _parse_file(path, display_path(path, root), problems)
        if parsed:
            files.append(parsed)
    problems.extend(_validate(files, terms, corpus))
    return Rulebook(tuple(files)), sorted(set(problems))


def load_rules(paths: Iterable[str | Path], terms: frozenset[str] | None = None, corpus: Path | None = None,
               root: Path | None = None) -> Rulebook:
    """A validated rulebook, or KnowledgeError listing every problem (all or nothing)."""
    book, problems = parse_rules(paths, terms, corpus, root)
    if problems:
        raise KnowledgeError(problems)
    return book


def load_ontology_or_none(paths: Paths) -> Any:
    """The knowledge base's ontology, or None when it is missing or does not load (its own checker
    reports why)."""
    try:
        from kb.graph.ontology import load_ontology  # the ontology is optional for rules alone
    except ImportError:
        return None
    try:
        return load_ontology(paths)
    except Exception:  # noqa: BLE001 - the ontology checker reports its own problems
        return None


def ontology_terms(paths: Paths, ontology: Any = None) -> tuple[frozenset[str] | None, list[Problem]]:
    """The ids the ontology holds, for the unknown-term check; None when the ontology cannot be loaded."""
    onto = ontology if ontology is not None else load_ontology_or_none(paths)
    if onto is None:
        return None, []
    return frozenset(onto.ids()), []


def check_rules(paths: Paths) -> list[Problem]:
    """`kb check` for rules: every problem of `rules/*.yaml` as Problem(path, line, message)."""
    files = rule_files(paths.rules)
    if not files:
        return [Problem(display_path(paths.rules, paths.root), 0, "no rule files (*.yaml)")]
    terms, problems = ontology_terms(paths)
    _, found = parse_rules(files, terms, paths.corpus, paths.root)
    return problems + found


# --- Rendering (shared by the engine and the explain-only evaluator) --------------------------------------


def render(template: str, bindings: Mapping[str, Fact]) -> str:
    """A statement with `{name.field}` replaced by the bound fact's field (`unknown` when absent)."""

    def one(m: re.Match[str]) -> str:
        fact = bindings.get(m.group(1))
        if fact is None:
            return m.group(0)
        value = fact.id if m.group(2) == "id" else fact.kind if m.group(2) == "kind" else fact.get(m.group(2))
        if value is None:
            return "unknown"
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    return _TEMPLATE.sub(one, template)


def field_value(fact: Fact, name: str) -> Scalar | None:
    if name == "id":
        return fact.id
    if name == "kind":
        return fact.kind
    return fact.get(name)


def derived_fact(rule: Rule, d: Derive, bindings: Mapping[str, Fact]) -> Fact:
    """The fact a `derive` produces for these bindings; its id depends only on kind and field values."""
    values: dict[str, Scalar] = {}
    for fname, value in d.fields:
        if isinstance(value, Ref):
            v = field_value(bindings[value.name], value.field)
            if v is not None:
                values[fname] = v
        elif isinstance(value, str):
            values[fname] = render(value, bindings)
        else:
            values[fname] = value
    digest = hashlib.sha1(json.dumps([d.kind, sorted(values.items())], default=str).encode()).hexdigest()[:12]
    from_facts = tuple(sorted({f.id for f in bindings.values()}))
    return Fact.make(f"{d.kind}:{digest}", d.kind, values,
                     Source(kind="derived", rule=rule.id, file=rule.file, line=d.line, from_facts=from_facts))


# --- Explain-only evaluation (the engine of record is kb.engine.rulebase) ---------------------------------------


def _test_holds(t: FieldTest, fact: Fact, bindings: Mapping[str, Fact]) -> bool:
    value = field_value(fact, t.field)
    if t.op == "exists":
        return value is not None
    if t.op == "absent":
        return value is None
    if value is None:
        return False
    other: Any = t.value
    if isinstance(other, Ref):
        bound = bindings.get(other.name)
        other = field_value(bound, other.field) if bound else None
        if other is None:
            return False
    try:
        if t.op == "eq":
            return bool(value == other)
        if t.op == "ne":
            return bool(value != other)
        if t.op == "in":
            return value in other
        if t.op == "not_in":
            return value not in other
        if isinstance(value, bool) or not isinstance(value, int | float) or not isinstance(other, int | float):
            return False
        return bool({"lt": value < other, "le": value <= other, "gt": value > other, "ge": value >= other}[t.op])
    except TypeError:
        return False


def _fits(m: Match, fact: Fact, bindings: Mapping[str, Fact]) -> FieldTest | None:
    """The first test of `m` that `fact` fails, or None when it fits."""
    for t in m.tests:
        if not _test_holds(t, fact, bindings):
            return t
    return None


def matches(alt: Sequence[Match], facts: Sequence[Fact]) -> Iterator[dict[str, Fact]]:
    """Every binding of `alt`'s names to facts that satisfies it (the Python reading of a rule)."""
    by_kind: dict[str, list[Fact]] = {}
    for f in facts:
        by_kind.setdefault(f.kind, []).append(f)

    def walk(i: int, bindings: dict[str, Fact]) -> Iterator[dict[str, Fact]]:
        if i == len(alt):
            yield dict(bindings)
            return
        m = alt[i]
        candidates = [f for f in by_kind.get(m.kind, ()) if _fits(m, f, bindings) is None]
        if m.negated:
            if not candidates:
                yield from walk(i + 1, bindings)
            return
        for f in candidates:
            bindings[m.name] = f
            yield from walk(i + 1, bindings)
            del bindings[m.name]

    yield from walk(0, {})


@dataclass(frozen=True)
class Failure:
    """Why one alternative of a rule did not fire: the condition that could not be met, and why."""

    line: int
    condition: str
    reason: str

    def __str__(self) -> str:
        return f"{self.condition}: {self.reason} (line {self.line})"


def _miss(fact: Fact, test: FieldTest) -> str:
    value = field_value(fact, test.field)
    has = "is not known" if value is None else f"is {value}"
    return f"{fact.id} fails {test} ({fact.kind}.{test.field} {has})"


def explain(rule: Rule, facts: Sequence[Fact]) -> tuple[Failure, ...]:
    """For a rule that did not fire on `facts`: per alternative, the first condition no fact could meet.

    Empty when the rule's conditions do hold.
    """
    by_kind: dict[str, list[Fact]] = {}
    for f in facts:
        by_kind.setdefault(f.kind, []).append(f)
    failures: list[Failure] = []
    for alt in rule.alternatives:
        best: tuple[int, Failure] | None = None

        def walk(i: int, bindings: dict[str, Fact], alt: tuple[Match, ...] = alt) -> bool:
            nonlocal best
            if i == len(alt):
                return True
            m = alt[i]
            fits: list[tuple[Fact, FieldTest | None]] = []
            misses: list[tuple[Fact, FieldTest | None]] = []
            for f in by_kind.get(m.kind, ()):
                failed = _fits(m, f, bindings)
                (misses if failed else fits).append((f, failed))
            if m.negated:
                if not fits:
                    return walk(i + 1, bindings)
                reason = "present: " + ", ".join(f.id for f, _ in fits)
                if best is None or i >= best[0]:
                    best = (i, Failure(m.line, m.describe(), reason))
                return False
            for f, _ in fits:
                bindings[m.name] = f
                if walk(i + 1, bindings):
                    return True
                del bindings[m.name]
            if not fits and (best is None or i >= best[0]):
                if not misses:
                    reason = f"no {m.kind} fact is known"
                else:
                    reason = "; ".join(_miss(f, t) for f, t in misses[:3] if t is not None)
                best = (i, Failure(m.line, m.describe(), reason))
            return False

        if walk(0, {}):
            return ()
        if best is not None:
            failures.append(best[1])
    return tuple(failures)
