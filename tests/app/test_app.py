"""The chat's rendering, sign-in settings and inputs, without a browser: escaping, derivations, controls."""

from __future__ import annotations

import copy
import html
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from markdown_it import MarkdownIt

from app import serve
from app.server import ProgressPrinter
from app.service import ChatService, Control, control_for
from kb.advisor.question import MAX_QUESTION_CHARS
from kb.model.answer import Answer, Citation
from kb.render import chat as render
from kb.render.templating import markdown_text

DOC = json.loads((Path(__file__).parents[1] / "data" / "justification.json").read_text())
ANSWER = Answer.from_dict(DOC)
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "![x](http://example.invalid/p.png)",
    "[click](javascript:alert(3))",
    "<http://example.invalid/a>",
    "# heading\n- list\n> quote",
    "**bold** _em_ `code` ~~strike~~ | table |",
    "&lt;script&gt; &amp; \\*",
    "$$x^2$$ \x00\x07 control",
]
TAG = re.compile(r"<(?!/?p>)[^>]+>")


def _text(rendered: str) -> str:
    return html.unescape(re.sub(r"</?p>", "", rendered)).strip()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_user_text_renders_as_literal_text_in_markdown(hostile: str) -> None:
    rendered = MarkdownIt("commonmark").render(render.user_message(hostile))
    assert TAG.search(rendered) is None, rendered  # no element at all but the paragraph
    expected = re.sub(r"[\x00-\x1f\x7f]", " ", hostile)
    assert _text(rendered) == expected


def test_bare_addresses_cannot_become_autolinks() -> None:
    escaped = markdown_text("see http://example.invalid/p.png, www.example.invalid and a@b.example")
    assert "http://" not in escaped and "www." not in escaped and "a@b" not in escaped


def test_chat_message_has_the_recommendation_numbered_citations_and_no_markup_from_the_document() -> None:
    message = render.message(ANSWER)
    rendered = MarkdownIt("commonmark").render(message)
    assert "Recommendation: Buy a commercial / managed offering" in _text(TAG.sub("", rendered))
    assert "[1]" in _text(rendered) and "[2]" in _text(rendered)
    assert "<b>" not in rendered  # a statement's own <b> stays text
    assert "&lt;b&gt;now&lt;/b&gt;" in rendered
    assert "What is your yearly budget?" in rendered and "could change the recommendation" in rendered


@pytest.mark.parametrize(("strength", "scores", "words"), [
    (0.8, {"commercial": 0.8, "open_source": 0.3}, "a clear lead"),
    (0.8, {"commercial": 0.8, "open_source": 0.7}, "leaning"),  # strong, but the next option is close
    (0.4, {"commercial": 0.4}, "leaning"),
])
def test_the_strength_is_said_in_words_and_the_weights_are_in_why(strength: float, scores: dict[str, float],
                                                                  words: str) -> None:
    doc = copy.deepcopy(DOC)
    doc["recommendation"].update(strength=strength, scores=scores)
    answer = Answer.from_dict(doc)
    shown = _text(TAG.sub("", MarkdownIt("commonmark").render(render.message(answer))))
    assert f"Recommendation: Buy a commercial / managed offering, {words}" in shown
    assert "strength 0" not in shown  # the numbers are for the Why? view
    weights = html.unescape(render.why_html(answer))
    assert f"strength {strength:.2f}" in weights and f"Buy a commercial / managed offering {strength:.2f}" in weights


def test_an_abstention_is_said_instead_of_a_recommendation() -> None:
    doc = copy.deepcopy(DOC)
    doc.update(recommendation=None, conclusions=[], abstention="That is outside what I know. <i>x</i>")
    message = render.message(Answer.from_dict(doc))
    assert message.startswith("That is outside what I know") and "<i>" not in message


