"""`kb ask` and `kb export` as a person uses them: a conversation kept in a session file across calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT
from kb.model.answer import validate


def kb(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSCAR_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=300)


@pytest.fixture(scope="module")
def cache(kb_cache: Path) -> Path:
    """The test run's knowledge-base cache: the commands read the index built there, as a second `kb` run does."""
    return kb_cache


def test_a_session_carries_facts_across_calls_and_exports(tmp_path: Path, cache: Path) -> None:
    session = tmp_path / "session.json"
    profile = tmp_path / "profile.yaml"
    profile.write_text("team_size: 6\nindustry: healthcare\nrequires: [HIPAA]\n")
    first = kb("ask", "--session", str(session), "--profile", str(profile), "should we buy an ML platform?",
               cache=cache)
    assert first.returncode == 0, first.stderr
    assert "Recommendation: Buy a commercial" in first.stdout
    assert "[1]" in first.stdout and "Sources:" in first.stdout

    second = kb("ask", "--session", str(session), "--json", "actually we're not regulated", cache=cache)
    assert second.returncode == 0, second.stderr
    doc = json.loads(second.stdout)
    validate(doc)
    assert len(doc["turns"]) == 2
    assert next(f for f in doc["facts"] if f["id"] == "asker.team_size")["source"]["kind"] == "profile"
    assert not any(c["rule"]["id"] == "compliance.buy-coverage" for c in doc["conclusions"])

    out = tmp_path / "records"
    third = kb("export", "--session", str(session), "--format", "all", "--out", str(out), cache=cache)
    assert third.returncode == 0, third.stderr
    names = sorted(p.name for p in out.iterdir())
    assert [n.rsplit(".", 1)[-1] for n in names] == ["html", "json", "md", "ttl"]
    assert json.loads(next(out.glob("*.json")).read_text())["turns"] == doc["turns"]


def test_a_bad_profile_is_refused_with_file_and_line(tmp_path: Path, cache: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("team_size: 6\nrequires: [HIPPA]\n")
    result = kb("ask", "--profile", str(profile), "should we buy?", cache=cache)
    assert result.returncode == 1
    assert "profile.yaml:2: 'requires': no entity is called 'HIPPA'" in result.stderr


def test_trace_logs_oscars_stages_and_only_trace_all_lets_libraries_talk() -> None:
    import logging

    from kb.cli import options

    root = logging.getLogger().level
    try:
        parsed = options.parser("kb ask").parse_args(["--trace"])
        assert parsed.trace == "oscar"
        options.trace(parsed.trace)
        assert logging.getLogger("kb.engine.durable").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("markdown_it.rules_block").isEnabledFor(logging.DEBUG)
        options.trace(options.parser("kb ask").parse_args(["--trace=all"]).trace)
        assert logging.getLogger("markdown_it.rules_block").isEnabledFor(logging.DEBUG)
        options.trace(None)
        assert not logging.getLogger("kb.engine.durable").isEnabledFor(logging.DEBUG)
        assert options.forwarded(options.parser("kb").parse_args(["--trace=all"])) == ["--trace=all"]
    finally:
        logging.getLogger().setLevel(root)
        logging.getLogger("kb").setLevel(logging.NOTSET)
