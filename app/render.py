"""Rendering a justification document for the chat: the answer message, sources, "why?", "why not?", facts.

Everything here is a pure function of the justification document (and, for the sources panel, of the
passage's surrounding text and provenance), returning a string. Every string that comes from the asker
or the corpus is escaped where it is put in: HTML panels get `html.escape`, the chat message (which the
browser renders as Markdown) gets `markdown_text`, which leaves no tag, link, image or autolink possible.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kb.export import OUTWEIGHED, describe_source, digest, reading_lines, value_text
from kb.vocab import OPTION_LABELS

Doc = dict[str, Any]

KIND_HEADINGS = (
    ("recommendation", "Reasons"),
    ("obligation", "Obligations"),
    ("risk", "Risks"),
    ("note", "Notes"),
    ("question", "Open questions"),
)
CONTEXT_CHARS = 160
"""Characters of the document shown on each side of a cited span."""

_ASCII_PUNCTUATION = frozenset("!\"#$%'()*+,-./:=?@[\\]^_`{|}~")


def e(text: object) -> str:
    """HTML-escape any value (quotes too, so it is safe inside attributes)."""
    return html.escape(str(text), quote=True)


def markdown_text(text: object) -> str:
    """Text that a Markdown renderer shows literally: no HTML, link, image, emphasis or autolink.

    `<`, `>`, `&` become entities; every other ASCII punctuation mark is backslash-escaped, which
    CommonMark allows for all of them and which also breaks `http://`, `www.` and e-mail autolinks.
    Line breaks become spaces so a line can't start a heading, list or quote.
    """
    out: list[str] = []
    for ch in str(text):
        if ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "&":
            out.append("&amp;")
        elif ch in _ASCII_PUNCTUATION:
            out.append("\\" + ch)
        elif ch in "\r\n\t\f\v" or (ord(ch) < 32) or ord(ch) == 127:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def option_label(option: str | None) -> str:
    return OPTION_LABELS.get(str(option), str(option))


def citations(doc: Doc) -> list[Doc]:
    """Every distinct citation of the document, ordered by its number."""
    seen: dict[int, Doc] = {}
    for conclusion in doc.get("conclusions", []):
        for cit in conclusion.get("citations", []):
            seen.setdefault(int(cit["n"]), cit)
    return [seen[n] for n in sorted(seen)]


def source_text(source: Mapping[str, Any]) -> str:
    """Where a fact came from, in words, spoken to the asker (plain text: escape it where it is rendered)."""
    return describe_source(source, to_asker=True)


# --- the chat message ----------------------------------------------------------------------------------
def _marks(conclusion: Doc) -> str:
    return "".join(f"\\[{int(c['n'])}\\]" for c in conclusion.get("citations", []))


def _stance(conclusion: Doc) -> str:
    """For a recommendation: which option it argues for or against, and how strongly."""
    if conclusion.get("kind") != "recommendation" or not conclusion.get("option"):
        return ""
    weight = float(conclusion.get("strength") or 0.0)
    side = "against" if weight < 0 else "for"
    return f" *({side} {markdown_text(option_label(conclusion['option']).lower())}, {abs(weight):.2f})*"


def chat_message(doc: Doc) -> str:
    """The answer as a Markdown message: recommendation, obligations, risks, notes, questions, citations.

    Only fixed labels carry Markdown; every statement, title and question is passed through `markdown_text`.
    """
    out: list[str] = [f"*{markdown_text(line)}*\n" for line in reading_lines(doc)]
    rec = doc.get("recommendation")
    if doc.get("abstention"):
        out.append(markdown_text(doc["abstention"]))
    elif rec:
        out.append(f"**Recommendation: {markdown_text(option_label(rec['option']))}** "
                   f"(strength {float(rec['strength']):.2f})")
    else:
        out.append("**No recommendation yet** for the facts known so far.")
    for kind, heading in KIND_HEADINGS:
        if kind == "question" and doc.get("missing"):
            continue  # the same questions follow, most decisive first, under "I still need to know"
        items = [c for c in doc.get("conclusions", []) if c["kind"] == kind]
        if not items:
            continue
        out.append(f"\n**{heading}**\n")
        for c in items:
            out.append(f"- {markdown_text(c['statement'])} {_marks(c)}{_stance(c)}".rstrip())
    if doc.get("missing"):
        out.append("\n**I still need to know**\n")
        for m in doc["missing"]:
            flag = " *(could change the recommendation)*" if m.get("decisive") else ""
            out.append(f"- {markdown_text(m['question'])}{flag}")
    return "\n".join(out).strip()


def user_message(question: str) -> str:
    """The asker's own question, shown literally."""
    return markdown_text(question)


# --- sources panel -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PassageContext:
    """What the corpus says around a cited span, and where the document comes from."""

    before: str
    after: str
    publisher: str = ""
    url: str = ""
    location: str = ""
    """`path:line` of the span's first character in the source file (`, page N` for a PDF)."""


ContextLookup = Callable[[Doc], PassageContext | None]


