"""The reader measured on the labelled utterances of reader/eval/ (test split) and the end-to-end questions.

The floors below are the figures the shipped reader reached on the test split when they were last raised,
less a small margin: a change that reads worse fails here. The issue's targets (micro-F1 0.90, decisive-field
precision 0.95, kind of question 0.90) are printed by `kb eval understanding`, which exits 1 below them.
Raise the floors when the reader improves; never tune on the test split.
"""

from __future__ import annotations

import pytest

from kb.advisor.advise import Advisor
from kb.advisor.phrasebook import ENTRY_KEYS, FIELD_KEYS
from kb.advisor.reader import DEFAULT_THRESHOLD
from kb.advisor.reading_eval import MIN_FIT_SUPPORT, end_to_end, evaluate, fit, load_files, split_files
from kb.config import Paths

FLOORS = {"micro_f1": 0.89, "decisive_precision": 0.94, "asked_accuracy": 0.93}
"""Last raised at test micro-F1 0.906, decisive precision 0.952, kind of question 0.935 (the decisive floor from 0.93;
each floor sits a reading or two below the figure, so a different machine's rounding cannot fail it)."""
END_TO_END_FLOOR = 0.93
"""Share of reader/eval/end_to_end.yaml that must pass (82 of 85 when last raised)."""


@pytest.fixture(scope="module")
def folder():  # type: ignore[no-untyped-def]
    return Paths.default().reader / "eval"


def test_the_test_split_stays_above_its_floors(knowledge_base, folder) -> None:  # type: ignore[no-untyped-def]
    reader = knowledge_base.reader
    decisive = [d.name for d in reader.book.fields.values() if d.decisive] + ["industry"]
    s = evaluate(reader, load_files(split_files(folder, "test"))).summary(decisive)
    assert s["micro"]["f1"] >= FLOORS["micro_f1"], s
    assert s["decisive_precision"] >= FLOORS["decisive_precision"], s
    assert s["asked_accuracy"] >= FLOORS["asked_accuracy"], s


def test_the_labelled_sets_are_large_enough_and_disjoint(folder) -> None:  # type: ignore[no-untyped-def]
    dev, test = load_files(split_files(folder, "dev")), load_files(split_files(folder, "test"))
    assert len(dev) + len(test) >= 400 and len(test) >= 100
    shared = sorted(n for n, u in enumerate(dev) if u.text in {t.text for t in test})
    assert not shared, f"dev utterances also in the test split, by position in dev: {shared}"  # no test text shown


def test_fitting_keeps_the_default_for_a_field_no_example_reads_and_embeds_each_text_once(
        knowledge_base, folder) -> None:  # type: ignore[no-untyped-def]
    """The team's size is read by quantities, never by an example: however many labels it has, the dev split
    says nothing about its examples' similarity, so its threshold stays the default (it was fitted to the
    grid's floor, 0.40). And fitting reads the split once per threshold tried but embeds each text once."""
    reader = knowledge_base.reader
    sized = [u for u in load_files(split_files(folder, "dev")) if any(i[1] == "team_size" for i in u.items)]
    labelled = sized[:MIN_FIT_SUPPORT]
    embed, calls = reader._embed, []

    def counted(texts):  # type: ignore[no-untyped-def]
        calls.append(tuple(texts))
        return embed(texts)

    reader._embed = counted
    try:
        chosen = fit(reader, labelled)
    finally:
        reader._embed = embed
    assert chosen["team_size"] >= DEFAULT_THRESHOLD
    assert len(calls) <= len(labelled) and reader._embed is embed


def test_end_to_end_questions_pass(knowledge_base, folder) -> None:  # type: ignore[no-untyped-def]
    results = end_to_end(Advisor(knowledge_base), folder / "end_to_end.yaml")
    assert len(results) >= 60
    failed = [(t, why) for t, ok, why in results if not ok]
    assert len(results) - len(failed) >= END_TO_END_FLOOR * len(results), failed


def test_every_reader_keyword_is_documented() -> None:
    from kb.config import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "reader.md").read_text(encoding="utf-8")
    for key in (*FIELD_KEYS, *ENTRY_KEYS, "negation", "hedges", "roles", "requirement", "not_names", "domain",
                "pseudo", "terminators", "window", "currencies", "scales", "vague", "lead_ins", "units",
                "first_person", "industry", "self", "customers", "organisations", "functions", "no_article",
                "described", "implies_currency", "asked_over_facts", "wholes", "salience", "headcount", "nobody",
                "approximate"):
        assert f"`{key}`" in text, key


def test_a_required_entity_listed_as_a_mention_too_is_one_item(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kb.advisor.reading_eval import load_split

    path = tmp_path / "dev.yaml"
    path.write_text("utterances:\n"
                    "  - text: we need SOC 2 and we are on AWS\n"
                    "    asked: recommendation\n"
                    "    mentions: [certification:soc2_type2, vendor:aws]\n"
                    "    requires: [certification:soc2_type2]\n")
    (u,) = load_split(path)
    assert sorted(u.items) == [("mention", "vendor:aws", True), ("requires", "certification:soc2_type2", True)]


def test_misfiring_names_the_phrase_line_that_read_a_fact_wrongly(knowledge_base, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`kb eval understanding --misfiring N` tells an analyst which phrase line to look at: the same words
    labelled once as stating a fact and once as not, the line that read them is right once and wrong once."""
    from kb.advisor.reading_eval import load_split

    path = tmp_path / "dev-x.yaml"
    path.write_text("utterances:\n"
                    "  - text: we sell a desktop app that bundles the model\n"
                    "    asked: recommendation\n"
                    "    facts: {distributes: true}\n"
                    "  - text: we sell a desktop app that bundles the model\n"
                    "    asked: recommendation\n"
                    "    facts: {distributes: false}\n")
    report = evaluate(knowledge_base.reader, load_split(path))
    rows = [r for r in report.misfiring(10) if r[0] == "distributes"]
    assert len(rows) == 1
    field, read_by, right, wrong = rows[0]
    file, line = read_by.rsplit(":", 1)
    assert file.startswith("reader/phrases/") and line.isdigit() and (right, wrong) == (1, 1)
    above = (Paths.default().root / file).read_text(encoding="utf-8").splitlines()[:int(line)]
    assert next(ln for ln in reversed(above) if "field:" in ln).split("field:")[1].strip() == "distributes"


def test_a_name_labelled_unknown_that_the_ontology_learnt_since_is_expected_as_a_mention(  # type: ignore[no-untyped-def]
        knowledge_base, tmp_path) -> None:
    """Labels outlive the ontology they were written against: "GPT-4o" labelled unknown before the ontology
    named it is scored as a mention of it now, and a name still unknown stays unknown."""
    from kb.advisor.reading_eval import known_now, load_split

    path = tmp_path / "dev-x.yaml"
    path.write_text("utterances:\n"
                    "  - text: we call GPT-4o and track runs in Kubeflow\n"
                    "    asked: recommendation\n"
                    "    unknown: [GPT-4o, Kubeflow]\n")
    (label,) = load_split(path)
    now = known_now(knowledge_base.reader, label)
    assert ("mention", "offering:gpt_4o", True) in now.items and now.unknown == ("Kubeflow",)
    s = evaluate(knowledge_base.reader, [label]).summary([])
    assert s["fields"]["mention"]["recall"] == 1.0 and s["unknown_names"]["recall"] == 1.0
