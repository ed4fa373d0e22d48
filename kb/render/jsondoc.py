"""The justification document as canonical JSON, and the content hash that names a record."""

from __future__ import annotations

import hashlib
import json
import weakref

from kb.advisor.question import encodable
from kb.model.answer import Answer


def to_json(answer: Answer) -> str:
    """The document as canonical JSON (sorted keys, two-space indent). An answer is frozen, so its document is
    written once (its hash, the JSON export and the chat's store all start from it) and forgotten with it."""
    found = _WRITTEN.get(id(answer))
    if found is not None:
        return found[0]
    text = encodable(json.dumps(answer.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
    _WRITTEN[id(answer)] = (text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])
    weakref.finalize(answer, _WRITTEN.pop, id(answer), None)
    return text


_WRITTEN: dict[int, tuple[str, str]] = {}
"""id of a live answer -> (its canonical JSON, its digest)."""


def digest(answer: Answer) -> str:
    """A content hash of the document: names it in PROV-O and in file names."""
    found = _WRITTEN.get(id(answer))
    if found is None:
        to_json(answer)
        found = _WRITTEN[id(answer)]
    return found[1]
