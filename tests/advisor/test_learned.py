"""The learned reader: its features are scikit-learn's, it reads what its labels teach and shows the words that
weighed, it is fitted again only when its labels change, and a broken labelled file or cache turns it off or
refits it without taking the reader down."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb import vocab
from kb.advisor import learned
from kb.advisor.phrasebook import load_phrasebook
from kb.advisor.reader import EntityMatcher, Reader
from kb.advisor.reading_eval import learned_reader
from kb.config import Paths
from kb.render.words import how_read

# Made-up words keep the shipped phrases out of it: only what these labels teach can read them.
BACK_OFFICE = ["the quux tool stays with our back office crew", "only the back office crew ever opens quux",
               "quux is for the back office crew, nobody else", "our back office crew runs the quux reports",
               "back office crew only, quux never leaves the building",
               "the quux dashboards serve our back office crew",
               "a back office crew tool, quux", "quux: built for the back office crew"]
SOLD = ["we sell the quux tool to clinics", "quux ships to paying clinics", "clinics buy quux from us",
        "our clinics pay for quux seats", "quux is sold to clinics by subscription", "we license quux to clinics",
        "quux goes out to every clinic that pays", "clinics get quux when they sign"]
OTHER = ["we have four engineers", "budget is tight this year", "we are on azure", "what does copyleft mean",
         "which is cheaper, a or b", "we need answers within an hour", "our data stays in the eu",
         "gpus are scarce here"]


def labelled() -> list[learned.Labelled]:
    scored = frozenset({"internal_only"})
    out = [learned.Labelled(t, {"internal_only": True}, scored, f"dev-{n % 3}.yaml") for n, t in enumerate(BACK_OFFICE)]
    out += [learned.Labelled(t, {"internal_only": False}, scored, f"dev-{n % 3}.yaml") for n, t in enumerate(SOLD)]
    out += [learned.Labelled(t, {}, scored, f"dev-{n % 3}.yaml") for n, t in enumerate(OTHER)]
    return out


@pytest.fixture(scope="module")
def model() -> learned.LearnedReader:
    return learned.fit(labelled(), ["internal_only"])


@pytest.fixture(scope="module")
def vectorisers():  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [u.text for u in labelled()] + ["Café naïve résumé, ÜBER-fast!!", "x  y\tz\n\nq 12 345"]
    return TfidfVectorizer(**learned.WORDS).fit(texts), TfidfVectorizer(**learned.CHARS).fit(texts)


@given(st.text(alphabet=st.sampled_from(list("abcquxABQéÜ 1 2\t\n,.!-'")), max_size=80))
@settings(max_examples=200, deadline=None)
def test_a_questions_features_are_those_scikit_learn_makes(vectorisers, text: str) -> None:  # type: ignore[no-untyped-def]
    """Answering computes the TF-IDF row itself (scikit-learn is imported only to fit): it must be the row
    `TfidfVectorizer` makes, or the weights fitted on one would be read against another."""
    words, chars = vectorisers
    from scipy.sparse import hstack

    reader = learned.LearnedReader(words.get_feature_names_out(), words.idf_, chars.get_feature_names_out(),
                                   chars.idf_, np.zeros((len(words.idf_) + len(chars.idf_), 0)), np.zeros(0), [])
    expected = hstack([words.transform([text]), chars.transform([text])]).toarray()[0]
    got = np.zeros_like(expected)
    idx, vals = reader.features(text)
    got[idx] = vals
    assert np.allclose(got, expected, atol=1e-12)


def test_an_unseen_wording_is_read_with_the_words_that_weighed_for_it(model) -> None:  # type: ignore[no-untyped-def]
    read = model.read("honestly quux is just for the back office crew", {"internal_only": 0.5})
    value, p, why = read["internal_only"]
    assert value is True and p >= 0.5
    assert why and all(w in "honestly quux is just for the back office crew" for w in why)
    value, p, _ = model.read("we sell quux to a few clinics", {"internal_only": 0.5})["internal_only"]
    assert value is False
    # below its threshold, a field is not read
    assert model.read("we sell quux to a few clinics", {"internal_only": 0.9999}) == {}
    assert model.read("", {"internal_only": 0.5}) == {}


def test_the_model_is_kept_and_fitted_again_only_when_its_labels_change(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    files = [tmp_path / "dev.yaml"]
    files[0].write_text("utterances: []\n", encoding="utf-8")
    fitted = []
    real_fit = learned.fit

    def counted(utterances, fields):  # type: ignore[no-untyped-def]
        fitted.append(1)
        return real_fit(utterances, fields)

    monkeypatch.setattr(learned, "fit", counted)
    cache = tmp_path / "cache"
    first = learned.cached(cache, files, ["internal_only"], labelled)
    again = learned.cached(cache, files, ["internal_only"], labelled)
    assert len(fitted) == 1 and first is not None and again is not None
    assert first.fingerprint == again.fingerprint
    question = ["quux is for our back office crew"]
    assert np.allclose(first.probabilities(question), again.probabilities(question))
    files[0].write_text("utterances: []  # edited\n", encoding="utf-8")
    changed = learned.cached(cache, files, ["internal_only"], labelled)
    assert len(fitted) == 2 and changed is not None and changed.fingerprint != first.fingerprint
    # a damaged cache file is fitted again, not trusted
    stored = next(cache.glob(f"reader-learned-{changed.fingerprint}.npz"))
    stored.write_bytes(b"not a model")
    assert learned.cached(cache, files, ["internal_only"], labelled) is not None and len(fitted) == 3
    # no field to read, no model
    assert learned.cached(cache, files, [], labelled) is None


@pytest.fixture()
def reader_copy(tmp_path) -> Paths:  # type: ignore[no-untyped-def]
    """A copy of the shipped reader's folder (fields, phrases, thresholds and labelled files)."""
    shutil.copytree(Paths.default().reader, tmp_path / "reader")
    return Paths(root=tmp_path, cache=tmp_path / "cache")


