"""The ontology cache was a pickle: a planted one calling `os.system` ran during `kb check`, which still
printed "ok". Caches are now JSON with a checksum: a planted or altered file is ignored and rebuilt."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

from kb.config import Paths
from kb.graph.ontology import load_ontology


class _Planted:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch PLANTED_RAN",))


def test_planted_and_altered_cache_files_are_never_executed_nor_trusted(tmp_path: Path, kb_root: Path) -> None:
    root = tmp_path / "kb"
    for name in ("ontology", "rules", "corpus", "reader"):
        shutil.copytree(kb_root / name, root / name)
    paths = Paths(root=root, cache=tmp_path / "cache")
    first = load_ontology(paths)
    folder = paths.cache / "ontology"
    caches = sorted(folder.iterdir())
    assert caches and not [c for c in caches if c.suffix == ".pickle"]
    for cache in caches:  # every cache file replaced by a pickle that would run a command
        cache.write_bytes(pickle.dumps(_Planted()))
    (folder / "v3-ontology-planted.pickle").write_bytes(pickle.dumps(_Planted()))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        again = load_ontology(paths)
    finally:
        os.chdir(cwd)
    assert not (tmp_path / "PLANTED_RAN").exists()
    assert again.resolve("Apache 2.0") == first.resolve("Apache 2.0") == "license:Apache-2.0"
