"""The justification document as canonical JSON, and the content hash that names a record."""

from __future__ import annotations

import hashlib
import json

from kb.advisor.question import encodable
from kb.model.answer import Answer


def to_json(answer: Answer) -> str:
    """The document as canonical JSON (sorted keys, two-space indent)."""
    return encodable(json.dumps(answer.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def digest(answer: Answer) -> str:
    """A content hash of the document: names it in PROV-O and in file names."""
    return hashlib.sha256(to_json(answer).encode("utf-8")).hexdigest()[:16]