def test_sources_show_each_cited_passage_highlighted_with_title_and_provenance() -> None:
    def context(cit: Citation) -> render.PassageContext:
        return render.PassageContext(before="before <u>", after=" after", publisher="Verta <Inc>",
                                     location=f"corpus/{cit.doc}:3", url="https://example.org/a?b=<c>")

    panel = render.sources_html(ANSWER, context)
    assert panel.count('class="oscar-cite"') == 2  # citation 1 is shared by two conclusions: shown once
    assert "<mark>small teams &lt;img src=x onerror=alert(2)&gt; should buy</mark>" in panel
    assert "&hellip;before &lt;u&gt;<mark>" in panel and "</mark> after&hellip;" in panel
    assert "ML-Infrastructure: Build vs. Buy vs. Open-Source" in panel
    assert "published by Verta &lt;Inc&gt;" in panel and "corpus/001_ad45be3a06e83d2d.txt:3" in panel
    assert "characters 100&ndash;160" in panel and "Definition and scope" in panel
    assert '<span class="oscar-url">https://example.org/a?b=&lt;c&gt;</span>' in panel and "<a " not in panel
    assert "<img" not in panel and "<u>" not in panel


def test_why_shows_rule_file_line_and_the_derivation_down_to_the_question() -> None:
    panel = render.why_html(ANSWER)
    assert "<code>buy.small-team</code>" in panel and "<code>rules/build_buy.yaml:12</code>" in panel
    derivation = panel[panel.index('id="oscar-why-c1"'):panel.index('id="oscar-why-c2"')]
    # small_team was derived from asker.team_size, which came from the question's words
    assert derivation.index("small_team") < derivation.index("asker.team_size")
    assert "derived by rule cost.small-team" in derivation
    assert 'from your question "6-person" (characters 8-16)' in html.unescape(derivation)
    assert "<b>now</b>" not in panel and "&lt;b&gt;now&lt;/b&gt;" in panel


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_new_views_show_hostile_words_as_text(hostile: str) -> None:
    """The asker's words quoted in Why?'s sentences, a statement in the comparison and its chart, a rule's
    title and a fact's value in Why not?: all shown as text, none becoming markup."""
    doc = copy.deepcopy(DOC)
    for f in doc["facts"]:
        if f["source"].get("text"):
            f["source"]["text"] = hostile
    doc["conclusions"][0].update(title=hostile, statement=hostile, criterion="criterion:total_cost")
    doc["comparison"] = [{"criterion": "criterion:total_cost", "name": hostile, "definition": hostile,
                          "cells": [{"option": "commercial", "conclusions": [doc["conclusions"][0]["id"]]},
                                    {"option": "open_source", "typical": hostile}]}]
    answer = Answer.from_dict(doc)
    panels = [render.why_html(answer), render.compare_html(answer),
              *(render.why_not_option_html(answer, e) for e in answer.why_not)]
    for panel in panels:
        assert "<script" not in panel and "<img" not in panel and "<a href=\"javascript" not in panel
        assert "<http" not in panel
    shown = str(markupsafe.escape(hostile))
    assert f"So rule <em>{shown}</em>" in panels[0]  # the rule's title, as text
    assert f"{shown}</th>" not in panels[1] and f"{shown}<div" in panels[1]  # the criterion's name, as text


@pytest.mark.parametrize("hostile", [*HOSTILE, '" onclick="alert(4)', "' data-op='remove"])
def test_the_panels_buttons_carry_hostile_words_as_text(hostile: str) -> None:
    """The questions asked back and the facts editor are drawn as HTML with buttons whose data the page's
    script sends back: a hostile question, fact, source or value stays text and can't open an attribute."""
    box = render.Input("asker.industry", "text", hostile, current=hostile)
    choice = render.Input("asker.ml_skills", "buttons", hostile, ((hostile, hostile), ("strong", "strong")))
    picked = render.Input("asker.main_concern", "select", hostile, ((hostile, hostile),), current=hostile)
    number = render.Input("asker.team_size", "number", hostile, unit=hostile, current="6")
    panels = [render.missing_html([render.MissingRow("asker.industry", hostile, True, box),
                                   render.MissingRow("asker.ml_skills", hostile, False, choice)]),
              render.facts_editor_html([render.KnownRow("asker.main_concern", hostile, hostile, hostile, picked),
                                        render.KnownRow("asker.team_size", hostile, hostile, hostile, number)])]
    for panel in panels:
        assert "<script" not in panel and "<img" not in panel and 'onclick="' not in panel
        assert "data-op='remove" not in panel
        # every button's action is one the page knows, every row is one of ours
        assert set(re.findall(r'data-op="([^"]*)"', panel)) <= {"set", "remove"}
    assert panels[0].count('data-op="set"') == 3
    assert 'class="oscar-row oscar-missing oscar-missing-asker-industry"' in panels[0]
    assert panels[1].count('data-op="remove"') == 2 and 'value="6"' in panels[1]


