"""Licence texts in the corpus: copied verbatim from the ScanCode data, cut at their own clauses, and the
passages rules cite name the clause they come from."""

from __future__ import annotations

from pathlib import Path

from kb.config import Paths
from kb.corpus.documents import load_corpus
from kb.corpus.licence_texts import clause_headings, read_licence, write_texts
from kb.corpus.passages import chunk
from kb.engine.rulebase import RuleBase


def test_clauses_are_found_in_each_form_licences_use() -> None:
    gpl = ("  12. No Surrender.\n\n  If conditions\nsection\n7.  This requirement goes on.\n\n"
           "  13. Remote Network Interaction; Use.\n")
    assert [h.text for h in clause_headings(gpl)] == ["§12 No Surrender", "§13 Remote Network Interaction"]
    cc = "Section 1 -- Definitions.\n\n  a. Adapted Material means...\n\nSection 2 -- Scope.\n"
    assert [h.text for h in clause_headings(cc)] == ["§1 Definitions", "§2 Scope"]
    elastic = "Elastic License 2.0\n\n## Acceptance\n\nBy using...\n\n## Limitations\n\nYou may not...\n"
    assert [h.text for h in clause_headings(elastic)] == ["Acceptance", "Limitations"]
    assert clause_headings("Copyright 51 Franklin Street, Boston\n") == ()


def test_every_licence_text_of_the_corpus_is_cut_at_its_clauses(kb_root: Path) -> None:
    corpus = load_corpus(Paths(root=kb_root, cache=Path("/nonexistent")))
    licences = [d for d in corpus.documents if d.wrapped]
    assert licences, "no document with `sections: numbered` in corpus/metadata.yaml"
    for doc in licences:
        passages = chunk(doc)
        assert passages, doc.id
        starts = {h.start for h in doc.headings}
        assert not any(p.start < s < p.end for p in passages for s in starts), doc.id  # never across a clause
        if len(doc.text) > 5_000:  # a long licence has numbered clauses or headings to cite
            assert len(doc.headings) >= 3, doc.id


def test_rules_citing_a_licence_cite_a_clause_of_it(kb_root: Path) -> None:
    paths = Paths(root=kb_root, cache=Path("/nonexistent"))
    corpus = {d.id: d for d in load_corpus(paths).documents}
    book = RuleBase.load(paths).book
    cited = [r for r in book.rules if r.evidence and r.evidence.doc and corpus.get(r.evidence.doc) is not None
             and corpus[r.evidence.doc].wrapped]
    for rule in cited:
        doc = corpus[rule.evidence.doc]  # type: ignore[union-attr]
        quote = " ".join(rule.evidence.quote.split()).lower()  # type: ignore[union-attr]
        holding = [p for p in chunk(doc) if quote in " ".join(p.text.split()).lower()]
        assert holding, (rule.id, "no passage holds the quote")
        if len(doc.headings) >= 3 and holding[0].start >= doc.headings[0].start:  # not the unnumbered opening
            assert holding[0].heading, (rule.id, "the quoted passage is under no clause")


def test_kb_licenses_texts_copies_a_licence_verbatim_and_records_it(tmp_path: Path, kb_root: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "metadata.yaml").write_text("documents:\n", encoding="utf-8")
    said = write_texts(["mit"], corpus)
    assert said and "MIT" in said[0]
    text = (corpus / "licences" / "mit.txt").read_text(encoding="utf-8")
    assert text == read_licence("mit").text
    shipped = kb_root / "corpus" / "licences" / "mit.txt"
    if shipped.is_file():
        assert text == shipped.read_text(encoding="utf-8")
    meta = (corpus / "metadata.yaml").read_text(encoding="utf-8")
    assert "licences/mit.txt:" in meta and "sections: numbered" in meta and "licensedcode-data" in meta
    write_texts(["mit"], corpus)  # twice: the entry is not repeated
    assert (corpus / "metadata.yaml").read_text(encoding="utf-8").count("licences/mit.txt:") == 1
