"""The examples' vectors are kept in the cache with their texts: an analyst who adds an example embeds that one
example at the next load, not all of them, and the cache keeps only the newest few files."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kb import vocab
from kb.advisor.phrasebook import load_phrasebook
from kb.advisor.reader import EXAMPLE_CACHES_KEPT, EntityMatcher, Reader
from kb.config import PROJECT_ROOT
from kb.retrieval.embeddings import Embedder

MATCHER = EntityMatcher({"offering:pytorch": ["PyTorch"]})


@pytest.fixture
def reader_copy(tmp_path: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "reader", tmp_path / "reader")
    return tmp_path / "reader"


def test_an_added_example_is_the_only_text_embedded_and_old_files_are_pruned(
        reader_copy: Path, tmp_path: Path, embedder: Embedder) -> None:
    embedded: list[str] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        embedded.extend(texts)
        return embedder.encode(list(texts))

    cache = tmp_path / "cache"
    (cache).mkdir()
    (cache / "reader-examples-0123456789abcdef.npy").write_bytes(b"an earlier version's file")

    def load() -> Reader:
        embedded.clear()
        return Reader(load_phrasebook(reader_copy, vocab.ASKED_KINDS), MATCHER, embed, embedder.fingerprint, cache)

    first = load()
    assert len(embedded) > 500  # every example and near-miss, once
    phrases = reader_copy / "phrases" / "use.yaml"
    sentences = ["only our own staff will ever open the dashboard", "the model stays with our analysts",
                 "no outsider gets a login", "it serves our back office and nobody else"]
    for added in sentences:
        text = phrases.read_text(encoding="utf-8")
        phrases.write_text(text.replace("      - the tool is for our employees alone\n",
                                        f"      - the tool is for our employees alone\n      - {added}\n", 1),
                           encoding="utf-8")
        again = load()
        assert embedded == [added]  # only the new example
        row = again._semantic.texts.index(added)  # type: ignore[union-attr]
        assert np.allclose(again._semantic.vectors[row], embedder.encode([added])[0], atol=1e-5)  # type: ignore[union-attr]
    # the same vectors as the first load for the texts both have, so the same readings
    assert first._semantic is not None and again._semantic is not None
    old = dict(zip(first._semantic.texts, first._semantic.vectors, strict=True))
    assert all(np.array_equal(v, old[t]) for t, v in zip(again._semantic.texts, again._semantic.vectors,
                                                          strict=True) if t in old)
    assert len(list(cache.glob("reader-examples-*.npz"))) == EXAMPLE_CACHES_KEPT
    assert not list(cache.glob("reader-examples-*.npy"))
    load()
    assert embedded == []  # unchanged: read whole from the cache
