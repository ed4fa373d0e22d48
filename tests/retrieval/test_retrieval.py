"""Retrieval with the real model and real faiss/bm25s indexes: quality on the labelled questions, and an
index that persists, updates only what changed, and never trusts a damaged copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from kb.config import PROJECT_ROOT, Paths
from kb.corpus.documents import load_corpus
from kb.retrieval.embeddings import (
    WEIGHTS_SHA256,
    ModelIntegrityError,
    SentenceTransformerEmbedder,
    model_path,
    verify_weights,
)
from kb.retrieval.evaluation import evaluate, load_questions, standard_methods
from kb.retrieval.index import FaissDense, index_dir, open_index
from kb.retrieval.search import SUPPORT_THRESHOLD, Retriever, index_main

# Retrieval quality is measured on the shipped corpus with the labelled questions of tests/data, and the
# index's bookkeeping on three of its documents: test data, whatever an analyst adds to corpus/.
SHIPPED = PROJECT_ROOT / "corpus"
VERTA = "001_ad45be3a06e83d2d.txt"


KEPT = ["000_ec713219caae2b0a.txt", VERTA, "003_274b773468e9a4c0.txt"]


def three_documents(base: Path) -> Paths:
    """A knowledge base holding three of the shipped documents with their provenance and the shipped
    furniture, and its own empty cache (fewer passages keep the many rebuilds below quick)."""
    corpus = base / "kb" / "corpus"
    corpus.mkdir(parents=True)
    for name in [*KEPT, "furniture.yaml"]:
        shutil.copy(SHIPPED / name, corpus / name)
    metadata = yaml.safe_load((SHIPPED / "metadata.yaml").read_text(encoding="utf-8"))["documents"]
    kept = {"documents": {name: metadata[name] for name in KEPT}}
    (corpus / "metadata.yaml").write_text(yaml.safe_dump(kept, sort_keys=False), encoding="utf-8")
    return Paths(root=base / "kb", cache=base / "cache")


@pytest.fixture
def kb_copy(tmp_path: Path) -> Paths:
    """Three documents, not indexed yet."""
    return three_documents(tmp_path)


@pytest.fixture(scope="module")
def pristine(embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """Three documents, indexed once for the module."""
    paths = three_documents(tmp_path_factory.mktemp("pristine"))
    open_index(paths, embedder)
    return paths


@pytest.fixture
def indexed(pristine: Paths, tmp_path: Path) -> Paths:
    """A private copy of `pristine`, index included, to damage or change at will."""
    paths = Paths(root=tmp_path / "kb", cache=tmp_path / "cache")
    shutil.copytree(pristine.root, paths.root)
    index_dir(paths).parent.mkdir(parents=True)
    shutil.copytree(index_dir(pristine), index_dir(paths))
    return paths


@pytest.fixture(scope="module")
def shipped(embedder: SentenceTransformerEmbedder, kb_cache: Path) -> Retriever:
    """The shipped knowledge base's index, in the run's knowledge-base cache (built there once, or read)."""
    paths = Paths(root=PROJECT_ROOT, cache=kb_cache)
    return Retriever.open(paths, embedder=embedder)


def current_generation(paths: Paths) -> Path:
    base = index_dir(paths)
    return base / (base / "CURRENT").read_text().strip()


# -- the model ------------------------------------------------------------------------------------------


def test_embeddings_are_unit_length_and_close_for_paraphrases(embedder: SentenceTransformerEmbedder) -> None:
    v = embedder.encode(["open-source licence fees", "cost of licensing open source software",
                         "GPU speedups for deep learning"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    # a query alone and the same text in a batch embed alike
    assert np.allclose(embedder.encode(["cost of licensing open source software"])[0], v[1], atol=1e-5)


def test_weights_with_another_hash_are_refused_before_loading(tmp_path: Path) -> None:
    with pytest.raises(ModelIntegrityError, match="sha256 is 53aa5117.*expected 0000"):
        SentenceTransformerEmbedder(expected_sha256="0" * 64)
    with pytest.raises(ModelIntegrityError, match="weights file missing"):
        verify_weights(tmp_path)
    damaged = tmp_path / "model"
    damaged.mkdir()
    (damaged / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(ModelIntegrityError, match="refusing to load"):
        verify_weights(damaged)
    assert verify_weights(model_path()) == WEIGHTS_SHA256


# -- quality ---------------------------------------------------------------------------------------------


def test_hybrid_recall_at_5_is_high_and_not_worse_than_either_side(shipped: Retriever) -> None:
    questions, _, problems = load_questions(Paths(root=PROJECT_ROOT, cache=Path("/nonexistent")))
    assert problems == [] and len(questions) >= 40
    m = {r.method: r for r in evaluate(shipped, questions, standard_methods())}
    assert m["hybrid"].recall_at_5 >= 0.9
    assert m["hybrid"].recall_at_5 >= max(m["bm25"].recall_at_5, m["dense"].recall_at_5)
    assert m["hybrid"].mrr >= max(m["bm25"].mrr, m["dense"].mrr)


def test_unanswerable_questions_get_no_citation_above_the_support_threshold(shipped: Retriever) -> None:
    questions, no_answer, _ = load_questions(Paths(root=PROJECT_ROOT, cache=Path("/nonexistent")))
    assert no_answer
    for q in no_answer:
        assert shipped.search(q, k=5, min_score=SUPPORT_THRESHOLD) == [], q
    # while the answering passage of an answerable question clears it
    supported = 0
    for q in questions:
        found = shipped.evidence(q.text, k=5)
        supported += any(a.answered_by(c.passage) for c in found for a in q.answers)
    assert supported >= 0.9 * len(questions)


def test_citations_are_exact_slices_of_the_cleaned_documents(shipped: Retriever) -> None:
    docs = {d.id: d for d in load_corpus(Paths(root=PROJECT_ROOT, cache=Path("/nonexistent"))).documents}
    for query in ("small team opportunity cost", "copyleft GPL derivative works", "Llama 2 OSI"):
        citations = shipped.search(query, k=5)
        assert len(citations) == 5
        for c in citations:
            p = c.passage
            assert docs[p.doc].text[p.start:p.end] == p.text and p.title == docs[p.doc].title
        assert [c.passage.key for c in citations] == [c.passage.key for c in shipped.search(query, k=5)]


def test_search_modes_and_a_rules_evidence_hint(shipped: Retriever) -> None:
    top = shipped.evidence("building infrastructure in-house is an opportunity cost for a small team",
                           "we are 6 people, should we self-host our ML platform?", k=3)
    assert top and top[0].passage.doc == VERTA
    assert shipped.search("NIST SP 800-161r1", k=1, mode="bm25")[0].passage.doc == "000_ec713219caae2b0a.txt"
    assert shipped.search("   ") == []
    assert shipped.search("zzzzqqq", mode="bm25") == []


def test_approximate_index_above_the_exact_limit_finds_the_nearest(embedder: SentenceTransformerEmbedder
                                                                    ) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, approx = FaissDense.build(vectors, exact_limit=1000), FaissDense.build(vectors, exact_limit=100)
    assert (exact.kind, approx.kind) == ("flat", "hnsw")
    for row in (0, 17, 299):
        assert int(approx.search(vectors[row], 1)[1][0]) == row == int(exact.search(vectors[row], 1)[1][0])


# -- persistence -----------------------------------------------------------------------------------------


def test_restart_with_an_unchanged_corpus_embeds_nothing(kb_copy: Paths, embedder: SentenceTransformerEmbedder
                                                         ) -> None:
    first, report = open_index(kb_copy, embedder)
    assert report.embedded == len(first) > 50 and report.added == KEPT and report.written
    again, report = open_index(kb_copy, embedder)
    assert (report.embedded, report.written, report.rebuilt) == (0, False, "")
    assert report.unchanged == KEPT
    assert again.passages == first.passages and np.array_equal(again.vectors, first.vectors)


def test_a_copy_of_a_knowledge_base_reuses_the_originals_vectors(kb_copy: Paths,
                                                                 embedder: SentenceTransformerEmbedder) -> None:
    original, _ = open_index(kb_copy, embedder)
    copy = Paths(root=kb_copy.root.parent / "analysts-copy", cache=kb_copy.cache)
    shutil.copytree(kb_copy.root, copy.root)
    with (copy.corpus / VERTA).open("a", encoding="utf-8") as fh:
        fh.write("\n\nA closing remark: evaluate vendors against written requirements.\n")
    index, report = open_index(copy, embedder)
    assert index_dir(copy) != index_dir(kb_copy) and report.added == KEPT
    # only the passage the copy changed is embedded; the rest come from the original's index, equal
    changed = [p for p in index.passages if p.text not in {q.text for q in original.passages}]
    assert changed and report.embedded == len(changed) and report.reused == len(index) - len(changed)
    assert "reused from another index" in report.summary()
    old = {p.index_text(): original.vectors[i] for i, p in enumerate(original.passages)}
    for i, p in enumerate(index.passages):
        if p.index_text() in old:
            assert np.array_equal(index.vectors[i], old[p.index_text()])
    # a damaged original is passed over, never trusted: everything is embedded afresh
    gen = index_dir(kb_copy) / (index_dir(kb_copy) / "CURRENT").read_text(encoding="utf-8").strip()
    vectors = np.load(gen / "vectors.npy")
    np.save(gen / "vectors.npy", vectors + 1.0)
    third = Paths(root=kb_copy.root.parent / "third-copy", cache=kb_copy.cache)
    shutil.copytree(kb_copy.root, third.root)
    shutil.rmtree(index_dir(copy))  # only the damaged original could lend vectors
    _, report = open_index(third, embedder)
    assert report.reused == 0 and report.embedded == len(original)


def test_touching_one_document_re_embeds_only_its_passages(indexed: Paths, embedder: SentenceTransformerEmbedder
                                                           ) -> None:
    before, _ = open_index(indexed, embedder)
    with (indexed.corpus / VERTA).open("a", encoding="utf-8") as fh:
        fh.write("\n\nA closing remark: evaluate vendors against written requirements.\n")
    after, report = open_index(indexed, embedder)
    assert report.changed == [VERTA] and not report.added and not report.removed
    verta_passages = [p for p in after.passages if p.doc == VERTA]
    assert report.embedded == len(verta_passages)
    assert any("closing remark" in p.text for p in verta_passages)
    # the other documents' vectors were carried over unchanged
    old = {p.key: before.vectors[i] for i, p in enumerate(before.passages) if p.doc != VERTA}
    for i, p in enumerate(after.passages):
        if p.doc != VERTA:
            assert np.array_equal(after.vectors[i], old[p.key])
    hits = Retriever(after, embedder).search("evaluate vendors against written requirements", k=1)
    assert "closing remark" in hits[0].passage.text


def test_added_and_removed_documents(indexed: Paths, embedder: SentenceTransformerEmbedder) -> None:
    open_index(indexed, embedder)
    (indexed.corpus / "000_ec713219caae2b0a.txt").unlink()
    (indexed.corpus / "notes.md").write_text("# Notes\n\nThe zebra-licence forbids hosting. It is rare.\n")
    (indexed.corpus / "broken.txt").write_bytes(b"\xff\xfe bad")
    index, report = open_index(indexed, embedder)
    assert report.removed == ["000_ec713219caae2b0a.txt"]
    assert report.added == ["broken.txt", "notes.md"] and report.embedded == 1
    assert [p.path for p in report.problems if "broken.txt" in p.path]
    assert {p.doc for p in index.passages} == {VERTA, "003_274b773468e9a4c0.txt", "notes.md"}
    # the unreadable file is remembered: reopening neither retries nor rewrites, but still reports it
    _, report = open_index(indexed, embedder)
    assert (report.embedded, report.written) == (0, False)
    assert any("broken.txt" in p.path for p in report.problems)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "delete"])
def test_a_damaged_faiss_file_is_rebuilt_from_the_stored_vectors(
        indexed: Paths, embedder: SentenceTransformerEmbedder, damage: str) -> None:
    first, _ = open_index(indexed, embedder)
    target = current_generation(indexed) / "dense.faiss"
    if damage == "garbage":
        target.write_bytes(b"\x00" * target.stat().st_size)
    elif damage == "truncate":
        target.write_bytes(target.read_bytes()[:1000])
    else:
        target.unlink()
    index, report = open_index(indexed, embedder)
    assert "dense.faiss" in report.rebuilt and report.embedded == 0 and report.written
    assert len(index.dense) == len(first)
    _, report = open_index(indexed, embedder)
    assert report.rebuilt == "" and report.embedded == 0


def test_damaged_vectors_or_manifest_are_never_trusted(kb_copy: Paths, embedder: SentenceTransformerEmbedder
                                                       ) -> None:
    for name in KEPT[1:]:
        (kb_copy.corpus / name).unlink()
    first, _ = open_index(kb_copy, embedder)
    gen = current_generation(kb_copy)
    vectors = np.load(gen / "vectors.npy")
    vectors[0] = -vectors[0]
    np.save(gen / "vectors.npy", vectors)  # same size, different content
    index, report = open_index(kb_copy, embedder)
    assert "vectors.npy does not match its checksum" in report.rebuilt
    assert report.embedded == len(first) and np.array_equal(index.vectors, first.vectors)
    (current_generation(kb_copy) / "manifest.json").write_text("{ not json")
    index, report = open_index(kb_copy, embedder)
    assert "manifest unreadable" in report.rebuilt and len(index) == len(first)
    (index_dir(kb_copy) / "CURRENT").write_text("gen-that-does-not-exist\n")
    _, report = open_index(kb_copy, embedder)
    assert report.rebuilt and report.written


def test_other_settings_mean_a_rebuild(kb_copy: Paths, embedder: SentenceTransformerEmbedder) -> None:
    from kb.corpus.passages import ChunkSettings

    for name in KEPT[1:]:
        (kb_copy.corpus / name).unlink()
    open_index(kb_copy, embedder)
    index, report = open_index(kb_copy, embedder, chunking=ChunkSettings(max_chars=300, max_sentences=2))
    assert "settings changed" in report.rebuilt and report.embedded == len(index)
    manifest = json.loads((current_generation(kb_copy) / "manifest.json").read_text())
    assert manifest["settings"]["chunking"]["max_chars"] == 300
    assert manifest["settings"]["model_hash"] == embedder.fingerprint


def test_a_crash_while_writing_leaves_the_previous_index_in_use(
        indexed: Paths, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = open_index(indexed, embedder)
    old_gen = current_generation(indexed)
    (indexed.corpus / VERTA).write_text("Replaced text about buying platforms.\n", encoding="utf-8")

    def crash(self: FaissDense, path: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(FaissDense, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        open_index(indexed, embedder)
    assert current_generation(indexed) == old_gen
    assert not [p for p in index_dir(indexed).iterdir() if p.name.startswith(".tmp-")]
    monkeypatch.undo()
    (indexed.corpus / VERTA).write_bytes((SHIPPED / VERTA).read_bytes())
    again, report = open_index(indexed, embedder)
    assert (report.embedded, report.rebuilt) == (0, "") and again.passages == first.passages


def test_kb_index_prints_what_it_did(kb_copy: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--root", str(kb_copy.root), "--cache", str(kb_copy.cache)]
    assert index_main(args) == 0
    out = capsys.readouterr().out
    assert "documents: 3 added, 0 changed, 0 removed" in out and "embedded now" in out and "seconds:" in out
    (kb_copy.corpus / VERTA).write_text("Short replacement.\n", encoding="utf-8")
    assert index_main(args + ["--search", "replacement"]) == 0
    out = capsys.readouterr().out
    assert "0 added, 1 changed, 0 removed, 2 unchanged" in out and f"changed: {VERTA}" in out
    assert "Short replacement." in out


def test_an_empty_corpus_indexes_and_answers_nothing_then_grows(tmp_path: Path,
                                                                 embedder: SentenceTransformerEmbedder) -> None:
    paths = Paths(root=tmp_path / "kb", cache=tmp_path / "cache")
    paths.corpus.mkdir(parents=True)
    index, report = open_index(paths, embedder)
    assert len(index) == 0 and Retriever(index, embedder).search("anything") == []
    (paths.corpus / "a.txt").write_text("Per-seat pricing applies to every analyst.\n", encoding="utf-8")
    index, report = open_index(paths, embedder)
    assert report.added == ["a.txt"] and report.embedded == 1
    assert Retriever(index, embedder).search("seat pricing")[0].passage.doc == "a.txt"


def test_the_passage_a_rule_quotes_is_found_whatever_the_spacing_and_scored(shipped: Retriever) -> None:
    cit = shipped.quoted("Licensing   cost Zero (license fee)\\nRecurring fee".replace("\\n", "\n"),
                         "licensing cost of open source versus commercial", "000_ec713219caae2b0a.txt")
    assert cit is not None and "Licensing cost Zero (license fee) Recurring fee" in " ".join(cit.passage.text.split())
    assert 0.3 < cit.score <= 1.0
    assert shipped.quoted("a sentence the corpus never wrote", "anything") is None
    assert shipped.quoted("Licensing cost Zero", "cost", "001_ad45be3a06e83d2d.txt") is None  # other document
