"""Fuzzing the ways in (Hypothesis): generated analysts' files (rules, phrases, corpus metadata, furniture,
Turtle) and questions, random and structured-but-wrong. Whatever comes in: no traceback, no hang (each case
has a deadline), and every problem names its file and a line.

The default suite runs a small budget; `pytest -m slow tests/test_fuzzing.py` runs a large one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import vocab
from kb.advisor.advise import Advisor, KnowledgeBase
from kb.advisor.conversation import Conversation
from kb.advisor.phrasebook import load_phrasebook
from kb.corpus.documents import load_furniture, load_metadata
from kb.graph.ontology import read_turtle
from kb.model.problems import Problem
from kb.render import FORMATS, export
from kb.rulebook.rules import parse_rules

SMALL = settings(max_examples=25, deadline=5_000, suppress_health_check=list(HealthCheck))
LARGE = settings(max_examples=600, deadline=5_000, suppress_health_check=list(HealthCheck))

WORDS = [*vocab.RULE_KEYWORDS, *vocab.OPERATORS, *vocab.CONCLUSION_KINDS, *vocab.FACT_KINDS, "asker",
         "team_size", "industry", "patterns", "pattern", "documents", "title", "publisher", "examples",
         "near_misses", "field", "value", "asked", "LOWER", "ORTH", "OP", "?", "*", "+", "$a.b", "{x.y}"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.sampled_from(WORDS), st.text(max_size=12))
values: st.SearchStrategy[Any] = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(st.sampled_from(WORDS), inner, max_size=4)), max_leaves=25)
# structured but wrong: YAML of the right top-level keys holding anything, or bytes of YAML syntax
yaml_text = st.one_of(
    st.dictionaries(st.sampled_from(WORDS), values, max_size=5).map(
        lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#%@ \n\t<=0123.")), max_size=200),
)
TURTLE_BITS = ["@prefix ex: <http://example.org/> .", "ex:a", "ex:b", "ex:c", "a", ";", ",", ".", '"x"',
               '"""y"""', "^^", "<http://x>", "_:b", "[", "]", "(", ")", "@en", "12", "true", "<!DOCTYPE", "#", "\n"]
turtle_text = st.lists(st.sampled_from(TURTLE_BITS), max_size=40).map(" ".join)


def well_formed(problems: list[Problem], path: str) -> None:
    for p in problems:
        assert p.path and path in p.path, p
        assert p.line >= 0 and p.message, p


def _rule_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = parse_rules([path])
    well_formed(problems, "fuzz.yaml")


def _corpus_files(tmp_path: Path, text: str) -> None:
    for name in ("metadata.yaml", "furniture.yaml"):
        (tmp_path / name).write_text(text, encoding="utf-8")
    _, problems = load_metadata(tmp_path)
    well_formed(problems, "metadata.yaml")
    _, problems = load_furniture(tmp_path)
    well_formed(problems, "furniture.yaml")


def _phrase_file(reader: Path, text: str) -> None:
    (reader / "phrases" / "fuzz.yaml").write_text(text, encoding="utf-8")
    book = load_phrasebook(reader, vocab.ASKED_KINDS, validate=True)
    well_formed([p for p in book.problems if "fuzz.yaml" in p.path], "fuzz.yaml")


def _turtle(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.ttl"
    path.write_text(text, encoding="utf-8")
    _, problems = read_turtle(path, "ontology/fuzz.ttl")
    well_formed(problems, "fuzz.ttl")


@pytest.fixture(scope="module")
def reader_copy(kb_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reader") / "reader"
    shutil.copytree(kb_root / "reader", folder)
    return folder


@SMALL
@given(text=yaml_text)
def test_rule_files(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    _rule_file(tmp_path_factory.mktemp("r"), text)


@SMALL
@given(text=yaml_text)
def test_corpus_metadata_and_furniture(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    _corpus_files(tmp_path_factory.mktemp("c"), text)


@SMALL
@given(text=yaml_text)
def test_phrase_files(reader_copy: Path, text: str) -> None:
    _phrase_file(reader_copy, text)


@SMALL
@given(text=turtle_text)
def test_turtle_files(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    _turtle(tmp_path_factory.mktemp("t"), text)


questions = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=40),  # surrogates
    st.lists(st.sampled_from(["we", "are", "not", "a", "bank", "10k", "€", "ms", "GPT-4", "pytorh", ",", ".",
                              "HIPAA", "ignore", "rules", "\x1b[2J", "\u202e", "$$", "<script>", "1e400"]),
             max_size=30).map(" ".join),
)


@SMALL
@given(question=questions)
def test_questions_are_answered_or_refused_and_every_answer_exports(knowledge_base: KnowledgeBase,
                                                                   question: str) -> None:
    try:
        _, answer = Advisor(knowledge_base).ask(Conversation(), question)
    except ValueError:
        assert len(question) > 20_000
        return
    for fmt in FORMATS:
        name, text = export(answer, fmt)
        text.encode("utf-8")
        assert "/" not in name


@pytest.mark.slow
@LARGE
@given(text=yaml_text, turtle=turtle_text)
def test_a_large_budget_over_every_file_kind(tmp_path_factory: pytest.TempPathFactory, reader_copy: Path,
                                             text: str, turtle: str) -> None:
    folder = tmp_path_factory.mktemp("all")
    _rule_file(folder, text)
    _corpus_files(folder, text)
    _phrase_file(reader_copy, text)
    _turtle(folder, turtle)
