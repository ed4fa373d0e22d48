"""Weighing recommendations: conflicts are kept; one rule firing twice is one argument, not two."""

from __future__ import annotations

from kb.model.conclusions import Conclusion, RuleRef, weigh


def rec(cid: str, rule: str, option: str, strength: float, stance: str = "for") -> Conclusion:
    return Conclusion(id=cid, kind="recommendation", statement=cid, rule_ref=RuleRef(rule, "rules/x.yaml", 1),
                      because=("asker",), option=option, strength=strength, stance=stance)  # type: ignore[arg-type]


def test_a_rule_that_fires_twice_for_an_option_counts_once_at_its_strongest() -> None:
    scores = weigh([rec("a1", "buy", "commercial", 0.6), rec("a2", "buy", "commercial", 0.5),
                    rec("b", "keep", "open_source", 0.7)])
    assert [(s.option, s.score) for s in scores] == [("open_source", 0.7), ("commercial", 0.6)]
    assert scores[1].supporting == ("a1", "a2")  # every firing is still listed


def test_conflicting_rules_are_weighed_against_each_other() -> None:
    scores = {s.option: s for s in weigh([rec("f", "small", "build_in_house", 0.6, "against"),
                                          rec("g", "latency", "build_in_house", 0.7)])}
    assert round(scores["build_in_house"].score, 6) == 0.1
    assert scores["build_in_house"].opposing == ("f",) and scores["build_in_house"].supporting == ("g",)
