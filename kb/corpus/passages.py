"""Passages: sentence-aware, overlapping chunks of a cleaned document, each citable by character offsets.

A `Passage` always satisfies `passage.text == document.text[passage.start:passage.end]`, so a citation
can be shown and highlighted exactly; `Document.locate` maps the offsets on to the source file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from kb.corpus.documents import Document, Heading


@dataclass(frozen=True)
class Passage:
    """A span of a document: `text` is the cleaned document's `[start:end]`; `heading` is its section."""

    doc: str
    title: str
    heading: str
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        """A stable name for the passage: document id and offsets."""
        return f"{self.doc}:{self.start}-{self.end}"

    def index_text(self) -> str:
        """What the indexes see: the section heading gives a passage the context its sentences assume."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Passage:
        return Passage(str(data["doc"]), str(data["title"]), str(data["heading"]), int(data["start"]),
                       int(data["end"]), str(data["text"]))


@dataclass(frozen=True)
class Citation:
    """A passage offered as evidence, with its support score (higher is stronger; see kb.retrieval.search)."""

    passage: Passage
    score: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**self.passage.to_dict(), "score": round(self.score, 4)}


# Bump when the chunking code changes where passages start and end.
CHUNKER_VERSION = 3


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut: at most `max_sentences` and about `max_chars` a passage (one long sentence
    may exceed it), with `overlap` sentences repeated from the previous passage of the same section."""

    max_chars: int = 600
    max_sentences: int = 4
    overlap: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "version": CHUNKER_VERSION}


# A sentence ends at . ! ? (with closing quotes or brackets) before white space, or at a line break.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n")
# In hard-wrapped text (a licence's lines end mid-sentence) the unit is the paragraph: a blank line ends it;
# a paragraph longer than a passage is cut where a sentence or a list item ends (`.`, `;`, `:` at a line end).
_WRAPPED_SENTENCE_END = re.compile(r"\n[ \t]*\n")
_WRAPPED_LONG_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|(?<=[;:])[ \t]*\n")
WRAPPED_PARAGRAPH_CHARS = 600
# Words whose trailing full stop does not end a sentence.
_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "cf", "al", "dr", "mr", "mrs", "ms", "prof", "inc", "ltd", "co", "corp", "no",
    "fig", "approx", "u.s", "st", "jr", "sr", "incl", "resp", "dept", "est", "mt", "vol",
}


def sentences(text: str, start: int = 0, end: int | None = None, wrapped: bool = False) -> list[tuple[int, int]]:
    """Sentence spans of `text[start:end]` as absolute (start, end) offsets, white space trimmed. `wrapped`:
    the text is hard-wrapped, so a single line break does not end a sentence."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    if wrapped:
        out: list[tuple[int, int]] = []
        for s, e in _split(text, start, end, _WRAPPED_SENTENCE_END):
            out.extend(_split(text, s, e, _WRAPPED_LONG_END) if e - s > WRAPPED_PARAGRAPH_CHARS else [(s, e)])
        return out
    for m in _SENTENCE_END.finditer(text, start, end):
        if not m.group(0).startswith("\n"):
            word = re.search(r"([\w.]+)\.$", text[max(cursor, m.start() - 12):m.start() + 1])
            if word and word.group(1).lower() in _ABBREVIATIONS:
                continue
            # "1.9" or "U.S." style: a single capital before the stop is an initial, not a sentence
            if m.start() > 0 and re.match(r"(?<![\w])[A-Z]$", text[m.start() - 1:m.start()]) and \
                    (m.start() < 2 or not text[m.start() - 2].isalnum()):
                continue
        cut = m.end()
        _append_trimmed(text, cursor, cut, spans)
        cursor = cut
    _append_trimmed(text, cursor, end, spans)
    return spans


def _split(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in pattern.finditer(text, start, end):
        _append_trimmed(text, cursor, m.end(), spans)
        cursor = m.end()
    _append_trimmed(text, cursor, end, spans)
    return spans


def _append_trimmed(text: str, s: int, e: int, out: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append((s, e))


def _sections(doc: Document) -> Iterator[tuple[str, int, int]]:
    """(heading, body start, body end) for each section; text before the first heading has none."""
    headings: list[Heading] = sorted(doc.headings, key=lambda h: h.start)
    bounds = [(h.text, h.end, headings[i + 1].start if i + 1 < len(headings) else len(doc.text))
              for i, h in enumerate(headings)]
    first = headings[0].start if headings else len(doc.text)
    if first > 0:
        bounds.insert(0, ("", 0, first))
    for heading, start, end in bounds:  # a section is cut where something of the file was taken out
        inner = [c for c in doc.cuts if start < c < end]
        for s, e in zip([start, *inner], [*inner, end], strict=True):
            if doc.text[s:e].strip():
                yield heading, s, e


def chunk(doc: Document, settings: ChunkSettings | None = None) -> list[Passage]:
    """Cut a document into passages; passages never cross a section heading."""
    settings = settings or ChunkSettings()
    out: list[Passage] = []
    for heading, s, e in _sections(doc):
        sents = sentences(doc.text, s, e, wrapped=doc.wrapped)
        i = 0
        while i < len(sents):
            j = i + 1
            while (j < len(sents) and j - i < settings.max_sentences
                   and sents[j][1] - sents[i][0] <= settings.max_chars):
                j += 1
            start, end = sents[i][0], sents[j - 1][1]
            out.append(Passage(doc.id, doc.title, heading, start, end, doc.text[start:end]))
            if j >= len(sents):
                break
            # Step back `overlap` sentences, but always move forward. A hard-wrapped text is cut by paragraphs,
            # which stand on their own (a licence's clauses): no overlap.
            i = max(i + 1, j - (0 if doc.wrapped else settings.overlap))
    return out
