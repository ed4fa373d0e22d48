"""A plain-Python engine: the rules read literally, by nested loops over the facts, stratum by stratum.

Slow (every rule is matched against every fact each round) but obviously right, and independent of
durable_rules: the property tests run both engines on generated consultations and require the same
activations and the same derived facts. It also shows what a second engine needs: a `Rulebook` in, the
`InferenceEngine` protocol out, `Deriving` for the bookkeeping.
"""

from __future__ import annotations

from collections.abc import Sequence

from kb.engine import MAX_ACTIVATIONS, MAX_DERIVED_PER_RULE, ClosedError, Deriving, Run, RunStats
from kb.model.facts import Fact
from kb.model.problems import KnowledgeError
from kb.rulebook.rules import Rule, Rulebook, matches, stratify


class ReferenceEngine:
    """Runs each stratum's rules to a fixpoint before the next (a rule testing for the absence of a derived
    kind sits in a later stratum than every rule deriving it), as the engine of record does."""

    def __init__(self, book: Rulebook, max_activations: int = MAX_ACTIVATIONS,
                 max_derived_per_rule: int = MAX_DERIVED_PER_RULE):
        stratum, problems = stratify(book.files, book.derived_kinds)
        if problems:
            raise KnowledgeError(problems)
        self.strata: list[list[Rule]] = [[] for _ in range(max(stratum.values(), default=0) + 1)]
        for rule in book.rules:
            self.strata[stratum[rule.id]].append(rule)
        self.max_activations = max_activations
        self.max_derived_per_rule = max_derived_per_rule
        self._closed = False

    def run(self, facts: Sequence[Fact]) -> Run:
        if self._closed:
            raise ClosedError("this rule base was closed (replaced by a reload)")
        deriving = Deriving(facts, self.max_activations, self.max_derived_per_rule)
        seen: set[tuple[str, int, tuple[tuple[str, str], ...]]] = set()
        rounds = 0
        for rules in self.strata:
            changed = True
            while changed:
                rounds += 1
                deriving.check_time()
                changed = False
                current = list(deriving.known.values())
                for rule in rules:
                    for a, alt in enumerate(rule.alternatives):
                        for bound in matches(alt, current):
                            bindings = tuple(sorted((name, fact.id) for name, fact in bound.items()))
                            if (rule.id, a, bindings) in seen:
                                continue
                            seen.add((rule.id, a, bindings))
                            if deriving.fire(rule, a, bindings):
                                changed = True
        return deriving.result(RunStats(1, sum(len(r.alternatives) for s in self.strata for r in s), rounds,
                                        len(deriving.activations)))

    def close(self) -> None:
        self._closed = True

    def live_sessions(self) -> int:
        return 0


def reference_engine(book: Rulebook, max_activations: int = MAX_ACTIVATIONS,
                     max_derived_per_rule: int = MAX_DERIVED_PER_RULE) -> ReferenceEngine:
    return ReferenceEngine(book, max_activations, max_derived_per_rule)