def test_why_tolerates_cycles_and_unknown_facts() -> None:
    doc = copy.deepcopy(DOC)
    doc["facts"].append({"id": "loop", "kind": "x", "value": {}, "source": {"kind": "derived", "rule": "r",
                                                                            "from_facts": ["loop", "ghost"]}})
    doc["conclusions"][0]["because"] = ["loop"]
    panel = render.why_html(Answer.from_dict(doc))
    assert "ghost" in panel and "not in the record" in panel


def test_why_not_names_the_failed_condition_of_each_rule() -> None:
    panel = render.why_not_html(ANSWER)
    assert "Build in house" in panel and "<code>build.latency</code>" in panel
    assert "rules/build_buy.yaml:30" in panel and "asker.latency_ms &lt; 20: not known" in panel


def test_what_if_says_the_outcome_and_what_it_adds_and_drops() -> None:
    other = copy.deepcopy(DOC)
    other["recommendation"] = {"option": "build_in_house", "strength": 0.6, "scores": {}}
    other["conclusions"] = other["conclusions"][1:] + [{**DOC["conclusions"][0], "statement": "Build <it>."}]
    panel = render.what_if_html([("asker.team_size", 150)], Answer.from_dict(other), ANSWER)
    assert ("Had you said people on the ML team: <strong>150 people</strong>, the recommendation would be "
            "<strong>Build in house") in panel
    assert "It would add:</div><ul><li>Build &lt;it&gt;.</li>" in panel
    assert "It would drop:</div><ul><li>A team of 6 should prefer a managed offering &lt;b&gt;now" in panel


def test_facts_table_and_problems_are_escaped() -> None:
    assert "team_size=6" in render.facts_html(ANSWER)
    problems = render.problems_html(["rules/a.yaml:3: expected a mapping <here>"])
    assert "<code>rules/a.yaml:3: expected a mapping &lt;here&gt;</code>" in problems


@pytest.mark.parametrize(("field", "control"), [
    ("asker.legacy_serving", Control("bool", ("yes", "no"))),
    ("asker.ml_skills", Control("choice", ("none", "some", "strong"))),
    ("asker.team_size", Control("number", unit="people")),
    ("asker.latency_ms", Control("number", unit="ms")),
    ("asker.industry", Control("text")),
    ("mention:offering:pytorch", None),
    ("asker.no_such_field", None),
])
def test_each_missing_or_known_fact_gets_the_input_its_type_needs(field: str, control: Control | None) -> None:
    """Each input has its type, its choices and the unit a person reads beside a number."""
    got = control_for(field)
    if control is None:
        assert got is None
        return
    assert got is not None and (got.kind, got.choices, got.unit) == (control.kind, control.choices, control.unit)
    if got is not None and got.kind == "choice":
        assert len(got.meanings) == len(got.choices) and all(got.meanings)  # each choice says what it means


class _NeverAsked:
    def __init__(self, live: object):
        self.asked = 0

    def ask(self, *args: object) -> None:
        self.asked += 1
        raise AssertionError("the advisor must not be asked")


@pytest.mark.parametrize("question", ["", "   \n\t", "x" * (MAX_QUESTION_CHARS + 1)])
def test_empty_or_overlong_questions_are_refused_before_the_advisor(question: str, tmp_path: Path) -> None:
    service = ChatService(live=None, advisor=_NeverAsked)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="question"):
        service.ask(None, question)
    assert service.advisor.asked == 0


