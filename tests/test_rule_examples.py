"""Every example written beside the rules (`tests:` in rules/*.yaml) passes, and every rule has one."""

from __future__ import annotations

import pytest

from kb.config import Paths
from kb.inference import RuleBase
from kb.rulebook import RuleTest, load_ontology_or_none, load_rules, ontology_terms, rule_files
from kb.ruletests import ontology_facts, run_test, uncovered

PATHS = Paths.default()
ONTOLOGY = load_ontology_or_none(PATHS)
BOOK = load_rules(rule_files(PATHS.rules), ontology_terms(PATHS, ONTOLOGY)[0], PATHS.corpus, PATHS.root)
FROM_ONTOLOGY = ontology_facts(ONTOLOGY)


@pytest.fixture(scope="module")
def base() -> RuleBase:
    rb = RuleBase.from_rulebook(BOOK)
    yield rb
    rb.close()


@pytest.mark.parametrize("example", BOOK.tests, ids=[f"{t.file}:{t.line}" for t in BOOK.tests])
def test_example(base: RuleBase, example: RuleTest) -> None:
    result = run_test(base, example, FROM_ONTOLOGY)
    assert result.ok, result.diff()


def test_every_rule_is_expected_by_an_example() -> None:
    assert uncovered(BOOK) == []


def test_a_failing_example_prints_a_readable_diff(base: RuleBase) -> None:
    example = next(t for t in BOOK.tests if t.expect and t.expect_not)
    broken = RuleTest(example.name, example.file, example.line, (), example.ontology, example.expect, ())
    result = run_test(base, broken, None)
    assert not result.ok
    text = result.diff()
    assert text.startswith(f"{example.file}:{example.line}: test `{example.name}` failed")
    assert "  - expected (line" in text and "drawn:" in text
