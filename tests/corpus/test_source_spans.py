"""Citations carry the file's own coordinates: for every passage of every document (shipped, and an analyst's
text, Markdown, HTML and PDF files), the span slices the file as stored to the passage's text."""

from __future__ import annotations

import html
import re
from pathlib import Path

from kb.corpus.documents import Document, load_corpus
from kb.corpus.passages import chunk
from tests.corpus.test_corpus import kb_at, kb_with, make_pdf


def _spaced(text: str) -> str:
    return " ".join(text.split())


def _spans(doc: Document) -> list[tuple[str, str]]:
    """(the file's characters at each passage's span, the passage's text)."""
    stored = doc.path.read_bytes().decode("utf-8") if doc.format != "pdf" else doc.source_text
    out = []
    for p in chunk(doc):
        start, end = doc.source_span(p.start, p.end)
        assert stored[start:end] == doc.source_text[start:end]
        out.append((stored[start:end], p.text))
    return out


def test_every_shipped_documents_passages_slice_the_file_to_their_text(kb_root: Path) -> None:
    corpus = load_corpus(kb_at(kb_root))
    assert corpus.documents
    for doc in corpus.documents:
        for raw, text in _spans(doc):
            if doc.format in ("text", "markdown"):
                assert _spaced(raw) == _spaced(text), (doc.id, raw[:80])


MARKDOWN = """# Choosing a platform

Our team compared hosted and self-run options over two quarters. The managed platform won on support.

Subscribe To Our Blog

It lost on price: licences cost more than the engineers we would have needed.

## Notes

- Latency stayed under 20 ms in both.
- Lock-in was the main worry.

---

```
kubectl apply -f platform.yaml
```

A closing paragraph that says what we decided and why we decided it.
"""


def test_an_analysts_markdown_and_text_files_slice_to_their_passages(tmp_path: Path) -> None:
    text = ("Intro line about open source licences.\r\nTry Verta today\r\nThe second paragraph goes on\u00a0about "
            "managed services.   It has two spaces inside.\n\nA third one.\n")
    paths = kb_with(tmp_path, {"notes.md": MARKDOWN, "plain.txt": text})
    corpus = load_corpus(paths)
    for name in ("notes.md", "plain.txt"):
        spans = _spans(corpus.get(name))
        assert spans, name
        for raw, passage in spans:
            assert _spaced(raw) == _spaced(passage), (name, raw)
            assert "Subscribe To Our Blog" not in raw and "Try Verta today" not in raw  # furniture cuts passages


def test_html_and_pdf_spans_hold_the_passage_once_markup_is_taken_out(tmp_path: Path) -> None:
    page = ("<html><body><h1>Licensing</h1><p>Apache &amp; MIT are <b>permissive</b> licences.</p>"
            "<p>GPL requires source on distribution.</p></body></html>")
    paths = kb_with(tmp_path, {"l.html": page, "r.pdf": make_pdf(["Open source licensing matters.",
                                                                 "Managed platforms carry certifications."])})
    corpus = load_corpus(paths)
    for raw, passage in _spans(corpus.get("l.html")):
        assert _spaced(html.unescape(re.sub(r"<[^>]+>", " ", raw))).replace(" .", ".") == _spaced(passage)
    pdf = corpus.get("r.pdf")
    for raw, passage in _spans(pdf):
        assert _spaced(raw) == _spaced(passage)
    assert pdf.locate(pdf.text.index("Managed")).page == 2
