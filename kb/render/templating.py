"""The template environments: HTML (autoescaped), Markdown (every value escaped) and plain text.

The one module that imports Jinja2. Templates live in `kb/render/templates/`; a layout change is an
edit there. In the HTML and Markdown environments every `{{ value }}` is escaped on the way out, so a
template can't forget to; a fixed piece of markup that must pass as it is is marked `Markup` (HTML) or
`Trusted` (Markdown) in Python, never in a template.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from kb.advisor.question import encodable
from kb.render import words

_ASCII_PUNCTUATION = frozenset("!\"#$%'()*+,-./:;=?@[\\]^_`{|}~")
_MARKUP = frozenset("\\`*_[]!#|~$")
"""What can start Markdown markup inside a line (emphasis, code, links, images, headings, tables, maths)."""


class Trusted(str):
    """Markdown written by OSCAR itself (a heading, emphasis around a fixed label): not escaped."""


def markdown_text(text: object, autolinks: bool = False) -> str:
    """Text that a Markdown renderer shows literally: no HTML, link, image, emphasis or (unless
    `autolinks`) autolink.

    `<`, `>`, `&` become entities; every other ASCII punctuation mark is backslash-escaped, which
    CommonMark allows for all of them and which also breaks `http://`, `www.` and e-mail autolinks. With
    `autolinks` (a decision record, read as a file as often as rendered) only the marks that can start
    markup are escaped, so the file stays readable; a bare address may then show as a link.
    Line breaks become spaces so a line can't start a heading, list or quote.
    """
    if isinstance(text, Trusted):
        return text
    return str(text).translate(_LINKS_KEPT if autolinks else _LITERAL)


def _markdown_table(escaped: frozenset[str]) -> dict[int, str]:
    """markdown_text's replacements as a str.translate table (a record's text is escaped character by character)."""
    table = {ord(ch): " " for ch in (*map(chr, range(32)), chr(127))}
    table.update({ord(ch): "\\" + ch for ch in escaped})
    table.update({ord("<"): "&lt;", ord(">"): "&gt;", ord("&"): "&amp;"})
    return table


_LITERAL = _markdown_table(_ASCII_PUNCTUATION)
_LINKS_KEPT = _markdown_table(_MARKUP)


def html_text(text: object) -> Markup:
    """HTML-escape any value (quotes too, so it is safe inside attributes)."""
    return Markup.escape(text)


def _number(value: object, places: int = 2) -> Trusted:
    """A number with `places` decimals (digits and a point: nothing to escape)."""
    return Trusted(f"{float(value):.{places}f}")  # type: ignore[arg-type]


def _code(value: object) -> Trusted:
    """A Markdown code span (ids, file:line, hashes): shown literally; a backtick can't end it early."""
    return Trusted("`" + " ".join(str(value).replace("`", "'").split()) + "`")


def _filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(
        value=words.value_text,
        source=words.source_text,
        option=words.option_label,
        versions=words.versions_text,
        number=_number,
        code=_code,
        could_change=words.could_change,
        use=words.use_text,
        strength=words.strength_text,
        css=words.css_name,
    )
    env.globals.update(KIND_HEADINGS=words.KIND_HEADINGS, OUTWEIGHED=words.OUTWEIGHED, why_steps=words.why_steps,
                       said_words=words.said_words)
    return env


@cache
def environment(kind: str) -> jinja2.Environment:
    """The environment for `html`, `markdown` (records), `chat` (Markdown messages) or `text` templates."""
    loader = jinja2.PackageLoader("kb.render", "templates")
    # Templates ship with the package and change only with it: no file-time check on every render
    # (`auto_reload`, 3% of a chat answer's CPU under load).
    common: dict[str, Any] = {"loader": loader, "undefined": jinja2.StrictUndefined, "keep_trailing_newline": True,
                              "trim_blocks": True, "lstrip_blocks": True, "auto_reload": False}
    if kind == "html":
        env = jinja2.Environment(autoescape=True, **common)
    elif kind == "markdown":  # a decision record
        env = jinja2.Environment(autoescape=False, finalize=lambda v: markdown_text(v, autolinks=True), **common)
    elif kind == "chat":  # a chat message: no autolinks either
        env = jinja2.Environment(autoescape=False, finalize=markdown_text, **common)
    elif kind == "text":
        env = jinja2.Environment(autoescape=False, **common)
    else:
        raise ValueError(f"no template environment {kind!r}")
    return _filters(env)


def render(kind: str, template: str, **context: Any) -> str:
    """Render `templates/<template>` in the `kind` environment."""
    return encodable(environment(kind).get_template(template).render(**context))
