"""Inference: run a consultation's facts through the compiled rules on durable_rules, and say why.

The only module that imports durable_rules. How it uses the engine (version 2.0.28), and why:

- One `Host` per loaded rule base (it registers the rulesets), its dispatch timers left unstarted: those
  timers would run pending actions on their own thread, racing the consultation that asserted the facts.
  Each consultation takes its own actions from the engine right after it asserts (start, record,
  complete), under the partition's lock.
- Ruleset names are fresh per compile (`oscar<generation>_<partition>`): the engine registers a name once
  per process, so a reload compiles under new names and the new rule base replaces the old one whole.
- The rules come as partitions (see `kb.rulebook.compile_rulebook`), each its own ruleset, indexed by the
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
import hashlib
import itertools
import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import durable_rules_engine
from durable.engine import Host

from kb import vocab
from kb.conclusions import Conclusion, Derivation, EvidenceHint, OptionScore, RuleRef, derivation, weigh
from kb.config import Paths
from kb.facts import Fact, Source
from kb.problems import KnowledgeError
from kb.rulebook import (
    ENGINE_ID,
    GATE_KIND,
    RANGE,
    READY_RULE,
    RESERVED_FIELDS,
    Failure,
    Partition,
    Rule,
    Rulebook,
    Then,
    compile_rulebook,
    derived_fact,
    explain,
    fact_keys,
    load_rules,
    ontology_terms,
    range_holds,
    render,
    rule_files,
)

log = logging.getLogger("kb.inference")

MAX_CONCURRENT = 256
"""Consultations running at once; each holds at most one session per ruleset, far below 1,024."""
MAX_ACTIVATIONS = 20_000
"""Activations in one consultation before it is stopped as runaway."""
MAX_DERIVED_PER_RULE = 2_000
"""New facts one rule may derive in one consultation before it is stopped as runaway."""
MAX_FACT_KEYS = 24
"""Fields per fact the engine may see (with kind, id and sid); the engine crashed beyond 28 keys."""

_GENERATION = itertools.count(1)
_SIDS = itertools.count(1)


class InferenceError(RuntimeError):
    """A consultation could not complete; the message names the rule at fault when there is one."""

    def __init__(self, message: str, rule: RuleRef | None = None):
        super().__init__(message)
        self.rule = rule


class RunawayRuleError(InferenceError):
    """A rule kept firing or deriving facts past the bound."""


class ClosedError(InferenceError):
    """The rule base was closed (replaced by a reload) before the consultation started."""


class ConsequentError(InferenceError):
    """Recording a rule's activation failed inside the engine."""


@dataclass(frozen=True)
class Activation:
    """A justification as a value: a rule fired on these facts (name -> fact id)."""

    rule: str
    alternative: int
    bindings: tuple[tuple[str, str], ...]

    @property
    def fact_ids(self) -> tuple[str, ...]:
        return tuple(sorted({f for _, f in self.bindings}))


@dataclass(frozen=True)
class RunStats:
    """What a consultation cost: partitions (rulesets) it ran, engine rules in them, rounds, activations."""

    partitions: int
    engine_rules: int
    rounds: int
    activations: int


@dataclass(frozen=True)
class Run:
    facts: tuple[Fact, ...]
    activations: tuple[Activation, ...]
    stats: RunStats


class InferenceEngine(Protocol):
    """What the rule base needs from an engine: run facts to a fixpoint, and release its resources."""

    def run(self, facts: Sequence[Fact]) -> Run: ...

    def close(self) -> None: ...

    def live_sessions(self) -> int: ...


