"""Analysts' YAML read with line numbers: mappings and lists that remember where each key and item stood.

One reader for every YAML file analysts write (rules, the reader's fields, phrases and labelled sets, corpus
metadata and furniture, profiles): a syntax error, a misplaced key or a value of the wrong shape becomes a
`Problem(path, line, message)`, never a traceback. `validate` checks a file against a JSON Schema and
reports each error at the line of the key or item it concerns.

Bounded and plain: a file over `MAX_BYTES`, or whose aliases expand past `MAX_NODES` nodes (a "billion
laughs"), is refused; so are tags (`!!python/object`, `!custom`) and merge keys (`<<:`): YAML here is
data, never objects. Dates and times stay text as written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from kb.model.problems import Problem, display_path


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
MAX_BYTES = 5_000_000
"""An analysts' YAML file larger than this is refused unread."""
MAX_NODES = 200_000
"""Nodes a file may expand to, aliases counted each time they are used."""
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq"))
_AS_WRITTEN = frozenset({"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"})


TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": r"\S"}
"""The JSON Schema of non-empty text, for the schemas of analysts' files."""


class _TooLarge(Exception):
    pass


def plain(node: yaml.Node, path: str, problems: list[Problem], budget: list[int] | None = None) -> Any:
    """A composed YAML node as YMap / YList / scalars; duplicate or non-text keys, tags and merge keys become
    problems. `budget`: nodes left before the file is refused as too large (aliases count each use)."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    line = node.start_mark.line + 1
    tag = node.tag or ""
    if tag.startswith("!") or (tag.startswith("tag:yaml.org,2002:") and tag not in _PLAIN_TAGS | _AS_WRITTEN
                               and tag != "tag:yaml.org,2002:merge"):
        problems.append(Problem(path, line, f"the tag {tag} is not allowed: write plain values"))
        return None
    if isinstance(node, yaml.MappingNode):
        out = YMap()
        out.line, out.key_lines = line, {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(path, key_node.start_mark.line + 1,
                                        "merge keys (`<<:`) are not supported: write the keys out"))
                continue
            key = plain(key_node, path, problems, budget)
            if not isinstance(key, str):
                problems.append(Problem(path, key_node.start_mark.line + 1, f"a key must be a name, not {key!r}"))
                continue
            if key in out:
                problems.append(Problem(path, key_node.start_mark.line + 1, f"key `{key}` appears twice"))
            out[key] = plain(value_node, path, problems, budget)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        items = YList(plain(n, path, problems, budget) for n in node.value)
        items.line, items.item_lines = line, [n.start_mark.line + 1 for n in node.value]
        return items
    if tag in _AS_WRITTEN:
        return node.value
    try:
        value = _SCALARS.construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        problems.append(Problem(path, line, f"not a valid {tag.rsplit(':', 1)[-1]}: {node.value!r} ({exc})"))
        return None
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
        if not path.is_file():
            problems.append(Problem(shown, 0, f"cannot read {what}: not a file"))
            return UNREADABLE
        if path.stat().st_size > MAX_BYTES:
            problems.append(Problem(shown, 0, f"{what} is larger than {MAX_BYTES:,} bytes: refused unread"))
            return UNREADABLE
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
    try:
        return plain(node, shown, problems)
    except RecursionError:
        problems.append(Problem(shown, 1, f"{what} nests too deeply, or an alias refers to itself: refused"))
        return UNREADABLE
    except _TooLarge:
        problems.append(Problem(shown, 1, f"{what} expands to more than {MAX_NODES:,} values (aliases?): refused"))
        return UNREADABLE


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


def read_checked(path: Path, schema: Mapping[str, Any], problems: list[Problem], what: str,
                 missing: str | None = None) -> YMap | None:
    """A file that must hold a YAML mapping valid under `schema`: the mapping, or None with every problem
    recorded (see `read_mapping` for `missing`)."""
    doc = read_mapping(path, problems, what, missing)
    if doc is None or not validate(doc, schema, display_path(path), problems):
        return None
    return doc


def _node_at(doc: Any, where: Sequence[str | int]) -> Any:
    """The value at JSON path `where`, as deep as the path reaches."""
    node = doc
    for step in where:
        if isinstance(node, dict) and step in node or isinstance(node, list) and isinstance(step, int) \
                and 0 <= step < len(node):
            node = node[step]  # type: ignore[index]
        else:
            break
    return node


def line_at(doc: Any, where: Sequence[str | int], default: int = 1) -> int:
    """The line of the key or item at JSON path `where` in a document read by `read_yaml`: the deepest one
    the path reaches."""
    line = line_of(doc, default)
    node = doc
    for step in where:
        if isinstance(node, YMap) and isinstance(step, str) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
        elif isinstance(node, YList) and isinstance(step, int) and 0 <= step < len(node):
            line = node.item_lines[step] if step < len(node.item_lines) else line
            node = node[step]
        else:
            break
    return line


def validate(doc: Any, schema: Mapping[str, Any], shown: str, problems: list[Problem]) -> bool:
    """Check a document read by `read_yaml` against a JSON Schema; each error becomes a problem at the line
    of the key or item it concerns, worded for the analyst who wrote the file. True when there was none.

    A document found valid is remembered by the digest of its schema and content (`VALID_FILE` in the cache):
    the same file is not checked again at the next start, and jsonschema, whose import alone takes a second,
    is not imported at all when nothing changed. A document with problems is always checked afresh."""
    schema_json = json.dumps(schema)  # key order kept: "expected one of" lists keys as declared
    digest = hashlib.sha256(f"{jsonschema_version()}\0{schema_json}\0{doc!r}".encode()).hexdigest()[:32]
    if digest in _valid.known():
        return True
    validator = _validator(schema_json)
    found: list[tuple[int, str]] = []
    for error in validator.iter_errors(doc):
        found.extend(_explain(doc, error))
    for line, message in sorted(set(found)):
        problems.append(Problem(shown, line, message))
    if not found:
        _valid.add(digest)
    return not found


@functools.lru_cache(maxsize=1)
def jsonschema_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("jsonschema")


VALID_FILE = "valid-yaml.json"
"""The cache's list of digests of documents found valid (data only: hex digests)."""
MAX_VALID = 4096
"""Digests kept; the oldest are forgotten first."""


