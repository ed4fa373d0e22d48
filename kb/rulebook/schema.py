"""The JSON Schema of a rule file, generated from the vocabulary.

A rule file's shape (which keys each part may have, which parts are lists, mappings or text) is checked
against this schema by the one YAML reader (`kb.yamlfile.validate`), so a misplaced key is reported at its
line the same way in every analysts' file. The keys come from `vocab.RULE_KEYS` and their descriptions from
`vocab.RULE_KEYWORDS`: the language, this schema and the documentation cannot drift apart. What a value
*means* (a known fact kind, field, operator, option, ontology term, a quote found in its document) is
checked afterwards by the rule reader, which knows the ontology and the other files.

`kb schema rules` prints the schema, for editors that validate YAML as it is typed.
"""

from __future__ import annotations

from typing import Any

from kb import vocab
from kb.yamlfile import TEXT

_SCALAR: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_LIST_OF_MAPPINGS: dict[str, Any] = {"type": "array", "items": {"type": "object"}}


def _part(title: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A mapping that may hold exactly the keys `vocab.RULE_KEYS[title]`, each described from the vocabulary."""
    keys = vocab.RULE_KEYS[title]
    missing = set(properties) - set(keys)
    if missing:  # a schema property the vocabulary does not allow is a mistake in this module
        raise ValueError(f"{title}: {sorted(missing)} are not keys of vocab.RULE_KEYS")
    props = {k: {**properties.get(k, {}), "description": vocab.RULE_KEYWORDS[k]} for k in keys}
    out: dict[str, Any] = {"type": "object", "title": title, "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def rule_file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one file under rules/."""
    condition_heads = {
        "fact": "#/$defs/fact_condition",
        "none": "#/$defs/none_condition",
        "all": "#/$defs/all_group",
        "any": "#/$defs/any_group",
    }
    conditions = {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}
    defs: dict[str, Any] = {
        "condition": {
            "type": "object",
            "title": "a condition",
            "description": "one of: `fact` (with `as`, `where`), `none`, `all`, `any`",
            "allOf": [{"if": {"required": [head]}, "then": {"$ref": ref}} for head, ref in condition_heads.items()],
        },
        "fact_condition": _part("a fact condition", {
            "fact": TEXT, "as": TEXT,
            "where": {"type": "object", "additionalProperties": {
                "anyOf": [_SCALAR, {"type": "object"}]}},
        }),
        "none_condition": _part("a `none` condition", {"none": {"$ref": "#/$defs/fact_condition"}}),
        "all_group": _part("an `all` group", {"all": conditions}),
        "any_group": _part("an `any` group", {"any": conditions}),
        "then_item": {
            "type": "object",
            "title": "an item of `then`",
            "if": {"required": ["derive"]},
            "then": {"$ref": "#/$defs/derive"},
            "else": {"$ref": "#/$defs/conclusion"},
        },
        "conclusion": _part("a conclusion", {
            "kind": TEXT, "statement": TEXT, "option": TEXT, "strength": {"type": "number"},
            "stance": TEXT, "asks": TEXT, "criterion": TEXT,
        }, required=("kind",)),
        "derive": _part("a `derive`", {"derive": TEXT, "fields": {
            "type": "object", "additionalProperties": _SCALAR}}),
        "evidence": _part("`evidence`", {"doc": TEXT, "quote": TEXT, "query": TEXT, "of": TEXT}),
        "rule": _part("a rule", {
            "id": {"type": "string"}, "title": TEXT,
            "when": {"anyOf": [conditions, {"$ref": "#/$defs/condition"}]},
            "then": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/then_item"}},
            "evidence": {"$ref": "#/$defs/evidence"},
        }, required=("id", "when", "then")),
        "derived_kind": _part("a derived fact kind", {
            "doc": TEXT,
            "fields": {"type": "object", "additionalProperties": {"type": "object"}},
        }, required=("doc",)),
        "expectation": {"anyOf": [
            {"type": "string"},
            _part("an expectation", {k: _SCALAR for k in vocab.RULE_KEYS["an expectation"]}),
        ]},
        "test": _part("a test", {
            "name": TEXT,
            "given": _LIST_OF_MAPPINGS,
            "ontology": {"type": "array", "items": {"type": "string"}},
            "expect": {"type": "array", "items": {"$ref": "#/$defs/expectation"}},
            "expect_not": {"type": "array", "items": {"$ref": "#/$defs/expectation"}},
        }),
    }
    root = _part("a rule file", {
        "topic": {"type": "string"},
        "derives": {"type": "object", "additionalProperties": {"$ref": "#/$defs/derived_kind"}},
        "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
        "tests": {"type": "array", "items": {"$ref": "#/$defs/test"}},
    })
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://w3id.org/oscar/schema/rule-file.json", **root, "$defs": defs}


RULE_FILE_SCHEMA = rule_file_schema()
