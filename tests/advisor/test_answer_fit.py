"""Answers that fit the question: a tie says it is a tie and asks what would break it; a licence question is
answered with its obligations and asks back only about the uses its duties turn on; whatever is asked back
could change this answer, three questions at most."""

from __future__ import annotations

from typing import Any

from kb.advisor.advise import Advisor
from kb.advisor.conversation import Conversation
from kb.render.markdown import to_markdown
from kb.render.text import render_text

LICENCE_USE_FIELDS = {"asker.distributes", "asker.network_service", "asker.internal_only", "asker.modifies",
                      "asker.linking", "asker.commercial_use", "asker.shares_weights"}


def test_a_tie_is_said_to_be_one_and_the_questions_back_could_break_it(knowledge_base: Any) -> None:
    conversation = Conversation()
    conversation.set_fact("regulated", True)  # buy for the certifications ...
    conversation.set_fact("legacy_serving", True)  # ... build for the legacy serving system: as strong
    advisor = Advisor(knowledge_base)
    answer = advisor.answer(conversation)
    assert answer.recommendation is not None and answer.recommendation.tie
    assert {answer.recommendation.option, *answer.recommendation.tie} == {"build_in_house", "commercial"}
    text = render_text(answer)
    assert "a tie between" in text and "Recommendation:" not in text
    assert "No option chosen: a tie" in to_markdown(answer)
    asked = answer.asked_back()
    assert 0 < len(asked) <= 3 and all(q.decisive for q in asked)
    # and each one could: some answer to the first breaks the tie
    field = asked[0].field.removeprefix("asker.")
    outcomes = set()
    for value in advisor._candidates(knowledge_base, field):
        trial = advisor.what_if(conversation, field, value)
        outcomes.add((trial.option, bool(trial.recommendation and trial.recommendation.tie)))
    assert any(not tie for _, tie in outcomes)


def test_a_licence_question_gets_obligations_and_asks_only_about_the_use(knowledge_base: Any) -> None:
    _, answer = Advisor(knowledge_base).ask(Conversation(), "what does the AGPL oblige us to do?")
    assert answer.asked == "obligations" and answer.recommendation is None
    assert answer.shown()[0].kind in ("obligation", "risk", "note")
    asked = answer.asked_back()
    assert asked and {q.field for q in asked} <= LICENCE_USE_FIELDS and all(q.decisive for q in asked)
    assert "could change what the licences ask of you" in render_text(answer)


def test_once_the_use_is_known_no_question_is_asked_for_its_own_sake(knowledge_base: Any) -> None:
    _, answer = Advisor(knowledge_base).ask(
        Conversation(), "we run an unmodified AGPL-3.0 server as our SaaS backend, we don't ship it to anyone")
    assert answer.asked == "obligations"
    assert not {q.field for q in answer.asked_back()} - LICENCE_USE_FIELDS
    assert all(q.decisive for q in answer.asked_back())


def test_a_conclusion_resting_on_an_unsourced_fact_says_it_is_an_assumption(knowledge_base: Any) -> None:
    _, answer = Advisor(knowledge_base).ask(
        Conversation(), "we're a hospital and need a HIPAA BAA, is Amazon SageMaker an option?")
    held = [c for c in answer.conclusions if c.rule.id == "compliance.certification-held"]
    assert held and any("SageMaker holds" in a for c in held for a in c.assumptions)
    assert "assumption: Amazon SageMaker holds" in render_text(answer)
    # a conclusion that does not rest on the assumed fields carries none
    eula = [c for c in answer.conclusions if c.rule.id == "licensing.commercial-eula"]
    assert eula and not any(c.assumptions for c in eula)


def test_a_licence_clause_is_cited_only_for_its_own_licence(knowledge_base: Any) -> None:
    _, answer = Advisor(knowledge_base).ask(
        Conversation(), "our mobile app ships Llama 2 weights to millions of users, what does the license ask?")
    llama2 = [c for c in answer.conclusions if c.rule.id.startswith("licences.llama2")]
    assert llama2
    cited = {x.doc for c in llama2 for x in c.citations if x.doc.startswith("licences/")}
    assert cited == {"licences/llama-2-license-2023.txt"}  # never Llama 3.x's like-worded clauses


def test_a_name_several_releases_share_is_asked_about_not_guessed(knowledge_base: Any) -> None:
    u = knowledge_base.understand("we want to self-host Llama for our chatbot")
    assert not [o for o in u.observations if str(o.value).startswith("offering:llama")]
    assert [(text, set(ids)) for text, ids in u.ambiguous] == [
        ("Llama", {"offering:llama2", "offering:llama31", "offering:llama32", "offering:llama33"})]
    _, answer = Advisor(knowledge_base).ask(Conversation(), "we want to self-host Llama for our chatbot")
    assert '"Llama" could be Llama 2, Llama 3.1, Llama 3.2 or Llama 3.3: say which' in render_text(answer)
    # a release named is taken as it is
    named = knowledge_base.understand("we want to self-host Llama 3.1 for our chatbot")
    assert "offering:llama31" in {str(o.value) for o in named.observations} and not named.ambiguous
