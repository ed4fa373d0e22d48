"""`kb vocab`: print the vocabulary that rule files may use (fact kinds, fields, operators, conclusions)."""

from __future__ import annotations

import json

from kb import vocab
from kb.cli import options


def vocabulary() -> dict[str, object]:
    """The vocabulary as plain data: what analysts may write in rule files."""
    return {
        "fact_kinds": {
            name: {
                "origin": kind.origin,
                "doc": kind.doc,
                "fields": {
                    f: {"type": s.type, "doc": s.doc, **({"values": list(s.values)} if s.values else {})}
                    for f, s in kind.fields.items()
                },
            }
            for name, kind in vocab.FACT_KINDS.items()
        },
        "operators": {name: op.doc for name, op in vocab.OPERATORS.items()},
        "conclusion_kinds": list(vocab.CONCLUSION_KINDS),
        "options": list(vocab.OPTIONS),
        "prefixes": vocab.PREFIXES,
    }


def main(argv: list[str]) -> int:
    parser = options.parser("kb vocab", __doc__)
    parser.add_argument("--json", action="store_true", help="print as JSON")
    ns = parser.parse_args(argv)
    data = vocabulary()
    if ns.json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return 0
    for name, kind in data["fact_kinds"].items():  # type: ignore[attr-defined]
        print(f"{name} ({kind['origin']}): {kind['doc']}")
        for field, spec in kind["fields"].items():
            values = f" one of {', '.join(spec['values'])}" if "values" in spec else ""
            print(f"  {field}: {spec['type']}{values}  {spec['doc']}")
    print("operators:")
    for name, doc in data["operators"].items():  # type: ignore[attr-defined]
        print(f"  {name}: {doc}")
    print("conclusion kinds:", ", ".join(data["conclusion_kinds"]))  # type: ignore[arg-type]
    print("options:", ", ".join(data["options"]))  # type: ignore[arg-type]
    return 0
