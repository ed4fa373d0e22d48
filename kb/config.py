"""Where a knowledge base lives: the analysts' folders and the cache for generated artefacts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
        """`root`: argument, else $OSCAR_ROOT, else this project. `cache`: argument, else $OSCAR_CACHE,
        else $XDG_CACHE_HOME/oscar (~/.cache/oscar)."""
        r = Path(root or os.environ.get("OSCAR_ROOT") or PROJECT_ROOT).resolve()
        if cache is None:
            cache = os.environ.get("OSCAR_CACHE")
        if cache is None:
            xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            cache = Path(xdg) / "oscar"
        return Paths(root=r, cache=Path(cache).resolve())
