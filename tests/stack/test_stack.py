"""A whole stack at once: real SBOMs of this project's own environment (CycloneDX JSON and XML made by
`cyclonedx-py environment`, SPDX JSON and tag-value by spdx-tools: tests/data/stack/) and dependency files
are read, and reviewed component by component with clause-cited duties; bad input is a clear problem that
names the file and the line or JSON pointer, and loses only itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb.stack.intake import MAX_BYTES, read_stack
from kb.stack.review import render_table, review

DATA = Path(__file__).parents[1] / "data" / "stack"
SBOMS = ["environment.cdx.json", "environment.cdx.xml", "environment.spdx.json", "environment.spdx"]


@pytest.mark.parametrize("name", SBOMS)
def test_a_real_sbom_of_this_environment_is_read_whole(name: str) -> None:
    stack = read_stack(DATA / name, name)
    assert stack.problems == [] and len(stack.components) > 100
    assert stack.format.startswith(("CycloneDX 1.6", "SPDX 2.3"))
    by_name = {c.name.lower(): c for c in stack.components}
    assert by_name["fastapi"].licence == "MIT" and by_name["fastapi"].version
    assert all(c.where.startswith(name) for c in stack.components)


@pytest.mark.parametrize("name", ["environment.cdx.json", "environment.spdx"])  # one of each standard
def test_a_real_sbom_is_reviewed_with_clause_cited_duties(knowledge_base: Any, name: str) -> None:
    result = review(knowledge_base, read_stack(DATA / name, name), "distributed")
    rows = {r.component.lower(): r for r in result.rows}
    fastapi = rows["fastapi"]
    assert any(f.rule == "licences.mit-notice" and f.cites.startswith("licences/mit.txt")
               and "fastapi" in f.statement.lower() for f in fastapi.findings)
    assert fastapi.where in render_table(result)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _bom(*components: dict[str, Any]) -> str:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": list(components)})


def test_duties_follow_the_use_and_the_lighter_side_of_an_or(knowledge_base: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "sbom.json", _bom(
        {"type": "library", "name": "grafana-agent", "version": "1.0",
         "licenses": [{"license": {"id": "AGPL-3.0-only"}}]},
        {"type": "library", "name": "dual", "version": "2.0", "licenses": [{"expression": "GPL-3.0-only OR MIT"}]},
        {"type": "library", "name": "mystery", "version": "0.1"}))
    stack = read_stack(path, "sbom.json")
    served = {r.component: r for r in review(knowledge_base, stack, "network").rows}
    assert any(f.rule == "licences.agpl-remote-interaction" and "§13" in f.cites
               for f in served["grafana-agent"].findings)
    assert served["dual"].applies == "MIT"
    assert not any(f.rule.startswith("licences.gpl3") for f in served["dual"].findings)
    assert any(f.kind == "question" and "sbom.json#/components/2" in f.statement for f in served["mystery"].findings)
    internal = {r.component: r for r in review(knowledge_base, stack, "internal").rows}
    assert not any(f.rule == "licences.agpl-remote-interaction" for f in internal["grafana-agent"].findings)


def test_dependency_files_are_read_with_their_lines(tmp_path: Path) -> None:
    req = read_stack(_write(tmp_path, "requirements.txt", "# ours\nPyYAML==6.0.2\n-r other.txt\nnot a req ===\n"),
                     "requirements.txt")
    assert [(c.name, c.where, c.licence_from) for c in req.components] == [
        ("PyYAML", "requirements.txt:2", "classifier")]  # its metadata has only a trove classifier
    assert [(p.line, p.message.startswith("not a requirement")) for p in req.problems] == [(4, True)]
    pkg = read_stack(_write(tmp_path, "package.json", json.dumps(
        {"name": "app", "dependencies": {"left-pad": "^1.3.0"}}, indent=2)), "package.json")
    assert [(c.name, c.licence, c.where) for c in pkg.components] == [("left-pad", None, "package.json:4")]
    lock = read_stack(_write(tmp_path, "package-lock.json", json.dumps({"lockfileVersion": 3, "packages": {
        "": {"name": "app"}, "node_modules/left-pad": {"version": "1.3.0", "license": "WTFPL"}}})),
        "package-lock.json")
    assert [(c.name, c.licence, c.where) for c in lock.components] == [
        ("left-pad", "WTFPL", "package-lock.json#/packages/node_modules~1left-pad")]


# --- bad input ---------------------------------------------------------------------------------------------
def test_malformed_and_truncated_sboms_name_the_line(tmp_path: Path) -> None:
    text = _bom({"type": "library", "name": "a", "version": "1"})
    stack = read_stack(_write(tmp_path, "cut.json", text[: len(text) // 2]), "cut.json")
    assert stack.components == [] and stack.problems[0].path == "cut.json"
    assert stack.problems[0].message.startswith("not valid JSON") and stack.problems[0].line >= 1


def test_a_bad_component_loses_only_itself(tmp_path: Path) -> None:
    path = _write(tmp_path, "sbom.json", _bom({"type": "library", "name": "good", "version": "1"},
                                              {"type": "library", "version": "no name"},
                                              {"type": "no-such-type", "name": "odd"}))
    stack = read_stack(path, "sbom.json")
    assert [c.name for c in stack.components] == ["good"]
    assert [p.message.split(":")[0] for p in stack.problems] == ["#/components/1", "#/components/2"]


def test_an_xml_sbom_with_a_dtd_or_entity_is_refused_before_parsing(tmp_path: Path) -> None:
    evil = ('<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library">'
            '<name>&xxe;</name></component></components></bom>\n')
    stack = read_stack(_write(tmp_path, "evil.cdx.xml", evil), "evil.cdx.xml")
    assert stack.components == []
    (problem,) = stack.problems
    assert problem.line == 2 and "refused" in problem.message and "root:" not in problem.message


def test_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    stack = read_stack(path, "huge.json")
    assert stack.components == [] and "refused unread" in stack.problems[0].message


def test_a_licence_nobody_can_read_is_asked_about_not_guessed(knowledge_base: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "sbom.json", _bom(
        {"type": "library", "name": "weird", "version": "1",
         "licenses": [{"license": {"name": "Do What You Like v7"}}]}))
    (row,) = review(knowledge_base, read_stack(path, "sbom.json"), "distributed").rows
    assert row.applies == "unknown"
    assert [f.rule for f in row.findings] == ["licensing.component-licence-unknown"]


def test_a_stack_of_thousands_is_reviewed_whole(knowledge_base: Any, tmp_path: Path) -> None:
    # more components than the engine's fixed runaway bound (2,000 derived facts per rule): the bound grows
    # with the facts given, so a large stack is reviewed, while a rule feeding on itself is still stopped
    from kb.benchmarks.stack import sbom

    path = _write(tmp_path, "big.cdx.json", sbom(2500))
    result = review(knowledge_base, read_stack(path, "big.cdx.json"), "distributed")
    assert len(result.rows) == 2500 and all(row.findings for row in result.rows)


def test_a_component_listed_twice_is_reviewed_once_and_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "sbom.json", _bom({"type": "library", "name": "dup", "version": "1"},
                                              {"type": "library", "name": "other", "version": "1"},
                                              {"type": "library", "name": "dup", "version": "1"}))
    stack = read_stack(path, "sbom.json")
    assert [c.name for c in stack.components] == ["dup", "other"]
    (problem,) = stack.problems
    assert problem.message.startswith("#/components/2: dup 1 is listed again (first at sbom.json#/components/0)")
