"""What the chat does, without the widgets: one browser session's conversation in, an answer out.

A session is a plain dict (`{"conversation": ..., "answer": ...}`, the answer a `kb.model.answer.Answer`) that the
page keeps per browser tab, so no
conversation is ever held globally and concurrent askers never see each other's facts. Every operation
takes a session and returns a new one; the reasoning is the advisor's (kb.advisor.advise), never this module's.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kb.advisor.advise import Advisor, KnowledgeBase, LiveKnowledgeBase
from kb.advisor.conversation import ASKER_FIELDS, Conversation, load_profile, with_profile
from kb.advisor.question import question_text
from kb.model.answer import Answer, Citation
from kb.model.problems import KnowledgeError, Problem
from kb.render.chat import CONTEXT_CHARS, PassageContext
from kb.render.words import Glossary, field_label, field_value, source_text, value_text
from kb.stack.intake import read_stack
from kb.stack.review import USES

log = logging.getLogger("kb.app")

Session = dict[str, Any]


def new_session() -> Session:
    return {"conversation": Conversation().to_dict(), "answer": None}


def conversation_of(session: Session | None) -> Conversation:
    return Conversation.from_dict((session or new_session())["conversation"])


@dataclass(frozen=True)
class Control:
    """How the asker can give a value for an asker field: yes/no, one of some values, a number, or text.

    `unit` names what a number counts ("people", "ms"); `meanings` says what each choice means, in order."""

    kind: str  # "bool" | "choice" | "number" | "text"
    choices: tuple[str, ...] = ()
    unit: str = ""
    meanings: tuple[str, ...] = ()


def control_for(field_id: str) -> Control | None:
    """The input for a fact id like `asker.team_size`; None when it can't be given by hand (entities)."""
    kind, _, name = field_id.partition(".")
    spec = ASKER_FIELDS.get(name) if kind == "asker" else None
    if spec is None:
        return None
    if spec.type == "bool":
        return Control("bool", ("yes", "no"))
    if spec.values:
        return Control("choice", spec.values, meanings=spec.value_docs)
    if spec.type in ("int", "float"):
        return Control("number", unit=spec.shown_as)
    return Control("text")


ENTITY_WORDS = {"mention": "you named", "requirement": "you need", "expression": "licence expression"}
"""How a named entity the asker gave is introduced in the facts editor."""


@dataclass(frozen=True)
class KnownFact:
    """One fact the asker has given, as the facts editor shows it."""

    id: str
    label: str
    value: str
    """The value in words ("6 people", "finance")."""
    source: str
    control: Control | None
    raw: str = ""
    """The value as stored, for its input ("6", "industry:finance")."""


@dataclass(frozen=True)
class MissingFact:
    """One question the advisor asks back, with the input that answers it in one click."""

    field: str
    question: str
    decisive: bool
    control: Control | None


