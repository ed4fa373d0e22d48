"""A 50 MB Turtle file hung `kb check`; an empty `.ttl` and a folder named `x.ttl` were accepted silently; an
`rdf:XMLLiteral` holding a DTD after the first 4 KB gave a traceback and exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.graph import ontology
from kb.graph.ontology import read_turtle


def test_an_oversized_file_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.ttl"
    big.write_text("# " + "x" * 2_000 + "\n")
    monkeypatch.setattr(ontology, "MAX_TURTLE_BYTES", 1_000)
    parsed, problems = read_turtle(big, "ontology/big.ttl")
    assert parsed is None and "refused unread" in problems[0].message


def test_an_empty_file_and_a_folder_are_problems(tmp_path: Path) -> None:
    (tmp_path / "empty.ttl").write_text("  \n")
    (tmp_path / "dir.ttl").mkdir()
    for name, says in (("empty.ttl", "empty file"), ("dir.ttl", "not a file")):
        parsed, problems = read_turtle(tmp_path / name, f"ontology/{name}")
        assert parsed is None and says in problems[0].message


def test_a_dtd_anywhere_in_the_file_is_refused_at_its_line(tmp_path: Path) -> None:
    ttl = tmp_path / "late.ttl"
    filler = "".join(f"# comment line {i} to push the literal past the first four kilobytes\n" for i in range(80))
    ttl.write_text("@prefix ex: <http://example.org/> .\n" + filler +
                   'ex:a ex:b """<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>"""^^'
                   "<http://www.w3.org/1999/02/22-rdf-syntax-ns#XMLLiteral> .\n")
    parsed, problems = read_turtle(ttl, "ontology/late.ttl")
    assert parsed is None and problems[0].line == 82 and "XML" in problems[0].message
