"""`kb check`: every validation of the knowledge base (ontology, rules, corpus), printed one problem a line."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable

from kb.config import Paths
from kb.problems import Problem

# Each checker takes the knowledge base's Paths and returns its problems; it never raises on bad input.
CHECKERS: list[tuple[str, str, str]] = [
    ("ontology", "kb.ontology", "check_ontology"),
    ("rules", "kb.rulebook", "check_rules"),
    ("corpus", "kb.corpus", "check_corpus"),
]


def run_checks(paths: Paths, only: set[str] | None = None) -> list[Problem]:
    """All problems of the knowledge base at `paths`, sorted by file and line."""
    problems: list[Problem] = []
    for name, module, func in CHECKERS:
        if only and name not in only:
            continue
        checker: Callable[[Paths], list[Problem]] = getattr(importlib.import_module(module), func)
        problems.extend(checker(paths))
    return sorted(problems)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kb check", description=__doc__)
    parser.add_argument("--root", help="knowledge base folder (default: $OSCAR_ROOT or this project)")
    parser.add_argument("--only", action="append", choices=[c[0] for c in CHECKERS],
                        help="check only this part (repeatable)")
    ns = parser.parse_args(argv)
    paths = Paths.default(ns.root)
    started = time.perf_counter()
    problems = run_checks(paths, set(ns.only or ()))
    for problem in problems:
        print(problem)
    elapsed = time.perf_counter() - started
    summary = f"{len(problems)} problem(s)" if problems else "ok"
    print(f"kb check: {summary} ({elapsed:.2f}s)", file=sys.stderr)
    return 1 if problems else 0
