"""`kb ask --set industry=fintech` stored the word "fintech" while the chat stored `industry:finance`, so the
same words gave different facts (and different rules fired) depending on where they were typed."""

from __future__ import annotations

import pytest

from app.service import ChatService
from kb.advisor.advise import Advisor, KnowledgeBase
from kb.advisor.conversation import Conversation


def test_a_named_industry_is_stored_as_its_entity_whoever_sets_it(knowledge_base: KnowledgeBase) -> None:
    advisor = Advisor(knowledge_base)
    said = Conversation()
    advisor.set_fact(said, "industry", "healthcare")  # what kb ask --set and the API call
    by_cli = dict((fid, v) for fid, v, _ in said.known())["asker.industry"]

    class Live:
        current = knowledge_base

    service = ChatService(Live(), advisor=lambda _: advisor)  # type: ignore[arg-type]
    session = service.set_fact(None, "asker.industry", "healthcare")
    by_chat = dict((fid, v) for fid, v, _ in Conversation.from_dict(session["conversation"]).known())
    assert by_cli == by_chat["asker.industry"] == "industry:healthcare"
    with pytest.raises(ValueError, match="industry"):
        advisor.set_fact(said, "industry", "basket weaving")