class ChatService:
    """The app's one handle on kb: a live knowledge base and an advisor over it."""

    def __init__(self, live: LiveKnowledgeBase, advisor: Callable[[LiveKnowledgeBase], Advisor] = Advisor,
                 uploads: Path | None = None):
        self.live = live
        self.advisor = advisor(live)
        self.uploads = Path(uploads).resolve() if uploads is not None else None
        """The folder uploaded files must be in (the server's own); None accepts any path (the CLI, tests)."""
        self._reload_lock = threading.Lock()
        self._reload: _Reload | None = None
        self._glossary: tuple[KnowledgeBase, Glossary] | None = None

    @property
    def kb(self) -> KnowledgeBase:
        return self.live.current

    # --- answering --------------------------------------------------------------------------------------
    def ask(self, session: Session | None, question: str) -> Session:
        """Add a turn and answer it. ValueError (shown to the asker) for an empty or overlong question."""
        text = (question or "").strip()
        if not text:
            raise ValueError("Type a question first.")
        question_text(text)  # refused here, before the advisor, when too long
        conversation, answer = self.advisor.ask(conversation_of(session), text)
        return {"conversation": conversation.to_dict(), "answer": answer}

    def answer(self, conversation: Conversation) -> Session:
        return {"conversation": conversation.to_dict(), "answer": self.advisor.answer(conversation)}

    def set_fact(self, session: Session | None, field_id: str, value: object) -> Session:
        """Set or correct an asker field (`asker.team_size` or `team_size`) and answer again.

        ValueError says what the field expects when `value` does not fit it.
        """
        conversation = conversation_of(session)
        self.advisor.set_fact(conversation, field_id.removeprefix("asker."), value)
        return self.answer(conversation)

    def what_if(self, session: Session | None, field_id: str, value: object) -> Answer:
        """The justification that would follow if an asker field had `value`; the session is untouched."""
        return self.what_if_all(session, [(field_id, value)])

    def what_if_all(self, session: Session | None, changes: Sequence[tuple[str, object]]) -> Answer:
        """The justification that would follow if each asker field had its value (a Why not?'s pair)."""
        return self.advisor.what_if_all(conversation_of(session),
                                        {field.removeprefix("asker."): value for field, value in changes})

    def glossary(self) -> Glossary:
        """Rule titles and places, and what derived facts mean, for the knowledge base answering now."""
        kb = self.kb
        cached = self._glossary
        if cached is None or cached[0] is not kb:
            cached = self._glossary = (kb, Glossary.of(kb.rules.book))
        return cached[1]

    def remove_fact(self, session: Session | None, fact_id: str) -> Session:
        """Remove a fact the asker gave and answer again (unchanged if it is not in force)."""
        conversation = conversation_of(session)
        conversation.remove(fact_id)
        return self.answer(conversation)

    def add_profile(self, session: Session | None, path: str | Path) -> Session:
        """Put a profile file's facts under the conversation (anything said in a turn still wins).

        KnowledgeError lists the profile's problems with file and line.
        """
        observations = load_profile(self._uploaded(path), self.kb.resolve)
        return self.answer(with_profile(conversation_of(session), observations))

    def add_stack(self, session: Session | None, path: str | Path, shown: str | None = None) -> Session:
        """Review a stack (an SBOM or a dependency file) beside the conversation: every answer from now on
        carries its table. ValueError names the file and the line or JSON pointer of each problem when
        nothing in it could be read; a file that is partly read is reviewed, its problems listed."""
        file = self._uploaded(path)
        stack = read_stack(file, shown or file.name)
        if not stack.components:
            problems = "\n".join(str(p) for p in stack.problems[:10]) or f"{stack.file}: no components in it"
            raise ValueError(f"Nothing to review in {stack.file}:\n{problems}")
        conversation = conversation_of(session)
        return self.answer(replace(conversation, stack=stack))

    def set_use(self, session: Session | None, use: str) -> Session:
        """Say how the stack is used (distributed, network, internal): the asker facts the licence rules test,
        set as if the asker had given them by hand, then answer again."""
        if use not in USES:
            raise ValueError(f"How the stack is used must be one of {', '.join(USES)}, not {use!r}.")
        conversation = conversation_of(session)
        for name, value in USES[use].items():
            self.advisor.set_fact(conversation, name, value)
        return self.answer(conversation)

    def _uploaded(self, path: str | Path) -> Path:
        """`path` if it is a file in the upload folder; ValueError otherwise, naming only the file's name (a
        path that escapes the folder, through `..` or a link, is refused before anything reads it)."""
        file = Path(path)
        if self.uploads is not None:
            resolved = file.resolve()
            if not resolved.is_relative_to(self.uploads):
                log.warning("refused a file outside the upload folder: %s", path)
                raise ValueError(f"{file.name}: refused, it is not a file uploaded here.")
            file = resolved
        if not file.is_file():
            raise ValueError(f"{file.name}: no such file was uploaded.")
        return file

    # --- reading a session --------------------------------------------------------------------------------
    def known(self, session: Session | None) -> list[KnownFact]:
        """The facts the asker has given (question, profile, by hand), each with its source and its input:
        fields by what they mean, values in words (an entity by its name, a number with its unit)."""
        out: list[KnownFact] = []
        label = self.kb.ontology.label
        for fid, value, obs in conversation_of(session).known():
            said = source_text(obs.source, to_asker=True)
            if fid.startswith("asker."):
                name = fid.removeprefix("asker.")
                names = {str(value): label(str(value))} if ASKER_FIELDS[name].type == "ref" else None
                out.append(KnownFact(fid, field_label(name), field_value(name, value, names), said,
                                     control_for(fid), value_text(value)))
            else:  # a named entity: "offering: MLflow"
                kind = fid.partition(":")[0]
                out.append(KnownFact(fid, ENTITY_WORDS.get(kind, kind), label(str(value)), said, None, str(value)))
        return out

    @staticmethod
    def missing(session: Session | None) -> list[MissingFact]:
        answer: Answer | None = (session or {}).get("answer")
        return [MissingFact(m.field, m.question, m.decisive, control_for(m.field))
                for m in (answer.missing if answer else ())]

    def passage_context(self, citation: Citation) -> PassageContext | None:
        """The text around a cited span and its document's provenance, from the loaded corpus."""
        try:
            document = self.kb.corpus.get(citation.doc)
        except KeyError:
            return None
        start, end = citation.start, citation.end
        if document.text[start:end] != citation.text:
            return None
        before = document.text[max(0, start - CONTEXT_CHARS):start]
        after = document.text[end:end + CONTEXT_CHARS]
        try:
            where = document.locate(start)
            location = f"{os.path.relpath(where.path, self.kb.paths.root)}:{where.line}"
            if where.page is not None:
                location += f", page {where.page}"
        except (IndexError, ValueError):
            location = ""
        return PassageContext(before, after, document.publisher, document.url, location)

    # --- reload ----------------------------------------------------------------------------------------
    def reload(self, wait: float | None = None) -> list[Problem] | None:
        """Reload rules, ontology, reader and corpus in a background thread, off every request's path; wait up
        to `wait` seconds (default RELOAD_WAIT) for the outcome: [] when the new knowledge base answers, the
        problems when it was refused (the last good one keeps answering), None while it is still loading.

        One reload runs at a time: asking again while one runs waits for that one; an outcome nobody has
        seen yet is reported before a new reload starts. A reload that outlives RELOAD_LIMIT is discarded."""
        with self._reload_lock:
            running = self._reload is not None and not self._reload.done.is_set()
            if not running and (self._reload is None or self._reload.reported):
                self._reload = _Reload(time.monotonic())
                threading.Thread(target=self._reload_in_background, args=(self._reload,), name="oscar-reload",
                                 daemon=True).start()  # daemon: a SIGTERM mid-reload never waits for it
            job = self._reload
        assert job is not None
        if not job.done.wait(RELOAD_WAIT if wait is None else wait):
            return None
        job.reported = True
        return list(job.problems)

    def reload_running_for(self) -> float | None:
        """Seconds the current reload has been running, None when none is."""
        job = self._reload
        return time.monotonic() - job.started if job is not None and not job.done.is_set() else None

    def _reload_in_background(self, job: _Reload) -> None:
        try:
            job.problems = self.live.reload(deadline=job.started + RELOAD_LIMIT)
        except KnowledgeError as exc:  # a live knowledge base reports them; this guards older ones
            job.problems = list(exc.problems)
        except Exception as exc:  # noqa: BLE001 - a reload must never take the server down; logged
            log.exception("reload failed")
            job.problems = [Problem("", 0, f"the reload failed: {exc!r}; the details are in the server's log")]
        finally:
            job.done.set()


RELOAD_WAIT = 60.0
"""Seconds a reload request waits for the outcome before answering "still reloading"."""
RELOAD_LIMIT = 600.0
"""A reload still loading after this many seconds is discarded when it ends (the old knowledge base stays)."""


@dataclass
class _Reload:
    """One background reload: when it started, whether it is done, its problems, whether anyone saw them."""

    started: float
    done: threading.Event = field(default_factory=threading.Event)
    problems: list[Problem] = field(default_factory=list)
    reported: bool = False
