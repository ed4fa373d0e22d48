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
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.advisor.advise import Advisor, CitationNumbers, named
from kb.graph.expressions import Expression, ExpressionError, burden_of, choose
from kb.graph.expressions import facts as expression_facts
from kb.graph.expressions import parse as parse_expression
from kb.model import answer as model
from kb.model.facts import Fact, Scalar, Source
from kb.stack.intake import Stack, read_stack
from kb.vocab import CONCLUSION_KINDS

USES = {"distributed": {"distributes": True}, "network": {"network_service": True, "distributes": False},
        "internal": {"internal_only": True, "distributes": False, "network_service": False}}
"""How the stack is used, as the asker fields the licence rules test."""
FINDING_KINDS = ("obligation", "risk", "question", "note")
_CLASSIFIER = "License :: OSI Approved :: "
_BRACKETED = re.compile(r"\(([^()]+)\)")


def use_of(asker: Mapping[str, Scalar]) -> str:
    """How the asker's facts say the stack is used: "distributed", "network", "internal", both of the first
    two joined by "and", or "unknown" (the rules then ask)."""
    if asker.get("internal_only") is True:
        return "internal"
    uses = [u for u, key in (("distributed", "distributes"), ("network", "network_service")) if asker.get(key) is True]
    return " and ".join(uses) or "unknown"


def licence_ids(declared: str | None, resolve: Callable[[str], str | None],
                lookup: Callable[[str], Fact | None]) -> tuple[list[str], list[str], Expression | None]:
    """(licence ids that apply, parts not understood, the SPDX expression if it is one) for a declared
    licence: an SPDX expression whose lightest option is taken, else names (a trove classifier, "MIT
    License") found by their labels."""
    if not declared:
        return [], [], None
    try:
        expr = parse_expression(declared)
        ids = {i for o in expr.options for i in o.licences}
        if all(lookup(i) is not None for i in ids):
            best, _ = choose(expr, burden_of(lookup))
            return list(expr.options[best].ids()), [], expr
    except ExpressionError:
        pass
    found: list[str] = []
    unread: list[str] = []
    for part in declared.split(" AND "):
        name = part.strip()
        while name.startswith("(") and name.endswith(")"):
            name = name[1:-1].strip()
        name = name.removeprefix(_CLASSIFIER).removeprefix("License :: ")
        # "Mozilla Public License 2.0 (MPL 2.0)": the name, else its short form in brackets
        ident = next((i for i in (resolve(n) for n in (name, *_BRACKETED.findall(name),
                                                          _BRACKETED.sub("", name).strip()) if n)
                      if i is not None and i.startswith("license:")), None)
        if ident is not None:
            found.append(ident)
        elif name:
            unread.append(name)
    return list(dict.fromkeys(found)), unread, None


def offering_of(ontology: Any, name: str) -> str | None:
    """The offering a component is, when the ontology knows its name ("torch" is PyTorch) for certain."""
    ident = ontology.decisive(name)
    return ident if ident is not None and ident.startswith("offering:") else None


def stack_facts(stack: Stack, ontology: Any, asker: Fact) -> StackFacts:
    """The facts of a stack: the asker; a `component` fact per component and licence (joined to the offering
    the ontology knows it as); a `license_expression` fact per OR or WITH expression; a `stack_licence` fact
    per licence the stack carries; and the ontology's facts about those licences and offerings."""
    out = StackFacts([asker])
    holders: dict[str, list[int]] = {}
    entities: set[str] = set()
    for n, comp in enumerate(stack.components):
        ids, _, expr = licence_ids(comp.licence, lambda label: ontology.resolve(label, "license"), ontology.fact)
        out.applies.append(ids)
        base: dict[str, Scalar] = {"name": comp.name, "version": comp.version or "", "source": comp.where,
                                   "licence_from": comp.licence_from}
        if comp.licence:
            base["expression"] = comp.licence
        offering = offering_of(ontology, comp.name)
        out.offerings.append(offering)
        if offering is not None:
            base["offering"] = offering
            entities.add(offering)
        entities.update(ids)
        source = Source(kind="user", text=comp.where)
        if not ids:
            out.add(Fact.make(f"component:{n}", "component", base, source), n)
        for ident in ids:
            out.add(Fact.make(f"component:{n}/{ident.removeprefix('license:')}", "component",
                              {**base, "license": ident}, source), n)
            holders.setdefault(ident, []).append(n)
        if expr is not None and expr.operator in ("or", "with"):  # the choice made, or the exception's reach
            out.add(expression_facts(expr, source, ontology.fact)[0], n)
    for ident, rows in sorted(holders.items()):
        names = [_label(stack.components[n]) for n in rows]
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        fact = Fact.make(f"stack_licence:{ident.removeprefix('license:')}", "stack_licence",
                         {"license": ident, "components": len(rows), "names": shown}, Source(kind="user"))
        for n in rows:
            out.add(fact, n)
    seen = {f.id for f in out.facts}
    out.facts += [f for f in ontology.related(sorted(entities)) if f.id not in seen]
    return out


