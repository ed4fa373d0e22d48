"""A chain of 5,000 derivations took 53 s to consult (1,000: 0.8 s): every round scanned every open partition
and re-sent every fact to each newly opened one, so the work grew with the square of the chain.
(`kb bench rules --chain 5000` prints the time; this test checks the chain is followed to its end.)"""

from __future__ import annotations

from pathlib import Path

from kb.benchmarks.rules import chain_rules
from kb.engine.reference import reference_engine
from kb.engine.rulebase import RuleBase
from kb.model.facts import Fact, Source


def test_a_chain_is_followed_to_its_end_by_both_engines(tmp_path: Path) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(chain_rules(300), encoding="utf-8")
    asker = [Fact.make("asker", "asker", {"team_size": 3}, Source(kind="user"))]
    for engine in (None, reference_engine):
        base = RuleBase.load([path], engine=engine)
        try:
            result = base.consult(asker)
        finally:
            base.close()
        assert len(result.derived) == 300 and result.stats.rounds >= 300
        assert [c.statement for c in result.conclusions] == ["the chain reached its end"]
