"""Exports render the justification document only, stably, with every user or corpus string escaped."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
from rdflib import Graph, Namespace, URIRef

from kb import export

DOC = json.loads((Path(__file__).parent / "data" / "justification.json").read_text())
PROV = Namespace("http://www.w3.org/ns/prov#")


def test_example_document_matches_the_schema_and_a_broken_one_does_not() -> None:
    export.validate(DOC)
    broken = copy.deepcopy(DOC)
    broken["conclusions"][0]["option"] = "buy_everything"
    with pytest.raises(jsonschema.ValidationError):
        export.validate(broken)


@pytest.mark.parametrize("fmt", sorted(export.FORMATS))
def test_every_format_renders_identically_twice_with_a_safe_name(fmt: str) -> None:
    name1, text1 = export.export(DOC, fmt)
    name2, text2 = export.export(copy.deepcopy(DOC), fmt)
    assert (name1, text1) == (name2, text2)
    assert "/" not in name1 and name1.startswith("oscar-decision-commercial-")


def test_markdown_is_a_decision_record_with_numbered_citations_and_trace() -> None:
    text = export.to_markdown(DOC)
    for heading in ("## Context and Problem Statement", "## Considered Options", "## Decision Outcome",
                    "### Consequences", "## Options Not Chosen", "## References", "## Appendix: Rule Trace"):
        assert heading in text
    assert "1. *ML\\-Infrastructure: Build vs. Buy vs. Open\\-Source*" in text
    assert "rule `build.latency` (rules/build_buy.yaml:30): asker.latency\\_ms \\< 20: not known" in text
    # the asker's Markdown image can't become an image, nor the script tag HTML
    assert "![x](http" not in text
    assert not re.search(r"(?<!\\)<(script|img)", text), "raw HTML would reach a Markdown renderer"
    assert "\\<script\\>" in text


def test_html_escapes_everything_and_lists_each_citation_once() -> None:
    page = export.to_html(DOC)
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page
    assert page.count('id="cite-1"') == 1 and page.count('id="cite-2"') == 1


def test_prov_graph_parses_and_links_conclusions_to_rules_facts_and_passages() -> None:
    g = Graph().parse(data=export.to_prov(DOC), format="turtle")
    conclusions = [s for s in g.subjects(PROV.wasGeneratedBy, None) if "conclusion" in str(s)]
    assert len(conclusions) == 2
    used = {str(o) for o in g.objects(None, PROV.used)}
    assert any("passage:000_ec713219caae2b0a.txt:5-40" in u for u in used)
    assert any(u.endswith("fact:license:BSD-3-Clause") for u in used)
    derived = next(s for s in g.subjects() if isinstance(s, URIRef) and str(s).endswith("fact:small_team"))
    assert (derived, PROV.wasDerivedFrom, None) in g
