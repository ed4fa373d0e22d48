"""`kb bench`: benchmarks that print their figures as JSON; `kb bench <name> --help` for each."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

# benchmark name -> module with a `main(argv) -> int`; imported only when that benchmark runs.
BENCHMARKS: dict[str, str] = {
    "rules": "kb.benchmarks.rules",
    "retrieval": "kb.benchmarks.retrieval",
    "ontology": "kb.benchmarks.ontology",
    "reader": "kb.benchmarks.reader",
    "answer": "kb.benchmarks.answer",
    "stack": "kb.benchmarks.stack",
}


def quantile(values: Sequence[float], q: float) -> float:
    """The value below which a share `q` (0-1) of `values` lies (nearest rank); 0.0 for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main(argv: list[str]) -> int:
    """Route `kb bench <name> ...` to the named benchmark."""
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in BENCHMARKS:
        names = ", ".join(sorted(BENCHMARKS))
        print(f"usage: kb bench {{{names}}} [options]", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    run: Callable[[list[str]], int] = importlib.import_module(BENCHMARKS[argv[0]]).main
    return run(argv[1:])
