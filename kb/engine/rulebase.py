"""Inference: a consultation's facts through the rules, on an engine behind `kb.engine`'s protocol, and why.

`RuleBase` holds a checked `Rulebook` and an engine built for it (durable_rules by default: see
`kb.engine.durable` for how it is used and the workarounds it needs; `kb.engine.reference` is a
plain-Python engine for checking it). A consultation validates the facts, runs them to a fixpoint, and
turns the activations into conclusions with the facts behind each; nothing here knows which engine ran.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb import vocab
from kb.config import Paths
from kb.engine import (
    MAX_ACTIVATIONS,
    MAX_DERIVED_PER_RULE,
    MAX_FACT_KEYS,
    Activation,
    ClosedError,
    ConsequentError,
    EngineFactory,
    InferenceEngine,
    InferenceError,
    RunawayRuleError,
    RunStats,
)
from kb.model.conclusions import Conclusion, Derivation, EvidenceHint, OptionScore, RuleRef, derivation, weigh
from kb.model.facts import Fact, Source
from kb.model.problems import KnowledgeError
from kb.rulebook.rules import (
    RESERVED_FIELDS,
    Failure,
    Rule,
    Rulebook,
    Then,
    explain,
    field_reads,
    load_rules,
    ontology_terms,
    render,
    rule_files,
)

log = logging.getLogger("kb.engine.rulebase")

MAX_SLICES = 256
"""Compiled slices a rule base keeps for what-if trials (one per set of rules a change can reach); past it, a
trial runs the whole recommending slice."""


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
        return self._by_id[fact_id]

    @functools.cached_property
    def _by_id(self) -> dict[str, Fact]:
        """The facts by id, built once (a stack review looks up thousands)."""
        out: dict[str, Fact] = {}
        for f in self.facts:
            out.setdefault(f.id, f)
        return out

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
        return tuple(derivation(fid, self._by_id) for fid in c.because if fid in self._by_id)

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


def recommending_slice(book: Rulebook) -> Rulebook:
    """The rules a recommendation can depend on: those that recommend, and those deriving a kind such a rule
    reads (matched or negated), transitively. Run alone, they weigh the options as the whole book does."""
    return _sliced(book, _upstream(book, (r.id for r in book.rules if any(t.kind == "recommendation"
                                                                           for t in r.then))))


def _sliced(book: Rulebook, keep: set[str] | frozenset[str]) -> Rulebook:
    return Rulebook(tuple(dataclasses.replace(f, rules=tuple(r for r in f.rules if r.id in keep), tests=())
                          for f in book.files))


def _upstream(book: Rulebook, rules: Iterable[str]) -> frozenset[str]:
    """`rules` and every rule deriving a kind one of them reads, transitively: what must run for them to fire
    as in the whole book."""
    producers: dict[str, list[Rule]] = {}
    for rule in book.rules:
        for d in rule.derives:
            producers.setdefault(d.kind, []).append(rule)
    by_id = {r.id: r for r in book.rules}
    keep: set[str] = set()
    todo = [by_id[r] for r in rules]
    while todo:
        rule = todo.pop()
        if rule.id in keep:
            continue
        keep.add(rule.id)
        for kind in rule.reads:
            todo.extend(producers.get(kind, ()))
    return frozenset(keep)


def conclusions_of(activations: Iterable[Activation], facts: Mapping[str, Fact],
                   rules: Mapping[str, Rule], kinds: frozenset[str] | None = None) -> tuple[Conclusion, ...]:
    """The conclusions the activations draw (`rules` by id), of `kinds` only if given. One per rule and
    statement: the same statement drawn from several matches cites all their facts."""
    drawn: dict[str, tuple[Then, Rule, str, set[str], Fact | None]] = {}
    for act in activations:
        rule = rules[act.rule]
        bindings: dict[str, Fact] | None = None
        of = rule.evidence.of if rule.evidence is not None else None
        for then in rule.then:
            if kinds is not None and then.kind not in kinds:
                continue
            if ("{" in then.statement or of is not None) and bindings is None:
                bindings = {name: facts[fid] for name, fid in act.bindings}
            statement = render(then.statement, bindings) if "{" in then.statement and bindings else then.statement
            cid = _conclusion_id(rule.id, then, statement)
            if cid in drawn:
                drawn[cid][3].update(act.fact_ids)
            else:
                drawn[cid] = (then, rule, statement, set(act.fact_ids), bindings.get(of) if of and bindings else None)
    out = [
        Conclusion(
            id=cid, kind=then.kind, statement=statement, rule_ref=RuleRef(rule.id, rule.file, rule.line),
            because=tuple(sorted(because)), title=rule.title, option=then.option, strength=then.strength,
            stance="against" if then.stance == "against" else "for", asks=then.asks,
            criterion=then.criterion, evidence_hint=_hint(rule, statement, entity),
        )
        for cid, (then, rule, statement, because, entity) in drawn.items()
    ]
    return tuple(sorted(out, key=lambda c: (vocab.CONCLUSION_KINDS.index(c.kind), c.id)))


@functools.lru_cache(maxsize=65536)
def _conclusion_id(rule_id: str, then: Then, statement: str) -> str:
    digest = hashlib.sha1(f"{then.kind}|{statement}|{then.option}|{then.stance}".encode()).hexdigest()[:8]
    return f"{rule_id}:{digest}"


def _hint(rule: Rule, statement: str, entity: Fact | None = None) -> EvidenceHint:
    ev = rule.evidence
    query = (ev.query if ev and ev.query else None) or f"{rule.title}. {statement}"
    if ev is not None and ev.of is not None:  # the passage the ontology names for the bound entity, if any
        quote, doc = (entity.get("quote"), entity.get("quote_doc")) if entity is not None else (None, None)
        return EvidenceHint(query, doc if isinstance(doc, str) else None, quote if isinstance(quote, str) else None,
                            entity=entity.id if entity is not None else "")
    return EvidenceHint(query, ev.doc if ev else None, ev.quote if ev else None)


class RuleBase:
    """A loaded, compiled rule base: consult it with facts, get conclusions with their reasons.

    Loading is all or nothing (KnowledgeError lists every problem). Each load compiles under fresh engine
    names, so a reload builds a new RuleBase beside the old one and the caller swaps it in whole.
    """

    def __init__(self, book: Rulebook, engine: InferenceEngine, recommending: InferenceEngine | None = None,
                 recommending_reads: frozenset[str] | None = None, factory: EngineFactory | None = None,
                 limits: tuple[int, int] = (MAX_ACTIVATIONS, MAX_DERIVED_PER_RULE)):
        self.book = book
        self.engine = engine
        self._factory, self._limits = factory, limits
        """What compiles the slices `Baseline` runs (None: a trial weighs the recommending slice whole)."""
        self._slices: dict[frozenset[str], tuple[InferenceEngine, frozenset[str]]] = {}
        self._slices_lock = threading.Lock()
        self._field_reads = {r.id: field_reads(r) for r in book.rules}
        self._affected_by: dict[frozenset[tuple[str, frozenset[str] | None]], frozenset[str]] = {}
        self.version = book.fingerprint()
        self._kinds = set(vocab.FACT_KINDS) | set(book.derived_kinds)
        self._rules = {r.id: r for r in book.rules}
        self._recommending = recommending or engine
        """The engine `weigh` runs: the recommending slice of the rules when built (`from_rulebook`)."""
        self._weighed_kinds = recommending_reads
        """The fact kinds the recommending slice reads (None: all): `weigh` gives it those alone (a third of its
        cost is asserting facts no rule of the slice can match)."""

    def rule(self, rule_id: str) -> Rule | None:
        """A rule of the book by its id (None if it has none)."""
        return self._rules.get(rule_id)

    @classmethod
    def load(cls, source: Paths | Iterable[str | Path], *, terms: frozenset[str] | None = None,
             corpus: Path | None = None, max_activations: int = MAX_ACTIVATIONS,
             max_derived_per_rule: int = MAX_DERIVED_PER_RULE, engine: EngineFactory | None = None) -> RuleBase:
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
        return cls.from_rulebook(book, max_activations=max_activations, max_derived_per_rule=max_derived_per_rule,
                                 engine=engine)

    @classmethod
    def from_rulebook(cls, book: Rulebook, *, max_activations: int = MAX_ACTIVATIONS,
                      max_derived_per_rule: int = MAX_DERIVED_PER_RULE,
                      engine: EngineFactory | None = None) -> RuleBase:
        """Build the engine for a checked rulebook: `engine` (default: durable_rules, the engine of record)."""
        if engine is None:
            from kb.engine.durable import durable_engine

            engine = durable_engine
        full = engine(book, max_activations, max_derived_per_rule)
        sliced = recommending_slice(book)
        try:
            recommending = engine(sliced, max_activations, max_derived_per_rule)
        except BaseException:
            full.close()
            raise
        return cls(book, full, recommending, frozenset(k for r in sliced.rules for k in r.reads), engine,
                   (max_activations, max_derived_per_rule))

    def consult(self, facts: Iterable[Fact]) -> Consultation:
        """Run the rules over `facts` (the asker's and the related ontology facts)."""
        run = self.engine.run(self._given(facts))
        by_id = {f.id: f for f in run.facts}
        conclusions = conclusions_of(run.activations, by_id, self._rules)
        ordered = tuple(sorted(run.facts, key=lambda f: (f.source.kind == "derived", f.id)))
        return Consultation(ordered, conclusions, run.activations, run.stats, self.book)

    def weigh(self, facts: Iterable[Fact]) -> tuple[OptionScore, ...]:
        """The options as `consult(facts).weighing()` would weigh them. What-if trials need only the winner,
        so they run the recommending slice of the rules (the rules that recommend, and those deriving what
        they read, transitively), compiled once, and draw only the recommendations."""
        return weigh(self._recommendations(self._recommending, self._weighed(facts)))

    def _weighed(self, facts: Iterable[Fact]) -> list[Fact]:
        """The facts of the kinds the recommending slice reads, validated."""
        kinds = self._weighed_kinds
        return self._given(f for f in facts if kinds is None or f.kind in kinds)

    def _recommendations(self, engine: InferenceEngine, facts: list[Fact]) -> tuple[Conclusion, ...]:
        """The recommendations `engine` draws from `facts`."""
        run = engine.run(facts)
        return conclusions_of(run.activations, {f.id: f for f in run.facts}, self._rules,
                              kinds=frozenset({"recommendation"}))


    def baseline(self, facts: Iterable[Fact]) -> Baseline:
        """The options weighed for `facts`, kept so that variants of them (one or two facts changed: the
        what-if trials behind Why not? and the questions back) are weighed by running only the rules a change
        can reach (`Baseline.weigh`)."""
        return Baseline(self, facts)

    def _affected(self, changed: Mapping[str, frozenset[str] | None]) -> frozenset[str]:
        """The recommending rules whose firing can differ when facts change: those reading a changed field of a
        kind (`changed`: kind -> fields, None when a fact of it came or went), and those reading a kind such a
        rule derives, transitively."""
        key = frozenset(changed.items())
        known = self._affected_by.get(key)
        if known is not None:
            return known
        kinds = dict(changed)
        out: set[str] = set()
        grew = True
        while grew:
            grew = False
            for rule in self._recommending_book.rules:
                reads = self._field_reads[rule.id]
                if rule.id in out or not any(kind in reads and (fields is None or reads[kind] & fields)
                                             for kind, fields in kinds.items()):
                    continue
                out.add(rule.id)
                grew = True
                for d in rule.derives:
                    kinds[d.kind] = None
        if len(self._affected_by) >= MAX_SLICES * 16:
            self._affected_by.clear()
        self._affected_by[key] = frozen = frozenset(out)
        return frozen

    @functools.cached_property
    def _recommending_book(self) -> Rulebook:
        return recommending_slice(self.book)

    def _slice(self, rules: frozenset[str]) -> tuple[InferenceEngine, frozenset[str]] | None:
        """The engine compiled for these rules and the rules deriving what they read (and the fact kinds that
        slice reads); compiled once, kept while the rule base lives. None when no factory is known."""
        if self._factory is None:
            return None
        with self._slices_lock:
            made = self._slices.get(rules)
            if made is None:
                if len(self._slices) >= MAX_SLICES:
                    return None
                book = _sliced(self.book, _upstream(self._recommending_book, rules))
                made = (self._factory(book, *self._limits), frozenset(k for r in book.rules for k in r.reads))
                self._slices[rules] = made
            return made

    def _given(self, facts: Iterable[Fact]) -> list[Fact]:
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
        return sorted(given.values(), key=lambda f: f.id)

    def close(self) -> None:
        self.engine.close()
        if self._recommending is not self.engine:
            self._recommending.close()
        with self._slices_lock:
            for engine, _ in self._slices.values():
                engine.close()
            self._slices.clear()


class Baseline:
    """One consultation's facts weighed once, and its variants weighed by difference (`RuleBase.baseline`).

    A variant's weighing is the baseline's recommendations from the rules no change can reach, plus those the
    reachable rules draw when run (with the rules deriving what they read) over the variant's facts. Rules fire
    on the facts they read and nothing else, so this is the weighing of the whole recommending slice; a test
    checks it against `RuleBase.weigh` for every trial of every end-to-end question.
    """

    def __init__(self, rulebase: RuleBase, facts: Iterable[Fact]):
        self._rb = rulebase
        self._facts = {f.id: f for f in rulebase._weighed(facts)}
        self._recommendations = rulebase._recommendations(rulebase._recommending, list(self._facts.values()))

    def weighing(self) -> tuple[OptionScore, ...]:
        return weigh(self._recommendations)

    def weigh(self, facts: Iterable[Fact]) -> tuple[OptionScore, ...]:
        """The options as `RuleBase.weigh(facts)` weighs them."""
        rb = self._rb
        given = {f.id: f for f in rb._weighed(facts)}
        changed: dict[str, frozenset[str] | None] = {}
        for fid in given.keys() | self._facts.keys():
            old, new = self._facts.get(fid), given.get(fid)
            if old == new:
                continue
            if old is None or new is None or old.kind != new.kind:
                for f in (old, new):
                    if f is not None:
                        changed[f.kind] = None
                continue
            before, after = dict(old.fields), dict(new.fields)
            fields = frozenset(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            if old.kind in changed and changed[old.kind] is None:
                continue
            changed[old.kind] = (changed.get(old.kind) or frozenset()) | fields
        if not changed:
            return self.weighing()
        affected = rb._affected(changed)
        if not affected:
            return self.weighing()
        made = rb._slice(affected)
        if made is None:
            return rb.weigh(given.values())
        engine, reads = made
        drawn = rb._recommendations(engine, [f for f in given.values() if f.kind in reads])
        return weigh([c for c in self._recommendations if c.rule_ref.id not in affected]
                     + [c for c in drawn if c.rule_ref.id in affected])


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
    "InferenceEngine",
    "InferenceError",
    "KnowledgeError",
    "LiveRuleBase",
    "RuleBase",
    "RunawayRuleError",
    "Source",
]
