"""The exported HTML decision record, opened in headless chromium: every citation is on the page, and
hostile text in the question stays text."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kb import render
from kb.advisor.advise import Advisor, KnowledgeBase
from kb.advisor.conversation import Conversation

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed"),
]


def test_exported_html_opens_with_every_citation_and_runs_nothing(knowledge_base: KnowledgeBase,
                                                                   tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    question = ("we're a 6-person health-tech team <script>window.pwned=1</script> <img src=x "
                "onerror=\"window.pwned=2\">, need HIPAA, is self-hosting PyTorch + MLflow wise?")
    _, doc = Advisor(knowledge_base).ask(Conversation(), question)
    name, html = render.export(doc, "html")
    page_file = tmp_path / name
    page_file.write_text(html, encoding="utf-8")
    cited = doc.citations()
    assert len(cited) >= 3
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_file.as_uri())
            text = " ".join(page.inner_text("body").split())
            for cit in cited:
                assert " ".join(cit.text.split()) in text, cit.n
                assert page.locator(f"#cite-{cit.n}").count() == 1
            assert "<script>window.pwned=1</script>" in text  # shown as text ...
            assert page.evaluate("typeof window.pwned") == "undefined"  # ... and never run
            assert page.locator("img").count() == 0 and not dialogs
        finally:
            browser.close()
