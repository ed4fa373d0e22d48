"""`kb test`: run the examples written beside the rules (`tests:` in each rule file) and report a diff.

Each example gives facts (and ontology entities, whose facts and related facts are added), the
conclusions or derived facts it expects, and those it forbids. A rule that no example expects to fire is
reported as uncovered.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kb.engine.rulebase import Consultation, RuleBase
from kb.model.facts import Fact
from kb.model.problems import KnowledgeError
from kb.rulebook.rules import (
    Expectation,
    Rulebook,
    RuleTest,
    load_ontology_or_none,
    load_rules,
    ontology_terms,
    rule_files,
)

OntologyFacts = Callable[[Sequence[str]], list[Fact]]


@dataclass(frozen=True)
class TestResult:
    test: RuleTest
    missing: tuple[Expectation, ...]
    forbidden: tuple[Expectation, ...]
    drawn: tuple[str, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.missing and not self.forbidden and self.error is None

    def diff(self) -> str:
        """A readable account of what differed: `-` expected but absent, `+` present but forbidden."""
        lines = [f"{self.test.file}:{self.test.line}: test `{self.test.name}` failed"]
        if self.error:
            lines.append(f"  error: {self.error}")
        lines += [f"  - expected (line {e.line}): {e.describe()}" for e in self.missing]
        lines += [f"  + forbidden (line {e.line}): {e.describe()}" for e in self.forbidden]
        lines.append("  drawn:" if self.drawn else "  drawn: nothing")
        lines += [f"      {d}" for d in self.drawn]
        return "\n".join(lines)


def _satisfied(e: Expectation, result: Consultation) -> bool:
    if e.fact:
        return any(f.kind == e.fact and (e.rule is None or f.source.rule == e.rule) for f in result.derived)
    for c in result.conclusions:
        if e.rule and c.rule_ref.id != e.rule:
            continue
        if e.kind and c.kind != e.kind:
            continue
        if e.option and c.option != e.option:
            continue
        if e.statement and e.statement.casefold() not in c.statement.casefold():
            continue
        return True
    if e.rule and not (e.kind or e.option or e.statement):
        return any(f.source.rule == e.rule for f in result.derived)
    return False


def _drawn(result: Consultation) -> tuple[str, ...]:
    out = [f"{c.kind} {c.rule_ref.id}" + (f" [{c.stance} {c.option} {c.strength}]" if c.option else "")
           + f": {c.statement}" for c in result.conclusions]
    out += [f"derived {f.kind} by {f.source.rule}: {dict(f.fields)}" for f in result.derived]
    return tuple(out)


def run_test(base: RuleBase, test: RuleTest, ontology: OntologyFacts | None) -> TestResult:
    """Run one example against a loaded rule base."""
    facts = list(test.facts)
    if test.ontology:
        if ontology is None:
            return TestResult(test, (), (), (), "the test names ontology entities but no ontology could be loaded")
        given = {f.id for f in facts}
        facts += [f for f in ontology(test.ontology) if f.id not in given]
    try:
        result = base.consult(facts)
    except Exception as exc:  # noqa: BLE001 - reported as the test's failure
        return TestResult(test, (), (), (), f"{type(exc).__name__}: {exc}")
    missing = tuple(e for e in test.expect if not _satisfied(e, result))
    forbidden = tuple(e for e in test.expect_not if _satisfied(e, result))
    return TestResult(test, missing, forbidden, _drawn(result))


def uncovered(book: Rulebook) -> list[str]:
    """Rules that no example expects to fire (by naming the rule in `expect`)."""
    expected = {e.rule for t in book.tests for e in t.expect if e.rule}
    return [f"{r.file}:{r.line}: rule `{r.id}` is not expected by any test" for r in book.rules if r.id not in expected]


def ontology_facts(onto: Any) -> OntologyFacts | None:
    """A function from entity ids to their ontology facts plus related ones, or None without an ontology."""
    if onto is None:
        return None

    def facts(ids: Sequence[str]) -> list[Fact]:
        return list(onto.related(list(ids)))

    return facts


def main(argv: list[str]) -> int:
    from kb.cli import options

    parser = options.parser("kb test", __doc__)
    parser.add_argument("--no-coverage", action="store_true", help="do not fail on rules no test expects")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every test, also passing ones")
    ns = parser.parse_args(argv)
    paths = options.paths(ns)
    ontology = load_ontology_or_none(paths)
    terms, _ = ontology_terms(paths, ontology)
    try:
        book = load_rules(rule_files(paths.rules), terms, paths.corpus, paths.root)
    except KnowledgeError as exc:
        for p in exc.problems:
            print(p)
        print("kb test: the rules do not load; fix the problems above (see also `kb check`)", file=sys.stderr)
        return 1
    base = RuleBase.from_rulebook(book)
    onto = ontology_facts(ontology)
    failed = 0
    try:
        for test in book.tests:
            result = run_test(base, test, onto)
            if not result.ok:
                failed += 1
                print(result.diff())
            elif ns.verbose:
                print(f"{test.file}:{test.line}: ok  {test.name}")
    finally:
        base.close()
    gaps = [] if ns.no_coverage else uncovered(book)
    for gap in gaps:
        print(gap)
    total = len(book.tests)
    print(f"kb test: {total - failed}/{total} examples pass, {len(book.rules)} rules, "
          f"{len(gaps)} uncovered", file=sys.stderr)
    return 1 if failed or gaps else 0
