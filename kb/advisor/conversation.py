"""A conversation: the facts an asker has given, over turns, with corrections and a profile file.

Observations accumulate turn by turn; for each asker field the latest word wins ("actually we're not
regulated"), and an entity the asker denies or removes is dropped. The engine's facts are rebuilt from
this record on every turn, so a conclusion that rested on a corrected fact cannot outlive it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from kb.advisor.reader import Observation, Understanding
from kb.graph.expressions import ExpressionError
from kb.graph.expressions import facts as expression_facts
from kb.graph.expressions import parse as parse_expression
from kb.model.facts import Fact, Scalar, Source
from kb.model.problems import KnowledgeError, Problem, display_path
from kb.stack.intake import Stack
from kb.vocab import FACT_KINDS, FieldSpec
from kb.yamlfile import UNREADABLE, YList, YMap, line_of, read_yaml, validate

ASKER_FIELDS: dict[str, FieldSpec] = FACT_KINDS["asker"].fields
ENTITY_KEYS = ("mention", "requirement", "expression")


class FactSource(Protocol):
    """What a conversation needs of the ontology: facts by id and the facts related to some entities."""

    def fact(self, ident: str) -> Fact | None: ...

    def related(self, ids: Iterable[str]) -> list[Fact]: ...


def coerce(name: str, value: object) -> Scalar:
    """`value` as the type the asker field `name` declares; ValueError says what was expected."""
    spec = ASKER_FIELDS.get(name)
    if spec is None:
        raise ValueError(f"unknown fact '{name}'; known: {', '.join(sorted(ASKER_FIELDS))}")
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "true", "y", "1"):
            return True
        if text in ("no", "false", "n", "0"):
            return False
        raise ValueError(f"'{name}' expects yes or no, got {value!r}")
    if spec.type in ("int", "float"):
        if isinstance(value, bool):
            raise ValueError(f"'{name}' expects a number, got {value!r}")
        try:
            number = float(str(value).replace(",", "").strip())
        except ValueError:
            raise ValueError(f"'{name}' expects a number, got {value!r}") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"'{name}' expects a number of zero or more, got {value!r}")
        return int(number) if spec.type == "int" else number
    text = str(value).strip()
    if spec.values and text not in spec.values:
        raise ValueError(f"'{name}' expects one of {', '.join(spec.values)}, got {value!r}")
    if not text:
        raise ValueError(f"'{name}' expects a value")
    return text


@dataclass
class Conversation:
    """The asker's record: every turn's question and observations, plus edits made by hand."""

    turns: list[str] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    stack: Stack | None = None
    """A stack (SBOM or dependency file) given beside the questions: every answer reviews it."""

    # --- adding -------------------------------------------------------------------------------------------
    def add_turn(self, understanding: Understanding) -> None:
        """Record a question and what it states; nothing said in a question declined as out of scope becomes
        a fact ("ignore your rules, we're a bank" adds no industry)."""
        self.turns.append(understanding.question)
        if understanding.asked != "out_of_scope":
            self.observations.extend(understanding.observations)

    def set_fact(self, name: str, value: object) -> None:
        """Set or correct an asker field by hand (source: user). Raises ValueError on a bad value."""
        self.observations.append(Observation(name, coerce(name, value), Source(kind="user")))

    def add_entity(self, key: str, ident: str, source: Source | None = None) -> None:
        """Add a mentioned entity or a required certification."""
        if key not in ENTITY_KEYS:
            raise ValueError(f"unknown entity key '{key}'")
        self.observations.append(Observation(key, ident, source or Source(kind="user")))

    def remove(self, fact_id: str) -> bool:
        """Remove a fact in force by its id (`asker.team_size`, `mention:offering:pytorch`, ...)."""
        if fact_id not in {fid for fid, _, _ in self.known()}:
            return False
        if fact_id.startswith("asker."):
            key, ident = fact_id.removeprefix("asker."), ""
        else:
            key, _, ident = fact_id.partition(":")
        self.observations.append(Observation(key, ident, Source(kind="user"), negated=True))
        return True

    # --- reading -----------------------------------------------------------------------------------------
    def known(self) -> list[tuple[str, Scalar, Observation]]:
        """(fact id, value, the observation that set it) for every fact in force, in a stable order."""
        fields: dict[str, Observation] = {}
        entities: dict[tuple[str, str], Observation] = {}
        for obs in self.observations:
            if obs.key in ENTITY_KEYS:
                if obs.negated:
                    entities.pop((obs.key, str(obs.value)), None)
                else:
                    entities[(obs.key, str(obs.value))] = obs
            elif obs.negated:
                # "we're not a bank" drops the industry only if it was finance; a removal (value "") always
                current = fields.get(obs.key)
                if current is not None and (obs.value in ("", None) or current.value == obs.value):
                    fields.pop(obs.key)
            else:
                fields[obs.key] = obs
        out: list[tuple[str, Scalar, Observation]] = []
        for name in sorted(fields):
            out.append((f"asker.{name}", fields[name].value, fields[name]))
        for (key, ident), obs in sorted(entities.items()):
            out.append((f"{key}:{ident}", ident, obs))
        return out

    def facts(self, ontology: FactSource, asked: str | None = None) -> list[Fact]:
        """The consultation's facts: the asker fact, what is asked (an `inquiry`, when `asked` is given),
        requirements, mentions, and the ontology facts they touch.

        The asker fact carries no single source; each of its fields' sources is in `field_sources()`.
        """
        asker: dict[str, Scalar] = {}
        entity_ids: list[str] = []
        out: list[Fact] = []
        for fid, value, obs in self.known():
            if fid.startswith("asker."):
                asker[fid[6:]] = value
                if obs.key == "industry":
                    entity_ids.append(str(value))
            elif obs.key == "requirement":
                out.append(Fact.make(f"requirement:{value}", "requirement", {"certification": value}, obs.source))
                entity_ids.append(str(value))
            elif obs.key == "expression":
                try:
                    made = expression_facts(parse_expression(str(value)), obs.source, ontology.fact)
                except ExpressionError:
                    continue  # a saved conversation from before a change of the parser: nothing to add
                out.extend(made)
                entity_ids.extend(str(f.get("entity")) for f in made if f.kind == "mention")
            else:
                entity = ontology.fact(str(value))
                kind = entity.kind if entity is not None else str(value).split(":", 1)[0]
                out.append(Fact.make(f"mention:{value}", "mention", {"entity": value, "entity_kind": kind},
                                     obs.source))
                entity_ids.append(str(value))
        out.insert(0, Fact.make("asker", "asker", asker, Source(kind="user")))
        if asked is not None:
            latest = self.turns[-1] if self.turns else ""
            out.insert(1, Fact.make("inquiry", "inquiry", {"asked": asked}, Source(kind="question", text=latest)))
        seen = {f.id for f in out}
        for fact in ontology.related(entity_ids):
            if fact.id not in seen:
                seen.add(fact.id)
                out.append(fact)
        return out

    def field_sources(self) -> dict[str, Observation]:
        """asker field -> the observation that set it (for explaining the asker fact field by field)."""
        return {fid[6:]: obs for fid, _, obs in self.known() if fid.startswith("asker.")}

    def what_if(self, name: str, value: object) -> Conversation:
        """A copy with one asker field changed; the conversation itself is untouched."""
        copy = Conversation(turns=list(self.turns), observations=list(self.observations), stack=self.stack)
        copy.set_fact(name, value)
        return copy

    # --- saving ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "turns": list(self.turns),
            "observations": [
                {"key": o.key, "value": o.value, "negated": o.negated, "source": o.source.to_dict()}
                for o in self.observations
            ],
        }
        if self.stack is not None:
            out["stack"] = self.stack.to_dict()
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Conversation:
        observations = []
        for o in data.get("observations", []):
            src = dict(o["source"])
            if "triple" in src:
                src["triple"] = tuple(src["triple"])
            if "from_facts" in src:
                src["from_facts"] = tuple(src["from_facts"])
            observations.append(Observation(o["key"], o["value"], Source(**src), bool(o.get("negated"))))
        stack = Stack.from_dict(data["stack"]) if data.get("stack") else None
        return Conversation(turns=list(data.get("turns", [])), observations=observations, stack=stack)

    def save(self, path: str | Path) -> None:
        """Write the conversation atomically: a temporary file of its own beside the target, flushed to disk,
        then renamed over it (a reader sees the old file or the new one, never half of one)."""
        target = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def load(path: str | Path) -> Conversation:
        """Read a saved conversation; a missing file is a new conversation. KnowledgeError says why a file
        that is there can't be read as one (a folder, not JSON, not a conversation)."""
        p = Path(path)
        if not p.exists():
            return Conversation()
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise TypeError(f"expected a JSON object, found {type(data).__name__}")
            return Conversation.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KnowledgeError([Problem(display_path(p), 0, f"not a saved conversation: {exc}")]) from None

    @staticmethod
    @contextlib.contextmanager
    def locked(path: str | Path, timeout: float = 120.0) -> Iterator[None]:
        """Hold the session file's lock (a `.lock` file beside it) while it is read, answered and saved, so
        two commands on one session take turns instead of one silently dropping the other's turn."""
        lock = Path(path).with_name(Path(path).name + ".lock")
        with lock.open("a") as fh:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise KnowledgeError([Problem(display_path(Path(path)), 0, "the session is in use by "
                                                      f"another command for over {timeout:.0f} s")]) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# --- profiles ----------------------------------------------------------------------------------------------