class _Verdicts:
    """The digests of valid documents, read from the cache once per process and written back when one is added
    (atomically: a process that loses a race only forgets a verdict, which is checked again)."""

    def __init__(self) -> None:
        self._known: dict[str, None] | None = None
        self._lock = threading.Lock()

    def _path(self) -> Path:
        from kb.config import default_cache

        return default_cache() / VALID_FILE

    def known(self) -> dict[str, None]:
        if self._known is None:
            with self._lock:
                if self._known is None:
                    try:
                        data = json.loads(self._path().read_text(encoding="utf-8"))
                        self._known = {str(d): None for d in data if isinstance(d, str)}
                    except (OSError, ValueError, TypeError):
                        self._known = {}
        return self._known

    def add(self, digest: str) -> None:
        known = self.known()
        with self._lock:
            known[digest] = None
            while len(known) > MAX_VALID:
                del known[next(iter(known))]
            kept = list(known)
        path = self._path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(kept), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a read-only cache: every start validates, as before

    def forget(self) -> None:
        """Drop what this process read (the next check reads the cache again)."""
        with self._lock:
            self._known = None


_valid = _Verdicts()


_TYPE_WORDS = {"string": "text", "array": "a list", "object": "a mapping", "number": "a number",
               "integer": "a whole number", "boolean": "true or false", "null": "empty"}


def _explain(doc: Any, error: Any) -> list[tuple[int, str]]:
    """(line, message) for one schema error: unknown keys at their own lines, a missing key at its mapping's,
    a wrong type named in words; an error among alternatives (`anyOf`) explained by its likeliest branch."""
    import jsonschema

    path = list(error.absolute_path)
    line = line_at(doc, path)
    where = "/".join(str(p) for p in path)
    name = f"`{path[-1]}`" if path and isinstance(path[-1], str) else (where or "the file")
    title = error.schema.get("title") if isinstance(error.schema, Mapping) else None
    within = f" in {title}" if title else (f" in {where}" if where else "")
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):  # a key that is no valid name
        key_lines = getattr(_node_at(doc, path), "key_lines", {})
        why = error.schema.get("description") or f"not a name matching {error.validator_value}"
        return [(key_lines.get(error.instance, line), f"`{error.instance}`{within}: {why}")]
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed and not any(
            re.search(p, str(k)) for p in error.schema.get("patternProperties", {}))]
        hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        key_lines = getattr(error.instance, "key_lines", {})
        return [(key_lines.get(k, line), f"unknown key `{k}`{within}{hint}") for k in extra]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [(line, f"{title or where or 'the file'} needs `{missing}`")]
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in wanted)
        return [(line, f"{name} must be {words}, not {error.instance!r}"[:300])]
    if error.validator in ("minLength", "pattern") and isinstance(error.instance, str) and not error.instance.strip():
        return [(line, f"{name} must be non-empty text")]
    if error.validator == "minLength" and isinstance(error.instance, str):
        return [(line, f"{name} must be at least {error.validator_value} characters, not {error.instance!r}")]
    if error.validator == "minItems":
        return [(line, f"{name} must not be empty")]
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [errs for errs in branches.values()  # branches whose own type fits the value
                   if not any(e.validator == "type" and not e.relative_path for e in errs)]
        if len(fitting) == 1:
            return [found for sub in fitting[0] for found in _explain(doc, sub)]
        return _explain(doc, jsonschema.exceptions.best_match(error.context))
    message = error.message if not where else f"{where}: {error.message}"
    return [(line, message[:300])]



@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    import jsonschema

    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