@dataclass
class StackFacts:
    """A stack's facts, which rows each given fact is about, each row's licences and each row's offering."""

    facts: list[Fact]
    rows: dict[str, set[int]] = field(default_factory=dict)
    applies: list[list[str]] = field(default_factory=list)
    offerings: list[str | None] = field(default_factory=list)

    def add(self, fact: Fact, row: int) -> None:
        if fact.id not in self.rows:
            self.facts.append(fact)
        self.rows.setdefault(fact.id, set()).add(row)


def review(kb: Any, stack: Stack, use: str = "distributed", asker: Fact | None = None,
           numbering: CitationNumbers | None = None, advisor: Advisor | None = None) -> model.StackReview:
    """Review a stack that was read: what each component's licence asks for this use, each finding with the
    clause its rule cites. The use is `asker`'s facts when given (a conversation's), else `use`'s."""
    if asker is None:
        asker = Fact.make("asker", "asker", dict(USES[use]), Source(kind="user"))
    advisor = advisor or Advisor(kb)
    numbering = numbering or CitationNumbers()
    given = stack_facts(stack, kb.ontology, asker)
    consultation = kb.rules.consult(given.facts)
    found: list[list[model.StackFinding]] = [[] for _ in stack.components]
    across: list[model.StackFinding] = []
    cites: dict[str, tuple[int, ...]] = {}
    citations: dict[int, model.Citation] = {}
    for conclusion in consultation.conclusions:
        if conclusion.kind not in FINDING_KINDS:
            continue
        owners: set[int] = set()
        for fid in conclusion.because:
            fact = consultation.fact(fid)
            if fact.kind == "license_in_use":
                fid = str(fact.get("offering"))
            owners.update(given.rows.get(fid, ()))
        if not owners:  # about the asker alone (their team, their budget): the answer's business, not the stack's
            continue
        rule = conclusion.rule_ref.id
        if rule not in cites:  # one lookup per rule, not per component it concludes about
            cited = advisor.rule_passage(kb, conclusion, numbering)
            cites[rule] = (cited.n,) if cited is not None else ()
            if cited is not None:
                citations[cited.n] = cited
        several = tuple(_label(stack.components[n]) for n in sorted(owners)) if len(owners) > 1 else ()
        finding = model.StackFinding(kind=conclusion.kind, statement=named(kb, conclusion.statement),
                                     rule=conclusion.rule_ref, cites=cites[rule], components=several)
        for n in owners:
            found[n].append(finding)
        if several:
            across.append(finding)
    order = {k: i for i, k in enumerate(CONCLUSION_KINDS)}
    out = tuple(
        model.StackRow(component=c.name, version=c.version, licence=c.licence or "unknown",
                       applies=" AND ".join(i.removeprefix("license:") for i in ids) or "unknown", where=c.where,
                       licence_from=c.licence_from, purl=c.purl,
                       findings=tuple(sorted(f, key=lambda x: (order.get(x.kind, 9), x.rule.id))),
                       offering=kb.ontology.label(o) if o is not None else "")
        for c, ids, f, o in zip(stack.components, given.applies, found, given.offerings, strict=True))
    problems = tuple(model.StackProblem(f"{p.path}:{p.line}" if p.line else p.path, p.message)
                     for p in stack.problems)
    return model.StackReview(file=stack.file, format=stack.format, use=use_of(dict(asker.fields)), components=out,
                             citations=tuple(citations[n] for n in sorted(citations)),
                             across=tuple(sorted(across, key=lambda x: (order.get(x.kind, 9), x.rule.id))),
                             problems=problems)


def _label(component: Any) -> str:
    return f"{component.name} {component.version}".strip()


# --- kb stack ---------------------------------------------------------------------------------------------
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
    if ns.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        from kb.render.text import render_stack_text

        print(render_stack_text(result), end="")
    return 0
