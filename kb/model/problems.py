"""Problems: the one value every validation returns (ontology, shapes, rules, corpus), and its one printer."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """A mistake found in an analyst's file: where it is and what is wrong.

    `line` is 1-based; 0 means the location is the whole file (no line is known).
    """

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


def display_path(path: str | Path, root: str | Path | None = None) -> str:
    """A path as an analyst would type it: relative to `root` (or the working directory) when inside it."""
    return _display_path(str(path), None if root is None else str(root), os.getcwd())


@functools.lru_cache(maxsize=4096)
def _display_path(path: str, root: str | None, cwd: str) -> str:
    """display_path, remembered: every citation of every answer names its file this way, and resolving a
    path asks the file system each time."""
    p = Path(path)
    for base in (Path(root) if root is not None else None, Path(cwd)):
        if base is None:
            continue
        try:
            return str(p.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(p)


class KnowledgeError(Exception):
    """Loading refused: the knowledge base has problems. Nothing was half-loaded."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(sorted(problems))
        super().__init__("\n".join(str(p) for p in self.problems) or "knowledge base has problems")
