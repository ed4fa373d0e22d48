"""Export a justification document: a decision record (Markdown, MADR headings), JSON, HTML, PROV-O.

Every exporter renders from the justification document (the JSON that `kb/schema/justification.schema.json`
describes) and nothing else, so an export made from a saved session equals one made at answer time, and
the same document renders byte-for-byte the same every time (stable order, no clocks).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from kb.vocab import OPTION_LABELS

Doc = dict[str, Any]

KIND_HEADINGS = (
    ("recommendation", "Recommendations"),
    ("obligation", "Obligations"),
    ("risk", "Risks"),
    ("note", "Notes"),
    ("question", "Open questions"),
)


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the justification document, as shipped in the package."""
    text = resources.files("kb").joinpath("schema/justification.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator() -> jsonschema.protocols.Validator:
    """One compiled validator: building it is most of the cost of a validation."""
    cls = jsonschema.validators.validator_for(schema())
    cls.check_schema(schema())
    return cls(schema())


def validate(doc: Doc) -> None:
    """Raise jsonschema.ValidationError when `doc` is not a well-formed justification."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(doc))
    if error is not None:
        raise error


def citations(doc: Doc) -> list[Doc]:
    """Every distinct citation of the document, ordered by its number."""
    seen: dict[int, Doc] = {}
    for conclusion in doc["conclusions"]:
        for cit in conclusion["citations"]:
            seen.setdefault(cit["n"], cit)
    return [seen[n] for n in sorted(seen)]


def digest(doc: Doc) -> str:
    """A content hash of the document: names it in PROV-O and in file names."""
    return hashlib.sha256(to_json(doc).encode("utf-8")).hexdigest()[:16]


# --- JSON ----------------------------------------------------------------------------------------------
def to_json(doc: Doc) -> str:
    """The document as canonical JSON (sorted keys, two-space indent)."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- Markdown (architecture decision record) --------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!<>|~])")


def md(text: object) -> str:
    """Escape text for Markdown so that user or corpus text can't become links, images or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def value_text(value: object) -> str:
    """A fact value for people: booleans as yes/no, a field dict as `name=value` pairs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={value_text(v)}" for k, v in sorted(value.items()))
    return str(value)


def describe_source(source: Mapping[str, Any], to_asker: bool = False) -> str:
    """Where a fact came from, in words (plain text: escape it where it is rendered): the question's words
    and characters, the profile's file and line, the ontology's file, line and triple, or the rule that
    derived it. `to_asker`: spoken to the asker ("your question"), as the chat does, not about them."""
    kind = source.get("kind")
    question = "your question" if to_asker else "the question"
    if kind == "question":
        where = f" (characters {source['start']}-{source['end']})" if "start" in source else ""
        quoted = f' "{source["text"]}"' if source.get("text") else ""
        return f"{question}{quoted}{where}{_how_read(source)}"
    if kind == "profile":
        line = f", line {source['line']}" if source.get("line") else ""
        return f"profile file {source.get('file', '')}{line}"
    if kind == "ontology":
        where = str(source.get("file", "ontology"))
        if source.get("line"):
            where += f":{source['line']}"
        triple = " ".join(source.get("triple") or [])
        return f"ontology {where}" + (f" ({triple})" if triple else "")
    if kind == "derived":
        return f"derived by rule {source.get('rule', '?')} from {', '.join(source.get('from_facts', [])) or 'no facts'}"
    if kind == "corpus":
        return f"corpus document {source.get('doc', '')}"
    if kind == "user":
        return "set by you" if to_asker else "set by the asker"
    return str(kind)


def _how_read(source: Mapping[str, Any]) -> str:
    """How the question's words were read, in words: ", read by the phrase at reader/phrases/x.yaml:12"."""
    how, via = source.get("how"), source.get("via")
    if not how or not via:
        return ""
    score = source.get("score")
    if how == "example":
        return f', read as like the example "{via}" (similarity {float(score or 0):.2f})'
    if how == "fuzzy":
        return f', read as a misspelling of "{via}"'
    if how == "pattern":
        return f", read by the phrase at {via}"
    if how == "quantity":
        return f", read as {via}"
    return ""


