"""A stack reviewed component by component: each component's declared licence becomes licence facts (an
expression brought to its lightest option, a licence name found by its labels), the rules run once over the
whole stack with the asker's use, and every conclusion is filed under the component it is about, with the
clause its rule cites.

`kb stack FILE [--use distributed|network|internal] [--json]` prints the table (component, version, licence,
obligations and risks, where the file says it); the JSON carries the same rows.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kb.advisor.advise import named
from kb.graph.expressions import ExpressionError, burden_of, choose
from kb.graph.expressions import parse as parse_expression
from kb.model.facts import Fact, Scalar, Source
from kb.model.problems import Problem
from kb.stack.intake import Stack, read_stack

USES = {"distributed": {"distributes": True}, "network": {"network_service": True, "distributes": False},
        "internal": {"internal_only": True, "distributes": False, "network_service": False}}
"""How the stack is used, as the asker fields the licence rules test."""
_CLASSIFIER = "License :: OSI Approved :: "


@dataclass
class Finding:
    """One conclusion about a component: kind, what it says, the rule, and the clause it cites."""

    kind: str
    statement: str
    rule: str
    cites: str = ""


@dataclass
class Row:
    """A component's line in the review."""

    component: str
    version: str
    licence: str
    """The licence as declared (or "unknown")."""
    applies: str
    """The licences that apply, once an OR is chosen: SPDX ids joined by AND."""
    where: str
    licence_from: str
    findings: list[Finding] = field(default_factory=list)


@dataclass
class Review:
    """A reviewed stack: its file and format, how it is used, a row per component, and what was not read."""

    file: str
    format: str
    use: str
    rows: list[Row]
    problems: list[Problem]

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "format": self.format, "use": self.use,
                "components": [asdict(r) for r in self.rows],
                "problems": [{"file": p.path, "line": p.line, "message": p.message} for p in self.problems]}


def licence_ids(declared: str | None, resolve: Callable[[str], str | None],
                lookup: Callable[[str], Fact | None]) -> tuple[list[str], list[str]]:
    """(licence ids that apply, parts not understood) for a declared licence: an SPDX expression whose
    lightest option is taken, else names (a trove classifier, "MIT License") found by their labels."""
    if not declared:
        return [], []
    try:
        expr = parse_expression(declared)
        ids = {i for o in expr.options for i in o.licences}
        if all(lookup(i) is not None for i in ids):
            best, _ = choose(expr, burden_of(lookup))
            return list(expr.options[best].ids()), []
    except ExpressionError:
        pass
    found: list[str] = []
    unread: list[str] = []
    for part in declared.split(" AND "):
        name = part.strip("() ").removeprefix(_CLASSIFIER).removeprefix("License :: ")
        ident = resolve(name) if name else None
        if ident is not None and ident.startswith("license:"):
            found.append(ident)
        elif name:
            unread.append(name)
    return list(dict.fromkeys(found)), unread


def stack_facts(stack: Stack, ontology: Any, use: str) -> tuple[list[Fact], dict[str, int], list[list[str]]]:
    """The facts of a stack: the asker's use, a `component` fact per component and licence, and the
    ontology's facts about those licences; with each component fact's row and each row's licences."""
    facts = [Fact.make("asker", "asker", dict(USES[use]), Source(kind="user"))]
    rows: dict[str, int] = {}
    applies: list[list[str]] = []
    for n, comp in enumerate(stack.components):
        ids, _ = licence_ids(comp.licence, lambda label: ontology.resolve(label, "license"), ontology.fact)
        applies.append(ids)
        base: dict[str, Scalar] = {"name": comp.name, "version": comp.version or "", "source": comp.where,
                "expression": comp.licence or "", "licence_from": comp.licence_from}
        source = Source(kind="user", text=comp.where)
        if not ids:
            fid = f"component:{n}"
            facts.append(Fact.make(fid, "component", base, source))
            rows[fid] = n
        for ident in ids:
            fid = f"component:{n}/{ident.removeprefix('license:')}"
            facts.append(Fact.make(fid, "component", {**base, "license": ident}, source))
            rows[fid] = n
    licences = sorted({i for ids in applies for i in ids})
    seen = {f.id for f in facts}
    facts += [f for f in ontology.related(licences) if f.id not in seen]
    return facts, rows, applies


