"""Every example written beside the rules (`tests:` in rules/*.yaml) passes, and every rule has one."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import Paths
from kb.engine.rulebase import RuleBase
from kb.rulebook.examples import ontology_facts, run_test, uncovered
from kb.rulebook.rules import RuleTest, load_ontology_or_none, load_rules, ontology_terms, rule_files

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


def test_kb_test_exits_1_with_a_diff_and_names_uncovered_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kb.rulebook import examples as ruletests

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "a.yaml").write_text(
        "rules:\n"
        "  - id: a.small\n    title: small\n    when: [{fact: asker, where: {team_size: {lt: 10}}}]\n"
        "    then: [{kind: note, statement: small}]\n    evidence: {query: small}\n"
        "  - id: a.big\n    title: big\n    when: [{fact: asker, where: {team_size: {gt: 10}}}]\n"
        "    then: [{kind: note, statement: big}]\n    evidence: {query: big}\n"
        "tests:\n  - name: a team of 50\n    given: [{kind: asker, team_size: 50}]\n    expect: [a.small]\n")
    assert ruletests.main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "rules/a.yaml:13: test `a team of 50` failed" in out
    assert "  - expected (line 15): {rule=a.small}" in out and "note a.big: big" in out
    assert "rules/a.yaml:7: rule `a.big` is not expected by any test" in out
