"""A YAML document found valid is remembered by its content's digest, so that an unchanged file is not checked
again at the next start; a changed or invalid one is always checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kb.yamlfile as yamlfile
from kb.model.problems import Problem
from kb.yamlfile import read_yaml, validate

SCHEMA = {"type": "object", "properties": {"team": {"type": "integer"}}, "additionalProperties": False}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OSCAR_CACHE", str(tmp_path / "cache"))
    yamlfile._valid.forget()
    yield tmp_path / "cache"
    yamlfile._valid.forget()


def read(path: Path, text: str) -> Any:
    path.write_text(text, encoding="utf-8")
    problems: list[Problem] = []
    doc = read_yaml(path, path.name, problems, "profile")
    assert problems == []
    return doc


def test_a_valid_file_is_checked_once_and_an_edited_one_again(tmp_path: Path, cache: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "profile.yaml"
    problems: list[Problem] = []
    assert validate(read(path, "team: 6\n"), SCHEMA, "profile.yaml", problems) and problems == []
    assert (cache / yamlfile.VALID_FILE).is_file()
    yamlfile._valid.forget()  # as a new process: the verdict comes from the cache file

    def no_checking(schema_json: str) -> Any:
        raise AssertionError("checked again")

    monkeypatch.setattr(yamlfile, "_validator", no_checking)
    assert validate(read(path, "team: 6\n"), SCHEMA, "profile.yaml", problems) and problems == []
    with pytest.raises(AssertionError, match="checked again"):
        validate(read(path, "team: six\n"), SCHEMA, "profile.yaml", problems)


def test_problems_are_reported_every_time(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "profile.yaml"
    for _ in range(2):
        problems: list[Problem] = []
        assert not validate(read(path, "team: 6\nteem: 7\n"), SCHEMA, "profile.yaml", problems)
        assert [(p.path, p.line) for p in problems] == [("profile.yaml", 2)] and "teem" in problems[0].message
    yamlfile._valid.forget()
    problems = []
    assert not validate(read(path, "team: 6\nteem: 7\n"), SCHEMA, "profile.yaml", problems) and problems


def test_a_damaged_verdict_file_is_ignored(tmp_path: Path, cache: Path) -> None:
    cache.mkdir(parents=True)
    (cache / yamlfile.VALID_FILE).write_bytes(b"\x80 not json")
    problems: list[Problem] = []
    assert not validate(read(tmp_path / "p.yaml", "team: x\n"), SCHEMA, "p.yaml", problems) and problems
    assert validate(read(tmp_path / "p.yaml", "team: 3\n"), SCHEMA, "p.yaml", problems)
