"""The chat, driven as a person would: the real app (real knowledge base, index and advisor) in headless chromium.

One server serves the whole module, over a copy of the project's knowledge base (so the reload test
can break a rule file without touching the project). The file-route tests talk HTTP to the same server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kb.config import PROJECT_ROOT
from tests.app.conftest import Server, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = [
    pytest.mark.browser,
    # Gradio's queue statistics call a pandas API that pandas now deprecates; nothing of ours.
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
    pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed"),
]

SMALL_TEAM = ("We're a 6-person team and our model must answer in under 20 ms from our legacy serving "
              "stack. Build, buy or open source?")
HOSTILE = ("we are a 6-person team <script>alert(1)</script> <img src=x onerror=alert(2)> "
           "![x](http://example.invalid/p.png) [click](javascript:alert(3)), need HIPAA: buy or build?")
ANSWER_TIMEOUT = 90_000


@pytest.fixture(scope="module")
def server(app_server: Server) -> Server:
    """The app under test (tests/app/conftest.py)."""
    return app_server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class Tab:
    """One browser tab on the chat, with what it saw leave the machine or pop up."""

    def __init__(self, browser: Any, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", self._request)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url)
        self.page.wait_for_selector("#oscar-question textarea", timeout=60_000)

    def _request(self, request: Any) -> None:
        if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            self.outside.append(request.url)

    def ask(self, question: str) -> None:
        self.page.fill("#oscar-question textarea", question)
        self.page.click("#oscar-ask")

    def wait_answers(self, count: int) -> str:
        """Wait until the chat holds `count` finished answers; the text of the last one."""
        script = """n => {
            const done = Array.from(document.querySelectorAll('#oscar-chat .message.bot'))
                .map(e => e.innerText).filter(t => t.trim() && !t.includes('Loading content'));
            return done.length >= n ? done[done.length - 1] : null;
        }"""
        handle = self.page.wait_for_function(script, arg=count, timeout=ANSWER_TIMEOUT)
        return str(handle.json_value())

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name, exact=True).click()

    def close(self) -> None:
        self.context.close()


def advised(server: Server, question: str, profile: Path | None = None, **facts: object) -> str:
    """The option the advisor itself recommends for a conversation (asked in-process, outside the page)."""
    if profile is not None:  # the service reads only files uploaded into its own folder, as the page does
        profile = Path(shutil.copy(profile, server.workdir.files / profile.name))
    session = server.service.add_profile(None, profile) if profile else None
    session = server.service.ask(session, question)
    for name, value in facts.items():
        session = server.service.set_fact(session, name, value)
    return session["answer"].option or "none"


def keep(locator: Any, name: str) -> None:
    """Save a screenshot of `locator` as docs' `name` when OSCAR_SCREENSHOTS names the folder (docs/app.md)."""
    if os.environ.get("OSCAR_SCREENSHOTS"):
        locator.screenshot(path=str(Path(os.environ["OSCAR_SCREENSHOTS"]) / name))


def shown(option: str) -> str:
    """How the chat states a recommendation of `option`."""
    from kb.render.words import option_label

    return f"Recommendation: {option_label(option)}" if option != "none" else "No recommendation yet"


