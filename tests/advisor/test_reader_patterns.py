"""Question understanding: numbers with units, yes/no statements with negation, entities, what is asked."""

from __future__ import annotations

import pytest

from kb import vocab
from kb.advisor.phrasebook import load_phrasebook
from kb.advisor.reader import EntityMatcher, Reader
from kb.config import Paths

LABELS = {
    "offering:pytorch": ["PyTorch"],
    "offering:mlflow": ["MLflow"],
    "offering:spark_mllib": ["Spark MLlib", "MLlib"],
    "offering:apache_spark": ["Apache Spark", "Spark"],
    "certification:hipaa_baa": ["HIPAA", "HIPAA BAA"],
    "industry:healthcare": ["health-tech", "healthcare"],
    "license:JSON": ["JSON"],
    "license:GPL-3.0-only": ["GPLv3", "GPL-3.0", "GNU GPL v3"],
}
MATCHER = EntityMatcher(LABELS, guarded=["license:JSON"])


def observed(question: str) -> dict[str, object]:
    return {o.key: o.value for o in _reader().read(question).observations if o.key not in ("mention",)}


def test_the_design_card_question_yields_team_industry_requirement_and_offerings() -> None:
    q = "we're a 6-person health-tech team, need HIPAA, is self-hosting PyTorch + MLflow wise, or should we buy?"
    u = _reader().read(q)
    assert u.asked == "recommendation"
    pairs = {(o.key, o.value) for o in u.observations}
    assert {("team_size", 6), ("industry", "industry:healthcare"), ("requirement", "certification:hipaa_baa"),
            ("mention", "offering:pytorch"), ("mention", "offering:mlflow")} <= pairs
    for o in u.observations:  # every observation points at the words it was read from
        assert q[o.source.start:o.source.end] == o.source.text


@pytest.mark.parametrize(
    ("question", "key", "value"),
    [
        ("we are a team of five data scientists", "team_size", 5),
        ("12 engineers, no more", "team_size", 12),
        ("serving must answer under 20 ms", "latency_ms", 20.0),
        ("inference latency of 0.5 seconds is fine", "latency_ms", 500.0),
        ("our budget is $50k a year", "budget_usd", 50_000),
        ("we can spend $4k/month", "budget_usd", 48_000),
        ("it has to be live within two quarters", "deadline_months", 6.0),
        ("we must ship in 6 weeks", "deadline_months", round(6 * 12 / 52, 2)),
        ("we handle patient data", "sensitive_data", True),
        ("we plan to fine-tune an LLM", "fine_tuning", True),
    ],
)
def test_numbers_and_statements(question: str, key: str, value: object) -> None:
    assert observed(question)[key] == value


@pytest.mark.parametrize(
    ("question", "key", "value"),
    [
        ("actually we're not regulated", "regulated", False),
        ("we are regulated", "regulated", True),
        ("we don't distribute the software", "distributes", False),
        ("we ship on-prem to hospitals", "distributes", True),
    ],
)
def test_negation_turns_a_statement_around(question: str, key: str, value: object) -> None:
    assert observed(question)[key] == value


def test_longest_label_wins_and_plain_words_need_license_context() -> None:
    found = MATCHER.find("Spark MLlib or Apache Spark? we exchange JSON, and the JSON license is odd")
    ids = [i for i, _, _ in found]
    assert ids == ["offering:spark_mllib", "offering:apache_spark", "license:JSON"]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("is JSON or Apache-2.0 stricter?", ["license:JSON", "license:Apache-2.0"]),  # another licence named
        ("what does code under the JSON oblige us to do", ["license:JSON"]),  # "under"
        ("we reuse JSON code in our tool", ["license:JSON"]),  # "X code"
        ("is it JSON, or Apache-2.0?", ["license:JSON", "license:Apache-2.0"]),  # listed beside a licence
        ("we send JSON to an Apache-2.0 service", ["license:Apache-2.0"]),  # a licence elsewhere: JSON is data
        ("we send JSON to the API", []),
    ],
)
def test_a_guarded_licence_name_counts_where_a_licence_is_spoken_of(text: str, ids: list[str]) -> None:
    assert sorted(i for i, _, _ in EntityMatcher({**LABELS, "license:Apache-2.0": ["Apache-2.0"]},
                                                  guarded=["license:JSON"]).find(text)) == sorted(ids)


def test_a_name_an_analyst_wrote_for_a_guarded_licence_counts_anywhere() -> None:
    matcher = EntityMatcher({"license:SSPL-1.0": ["Server Side Public License", "SSPL"]},
                            guarded=["license:SSPL-1.0"], vouched={"license:SSPL-1.0": ["SSPL"]})
    assert [i for i, _, _ in matcher.find("whats the SSPL")] == ["license:SSPL-1.0"]


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("What is the weather in Paris tomorrow?", "out_of_scope"),
        ("what does GNU GPL v3 require if we distribute our product?", "obligations"),
        ("PyTorch vs MLflow for experiment tracking", "comparison"),
        ("how do we run a vendor selection for an ML platform?", "process"),
        ("what is open-core licensing?", "definition"),
        ("should we build our own feature store?", "recommendation"),
    ],
)
def test_what_is_asked(question: str, asked: str) -> None:
    assert _reader().read(question).asked == asked


def test_a_denied_requirement_is_marked_negated() -> None:
    (obs,) = [o for o in _reader().read("we no longer need HIPAA").observations if o.key == "requirement"]
    assert obs.negated and obs.value == "certification:hipaa_baa"


def test_a_label_shared_by_several_entities_reaches_the_preferred_one() -> None:
    labels = {"license:GPL-3.0-only": ["GPL-3.0"], "license:GPL-3.0-or-later": ["GPL-3.0", "GPL-3.0+"]}
    assert {i for i, _, _ in EntityMatcher(labels).find("it is GPL-3.0")} == set(labels)
    prefer = {"GPL-3.0": "license:GPL-3.0-only"}.get
    assert [i for i, _, _ in EntityMatcher(labels, prefer=prefer).find("it is GPL-3.0")] == ["license:GPL-3.0-only"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("we offer a SaaS product built on it", True),
        ("our SaaS analytics tool uses it", True),
        ("should we buy a SaaS ML platform?", None),
        ("we embed it in our shipped SDK", None),
    ],
)
def test_offering_a_service_is_not_buying_one(question: str, expected: object) -> None:
    assert observed(question).get("network_service") == expected


def test_a_shipped_sdk_is_distribution() -> None:
    assert observed("we embed an LGPL library in our shipped SDK")["distributes"] is True


_READERS: list[Reader] = []


def _reader() -> Reader:
    """A reader with the project's phrasebook over this file's few labels, by patterns only (no model)."""
    if not _READERS:
        _READERS.append(Reader(load_phrasebook(Paths.default().reader, vocab.ASKED_KINDS), MATCHER))
    return _READERS[0]