def _encode(fact: Fact, sid: str) -> str:
    """A fact as the engine sees it: flat JSON with its id copied to the join field and the session id."""
    return json.dumps({**fact.as_dict(), ENGINE_ID: fact.id, "sid": sid}, ensure_ascii=False)


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
            rule = self._rule_of[(index, name)].rule
            ref = RuleRef(rule.id, rule.file, rule.line)
            raise ConsequentError(f"rule {ref} failed while firing: {cause!r}", ref) from cause

    def _run(self, sid: str, record: _Record, facts: Sequence[Fact]) -> Run:
        known: dict[str, Fact] = {}
        for f in facts:
            known[f.id] = f
        # each fact is encoded once per consultation (with its session id), then sent to every partition
        engine_facts = {f.id: _encode(f, sid) for f in known.values()}
        derivations: dict[str, list[Fact]] = {}
        derived_by_rule: dict[str, int] = {}
        fired_by_rule: dict[str, int] = {}
        activations: list[Activation] = []
        seen: set[tuple[int, str, tuple[tuple[str, str], ...]]] = set()
        partitions_run: set[int] = set()
        rounds = 0
        gate = json.dumps({"kind": GATE_KIND, "id": GATE_KIND, "sid": sid})
        for stratum in range(self.strata):
            opened: set[int] = set()
            new = list(known.values())
            while new:
                rounds += 1
                targets: set[int] = set()
                for f in new:
                    for index in self._triggered(f):
                        if self.partitions[index].stratum == stratum:
                            targets.add(index)
                for index in opened:
                    kinds = self.partitions[index].kinds
                    if any(f.kind in kinds for f in new):
                        targets.add(index)
                start = len(record.activations)
                for index in sorted(targets):
                    kinds = self.partitions[index].kinds
                    if index in opened:
                        batch = [engine_facts[f.id] for f in new if f.kind in kinds]
                    else:
                        batch = [d for fid, d in engine_facts.items() if known[fid].kind in kinds] + [gate]
                        opened.add(index)
                        partitions_run.add(index)
                    if batch:
                        self._step(index, sid, batch, record)
                new = []
                for index, name, bound in record.activations[start:]:
                    engine_rule = self._rule_of[(index, name)]
                    rule = engine_rule.rule
                    names = self._names[(index, name)]
                    bindings = tuple(sorted((names[a], fid) for a, fid in bound.items()))
                    key = (index, name, bindings)
                    if key in seen:
                        continue
                    seen.add(key)
                    activations.append(Activation(rule.id, engine_rule.alternative, bindings))
                    fired_by_rule[rule.id] = fired_by_rule.get(rule.id, 0) + 1
                    if len(activations) > self.max_activations:
                        worst = max(fired_by_rule, key=lambda r: fired_by_rule[r])
                        raise self._runaway(worst, f"more than {self.max_activations} activations in one "
                                            f"consultation; rule fired {fired_by_rule[worst]} times")
                    by_name = {n: known[fid] for n, fid in bindings} if rule.derives else {}
                    for d in rule.derives:
                        fact = derived_fact(rule, d, by_name)
                        derivations.setdefault(fact.id, []).append(fact)
                        if fact.id in known:
                            continue
                        derived_by_rule[rule.id] = derived_by_rule.get(rule.id, 0) + 1
                        if derived_by_rule[rule.id] > self.max_derived_per_rule:
                            raise self._runaway(rule.id, f"derived more than {self.max_derived_per_rule} new "
                                                f"`{d.kind}` facts in one consultation (does it derive from "
                                                "its own conclusions?)")
                        if len(fact.fields) > MAX_FACT_KEYS:
                            raise InferenceError(f"rule {rule.id} derives a fact with more than {MAX_FACT_KEYS} fields")
                        known[fact.id] = fact
                        engine_facts[fact.id] = _encode(fact, sid)
                        new.append(fact)
        for fid, alternatives in derivations.items():
            known[fid] = min(alternatives, key=lambda f: (f.source.rule or "", f.source.from_facts))
        stats = RunStats(len(partitions_run), sum(len(self.partitions[i].rules) for i in partitions_run), rounds,
                         len(activations))
        log.debug("consultation %s: %s", sid, stats)
        return Run(tuple(known.values()), tuple(sorted(activations, key=lambda a: (a.rule, a.bindings))), stats)

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

    def _runaway(self, rule_id: str, why: str) -> RunawayRuleError:
        rule = next(r.rule for r in self._rule_of.values() if r.rule.id == rule_id)
        ref = RuleRef(rule.id, rule.file, rule.line)
        return RunawayRuleError(f"rule {ref} is runaway: {why}", ref)

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


