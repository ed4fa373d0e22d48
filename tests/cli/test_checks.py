"""`kb check` over the analysts' folders' READMEs: a table of files must not name a file that is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.cli.checks import main, run_checks
from kb.config import Paths

README = """# ontology/

| file | what it holds |
| --- | --- |
| `schema.ttl` | classes |
| `offerings.ttl` | offerings |

```
| file | an example in a code block, not a table of this folder |
| --- | --- |
| `example.ttl` | ignored |
```

| prefix | IRI |
| --- | --- |
| `gone.ttl` | a table whose first column is not headed `file` |
"""


def ontology_with_readme(tmp_path: Path, readme: str, files: tuple[str, ...]) -> Paths:
    folder = tmp_path / "kb" / "ontology"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(readme, encoding="utf-8")
    for name in files:
        (folder / name).write_text("# empty\n", encoding="utf-8")
    return Paths(root=tmp_path / "kb", cache=tmp_path / "cache")


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_a_row_naming_a_missing_file_is_a_problem_at_its_line(tmp_path: Path) -> None:
    paths = ontology_with_readme(tmp_path, README, ("schema.ttl",))
    problems = run_checks(paths, {"readmes"})
    assert [str(p) for p in problems] == [
        f"ontology/README.md:{line_of(README, '`offerings.ttl`')}: the table of files names `offerings.ttl`, "
        "which is not in ontology/: remove the row or restore the file"]


def test_a_file_without_a_row_is_not_a_problem(tmp_path: Path) -> None:
    paths = ontology_with_readme(tmp_path, README, ("schema.ttl", "offerings.ttl", "model-serving.ttl"))
    assert run_checks(paths, {"readmes"}) == []


def test_kb_check_prints_the_problem_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = ontology_with_readme(tmp_path, README, ("schema.ttl",))
    assert main(["--root", str(paths.root), "--only", "readmes"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"ontology/README.md:{line_of(README, '`offerings.ttl`')}: ")


def test_the_readmes_under_test_name_only_files_that_exist(kb_root: Path) -> None:
    assert run_checks(Paths(root=kb_root, cache=Path("/nonexistent")), {"readmes"}) == []


def test_a_given_cache_folder_holds_every_cache_the_check_writes(
        kb_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from kb import yamlfile

    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("OSCAR_CACHE", raising=False)  # restored after the test, whatever `--cache` set
    yamlfile._valid.forget()  # read the verdicts afresh from wherever the run's cache is
    try:
        assert main(["--root", str(kb_root), "--cache", str(tmp_path / "cache"), "--only", "reader"]) == 0
    finally:
        yamlfile._valid.forget()
    assert (tmp_path / "cache" / yamlfile.VALID_FILE).is_file()
    assert not home.exists(), sorted(str(p) for p in home.rglob("*"))
