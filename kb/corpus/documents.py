"""Corpus ingestion: read the documents in corpus/ (text, Markdown, HTML, PDF), clean page furniture out,
and keep a map from every character of the cleaned text back to the source file.

Citations point at offsets of the cleaned text (`Document.text`); `Document.locate(offset)` turns one into
a place in the source: the character offset, line and column of the file (for a PDF, of the text pypdf
extracts, pages separated by form feeds) and the page. A file that can't be read becomes a `Problem`
and ingestion goes on with the rest.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import regex

from kb.config import Paths, inside
from kb.model.problems import Problem, display_path
from kb.yamlfile import TEXT, read_checked, read_mapping, validate

log = logging.getLogger("kb.corpus.documents")

# Bump when the cleaning code changes what text it produces: stored passages cut from older text are
# then no longer trusted by the index.
CLEANING_VERSION = 3
METADATA_FILE = "metadata.yaml"
FURNITURE_FILE = "furniture.yaml"
# Files in corpus/ that describe the corpus rather than belong to it.
NOT_DOCUMENTS = {"README.md", METADATA_FILE, FURNITURE_FILE}
TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES


# --------------------------------------------------------------------------------------------------
# Text with a map back to its source


@dataclass(frozen=True, eq=False)
class MappedText:
    """`text` and, for each of its characters (plus one past the end), the offset in the source text."""

    text: str
    source: np.ndarray  # int64, len(text) + 1

    @staticmethod
    def identity(text: str) -> MappedText:
        return MappedText(text, np.arange(len(text) + 1, dtype=np.int64))

    def edit(self, edits: Iterable[tuple[int, int, str]]) -> MappedText:
        """Replace each (start, end) span by its string; edits must not overlap.

        A replacement of the same length maps character for character; any other replacement maps all
        its characters to the start of the span it replaces.
        """
        parts: list[str] = []
        maps: list[np.ndarray] = []
        cursor = 0
        for start, end, repl in sorted(edits):
            if start < cursor:
                continue  # overlapping edit: the earlier one wins
            parts.append(self.text[cursor:start])
            maps.append(self.source[cursor:start])
            if repl:
                parts.append(repl)
                if len(repl) == end - start:
                    maps.append(self.source[start:end])
                else:
                    maps.append(np.full(len(repl), self.source[start], dtype=np.int64))
            cursor = end
        parts.append(self.text[cursor:])
        maps.append(self.source[cursor:])  # includes the end sentinel
        return MappedText("".join(parts), np.concatenate(maps))

    def sub(self, pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str]) -> MappedText:
        """Like `re.sub`, keeping the map."""
        edits = []
        for m in pattern.finditer(self.text):
            edits.append((m.start(), m.end(), repl(m) if callable(repl) else m.expand(repl)))
        return self.edit(edits) if edits else self


# --------------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class DocumentMeta:
    """Provenance of one document, from corpus/metadata.yaml."""

    title: str
    publisher: str
    contributes: str = ""
    url: str = ""
    not_evidence: tuple[str, ...] = ()
    sections: str = "headings"
    """How sections are found: `headings` (markup, or the plain-text heuristic) or `numbered` (a licence's
    numbered clauses: kb.corpus.licence_texts)."""


@dataclass(frozen=True)
class Heading:
    """A section heading of a cleaned document: its text and where it stands in `Document.text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SourceLocation:
    """A place in a source file: character offset and 1-based line/column; `page` for a PDF."""

    path: str
    offset: int
    line: int
    column: int
    page: int | None = None


@dataclass(frozen=True, eq=False)
class Document:
    """One ingested document: cleaned `text`, its headings, provenance, and the map back to `path`."""

    id: str
    path: Path
    title: str
    publisher: str
    format: str
    text: str
    headings: tuple[Heading, ...]
    content_hash: str  # sha256 of the file's bytes
    source_text: str
    source_offsets: np.ndarray = field(repr=False)
    url: str = ""
    """Where the document was published (corpus/metadata.yaml's optional `url`), shown as text."""
    has_metadata: bool = True
    not_evidence: tuple[str, ...] = ()
    """Headings and phrases of page furniture the text keeps (corpus/metadata.yaml): never cited."""
    wrapped: bool = False
    """The text is hard-wrapped (a licence's lines end mid-sentence): passages are cut at sentences and blank
    lines, not at every line break."""
    cuts: tuple[int, ...] = ()
    """Offsets of `text` where something of the file was taken out (furniture, a Markdown fence or rule): a
    passage never runs across one, so its span in the file holds its text and nothing else."""

    def citable(self, heading: str, text: str) -> bool:
        """Whether a passage of this document (its section heading and text) may be cited: not page furniture
        named by `not_evidence` (a heading it sits under, or a phrase it holds; case and spacing aside)."""
        if not self.not_evidence:
            return True
        folded_heading = " ".join(heading.split()).lower()
        folded = " ".join(text.split()).lower()
        return not any(mark.lower() == folded_heading or mark.lower() in folded for mark in self.not_evidence)

    def source_offset(self, offset: int) -> int:
        """The offset in `source_text` of the cleaned text's character at `offset` (end allowed)."""
        if not 0 <= offset <= len(self.text):
            raise IndexError(f"{self.id}: offset {offset} outside 0..{len(self.text)}")
        return int(self.source_offsets[offset])

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of `source_text` holding the cleaned text's `start:end` (and nothing after it)."""
        if end <= start:
            at = self.source_offset(start)
            return at, at
        return self.source_offset(start), self.source_offset(end - 1) + 1

    def locate(self, offset: int) -> SourceLocation:
        """Where the cleaned text's character at `offset` comes from in the source file."""
        src = self.source_offset(offset)
        before = self.source_text[:src]
        line = before.count("\n") + 1
        column = src - (before.rfind("\n") + 1) + 1
        page = before.count("\f") + 1 if self.format == "pdf" else None
        return SourceLocation(str(self.path), src, line, column, page)


@dataclass(frozen=True, eq=False)
class Corpus:
    """The documents that could be read, the problems of those that could not, and what they were read
    with (provenance and furniture), so the index can be brought up to date from this one reading."""

    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]
    metadata: dict[str, DocumentMeta] = field(default_factory=dict)
    furniture: Furniture | None = None

    def get(self, doc_id: str) -> Document:
        for doc in self.documents:
            if doc.id == doc_id:
                return doc
        raise KeyError(doc_id)


class UnreadableDocument(Exception):
    """A corpus file that can't be turned into text; the message says why."""


# --------------------------------------------------------------------------------------------------
# Metadata and furniture (analysts' data files)


METADATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["documents"],
    "additionalProperties": False,
    "properties": {"documents": {"type": "object", "additionalProperties": {
        "type": "object",
        "required": ["title", "publisher"],
        "additionalProperties": False,
        "properties": {
            "title": TEXT,
            "publisher": TEXT,
            "contributes": {"type": "string"},
            "url": {"type": "string"},
            "not_evidence": {"type": "array", "items": {"type": "string", "minLength": 3, "pattern": "\\S"}},
            "sections": {"enum": ["headings", "numbered"]},
        },
    }}},
}
"""corpus/metadata.yaml: every document's provenance (title and publisher; what it contributes; its URL), and
the page furniture it keeps in its text (`not_evidence`: section headings or phrases; a passage under such a
heading or holding such a phrase is never cited: an author's biography, a sign-off, advice to vendors)."""


def load_metadata(corpus_dir: Path) -> tuple[dict[str, DocumentMeta], list[Problem]]:
    """Provenance entries by file name, and the problems of corpus/metadata.yaml."""
    path = corpus_dir / METADATA_FILE
    problems: list[Problem] = []
    data = read_mapping(path, problems, "the corpus metadata",
                        "every corpus document needs a title and publisher here")
    if data is None or not validate(data, METADATA_SCHEMA, display_path(path), problems):
        good = data.get("documents") if data is not None else None
        if not isinstance(good, dict):
            return {}, problems
        # keep the entries that are well formed: one bad entry doesn't hide every document's provenance
        entries = {k: v for k, v in good.items() if isinstance(v, dict) and
                   isinstance(v.get("title"), str) and v["title"].strip() and
                   isinstance(v.get("publisher"), str) and v["publisher"].strip()}
    else:
        entries = dict(data["documents"])
    out = {str(name): DocumentMeta(
        title=str(entry["title"]).strip(), publisher=str(entry["publisher"]).strip(),
        contributes=str(entry.get("contributes") or "").strip(), url=str(entry.get("url") or "").strip(),
        not_evidence=tuple(" ".join(str(p).split()) for p in entry.get("not_evidence") or ()),
        sections=str(entry.get("sections") or "headings"))
        for name, entry in entries.items()}
    return out, problems


@dataclass(frozen=True)
class Furniture:
    """Patterns of page furniture to remove, from corpus/furniture.yaml."""

    patterns: tuple[regex.Pattern[str], ...]

    @property
    def fingerprint(self) -> str:
        """Changes whenever the patterns do, so passages cut under other rules are not trusted."""
        joined = "\n".join([f"cleaning {CLEANING_VERSION}"] + [p.pattern for p in self.patterns])
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


FURNITURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["patterns"],
    "additionalProperties": False,
    "properties": {"patterns": {"type": "array", "items": {
        "type": "object",
        "required": ["pattern"],
        "additionalProperties": False,
        "properties": {"pattern": {"type": "string", "minLength": 1}, "why": {"type": "string"}},
    }}},
}
"""corpus/furniture.yaml: regular expressions of page furniture to remove, each with why."""


FURNITURE_SECONDS = 2.0
"""Time one furniture pattern may take over one document. Analysts' patterns run on the `regex` module,
which takes a timeout (Python's `re` can't be stopped; RE2 is linear but has no lookarounds, which page
furniture patterns use): a pattern that backtracks catastrophically is stopped and reported, never hangs."""
_FURNITURE_PROBE = "".join(c * 48 + "!\n" for c in "aAxX0 -._=*#") + "Subscribe to our blog\n"
"""Runs of one character ended by another: where a backtracking pattern shows itself."""


def load_furniture(corpus_dir: Path) -> tuple[Furniture, list[Problem]]:
    """The furniture patterns of corpus/furniture.yaml (none if the file is absent) and its problems."""
    path = corpus_dir / FURNITURE_FILE
    shown = display_path(path)
    problems: list[Problem] = []
    data = read_checked(path, FURNITURE_SCHEMA, problems, "the furniture file")
    if data is None:
        return Furniture(()), problems
    compiled: list[regex.Pattern[str]] = []
    entries = data["patterns"]
    for i, entry in enumerate(entries):
        line = entries.item_lines[i]
        pattern = entry["pattern"]
        try:
            compiled.append(regex.compile(pattern, regex.MULTILINE))
        except (regex.error, ValueError, OverflowError) as exc:
            problems.append(Problem(shown, line, f"bad regular expression {pattern!r}: {exc}"))
            continue
        try:  # a pattern that backtracks catastrophically is caught here, before any document meets it
            compiled[-1].search(_FURNITURE_PROBE, timeout=FURNITURE_SECONDS)
        except TimeoutError:
            compiled.pop()
            problems.append(Problem(shown, line, f"the regular expression {pattern!r} takes longer than "
                                    f"{FURNITURE_SECONDS} s on a short test text (alternatives that overlap under a "
                                    "repetition, such as `(a|aa)+`?): refused"))
    return Furniture(tuple(compiled)), problems


# --------------------------------------------------------------------------------------------------
# Cleaning (shared by every format)

# A lowercase word running straight into a capitalised one ("todayArtificial"): two lines glued together.
# Product names (PyTorch, TensorFlow, ModelDB, OpenAI) start with a capital or end in capitals, so they
# don't match; a glued sentence end ("done.Next") does.
_RUN_TOGETHER_SPLIT = re.compile(r"(?<![A-Za-z])([a-z]{2,})(?=[A-Z][a-z]{2,})|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z]{2,})")
_NEWLINES = re.compile(r"\r\n?")
_ODD_SPACES = re.compile(r"[\u00a0\u2007\u202f\t]")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_INNER_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")


def _split_run_together(mt: MappedText) -> MappedText:
    edits: list[tuple[int, int, str]] = []
    for m in _RUN_TOGETHER_SPLIT.finditer(mt.text):
        cut = m.end(1) if m.group(1) else m.start()
        edits.append((cut, cut, "\n"))
    return mt.edit(edits) if edits else mt


def _remove_furniture(mt: MappedText, furniture: Furniture, cuts: list[int] | None = None) -> MappedText:
    """`mt` without the furniture; the source offset where each removed piece ended goes to `cuts`."""
    for pattern in furniture.patterns:
        edits: list[tuple[int, int, str]] = []
        text = mt.text
        try:
            found = list(pattern.finditer(text, timeout=FURNITURE_SECONDS))
        except TimeoutError:
            raise UnreadableDocument(f"the furniture pattern {pattern.pattern!r} took longer than "
                                     f"{FURNITURE_SECONDS} s on this document; fix corpus/furniture.yaml") from None
        for m in found:
            start, end = m.start(), m.end()
            if end == start:
                continue
            whole_line = (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
            if whole_line and end < len(text):
                end += 1  # take the line break with the line
            edits.append((start, end, ""))
            if cuts is not None:
                cuts.append(int(mt.source[end]))
        if edits:
            mt = mt.edit(edits)
    return mt


def clean(mt: MappedText, furniture: Furniture, cuts: list[int] | None = None) -> MappedText:
    """Normalise line breaks and spaces, split glued lines, remove furniture (the source offset after each
    removed piece goes to `cuts`), tidy blank lines."""
    mt = mt.sub(_NEWLINES, "\n")
    mt = mt.sub(_ODD_SPACES, " ")
    mt = _split_run_together(mt)
    mt = _remove_furniture(mt, furniture, cuts)
    mt = mt.sub(_TRAILING_SPACE, "")
    mt = mt.sub(_INNER_SPACES, " ")
    mt = mt.sub(_MANY_BLANK_LINES, "\n\n")
    lead = len(mt.text) - len(mt.text.lstrip())
    trail = len(mt.text.rstrip())
    return mt.edit([(0, lead, ""), (trail, len(mt.text), "")])


# --------------------------------------------------------------------------------------------------
# Headings in plain text (no markup to go by)

_BULLET = re.compile(r"^\s*([-*•–]|\d+[.)])\s")
_HEADING_MAX_WORDS = 16


def _looks_like_heading(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 100 or _BULLET.match(line) or line.startswith((" ", "\t")):
        return False
    if len(s.split()) > _HEADING_MAX_WORDS or not (s[0].isupper() or s[0].isdigit()):
        return False
    return s[-1] not in ".,;:!\"”'’" or s.endswith("!)")


def plain_text_headings(text: str) -> tuple[Heading, ...]:
    """Short title-like lines that open a section: preceded by a blank line or a finished sentence, and
    followed by prose (a long line, a finished sentence or a list)."""
    lines: list[tuple[int, str]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    out: list[Heading] = []
    for i, (start, line) in enumerate(lines):
        if not _looks_like_heading(line):
            continue
        prev = next((ln for _, ln in reversed(lines[:i]) if ln.strip()), None)
        prev_blank = i == 0 or not lines[i - 1][1].strip()
        if prev is not None and not prev_blank and prev.rstrip()[-1:] not in ".!?:)”\"":
            continue
        following = [ln for _, ln in lines[i + 1:] if ln.strip()]
        if not following:
            continue
        nxt = following[0].strip()
        # Prose must follow: a run of short unpunctuated lines is a table or a list, not a section.
        if not (len(nxt) >= 100 or nxt[-1] in ".!?:" or _BULLET.match(following[0])):
            continue
        s = line.strip()
        offset = start + (len(line) - len(line.lstrip()))
        out.append(Heading(offset, offset + len(s), s))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# Readers: file -> (source text, mapped text before cleaning, headings from markup, title from markup)


@dataclass
class _Raw:
    source_text: str
    mapped: MappedText
    heading_spans: list[tuple[int, int]]  # spans of `mapped.text` that are headings in the markup
    title: str = ""
    cuts: tuple[int, ...] = ()  # source offsets where a block of markup was removed (a fence, a rule)


def _decode(data: bytes, path: Path) -> str:
    if b"\x00" in data[:4096]:
        raise UnreadableDocument("binary file (contains NUL bytes), not text; convert it to .txt, .md, "
                                 ".html or .pdf")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} can't be decoded; "
            "save the file as UTF-8") from None


def _read_text(data: bytes, path: Path) -> _Raw:
    text = _decode(data, path)
    return _Raw(text, MappedText.identity(text), [])


_MD_HEADING_MARKS = re.compile(r"^ {0,3}#{1,6}[ \t]*|[ \t]+#+[ \t]*$")
_MD_INLINE = re.compile(
    r"!\[[^\]]*\]\([^)]*\)"  # images: dropped
    r"|\[([^\]]+)\]\([^)]*\)"  # links: keep the text
    r"|(\*\*|__)(?=\S)|(?<=\S)(\*\*|__)"  # strong emphasis markers
    r"|^ {0,3}>[ \t]?"  # block quote markers
    r"|<[^>\n]+>",  # inline HTML
    re.MULTILINE,
)


def _read_markdown(data: bytes, path: Path) -> _Raw:
    from markdown_it import MarkdownIt

    text = _decode(data, path)
    tokens = MarkdownIt("commonmark").parse(text)
    line_starts = [0]
    for m in re.finditer("\n", text):
        line_starts.append(m.end())
    line_starts.append(len(text) + 1)
    mt = MappedText.identity(text)
    edits: list[tuple[int, int, str]] = []
    heading_lines: list[int] = []
    setext_underlines: list[int] = []
    for tok in tokens:
        if tok.type == "heading_open" and tok.map:
            heading_lines.append(tok.map[0])
            if tok.markup in ("=", "-"):
                setext_underlines.append(tok.map[1] - 1)
        elif tok.type == "fence" and tok.map:
            # drop the fence lines, keep the code
            for ln in (tok.map[0], tok.map[1] - 1):
                s, e = line_starts[ln], min(line_starts[ln + 1], len(text))
                edits.append((s, e, ""))
        elif tok.type == "hr" and tok.map:
            s, e = line_starts[tok.map[0]], min(line_starts[tok.map[0] + 1], len(text))
            edits.append((s, e, ""))
    for ln in setext_underlines:
        s, e = line_starts[ln], min(line_starts[ln + 1], len(text))
        edits.append((s, e, ""))
    for ln in heading_lines:
        s, e = line_starts[ln], min(line_starts[ln + 1], len(text))
        for m in _MD_HEADING_MARKS.finditer(text[s:e].rstrip("\n")):
            edits.append((s + m.start(), s + m.end(), ""))
    cuts = tuple(sorted(e for _, e, _ in edits))  # a passage never runs across a removed fence or rule
    mt = mt.edit(edits)
    # Markup goes; a link's text stays where it was, so it keeps mapping to its own characters.
    inline: list[tuple[int, int, str]] = []
    for m in _MD_INLINE.finditer(mt.text):
        if m.group(1):
            inline += [(m.start(), m.start(1), ""), (m.end(1), m.end(), "")]
        else:
            inline.append((m.start(), m.end(), ""))
    mt = mt.edit(inline)
    # Heading spans: the lines the markup called headings, found again after the edits by their source line.
    spans: list[tuple[int, int]] = []
    src_line_of = np.searchsorted(np.asarray(line_starts), mt.source[:-1], side="right") - 1
    wanted = set(heading_lines)
    pos = 0
    for line in mt.text.split("\n"):
        if line.strip() and pos < len(src_line_of) and int(src_line_of[pos]) in wanted:
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    title = ""
    for tok_i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag == "h1":
            title = tokens[tok_i + 1].content.strip()
            break
    return _Raw(text, mt, spans, title, cuts)


_BLOCK_TAGS = {
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Elements that are page furniture wherever they appear.
_SKIP_TAGS = {"script", "style", "noscript", "nav", "footer", "header", "aside", "form", "button", "svg",
              "template", "iframe"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
              "wbr"}


class _HTMLText(HTMLParser):
    """Text of an HTML page with the source offset of every character (bs4 keeps no offsets for text)."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.chars: list[str] = []
        self.offsets: list[int] = []
        self.skip_depth = 0
        self.in_title = False
        self.title = ""
        self.heading_start: int | None = None
        self.heading_spans: list[tuple[int, int]] = []

    def _here(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _emit(self, text: str, offsets: Sequence[int]) -> None:
        if self.skip_depth:
            return
        self.chars.append(text)
        self.offsets.extend(offsets)

    def _break(self) -> None:
        if self.skip_depth:
            return
        self._emit("\x00", [self._here()])  # a block break, told apart from line breaks in the text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth += 1
        elif tag == "title":
            self.in_title = True
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag in _HEADING_TAGS and not self.skip_depth:
                self.heading_start = len(self.offsets)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "title":
            self.in_title = False
        elif tag in _BLOCK_TAGS:
            if tag in _HEADING_TAGS and self.heading_start is not None and not self.skip_depth:
                self.heading_spans.append((self.heading_start, len(self.offsets)))
                self.heading_start = None
            self._break()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        start = self._here()
        self._emit(data, range(start, start + len(data)))

    def _entity(self, raw: str, char: str) -> None:
        if self.in_title:
            self.title += char
            return
        self._emit(char, [self._here()] * len(char))

    def handle_entityref(self, name: str) -> None:
        import html

        self._entity(f"&{name};", html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        import html

        self._entity(f"&#{name};", html.unescape(f"&#{name};"))


_HTML_SPACE = re.compile(r"[ \t\r\n]+")


def _read_html(data: bytes, path: Path) -> _Raw:
    from bs4.dammit import UnicodeDammit

    if b"\x00" in data[:4096]:
        raise UnreadableDocument("binary file (contains NUL bytes), not HTML")
    dammit = UnicodeDammit(data, is_html=True)
    if dammit.unicode_markup is None:
        raise UnreadableDocument("can't tell the HTML file's character encoding; save it as UTF-8")
    source = dammit.unicode_markup
    parser = _HTMLText(source)
    try:
        parser.feed(source)
        parser.close()
    except Exception as exc:  # html.parser is lenient; anything it raises means the file is not HTML
        raise UnreadableDocument(f"not readable as HTML: {exc}") from None
    chars = "".join(parser.chars)
    offsets = np.asarray(parser.offsets + [len(source)], dtype=np.int64)
    # Whitespace inside text collapses to one space as a browser would; block breaks (NUL) become lines.
    mt = MappedText(chars, offsets)
    mt = mt.sub(_HTML_SPACE, " ")
    mt = mt.sub(re.compile(r" ?(\x00 ?)+"), lambda m: "\n\n" if m.group(0).count("\x00") > 1 else "\n")
    # Heading spans of the raw text, carried through the edits by offset.
    spans: list[tuple[int, int]] = []
    for s, e in parser.heading_spans:
        if e <= s:
            continue
        lo, hi = int(offsets[s]), int(offsets[e - 1])
        idx = np.nonzero((mt.source[:-1] >= lo) & (mt.source[:-1] <= hi))[0]
        if len(idx):
            spans.append((int(idx[0]), int(idx[-1]) + 1))
    return _Raw(source, mt, spans, " ".join(parser.title.split()))


def _read_pdf(data: bytes, path: Path) -> _Raw:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise UnreadableDocument("encrypted PDF; save an unencrypted copy")
            except (NotImplementedError, PyPdfError) as exc:
                raise UnreadableDocument(f"encrypted PDF that can't be opened ({exc})") from None
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = str(info.get("/Title") or "") if info is not None else ""
    except UnreadableDocument:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same here
        raise UnreadableDocument(f"not a readable PDF: {exc}") from None
    if not any(p.strip() for p in pages):
        raise UnreadableDocument("PDF has no text layer (a scan?); run OCR and add the text instead")
    source = "\f".join(pages)
    mt = MappedText.identity(source).sub(re.compile("\f"), "\n\n")
    return _Raw(source, mt, [], title.strip())


_READERS: dict[str, tuple[str, Callable[[bytes, Path], _Raw]]] = {
    **{s: ("text", _read_text) for s in TEXT_SUFFIXES},
    **{s: ("markdown", _read_markdown) for s in MARKDOWN_SUFFIXES},
    **{s: ("html", _read_html) for s in HTML_SUFFIXES},
    **{s: ("pdf", _read_pdf) for s in PDF_SUFFIXES},
}


def _headings_after_clean(raw: _Raw, mt: MappedText) -> tuple[Heading, ...]:
    if not raw.heading_spans:
        return plain_text_headings(mt.text)
    out: list[Heading] = []
    for s, e in raw.heading_spans:
        lo, hi = int(raw.mapped.source[s]), int(raw.mapped.source[e - 1])
        idx = np.nonzero((mt.source[:-1] >= lo) & (mt.source[:-1] <= hi))[0]
        if not len(idx):
            continue
        start, end = int(idx[0]), int(idx[-1]) + 1
        text = mt.text[start:end].strip()
        if text and "\n" not in text:
            start += mt.text[start:end].index(text)
            out.append(Heading(start, start + len(text), text))
    return tuple(out)


def document_files(corpus_dir: Path) -> list[Path]:
    """Every file of the corpus folder that is meant as a document (sorted; hidden files skipped)."""
    if not corpus_dir.is_dir():
        return []
    files = []
    for p in sorted(corpus_dir.rglob("*")):
        rel = p.relative_to(corpus_dir)
        if not p.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if len(rel.parts) == 1 and rel.name in NOT_DOCUMENTS:
            continue
        if not inside(p, corpus_dir):
            continue  # a link out of the folder is never read (kb check reports it)
        files.append(p)
    return files


def links_outside(corpus_dir: Path) -> list[Path]:
    """Files of the corpus folder that are links to somewhere outside it."""
    if not corpus_dir.is_dir():
        return []
    return sorted(p for p in corpus_dir.rglob("*") if p.is_symlink() and not inside(p, corpus_dir))


def document_id(corpus_dir: Path, path: Path) -> str:
    """A document's id: its path inside corpus/, with forward slashes."""
    return path.relative_to(corpus_dir).as_posix()


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_document(path: Path, corpus_dir: Path, meta: DocumentMeta | None, furniture: Furniture) -> Document:
    """Ingest one file. Raises UnreadableDocument with a reason an analyst can act on."""
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise UnreadableDocument(
            f"unsupported format {suffix or '(no extension)'}; use one of "
            f"{', '.join(sorted(SUPPORTED_SUFFIXES))}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(f"can't read the file: {exc.strerror or exc}") from None
    fmt, reader = _READERS[suffix]
    raw = reader(data, path)
    removed: list[int] = list(raw.cuts)
    mt = clean(raw.mapped, furniture, removed)
    if not mt.text.strip():
        raise UnreadableDocument("no text left after removing page furniture")
    if meta is not None and meta.sections == "numbered":
        from kb.corpus.licence_texts import clause_headings

        headings = clause_headings(mt.text)  # none found: one section (wrapped lines are no headings)
    else:
        headings = _headings_after_clean(raw, mt)
    if meta is not None:
        title, publisher = meta.title, meta.publisher
    else:
        first_line = next((ln.strip() for ln in mt.text.split("\n") if ln.strip()), "")
        title, publisher = raw.title or first_line[:120] or path.stem, ""
    doc_id = document_id(corpus_dir, path)
    return Document(
        id=doc_id, path=path, title=title, publisher=publisher, format=fmt, text=mt.text,
        headings=headings, content_hash=hashlib.sha256(data).hexdigest(), source_text=raw.source_text,
        source_offsets=mt.source, has_metadata=meta is not None, url=meta.url if meta is not None else "",
        not_evidence=meta.not_evidence if meta is not None else (),
        cuts=tuple(sorted({int(np.searchsorted(mt.source, c)) for c in removed} - {0, len(mt.text)})),
        wrapped=meta is not None and meta.sections == "numbered",
    )


def load_corpus(paths: Paths, only: Iterable[str] | None = None) -> Corpus:
    """Ingest the corpus folder: every readable document, and a Problem for each file that is not.

    `only`: ingest just these document ids (the index re-reads only what changed).
    """
    corpus_dir = paths.corpus
    metadata, _ = load_metadata(corpus_dir)  # its problems are `kb check`'s to report
    furniture, problems = load_furniture(corpus_dir)
    wanted = set(only) if only is not None else None
    docs: list[Document] = []
    for path in document_files(corpus_dir):
        doc_id = document_id(corpus_dir, path)
        if wanted is not None and doc_id not in wanted:
            continue
        try:
            docs.append(read_document(path, corpus_dir, metadata.get(doc_id), furniture))
        except UnreadableDocument as exc:
            log.info("skipping %s: %s", doc_id, exc)
            problems.append(Problem(display_path(path), 0, f"skipped, {exc}"))
    return Corpus(tuple(docs), tuple(problems), metadata, furniture)


def check_corpus(paths: Paths) -> list[Problem]:
    """`kb check` for the corpus: unreadable or unsupported files, documents without provenance in
    metadata.yaml, metadata entries naming no file, bad furniture patterns."""
    corpus_dir = paths.corpus
    if not corpus_dir.is_dir():
        return [Problem(display_path(corpus_dir), 0, "corpus folder is missing")]
    problems: list[Problem] = []
    metadata, meta_problems = load_metadata(corpus_dir)
    problems += meta_problems
    furniture, furniture_problems = load_furniture(corpus_dir)
    problems += furniture_problems
    for link in links_outside(corpus_dir):
        problems.append(Problem(display_path(link), 0, "a link to a file outside the corpus folder: refused, "
                                                       "copy the document into corpus/ instead"))
    ids = set()
    for path in document_files(corpus_dir):
        doc_id = document_id(corpus_dir, path)
        ids.add(doc_id)
        try:
            doc = read_document(path, corpus_dir, metadata.get(doc_id), furniture)
        except UnreadableDocument as exc:
            problems.append(Problem(display_path(path), 0, f"unreadable: {exc}"))
            continue
        folded = " ".join(doc.text.split()).lower()
        headings = {" ".join(h.text.split()).lower() for h in doc.headings}
        for mark in doc.not_evidence:
            if mark.lower() not in folded and mark.lower() not in headings:
                problems.append(Problem(display_path(corpus_dir / METADATA_FILE), 0,
                                        f"{doc_id}: not_evidence `{mark}` is neither a heading nor a phrase of "
                                        "the document (misspelt?)"))
        if doc_id not in metadata and (corpus_dir / METADATA_FILE).exists():
            problems.append(Problem(display_path(path), 0,
                                    f"no provenance: add `{doc_id}:` with title and publisher to {METADATA_FILE}"))
    meta_path = display_path(corpus_dir / METADATA_FILE)
    for name in sorted(set(metadata) - ids):
        problems.append(Problem(meta_path, 0, f"{name}: no such document in the corpus folder"))
    return sorted(problems)

