"""`kb check` catches a rule that cites a licence clause the licence's text does not hold: a quote altered,
or taken from another licence, is reported at the rule file's line, before any answer can cite it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kb.cli import checks
from kb.rulebook.rules import parse_rules


@pytest.fixture
def licence_rules(tmp_path: Path, kb_root: Path) -> tuple[Path, str]:
    """A copy of the knowledge base's licence rules beside its corpus: the file and its text."""
    shutil.copytree(kb_root / "rules", tmp_path / "rules")
    path = tmp_path / "rules" / "licence_terms.yaml"
    return path, path.read_text(encoding="utf-8")


def _first_licence_quote(text: str) -> tuple[int, str, str]:
    """(line of its `doc:`, doc, quote) of the first rule evidence that quotes a licence text."""
    lines = text.splitlines()
    for n, line in enumerate(lines):
        doc = re.match(r"\s+doc: (licences/\S+)$", line)
        quote = re.match(r"\s+quote: (.+)$", lines[n + 1]) if doc and n + 1 < len(lines) else None
        if doc and quote and not quote.group(1).startswith((">", "|", '"')):
            return n + 1, doc.group(1), quote.group(1)
    raise AssertionError("no rule quotes a licence text")


def test_a_quote_the_licence_does_not_hold_is_reported_at_its_line(licence_rules: tuple[Path, str],
                                                                   kb_root: Path) -> None:
    path, text = licence_rules
    files = sorted(path.parent.glob("*.yaml"))  # the licence rules use kinds other files derive
    assert parse_rules(files, None, kb_root / "corpus", path.parent.parent)[1] == []
    line, doc, quote = _first_licence_quote(text)
    altered = quote.replace(" the ", " a ", 1) if " the " in quote else quote + " and more"
    path.write_text(text.replace(f"quote: {quote}\n", f"quote: {altered}\n", 1), encoding="utf-8")
    (problem,) = parse_rules(files, None, kb_root / "corpus", path.parent.parent)[1]
    assert problem.line == line and problem.path.endswith("licence_terms.yaml")
    assert f"the quote is not found in {doc}" in problem.message


def test_a_clause_of_another_licence_is_reported_by_kb_check(licence_rules: tuple[Path, str], kb_root: Path,
                                                             tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path, text = licence_rules
    # the AGPL's network clause cited to the GPL-3.0, whose text has no such clause
    agpl = text.index("doc: licences/agpl-3.0.txt")
    wrong = text[:agpl] + "doc: licences/gpl-3.0.txt" + text[agpl + len("doc: licences/agpl-3.0.txt"):]
    path.write_text(wrong, encoding="utf-8")
    line = wrong[:agpl].count("\n") + 1
    for name in ("ontology", "corpus", "reader"):
        shutil.copytree(kb_root / name, tmp_path / name)
    code = checks.main(["--root", str(tmp_path), "--cache", str(tmp_path / "cache"), "--only", "rules"])
    out = capsys.readouterr().out
    assert code == 1
    assert f"rules/licence_terms.yaml:{line}: " in out and "the quote is not found in licences/gpl-3.0.txt" in out