# --- The rule base and its consultations ----------------------------------------------------------------


@dataclass(frozen=True)
class Consultation:
    """What one consultation concluded, from which facts, and how (the derivation tree of each conclusion).

    `facts`: the facts given plus those derived (each derived fact's source names its rule and inputs).
    """

    facts: tuple[Fact, ...]
    conclusions: tuple[Conclusion, ...]
    activations: tuple[Activation, ...]
    stats: RunStats
    rulebook: Rulebook = field(compare=False, repr=False)

    def fact(self, fact_id: str) -> Fact:
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise KeyError(fact_id)

    @property
    def derived(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.source.kind == "derived")

    @property
    def fired(self) -> frozenset[str]:
        """Ids of the rules that fired."""
        return frozenset(a.rule for a in self.activations)

    def weighing(self) -> tuple[OptionScore, ...]:
        """Every recommendation weighed per option, best first (conflicts kept, never dropped)."""
        return weigh(self.conclusions)

    def why(self, conclusion_id: str) -> tuple[Derivation, ...]:
        """The derivation tree behind a conclusion: each fact it rests on, expanded down to given facts."""
        c = next(c for c in self.conclusions if c.id == conclusion_id)
        by_id = {f.id: f for f in self.facts}
        return tuple(derivation(fid, by_id) for fid in c.because if fid in by_id)

    def explain_failed(self, rule_id: str) -> tuple[Failure, ...] | None:
        """For a rule that did not fire: per alternative, the condition that failed and why. None if it fired."""
        if rule_id in self.fired:
            return None
        return explain(self.rulebook.rule(rule_id), self.facts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "facts": [f.to_dict() for f in self.facts],
            "conclusions": [c.to_dict() for c in self.conclusions],
            "weighing": [{"option": s.option, "score": s.score} for s in self.weighing()],
        }


def conclusions_of(activations: Iterable[Activation], facts: Mapping[str, Fact],
                   rules: Mapping[str, Rule]) -> tuple[Conclusion, ...]:
    """The conclusions the activations draw (`rules` by id). One per rule and statement: the same
    statement drawn from several matches cites all their facts."""
    drawn: dict[str, tuple[Then, Rule, str, set[str]]] = {}
    for act in activations:
        rule = rules[act.rule]
        bindings: dict[str, Fact] | None = None
        for then in rule.then:
            if "{" in then.statement:
                if bindings is None:
                    bindings = {name: facts[fid] for name, fid in act.bindings}
                statement = render(then.statement, bindings)
            else:
                statement = then.statement
            cid = _conclusion_id(rule.id, then, statement)
            if cid in drawn:
                drawn[cid][3].update(act.fact_ids)
            else:
                drawn[cid] = (then, rule, statement, set(act.fact_ids))
    out = [
        Conclusion(
            id=cid, kind=then.kind, statement=statement, rule_ref=RuleRef(rule.id, rule.file, rule.line),
            because=tuple(sorted(because)), title=rule.title, option=then.option, strength=then.strength,
            stance="against" if then.stance == "against" else "for", asks=then.asks,
            evidence_hint=_hint(rule, statement),
        )
        for cid, (then, rule, statement, because) in drawn.items()
    ]
    return tuple(sorted(out, key=lambda c: (vocab.CONCLUSION_KINDS.index(c.kind), c.id)))


@functools.lru_cache(maxsize=65536)
def _conclusion_id(rule_id: str, then: Then, statement: str) -> str:
    digest = hashlib.sha1(f"{then.kind}|{statement}|{then.option}|{then.stance}".encode()).hexdigest()[:8]
    return f"{rule_id}:{digest}"


def _hint(rule: Rule, statement: str) -> EvidenceHint:
    ev = rule.evidence
    query = (ev.query if ev and ev.query else None) or f"{rule.title}. {statement}"
    return EvidenceHint(query, ev.doc if ev else None, ev.quote if ev else None)


