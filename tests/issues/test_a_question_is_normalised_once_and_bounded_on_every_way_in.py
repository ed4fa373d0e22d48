"""A question's text went in raw: terminal escape sequences from it were printed by `kb ask --why`, lone
surrogates broke exports, and only the chat bounded its length (the CLI read a question of any size)."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest

from kb.advisor.question import MAX_QUESTION_CHARS, question_text
from kb.config import PROJECT_ROOT


def test_control_bidi_and_surrogates_are_dropped_or_replaced_and_text_is_nfc() -> None:
    raw = "we are a bank\x1b[2J\x07 \u202egnirts\u202c cafe\u0301 \ud800 ok"
    clean = question_text(raw)
    assert "\x1b" not in clean and "\x07" not in clean and "\u202e" not in clean
    assert "\ufffd" in clean and clean.encode("utf-8")
    assert unicodedata.is_normalized("NFC", clean) and "café" in clean


def test_an_overlong_question_is_refused_with_its_length() -> None:
    with pytest.raises(ValueError, match="20,001 characters"):
        question_text("x" * (MAX_QUESTION_CHARS + 1))


def test_the_command_line_refuses_an_overlong_question_before_loading_anything() -> None:
    done = subprocess.run([sys.executable, "-m", "kb.cli", "ask", "x" * (MAX_QUESTION_CHARS + 1)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    assert done.returncode == 1
    assert "keep it under 20,000" in done.stderr and "Traceback" not in done.stderr
