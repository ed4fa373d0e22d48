"""durable_rules (2.0.28) as OSCAR's engine of record: compiling a rulebook into partitioned rulesets, and
running consultations on them. The only module that imports durable_rules.

How it uses the engine, and why:

- One `Host` per loaded rule base (it registers the rulesets), its dispatch timers left unstarted: those
  timers would run pending actions on their own thread, racing the consultation that asserted the facts.
  Each consultation takes its own actions from the engine right after it asserts (start, record,
  complete), under the partition's lock.
- Ruleset names are fresh per compile (`oscar<generation>_<partition>`): the engine registers a name once
  per process, so a reload compiles under new names and the new rule base replaces the old one whole.
- The rules come as partitions (see `compile_rulebook` below), each its own ruleset, indexed by the
  fact keys that can trigger them; a consultation opens sessions only in the partitions its facts trigger,
  so its cost follows the rules that can match rather than the size of the rule base.
- Each consultation has its own session id; every session it opens is deleted when it ends, also on error.
  At most `MAX_CONCURRENT` consultations run at once, so a ruleset never nears the engine's 1,024 live
  sessions. Calls into one ruleset are serialised by a lock of its own.
- Consequents only record the activation (rule and matched fact ids) in the consultation's own record; an
  error inside one is caught and raised after the step naming the rule (durable's own action wrapper
  would swallow it). Derived facts and conclusions are built from that record, never read back from the
  engine (`get_facts` can miss facts asserted in consequents).
- Every session runs at least one action (the `ready` rule) before it is deleted: durable_rules 2.0.28
  leaves a new session's action context uninitialised and `delete_state` frees it.
- Chaining: facts a rule derives are asserted into the partitions they trigger, round after round, until
  nothing new is derived. A rule that keeps deriving is stopped by a bound and named in the error.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import durable_rules_engine
from durable.engine import Host

from kb.engine import (
    MAX_ACTIVATIONS,
    MAX_DERIVED_PER_RULE,
    ClosedError,
    ConsequentError,
    Deriving,
    InferenceError,
    Run,
    RunStats,
    rule_ref,
)
from kb.model.facts import Fact, Scalar
from kb.model.problems import KnowledgeError
from kb.rulebook.rules import FieldTest, Match, Ref, Rule, Rulebook, stratify

log = logging.getLogger("kb.engine.durable")

MAX_CONCURRENT = 256
"""Consultations running at once; each holds at most one session per ruleset, far below 1,024."""

_GENERATION = itertools.count(1)
_SIDS = itertools.count(1)

_OPERATORS = {"ne": "$neq", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
"""The rule language's comparisons as durable_rules operators (eq, in, not_in, exists, absent are built
from `$and`/`$or`/`$neq`/`$ex`/`$nex` below)."""


# --- Compiling a rulebook into partitions -----------------------------------------------------------------------------

GATE_KIND = "$go"
"""The kind of the one fact asserted last into each engine session: every compiled rule with a `none`
joins it first, so none fires before all of the session's facts are in (negations are then judged on
complete facts)."""

READY_RULE = "ready"
"""An engine rule in every partition that fires on the gate alone. durable_rules 2.0.28 leaves a
session's action context uninitialised until its first action runs, and deleting a session that never ran
one frees garbage (a crash that depends on heap layout); this rule makes every session run one."""

PARTITION_RULES = 32
"""At most this many engine rules per partition (each alternative of an analyst rule is one engine rule)."""

PARTITION_COST = 120
"""At most this many alpha tests and joins per partition: far below the engine's per-node limits (512
alpha children, 256 beta children, 128 absence tests), so a partition never comes near them."""

TriggerKey = tuple[Any, ...]


@dataclass(frozen=True)
class EngineRule:
    """One alternative of an analyst rule, as the engine runs it."""

    name: str
    rule: Rule
    alternative: int
    aliases: tuple[tuple[str, str], ...]
    """(engine alias, analyst name) for each matched fact."""


@dataclass(frozen=True)
class Partition:
    """A group of engine rules compiled into one durable_rules ruleset definition.

    `kinds`: the fact kinds its rules read (only those facts are asserted into its sessions);
    `triggers`: it can only fire when some fact has one of these keys (`(kind,)` or `(kind, field, value)`);
    `stratum`: its place in the order of runs (after every rule deriving a kind it tests for absence).
    """

    index: int
    stratum: int
    kinds: frozenset[str]
    triggers: frozenset[TriggerKey]
    rules: tuple[EngineRule, ...]
    definition: dict[str, Any] = field(compare=False)


ENGINE_ID = "key"
"""The field that carries a fact's id in the engine: durable_rules 2.0.28 uses `id` for a message's
identity and drops joins on it when the fact has further fields, so tests and joins on `id` use a copy."""


def _engine_field(name: str) -> str:
    return ENGINE_ID if name == "id" else name


def _operand(value: Scalar | Ref, alias_of: Mapping[str, str]) -> Any:
    if isinstance(value, Ref):
        return {alias_of[value.name]: _engine_field(value.field)}
    return value


def _compile_match(m: Match, alias_of: Mapping[str, str]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"kind": m.kind}]
    for test in m.tests:
        t = FieldTest(_engine_field(test.field), test.op, test.value, test.line)
        if t.op == "exists":
            parts.append({"$ex": {t.field: 1}})
        elif t.op == "absent":
            parts.append({"$nex": {t.field: 1}})
        elif t.op == "in":
            assert isinstance(t.value, tuple)
            options = [{t.field: v} for v in t.value]
            parts.append(options[0] if len(options) == 1 else {"$or": options})
        elif t.op == "not_in":
            assert isinstance(t.value, tuple)
            parts.extend({"$neq": {t.field: v}} for v in t.value)
        else:
            operand = _operand(t.value, alias_of)  # type: ignore[arg-type]
            if t.op == "eq":
                parts.append({t.field: operand})
            else:
                parts.append({_OPERATORS[t.op]: {t.field: operand}})
    return {"$and": parts}


def _cost(alt: Sequence[Match]) -> int:
    return 1 + sum(1 + sum(len(t.value) if isinstance(t.value, tuple) else 1 for t in m.tests) for m in alt)


RANGE = "<range>"
"""Marks a trigger on a numeric comparison: (RANGE, kind, field, op, threshold)."""
RANGE_OPS = ("lt", "le", "gt", "ge")


def range_holds(op: str, value: float, bound: float) -> bool:
    """Whether `value op bound` holds (the engine's lt/le/gt/ge)."""
    return {"lt": value < bound, "le": value <= bound, "gt": value > bound, "ge": value >= bound}[op]


def _group_key(trigger: TriggerKey) -> TriggerKey:
    # Range triggers group by (kind, field, op) and are sorted by threshold, so each partition covers a
    # narrow band of thresholds and a fact's value triggers only the bands it can satisfy.
    return trigger[:4] if trigger[0] == RANGE else trigger


def _trigger(alt: Sequence[Match]) -> TriggerKey:
    """The most selective key some fact must have for this alternative to fire."""
    best: tuple[int, TriggerKey] | None = None
    for m in alt:
        if m.negated:
            continue
        candidates: list[tuple[int, TriggerKey]] = [(0, (m.kind,))]
        for t in m.tests:
            value = t.value[0] if t.op == "in" and isinstance(t.value, tuple) and len(t.value) == 1 else t.value
            if t.op in ("eq", "in") and isinstance(value, str | int | float | bool) and not isinstance(value, tuple):
                rank = 4 if t.field == "id" else 1 if isinstance(value, bool) else 3
                candidates.append((rank, (m.kind, t.field, value)))
            elif t.op in RANGE_OPS and isinstance(value, int | float) and not isinstance(value, bool):
                candidates.append((2, (RANGE, m.kind, t.field, t.op, value)))
        top = max(candidates, key=lambda c: c[0])
        if best is None or top[0] > best[0]:
            best = top
    assert best is not None
    return best[1]


def compile_rulebook(book: Rulebook, max_rules: int = PARTITION_RULES, max_cost: int = PARTITION_COST,
                     single: bool = False) -> tuple[Partition, ...]:
    """Engine partitions for a rulebook.

    Each alternative of each rule becomes an engine rule whose first condition is the session gate.
    Engine rules are grouped by (stratum, trigger key) and each group is cut into partitions of at most
    `max_rules` rules and `max_cost` tests, so no engine node nears its fixed limits and a consultation
    runs only the partitions some fact of it can trigger. `single=True` puts every rule in one partition
    (the unpartitioned baseline of `kb bench rules`; it fails or hangs in the engine beyond a few hundred).
    """
    stratum, problems = stratify(book.files, book.derived_kinds)
    if problems:
        raise KnowledgeError(problems)
    groups: dict[tuple[int, TriggerKey], list[tuple[EngineRule, dict[str, Any], int]]] = {}
    n = 0
    for rule in book.rules:
        for a, alt in enumerate(rule.alternatives):
            alias_of: dict[str, str] = {}
            # Only rules with a `none` need the gate: positive joins match whatever order facts arrive in.
            gated = any(m.negated for m in alt)
            conds: list[dict[str, Any]] = [{"g": {"kind": GATE_KIND}}] if gated else []
            aliases = []
            for i, m in enumerate(alt):
                expr = _compile_match(m, alias_of)
                if m.negated:
                    conds.append({f"n{i}$not": expr})
                else:
                    alias = f"b{i}"
                    conds.append({alias: expr})
                    alias_of[m.name] = alias
                    aliases.append((alias, m.name))
            name = f"r{n}"
            n += 1
            engine_rule = EngineRule(name, rule, a, tuple(aliases))
            key = (0, ("*",)) if single else (stratum[rule.id], _group_key(_trigger(alt)))
            # dist 0: one fact may satisfy several conditions of a rule (the engine's default forbids it)
            groups.setdefault(key, []).append((engine_rule, {"all": conds, "dist": 0}, _cost(alt)))
    for key, items in groups.items():
        if key[1][0] == RANGE:
            items.sort(key=lambda item: _trigger(item[0].rule.alternatives[item[0].alternative])[4])
    partitions: list[Partition] = []

    def flush(key: tuple[int, TriggerKey], chunk: list[tuple[EngineRule, dict[str, Any], int]]) -> None:
        rules = tuple(r for r, _, _ in chunk)
        kinds = frozenset(m.kind for r in rules for m in r.rule.alternatives[r.alternative])
        triggers = frozenset({_trigger(r.rule.alternatives[r.alternative]) for r in rules})
        definition = {r.name: d for r, d, _ in chunk}
        definition[READY_RULE] = {"all": [{"g": {"kind": GATE_KIND}}]}
        partitions.append(Partition(len(partitions), key[0], kinds, triggers, rules, definition))

    for key in sorted(groups, key=lambda k: (k[0], repr(k[1]))):
        chunk: list[tuple[EngineRule, dict[str, Any], int]] = []
        cost = 0
        for item in groups[key]:
            if chunk and not single and (len(chunk) >= max_rules or cost + item[2] > max_cost):
                flush(key, chunk)
                chunk, cost = [], 0
            chunk.append(item)
            cost += item[2]
        if chunk:
            flush(key, chunk)
    return tuple(partitions)


def fact_keys(fact: Fact) -> Iterator[TriggerKey]:
    """The trigger keys a fact has: its kind, and (kind, field, value) for each field and its id."""
    yield (fact.kind,)
    yield (fact.kind, "id", fact.id)
    for name, value in fact.fields:
        yield (fact.kind, name, value)


def max_fanout(definition: Mapping[str, Any]) -> int:
    """The most children any node of the engine's alpha network would get for this ruleset definition
    (a trie of each condition's tests in order, as the engine shares equal prefixes)."""
    children: dict[str, set[str]] = {}
    for rule in definition.values():
        for cond in rule["all"]:
            ((_, expr),) = cond.items()
            parts = expr["$and"] if isinstance(expr, dict) and "$and" in expr else [expr]
            path = "root"
            for part in parts:
                step = json.dumps(part, sort_keys=True)
                children.setdefault(path, set()).add(step)
                path = path + "|" + step
            children.setdefault(path, set()).add("beta:" + json.dumps(cond, sort_keys=True))
    return max((len(c) for c in children.values()), default=0)


# --- Running consultations ---------------------------------------------------------------------------------


def _encode(fact: Fact, sid: str) -> str:
    """A fact as the engine sees it: flat JSON with its id copied to the join field and the session id.

    A float is written out in positional notation (`0.00001`, not `1e-05`): durable_rules' JSON reader
    does not know exponents, and one took the whole process down."""
    return f'{_encoded_fields(fact)},"sid":{json.dumps(sid)}}}'


@functools.lru_cache(maxsize=65_536)
def _encoded_fields(fact: Fact) -> str:
    """A fact's JSON up to its session id, kept: facts are values, and what-if trials send the same ones
    many times over (this was a third of a trial's cost)."""
    fields = {**fact.as_dict(), ENGINE_ID: fact.id}
    return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_json_value(v)}" for k, v in fields.items())