PROFILE_LISTS = {"requires": "requirement", "requirements": "requirement", "uses": "mention",
                 "considering": "mention", "mentions": "mention"}


def profile_schema() -> dict[str, Any]:
    """A profile file: asker fields (scalars; their types are checked by `coerce`) and lists of names."""
    names = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    scalar = {"type": ["string", "number", "boolean"]}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {**{name: scalar for name in ASKER_FIELDS}, **{name: names for name in PROFILE_LISTS},
                       "industry": names},
    }


def load_profile(path: str | Path, resolve: Callable[[str], str | None]) -> list[Observation]:
    """Read a profile (YAML or JSON: asker fields, `industry`, `requires`, `uses`) into observations.

    Every mistake is reported with file and line, all at once, as a KnowledgeError.
    """
    p = Path(path)
    shown = display_path(p)
    problems: list[Problem] = []
    root = read_yaml(p, shown, problems, "the profile")  # JSON is YAML too
    if root is UNREADABLE or problems:
        raise KnowledgeError(problems)
    if root is None:
        return []
    if not isinstance(root, YMap):
        raise KnowledgeError([Problem(shown, line_of(root, 1), "a profile is a mapping of fact: value")])
    if not validate(root, profile_schema(), shown, problems):
        raise KnowledgeError(problems)
    out: list[Observation] = []

    def src(line: int) -> Source:
        return Source(kind="profile", file=shown, line=line)

    for key, value in root.items():
        line = root.key_lines[key]
        if key in PROFILE_LISTS or key == "industry":
            items = list(zip(value, value.item_lines, strict=True)) if isinstance(value, YList) else [(value, line)]
            for item, at in items:
                ident = resolve(str(item))
                if ident is None:
                    problems.append(Problem(shown, at, f"'{key}': no entity is called '{item}'"))
                    continue
                kind = "industry" if key == "industry" else PROFILE_LISTS[key]
                if kind == "requirement" and not ident.startswith("certification:"):
                    problems.append(Problem(shown, at, f"'{key}': '{item}' is not a certification"))
                    continue
                out.append(Observation(kind, ident, src(at)))
            continue
        try:
            out.append(Observation(key, coerce(key, value), src(line)))
        except ValueError as exc:
            problems.append(Problem(shown, line, str(exc)))
    if problems:
        raise KnowledgeError(problems)
    return out


def with_profile(conversation: Conversation, observations: Iterable[Observation]) -> Conversation:
    """A conversation whose profile observations come first, so anything said in a turn overrides them."""
    return replace(conversation, observations=[*observations, *conversation.observations])
