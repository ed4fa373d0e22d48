"""Analysts' YAML read with line numbers: mappings and lists that remember where each key and item stood.

One reader for every YAML file analysts write (rules, the reader's fields and phrases): a syntax error
or a misplaced key becomes a `Problem(path, line, message)`, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kb.problems import Problem, display_path


class YMap(dict[str, Any]):
    """A YAML mapping that remembers its line and the line of each key."""

    line: int
    key_lines: dict[str, int]

    @classmethod
    def empty(cls, line: int = 0) -> YMap:
        """An empty mapping standing for one the file does not have."""
        out = cls()
        out.line, out.key_lines = line, {}
        return out


class YList(list[Any]):
    """A YAML sequence that remembers its line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.item_lines = []


_SCALARS = yaml.SafeLoader(stream="")
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser keeps the same marks, 20x faster


def plain(node: yaml.Node, path: str, problems: list[Problem]) -> Any:
    """A composed YAML node as YMap / YList / scalars; duplicate or non-text keys become problems."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = YMap()
        out.line, out.key_lines = line, {}
        for key_node, value_node in node.value:
            key = plain(key_node, path, problems)
            if not isinstance(key, str):
                problems.append(Problem(path, key_node.start_mark.line + 1, f"a key must be a name, not {key!r}"))
                continue
            if key in out:
                problems.append(Problem(path, key_node.start_mark.line + 1, f"key `{key}` appears twice"))
            out[key] = plain(value_node, path, problems)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        items = YList(plain(n, path, problems) for n in node.value)
        items.line, items.item_lines = line, [n.start_mark.line + 1 for n in node.value]
        return items
    value = _SCALARS.construct_object(node)
    if isinstance(value, bool) and not getattr(node, "style", None) and node.value.lower() not in ("true", "false"):
        # YAML 1.1 reads a bare yes/no/on/off as a boolean; analysts writing `[no, on, off]` mean the words
        # (YAML 1.2 agrees): only true and false are booleans here.
        return node.value
    return value


def line_of(value: Any, default: int) -> int:
    """The line a parsed value started on (mappings and lists know it), else `default`."""
    return int(getattr(value, "line", default))


UNREADABLE: Any = object()
"""What `read_yaml` returns for a file it could not read or parse (the problem is already recorded)."""


def read_yaml(path: Path, shown: str, problems: list[Problem], what: str) -> Any:
    """The file's YAML with line numbers; None for an empty file; UNREADABLE, with a problem appended, for a
    file that cannot be read or is not YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(shown, 0, f"cannot read {what}: {exc}"))
        return UNREADABLE
    try:
        node = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problems.append(Problem(shown, line, f"YAML syntax: {getattr(exc, 'problem', None) or exc}"))
        return UNREADABLE
    if node is None:
        return None
    return plain(node, shown, problems)


def read_mapping(path: Path, problems: list[Problem], what: str, missing: str | None = None) -> YMap | None:
    """A file that must hold a YAML mapping, or None with the problem recorded: `missing` says why a file
    that is absent is a problem (None: an absent file is not one)."""
    shown = display_path(path)
    if not path.is_file():
        if missing is not None:
            problems.append(Problem(shown, 0, f"missing: {missing}"))
        return None
    doc = read_yaml(path, shown, problems, what)
    if doc is UNREADABLE:
        return None
    if not isinstance(doc, YMap):
        problems.append(Problem(shown, line_of(doc, 1), f"{what} is a mapping"))
        return None
    return doc
