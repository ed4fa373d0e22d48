"""Where a knowledge base lives: the analysts' folders and the cache for generated artefacts."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("rules", "ontology", "corpus")
"""What makes a folder a knowledge base (`reader/` is optional: a knowledge base without one reads no
asker facts from questions)."""
SHIPPED_DATA = Path(sys.prefix) / "share" / "oscar"
"""Where an installed wheel puts the shipped knowledge base (pyproject.toml's data-files)."""


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, its links resolved, lies inside `folder` (its links resolved too), `folder` itself
    excluded: what an analyst's file names or links to must stay within its own folder."""
    resolved, base = path.resolve(), folder.resolve()
    return resolved != base and resolved.is_relative_to(base)


def is_knowledge_base(folder: Path) -> bool:
    return all((folder / name).is_dir() for name in FOLDERS)


def shipped_root() -> Path:
    """The knowledge base that ships with OSCAR: the source checkout's own folders, else the installed copy."""
    return PROJECT_ROOT if is_knowledge_base(PROJECT_ROOT) else SHIPPED_DATA


@dataclass(frozen=True)
class Paths:
    """The folders of one knowledge base. Generated artefacts (index, caches) live in `cache`, outside it."""

    root: Path
    cache: Path

    @property
    def ontology(self) -> Path:
        return self.root / "ontology"

    @property
    def rules(self) -> Path:
        return self.root / "rules"

    @property
    def corpus(self) -> Path:
        return self.root / "corpus"

    @property
    def reader(self) -> Path:
        return self.root / "reader"

    @staticmethod
    def default(root: str | Path | None = None, cache: str | Path | None = None) -> Paths:
        """`root`: argument, else $OSCAR_ROOT, else the current folder when it holds `rules/`, `ontology/`
        and `corpus/`, else the shipped knowledge base. `cache`: argument, else $OSCAR_CACHE, else
        $XDG_CACHE_HOME/oscar (~/.cache/oscar)."""
        given = root or os.environ.get("OSCAR_ROOT")
        if given:
            r = Path(given).resolve()
        elif is_knowledge_base(Path.cwd()):
            r = Path.cwd().resolve()
        else:
            r = shipped_root().resolve()
        return Paths(root=r, cache=Path(cache).resolve() if cache is not None else default_cache())


def default_cache() -> Path:
    """$OSCAR_CACHE, else $XDG_CACHE_HOME/oscar (~/.cache/oscar)."""
    given = os.environ.get("OSCAR_CACHE")
    if given:
        return Path(given).resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return (Path(xdg) / "oscar").resolve()
