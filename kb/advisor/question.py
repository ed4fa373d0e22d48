"""What a question may be: normalised once on entry, and bounded in length on every way in (chat, CLI).

Light on purpose (no model, no spaCy), so the command line can refuse a bad question before it loads.
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUESTION_CHARS = 20_000
"""Longer questions are refused with a message saying so."""

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """Text that can be written as UTF-8: a lone surrogate (which a JSON client can send) becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def question_text(text: str) -> str:
    """A question as it is read and stored, normalised once on entry: Unicode NFC, lone surrogates (which a
    JSON client can send) as U+FFFD, control and bidirectional-override characters dropped. ValueError
    for a question longer than MAX_QUESTION_CHARS."""
    if len(text) > MAX_QUESTION_CHARS:
        raise ValueError(f"That question is {len(text):,} characters long; keep it under {MAX_QUESTION_CHARS:,}.")
    return unicodedata.normalize("NFC", _CONTROL.sub("", encodable(text)))
