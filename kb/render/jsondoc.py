"""The justification document as canonical JSON, and the content hash that names a record."""

from __future__ import annotations

import hashlib
import json
import weakref

from kb.advisor.question import encodable
from kb.model.answer import Answer


def to_json(answer: Answer) -> str:
    """The document as canonical JSON (sorted keys, two-space indent)."""
    return encodable(json.dumps(answer.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


_DIGESTS: dict[int, str] = {}


def digest(answer: Answer) -> str:
    """A content hash of the document: names it in PROV-O and in file names. An answer is frozen, so its
    hash is computed once (every export format names its file with it) and forgotten with the answer."""
    found = _DIGESTS.get(id(answer))
    if found is not None:
        return found
    value = hashlib.sha256(to_json(answer).encode("utf-8")).hexdigest()[:16]
    _DIGESTS[id(answer)] = value
    weakref.finalize(answer, _DIGESTS.pop, id(answer), None)
    return value
