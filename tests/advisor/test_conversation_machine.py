"""A conversation as a state machine (Hypothesis): turns that state, deny and replace facts, removals by hand,
and what-ifs, in any order. After every step the answer equals a fresh consultation of the facts that
survive, and nothing of a what-if leaks into the conversation.

The rules are the shipped rule base on the real engine; the ontology is the shipped one.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kb.advisor.conversation import Conversation
from kb.advisor.reader import Observation, Understanding
from kb.config import Paths
from kb.engine.rulebase import Consultation, RuleBase
from kb.graph.ontology import load_ontology
from kb.model.facts import Source

PATHS = Paths.default()
ONTOLOGY = load_ontology(PATHS)
RULES = RuleBase.load(PATHS, terms=frozenset(ONTOLOGY.ids()))
SAID = Source(kind="question", text="...")

FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "team_size": st.integers(1, 200),
    "budget_usd": st.integers(1, 400).map(lambda k: k * 1000),
    "latency_ms": st.sampled_from([5.0, 15.0, 80.0, 500.0]),
    "regulated": st.booleans(),
    "distributes": st.booleans(),
    "network_service": st.booleans(),
    "customization": st.booleans(),
    "legacy_serving": st.booleans(),
    "ml_skills": st.sampled_from(["none", "some", "strong"]),
    "industry": st.sampled_from(["industry:healthcare", "industry:finance", "industry:ecommerce"]),
}
ENTITIES = st.sampled_from([("mention", "offering:pytorch"), ("mention", "offering:mlflow"),
                            ("mention", "offering:sagemaker"), ("requirement", "certification:hipaa_baa"),
                            ("requirement", "certification:soc2_type2")])


def answer(conversation: Conversation) -> Consultation:
    return RULES.consult(conversation.facts(ONTOLOGY, "recommendation"))


def summary(c: Consultation) -> tuple[Any, ...]:
    return (sorted(x.id for x in c.conclusions), [(s.option, round(s.score, 6)) for s in c.weighing()])


class ConversationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.conversation = Conversation()
        self.fields: dict[str, Any] = {}
        self.entities: set[tuple[str, str]] = set()

    def _turn(self, *observations: Observation) -> None:
        self.conversation.add_turn(Understanding("...", "recommendation", tuple(observations)))

    @rule(data=st.data(), name=st.sampled_from(sorted(FIELDS)))
    def say_a_field(self, data: st.DataObject, name: str) -> None:
        value = data.draw(FIELDS[name])
        self._turn(Observation(name, value, SAID))
        self.fields[name] = value

    @rule(data=st.data(), name=st.sampled_from(sorted(FIELDS)))
    def correct_a_field_by_hand(self, data: st.DataObject, name: str) -> None:
        value = data.draw(FIELDS[name])
        self.conversation.set_fact(name, value)
        self.fields[name] = value

    @precondition(lambda self: bool(self.fields))
    @rule(data=st.data())
    def deny_what_was_said(self, data: st.DataObject) -> None:
        """'we're not a bank': denies the value in force, so it goes."""
        name = data.draw(st.sampled_from(sorted(self.fields)))
        self._turn(Observation(name, self.fields.pop(name), SAID, negated=True))

    @precondition(lambda self: bool(self.fields))
    @rule(data=st.data())
    def deny_another_value(self, data: st.DataObject) -> None:
        """'we're not in finance' when healthcare was said: nothing changes."""
        name = data.draw(st.sampled_from(sorted(self.fields)))
        other = data.draw(FIELDS[name].filter(lambda v: v != self.fields[name]))
        self._turn(Observation(name, other, SAID, negated=True))

    @rule(entity=ENTITIES)
    def name_an_entity(self, entity: tuple[str, str]) -> None:
        self._turn(Observation(entity[0], entity[1], SAID))
        self.entities.add(entity)

    @rule(entity=ENTITIES)
    def drop_an_entity(self, entity: tuple[str, str]) -> None:
        """'we'll use the hosted API instead of PyTorch'."""
        self._turn(Observation(entity[0], entity[1], SAID, negated=True))
        self.entities.discard(entity)

    @precondition(lambda self: bool(self.fields or self.entities))
    @rule(data=st.data())
    def remove_by_hand(self, data: st.DataObject) -> None:
        ids = [f"asker.{n}" for n in self.fields] + [f"{k}:{i}" for k, i in self.entities]
        fid = data.draw(st.sampled_from(sorted(ids)))
        assert self.conversation.remove(fid)
        if fid.startswith("asker."):
            del self.fields[fid.removeprefix("asker.")]
        else:
            key, _, ident = fid.partition(":")
            self.entities.discard((key, ident))

    @rule(data=st.data(), name=st.sampled_from(sorted(FIELDS)))
    def ask_what_if(self, data: st.DataObject, name: str) -> None:
        value = data.draw(FIELDS[name])
        before = self.conversation.known()
        trial = self.conversation.what_if(name, value)
        assert self.conversation.known() == before  # the conversation is untouched
        fresh = self._fresh({**self.fields, name: value})
        assert summary(answer(trial)) == summary(answer(fresh))

    def _fresh(self, fields: dict[str, Any]) -> Conversation:
        fresh = Conversation()
        for name, value in fields.items():
            fresh.set_fact(name, value)
        for key, ident in sorted(self.entities):
            fresh.add_entity(key, ident)
        return fresh

    @invariant()
    def the_answer_is_a_fresh_consultation_of_what_survives(self) -> None:
        known = {fid: value for fid, value, _ in self.conversation.known()}
        expected = {f"asker.{n}": v for n, v in self.fields.items()} | {f"{k}:{i}": i for k, i in self.entities}
        assert known == expected
        assert summary(answer(self.conversation)) == summary(answer(self._fresh(self.fields)))


ConversationMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=12, deadline=None,
                                                 suppress_health_check=[HealthCheck.too_slow])
test_conversation_follows_every_correction = ConversationMachine.TestCase
