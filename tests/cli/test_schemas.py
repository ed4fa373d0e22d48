"""`kb schema KIND`: each kind of analysts' file has one published schema, and every shipped file of that kind
is valid under it (the schema the reader checks with is the one editors are given)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from kb.cli import main
from kb.cli.schemas import SCHEMAS
from kb.model.problems import Problem
from kb.yamlfile import read_yaml, validate

FILES = {  # kind -> the files of that kind in a knowledge base, by glob
    "rules": "rules/*.yaml", "phrases": "reader/phrases/*.yaml", "fields": "reader/fields.yaml",
    "cues": "reader/cues.yaml", "quantities": "reader/quantities.yaml", "thresholds": "reader/thresholds.yaml",
    "metadata": "corpus/metadata.yaml", "furniture": "corpus/furniture.yaml",
}


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_each_schema_is_printed_and_is_a_valid_json_schema(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", kind]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.validators.validator_for(schema).check_schema(schema)


@pytest.mark.parametrize("kind", list(FILES))
def test_every_shipped_file_of_a_kind_is_valid_under_its_schema(kind: str, kb_root: Path) -> None:
    files = sorted(kb_root.glob(FILES[kind]))
    assert files, f"no {FILES[kind]} in {kb_root}"
    schema = SCHEMAS[kind][0]()
    for path in files:
        problems: list[Problem] = []
        doc = read_yaml(path, path.name, problems, kind)
        assert problems == [] and validate(doc, schema, path.name, problems), [str(p) for p in problems]


def test_shared_options_mean_the_same_before_and_after_the_subcommand(
        tmp_path: Path, kb_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "x.yaml").write_text("topic: x\nrulez: []\n")
    for argv in (["--root", str(tmp_path), "check", "--only", "rules"],
                 ["check", "--only", "rules", "--root", str(tmp_path)]):
        assert main(argv) == 1
        assert "x.yaml:2: unknown key `rulez` in a rule file" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "line", "message"), [
    ("fields:\n  team_size:\n    type: int\n    doc: people\n  Team-Size:\n    type: int\n    doc: people\n", 5,
     "`Team-Size` in fields: a field's name is lowercase letters, digits and `_`"),
    # a field kept out of a kind of question that does not exist
    ("fields:\n  customization:\n    type: bool\n    doc: needs to customise\n    not_when: [obligation]\n", 5,
     "field `customization`: `not_when`: `obligation` is no kind of question"),
    # naming an entity can only state a yes/no field
    ("fields:\n  team_size:\n    type: int\n    doc: people\n    implied_by: {offering: {type: [model]}}\n", 5,
     "field `team_size`: only bool fields take `implied_by`"),
    # a narrower value must be one of the field's values, and so must those it says more than
    ("fields:\n  deployment:\n    type: str\n    doc: where\n    values: [on_prem, air_gapped]\n"
     "    refines: {air_gapped: [onprem]}\n", 6, "field `deployment`: `refines`: onprem is no value of `deployment`"),
])
def test_a_bad_field_is_reported_at_its_own_line_saying_what_is_wrong(tmp_path: Path, text: str, line: int,
                                                                       message: str) -> None:
    from kb.advisor.phrasebook import load_fields

    path = tmp_path / "fields.yaml"
    path.write_text(text, encoding="utf-8")
    problems: list[Problem] = []
    load_fields(path, problems)
    assert [p.line for p in problems] == [line]
    assert problems[0].message.startswith(message)
