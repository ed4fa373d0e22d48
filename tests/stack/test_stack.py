"""A whole stack at once: real SBOMs of this project's own environment (CycloneDX JSON and XML made by
`cyclonedx-py environment`, SPDX JSON and tag-value by spdx-tools: tests/data/stack/) and dependency files
are read, and reviewed component by component with clause-cited duties; bad input is a clear problem that
names the file and the line or JSON pointer, and loses only itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb.render.text import render_stack_text
from kb.stack.intake import MAX_BYTES, read_stack
from kb.stack.review import review

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
    rows = {r.component.lower(): r for r in result.components}
    fastapi = rows["fastapi"]
    assert any(f.rule.id == "licences.mit-notice" and _cites(result, f).startswith("licences/mit.txt")
               and "fastapi" in f.statement.lower() for f in fastapi.findings)
    (mit,) = [c for c in result.citations if c.doc == "licences/mit.txt"]
    assert mit.source is not None and mit.source.file == "corpus/licences/mit.txt" and mit.source.text
    assert fastapi.where in render_stack_text(result)
    assert rows["torch"].offering == "PyTorch"  # joined to the ontology by its name


def _cites(result: Any, finding: Any) -> str:
    """The clause a finding cites, as "doc heading"."""
    cited = {c.n: c for c in result.citations}
    return " ".join(f"{cited[n].doc} {cited[n].heading or ''}".strip() for n in finding.cites)


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
    result = review(knowledge_base, stack, "network")
    served = {r.component: r for r in result.components}
    assert any(f.rule.id == "licences.agpl-remote-interaction" and "§13" in _cites(result, f)
               for f in served["grafana-agent"].findings)
    assert served["dual"].applies == "MIT"
    assert not any(f.rule.id.startswith("licences.gpl3") for f in served["dual"].findings)
    assert any(f.rule.id == "licences.expression-choice" for f in served["dual"].findings)  # the choice is said
    assert any(f.kind == "question" and "sbom.json#/components/2" in f.statement for f in served["mystery"].findings)
    internal = {r.component: r for r in review(knowledge_base, stack, "internal").components}
    assert not any(f.rule.id == "licences.agpl-remote-interaction" for f in internal["grafana-agent"].findings)


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
    (row,) = review(knowledge_base, read_stack(path, "sbom.json"), "distributed").components
    assert row.applies == "unknown"
    assert [f.rule.id for f in row.findings] == ["licensing.component-licence-unread"]
    assert "Do What You Like v7" in row.findings[0].statement


def test_a_stack_of_thousands_is_reviewed_whole(knowledge_base: Any, tmp_path: Path) -> None:
    # more components than the engine's fixed runaway bound (2,000 derived facts per rule): the bound grows
    # with the facts given, so a large stack is reviewed, while a rule feeding on itself is still stopped
    from kb.benchmarks.stack import sbom

    path = _write(tmp_path, "big.cdx.json", sbom(2500))
    result = review(knowledge_base, read_stack(path, "big.cdx.json"), "distributed")
    assert len(result.components) == 2500 and all(row.findings for row in result.components)


def test_a_component_listed_twice_is_reviewed_once_and_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "sbom.json", _bom({"type": "library", "name": "dup", "version": "1"},
                                              {"type": "library", "name": "other", "version": "1"},
                                              {"type": "library", "name": "dup", "version": "1"}))
    stack = read_stack(path, "sbom.json")
    assert [c.name for c in stack.components] == ["dup", "other"]
    (problem,) = stack.problems
    assert problem.message.startswith("#/components/2: dup 1 is listed again (first at sbom.json#/components/0)")


def test_stack_wide_rules_see_licences_that_clash_and_who_stands_behind_a_component(
        knowledge_base: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, "sbom.json", _bom(
        {"type": "library", "name": "mlflow", "version": "3.1", "licenses": [{"license": {"id": "Apache-2.0"}}]},
        {"type": "library", "name": "torch", "version": "2.13", "licenses": [{"license": {"id": "BSD-3-Clause"}}]},
        {"type": "library", "name": "oldtool", "version": "0.9", "licenses": [{"license": {"id": "GPL-2.0-only"}}]}))
    stack = read_stack(path, "sbom.json")
    shipped = review(knowledge_base, stack, "distributed")
    (clash,) = [f for f in shipped.across if f.rule.id == "stack.incompatible-with-gpl2"]
    assert set(clash.components) == {"mlflow 3.1", "oldtool 0.9"}
    assert _cites(shipped, clash).startswith("licences/gpl-2.0.txt")
    rows = {r.component: r for r in shipped.components}
    assert clash in rows["mlflow"].findings and clash in rows["oldtool"].findings
    assert {"stack.open-core-component", "stack.single-company-steward"} <= {f.rule.id for f in rows["mlflow"].findings}
    steward = next(f for f in rows["mlflow"].findings if f.rule.id == "stack.single-company-steward")
    assert "Databricks" in steward.statement
    assert any(f.rule.id == "stack.foundation-steward" for f in rows["torch"].findings)
    assert not any(f.rule.id.startswith("stack.") for f in rows["oldtool"].findings if f is not clash)
    inside = review(knowledge_base, stack, "internal")  # nothing shipped: nothing clashes
    assert not [f for f in inside.across if f.rule.id.startswith("stack.incompatible")]


def test_a_stack_beside_the_conversation_is_in_every_answer_and_every_export(knowledge_base: Any) -> None:
    from dataclasses import replace

    from kb.advisor.advise import Advisor
    from kb.advisor.conversation import Conversation
    from kb.model.answer import Answer, validate
    from kb.render import export_all

    advisor = Advisor(knowledge_base)
    stack = read_stack(DATA / "environment.cdx.json", "environment.cdx.json")
    conversation, answer = advisor.ask(
        replace(Conversation(), stack=stack),
        "We ship an on-prem appliance to hospitals; what do our libraries oblige us to do?")
    assert answer.stack is not None and answer.stack.use == "distributed"  # read from the question
    assert len(answer.stack.components) == len(stack.components)
    numbers = [c.n for c in answer.citations()]
    assert len(numbers) == len(set(numbers)) and {c.n for c in answer.stack.citations} <= set(numbers)
    document = answer.to_dict()
    validate(document)  # the JSON schema covers the stack
    assert Answer.from_dict(document) == answer
    restored = Conversation.from_dict(json.loads(json.dumps(conversation.to_dict())))
    assert restored.stack == stack  # a saved conversation keeps its stack
    files = {fmt: content for fmt, (_, content) in export_all(answer).items()}
    assert "| fastapi |" in files["md"] and "licences.mit" in files["md"]
    assert '<h2 id="stack">Stack</h2>' in files["html"] and "fastapi" in files["html"]
    assert "oscar:Component" in files["prov"] and "environment.cdx.json#/components/" in files["prov"]


def test_kb_stack_prints_json_the_schema_describes(capsys: pytest.CaptureFixture[str], kb_cache: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import jsonschema

    from kb.model.answer import json_schema
    from kb.stack.review import main

    monkeypatch.setenv("OSCAR_CACHE", str(kb_cache))  # the run's index, not one built afresh under $HOME
    assert main([str(DATA / "environment.spdx"), "--use", "network", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    schema = json_schema()
    jsonschema.validate(printed, {"$ref": "#/$defs/StackReview", "$defs": schema["$defs"]})
    assert printed["use"] == "network" and printed["format"] == "SPDX 2.3"
    assert all(c["where"].startswith(str(DATA / "environment.spdx") + ":") for c in printed["components"])
    assert main([str(DATA / "cut-that-is-not-there.json")]) == 1