def test_a_learned_field_that_is_unknown_or_a_quantity_is_a_problem_with_its_line(reader_copy) -> None:  # type: ignore[no-untyped-def]
    path = reader_copy.reader / "thresholds.yaml"
    text = path.read_text(encoding="utf-8").split("\nlearned:")[0]
    path.write_text(text + "\nlearned:\n  internal_only: 0.8\n  team_size: 0.9\n  staff_morale: 0.7\n",
                    encoding="utf-8")
    book = load_phrasebook(reader_copy.reader, vocab.ASKED_KINDS)
    line = {t.split(":")[0].strip(): n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)}
    problems = [(p.line, p.message) for p in book.problems if p.path.endswith("thresholds.yaml")]
    assert (line["team_size"], "learned: `team_size` is not read by learning: it is a quantity") in problems
    assert (line["staff_morale"], "learned: `staff_morale` is not a field of fields.yaml") in problems
    assert book.learned == {"internal_only": 0.8}


def test_a_broken_labelled_file_turns_the_learned_reader_off_and_says_so(reader_copy, caplog) -> None:  # type: ignore[no-untyped-def]
    book = load_phrasebook(reader_copy.reader, vocab.ASKED_KINDS)
    assert book.learned, "the shipped thresholds name fields the learned reader reads"
    (reader_copy.reader / "eval" / "dev-99.yaml").write_text("utterances:\n  - text: 5\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert learned_reader(reader_copy, book) is None
    assert "dev-99.yaml" in caplog.text


def test_the_reader_takes_a_learned_reading_only_where_nothing_else_read_the_field(model) -> None:  # type: ignore[no-untyped-def]
    book = load_phrasebook(Paths.default().reader, vocab.ASKED_KINDS)
    reader = Reader(book, EntityMatcher({}), learned=model)
    reader.learned_thresholds = {"internal_only": 0.5}
    u = reader.read("Honestly quux is just for the back office crew. Which licence fits?")
    [o] = [o for o in u.observations if o.key == "internal_only"]
    assert o.value is True and o.source.how == "learned" and (o.source.score or 0) >= 0.5
    assert o.source.text and "back office crew" in o.source.text  # the clause of the word that weighed most
    assert "read by what the labelled questions teach" in how_read(o.source)
    # a hedge holds for it as for any reading
    u = reader.read("maybe next year quux would be just for the back office crew")
    assert not [o for o in u.observations if o.key == "internal_only"]
    assert [o for o in u.hedged if o.key == "internal_only"]
    # a phrase that reads the field wins: the learned reader adds, never overrides
    u = reader.read("the quux tool is strictly for internal use, sold to no one")
    assert all(o.source.how != "learned" for o in u.observations if o.key == "internal_only")


def test_the_phrase_files_examples_and_near_misses_teach_it_but_are_never_measured() -> None:
    """An analyst who adds a near miss ("we built the model internally and sell it to banks" is no internal use)
    teaches the learned reader too: every example is fitted as its entry's value, every near miss as stating
    nothing of its field, and neither counts when thresholds are chosen on the labelled files."""
    from kb.advisor.reading_eval import learning_set

    book = load_phrasebook(Paths.default().reader, vocab.ASKED_KINDS)
    taught = {(u.text, tuple(sorted(u.scored))): u for u in learning_set([], book)}
    entries = [e for e in book.entries if e.field and not book.fields[e.field].unit]
    assert entries
    for entry in entries:
        for text, _ in entry.examples:
            u = taught[(text, (entry.field,))]
            assert u.facts.get(entry.field or "") is not None and not u.measured
        for text, _ in entry.near_misses:
            u = taught[(text, (entry.field,))]
            assert entry.field not in u.facts or text in {t for e in entries for t, _ in e.examples}
            assert not u.measured
