"""Loading never expands XML entities and never fetches anything: such files are refused, by file and line."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from kb.config import Paths
from kb.graph.ontology import check_ontology

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&lol9;</ex:p></rdf:Description>
</rdf:RDF>
"""

REMOTE_JSONLD = """{
  "@context": "https://example.org/context.jsonld",
  "@id": "https://w3id.org/oscar/id/offering/x",
  "name": "X"
}
"""


@pytest.fixture
def kb_copy(tmp_path: Path, kb_root: Path, ontology_cache: Path) -> Paths:
    """A copy of the ontology under test that a test can break."""
    shutil.copytree(kb_root / "ontology", tmp_path / "ontology")
    return Paths(root=tmp_path, cache=ontology_cache)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["evil.rdf", "evil.owl", "evil.ttl"])
def test_billion_laughs_is_refused_without_parsing(kb_copy: Paths, no_network: None, name: str) -> None:
    (kb_copy.ontology / name).write_text(BILLION_LAUGHS, encoding="utf-8")
    problems = [p for p in check_ontology(kb_copy) if p.path == f"ontology/{name}"]
    assert len(problems) == 1, problems
    assert problems[0].message.startswith("refused:")
    assert problems[0].line in (1, 2)  # the XML declaration or the DOCTYPE


@pytest.mark.timeout(60)
def test_remote_jsonld_context_is_refused(kb_copy: Paths, no_network: None) -> None:
    (kb_copy.ontology / "remote.jsonld").write_text(REMOTE_JSONLD, encoding="utf-8")
    problems = [p for p in check_ontology(kb_copy) if p.path == "ontology/remote.jsonld"]
    assert len(problems) == 1, problems
    assert problems[0].line == 2
    assert "remote @context (https://example.org/context.jsonld)" in problems[0].message


@pytest.mark.timeout(60)
def test_owl_imports_is_refused_and_not_followed(kb_copy: Paths, no_network: None) -> None:
    path = kb_copy.ontology / "imports.ttl"
    path.write_text("@prefix owl: <http://www.w3.org/2002/07/owl#> .\n\n"
                    "<https://w3id.org/oscar/ext> a owl:Ontology ;\n"
                    "    owl:imports <https://example.org/remote-ontology.ttl> .\n", encoding="utf-8")
    problems = [p for p in check_ontology(kb_copy) if p.path == "ontology/imports.ttl"]
    assert [(p.line, p.message.split(" (")[0]) for p in problems] == [
        (4, "refused: owl:imports <https://example.org/remote-ontology.ttl>")]


def test_other_rdf_formats_are_not_read(kb_copy: Paths) -> None:
    (kb_copy.ontology / "extra.nt").write_text(
        "<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n", encoding="utf-8")
    problems = [p for p in check_ontology(kb_copy) if p.path == "ontology/extra.nt"]
    assert len(problems) == 1 and "must be Turtle" in problems[0].message


def test_readme_and_other_files_are_ignored(kb_copy: Paths) -> None:
    (kb_copy.ontology / "notes.txt").write_text("not RDF", encoding="utf-8")
    assert check_ontology(kb_copy) == []