def _json_value(value: object) -> str:
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return json.dumps(value, ensure_ascii=False)


class _Host(Host):
    """A durable_rules host whose dispatch timers never start (consultations run their own actions)."""

    def _run(self) -> None:
        return None


@dataclass
class _Record:
    """One consultation's own record of what fired (written by the consequents)."""

    activations: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    errors: list[tuple[str, BaseException]] = field(default_factory=list)


class DurableEngine:
    """Compiled partitions registered as durable_rules rulesets, run per consultation."""

    def __init__(self, partitions: Sequence[Partition], max_activations: int = MAX_ACTIVATIONS,
                 max_derived_per_rule: int = MAX_DERIVED_PER_RULE):
        self.partitions = tuple(partitions)
        self.max_activations = max_activations
        self.max_derived_per_rule = max_derived_per_rule
        self.prefix = f"oscar{next(_GENERATION)}"
        self._host = _Host()
        self._locks = [threading.Lock() for _ in self.partitions]
        self._slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self._open: dict[str, set[int]] = {}
        self._closed = False
        self._rule_of = {(p.index, r.name): r for p in self.partitions for r in p.rules}
        self._names = {key: dict(r.aliases) for key, r in self._rule_of.items()}
        definitions: dict[str, dict[str, Any]] = {}
        for p in self.partitions:
            definitions[self._name(p.index)] = {
                name: {**definition, "run": self._unused_action}
                for name, definition in p.definition.items()
            }
        try:
            self._host.register_rulesets(definitions)
        except Exception as exc:
            for created in self._host._ruleset_list:  # free what was registered before the failure
                durable_rules_engine.delete_ruleset(created._handle)
            raise InferenceError(f"the engine refused the compiled rules: {exc}") from exc
        self._rulesets = [self._host.get_ruleset(self._name(p.index)) for p in self.partitions]
        self._index: dict[tuple[Any, ...], list[int]] = {}
        bounds: dict[tuple[str, str, str, int], float] = {}
        for p in self.partitions:
            for key in p.triggers:
                if key[0] == RANGE:
                    _, kind, fname, op, threshold = key
                    at = (kind, fname, op, p.index)
                    loosest = max if op in ("lt", "le") else min
                    bounds[at] = loosest(bounds.get(at, threshold), threshold)
                else:
                    self._index.setdefault(key, []).append(p.index)
        # (kind, field) -> [(op, loosest threshold, partition)]: a partition runs when a fact's value
        # satisfies the loosest comparison among its rules.
        self._ranges: dict[tuple[str, str], list[tuple[str, float, int]]] = {}
        for (kind, fname, op, index), bound in sorted(bounds.items()):
            self._ranges.setdefault((kind, fname), []).append((op, bound, index))
        self.strata = max((p.stratum for p in self.partitions), default=0) + 1

    def _name(self, index: int) -> str:
        return f"{self.prefix}_{index}"

    @staticmethod
    def _unused_action(c: Any) -> None:
        """The host requires an action per rule; consultations run their actions themselves (`_step`)."""

    def _fire(self, index: int, name: str, frame: Mapping[str, Any], record: _Record) -> None:
        """The consequent of every engine rule: record which facts fired it, in the consultation's record."""
        if name == READY_RULE:
            return
        try:
            bound = {alias: fact["id"] for alias, fact in frame.items() if alias != "g"}
            record.activations.append((index, name, bound))
        except Exception as exc:  # noqa: BLE001 - surfaced after the step, naming the rule
            record.errors.append((name, exc))

    def live_sessions(self) -> int:
        """Engine sessions open right now (across all consultations)."""
        return sum(len(s) for s in list(self._open.values()))

    def run(self, facts: Sequence[Fact]) -> Run:
        """Run `facts` to a fixpoint: every activation, and the facts derived on the way."""
        with self._slots:
            if self._closed:
                raise ClosedError("this rule base was closed (replaced by a reload)")
            sid = f"{self.prefix}.{next(_SIDS)}"
            record = _Record()
            self._open[sid] = set()
            try:
                return self._run(sid, record, facts)
            finally:
                self._close_sessions(sid)
                del self._open[sid]

    def _close_sessions(self, sid: str) -> None:
        for index in sorted(self._open[sid]):
            with self._locks[index]:
                try:
                    self._rulesets[index].delete_state(sid)
                except Exception:  # noqa: BLE001 - deleting the rest matters more; logged
                    log.exception("could not delete session %s of %s", sid, self._name(index))
        self._open[sid].clear()

    def _step(self, index: int, sid: str, batch: list[str], record: _Record) -> None:
        """Assert a batch into this consultation's session of a partition, then run every action it enabled.

        Actions are taken from the engine one at a time (start, record, complete) under the partition's
        lock, rather than through durable's Python action wrapper, which swallows errors.
        """
        handle = self._rulesets[index]._handle
        payload = "[" + ",".join(batch) + "]"
        with self._locks[index]:
            self._open[sid].add(index)
            try:
                _code, state = durable_rules_engine.assert_facts(handle, payload)
                started = durable_rules_engine.start_action_for_state(handle, state)
                messages = started[1] if started else None
                while messages:
                    for name, frame in json.loads(messages).items():
                        self._fire(index, name, frame, record)
                    messages = durable_rules_engine.complete_and_start_action(handle, state)
            except Exception as exc:
                raise InferenceError(f"the engine failed in {self._name(index)}: {exc}") from exc
        if record.errors:
            name, cause = record.errors[0]
            ref = rule_ref(self._rule_of[(index, name)].rule)
            raise ConsequentError(f"rule {ref} failed while firing: {cause!r}", ref) from cause

    def _run(self, sid: str, record: _Record, facts: Sequence[Fact]) -> Run:
        deriving = Deriving(facts, self.max_activations, self.max_derived_per_rule)
        known = deriving.known
        # each fact is encoded once per consultation (with its session id), then sent to every partition
        engine_facts = {f.id: _encode(f, sid) for f in known.values()}
        ids_by_kind: dict[str, list[str]] = {}
        for f in known.values():
            ids_by_kind.setdefault(f.kind, []).append(f.id)
        seen: set[tuple[int, str, tuple[tuple[str, str], ...]]] = set()
        partitions_run: set[int] = set()
        rounds = 0
        gate = json.dumps({"kind": GATE_KIND, "id": GATE_KIND, "sid": sid})
        for stratum in range(self.strata):
            opened: set[int] = set()
            # opened partitions by the kinds they read: a new fact reaches the sessions that can use it without
            # a scan of every open partition each round (that scan made long derivation chains quadratic)
            opened_by_kind: dict[str, set[int]] = {}
            new = list(known.values())
            while new:
                rounds += 1
                deriving.check_time()
                targets: set[int] = set()
                for f in new:
                    for index in self._triggered(f):
                        if self.partitions[index].stratum == stratum:
                            targets.add(index)
                    targets.update(opened_by_kind.get(f.kind, ()))
                start = len(record.activations)
                for index in sorted(targets):
                    kinds = self.partitions[index].kinds
                    if index in opened:
                        batch = [engine_facts[f.id] for f in new if f.kind in kinds]
                    else:
                        batch = [engine_facts[fid] for kind in sorted(kinds) for fid in ids_by_kind.get(kind, ())]
                        batch.append(gate)
                        opened.add(index)
                        for kind in kinds:
                            opened_by_kind.setdefault(kind, set()).add(index)
                        partitions_run.add(index)
                    if batch:
                        self._step(index, sid, batch, record)
                new = []
                for index, name, bound in record.activations[start:]:
                    engine_rule = self._rule_of[(index, name)]
                    names = self._names[(index, name)]
                    bindings = tuple(sorted((names[a], fid) for a, fid in bound.items()))
                    key = (index, name, bindings)
                    if key in seen:
                        continue
                    seen.add(key)
                    for fact in deriving.fire(engine_rule.rule, engine_rule.alternative, bindings):
                        engine_facts[fact.id] = _encode(fact, sid)
                        ids_by_kind.setdefault(fact.kind, []).append(fact.id)
                        new.append(fact)
        stats = RunStats(len(partitions_run), sum(len(self.partitions[i].rules) for i in partitions_run), rounds,
                         len(deriving.activations))
        log.debug("consultation %s: %s", sid, stats)
        return deriving.result(stats)

    def _triggered(self, fact: Fact) -> list[int]:
        """The partitions this fact can trigger: by its kind, its field values, and numeric ranges."""
        out: list[int] = []
        for key in fact_keys(fact):
            out.extend(self._index.get(key, ()))
        for fname, value in fact.fields:
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            for op, bound, index in self._ranges.get((fact.kind, fname), ()):
                if range_holds(op, value, bound):
                    out.append(index)
        return out

    def close(self) -> None:
        """Free the engine's rulesets. Waits for running consultations; later ones are refused."""
        self._closed = True
        for _ in range(MAX_CONCURRENT):
            self._slots.acquire()
        try:
            for ruleset in self._rulesets:
                try:
                    durable_rules_engine.delete_ruleset(ruleset._handle)
                except Exception:  # noqa: BLE001 - freeing the rest matters more
                    log.exception("could not delete ruleset")
        finally:
            for _ in range(MAX_CONCURRENT):
                self._slots.release()


def durable_engine(book: Rulebook, max_activations: int = MAX_ACTIVATIONS,
                   max_derived_per_rule: int = MAX_DERIVED_PER_RULE) -> DurableEngine:
    """The engine of record for a rulebook: compiled into partitions and registered."""
    return DurableEngine(compile_rulebook(book), max_activations, max_derived_per_rule)
