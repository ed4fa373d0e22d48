"""Licence expressions as people meet them ("MIT OR Apache-2.0", "MIT/Apache-2.0", "dual-licensed under MIT or
GPL-3.0", "GPL-2.0 with the Classpath exception"): OR is the asker's choice and the lighter side's duties
apply, AND adds the licences up, WITH narrows a licence by its exception."""

from __future__ import annotations

from typing import Any

import pytest

from kb.advisor.advise import Advisor
from kb.advisor.conversation import Conversation
from kb.graph.expressions import ExpressionError, choose, parse

BURDEN = {"license:MIT": 1, "license:Apache-2.0": 1, "license:LGPL-2.1-only": 2, "license:GPL-3.0-only": 3,
          "license:AGPL-3.0-only": 4}


def test_or_is_a_choice_and_the_lightest_option_is_chosen() -> None:
    expr = parse("GPL-3.0-only OR MIT")
    assert expr.operator == "or" and [o.licences for o in expr.options] == [("license:GPL-3.0-only",),
                                                                            ("license:MIT",)]
    assert choose(expr, BURDEN.get) == (1, False)


def test_options_of_the_same_family_are_a_tie_and_the_first_written_is_shown() -> None:
    assert choose(parse("MIT OR Apache-2.0"), BURDEN.get) == (0, True)
    assert choose(parse("Apache-2.0 OR MIT"), BURDEN.get) == (0, True)


def test_and_adds_up_and_nesting_is_brought_to_its_options() -> None:
    expr = parse("(MIT OR GPL-3.0-only) AND LGPL-2.1-only")
    assert expr.operator == "and"
    assert sorted(sorted(o.licences) for o in expr.options) == [
        ["license:GPL-3.0-only", "license:LGPL-2.1-only"], ["license:LGPL-2.1-only", "license:MIT"]]
    best, tie = choose(expr, BURDEN.get)
    assert set(expr.options[best].licences) == {"license:MIT", "license:LGPL-2.1-only"} and not tie


def test_with_narrows_a_licence_by_its_exception() -> None:
    expr = parse("GPL-2.0-only WITH Classpath-exception-2.0")
    (option,) = expr.options
    assert expr.operator == "with" and option.licences == ("license:GPL-2.0-only",)
    assert option.exceptions == (("license:GPL-2.0-only", "license:Classpath-exception-2.0"),)


def test_an_unknown_licence_weighs_the_most() -> None:
    assert choose(parse("LicenseRef-custom OR AGPL-3.0-only"), BURDEN.get) == (1, False)


@pytest.mark.parametrize("text", ["MIT OR (Apache-2.0", "AND MIT", "MIT " * 200])
def test_a_broken_or_oversized_expression_is_a_clear_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text)


# --- read from questions and answered ----------------------------------------------------------------
@pytest.mark.parametrize(("question", "expression"), [
    ("the crate we ship is MIT/Apache-2.0", "MIT OR Apache-2.0"),
    ("it's dual licensed under MIT or GPL-3.0", "MIT OR GPL-3.0-only"),
    ("the SPDX field says (MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause"),
    ("we bundle a GPL-2.0 library with the Classpath exception", "GPL-2.0-only WITH Classpath-exception-2.0"),
])
def test_an_expression_is_read_as_one(knowledge_base: Any, question: str, expression: str) -> None:
    u = knowledge_base.understand(question)
    assert [o.value for o in u.observations if o.key == "expression"] == [expression]
    assert not [o for o in u.observations if o.key == "mention" and str(o.value).startswith("license:")]


def test_two_licences_weighed_against_each_other_are_no_expression(knowledge_base: Any) -> None:
    u = knowledge_base.understand("MIT or Apache-2.0 for the SDK we publish?")
    assert not [o for o in u.observations if o.key == "expression"]
    assert {o.value for o in u.observations if o.key == "mention"} == {"license:MIT", "license:Apache-2.0"}


def _rules(knowledge_base: Any, question: str) -> set[str]:
    _, answer = Advisor(knowledge_base).ask(Conversation(), question)
    return {c.rule.id for c in answer.conclusions}


def test_a_dual_licence_brings_the_duties_of_the_lighter_side_only(knowledge_base: Any) -> None:
    fired = _rules(knowledge_base, "we distribute a desktop app that bundles a component under GPL-3.0-only OR MIT")
    assert {"licences.expression-choice", "licences.mit-notice"} <= fired
    assert not fired & {"licences.gpl3-corresponding-source", "licensing.copyleft-distribution"}


def test_the_classpath_exception_lifts_the_copyleft_over_linked_code(knowledge_base: Any) -> None:
    fired = _rules(knowledge_base, "we distribute an app that bundles a GPL-2.0 library with the Classpath exception")
    assert "licences.classpath-exception" in fired
    assert not fired & {"licensing.copyleft-distribution", "licences.gpl2-source"}
    plain = _rules(knowledge_base, "we distribute an app that bundles a GPL-2.0 library")
    assert "licensing.copyleft-distribution" in plain