def reading_lines(doc: Doc) -> list[str]:
    """What was read of the latest question beyond its facts, for people: names not known, and facts said
    as a maybe (not taken). Plain text: escape it where it is rendered."""
    reading = doc.get("reading") or {}
    out: list[str] = []
    if reading.get("unknown"):
        names = ", ".join(f'"{n}"' for n in reading["unknown"])
        out.append(f"I don't know {names} yet, so nothing about {'it' if len(reading['unknown']) == 1 else 'them'}"
                   " is in this answer.")
    for h in reading.get("hedged", []):
        out.append(f'You said "{h["text"]}" as a maybe, so I did not take {h["field"].replace("_", " ")} '
                   f"= {value_text(h['value'])} as a fact.")
    return out


OUTWEIGHED = "its conditions held, but other options weighed more"
"""Why a rule that fired for an option not chosen did not carry the decision."""


def _cite_marks(conclusion: Doc) -> str:
    return "".join(f"[{c['n']}]" for c in conclusion["citations"])


def to_markdown(doc: Doc) -> str:
    """An architecture decision record with MADR's headings, numbered citations and a rule-trace appendix."""
    rec = doc["recommendation"]
    out: list[str] = []
    title = OPTION_LABELS[rec["option"]] if rec else "No recommendation"
    out.append(f"# Decision record: {md(title)}\n")
    out.append(f"- Record: `{digest(doc)}`")
    versions = ", ".join(f"{k} `{v}`" for k, v in sorted(doc["versions"].items()))
    out.append(f"- Knowledge versions: {versions}\n")
    out.append("## Context and Problem Statement\n")
    for turn in doc.get("turns") or [doc["question"]]:
        out.append(f"> {md(turn)}\n")
    out.extend(f"{md(line)}\n" for line in reading_lines(doc))
    out.append("Known facts:\n")
    for fact in doc["facts"]:
        out.append(f"- `{fact['id']}`: {md(value_text(fact['value']))} (from {md(describe_source(fact['source']))})")
    out.append("")
    out.append("## Considered Options\n")
    scores = rec["scores"] if rec else {}
    for option, label in OPTION_LABELS.items():
        score = f" (support {scores[option]:.2f})" if option in scores else ""
        out.append(f"- {md(label)}{score}")
    out.append("")
    out.append("## Decision Outcome\n")
    if doc.get("abstention"):
        out.append(f"No decision: {md(doc['abstention'])}\n")
    elif rec:
        out.append(f"Chosen option: **{md(OPTION_LABELS[rec['option']])}**, strength {rec['strength']:.2f}.\n")
    else:
        out.append("No rule recommends an option for the facts known so far.\n")
    for conclusion in doc["conclusions"]:
        if conclusion["kind"] == "recommendation":
            out.append(f"- {md(conclusion['statement'])} {_cite_marks(conclusion)}")
    out.append("")
    out.append("### Consequences\n")
    for kind, heading in KIND_HEADINGS[1:]:
        items = [c for c in doc["conclusions"] if c["kind"] == kind]
        if not items:
            continue
        out.append(f"#### {heading}\n")
        for c in items:
            out.append(f"- {md(c['statement'])} {_cite_marks(c)}")
        out.append("")
    if doc["missing"]:
        out.append("### Still to be answered\n")
        for m in doc["missing"]:
            flag = " (could change the decision)" if m.get("decisive") else ""
            out.append(f"- {md(m['question'])}{flag}")
        out.append("")
    out.append("## Options Not Chosen\n")
    if not doc["why_not"]:
        out.append("None were weighed.\n")
    for entry in doc["why_not"]:
        out.append(f"### {md(OPTION_LABELS[entry['option']])}\n")
        if not entry["rules"]:
            out.append("- No rule recommends this option.")
        for r in entry["rules"]:
            rule = r["rule"]
            failed = "; ".join(r["failed"]) or OUTWEIGHED
            out.append(f"- rule `{rule['id']}` ({rule['file']}:{rule['line']}): {md(failed)}")
        out.append("")
    out.append("## References\n")
    for cit in citations(doc):
        heading = f", {cit['heading']}" if cit.get("heading") else ""
        out.append(
            f"{cit['n']}. *{md(cit['title'])}*{md(heading)} (`{cit['doc']}`, characters "
            f"{cit['start']}-{cit['end']}, score {cit['score']:.2f}): \"{md(cit['text'])}\""
        )
    out.append("")
    out.append("## Appendix: Rule Trace\n")
    for c in doc["conclusions"]:
        rule = c["rule"]
        out.append(f"- `{c['id']}` ({c['kind']}) by rule `{rule['id']}` at {rule['file']}:{rule['line']}, "
                   f"because {', '.join(f'`{f}`' for f in c['because']) or 'no facts'}")
    return "\n".join(out).rstrip() + "\n"


