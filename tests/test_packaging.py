"""The wheel ships the knowledge base: every file of rules/, ontology/, corpus/ and reader/ is matched by a
`[tool.setuptools.data-files]` pattern of pyproject.toml (a new sub-folder needs its own line there)."""

from __future__ import annotations

import fnmatch
import tomllib

from kb.config import PROJECT_ROOT


def test_every_knowledge_base_file_is_shipped_in_the_wheel() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = [p for globs in pyproject["tool"]["setuptools"]["data-files"].values() for p in globs]
    unshipped = []
    for folder in ("rules", "ontology", "corpus", "reader"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if not path.is_file() or any(part.startswith((".", "__")) for part in rel.split("/")):
                continue
            # a data-files glob matches within its own folder only, as setuptools' does
            if not any(fnmatch.fnmatch(rel, p) and rel.count("/") == p.count("/") for p in patterns):
                unshipped.append(rel)
    assert unshipped == [], f"add a [tool.setuptools.data-files] line to pyproject.toml for {unshipped[:5]}"
