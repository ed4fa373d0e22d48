"""Corpus ingestion: every format becomes clean text that maps back to its source; bad files are refused
one by one with a reason; passages are exact slices of the cleaned text."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.cli.checks import run_checks
from kb.config import PROJECT_ROOT, Paths
from kb.corpus.documents import (
    NOT_DOCUMENTS,
    Document,
    Furniture,
    MappedText,
    check_corpus,
    clean,
    load_corpus,
    load_furniture,
    load_metadata,
    plain_text_headings,
)
from kb.corpus.passages import ChunkSettings, chunk, sentences

# The shipped web captures, used as test data for cleaning (tests of the analysts' corpus, whatever it
# holds, go through `kb_root`).
SHIPPED = PROJECT_ROOT / "corpus"
VERTA = "001_ad45be3a06e83d2d.txt"
SHIPPED_CAPTURES = ("000_ec713219caae2b0a.txt", VERTA, "002_fecf1919664aebd8.txt", "003_274b773468e9a4c0.txt")


def make_pdf(pages: list[str]) -> bytes:
    """A small valid PDF with one line of Helvetica text per page."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 "
                            b"/BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        content_ref = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R"
                       b" >> >> /Contents %d 0 R >>" % content_ref)
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def kb_at(root: Path) -> Paths:
    """The knowledge base at `root`, for reading its corpus (which writes no cache)."""
    return Paths(root=root, cache=Path("/nonexistent"))


