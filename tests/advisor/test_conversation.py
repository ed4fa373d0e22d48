"""Conversations: facts accumulate over turns, the latest word wins, profiles are checked with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import vocab
from kb.advisor.conversation import Conversation, load_profile, with_profile
from kb.advisor.phrasebook import load_phrasebook
from kb.advisor.reader import EntityMatcher, Reader
from kb.config import Paths
from kb.model.facts import Fact, Source
from kb.model.problems import KnowledgeError

ONT = Source(kind="ontology", file="ontology/test.ttl")
ONTOLOGY_FACTS = {
    f.id: f
    for f in (
        Fact.make("industry:healthcare", "industry", {"name": "Healthcare", "regulated": True}, ONT),
        Fact.make("offering:pytorch", "offering", {"name": "PyTorch", "license": "license:BSD-3-Clause"}, ONT),
        Fact.make("license:BSD-3-Clause", "license", {"family": "permissive"}, ONT),
        Fact.make("certification:hipaa_baa", "certification", {"name": "HIPAA BAA"}, ONT),
    )
}
NAMES = {"Healthcare": "industry:healthcare", "PyTorch": "offering:pytorch", "HIPAA": "certification:hipaa_baa"}


class Ontology:
    """The two lookups a conversation needs, over a handful of facts."""

    def fact(self, ident: str) -> Fact | None:
        return ONTOLOGY_FACTS.get(ident)

    def related(self, ids: object) -> list[Fact]:
        out = [ONTOLOGY_FACTS[i] for i in ids if i in ONTOLOGY_FACTS]  # type: ignore[attr-defined]
        if "offering:pytorch" in ids:  # type: ignore[operator]
            out.append(ONTOLOGY_FACTS["license:BSD-3-Clause"])
        return out


MATCHER = EntityMatcher({i: [f.get("name")] for i, f in ONTOLOGY_FACTS.items() if f.get("name")}
                        | {"certification:hipaa_baa": ["HIPAA"]})


def test_facts_accumulate_and_a_correction_replaces_the_old_value() -> None:
    c = Conversation()
    c.add_turn(_reader().read("we're a 6-person healthcare team using PyTorch, need HIPAA"))
    c.add_turn(_reader().read("actually we're not regulated, and we are 9 engineers now"))
    known = {fid: value for fid, value, _ in c.known()}
    assert known["asker.team_size"] == 9
    assert known["asker.regulated"] is False
    assert known["mention:offering:pytorch"] == "offering:pytorch"
    facts = {f.id: f for f in c.facts(Ontology())}
    assert facts["asker"].get("regulated") is False
    assert "license:BSD-3-Clause" in facts  # the mentioned offering brings its license along
    assert facts["requirement:certification:hipaa_baa"].source.text == "HIPAA"


def test_the_industry_is_a_field_and_its_entity_comes_along() -> None:
    c = Conversation()
    c.add_turn(_reader().read("we are a healthcare startup"))
    facts = {f.id: f for f in c.facts(Ontology())}
    assert facts["asker"].get("industry") == "industry:healthcare"
    assert "regulated" not in dict(facts["asker"].fields)  # regulation by industry is the rules' inference
    assert facts["industry:healthcare"].get("regulated") is True


def test_removing_and_denying_facts() -> None:
    c = Conversation()
    c.add_turn(_reader().read("team of 4, PyTorch, need HIPAA"))
    assert c.remove("asker.team_size")
    c.add_turn(_reader().read("we don't need HIPAA after all"))
    ids = {fid for fid, _, _ in c.known()}
    assert ids == {"mention:offering:pytorch"}
    assert not c.remove("asker.team_size")


def test_what_if_leaves_the_conversation_alone_and_saving_round_trips(tmp_path: Path) -> None:
    c = Conversation()
    c.add_turn(_reader().read("we are 6 people"))
    other = c.what_if("team_size", 60)
    assert {f: v for f, v, _ in other.known()}["asker.team_size"] == 60
    assert {f: v for f, v, _ in c.known()}["asker.team_size"] == 6
    c.save(tmp_path / "s.json")
    assert Conversation.load(tmp_path / "s.json").known() == c.known()


def test_a_profile_feeds_facts_and_its_mistakes_name_file_and_line(tmp_path: Path) -> None:
    good = tmp_path / "profile.yaml"
    good.write_text("team_size: 6\nindustry: Healthcare\nrequires: [HIPAA]\nuses:\n  - PyTorch\n")
    obs = load_profile(good, NAMES.get)
    c = with_profile(Conversation(), obs)
    c.add_turn(_reader().read("we are 8 people"))
    known = {fid: (v, o.source) for fid, v, o in c.known()}
    assert known["asker.team_size"][0] == 8  # a turn overrides the profile
    assert known["asker.industry"][1].kind == "profile" and known["asker.industry"][1].line == 2

    bad = tmp_path / "bad.yaml"
    bad.write_text("team_size: six\nrequires: [HIPPA]\nbudget_usd: 100\nregulated: maybe\n")
    with pytest.raises(KnowledgeError) as err:
        load_profile(bad, NAMES.get)
    lines = [str(p) for p in err.value.problems]
    assert any(":1: 'team_size' expects a number" in line for line in lines)
    assert any(":2: 'requires': no entity is called 'HIPPA'" in line for line in lines)
    assert any(":4: 'regulated' expects yes or no" in line for line in lines)
    assert len(lines) == 3


def test_the_documented_example_profile_loads(shipped_ontology) -> None:  # type: ignore[no-untyped-def]
    from kb.config import PROJECT_ROOT

    obs = load_profile(PROJECT_ROOT / "docs" / "examples" / "profile.yaml", shipped_ontology.resolve)
    assert ("requirement", "certification:hipaa_baa") in {(o.key, o.value) for o in obs}


_READERS: list[Reader] = []


def _reader() -> Reader:
    """A reader with the project's phrasebook over this file's few labels, by patterns only (no model)."""
    if not _READERS:
        _READERS.append(Reader(load_phrasebook(Paths.default().reader, vocab.ASKED_KINDS), MATCHER))
    return _READERS[0]