# --- file routes -----------------------------------------------------------------------------------------
OUTSIDE_PATHS = [
    "gradio_api/file=/etc/passwd",
    "gradio_api/file=../pyproject.toml",
    "gradio_api/file=pyproject.toml",
    f"gradio_api/file={PROJECT_ROOT / 'pyproject.toml'}",
    "gradio_api/file=%2e%2e/%2e%2e/etc/passwd",
    "gradio_api/file=..%2f..%2f..%2fetc%2fpasswd",
    "gradio_api/file//etc/passwd",
    "gradio_api/file/../../pyproject.toml",
    "file=/etc/passwd",
    "static/../../pyproject.toml",
    "static/%2e%2e/%2e%2e/pyproject.toml",
    "assets/../../../../etc/passwd",
    "assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.mark.parametrize("path", OUTSIDE_PATHS)
def test_file_routes_serve_nothing_outside_the_apps_own_files(server: Server, path: str) -> None:
    with httpx.Client(timeout=20, follow_redirects=False) as client:
        response = client.get(server.url + path)
    assert response.status_code in (400, 403, 404), (path, response.status_code)
    assert "root:" not in response.text and "[project]" not in response.text


def test_file_route_fetches_no_internal_address_and_the_proxy_is_closed(server: Server) -> None:
    with httpx.Client(timeout=20, follow_redirects=False) as client:
        for path in (f"gradio_api/file={server.url}config", "gradio_api/file=http://127.0.0.1:1/x",
                     f"gradio_api/proxy={server.url}config"):
            response = client.get(server.url + path)
            assert response.status_code in (400, 403), (path, response.status_code)


def test_an_answers_records_download_by_its_links_and_only_for_its_conversation(server: Server) -> None:
    from gradio_client import Client

    def links(outputs: Any) -> dict[str, str]:
        record = next(o for o in outputs if isinstance(o, str) and "oscar-digest" in o)
        digest = re.search(r'oscar-digest">([0-9a-f]+)<', record).group(1)
        found = dict(re.findall(r'id="oscar-export-([a-z]+)" href="([^"]+)"', record))
        assert all(f"/{digest}/{fmt}" in link for fmt, link in found.items())
        return found

    client = Client(server.url, verbose=False, download_files=False, analytics_enabled=False)
    first = links(client.predict(SMALL_TEAM, api_name="/ask"))
    assert sorted(first) == ["html", "json", "md", "prov"]
    with httpx.Client(timeout=20, follow_redirects=False) as http:
        for fmt, link in first.items():
            served = http.get(server.url + link)
            assert served.status_code == 200, (fmt, served.text)
            # every record is a download; a page of this origin is never rendered, and could run nothing
            assert served.headers["content-disposition"].startswith('attachment; filename="oscar-decision-')
            assert served.headers["content-security-policy"] == "sandbox"
            assert link.split("/")[-2] in served.headers["content-disposition"]
        assert "## Decision Outcome" in http.get(server.url + first["md"]).text
        assert json.loads(http.get(server.url + first["json"]).text)["question"].startswith("We're a 6-person")
        assert http.post(server.url + first["md"]).status_code == 405

        # another conversation's key, a made-up record id, an unknown format or a path beside it: nothing
        other = links(Client(server.url, verbose=False, download_files=False, analytics_enabled=False)
                      .predict(HOSTILE, api_name="/ask"))
        key, digest = first["md"].split("/")[2:4]
        for wrong in (first["md"].replace(key, other["md"].split("/")[2]), first["md"].replace(digest, "0" * 16),
                      first["md"][:-2] + "pdf", first["md"] + "/../../../../pyproject.toml",
                      f"oscar/record/{key}/{digest}/../../../pyproject.toml"):
            refused = http.get(server.url + wrong)
            assert refused.status_code == 404, (wrong, refused.status_code)
            assert "[project]" not in refused.text

        # a newer answer in the conversation replaces the record its links name
        second = links(client.predict("And if we were 150 people?", api_name="/ask"))
        assert second["md"] != first["md"]
        assert http.get(server.url + first["md"]).status_code == 404
        assert http.get(server.url + second["md"]).status_code == 200


# --- the chat ------------------------------------------------------------------------------------------
def test_a_question_gets_a_recommendation_citations_why_and_a_correctable_fact(
        server: Server, browser: Any, tmp_path: Path) -> None:
    before, after = advised(server, SMALL_TEAM), advised(server, SMALL_TEAM, team_size=150)
    assert before != "none" and after != before, "the rules no longer weigh team size for this question"
    tab = Tab(browser, server.url)
    try:
        tab.ask(SMALL_TEAM)
        first = tab.wait_answers(1)
        assert shown(before) in first
        assert "[1]" in first
        from app.chat import TITLE

        # a clean header: the page's title, the knowledge base's hashes folded away; the strength in words
        assert tab.page.title() == TITLE
        assert tab.page.locator("#oscar-status").inner_text().strip() == "About this knowledge base"
        assert re.search(rf"{re.escape(shown(before))}, (a clear lead|leaning)", first) and "strength" not in first
        cite = tab.page.locator("#oscar-sources .oscar-cite").first
        assert cite.locator("mark").inner_text().strip()
        assert cite.locator(".oscar-meta").inner_text().count("characters") == 1
        shot = Path(os.environ["OSCAR_SCREENSHOT"]) if os.environ.get("OSCAR_SCREENSHOT") else tmp_path / "chat.png"
        tab.page.evaluate("""() => { for (const e of document.querySelectorAll('#oscar-chat *'))
                                         if (e.scrollHeight > e.clientHeight + 10) e.scrollTop = 0; }""")
        tab.page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000

        from kb.render.words import field_label, option_label
        from kb.vocab import OPTIONS

        session = server.service.ask(None, SMALL_TEAM)
        answer = session["answer"]
        # Why? in sentences: the asker's own words, then each rule by its title; the record one click away
        tab.tab("Why?")
        assert "Weighed support of each option" in tab.page.locator("#oscar-weights").inner_text()
        first_reason = answer.conclusions[0]
        derivation = tab.page.locator("#oscar-why details.oscar-derivation").first
        derivation.locator("summary").first.click()
        steps = derivation.locator("ol.oscar-steps").inner_text()
        assert "You said \u201c" in steps and f"So rule {first_reason.title}" in steps
        assert f"({first_reason.rule.file}:{first_reason.rule.line}) applies" in steps
        assert "asker." not in steps and "industry:" not in steps  # names, not ids
        raw = derivation.locator("details.oscar-raw")
        assert not raw.locator("ul").first.is_visible()
        keep(tab.page.locator("#oscar-why"), "why.png")
        raw.locator("summary").click()
        assert "from your question" in raw.inner_text() and first_reason.rule.id in raw.inner_text()

        # Why not? per option, the facts that would have changed it, each to try (nothing is kept)
        tab.tab("Why not?")
        not_chosen = tab.page.locator(".oscar-why-not-option").all_inner_texts()
        assert all(any(option_label(o) in t for t in not_chosen) for o in OPTIONS if o != before)
        entry = next(e for e in answer.why_not if e.changes)
        change = [(s.field, s.value) for s in entry.changes[0].facts]
        tried = server.service.what_if_all(session, change).option
        if entry.changes[0].leads:
            assert tried == entry.option
        index = [e.option for e in answer.why_not].index(entry.option)
        tab.page.locator(".oscar-why-not-option").nth(index).locator(
            "xpath=following::button[contains(@class,'oscar-try')][1]").click()
        result = tab.page.locator("#oscar-whatif-result .oscar-what-if")
        result.wait_for(timeout=ANSWER_TIMEOUT)
        assert "Had you said " + field_label(change[0][0][6:]) in result.inner_text()
        assert f"the recommendation would be {option_label(tried)}" in result.inner_text()
        keep(tab.page.locator("#oscar-tab-why-not"), "why-not.png")
        tab.page.locator("#oscar-whatif-field input").click()
        tab.page.get_by_role("option", name=field_label("team_size"), exact=True).click()
        tab.page.fill("#oscar-whatif-value textarea", "150")
        tab.page.click("#oscar-whatif")
        tab.page.wait_for_function("() => document.querySelector('#oscar-whatif-result').innerText"
                                   ".includes(': 150')", timeout=ANSWER_TIMEOUT)
        assert f"the recommendation would be {option_label(after)}" in result.inner_text()
        assert tab.page.locator("#oscar-chat .message.bot").count() == 1  # the conversation did not move

        # the options side by side: a chart, and a row per criterion that matters here, each cell cited
        compare = tab.page.locator("#oscar-compare")
        compare.scroll_into_view_if_needed()
        assert compare.locator("svg rect").count() >= 1
        rows = compare.locator("tr.oscar-criterion")
        assert rows.count() == len(answer.comparison) > 0
        assert rows.first.locator("th").inner_text().startswith(answer.comparison[0].name)
        assert "[" in rows.first.inner_text()  # a cell carries its citation numbers
        keep(compare, "compare.png")

        tab.tab("Facts")
        row = tab.page.locator(".oscar-fact-asker-team_size")
        assert "6 people" in row.inner_text() and field_label("team_size") in row.inner_text()
        row.locator("input").fill("150")
        row.get_by_role("button", name="Set").click()
        second = tab.wait_answers(2)
        assert f"You said {field_label('team_size')}: 150 people" in second
        assert shown(after) in second

        tab.tab("Export")
        with tab.page.expect_download() as info:
            tab.page.click("#oscar-export-md")
        download = info.value
        assert download.suggested_filename.startswith(f"oscar-decision-{after}-")
        assert download.suggested_filename.endswith(".md")
        record = Path(download.path()).read_text(encoding="utf-8")
        assert "## Decision Outcome" in record and option_label(after) in record
        with tab.page.expect_download() as info:
            tab.page.click("#oscar-export-json")
        doc = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
        assert doc["recommendation"]["option"] == after
        assert any(f["id"] == "asker.team_size" and f["value"] == {"team_size": 150} for f in doc["facts"])
        assert tab.outside == [] and tab.dialogs == []
    finally:
        tab.close()


def test_a_missing_fact_is_answered_in_one_click(server: Server, browser: Any) -> None:
    question = "Our model must answer in under 20 ms from our legacy serving stack. Build, buy or open source?"
    alone, small = advised(server, question), advised(server, question, team_size=4)
    assert small != alone, "the rules no longer weigh team size for this question"
    tab = Tab(browser, server.url)
    try:
        tab.ask(question)
        assert shown(alone) in tab.wait_answers(1)
        row = tab.page.locator(".oscar-missing-asker-team_size")
        # under the answer, above the question box, with the number's unit
        from app.service import control_for
        from kb.render.words import field_label

        unit = control_for("asker.team_size").unit  # type: ignore[union-attr]
        assert unit
        row.get_by_text(unit, exact=True).wait_for(timeout=ANSWER_TIMEOUT)
        chat, box = (tab.page.locator(sel).bounding_box() for sel in ("#oscar-chat", "#oscar-question"))
        place = row.bounding_box()
        assert chat and box and place and chat["y"] + chat["height"] <= place["y"] < box["y"]
        if os.environ.get("OSCAR_SCREENSHOTS"):  # the answer's end, the questions under it, the question box
            top = chat["y"] + chat["height"] - 260
            tab.page.screenshot(path=str(Path(os.environ["OSCAR_SCREENSHOTS"]) / "follow-up.png"), full_page=True,
                                clip={"x": chat["x"], "y": top, "width": chat["width"],
                                      "height": box["y"] + box["height"] - top + 10})
        row.locator("input").fill("4")
        row.get_by_role("button", name="Set").click()
        assert shown(small) in tab.wait_answers(2)
        # the one-click rows are drawn again after each answer: act on the new ones, as a person sees them
        tab.page.locator(".oscar-missing-asker-team_size").wait_for(state="detached", timeout=ANSWER_TIMEOUT)
        skills = tab.page.locator(".oscar-missing-asker-ml_skills")
        skills.get_by_role("button", name="strong").click()
        assert f"You said {field_label('ml_skills')}: strong" in tab.wait_answers(3)
        tab.tab("Facts")
        tab.page.locator(".oscar-fact-asker-ml_skills").wait_for(timeout=ANSWER_TIMEOUT)
        tab.page.locator(".oscar-fact-asker-team_size").get_by_role("button", name="Remove").click()
        removed = tab.wait_answers(4)
        assert f"Removed {field_label('team_size')}" in removed
        assert shown(advised(server, question, ml_skills="strong")) in removed
        tab.page.locator(".oscar-fact-asker-team_size").wait_for(state="detached", timeout=ANSWER_TIMEOUT)

        # the conversation is kept in the server's store: reloading the page takes it up again, this tab only
        tab.page.reload()
        assert tab.wait_answers(4) == removed
        tab.tab("Facts")
        tab.page.locator(".oscar-fact-asker-ml_skills").wait_for(timeout=ANSWER_TIMEOUT)
        other = Tab(browser, server.url)
        try:
            keys = [t.page.wait_for_function("() => document.querySelector('#oscar-key textarea')?.value || null",
                                             timeout=ANSWER_TIMEOUT).json_value() for t in (tab, other)]
            assert keys[0] != keys[1] and other.page.locator("#oscar-chat .message.bot").count() == 0
        finally:
            other.close()
    finally:
        tab.close()


def test_a_broken_profile_is_reported_with_its_line(server: Server, browser: Any, tmp_path: Path) -> None:
    profile = tmp_path / "our-team.yaml"
    profile.write_text("industry: healthcare\nteam_size: a dozen\n", encoding="utf-8")
    tab = Tab(browser, server.url)
    try:
        tab.page.get_by_text("Start from a profile file").click()
        tab.page.locator("#oscar-profile input[type=file]").set_input_files(str(profile))
        error = tab.page.get_by_text("our-team.yaml:2: 'team_size' expects a number")
        error.wait_for(timeout=ANSWER_TIMEOUT)
        assert tab.page.locator("#oscar-chat .message.bot").count() == 0
    finally:
        tab.close()


STACK = PROJECT_ROOT / "tests" / "data" / "stack" / "environment.cdx.json"


def reviewed(server: Server, use: str) -> Any:
    """The stack review the advisor itself makes of STACK for `use` (in-process, outside the page)."""
    copied = shutil.copy(STACK, server.workdir.files / STACK.name)
    return server.service.set_use(server.service.add_stack(None, copied), use)["answer"].stack


def test_a_stack_is_reviewed_beside_the_question_and_each_row_says_why(
        server: Server, browser: Any, tmp_path: Path) -> None:
    expected = reviewed(server, "distributed")
    most = max(r.count("risk") for r in expected.components)
    assert most > 0, "no component of this environment carries a risk any more"
    tab = Tab(browser, server.url)
    try:
        tab.page.get_by_text("Review a whole stack: an SBOM").click()
        tab.page.locator("#oscar-stack-file input[type=file]").set_input_files(str(STACK))
        first = tab.wait_answers(1)
        assert f"Stack reviewed: environment.cdx.json (CycloneDX 1.6 JSON), {len(expected.components)} components" \
            in first
        tab.page.locator("#oscar-stack-use").get_by_label("shipped to others").check()
        assert "The stack is shipped to others" in tab.wait_answers(2)
        summary = tab.page.locator("#oscar-stack")
        assert f"{expected.count('obligation')} obligations, {most and expected.count('risk')} risks" \
            in summary.inner_text()

        table = tab.page.locator("#oscar-stack-table")
        table.scroll_into_view_if_needed()
        rows = table.locator("[role=row].virtual-row")
        rows.first.wait_for(timeout=ANSWER_TIMEOUT)
        header = table.locator("th[title=risks]")  # sort by risks, most first, through the heading's menu
        header.hover()
        header.locator("button.cell-menu-button").click(force=True)
        tab.page.get_by_role("menuitem", name="Sort descending").click()
        tab.page.wait_for_function(
            "n => document.querySelector('#oscar-stack-table [role=row].virtual-row [data-col=\"4\"]')"
            "?.innerText.trim() === String(n)", arg=most, timeout=ANSWER_TIMEOUT)
        top = rows.first.locator("[role=gridcell]")
        name, version = top.nth(0).inner_text().strip(), top.nth(1).inner_text().strip()
        top.nth(0).click()
        why = tab.page.locator("#oscar-stack-why")
        tab.page.wait_for_function("n => document.querySelector('#oscar-stack-why').innerText.includes(n)",
                                   arg=f"{name} {version}", timeout=ANSWER_TIMEOUT)
        row = next(r for r in expected.components if (r.component, r.version) == (name, version))
        assert row.count("risk") == most
        assert all(f.rule.id in why.inner_text() for f in row.findings)

        table.locator("input[placeholder^=Search]").fill("fastapi")  # a clause-cited obligation, with its text
        tab.page.wait_for_function(
            "() => [...document.querySelectorAll('#oscar-stack-table [role=row].virtual-row')]"
            ".every(r => r.innerText.toLowerCase().includes('fastapi'))", timeout=ANSWER_TIMEOUT)
        rows.first.locator("[role=gridcell]").first.click()
        tab.page.wait_for_function("() => document.querySelector('#oscar-stack-why').innerText.includes('fastapi')",
                                   timeout=ANSWER_TIMEOUT)
        text = why.inner_text()
        assert "licences.mit-notice" in text and "corpus/licences/mit.txt" in text
        assert "Permission is hereby granted" in text and "#/components/" in text
        shot = tmp_path / "stack.png"
        why.screenshot(path=str(shot))
        assert shot.stat().st_size > 5_000

        tab.ask("What do we owe our customers for the open-source parts we ship?")
        answer = tab.wait_answers(3)
        assert "Stack reviewed" not in answer and tab.page.locator("#oscar-stack").inner_text() == summary.inner_text()
        tab.tab("Export")
        with tab.page.expect_download() as info:
            tab.page.click("#oscar-export-json")
        doc = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
        assert doc["stack"]["use"] == "distributed" and len(doc["stack"]["components"]) == len(expected.components)
        with tab.page.expect_download() as info:
            tab.page.click("#oscar-export-md")
        assert "| fastapi |" in Path(info.value.path()).read_text(encoding="utf-8")
        assert tab.outside == [] and tab.dialogs == []
    finally:
        tab.close()


def test_a_bad_stack_file_is_named_with_its_line_and_the_conversation_goes_on(
        server: Server, browser: Any, tmp_path: Path) -> None:
    cut = tmp_path / "cut.cdx.json"
    cut.write_text(STACK.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    evil = tmp_path / "evil.cdx.xml"
    evil.write_text('<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                    '<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components/></bom>\n', encoding="utf-8")
    huge = tmp_path / "huge.cdx.json"
    with huge.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    tab = Tab(browser, server.url)
    try:
        tab.page.get_by_text("Review a whole stack: an SBOM").click()
        upload = tab.page.locator("#oscar-stack-file input[type=file]")
        upload.set_input_files(str(cut))
        tab.page.get_by_text(re.compile(r"cut\.cdx\.json:\d+: not valid JSON")).wait_for(timeout=ANSWER_TIMEOUT)
        tab.page.reload()
        tab.page.wait_for_selector("#oscar-question textarea", timeout=60_000)
        tab.page.get_by_text("Review a whole stack: an SBOM").click()
        upload.set_input_files(str(evil))
        tab.page.get_by_text("evil.cdx.xml:2: refused: an XML SBOM with a DTD").wait_for(timeout=ANSWER_TIMEOUT)
        tab.page.reload()
        tab.page.wait_for_selector("#oscar-question textarea", timeout=60_000)
        tab.page.get_by_text("Review a whole stack: an SBOM").click()
        upload.set_input_files(str(huge))
        tab.page.get_by_text(re.compile(r'exceed the maximum allowed size of .*"huge\.cdx\.json"'))\
            .first.wait_for(timeout=ANSWER_TIMEOUT)
        assert not list(server.workdir.files.rglob("huge.cdx.json"))  # refused before it was stored
        tab.ask(SMALL_TEAM)  # the session goes on
        assert shown(advised(server, SMALL_TEAM)) in tab.wait_answers(1)
        assert tab.page.locator("#oscar-stack").inner_text().startswith("Upload an SBOM")
    finally:
        tab.close()


def test_hostile_markup_in_a_question_is_shown_as_text_and_does_nothing(server: Server, browser: Any) -> None:
    tab = Tab(browser, server.url)
    try:
        tab.ask(HOSTILE)
        tab.wait_answers(1)
        user = tab.page.locator("#oscar-chat .message.user").last
        assert "<script>alert(1)</script>" in user.inner_text()
        assert "![x](http://example.invalid/p.png)" in user.inner_text()
        assert user.locator("img, script, a").count() == 0
        tab.page.wait_for_timeout(500)
        assert tab.dialogs == [] and tab.outside == []
    finally:
        tab.close()


def test_two_sessions_at_once_each_get_their_own_answer(server: Server, browser: Any, tmp_path: Path) -> None:
    profile = tmp_path / "big-team.yaml"
    profile.write_text("team_size: 300\nml_skills: strong\n", encoding="utf-8")
    question_a = SMALL_TEAM.replace("6-person", "5-person")
    question_b = SMALL_TEAM.replace("We're a 6-person team and our", "Our")
    option_a, option_b = advised(server, question_a), advised(server, question_b, profile=profile)
    assert option_a != option_b, "the rules no longer tell these two teams apart"
    a, b = Tab(browser, server.url), Tab(browser, server.url)
    try:
        b.page.get_by_text("Start from a profile file").click()
        b.page.locator("#oscar-profile input[type=file]").set_input_files(str(profile))
        b.wait_answers(1)
        a.ask(question_a)
        b.ask(question_b)
        answer_a, answer_b = a.wait_answers(1), b.wait_answers(2)
        assert shown(option_a) in answer_a
        assert shown(option_b) in answer_b
        a.tab("Facts")
        b.tab("Facts")
        facts_a = a.page.locator("#oscar-facts").inner_text()
        facts_b = b.page.locator("#oscar-facts").inner_text()
        assert "team_size=5" in facts_a and "300" not in facts_a
        assert "team_size=300" in facts_b and "team_size=5" not in facts_b
        assert "profile file" in facts_b
    finally:
        a.close()
        b.close()


def test_a_broken_rule_file_is_reported_and_the_last_good_knowledge_base_keeps_answering(
        server: Server, browser: Any) -> None:
    rules = sorted((server.root / "rules").glob("*.yaml"))[0]
    good = rules.read_text(encoding="utf-8")
    tab = Tab(browser, server.url)
    try:
        rules.write_text(good + "\n  - id: broken\n    when: [unclosed\n", encoding="utf-8")
        tab.tab("Analysts")
        tab.page.click("#oscar-reload")
        problems = tab.page.locator("#oscar-problems")
        problems.locator("code").first.wait_for(timeout=ANSWER_TIMEOUT)
        listed = problems.inner_text()
        assert f"rules/{rules.name}:" in listed and "Reload refused" in listed
        tab.ask(SMALL_TEAM)
        assert shown(advised(server, SMALL_TEAM)) in tab.wait_answers(1)
    finally:
        rules.write_text(good, encoding="utf-8")
        tab.close()


@pytest.mark.slow  # two reloads of the whole knowledge base (a minute); the panel's URL is unit-tested in test_app
def test_a_documents_url_from_its_metadata_shows_in_the_sources_panel(server: Server, browser: Any) -> None:
    metadata = server.root / "corpus" / "metadata.yaml"
    good = metadata.read_text(encoding="utf-8")
    data = yaml.safe_load(good)
    for name, entry in data["documents"].items():
        entry["url"] = f"https://example.org/{name}?a=1&b=<2>"
    tab = Tab(browser, server.url)
    try:
        metadata.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        tab.tab("Analysts")
        tab.page.click("#oscar-reload")
        tab.page.locator("#oscar-problems .oscar-ok").wait_for(timeout=ANSWER_TIMEOUT)
        tab.ask(SMALL_TEAM)
        tab.wait_answers(1)
        tab.tab("Sources")
        cite = tab.page.locator("#oscar-sources .oscar-cite").first
        shown_url = cite.locator(".oscar-url").inner_text()
        assert shown_url.startswith("https://example.org/") and shown_url.endswith("?a=1&b=<2>")
        assert cite.locator("a").count() == 0  # shown as text: the page offers no click to outside addresses
        assert not tab.outside
    finally:
        metadata.write_text(good, encoding="utf-8")
        assert server.service.reload() == []
        tab.close()


def test_a_sign_in_is_required_when_one_is_set(server: Server) -> None:
    from app.chat import build
    from app.server import launch

    page = build(server.service)
    _, url = launch(page, server.workdir, port=free_port(), auth=[("ana", "a long passphrase")], block=False)
    try:
        with httpx.Client(timeout=20) as http:
            assert http.get(url + "config").status_code == 401
            assert http.get(url + "gradio_api/info").status_code == 401
            refused = http.post(url + "login", data={"username": "ana", "password": "guess"})
            assert refused.status_code == 400
            assert http.get(url + "config").status_code == 401
            for route in ("gradio_api/reset", "gradio_api/cancel"):  # these answered anyone before
                assert http.post(url + route, json={"event_id": "x", "session_hash": "y", "fn_index": 0}
                                 ).status_code == 401
            assert http.get(url + "gradio_api/heartbeat/abc").status_code == 401
            signed_in = http.post(url + "login", data={"username": "ana", "password": "a long passphrase"})
            assert signed_in.status_code == 200
            assert http.get(url + "config").status_code == 200
            assert http.get(url + "gradio_api/info").status_code == 200
    finally:
        page.close()


def test_a_person_signs_in_through_the_page_and_then_asks(server: Server, browser: Any) -> None:
    from app.chat import build
    from app.server import launch

    page = build(server.service)
    _, url = launch(page, server.workdir, port=free_port(), auth=[("ana", "a long passphrase")], block=False)
    tab = Tab.__new__(Tab)
    tab.context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab.page = tab.context.new_page()
    tab.outside, tab.dialogs = [], []
    try:
        tab.page.goto(url)
        tab.page.get_by_label("username").fill("ana")
        tab.page.get_by_label("password").fill("a long passphrase")
        tab.page.get_by_role("button", name=re.compile("login", re.I)).click()
        tab.page.wait_for_selector("#oscar-question textarea", timeout=60_000)
        tab.ask(SMALL_TEAM)
        assert shown(advised(server, SMALL_TEAM)) in tab.wait_answers(1)
        # the signed-in person downloads the record; its link, followed without the sign-in, gives nothing
        tab.tab("Export")
        link = tab.page.locator("#oscar-export-md").get_attribute("href")
        with tab.page.expect_download() as info:
            tab.page.click("#oscar-export-md")
        assert "## Decision Outcome" in Path(info.value.path()).read_text(encoding="utf-8")
        with httpx.Client(timeout=20) as http:
            assert http.get(url + link).status_code == 401
    finally:
        tab.close()
        page.close()


def test_no_monitoring_mcp_or_run_history_and_no_flagging(server: Server) -> None:
    with httpx.Client(timeout=20, follow_redirects=False) as http:
        assert http.get(server.url + "monitoring").status_code in (403, 404)
        assert http.get(server.url + "gradio_api/mcp/sse").status_code == 404
        assert http.get(server.url + "gradio_api/runs").status_code in (403, 404)
        config = http.get(server.url + "config").json()
    assert "flag" not in json.dumps([d.get("api_name") for d in config.get("dependencies", [])]).lower()
    assert not config.get("share_url") and not config.get("is_space")
