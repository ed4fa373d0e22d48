"""Rule files gave tracebacks for YAML custom tags, merge keys, malformed timestamps and int tags; an empty
rule file, a folder named `x.yaml` and a `!!python/...` tag were accepted in silence; an alias bomb hung."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.rulebook.rules import parse_rules, rule_files

BOMB = "".join(f"{k}: &{k} [{', '.join(['*' + p] * 10)}]\n" for p, k in zip("abcdefg", "bcdefgh", strict=True))


@pytest.mark.parametrize(("text", "says", "line"), [
    ("", "empty rule file", 1),
    ("topic: t\nrules: !!python/object/apply:os.system ['true']\n", "tag", 2),
    ("topic: t\nrules:\n  - !custom {id: x}\n", "tag", 3),
    ("base: &b {title: T}\nrules:\n  - <<: *b\n    id: x\n", "merge keys", 3),
    ("topic: !!int nope\nrules: []\n", "not a valid int", 1),
    ("topic: t\nrules:\n  - id: x\n    title: 2026-02-31\n", None, 0),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + BOMB, "refused", 1),
])
def test_each_odd_rule_file_is_a_problem_at_its_line(tmp_path: Path, text: str, says: str | None,
                                                      line: int) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = parse_rules([path])
    assert problems, "accepted in silence"
    if says is not None:
        assert any(says in p.message and p.line == line for p in problems), problems


def test_a_folder_named_like_a_rule_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    files = rule_files(tmp_path)
    _, problems = parse_rules(files)
    assert files and problems and "not a file" in problems[0].message
