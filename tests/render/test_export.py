"""Exports render the typed answer only, stably, with every user or corpus string escaped."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt
from rdflib import Graph, Namespace, URIRef

from kb import render
from kb.model.answer import Answer, json_schema, validate
from kb.render.html import to_html
from kb.render.markdown import to_markdown
from kb.render.prov import to_prov

DOC = json.loads((Path(__file__).parents[1] / "data" / "justification.json").read_text())
ANSWER = Answer.from_dict(DOC)
PROV = Namespace("http://www.w3.org/ns/prov#")


def test_example_document_matches_the_schema_and_a_broken_one_does_not() -> None:
    validate(DOC)
    broken = copy.deepcopy(DOC)
    broken["conclusions"][0]["option"] = "buy_everything"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    misspelt = {**copy.deepcopy(DOC), "abstension": None}
    with pytest.raises(jsonschema.ValidationError, match="abstension"):
        Answer.from_dict(misspelt)


def test_the_shipped_schema_file_is_the_one_generated_from_the_answer_type() -> None:
    shipped = json.loads((Path(__file__).parents[2] / "kb" / "schema" / "justification.schema.json").read_text())
    assert shipped == json_schema(), "regenerate it: kb schema > kb/schema/justification.schema.json"


def test_a_saved_record_reads_back_as_the_same_answer() -> None:
    assert ANSWER.to_dict() == DOC
    assert Answer.from_dict(json.loads(render.export(ANSWER, "json")[1])) == ANSWER


@pytest.mark.parametrize("fmt", sorted(render.FORMATS))
def test_every_format_renders_identically_twice_with_a_safe_name(fmt: str) -> None:
    name1, text1 = render.export(ANSWER, fmt)
    name2, text2 = render.export(Answer.from_dict(copy.deepcopy(DOC)), fmt)
    assert (name1, text1) == (name2, text2)
    assert "/" not in name1 and name1.startswith("oscar-decision-commercial-")


def test_markdown_is_a_decision_record_with_numbered_citations_and_trace() -> None:
    text = to_markdown(ANSWER)
    for heading in ("## Context and Problem Statement", "## Considered Options", "## Decision Outcome",
                    "### Consequences", "## Options Not Chosen", "## References", "## Appendix: Rule Trace"):
        assert re.search(f"^{re.escape(heading)}$", text, re.M), heading
    shown = MarkdownIt("commonmark").render(text)
    words = html.unescape(re.sub(r"<[^>]+>", "", shown))
    assert "1. ML-Infrastructure: Build vs. Buy vs. Open-Source" in words or \
        "ML-Infrastructure: Build vs. Buy vs. Open-Source (001_ad45be3a06e83d2d.txt" in words
    assert "rule build.latency (rules/build_buy.yaml:30): asker.latency_ms < 20: not known" in words
    # the asker's Markdown image can't become an image, nor the script tag HTML, once rendered
    assert "<img" not in shown and "<script" not in shown and "<a " not in shown
    assert "<script>" in words


def test_html_escapes_everything_and_lists_each_citation_once() -> None:
    page = to_html(ANSWER)
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page
    assert page.count('id="cite-1"') == 1 and page.count('id="cite-2"') == 1


def test_prov_graph_parses_and_links_conclusions_to_rules_facts_and_passages() -> None:
    g = Graph().parse(data=to_prov(ANSWER), format="turtle")
    conclusions = [s for s in g.subjects(PROV.wasGeneratedBy, None) if "conclusion" in str(s)]
    assert len(conclusions) == 2
    used = {str(o) for o in g.objects(None, PROV.used)}
    assert any("passage:000_ec713219caae2b0a.txt:5-40" in u for u in used)
    assert any(u.endswith("fact:license:BSD-3-Clause") for u in used)
    derived = next(s for s in g.subjects() if isinstance(s, URIRef) and str(s).endswith("fact:small_team"))
    assert (derived, PROV.wasDerivedFrom, None) in g


@pytest.mark.parametrize("fmt", sorted(render.FORMATS))
def test_a_question_with_a_lone_surrogate_still_exports(fmt: str) -> None:
    odd = Answer.from_dict({**DOC, "question": "is \ud800 ok?", "turns": ["is \ud800 ok?"]})
    _, text = render.export(odd, fmt)
    text.encode("utf-8")  # writable as a file


def test_records_say_status_date_deciders_and_sources_and_prov_names_its_agents_and_time() -> None:
    import dataclasses

    from rdflib import RDF, RDFS

    answer = dataclasses.replace(ANSWER, answered_at="2026-12-03T09:30:00+00:00", oscar_version="9.9.9",
                                 deciders=("Ana Silva", "Bo <Chen>"))
    md = to_markdown(answer)
    assert "- Status: proposed\n- Date: 2026-12-03" in md and "- Deciders: Ana Silva, Bo &lt;Chen&gt;" in md
    assert "- Consulted: " + ANSWER.citations()[0].title in md and "Drafted by: OSCAR 9.9.9" in md
    page = to_html(answer)
    assert 'datetime="2026-12-03T09:30:00+00:00"' in page and "Bo &lt;Chen&gt;" in page
    g = Graph().parse(data=to_prov(answer), format="turtle")
    (oscar,) = g.subjects(RDF.type, PROV.SoftwareAgent)
    assert str(g.value(oscar, RDFS.label)) == "OSCAR 9.9.9"
    (record,) = g.subjects(PROV.generatedAtTime, None)
    assert str(g.value(record, PROV.generatedAtTime)).startswith("2026-12-03T09:30:00")
    attributed = {str(g.value(a, RDFS.label)) for a in g.objects(record, PROV.wasAttributedTo)}
    assert attributed >= {"Ana Silva", "OSCAR 9.9.9"}
    (asker,) = g.subjects(RDF.type, PROV.Person)
    assert set(g.subjects(PROV.wasAttributedTo, asker))  # the questions are the asker's
    assert "Status" not in to_markdown(ANSWER).split("## Context")[1]  # nothing of it outside the header


@pytest.mark.parametrize("question", [
    'a "quoted" question\nover two lines, with a backslash \\ and """ three quotes',
    "<script>alert(1)</script> ; . , @prefix x: <http://evil/> .",
    "ünïcødé, emoji 🚀, tab\tand a trailing backslash \\",
])
def test_prov_turtle_holds_the_same_graph_as_rdflibs_own_serialiser(question: str) -> None:
    from rdflib.compare import isomorphic

    answer = Answer.from_dict({**DOC, "question": question, "turns": [question], "deciders": ['Bo "B" <Chen>']})
    written = Graph().parse(data=to_prov(answer), format="turtle")
    reference = Graph().parse(data=to_prov(answer, "nt"), format="nt")
    assert isomorphic(written, reference)
    assert question in {str(o) for o in written.objects(None, PROV.value)}
    assert to_prov(answer) == to_prov(answer)  # sorted: the same record writes the same file
