"""The chat page (Gradio): question box, answer with numbered citations, sources, why / why not, facts, exports.

The only module that imports gradio. Each handler takes the browser tab's session (a `gr.State`, so
never shared between tabs), calls `ChatService`, and renders the new session with `kb.render.chat`.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from app.service import ChatService, Control, Session, new_session
from app.store import MemoryStore, Store, TooLarge
from kb.advisor.conversation import ASKER_FIELDS
from kb.advisor.question import MAX_QUESTION_CHARS
from kb.engine import InferenceError
from kb.model.answer import Answer
from kb.model.problems import KnowledgeError, Problem
from kb.render import chat as render
from kb.render import export
from kb.render.jsondoc import digest, document
from kb.render.templating import markdown_text
from kb.render.words import field_label, use_text, value_text
from kb.stack.intake import MAX_BYTES
from kb.stack.review import USES

log = logging.getLogger("kb.app")
T = TypeVar("T")

EXAMPLES = (
    "We're a 6-person health-tech team and need HIPAA. Should we self-host PyTorch and MLflow or buy a "
    "managed platform?",
    "We ship our product on-prem to customers. What do we owe if it includes GPL-3.0 code?",
    "Our model must answer in under 20 ms from our legacy serving stack. Build, buy or open source?",
    "Can we fine-tune Llama 2 for a commercial product, and what does its license require?",
    "What is open core, and what is the risk of building on it?",
)
TITLE = "OSCAR: open source, commercial or in-house?"
INTRO = (
    "## OSCAR\n"
    "Open source, commercial or in-house for your machine-learning stack? Ask in your own words. Every "
    "conclusion names the rule that drew it, the facts behind it, and the passages it rests on."
)


def _history(session: Session) -> list[dict[str, str]]:
    return [dict(m) for m in session.get("messages", [])]


def _with_message(session: Session, role: str, content: str) -> Session:
    return {**session, "messages": [*session.get("messages", []), {"role": role, "content": content}]}


def _input(field_id: str, control: Control | None, label: str, current: str = "") -> render.Input | None:
    """The input that sets `field_id`: a button per choice when there are at most four (one click answers),
    else a list to pick from, a number with its unit, or a text box, each with a Set button."""
    if control is None:
        return None
    if control.kind in ("bool", "choice") and len(control.choices) <= 4:
        return render.Input(field_id, "buttons", label, tuple((c, c) for c in control.choices), current=current)
    if control.kind == "choice":
        meanings = dict(zip(control.choices, control.meanings, strict=False))
        shown = tuple((c, f"{c.replace('_', ' ')}: {meanings[c]}" if meanings.get(c) else c.replace("_", " "))
                      for c in control.choices)
        return render.Input(field_id, "select", label, shown, current=current)
    if control.kind == "number":
        try:
            number = f"{float(current):g}" if current else ""
        except ValueError:
            number = ""
        return render.Input(field_id, "number", label, unit=control.unit, current=number)
    return render.Input(field_id, "text", label, current=current)


ACT_JS = """
const send = (button) => {
  const row = button.closest('.oscar-row');
  const box = row ? row.querySelector('.oscar-input') : null;
  const value = button.dataset.value !== undefined ? button.dataset.value : (box ? box.value : '');
  trigger('click', {op: button.dataset.op, target: button.dataset.target || '', value: value});
};
element.addEventListener('click', (e) => {
  const button = e.target.closest('button[data-op]');
  if (button && element.contains(button)) send(button);
});
element.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || !e.target.classList.contains('oscar-input')) return;
  const row = e.target.closest('.oscar-row');
  const button = row ? row.querySelector('button.oscar-set') : null;
  if (button) { e.preventDefault(); send(button); }
});
"""
"""The panels' buttons (a fact's one-click answer, Set, Remove, Try it) are plain HTML drawn with the answer;
this script (each panel's `js_on_load`, listening on the panel, so it holds for every answer drawn into it)
sends a click as the panel's click event, with the button's action, its target and the value (the button's
own, or its row's input's). The panels used to be built with gr.render: three more events after every
answer, each building Gradio components, which cost the server more than the answer itself."""
ACTIONS = ("set", "remove")
RECENT = 256
"""Latest answers held in this process per conversation, for their download links: a conversation the store
could not keep (too large, or the store down) still downloads from the server that answered it."""
MAX_VALUE_CHARS = 200
"""Longest value a fact's input sends: a number, a choice, a name."""


class Page(gr.Blocks):
    """The chat's Gradio app, carrying what its download links are served from (`app.server.Records`)."""

    record: Callable[[str, str, str, str], tuple[str, str] | None] | None = None


class ChatPage:
    """Builds the page over one ChatService; `blocks` is the Gradio app."""

    def __init__(self, service: ChatService, examples: Sequence[str] = EXAMPLES, store: Store | None = None):
        self.service = service
        self.examples = list(examples)
        self.store: Store = store if store is not None else MemoryStore()
        """Where each tab's conversation is kept between events (shared with the API, and with other servers
        when it is Redis): a reloaded page, or one served by another process, takes it up again."""
        self._recent: OrderedDict[tuple[str, str], Answer] = OrderedDict()
        self._recent_lock = threading.Lock()
        self.blocks = self._build()
        self.blocks.record = self.record

    # --- views ---------------------------------------------------------------------------------------------
    def _status(self) -> str:
        kb = self.service.kb
        return render.versions_html(kb.versions)

    def _view(self, session: Session) -> tuple[Any, ...]:
        """Every output of an answering event, rendered from the session (which is kept in the store first).
        The answer's records are links, made when followed (`record`): answering writes no files."""
        doc = session.get("answer")
        self._keep(session)
        links = f"oscar/record/{session['key']}/{digest(doc)}/" if doc is not None and session.get("key") else None
        return (
            session.get("key", ""),
            _history(session),
            session,
            render.sources_html(doc, self.service.passage_context),
            render.why_html(doc, self.service.glossary()),
            render.why_not_html(doc),
            render.compare_html(doc),
            render.facts_html(doc),
            render.record_html(doc, links),
            render.stack_html(doc),
            render.stack_rows(doc),
            render.stack_row_html(None, "", ""),
            render.missing_html([render.MissingRow(m.field, m.question, m.decisive,
                                                   _input(m.field, m.control, m.question))
                                 for m in self.service.missing(session)]),
            render.why_not_options_html(doc),
            render.facts_editor_html([render.KnownRow(k.id, k.label, k.value, k.source,
                                                      _input(k.id, k.control, k.label, k.raw))
                                      for k in self.service.known(session)]),
        )

    def record(self, owner: str, key: str, record_id: str, fmt: str) -> tuple[str, str] | None:
        """(file name, content) of the decision record in `fmt` of the latest answer in `owner`'s conversation
        `key`, when that answer's record id is `record_id`; else None (a newer answer replaced it, or the
        conversation expired)."""
        with self._recent_lock:
            answer = self._recent.get((owner, key))
        if answer is None or digest(answer) != record_id:
            kept = self.store.get(self._stored(owner, key))
            answer = Answer.from_dict(kept["answer"]) if kept and kept.get("answer") else None
        if answer is None or digest(answer) != record_id:
            return None
        return export(answer, fmt)

    # --- handlers --------------------------------------------------------------------------------------------
    def _run(self, work: Callable[[], T], profile: str | None = None) -> T:
        """Run a service call; what the asker can fix becomes a message, anything else is logged, not shown."""
        try:
            return work()
        except ValueError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except KnowledgeError as exc:
            # Name a profile as the asker knows it, not by the server's upload folder.
            name = Path(profile).name if profile else None
            shown = "\n".join(str(Problem(name or p.path, p.line, p.message)) for p in exc.problems)
            raise gr.Error(f"{'The profile has problems' if profile else 'Problems'}:\n{shown}",
                           print_exception=False) from None
        except InferenceError as exc:  # a rule ran away or past the time budget: the rule is named, nothing leaks
            log.warning("consultation stopped: %s", exc)
            raise gr.Error(f"The rules could not finish answering: {exc}. Your conversation is unchanged.",
                           print_exception=False) from None
        except Exception:
            log.exception("answering failed")
            raise gr.Error("Something went wrong while answering; the details are in the server's log. "
                           "Your conversation is unchanged.", print_exception=False) from None

    # --- keeping conversations ---------------------------------------------------------------------------
    @staticmethod
    def _stored(owner: str | None, key: str | None) -> str:
        """The store's key of a tab's conversation: its owner's name (empty without sign-in) and the tab's key."""
        return f"chat:{owner or ''}:{key}"

    @staticmethod
    def _fresh(owner: str | None) -> Session:
        """A new conversation under a new key, for `owner`."""
        return {**new_session(), "key": secrets.token_urlsafe(18), "owner": owner or ""}

    def _keep(self, session: Session) -> None:
        """Keep the tab's conversation (messages, conversation, answer) in the store under its key and owner.
        One too large to keep stays in the tab only, and the log says so."""
        if not session.get("key") or not session.get("messages"):
            return
        answer = session.get("answer")
        if answer is not None:
            with self._recent_lock:
                self._recent[(session.get("owner") or "", session["key"])] = answer
                self._recent.move_to_end((session.get("owner") or "", session["key"]))
                while len(self._recent) > RECENT:
                    self._recent.popitem(last=False)
        kept = {"conversation": session["conversation"], "messages": session["messages"],
                "answer": document(answer) if answer is not None else None}
        try:
            self.store.put(self._stored(session.get("owner"), session["key"]), kept)
        except TooLarge as exc:
            log.warning("a chat conversation was not kept: %s", exc)
        except Exception:  # the store is down: the tab goes on with what it holds
            log.exception("a chat conversation could not be kept")

    def restore(self, key: str | None, request: gr.Request) -> tuple[Any, ...]:
        """On page load: the tab's conversation taken up again from the store when the tab holds its key (a
        reload, or another server behind the same store); else a new conversation with a new key. A key is
        only good for the signed-in person who made it."""
        owner = getattr(request, "username", None) or ""
        if key and re.fullmatch(r"[A-Za-z0-9_-]{20,64}", key):
            try:
                kept = self.store.get(self._stored(owner, key))
            except Exception:  # the store is down: start afresh rather than fail the page
                log.exception("a chat conversation could not be read")
                kept = None
            if kept is not None:
                answer = Answer.from_dict(kept["answer"]) if kept.get("answer") else None
                return self._view({"conversation": kept["conversation"], "answer": answer,
                                   "messages": kept["messages"], "key": key, "owner": owner})
        return self._view(self._fresh(owner))

    @staticmethod
    def _said(session: Session, updated: Session, note: str, question: str | None = None) -> Session:
        """`updated` with the tab's key, its messages so far, the question (if any) and the new answer
        appended (a conversation of only a stack, no question yet, is answered with the stack's summary)."""
        # a session that never loaded the page (a script over Gradio's API) gets its key with its first answer
        out = {**updated, "messages": session.get("messages", []),
               "key": session.get("key") or secrets.token_urlsafe(18), "owner": session.get("owner")}
        if question is not None:
            out = _with_message(out, "user", render.user_message(question))
        answer = out["answer"]
        body = render.stack_message(answer) if answer.stack is not None and not answer.turns else render.message(answer)
        return _with_message(out, "assistant", note + body)

    def ask(self, question: str, session: Session | None) -> tuple[Any, ...]:
        """Answer a question in this tab's conversation."""
        session = session or new_session()
        answered = self._run(lambda: self.service.ask(session, question))
        return ("", *self._view(self._said(session, answered, "", question.strip())))

    def set_fact(self, session: Session | None, field_id: str, value: Any) -> tuple[Any, ...]:
        session = session or new_session()
        if value is None or (isinstance(value, str) and not value.strip()):
            raise gr.Error("Give a value first.", print_exception=False)
        updated = self._run(lambda: self.service.set_fact(session, field_id, value))
        fact = next((k for k in self.service.known(updated) if k.id == f"asker.{field_id.removeprefix('asker.')}"),
                    None)
        said = f"{fact.label}: {fact.value}" if fact else f"{field_id}: {value_text(value)}"
        note = f"*You said {markdown_text(said)}.*\n\n"
        return self._view(self._said(session, updated, note))

    def remove_fact(self, session: Session | None, fact_id: str) -> tuple[Any, ...]:
        session = session or new_session()
        updated = self._run(lambda: self.service.remove_fact(session, fact_id))
        label = next((k.label if k.id.startswith("asker.") else f"{k.label} {k.value}"
                      for k in self.service.known(session) if k.id == fact_id), fact_id)
        return self._view(self._said(session, updated, f"*Removed {markdown_text(label)}.*\n\n"))

    def add_profile(self, path: str | None, session: Session | None) -> tuple[Any, ...]:
        session = session or new_session()
        if not path:
            return self._view(session)
        updated = self._run(lambda: self.service.add_profile(session, path), profile=path)
        return self._view(self._said(session, updated, "*Profile read.*\n\n"))

    def add_stack(self, path: str | None, session: Session | None) -> tuple[Any, ...]:
        """Review an uploaded SBOM or dependency file beside the conversation."""
        session = session or new_session()
        if not path:
            return self._view(session)
        updated = self._run(lambda: self.service.add_stack(session, path, Path(path).name))
        answer = updated["answer"]
        note = render.stack_message(answer) + "\n\n" if answer.turns else ""
        return self._view(self._said(session, updated, note))

    def set_use(self, use: str | None, session: Session | None) -> tuple[Any, ...]:
        """Say how the stack is used; the answer and the stack's table follow."""
        session = session or new_session()
        if not use:
            return self._view(session)
        updated = self._run(lambda: self.service.set_use(session, use))
        note = f"*The stack is {markdown_text(use_text(use))}.*\n\n"
        return self._view(self._said(session, updated, note))

    @staticmethod
    def stack_row(session: Session | None, evt: gr.SelectData) -> str:
        """A stack row's Why?, for the row picked in the table (sorted or not: found by its values)."""
        row = evt.row_value or []
        answer = (session or {}).get("answer")
        return render.stack_row_html(answer, str(row[0]) if row else "", str(row[1]) if len(row) > 1 else "")

    def what_if(self, session: Session | None, field_id: str | None, value: Any) -> str:
        """What the answer would be with one fact changed; the tab's conversation stays as it is."""
        if not field_id:
            raise gr.Error("Pick a fact first.", print_exception=False)
        if value is None or not str(value).strip():
            raise gr.Error("Give a value first.", print_exception=False)
        doc = self._run(lambda: self.service.what_if(session, field_id, str(value).strip()))
        return render.what_if_html([(field_id, str(value).strip())], doc, (session or {}).get("answer"))

    def try_change(self, session: Session | None, change: Sequence[tuple[str, Any]]) -> str:
        """A Why not?'s change tried: the answer one or two different facts would give; nothing is kept."""
        doc = self._run(lambda: self.service.what_if_all(session, change))
        return render.what_if_html(change, doc, (session or {}).get("answer"))

    def act(self, session: Session | None, evt: gr.EventData) -> tuple[Any, ...]:
        """A click on a fact's button: set it (`op` "set", `target` the fact, `value`) or remove it ("remove").
        What the page sends is checked as anything from outside: a fact not in this conversation can't be
        removed, and a value goes through the same checks as one typed anywhere else."""
        data = getattr(evt, "_data", None)
        data = data if isinstance(data, dict) else {}
        op, target, value = data.get("op"), data.get("target"), data.get("value")
        if op not in ACTIONS or not isinstance(target, str) or not target:
            raise gr.Error("That button does nothing here.", print_exception=False)
        if op == "remove":
            if not any(k.id == target for k in self.service.known(session)):
                raise gr.Error("That fact is not in this conversation any more.", print_exception=False)
            return self.remove_fact(session, target)
        if not isinstance(value, str | int | float) or len(str(value)) > MAX_VALUE_CHARS:
            raise gr.Error("Give a shorter value.", print_exception=False)
        if target.removeprefix("asker.") not in ASKER_FIELDS:
            raise gr.Error("That fact can't be set here.", print_exception=False)
        return self.set_fact(session, target, str(value).strip())

    def try_it(self, session: Session | None, evt: gr.EventData) -> str:
        """A click on a Why not?'s Try it: `target` is "option.change", the places of the option and of its
        change in the current answer's Why not?."""
        data = getattr(evt, "_data", None)
        target = data.get("target") if isinstance(data, dict) else None
        answer = (session or {}).get("answer")
        match = re.fullmatch(r"(\d{1,3})\.(\d{1,3})", target) if isinstance(target, str) else None
        if answer is None or match is None:
            raise gr.Error("There is nothing to try for this answer.", print_exception=False)
        i, j = int(match[1]), int(match[2])
        if i >= len(answer.why_not) or j >= len(answer.why_not[i].changes):
            raise gr.Error("There is nothing to try for this answer.", print_exception=False)
        return self.try_change(session, [(s.field, s.value) for s in answer.why_not[i].changes[j].facts])

    def reset(self, session: Session | None) -> tuple[Any, ...]:
        """A new conversation, under a new key (the old one stays in the store until it expires)."""
        return self._view(self._fresh((session or {}).get("owner")))

    def reload(self) -> tuple[str, str]:
        problems = self.service.reload()
        if problems is None:
            running = self.service.reload_running_for() or 0.0
            return render.problems_html([], ok=f"Still reloading ({running:.0f} s so far); answering with the "
                                        "current knowledge base meanwhile. Press Reload again for the "
                                        "outcome."), self._status()
        if problems:
            head = ("<p><strong>Reload refused</strong>; still answering with the last good knowledge base. "
                    "Fix these and reload again:</p>")
            return head + render.problems_html(problems), self._status()
        return render.problems_html([], ok="Reloaded: answering with the new knowledge base."), self._status()

    # --- the page ------------------------------------------------------------------------------------------
    def _build(self) -> Page:
        # Served copies of exports and uploads older than a day are deleted daily.
        with Page(title=TITLE, analytics_enabled=False, delete_cache=(86_400, 86_400)) as blocks:
            session = gr.State(new_session())
            key = gr.Textbox(elem_id="oscar-key", elem_classes=["oscar-hidden"], show_label=False, container=False,
                             interactive=False)
            answered: list[Any] = []  # every answering event's outputs, filled in once the page is laid out
            with gr.Row():
                gr.Markdown(INTRO)
                status = gr.HTML(self._status())
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        elem_id="oscar-chat", label="Conversation", height=560, buttons=["copy"],
                        feedback_options=None, latex_delimiters=[], sanitize_html=True, render_markdown=True,
                        allow_file_downloads=False, allow_tags=False, group_consecutive_messages=False,
                        placeholder="Ask a question, or pick an example below.",
                    )
                    missing = gr.HTML(render.missing_html(()), elem_id="oscar-missing", js_on_load=ACT_JS,
                                      padding=False)

                    with gr.Row():
                        question = gr.Textbox(
                            elem_id="oscar-question", show_label=False, scale=5, lines=1, max_lines=6,
                            max_length=MAX_QUESTION_CHARS,
                            placeholder="e.g. we're a 6-person health-tech team, need HIPAA: "
                            "self-host PyTorch + MLflow or buy a managed platform?",
                        )
                        ask_btn = gr.Button("Ask", variant="primary", elem_id="oscar-ask", scale=1)
                    gr.Examples(examples=[[q] for q in self.examples], inputs=[question],
                                label="Example questions", elem_id="oscar-examples")

                    with gr.Accordion("Review a whole stack: an SBOM or a dependency file", open=False,
                                      elem_id="oscar-stack-upload"):
                        gr.Markdown("CycloneDX or SPDX SBOM (JSON, XML, tag-value), requirements.txt, "
                                    "pyproject.toml, package.json or package-lock.json, up to "
                                    f"{MAX_BYTES // 1_000_000} MB. Each component's licence is weighed for how "
                                    "you use the stack.")
                        stack_file = gr.File(file_types=[".json", ".xml", ".spdx", ".txt", ".toml"],
                                             elem_id="oscar-stack-file", label="Stack file", type="filepath")
                        stack_use = gr.Radio([(use_text(u), u) for u in USES], value=None,
                                             label="How is the stack used?", elem_id="oscar-stack-use")
                    with gr.Accordion("Start from a profile file (YAML or JSON)", open=False):
                        profile = gr.File(file_types=[".yaml", ".yml", ".json"], elem_id="oscar-profile",
                                          label="Profile", type="filepath")
                    new_btn = gr.Button("New conversation", size="sm", elem_id="oscar-new")
                with gr.Column(scale=2), gr.Tabs(elem_id="oscar-tabs"):
                    with gr.Tab("Sources", id="sources", elem_id="oscar-tab-sources"):
                        sources = gr.HTML(render.sources_html(None), elem_id="oscar-sources", max_height=680)
                    with gr.Tab("Why?", id="why", elem_id="oscar-tab-why"):
                        why = gr.HTML(render.why_html(None), elem_id="oscar-why", max_height=680)
                    with gr.Tab("Why not?", id="why-not", elem_id="oscar-tab-why-not"):

                        why_not_options = gr.HTML(render.why_not_options_html(None), elem_id="oscar-why-not-options",
                                                  js_on_load=ACT_JS, padding=False)
                        with gr.Accordion("Every rule for each option, as recorded (for analysts)", open=False,
                                          elem_id="oscar-why-not-raw"):
                            why_not = gr.HTML(render.why_not_html(None), elem_id="oscar-why-not", max_height=520)
                        gr.Markdown("**What if** one fact were different? (Your conversation stays as it is.)")
                        with gr.Row():
                            what_field = gr.Dropdown(
                                sorted((field_label(name), f"asker.{name}") for name in ASKER_FIELDS),
                                value=None, label="fact", elem_id="oscar-whatif-field", scale=2)
                            what_value = gr.Textbox(label="value (yes/no, a number, a name)", scale=2,
                                                    elem_id="oscar-whatif-value")
                            what_btn = gr.Button("What if?", scale=1, elem_id="oscar-whatif")
                        what_out = gr.HTML(elem_id="oscar-whatif-result")
                    with gr.Tab("Facts", id="facts", elem_id="oscar-tab-facts"):

                        facts_editor = gr.HTML(render.facts_editor_html(()), elem_id="oscar-facts-editor",
                                               js_on_load=ACT_JS, padding=False)
                        facts = gr.HTML(render.facts_html(None), elem_id="oscar-facts", max_height=480)
                    with gr.Tab("Export", id="export", elem_id="oscar-tab-export"):
                        gr.Markdown("Download this conversation's justification:")
                        record = gr.HTML(render.record_html(None), elem_id="oscar-record")
                    with gr.Tab("Analysts", id="analysts", elem_id="oscar-tab-analysts"):
                        gr.Markdown("Reload rules/, ontology/ and corpus/ without restarting. A broken file "
                                    "is reported here and the last good knowledge base keeps answering.")
                        reload_btn = gr.Button("Reload knowledge base", elem_id="oscar-reload")
                        problems = gr.HTML(elem_id="oscar-problems")

            # The comparison needs the page's width too: options across, criteria down.
            with gr.Accordion("Compare the options, criterion by criterion", open=True,
                              elem_id="oscar-compare-section"):
                compare = gr.HTML(render.compare_html(None), elem_id="oscar-compare")
            # The stack's table needs the page's width: it sits under the conversation, its Why? beside it.
            with gr.Accordion("Stack: every component's licence, for how you use it", open=True,
                              elem_id="oscar-stack-section"):
                stack_summary = gr.HTML(render.stack_html(None), elem_id="oscar-stack")
                with gr.Row(equal_height=False):
                    stack_table = gr.Dataframe(
                        value=None, headers=list(render.STACK_COLUMNS), type="array", interactive=False,
                        datatype=["str", "str", "str", "number", "number", "number", "str"],
                        elem_id="oscar-stack-table", max_height=460, wrap=True, show_search="search", scale=3,
                        column_widths=["18%", "9%", "22%", "14%", "9%", "12%", "16%"],
                        label="Components (a heading's menu sorts; a row shows its Why?)")
                    stack_why = gr.HTML(render.stack_row_html(None, "", ""), elem_id="oscar-stack-why",
                                        max_height=520, scale=2)
            answered.extend([key, chat, session, sources, why, why_not, compare, facts, record, stack_summary,
                             stack_table, stack_why, missing, why_not_options, facts_editor])
            for panel in (missing, facts_editor):
                panel.click(self.act, inputs=[session], outputs=answered, api_visibility="undocumented")
            why_not_options.click(self.try_it, inputs=[session], outputs=[what_out], api_visibility="undocumented")
            ask_event = dict(fn=self.ask, inputs=[question, session], outputs=[question, *answered])
            ask_btn.click(**ask_event, api_name="ask")  # type: ignore[arg-type]
            question.submit(**ask_event, api_visibility="undocumented")  # type: ignore[arg-type]
            profile.upload(self.add_profile, inputs=[profile, session], outputs=answered, api_visibility="undocumented")
            stack_file.upload(self.add_stack, inputs=[stack_file, session], outputs=answered,
                              api_visibility="undocumented")
            stack_use.input(self.set_use, inputs=[stack_use, session], outputs=answered, api_visibility="undocumented")
            stack_table.select(self.stack_row, inputs=[session], outputs=[stack_why], api_visibility="undocumented")
            what_btn.click(self.what_if, inputs=[session, what_field, what_value], outputs=[what_out],
                           api_visibility="undocumented")
            new_btn.click(self.reset, inputs=[session], outputs=answered, api_visibility="undocumented")
            chat.clear(self.reset, inputs=[session], outputs=answered, api_visibility="undocumented")
            # The tab keeps its conversation's key in sessionStorage (this tab only, kept over a reload); on
            # load the page hands it back and the conversation is taken up again from the store.
            key.change(None, inputs=[key], api_visibility="undocumented",
                       js="(k) => { try { sessionStorage.setItem('oscar-conversation', k || ''); } catch (e) {} }")
            blocks.load(self.restore, inputs=[key], outputs=answered, api_visibility="undocumented",
                        js="(k) => { try { return [sessionStorage.getItem('oscar-conversation') || '']; } "
                           "catch (e) { return ['']; } }")
            reload_btn.click(self.reload, outputs=[problems, status], api_visibility="undocumented",
                             concurrency_id="reload", concurrency_limit=1)
        return blocks


def build(service: ChatService, examples: Sequence[str] = EXAMPLES, store: Store | None = None) -> Page:
    """The chat app over `service`, its conversations kept in `store` (in this process when None)."""
    return ChatPage(service, examples, store).blocks