def _records_app(records: dict[tuple[str, str, str], Answer], sign_in: dict[str, str] | None = None) -> Any:
    """The record route over a plain Starlette app, its records found in `records` (owner, key, id)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from app.server import Records
    from kb.render import export
    from kb.render.jsondoc import digest

    def find(owner: str, key: str, record_id: str, fmt: str) -> tuple[str, str] | None:
        answer = records.get((owner, key, record_id))
        return export(answer, fmt) if answer is not None and digest(answer) == record_id else None

    app = Starlette(routes=[Route("/{rest:path}", lambda request: PlainTextResponse("the page"))],
                    middleware=[Middleware(Records, find=find)])
    if sign_in is not None:  # as Gradio keeps its sign-ins: a cookie's token -> the person
        app.auth, app.cookie_id, app.tokens = object(), "c1", sign_in  # type: ignore[attr-defined]
    return app


def test_a_record_link_downloads_its_conversations_answer_and_nothing_else() -> None:
    from starlette.testclient import TestClient

    from kb.render.jsondoc import digest

    key, record_id = "k" * 24, digest(ANSWER)
    with TestClient(_records_app({("", key, record_id): ANSWER})) as http:
        got = http.get(f"/oscar/record/{key}/{record_id}/json")
        assert got.status_code == 200 and json.loads(got.text) == DOC
        assert got.headers["content-disposition"] == \
            f'attachment; filename="oscar-decision-{ANSWER.option}-{record_id}.json"'
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"] == "sandbox"
        assert http.head(f"/oscar/record/{key}/{record_id}/md").text == ""
        assert http.get(f"/oscar/record/{key}/{record_id}/prov").headers["content-type"].startswith("text/turtle")
        for wrong in (f"/oscar/record/{'x' * 24}/{record_id}/md", f"/oscar/record/{key}/{'0' * 16}/md",
                      f"/oscar/record/{key}/{record_id}/pdf", f"/oscar/record/{key}/{record_id}/md/x",
                      f"/oscar/record/short/{record_id}/md", f"/oscar/record/{key}/{record_id}/../../etc/passwd"):
            refused = http.get(wrong)
            assert refused.status_code == 404, wrong
            assert "Decision" not in refused.text
        assert http.post(f"/oscar/record/{key}/{record_id}/md").status_code == 405
        assert http.get("/oscar/recordings").text == "the page"  # the page's own routes go on


def test_with_a_sign_in_a_record_is_only_its_signed_in_owners() -> None:
    from starlette.testclient import TestClient

    from kb.render.jsondoc import digest

    key, record_id = "k" * 24, digest(ANSWER)
    link = f"/oscar/record/{key}/{record_id}/md"
    with TestClient(_records_app({("ana", key, record_id): ANSWER}, {"t-ana": "ana", "t-bo": "bo"})) as http:
        assert http.get(link).status_code == 401
        assert http.get(link, headers={"cookie": "access-token-c1=forged"}).status_code == 401
        assert http.get(link, headers={"cookie": "access-token-c1=t-bo"}).status_code == 404
        got = http.get(link, headers={"cookie": "access-token-c1=t-ana"})
        assert got.status_code == 200 and "## Decision Outcome" in got.text


def test_a_stack_file_from_outside_the_upload_folder_is_refused_unread(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    (uploads / "a1b2").mkdir(parents=True)
    outside = tmp_path / "secret.json"
    outside.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}', encoding="utf-8")
    (uploads / "a1b2" / "link.json").symlink_to(outside)
    service = ChatService(live=None, advisor=_NeverAsked, uploads=uploads)  # type: ignore[arg-type]
    for path in (outside, uploads / "a1b2" / ".." / ".." / "secret.json", uploads / "a1b2" / "link.json"):
        with pytest.raises(ValueError, match="refused, it is not a file uploaded here") as caught:
            service.add_stack(None, path)
        assert str(tmp_path) not in str(caught.value)  # the server's folders are not shown to the asker
        with pytest.raises(ValueError, match="refused"):
            service.add_profile(None, path)
    assert service.advisor.asked == 0


def test_a_stack_file_with_nothing_readable_names_its_line(tmp_path: Path) -> None:
    service = ChatService(live=None, advisor=_NeverAsked, uploads=tmp_path)  # type: ignore[arg-type]
    cut = tmp_path / "cut.json"
    cut.write_text('{"bomFormat": "CycloneDX",\n "components": [{"name": "a"', encoding="utf-8")
    with pytest.raises(ValueError, match=r"Nothing to review in cut\.json:\ncut\.json:2: not valid JSON"):
        service.add_stack(None, cut)
    with pytest.raises(ValueError, match="must be one of distributed, network, internal"):
        service.set_use(None, "everywhere")


# --- kb serve: sign-in settings and arguments ------------------------------------------------------------
def test_sign_in_comes_from_the_environment_or_a_file_and_never_defaults(tmp_path: Path) -> None:
    assert serve.credentials(None, env={}) is None
    assert serve.credentials(None, env={"OSCAR_AUTH": "ana:s3:cr3t"}) == [("ana", "s3:cr3t")]
    good = tmp_path / "auth.txt"
    good.write_text("# analysts\nana:one\n\nben:two\n", encoding="utf-8")
    assert serve.credentials(str(good), env={"OSCAR_AUTH": "x:y"}) == [("ana", "one"), ("ben", "two")]


@pytest.mark.parametrize(("text", "where"), [("ana:one\nben\n", ":2:"), ("ana:\n", ":1:"), (":pw\n", ":1:"),
                                             ("# nobody\n", "no user:password")])
def test_a_bad_sign_in_file_names_the_line(tmp_path: Path, text: str, where: str) -> None:
    bad = tmp_path / "auth.txt"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(serve.AuthError, match=re.escape(where)):
        serve.credentials(str(bad), env={})


def test_kb_serve_refuses_bad_arguments_before_loading_anything(capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    assert serve.main(["--port", "0"]) == 2
    assert serve.main(["--concurrency", "0"]) == 2
    assert serve.main(["--auth-file", str(tmp_path / "missing.txt")]) == 2
    err = capsys.readouterr().err
    assert "not a port number" in err and "at least 1" in err and "missing.txt: cannot read" in err


def test_load_progress_is_printed_stage_by_stage() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out)
    for stage, done in [("ontology", 0.0), ("rules", 0.2), ("index (1/9 passages embedded)", 0.5),
                        ("index (9/9 passages embedded)", 0.9), ("ready", 1.0)]:
        printer(stage, done)
    lines = out.getvalue().splitlines()
    assert [line.split("% ")[1].split(" ")[0] for line in lines] == ["ontology", "rules", "index", "ready"]
    assert lines[-1].startswith("loading: [####################] 100%")


def test_kb_serve_is_a_subcommand_of_kb(capsys: pytest.CaptureFixture[str]) -> None:
    from kb.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "--auth-file" in out


@pytest.mark.slow
def test_kb_serve_loads_with_progress_then_serves_and_refuses_a_taken_port(ontology_cache: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from kb.config import PROJECT_ROOT

    env = {**os.environ, "OSCAR_CACHE": str(ontology_cache)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        refused = subprocess.run([sys.executable, "-m", "kb.cli", "serve", "--port", str(busy)], cwd=PROJECT_ROOT,
                                 env=env, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 1 and f"cannot listen on 127.0.0.1:{busy}" in refused.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", "--port", str(port)], cwd=PROJECT_ROOT,
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        assert proc.stderr is not None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "OSCAR is ready" in line or not line:
                break
        assert any(line.startswith("loading: [") and "ontology" in line for line in lines)
        assert f"OSCAR is ready at http://127.0.0.1:{port}/" in lines[-1]
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert page.status_code == 200 and "OSCAR" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