def kb_with(tmp_path: Path, files: dict[str, str | bytes], metadata: bool = True) -> Paths:
    """A knowledge base whose corpus holds `files` (and the shipped furniture patterns)."""
    corpus = tmp_path / "kb" / "corpus"
    corpus.mkdir(parents=True)
    shutil.copy(SHIPPED / "furniture.yaml", corpus / "furniture.yaml")
    lines = ["documents:"]
    for name, content in files.items():
        (corpus / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        lines += [f"  {name}:", f"    title: Title of {name}", "    publisher: Someone"]
    if metadata:
        (corpus / "metadata.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Paths(root=tmp_path / "kb", cache=tmp_path / "cache")


def assert_maps_back(doc: Document) -> None:
    """Every character of the cleaned text comes from the same character of the source (spaces aside)."""
    for i, ch in enumerate(doc.text):
        src = doc.source_text[doc.source_offset(i)]
        if not ch.isspace():
            assert src == ch or src == "&", (doc.id, i, ch, src)


def test_every_file_of_the_corpus_folder_loads_with_provenance_and_without_furniture(kb_root: Path) -> None:
    """Whatever the corpus folder holds: each file (but its README, metadata and furniture) is a readable
    document with its provenance, no furniture pattern is left in its text, and its text maps back."""
    paths = kb_at(kb_root)
    corpus = load_corpus(paths)
    assert corpus.problems == ()
    files = {p.relative_to(paths.corpus).as_posix() for p in paths.corpus.rglob("*") if p.is_file()}
    expected = {name for name in files - NOT_DOCUMENTS if not any(part.startswith(".") for part in name.split("/"))}
    assert expected and sorted(d.id for d in corpus.documents) == sorted(expected)
    metadata, _ = load_metadata(paths.corpus)
    furniture, _ = load_furniture(paths.corpus)
    for doc in corpus.documents:
        assert doc.has_metadata and doc.title == metadata[doc.id].title and doc.publisher, doc.id
        assert [f.pattern for f in furniture.patterns if f.search(doc.text)] == [], doc.id
        assert_maps_back(doc)


def test_page_furniture_is_removed_from_the_shipped_captures_and_the_prose_around_it_stays() -> None:
    corpus = load_corpus(kb_at(PROJECT_ROOT), only=SHIPPED_CAPTURES)
    text = "\n".join(corpus.get(name).text for name in SHIPPED_CAPTURES)
    for furniture in ("<img", "Subscribe To Our Blog", "Login or Subscribe to participate in polls",
                      "Upgrade to →", "Try Verta today", "Explore This Site", "Join the conversation"):
        assert furniture not in text
        assert any(furniture in (SHIPPED / name).read_text(encoding="utf-8") for name in SHIPPED_CAPTURES)
    assert "It’s filled with useful information!" in text
    assert "Vendors are over-promising and under-delivering." in text
    verta = corpus.get(VERTA)
    assert verta.title.startswith("ML-Infrastructure: Build vs. Buy vs. Open-Source")
    assert verta.publisher == "Manasi Vartak, Verta"
    assert "When to Build ML Infrastructure In-House?" in [h.text for h in verta.headings]


def test_a_cleaned_offset_locates_the_line_and_column_of_the_source_file() -> None:
    doc = load_corpus(kb_at(PROJECT_ROOT), only=[VERTA]).get(VERTA)
    at = doc.text.index("The strongest reason to buy")
    loc = doc.locate(at)
    source_lines = (SHIPPED / doc.id).read_text(encoding="utf-8").split("\n")
    assert source_lines[loc.line - 1][loc.column - 1:].startswith("The strongest reason to buy")
    assert loc.path.endswith(doc.id) and loc.page is None


def test_lines_run_together_are_split_and_product_names_are_not(tmp_path: Path) -> None:
    paths = kb_with(tmp_path, {"a.txt": "Intro line.\n\nTry Verta todayArtificial intelligence is broad. "
                                        "PyTorch, TensorFlow, OpenAI and ModelDB stay whole.\n"})
    doc = load_corpus(paths).get("a.txt")
    assert doc.text.split("\n")[-1].startswith("Artificial intelligence is broad.")
    assert "Try Verta today" not in doc.text
    assert "PyTorch, TensorFlow, OpenAI and ModelDB stay whole." in doc.text
    assert_maps_back(doc)


def test_html_drops_scripts_navigation_and_pixels_keeps_headings_and_offsets(tmp_path: Path) -> None:
    html = """<!doctype html><html><head><title>Vendor page</title><script>var x = "<p>no</p>";</script>
<style>p { color: red }</style></head><body><nav><a href="/">Home</a> | <a href="/b">Blog</a></nav>
<img height="1" width="1" style="display:none;" src="https://px.example/collect?pid=1&amp;fmt=gif">
<h2>Licensing   terms</h2>
<p>Our platform is sold per seat &amp; per year.
   Support answers within four hours.</p>
<p>Subscribe To Our Blog</p>
<footer>Copyright</footer></body></html>"""
    paths = kb_with(tmp_path, {"v.html": html})
    doc = load_corpus(paths).get("v.html")
    assert doc.format == "html"
    assert doc.text == ("Licensing terms\n\nOur platform is sold per seat & per year. Support answers within "
                        "four hours.")
    assert [h.text for h in doc.headings] == ["Licensing terms"]
    at = doc.text.index("Support")
    assert html[doc.source_offset(at):].startswith("Support answers")
    assert html[doc.source_offset(doc.text.index("&")):].startswith("&amp;")
    assert_maps_back(doc)


def test_markdown_headings_become_sections_and_markup_is_removed(tmp_path: Path) -> None:
    md = ("# Platform notes\n\nIntro paragraph about **managed** services.\n\n## Pricing\n\n"
          "Costs are [listed here](https://example.com) per month. Discounts exist.\n")
    paths = kb_with(tmp_path, {"n.md": md})
    doc = load_corpus(paths).get("n.md")
    assert [h.text for h in doc.headings] == ["Platform notes", "Pricing"]
    assert "Intro paragraph about managed services." in doc.text
    assert "Costs are listed here per month." in doc.text
    assert md[doc.source_offset(doc.text.index("listed"))] == "l"
    passages = chunk(doc)
    assert any(p.heading == "Pricing" and p.text.startswith("Costs are") for p in passages)
    assert_maps_back(doc)


def test_pdf_text_is_extracted_with_pages(tmp_path: Path) -> None:
    paths = kb_with(tmp_path, {"r.pdf": make_pdf(["Open source licensing matters.",
                                                  "Managed platforms carry certifications."])})
    doc = load_corpus(paths).get("r.pdf")
    assert "Managed platforms carry certifications." in doc.text
    assert doc.locate(doc.text.index("Managed")).page == 2
    assert doc.locate(0).page == 1


def test_unreadable_files_are_refused_by_name_and_the_rest_loads(tmp_path: Path) -> None:
    paths = kb_with(tmp_path, {
        "good.txt": "A perfectly good document about open source licensing.\n",
        "latin1.txt": "Caf\xe9 notes".encode("latin-1"),
        "broken.pdf": b"%PDF-1.4 this is not really a pdf",
        "scan.pdf": make_pdf([""]),
        "slides.pptx": b"PK\x03\x04 zip bytes",
    })
    corpus = load_corpus(paths)
    assert [d.id for d in corpus.documents] == ["good.txt"]
    by_file = {Path(p.path).name: p.message for p in corpus.problems}
    assert set(by_file) == {"latin1.txt", "broken.pdf", "scan.pdf", "slides.pptx"}
    assert "not UTF-8" in by_file["latin1.txt"] and "0xe9" in by_file["latin1.txt"]
    assert "not a readable PDF" in by_file["broken.pdf"]
    assert "no text layer" in by_file["scan.pdf"]
    assert "unsupported format .pptx" in by_file["slides.pptx"]


def test_check_reports_unreadable_files_and_missing_or_dangling_metadata(tmp_path: Path) -> None:
    paths = kb_with(tmp_path, {"a.txt": "Some text here.\n", "bad.txt": b"\xff\xfe\x00\x00binary"})
    corpus = paths.corpus
    (corpus / "new.txt").write_text("An analyst dropped this in without provenance.\n", encoding="utf-8")
    with (corpus / "metadata.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  gone.txt:\n    title: Gone\n    publisher: Nobody\n  c.txt:\n    title: No publisher\n")
    messages = [str(p) for p in run_checks(paths, {"corpus"})]
    assert any("bad.txt" in m and "unreadable" in m for m in messages)
    assert any("new.txt" in m and "no provenance" in m for m in messages)
    assert any("metadata.yaml" in m and "gone.txt: no such document" in m for m in messages)
    assert any(re.search(r"metadata.yaml:\d+: documents/c.txt needs `publisher`", m)
               for m in messages), messages


def test_the_corpus_under_test_has_no_problems(kb_root: Path) -> None:
    assert check_corpus(kb_at(kb_root)) == []


def test_malformed_metadata_is_reported_with_its_line(tmp_path: Path) -> None:
    paths = kb_with(tmp_path, {"a.txt": "Text.\n"})
    (paths.corpus / "metadata.yaml").write_text("documents:\n  a.txt:\n    title: [unclosed\n", "utf-8")
    problems = check_corpus(paths)
    assert any(p.path.endswith("metadata.yaml") and p.line >= 3 and "YAML" in p.message for p in problems)


def test_every_passage_is_an_exact_slice_within_one_section(kb_root: Path) -> None:
    for doc in load_corpus(kb_at(kb_root)).documents:
        passages = chunk(doc)
        assert passages
        for p in passages:
            assert p.text == doc.text[p.start:p.end]
            assert p.text == p.text.strip() and len(p.text) <= 1200
            inside = [h for h in doc.headings if p.start <= h.start < p.end]
            assert not inside, (p.key, inside)
        # consecutive passages overlap or follow on; nothing of the document's prose is skipped
        covered = sum(len(s) for s in merge([(p.start, p.end) for p in passages]))
        body = len(doc.text) - sum(h.end - h.start for h in doc.headings)
        assert covered >= 0.95 * body - doc.text.count("\n")


def merge(spans: list[tuple[int, int]]) -> list[range]:
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] + 2:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [range(s, e) for s, e in out]


def test_abbreviations_do_not_end_sentences() -> None:
    text = "Use tools e.g. MLflow vs. DVC for tracking. Prices are per seat, etc. Then buy. Next one!"
    got = [text[s:e] for s, e in sentences(text)]
    assert got == ["Use tools e.g. MLflow vs. DVC for tracking.", "Prices are per seat, etc. Then buy.",
                   "Next one!"]


def doc_from(text: str) -> Document:
    mt = clean(MappedText.identity(text), Furniture(()))
    import numpy as np

    return Document("t.txt", Path("t.txt"), "T", "", "text", mt.text, plain_text_headings(mt.text), "0", text,
                    np.asarray(mt.source), True)


words = st.sampled_from("open source license vendor model data cost team build buy GPU risk".split())
sentence = st.lists(words, min_size=1, max_size=25).map(lambda ws: " ".join(ws).capitalize() + ".")
paragraph = st.lists(sentence, min_size=1, max_size=8).map(" ".join)
document = st.lists(paragraph, min_size=1, max_size=6).map("\n\n".join)


@settings(max_examples=60, deadline=None)
@given(document, st.integers(80, 800), st.integers(1, 5), st.integers(0, 2))
def test_chunking_invariants(text: str, max_chars: int, max_sentences: int, overlap: int) -> None:
    doc = doc_from(text)
    passages = chunk(doc, ChunkSettings(max_chars=max_chars, max_sentences=max_sentences, overlap=overlap))
    assert passages
    starts = [p.start for p in passages]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # always moving forward
    for p in passages:
        assert p.text == doc.text[p.start:p.end]
        assert len(sentences(doc.text, p.start, p.end)) <= max_sentences
    # every sentence of the document is in some passage
    for s, e in sentences(doc.text):
        assert any(p.start <= s and e <= p.end for p in passages)
    assert_maps_back(doc)


@pytest.mark.parametrize("line,expected", [("Definition and scope", True), ("In today’s Token:", False),
                                           ("  • Posts", False), ("This is a sentence.", False)])
def test_heading_shapes(line: str, expected: bool) -> None:
    text = f"Earlier paragraph ends here.\n\n{line}\n\n" + "A long paragraph of prose follows. " * 4
    assert (line.strip() in [h.text for h in plain_text_headings(text)]) is expected


def test_the_corpus_readme_documents_every_format_and_metadata_key() -> None:
    from kb.corpus.documents import FURNITURE_FILE, METADATA_FILE, SUPPORTED_SUFFIXES

    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    for word in sorted(SUPPORTED_SUFFIXES) + [METADATA_FILE, FURNITURE_FILE, "title:", "publisher:",
                                               "contributes:", "url:", "kb check", "kb index"]:
        assert f"`{word}" in readme or word in readme, word
    # The README's table of documents is checked by `kb check` (a row naming no file is a problem); a new
    # document needs no row there (see test_checks.py).


@pytest.mark.parametrize(("text", "says"), [
    ("documents: &a [*a]\n", "refers to itself"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "refused"),
    ("documents: !!python/object:os.system {}\n", "tag"),
    ("base: &b {title: T}\ndocuments:\n  a.txt:\n    <<: *b\n    publisher: P\n", "merge keys"),
    ("documents:\n  a.txt: {title: T, publisher: P, contributes: !!int nope}\n", "not a valid int"),
    ("documents:\n  a.txt: {title: 2026-13-45, publisher: P}\n", None),
])
def test_hostile_or_odd_yaml_in_analysts_files_is_a_problem_at_a_line_never_a_hang(
        tmp_path: Path, text: str, says: str | None) -> None:
    (tmp_path / "metadata.yaml").write_text(text, encoding="utf-8")
    entries, problems = load_metadata(tmp_path)
    if says is None:  # a date-like title stays the text as written
        assert problems == [] and entries["a.txt"].title == "2026-13-45"
        return
    assert problems and all(p.line >= 0 for p in problems)
    assert any(says in p.message for p in problems), problems
