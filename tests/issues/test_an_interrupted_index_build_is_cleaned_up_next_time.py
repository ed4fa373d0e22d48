"""Every index build killed mid-way left a `.tmp-gen-*` folder behind, and nothing ever removed it: a build
killed with -9 runs no clean-up of its own, and the next run used the index as it was without looking."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from kb.config import Paths
from kb.retrieval.embeddings import Embedder
from kb.retrieval.index import STALE_SECONDS, index_dir, open_index, sweep


def test_leftovers_of_interrupted_builds_are_swept_once_they_are_stale(tmp_path: Path) -> None:
    base = tmp_path / "index"
    base.mkdir()
    old, recent, pointer = base / ".tmp-gen-old", base / ".tmp-gen-recent", base / ".CURRENT-ab12"
    old.mkdir()
    (old / "vectors.npy").write_bytes(b"x")
    recent.mkdir()
    pointer.write_text("gen-x\n")
    long_ago = time.time() - STALE_SECONDS - 5
    for item in (old, pointer):
        os.utime(item, (long_ago, long_ago))
    assert sorted(sweep(base)) == [".CURRENT-ab12", ".tmp-gen-old"]
    assert recent.exists() and not old.exists()  # a build under way is left alone


@pytest.mark.slow  # about 30 s: an index build killed part-way, then one from scratch
def test_opening_the_index_sweeps_what_a_killed_build_left(tmp_path: Path, kb_root: Path,
                                                            embedder: Embedder) -> None:
    root = tmp_path / "kb"
    for name in ("ontology", "rules", "corpus", "reader"):
        shutil.copytree(kb_root / name, root / name)
    paths = Paths(root=root, cache=tmp_path / "cache")
    open_index(paths, embedder)
    # what `kill -9` during a rebuild leaves: a half-written generation folder and a pointer file
    base = index_dir(paths)
    half = base / ".tmp-gen-20261201T000000-dead"
    half.mkdir()
    (half / "passages.jsonl").write_text('{"half": ')
    long_ago = time.time() - STALE_SECONDS - 5
    os.utime(half, (long_ago, long_ago))
    index, report = open_index(paths, embedder)
    assert report.embedded == 0 and len(index) > 0  # the index in use is untouched
    assert not half.exists()
