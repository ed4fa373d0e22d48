"""`kb schema [KIND]`: print a JSON Schema, generated from the code that reads or writes the file.

`answer` (the default) is the justification document `kb ask --json` prints; the others are the kinds of
file analysts write, as the one YAML reader checks them (editors with a YAML language server can validate
as you type: `kb schema rules > rule-file.schema.json`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kb.cli import options


def _answer() -> dict[str, Any]:
    from kb.model.answer import json_schema

    return json_schema()


def _rules() -> dict[str, Any]:
    from kb.rulebook.schema import RULE_FILE_SCHEMA

    return RULE_FILE_SCHEMA


def _reader(name: str) -> Callable[[], dict[str, Any]]:
    def get() -> dict[str, Any]:
        from kb.advisor import phrasebook

        schema: dict[str, Any] = getattr(phrasebook, name)
        return schema
    return get


def _corpus(name: str) -> Callable[[], dict[str, Any]]:
    def get() -> dict[str, Any]:
        from kb.corpus import documents

        schema: dict[str, Any] = getattr(documents, name)
        return schema
    return get


def _profile() -> dict[str, Any]:
    from kb.advisor.conversation import profile_schema

    return profile_schema()


SCHEMAS: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "answer": (_answer, "the justification document (`kb ask --json`)"),
    "rules": (_rules, "a file under rules/"),
    "fields": (_reader("FIELDS_FILE_SCHEMA"), "reader/fields.yaml"),
    "phrases": (_reader("PHRASE_FILE_SCHEMA"), "a file under reader/phrases/"),
    "cues": (_reader("CUES_SCHEMA"), "reader/cues.yaml"),
    "quantities": (_reader("QUANTITIES_SCHEMA"), "reader/quantities.yaml"),
    "thresholds": (_reader("THRESHOLDS_SCHEMA"), "reader/thresholds.yaml"),
    "metadata": (_corpus("METADATA_SCHEMA"), "corpus/metadata.yaml"),
    "furniture": (_corpus("FURNITURE_SCHEMA"), "corpus/furniture.yaml"),
    "profile": (_profile, "a profile file (`kb ask --profile`)"),
}


def main(argv: list[str]) -> int:
    """`kb schema [KIND]`: print the JSON Schema of the justification document or of an analysts' file."""
    parser = options.parser("kb schema", main.__doc__)
    parser.add_argument("kind", nargs="?", default="answer", choices=list(SCHEMAS),
                        help="; ".join(f"{k}: {d}" for k, (_, d) in SCHEMAS.items()))
    ns = parser.parse_args(argv)
    print(json.dumps(SCHEMAS[ns.kind][0](), indent=2, ensure_ascii=False))
    return 0
