"""The justification document as canonical JSON, and the content hash that names a record."""

from __future__ import annotations

import hashlib
import json
import weakref
from typing import Any

from kb.advisor.question import encodable
from kb.model.answer import Answer


def to_json(answer: Answer) -> str:
    """The document as canonical JSON (sorted keys, two-space indent). An answer is frozen, so its document is
    written once (its hash, the JSON export and the chat's store all start from it) and forgotten with it."""
    return _written(answer)[0]


_WRITTEN: dict[int, tuple[str, str, dict[str, Any]]] = {}
"""id of a live answer -> (its canonical JSON, its digest, its document)."""


def _written(answer: Answer) -> tuple[str, str, dict[str, Any]]:
    found = _WRITTEN.get(id(answer))
    if found is None:
        doc = answer.to_dict()
        text = encodable(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
        found = _WRITTEN[id(answer)] = (text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], doc)
        weakref.finalize(answer, _WRITTEN.pop, id(answer), None)
    return found


def digest(answer: Answer) -> str:
    """A content hash of the document: names it in PROV-O and in file names."""
    return _written(answer)[1]


def document(answer: Answer) -> dict[str, Any]:
    """The document as data (`Answer.to_dict()`), made once with its JSON: shared, so not to be changed."""
    return _written(answer)[2]