class RuleBase:
    """A loaded, compiled rule base: consult it with facts, get conclusions with their reasons.

    Loading is all or nothing (KnowledgeError lists every problem). Each load compiles under fresh engine
    names, so a reload builds a new RuleBase beside the old one and the caller swaps it in whole.
    """

    def __init__(self, book: Rulebook, engine: InferenceEngine):
        self.book = book
        self.engine = engine
        self.version = book.fingerprint()
        self._kinds = set(vocab.FACT_KINDS) | set(book.derived_kinds)
        self._rules = {r.id: r for r in book.rules}

    @classmethod
    def load(cls, source: Paths | Iterable[str | Path], *, terms: frozenset[str] | None = None,
             corpus: Path | None = None, max_activations: int = MAX_ACTIVATIONS,
             max_derived_per_rule: int = MAX_DERIVED_PER_RULE) -> RuleBase:
        """Load, validate and compile rule files (a knowledge base's `rules/`, or a list of files)."""
        if isinstance(source, Paths):
            files: list[Path] = rule_files(source.rules)
            if terms is None:
                terms, _ = ontology_terms(source)
            corpus = corpus or source.corpus
            root: Path | None = source.root
        else:
            files = [Path(p) for p in source]
            root = None
        book = load_rules(files, terms, corpus, root)
        return cls.from_rulebook(book, max_activations=max_activations, max_derived_per_rule=max_derived_per_rule)

    @classmethod
    def from_rulebook(cls, book: Rulebook, *, max_activations: int = MAX_ACTIVATIONS,
                      max_derived_per_rule: int = MAX_DERIVED_PER_RULE) -> RuleBase:
        partitions = compile_rulebook(book)
        return cls(book, DurableEngine(partitions, max_activations, max_derived_per_rule))

    def consult(self, facts: Iterable[Fact]) -> Consultation:
        """Run the rules over `facts` (the asker's and the related ontology facts)."""
        given: dict[str, Fact] = {}
        for f in facts:
            if f.kind not in self._kinds:
                raise ValueError(f"fact {f.id}: unknown kind `{f.kind}`")
            if len(f.fields) > MAX_FACT_KEYS:
                raise ValueError(f"fact {f.id}: more than {MAX_FACT_KEYS} fields")
            clash = RESERVED_FIELDS & {k for k, _ in f.fields}
            if clash:
                raise ValueError(f"fact {f.id}: field name(s) {sorted(clash)} are reserved")
            if f.id in given and given[f.id] != f:
                raise ValueError(f"two different facts share the id {f.id}")
            given[f.id] = f
        run = self.engine.run(sorted(given.values(), key=lambda f: f.id))
        by_id = {f.id: f for f in run.facts}
        conclusions = conclusions_of(run.activations, by_id, self._rules)
        ordered = tuple(sorted(run.facts, key=lambda f: (f.source.kind == "derived", f.id)))
        return Consultation(ordered, conclusions, run.activations, run.stats, self.book)

    def close(self) -> None:
        self.engine.close()


class LiveRuleBase:
    """The rule base a server consults, replaced whole on reload: a failed reload keeps the old one."""

    def __init__(self, source: Paths | Iterable[str | Path], **options: Any):
        self._source = source if isinstance(source, Paths) else [Path(p) for p in source]
        self._options = options
        self._lock = threading.Lock()
        self.current = RuleBase.load(self._source, **options)

    def reload(self) -> RuleBase:
        """Load and compile again under fresh names; swap in only if loading succeeded (else KnowledgeError)."""
        fresh = RuleBase.load(self._source, **self._options)
        with self._lock:
            old, self.current = self.current, fresh
        old.close()
        return fresh

    def consult(self, facts: Iterable[Fact]) -> Consultation:
        """Consult the current rule base; one swapped out while this call began is retried on the new one."""
        given = list(facts)
        try:
            return self.current.consult(given)
        except ClosedError:
            return self.current.consult(given)


__all__ = [
    "Activation",
    "ClosedError",
    "ConsequentError",
    "Consultation",
    "DurableEngine",
    "InferenceError",
    "KnowledgeError",
    "LiveRuleBase",
    "RuleBase",
    "RunawayRuleError",
    "Source",
]
