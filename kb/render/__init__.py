"""Rendering an answer: the terminal text, the decision records (Markdown, JSON, HTML, PROV-O) and the
chat's panels, each from the typed `Answer` and nothing else.

One module per format; templates in `templates/` (Jinja2, the only place that imports it is
`templating`); `words` says how a value, a fact's source or an option reads. An export made from a saved
document equals one made at answer time, and the same answer renders byte for byte the same every time
(stable order, no clocks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kb.model.answer import Answer

FORMATS: dict[str, str] = {"md": ".md", "json": ".json", "html": ".html", "prov": ".prov.ttl"}
"""Export formats and their file suffixes."""

MEDIA: dict[str, str] = {"md": "text/markdown; charset=utf-8", "json": "application/json",
                         "html": "text/html; charset=utf-8", "prov": "text/turtle; charset=utf-8"}
"""Each export format's media type, as served for download."""

LABELS: dict[str, str] = {"md": "Decision record (.md)", "json": "Justification (.json)",
                          "html": "Web page (.html)", "prov": "Provenance (PROV-O .ttl)"}
"""How a download of each format is offered."""


def renderer(fmt: str) -> Callable[[Answer], str]:
    """The function that renders `fmt` (imported when first used: PROV-O needs rdflib)."""
    if fmt == "md":
        from kb.render.markdown import to_markdown

        return to_markdown
    if fmt == "json":
        from kb.render.jsondoc import to_json

        return to_json
    if fmt == "html":
        from kb.render.html import to_html

        return to_html
    if fmt == "prov":
        from kb.render.prov import to_prov

        return to_prov
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def export(answer: Answer, fmt: str) -> tuple[str, str]:
    """(file name, content) of `answer` in `fmt` (one of FORMATS); the name is safe on any file system."""
    from kb.render.jsondoc import digest

    render = renderer(fmt)
    return f"oscar-decision-{answer.option or 'no-decision'}-{digest(answer)}{FORMATS[fmt]}", render(answer)


def export_all(answer: Answer, formats: Iterable[str] = FORMATS) -> dict[str, tuple[str, str]]:
    """Every requested format of `answer`: fmt -> (file name, content)."""
    return {fmt: export(answer, fmt) for fmt in formats}