def review(kb: Any, stack: Stack, use: str = "distributed") -> Review:
    """Review a stack that was read: every component's licence duties for this use, each with its clause."""
    facts, rows, applies = stack_facts(stack, kb.ontology, use)
    consultation = kb.rules.consult(facts)
    out = [Row(c.name, c.version, c.licence or "unknown", " AND ".join(i.removeprefix("license:") for i in ids)
               or "unknown", c.where, c.licence_from) for c, ids in zip(stack.components, applies, strict=True)]
    clauses: dict[str, str] = {}
    for conclusion in consultation.conclusions:
        if conclusion.kind not in ("obligation", "risk", "question", "note"):
            continue
        owners = set()
        for fid in conclusion.because:
            fact = consultation.fact(fid)
            if fact.kind == "license_in_use":
                fid = str(fact.get("offering"))
            if fid in rows:
                owners.add(rows[fid])
        rule = conclusion.rule_ref.id
        if rule not in clauses:  # one lookup per rule, not per component it concludes about
            clauses[rule] = _clause(kb, conclusion)
        for n in sorted(owners):
            out[n].findings.append(Finding(conclusion.kind, named(kb, conclusion.statement), rule, clauses[rule]))
    return Review(stack.file, stack.format, use, out, list(stack.problems))


def _clause(kb: Any, conclusion: Any) -> str:
    """Where the rule's own passage is: "licences/mit.txt" or "licences/agpl-3.0.txt §13 Remote ..."."""
    hint = conclusion.evidence_hint
    if hint is None or not hint.doc:
        return ""
    cited = kb.retriever.quoted(hint.quote, hint.query or "", hint.doc) if hint.quote else None
    heading = cited.passage.heading if cited is not None else ""
    return f"{hint.doc} {heading}".strip()


# --- kb stack ---------------------------------------------------------------------------------------------
def render_table(r: Review) -> str:
    lines = [f"{r.file}: {r.format}, {len(r.rows)} components, used: {r.use}", ""]
    for row in r.rows:
        head = f"{row.component} {row.version}".strip()
        licence = row.licence if row.applies in (row.licence, "unknown") else f"{row.licence} -> {row.applies}"
        lines.append(f"{head}  [{licence}]  ({row.where}{', ' + row.licence_from if row.licence_from else ''})")
        duties = [f for f in row.findings if f.kind in ("obligation", "risk", "question")]
        for f in duties:
            lines.append(f"  - {f.kind}: {f.statement}")
            lines.append(f"      rule {f.rule}{' · ' + f.cites if f.cites else ''}")
        if not duties:
            lines.append("  - no duty for this use")
    if r.problems:
        lines += ["", "Not read:"] + [f"  {p}" for p in r.problems]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    from kb.cli import options

    parser = options.parser("kb stack", __doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="a CycloneDX or SPDX SBOM, requirements.txt, pyproject.toml, package.json "
                                     "or package-lock.json")
    parser.add_argument("--use", choices=sorted(USES), default="distributed",
                        help="how the stack is used: shipped to others (default), offered over a network, or "
                             "only inside the organisation")
    parser.add_argument("--json", action="store_true", help="print the review as JSON")
    ns = parser.parse_args(argv)
    stack = read_stack(Path(ns.file), ns.file)
    if not stack.components:
        for p in stack.problems:
            print(p, file=sys.stderr)
        print(f"kb stack: nothing to review in {ns.file}", file=sys.stderr)
        return 1
    from kb.advisor.advise import KnowledgeBase

    kb = KnowledgeBase.load(options.paths(ns))
    try:
        result = review(kb, stack, ns.use)
    finally:
        kb.close()
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if ns.json else render_table(result), end="")
    return 0