def sources_html(doc: Doc | None, context: ContextLookup | None = None) -> str:
    """Each cited passage with its span highlighted in the surrounding text, its title and provenance."""
    if not doc:
        return '<div class="oscar-empty">Ask a question to see the passages the answer rests on.</div>'
    cits = citations(doc)
    if not cits:
        return '<div class="oscar-empty">No passage in the corpus supports this answer well enough to cite.</div>'
    parts = ['<div class="oscar-sources">']
    for cit in cits:
        ctx = context(cit) if context is not None else None
        n = int(cit["n"])
        heading = f' &middot; <span class="oscar-heading">{e(cit["heading"])}</span>' if cit.get("heading") else ""
        meta = [f"<code>{e(cit['doc'])}</code>", f"characters {int(cit['start'])}&ndash;{int(cit['end'])}",
                f"support {float(cit['score']):.2f}"]
        if ctx is not None:
            if ctx.publisher:
                meta.insert(0, f"published by {e(ctx.publisher)}")
            if ctx.location:
                meta.append(f"source <code>{e(ctx.location)}</code>")
            if ctx.url:
                # Shown as text, not a link: the app makes no request to, and offers no click to, outside addresses.
                meta.append(f"<span class=\"oscar-url\">{e(ctx.url)}</span>")
        before = f"&hellip;{e(ctx.before)}" if ctx is not None and ctx.before else ""
        after = f"{e(ctx.after)}&hellip;" if ctx is not None and ctx.after else ""
        parts.append(
            f'<div class="oscar-cite" id="oscar-cite-{n}" data-n="{n}">'
            f'<div class="oscar-cite-head"><span class="oscar-n">[{n}]</span> '
            f"<strong>{e(cit['title'])}</strong>{heading}</div>"
            f'<div class="oscar-meta">{" &middot; ".join(meta)}</div>'
            f'<blockquote class="oscar-passage">{before}<mark>{e(cit["text"])}</mark>{after}</blockquote></div>'
        )
    parts.append("</div>")
    return "".join(parts)


# --- why? -----------------------------------------------------------------------------------------------
def _fact_tree(fid: str, facts: Mapping[str, Doc], seen: frozenset[str] = frozenset()) -> str:
    fact = facts.get(fid)
    if fact is None:
        return f"<li><code>{e(fid)}</code> <span class=\"oscar-meta\">(not in the record)</span></li>"
    src = fact.get("source", {})
    said = source_text(src) if src.get("kind") == "derived" else f"from {source_text(src)}"
    body = (f"<li><code>{e(fid)}</code> = {e(value_text(fact.get('value', {})))} "
            f"<span class=\"oscar-from\">{e(said)}</span>")
    parents = [p for p in src.get("from_facts", []) if p not in seen] if src.get("kind") == "derived" else []
    if parents:
        body += "<ul>" + "".join(_fact_tree(p, facts, seen | {fid}) for p in parents) + "</ul>"
    return body + "</li>"


def why_html(doc: Doc | None) -> str:
    """Each conclusion's derivation: the rule (file and line), the facts and where each came from."""
    if not doc:
        return '<div class="oscar-empty">Ask a question; each conclusion\'s reasons appear here.</div>'
    conclusions = doc.get("conclusions", [])
    if not conclusions:
        reason = doc.get("abstention") or "no rule applies to the facts known so far"
        return f'<div class="oscar-empty">No conclusions: {e(reason)}.</div>'
    facts = {f["id"]: f for f in doc.get("facts", [])}
    parts = ['<div class="oscar-why">']
    for c in conclusions:
        rule = c["rule"]
        title = f" &ldquo;{e(c['title'])}&rdquo;" if c.get("title") else ""
        option = f" &middot; {e(option_label(c['option']))}" if c.get("option") else ""
        strength = f" &middot; strength {float(c['strength']):.2f}" if c.get("strength") is not None else ""
        marks = " ".join(f"[{int(x['n'])}]" for x in c.get("citations", []))
        because = "".join(_fact_tree(fid, facts) for fid in c.get("because", [])) or "<li>no facts</li>"
        parts.append(
            f'<details class="oscar-derivation" id="oscar-why-{e(c["id"])}">'
            f'<summary><span class="oscar-kind">{e(c["kind"])}</span> {e(c["statement"])} {e(marks)}</summary>'
            f'<div class="oscar-rule">rule <code>{e(rule["id"])}</code>{title} at '
            f'<code>{e(rule["file"])}:{int(rule["line"])}</code>{option}{strength}</div>'
            f"<div>because:</div><ul>{because}</ul></details>"
        )
    parts.append("</div>")
    return "".join(parts)


