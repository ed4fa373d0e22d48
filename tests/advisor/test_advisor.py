"""The advisor over the shipped knowledge base: questions written from the corpus, conversations with
corrections, "why not", what-if, and the justification document with its exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from rdflib import Graph

from kb import render
from kb.advisor.advise import Advisor, KnowledgeBase
from kb.advisor.conversation import Conversation
from kb.model.answer import Answer, validate
from kb.render.text import render_text

CASES = yaml.safe_load((Path(__file__).parents[1] / "data" / "advisor" / "questions.yaml").read_text())


@pytest.fixture(scope="module")
def advisor(knowledge_base: KnowledgeBase) -> Advisor:
    return Advisor(knowledge_base)


def ask(advisor: Advisor, *questions: str) -> tuple[Conversation, Answer]:
    conversation = Conversation()
    for q in questions:
        conversation, answer = advisor.ask(conversation, q)
    return conversation, answer


def rules_of(doc: Answer) -> set[str]:
    return {c.rule.id for c in doc.conclusions}


def assert_citations_exact(kb: KnowledgeBase, doc: Answer) -> None:
    for c in doc.conclusions:
        assert len(c.citations) <= 3
        for cit in c.citations:
            assert kb.corpus.get(cit.doc).text[cit.start:cit.end] == cit.text


def test_there_are_at_least_thirty_questions_of_every_kind() -> None:
    assert len(CASES) >= 30
    assert {c["asked"] for c in CASES} >= {"recommendation", "obligations", "comparison", "definition", "process",
                                          "out_of_scope"}


@pytest.mark.parametrize("case", CASES, ids=[c["question"][:48] for c in CASES])
def test_question(advisor: Advisor, knowledge_base: KnowledgeBase, case: Answer) -> None:
    _, doc = ask(advisor, case["question"])
    validate(doc.to_dict())
    assert doc.asked == case["asked"]
    if case.get("abstain"):
        assert doc.abstention and "outside what I know" in doc.abstention
        assert doc.conclusions == () and doc.recommendation is None
        return
    rec = doc.recommendation
    assert (rec.option if rec else None) == case["option"], render_text(doc)
    assert set(case.get("rules", ())) <= rules_of(doc)
    assert_citations_exact(knowledge_base, doc)
    if "cites" in case:
        pool = [c for c in doc.conclusions if rec is None or c.id in rec.conclusions]
        passages = [(x.doc, " ".join(x.text.split())) for c in pool for x in c.citations]
        want = case["cites"]
        assert any(d == want["doc"] and want["contains"] in t for d, t in passages), passages


def test_a_correction_removes_what_rested_on_the_corrected_fact(advisor: Advisor) -> None:
    conversation, first = ask(advisor, "we're a 6-person health-tech team and we need HIPAA; should we buy a platform?")
    assert {"compliance.buy-coverage", "compliance.hipaa-baa"} <= rules_of(first)
    conversation, second = advisor.ask(conversation, "actually we're not regulated and we don't need HIPAA")
    assert not {"compliance.buy-coverage", "compliance.hipaa-baa"} & rules_of(second)
    assert not any(f.kind == "regulated_context" for f in second.facts)
    assert "build.small-team" in rules_of(second)  # what did not rest on it stays
    assert len(second.turns) == 2


def test_why_not_names_the_failed_condition(advisor: Advisor) -> None:
    _, doc = ask(advisor, "We are a 4-person startup with no ML expertise. Should we build our own ML platform?")
    assert doc.recommendation.option == "commercial"
    build = next(w for w in doc.why_not if w.option == "build_in_house")
    latency = next(r for r in build.rules if r.rule.id == "build.strict-latency")
    assert not latency.fired
    assert any("latency_ms" in f for f in latency.failed)
    assert {w.option for w in doc.why_not} == {"open_source", "build_in_house", "open_core", "hybrid"}


def test_what_if_changes_the_answer_and_keeps_the_conversation(advisor: Advisor) -> None:
    conversation, doc = ask(advisor, "We must serve models from our legacy mainframe serving stack. Build or buy?")
    assert doc.recommendation.option == "build_in_house"
    other = advisor.what_if(conversation, "team_size", 3)
    assert other.recommendation.option == "commercial"
    assert advisor.answer(conversation).recommendation.option == "build_in_house"


def test_missing_facts_are_asked_decisive_first(advisor: Advisor) -> None:
    _, doc = ask(advisor, "We must serve models from our legacy mainframe serving stack. Build or buy?")
    fields = [m.field for m in doc.missing]
    assert "asker.team_size" in fields
    decisive = [m.decisive for m in doc.missing]
    assert decisive == sorted(decisive, reverse=True)
    assert next(m for m in doc.missing if m.field == "asker.team_size").decisive


def test_every_fact_has_a_source_and_every_reason_is_a_known_fact(advisor: Advisor) -> None:
    q = "we're a 6-person health-tech team, need HIPAA, is self-hosting PyTorch + MLflow wise?"
    _, doc = ask(advisor, q)
    ids = {f.id for f in doc.facts}
    for c in doc.conclusions:
        assert c.because and set(c.because) <= ids, c
    team = next(f for f in doc.facts if f.id == "asker.team_size")
    assert team.source.kind == "question" and q[team.source.start:team.source.end] == "6-person"
    derived = [f for f in doc.facts if f.source.kind == "derived"]
    assert derived and all(set(f.source.from_facts) <= ids for f in derived)


def test_exports_validate_and_render_every_citation(advisor: Advisor) -> None:
    _, doc = ask(advisor, "we're a 6-person health-tech team, need HIPAA, is self-hosting PyTorch + MLflow wise?")
    files = render.export_all(doc)
    assert json.loads(files["json"][1]) == doc.to_dict()
    assert Answer.from_dict(doc.to_dict()) == doc  # a saved record reads back as the same answer
    Graph().parse(data=files["prov"][1], format="turtle")
    cits = doc.citations()
    assert cits
    md = files["md"][1]
    for cit in cits:
        assert f"{cit.n}. *" in md
    assert render.export_all(doc) == files  # stable


def test_the_answer_is_the_same_whatever_the_order_facts_were_given(advisor: Advisor) -> None:
    _, one = ask(advisor, "We are a team of 5 in healthcare.", "We need HIPAA and use PyTorch.")
    _, two = ask(advisor, "We need HIPAA and use PyTorch.", "We are a team of 5 in healthcare.")
    assert one.recommendation == two.recommendation
    assert rules_of(one) == rules_of(two)


def test_statements_name_entities_rather_than_quoting_their_ids(advisor: Advisor) -> None:
    _, doc = ask(advisor, "we're a 6-person health-tech team, need HIPAA, is self-hosting PyTorch wise?")
    statements = " ".join(c.statement for c in doc.conclusions)
    assert "BSD-3-Clause" in statements and "license:BSD-3-Clause" not in statements
    assert "HIPAA Business Associate Agreement" in statements and "certification:" not in statements
