"""Reverse-ordered chains of 2,000 `none` rules (each rule waiting for the absence of the next: 2,000 strata)
never finished loading; and a consultation had no time bound beyond its activation count, so a rule base that
kept the engine busy without firing much held a request for as long as it liked.
(`kb bench rules --negation-chain 2000` prints the load and consultation times.)"""

from __future__ import annotations

from pathlib import Path

import pytest

import kb.engine
from kb.benchmarks.rules import chain_rules, negation_chain_rules
from kb.engine import OverBudgetError
from kb.engine.reference import reference_engine
from kb.engine.rulebase import RuleBase
from kb.model.facts import Fact, Source

ASKER = [Fact.make("asker", "asker", {"team_size": 3}, Source(kind="user"))]


@pytest.mark.parametrize("n", [2000, 7])
def test_a_reverse_ordered_negation_chain_loads_and_both_engines_agree(tmp_path: Path, n: int) -> None:
    path = tmp_path / "negations.yaml"
    path.write_text(negation_chain_rules(n), encoding="utf-8")
    derived = []
    for engine in (None, reference_engine) if n < 100 else (None,):
        base = RuleBase.load([path], engine=engine)
        try:
            result = base.consult(ASKER)
        finally:
            base.close()
        derived.append(sorted(int(f.kind[1:]) for f in result.derived))
        # from the last rule back, every other step holds: k{n}, k{n-2}, ...
        assert derived[-1] == list(range(n % 2 or 2, n + 1, 2))
        assert [c.statement for c in result.conclusions] == (["the first step holds"] if n % 2 else [])
    assert all(d == derived[0] for d in derived)


def test_a_consultation_past_its_time_budget_is_stopped_with_the_rule_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(chain_rules(400), encoding="utf-8")
    monkeypatch.setattr(kb.engine, "MAX_SECONDS", 0.0)
    for engine in (None, reference_engine):
        base = RuleBase.load([path], engine=engine)
        try:
            with pytest.raises(OverBudgetError, match=r"stopped after .* s \(budget 0 s") as err:
                base.consult(ASKER)
        finally:
            base.close()
        assert err.value.rule is None or err.value.rule.id.startswith("chain.")
    monkeypatch.undo()
    base = RuleBase.load([path])  # the same rules, within the budget: answered in full
    try:
        assert len(base.consult(ASKER).derived) == 400
    finally:
        base.close()