# --- HTML ------------------------------------------------------------------------------------------------
def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem}
.kind{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:#555}
blockquote{margin:.3rem 0 .8rem 0;padding:.4rem .8rem;border-left:3px solid #c9a400;background:#fffbea}
mark{background:#ffe98a}code{font-size:.9em}table{border-collapse:collapse}
td,th{padding:.2rem .6rem;border:1px solid #ddd}
"""


def to_html(doc: Doc) -> str:
    """A self-contained HTML page (no scripts, no outside resources); every string is escaped."""
    rec = doc["recommendation"]
    title = OPTION_LABELS[rec["option"]] if rec else "No recommendation"
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Decision record: {_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Decision record: {_e(title)}</h1>",
        f"<p class=\"kind\">record {_e(digest(doc))}</p>",
        "<h2>Question</h2>",
    ]
    for turn in doc.get("turns") or [doc["question"]]:
        parts.append(f"<blockquote>{_e(turn)}</blockquote>")
    parts.extend(f"<p>{_e(line)}</p>" for line in reading_lines(doc))
    if doc.get("abstention"):
        parts.append(f"<p><strong>No decision:</strong> {_e(doc['abstention'])}</p>")
    elif rec:
        parts.append(f"<p><strong>Recommendation:</strong> {_e(OPTION_LABELS[rec['option']])} "
                     f"(strength {rec['strength']:.2f})</p>")
    for kind, heading in KIND_HEADINGS:
        items = [c for c in doc["conclusions"] if c["kind"] == kind]
        if not items:
            continue
        parts.append(f"<h2>{_e(heading)}</h2><ul>")
        for c in items:
            marks = "".join(f'<a href="#cite-{n}">[{n}]</a>' for n in (x["n"] for x in c["citations"]))
            rule = c["rule"]
            parts.append(
                f"<li id=\"{_e(c['id'])}\">{_e(c['statement'])} {marks}<br><span class=\"kind\">rule "
                f"<code>{_e(rule['id'])}</code> ({_e(rule['file'])}:{rule['line']}) because "
                f"{_e(', '.join(c['because']))}</span></li>"
            )
        parts.append("</ul>")
    if doc["missing"]:
        parts.append("<h2>Still to be answered</h2><ul>")
        parts.extend(f"<li>{_e(m['question'])}</li>" for m in doc["missing"])
        parts.append("</ul>")
    if doc["why_not"]:
        parts.append("<h2>Options not chosen</h2>")
        for entry in doc["why_not"]:
            parts.append(f"<h3>{_e(OPTION_LABELS[entry['option']])}</h3><ul>")
            if not entry["rules"]:
                parts.append("<li>No rule recommends this option.</li>")
            for r in entry["rules"]:
                failed = "; ".join(r["failed"]) or OUTWEIGHED
                parts.append(f"<li><code>{_e(r['rule']['id'])}</code>: {_e(failed)}</li>")
            parts.append("</ul>")
    parts.append("<h2>Facts</h2><table><tr><th>fact</th><th>value</th><th>source</th></tr>")
    for fact in doc["facts"]:
        parts.append(f"<tr><td><code>{_e(fact['id'])}</code></td><td>{_e(value_text(fact['value']))}</td>"
                     f"<td>{_e(describe_source(fact['source']))}</td></tr>")
    parts.append("</table><h2>References</h2><ol>")
    for cit in citations(doc):
        heading = f", {cit['heading']}" if cit.get("heading") else ""
        parts.append(
            f"<li id=\"cite-{cit['n']}\" value=\"{cit['n']}\"><em>{_e(cit['title'])}</em>{_e(heading)} "
            f"(<code>{_e(cit['doc'])}</code>, characters {cit['start']}&ndash;{cit['end']}, "
            f"score {cit['score']:.2f})<blockquote><mark>{_e(cit['text'])}</mark></blockquote></li>"
        )
    versions = ", ".join(f"{k} {v}" for k, v in sorted(doc["versions"].items()))
    parts.append(f"</ol><p class=\"kind\">knowledge versions: {_e(versions)}</p></body></html>")
    return "\n".join(parts) + "\n"


# --- PROV-O ----------------------------------------------------------------------------------------------
def to_prov(doc: Doc, fmt: str = "turtle") -> str:
    """A PROV-O graph: conclusions are entities generated by rule activities that used facts and passages."""
    from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef

    from kb.vocab import OSCAR

    prov = Namespace("http://www.w3.org/ns/prov#")
    base = f"urn:oscar:record:{digest(doc)}:"
    g = Graph()
    g.bind("prov", prov)
    g.bind("oscar", OSCAR)

    def node(kind: str, ident: str) -> URIRef:
        return URIRef(base + kind + ":" + re.sub(r"[^A-Za-z0-9._~:-]", "_", ident))

    record = URIRef(base.rstrip(":"))
    g.add((record, RDF.type, prov.Entity))
    g.add((record, RDF.type, OSCAR.DecisionRecord))
    g.add((record, RDFS.label, Literal(doc["question"])))
    for fact in doc["facts"]:
        f = node("fact", fact["id"])
        g.add((f, RDF.type, prov.Entity))
        g.add((f, RDFS.label, Literal(f"{fact['id']}: {value_text(fact['value'])}")))
        g.add((f, OSCAR.sourceKind, Literal(fact["source"]["kind"])))
        if fact["source"]["kind"] == "derived" and fact["source"].get("rule"):
            act = node("derivation", fact["id"])
            g.add((act, RDF.type, prov.Activity))
            g.add((act, prov.used, node("rule", fact["source"]["rule"])))
            g.add((f, prov.wasGeneratedBy, act))
            for src in fact["source"].get("from_facts", []):
                g.add((act, prov.used, node("fact", src)))
                g.add((f, prov.wasDerivedFrom, node("fact", src)))
    for cit in citations(doc):
        p = node("passage", f"{cit['doc']}:{cit['start']}-{cit['end']}")
        g.add((p, RDF.type, prov.Entity))
        g.add((p, OSCAR.document, Literal(cit["doc"])))
        g.add((p, OSCAR.start, Literal(cit["start"], datatype=XSD.integer)))
        g.add((p, OSCAR.end, Literal(cit["end"], datatype=XSD.integer)))
        g.add((p, prov.value, Literal(cit["text"])))
    for c in doc["conclusions"]:
        e = node("conclusion", c["id"])
        rule = node("rule", c["rule"]["id"])
        act = node("activation", c["id"])
        g.add((e, RDF.type, prov.Entity))
        g.add((e, RDF.type, OSCAR.Conclusion))
        g.add((e, OSCAR.kind, Literal(c["kind"])))
        g.add((e, RDFS.label, Literal(c["statement"])))
        g.add((e, prov.wasGeneratedBy, act))
        g.add((e, prov.hadPrimarySource, record))
        g.add((act, RDF.type, prov.Activity))
        g.add((rule, RDF.type, prov.Plan))
        g.add((rule, RDFS.label, Literal(f"{c['rule']['id']} ({c['rule']['file']}:{c['rule']['line']})")))
        g.add((act, OSCAR.rule, rule))
        for fid in c["because"]:
            g.add((act, prov.used, node("fact", fid)))
            g.add((e, prov.wasDerivedFrom, node("fact", fid)))
        for cit in c["citations"]:
            p = node("passage", f"{cit['doc']}:{cit['start']}-{cit['end']}")
            g.add((act, prov.used, p))
            g.add((e, prov.wasDerivedFrom, p))
    out = g.serialize(format=fmt)
    return out if isinstance(out, str) else out.decode("utf-8")


FORMATS: dict[str, tuple[str, Callable[[Doc], str]]] = {
    "md": (".md", to_markdown),
    "json": (".json", to_json),
    "html": (".html", to_html),
    "prov": (".prov.ttl", to_prov),
}


def export(doc: Doc, fmt: str) -> tuple[str, str]:
    """(file name, content) of `doc` in `fmt` (one of FORMATS); the name is safe on any file system."""
    validate(doc)
    suffix, render = FORMATS[fmt]
    option = doc["recommendation"]["option"] if doc["recommendation"] else "no-decision"
    return f"oscar-decision-{option}-{digest(doc)}{suffix}", render(doc)


def export_all(doc: Doc, formats: Iterable[str] = FORMATS) -> dict[str, tuple[str, str]]:
    """Every requested format of `doc`: fmt -> (file name, content)."""
    return {fmt: export(doc, fmt) for fmt in formats}
