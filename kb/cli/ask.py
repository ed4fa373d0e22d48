"""`kb ask` and `kb export`: a question (or a saved conversation) in, an answer or a decision record out."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kb.cli import options
from kb.engine import InferenceError
from kb.model.answer import Answer
from kb.model.problems import KnowledgeError

if TYPE_CHECKING:
    from kb.stack.intake import Stack


def _progress(stage: str, done: float) -> None:
    if sys.stderr.isatty():
        print(f"\rloading: {stage:<48} {done:4.0%}", end="" if done < 1 else "\n", file=sys.stderr)


def _consult(ns: argparse.Namespace) -> Answer:
    """Load the knowledge base, bring in the session and profile, answer, and save the session.

    The session file is read, answered and saved under its lock, so commands sharing a session take turns
    and none drops another's turn; a broken session or profile is reported before anything heavy loads."""
    from kb.advisor.conversation import Conversation, load_profile, with_profile
    from kb.advisor.question import question_text
    from kb.graph.ontology import load_ontology

    paths = options.paths(ns)
    question_text(" ".join(ns.question))  # a question too long is refused before anything loads
    if ns.session:
        Conversation.load(ns.session)  # a broken session file is reported at once
    profile = load_profile(ns.profile, load_ontology(paths).resolve) if ns.profile else []
    stack = _stack(ns.stack) if getattr(ns, "stack", None) else None
    from kb.advisor.advise import Advisor, KnowledgeBase  # loads torch: only once the input is known to be good

    kb = KnowledgeBase.load(paths, _progress)
    try:
        advisor = Advisor(kb)
        with Conversation.locked(ns.session) if ns.session else contextlib.nullcontext():
            conversation = Conversation.load(ns.session) if ns.session else Conversation()
            if profile:
                conversation = with_profile(conversation, profile)
            if stack is not None:
                conversation = dataclasses.replace(conversation, stack=stack)
            for assignment in ns.set or ():
                name, _, value = assignment.partition("=")
                advisor.set_fact(conversation, name.strip(), value.strip())
            question = " ".join(ns.question).strip()
            if question:
                conversation, doc = advisor.ask(conversation, question)
            elif conversation.turns or conversation.observations or conversation.stack:
                doc = advisor.answer(conversation)
            else:
                raise SystemExit("kb: give a question, or a --session, --profile or --stack to answer")
            if ns.session:
                conversation.save(ns.session)
        if getattr(ns, "what_if", None):
            name, _, value = ns.what_if.partition("=")
            doc = advisor.what_if(conversation, name.strip(), value.strip())
        return doc
    finally:
        kb.close()


def _stack(file: str) -> Stack:
    """A stack file read whole; SystemExit naming each problem when nothing in it can be reviewed."""
    from kb.stack.intake import read_stack

    stack = read_stack(Path(file), file)
    for problem in stack.problems:
        print(problem, file=sys.stderr)
    if not stack.components:
        raise SystemExit(f"kb: nothing to review in {file}")
    return stack


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("question", nargs="*", help="the question (omit to re-answer a --session)")
    parser.add_argument("--profile", help="YAML/JSON file of facts about the asker (team_size, industry, ...)")
    parser.add_argument("--session", help="JSON file that keeps the conversation across calls")
    parser.add_argument("--stack", metavar="FILE", help="an SBOM or dependency file to review beside the question "
                                                         "(CycloneDX, SPDX, requirements.txt, package.json, ...)")
    parser.add_argument("--set", action="append", metavar="FIELD=VALUE",
                        help="state or correct a fact by hand, e.g. --set regulated=no (repeatable)")


def main(argv: list[str]) -> int:
    """`kb ask`: print the answer for a person, or the justification document with --json."""
    parser = options.parser("kb ask", "Ask the advisor a question.")
    _common(parser)
    parser.add_argument("--json", action="store_true", help="print the justification document (JSON)")
    parser.add_argument("--why", action="store_true", help="show the facts behind each conclusion")
    parser.add_argument("--what-if", metavar="FIELD=VALUE",
                        help="show the answer that would follow if one fact were different (nothing is saved)")
    ns = parser.parse_args(argv)
    from kb.render.jsondoc import to_json
    from kb.render.text import render_text

    try:
        doc = _consult(ns)
    except (KnowledgeError, InferenceError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(to_json(doc) if ns.json else render_text(doc, why=ns.why), end="")
    return 0


def export_main(argv: list[str]) -> int:
    """`kb export`: write the decision record of a question or a session as Markdown, JSON, HTML or PROV-O."""
    import jsonschema

    from kb.render import FORMATS, export

    parser = options.parser("kb export", export_main.__doc__)
    _common(parser)
    parser.add_argument("--format", choices=[*FORMATS, "all"], default="md")
    parser.add_argument("--from-json", metavar="FILE", help="render a saved justification document instead")
    parser.add_argument("--out", help="folder to write files into (default: print one format to stdout)")
    parser.add_argument("--deciders", metavar="NAMES", help="who decides, comma-separated, as the record names them")
    ns = parser.parse_args(argv)
    try:
        if ns.from_json:
            doc = Answer.from_dict(json.loads(Path(ns.from_json).read_text(encoding="utf-8")))
        else:
            doc = _consult(ns)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(document)"
        print(f"{ns.from_json}: not a justification document: at {where}: {exc.message}", file=sys.stderr)
        return 1
    except (KnowledgeError, InferenceError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    if ns.deciders:
        doc = dataclasses.replace(doc, deciders=tuple(n.strip() for n in ns.deciders.split(",") if n.strip()))
    formats = list(FORMATS) if ns.format == "all" else [ns.format]
    if ns.out is None:
        if len(formats) > 1:
            parser.error("--format all needs --out")
        print(export(doc, formats[0])[1], end="")
        return 0
    folder = Path(ns.out)
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        name, text = export(doc, fmt)
        (folder / name).write_text(text, encoding="utf-8")
        print(folder / name)
    return 0
