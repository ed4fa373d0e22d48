"""`kb check`: every validation of the knowledge base (ontology, rules, corpus, the folders' READMEs),
printed one problem a line."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable

from kb.cli import options
from kb.config import Paths
from kb.model.problems import Problem, display_path

# Each checker takes the knowledge base's Paths and returns its problems; it never raises on bad input.
CHECKERS: list[tuple[str, str, str]] = [
    ("ontology", "kb.graph.ontology", "check_ontology"),
    ("rules", "kb.rulebook.rules", "check_rules"),
    ("corpus", "kb.corpus.documents", "check_corpus"),
    ("reader", "kb.advisor.phrasebook", "check_reader"),
    ("phrases", "kb.advisor.reader", "check_examples"),
    ("labelled", "kb.advisor.reading_eval", "check_labelled"),
    ("readmes", "kb.cli.checks", "check_readmes"),
]

# The analysts' folders whose README may hold a table of their files.
README = "README.md"
README_FOLDERS = ("ontology", "rules", "corpus", "reader")


def run_checks(paths: Paths, only: set[str] | None = None) -> list[Problem]:
    """All problems of the knowledge base at `paths`, sorted by file and line."""
    problems: list[Problem] = []
    for name, module, func in CHECKERS:
        if only and name not in only:
            continue
        checker: Callable[[Paths], list[Problem]] = getattr(importlib.import_module(module), func)
        problems.extend(checker(paths))
    return sorted(problems)


def check_readmes(paths: Paths) -> list[Problem]:
    """A README's table of files (a Markdown table whose first column is headed `file`) names files of its
    folder: a row naming a file that is not there is a problem. A file without a row is not: files are
    found by glob, never registered, so the table describes them and does not list them."""
    problems: list[Problem] = []
    for name in README_FOLDERS:
        folder = paths.root / name
        readme = folder / README
        if not readme.is_file():
            continue
        shown = display_path(readme, paths.root)
        try:
            text = readme.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            problems.append(Problem(shown, 0, f"cannot read: {err}"))
            continue
        for line, listed in _file_table_rows(text):
            if not (folder / listed).is_file():
                problems.append(Problem(shown, line, f"the table of files names `{listed}`, which is not in "
                                                     f"{name}/: remove the row or restore the file"))
    return problems


def _file_table_rows(markdown: str) -> list[tuple[int, str]]:
    """(line, first cell) of each body row of every table whose first column is headed `file`, outside
    code fences."""
    rows: list[tuple[int, str]] = []
    fenced = False
    table: bool | None = None  # None: not in a table; else whether the table lists files
    for number, line in enumerate(markdown.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced, table = not fenced, None
            continue
        if fenced or not stripped.startswith("|"):
            table = None
            continue
        first = stripped.strip("|").split("|")[0].strip().strip("`").strip()
        if table is None:  # the header row
            table = first.lower() == "file"
        elif table and first and set(first) - set("-: "):  # a body row, not the delimiter row
            rows.append((number, first))
    return rows


def main(argv: list[str]) -> int:
    parser = options.parser("kb check", __doc__)
    parser.add_argument("--only", action="append", choices=[c[0] for c in CHECKERS],
                        help="check only this part (repeatable)")
    ns = parser.parse_args(argv)
    paths = options.paths(ns)
    started = time.perf_counter()
    problems = run_checks(paths, set(ns.only or ()))
    for problem in problems:
        print(problem)
    elapsed = time.perf_counter() - started
    summary = f"{len(problems)} problem(s)" if problems else "ok"
    print(f"kb check: {summary} ({elapsed:.2f}s)", file=sys.stderr)
    return 1 if problems else 0
