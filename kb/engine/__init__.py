"""The engine seam: what the rule base needs from an inference engine, and what every engine shares.

An engine takes a `Rulebook` (analysts' rules, parsed and checked, knowing nothing of any engine) and runs
a consultation's facts to a fixpoint: every activation (a rule that fired, on which facts) and the facts
derived on the way. `kb.engine.rulebase` turns that into conclusions and reasons, whichever engine ran it.

Engines here:
- `kb.engine.durable`: durable_rules (Rete), the engine of record; the only module that imports it.
- `kb.engine.reference`: a plain-Python reading of the same rules (nested loops, stratified), slow but
  obviously right; the property tests check that both engines fire the same rules and derive the same facts.

Both share `Deriving`: the bookkeeping of one run (activations, derived facts, and the bounds that stop a
runaway rule), so the two can't differ on anything but which rules match.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from kb.model.conclusions import RuleRef
from kb.model.facts import Fact
from kb.rulebook.rules import Rule, Rulebook, derived_fact

MAX_ACTIVATIONS = 20_000
"""Activations in one consultation before it is stopped as runaway."""
MAX_DERIVED_PER_RULE = 2_000
"""New facts one rule may derive in one consultation before it is stopped as runaway."""
PER_GIVEN_FACT = 8
"""Both bounds grow with the facts given, this many activations or derived facts each: a stack of 5,000
components legitimately derives a fact per component, while a rule deriving from its own conclusions still
outgrows any bound proportional to what it was given."""
MAX_SECONDS = 10.0
"""Wall time one consultation may take before it is stopped (checked between the engine's steps; the join
explosions a single step could take are refused earlier, by `kb check`'s fan-out estimate). Memory is
bounded by the same caps: at most MAX_ACTIVATIONS activations and facts of at most MAX_FACT_KEYS fields."""
MAX_FACT_KEYS = 32
"""Fields per fact an engine may see (kind, id and sid besides): enough for every asker field (28) at once. A
crash once put down to facts of more than 28 keys was a float written with an exponent (`1e-05`), which
durable_rules' JSON reader does not know: facts are now written in positional notation (engine.durable)."""


class InferenceError(RuntimeError):
    """A consultation could not complete; the message names the rule at fault when there is one."""

    def __init__(self, message: str, rule: RuleRef | None = None):
        super().__init__(message)
        self.rule = rule


class RunawayRuleError(InferenceError):
    """A rule kept firing or deriving facts past the bound."""


class OverBudgetError(InferenceError):
    """A consultation ran past its time budget and was stopped."""


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


EngineFactory = Callable[[Rulebook, int, int], InferenceEngine]
"""Builds an engine for a rulebook, given the activation bound and the per-rule derivation bound."""


def rule_ref(rule: Rule) -> RuleRef:
    return RuleRef(rule.id, rule.file, rule.line)


class Deriving:
    """The bookkeeping of one run, whatever the engine: activations in order, the facts derived from them,
    and the bounds (activations per consultation, new facts per rule, fields per fact)."""

    def __init__(self, facts: Sequence[Fact], max_activations: int = MAX_ACTIVATIONS,
                 max_derived_per_rule: int = MAX_DERIVED_PER_RULE, max_seconds: float | None = None):
        self.started = time.monotonic()
        self.max_seconds = MAX_SECONDS if max_seconds is None else max_seconds
        self.known: dict[str, Fact] = {f.id: f for f in facts}
        self.activations: list[Activation] = []
        self.max_activations = max(max_activations, PER_GIVEN_FACT * len(facts))
        self.max_derived_per_rule = max(max_derived_per_rule, PER_GIVEN_FACT * len(facts))
        self._derivations: dict[str, list[Fact]] = {}
        self._derived_by_rule: dict[str, int] = {}
        self._fired_by_rule: dict[str, int] = {}
        self._rules: dict[str, Rule] = {}

    def fire(self, rule: Rule, alternative: int, bindings: tuple[tuple[str, str], ...]) -> list[Fact]:
        """Record that `rule` fired on `bindings` (name -> fact id, sorted); the new facts it derives."""
        self.activations.append(Activation(rule.id, alternative, bindings))
        self._rules[rule.id] = rule
        self._fired_by_rule[rule.id] = self._fired_by_rule.get(rule.id, 0) + 1
        if len(self.activations) > self.max_activations:
            worst = max(self._fired_by_rule, key=lambda r: self._fired_by_rule[r])
            raise self.runaway(self._rules[worst], f"more than {self.max_activations} activations in one "
                               f"consultation; rule fired {self._fired_by_rule[worst]} times")
        if len(self.activations) % 64 == 0:
            self.check_time()
        if not rule.derives:
            return []
        by_name = {n: self.known[fid] for n, fid in bindings}
        new: list[Fact] = []
        for d in rule.derives:
            fact = derived_fact(rule, d, by_name)
            self._derivations.setdefault(fact.id, []).append(fact)
            if fact.id in self.known:
                continue
            self._derived_by_rule[rule.id] = self._derived_by_rule.get(rule.id, 0) + 1
            if self._derived_by_rule[rule.id] > self.max_derived_per_rule:
                raise self.runaway(rule, f"derived more than {self.max_derived_per_rule} new `{d.kind}` facts in "
                                   "one consultation (does it derive from its own conclusions?)")
            if len(fact.fields) > MAX_FACT_KEYS:
                raise InferenceError(f"rule {rule.id} derives a fact with more than {MAX_FACT_KEYS} fields")
            self.known[fact.id] = fact
            new.append(fact)
        return new

    def check_time(self) -> None:
        """Stop the consultation once it has run past its time budget, naming the rule that fired most."""
        elapsed = time.monotonic() - self.started
        if elapsed <= self.max_seconds:
            return
        worst = max(self._fired_by_rule, key=lambda r: self._fired_by_rule[r], default=None)
        blame = (f"; rule {rule_ref(self._rules[worst])} fired most ({self._fired_by_rule[worst]} times)"
                 if worst else "")
        raise OverBudgetError(f"the consultation was stopped after {elapsed:.1f} s (budget {self.max_seconds:g} s, "
                              f"{len(self.activations)} activations){blame}",
                              rule_ref(self._rules[worst]) if worst else None)

    @staticmethod
    def runaway(rule: Rule, why: str) -> RunawayRuleError:
        ref = rule_ref(rule)
        return RunawayRuleError(f"rule {ref} is runaway: {why}", ref)

    def result(self, stats: RunStats) -> Run:
        """The run: every fact (a fact derived several ways keeps one stable source), activations sorted."""
        known = dict(self.known)
        for fid, alternatives in self._derivations.items():
            known[fid] = min(alternatives, key=lambda f: (f.source.rule or "", f.source.from_facts))
        ordered = tuple(sorted(self.activations, key=lambda a: (a.rule, a.bindings)))
        return Run(tuple(known.values()), ordered, stats)
