"""Four `kb ask --session same.json` at once all exited 0 but kept 1 turn of 4: saves raced on one shared
`.tmp` file (crashes, corrupt reads), and a corrupt session was then refused, so the conversation was lost.
A session on a folder, or holding a JSON list, gave a traceback; `--set team_size=1e400` too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kb.advisor.conversation import Conversation, coerce
from kb.config import PROJECT_ROOT
from kb.model.problems import KnowledgeError

WRITER = """
import sys
from kb.advisor.conversation import Conversation
from kb.advisor.reader import Understanding
path, who, turns = sys.argv[1], sys.argv[2], int(sys.argv[3])
for n in range(turns):
    with Conversation.locked(path):
        c = Conversation.load(path)
        c.add_turn(Understanding(f"{who}-{n}", "recommendation"))
        c.save(path)
"""


def test_four_processes_taking_turns_on_one_session_lose_nothing(tmp_path: Path) -> None:
    session = tmp_path / "same.json"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(session), f"p{i}", "25"], cwd=PROJECT_ROOT)
             for i in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    turns = Conversation.load(session).turns
    assert len(turns) == 100 and len(set(turns)) == 100
    assert not list(tmp_path.glob("*.tmp"))  # no temporary file left behind
    json.loads(session.read_text())  # and the file is whole


@pytest.mark.parametrize("content", [None, "[1, 2]", "{not json", '{"observations": [{"key": 1}]}'])
def test_a_session_that_is_no_conversation_is_a_problem_not_a_traceback(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "s.json"
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    with pytest.raises(KnowledgeError, match="not a saved conversation"):
        Conversation.load(path)


@pytest.mark.parametrize("value", ["1e400", "inf", "nan", "-3"])
def test_numbers_that_are_no_head_count_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="team_size"):
        coerce("team_size", value)