# --- why not? -------------------------------------------------------------------------------------------
def why_not_html(doc: Doc | None) -> str:
    """For each option not chosen: the rules that would have recommended it and the condition that failed."""
    if not doc:
        return '<div class="oscar-empty">Ask a question; the options not chosen are explained here.</div>'
    entries = doc.get("why_not", [])
    if not entries:
        return '<div class="oscar-empty">No other option was weighed.</div>'
    parts = ['<div class="oscar-why-not">']
    for entry in entries:
        score = f" (support {float(entry['score']):.2f})" if entry.get("score") is not None else ""
        parts.append(f'<div class="oscar-option"><h4>{e(option_label(entry["option"]))}{score}</h4><ul>')
        if not entry.get("rules"):
            parts.append("<li>No rule recommends this option.</li>")
        for r in entry.get("rules", []):
            rule = r["rule"]
            title = f" &ldquo;{e(r['title'])}&rdquo;" if r.get("title") else ""
            failed = list(dict.fromkeys(r.get("failed") or []))  # alternatives can fail on the same test
            if failed:
                items = "".join(f"<li>{e(f)}</li>" for f in failed)
                reason = f"failed:<ul>{items}</ul>"
            else:
                reason = OUTWEIGHED
            parts.append(f"<li>rule <code>{e(rule['id'])}</code>{title} "
                         f"(<code>{e(rule['file'])}:{int(rule['line'])}</code>): {reason}</li>")
        parts.append("</ul></div>")
    parts.append("</div>")
    return "".join(parts)


# --- what if? -------------------------------------------------------------------------------------------
def what_if_html(field: str, value: object, doc: Doc, current: Doc | None) -> str:
    """The answer that would follow if one fact changed, and how its conclusions differ from the current ones."""
    rec = doc.get("recommendation")
    outcome = (f"<strong>{e(option_label(rec['option']))}</strong> (strength {float(rec['strength']):.2f})"
               if rec else "<strong>no recommendation</strong>")
    name = field.removeprefix("asker.").replace("_", " ")
    parts = [f'<div class="oscar-what-if"><p>If {e(name)} were <strong>{e(value_text(value))}</strong>, '
             f"the recommendation would be {outcome}.</p>"]
    before = {c["statement"] for c in (current or {}).get("conclusions", [])}
    after = {c["statement"] for c in doc.get("conclusions", [])}
    for title, items in (("It would add", sorted(after - before)), ("It would drop", sorted(before - after))):
        if items:
            parts.append(f"<div>{title}:</div><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
    parts.append("<p class=\"oscar-meta\">Your conversation is unchanged.</p></div>")
    return "".join(parts)


# --- facts, problems, status ------------------------------------------------------------------------------
def facts_html(doc: Doc | None) -> str:
    """Every fact the answer used (asked, read from a profile, from the ontology, derived) and its source."""
    if not doc or not doc.get("facts"):
        return '<div class="oscar-empty">No facts yet.</div>'
    rows = "".join(
        f"<tr><td><code>{e(f['id'])}</code></td><td>{e(value_text(f.get('value', {})))}</td>"
        f"<td>{e(source_text(f.get('source', {})))}</td></tr>"
        for f in doc["facts"]
    )
    return (f'<table class="oscar-facts"><thead><tr><th>fact</th><th>value</th><th>from</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def record_html(doc: Doc | None) -> str:
    """The answer's record id (the hash in its export files' names) and the knowledge versions behind it."""
    if not doc:
        return '<div class="oscar-empty">Nothing to export yet.</div>'
    return (f'<div class="oscar-meta">record <code class="oscar-digest">{e(digest(doc))}</code> &middot; '
            f"knowledge {e(versions_text(doc.get('versions', {})))}</div>")


def problems_html(problems: Iterable[object], ok: str = "") -> str:
    """Knowledge-base problems as `path:line: message`, one a line."""
    items = [str(p) for p in problems]
    if not items:
        return f'<div class="oscar-ok">{e(ok)}</div>' if ok else ""
    lines = "".join(f"<li><code>{e(p)}</code></li>" for p in items)
    return f'<div class="oscar-problems"><ul>{lines}</ul></div>'


def versions_text(versions: Mapping[str, object]) -> str:
    """Knowledge versions in one line (plain text)."""
    return ", ".join(f"{k} {str(v)[:12]}" for k, v in sorted(versions.items()))


CSS = """
.oscar-sources .oscar-cite{border:1px solid var(--border-color-primary);border-radius:6px;
  padding:.5rem .7rem;margin:.4rem 0}
.oscar-n{font-weight:700}
.oscar-meta,.oscar-from{font-size:.85em;opacity:.8}
.oscar-passage{margin:.4rem 0 0 0;padding:.3rem .6rem;border-left:3px solid #c9a400;white-space:pre-wrap}
.oscar-passage mark{background:#ffe98a;color:#1b1b1b;padding:0 .1em}
.oscar-kind{font-size:.75em;text-transform:uppercase;letter-spacing:.05em;opacity:.75}
.oscar-derivation{margin:.3rem 0;padding:.3rem .5rem;border:1px solid var(--border-color-primary);
  border-radius:6px}
.oscar-derivation summary{cursor:pointer}
.oscar-problems{color:#b00020}
.oscar-facts td,.oscar-facts th{padding:.15rem .4rem;text-align:left;vertical-align:top}
.oscar-empty{opacity:.7}
"""
