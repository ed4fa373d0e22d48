"""An analyst's catastrophic regular expression in corpus/furniture.yaml froze `kb check` and the server on
reload (over 4 minutes; SIGTERM ignored)."""

from __future__ import annotations

import time
from pathlib import Path

from kb.corpus.documents import load_furniture


def test_a_backtracking_pattern_is_a_problem_at_its_line_within_seconds(tmp_path: Path) -> None:
    (tmp_path / "furniture.yaml").write_text(
        "patterns:\n"
        "  - pattern: '^Subscribe To Our Blog$'\n"
        "    why: a fine one\n"
        "  - pattern: '^(a|aa)+$'\n"
        "    why: nested repetition\n"
        "  - pattern: '(x|xx)+y'\n", encoding="utf-8")
    started = time.monotonic()
    furniture, problems = load_furniture(tmp_path)
    assert time.monotonic() - started < 20  # two patterns stopped at their time bound, not run for minutes
    assert [p.line for p in problems] == [4, 6], problems
    assert all("takes longer than" in p.message for p in problems)
    assert [p.pattern for p in furniture.patterns] == ["^Subscribe To Our Blog$"]
