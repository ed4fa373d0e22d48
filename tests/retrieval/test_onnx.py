"""The ONNX export questions are embedded with: made from the pinned model, checked against it, trusted only
while its bytes match its manifest, and equal to the model's vectors on the corpus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.config import Paths
from kb.corpus.documents import load_corpus
from kb.corpus.passages import chunk
from kb.retrieval.embeddings import WEIGHTS_SHA256, SentenceTransformerEmbedder, default_embedder
from kb.retrieval.onnx import MIN_COSINE, OnnxEmbedder, export_paths, trusted_export


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    cache = tmp_path_factory.mktemp("onnx-cache")
    assert embedder.export_onnx(cache) is not None
    return cache


@pytest.mark.parametrize("every", [
    pytest.param(1, marks=pytest.mark.slow, id="every-passage"),
    pytest.param(12, id="every-12th-passage"),  # the default suite's sample: embedding the corpus twice takes 35 s
])
def test_the_export_gives_the_models_vectors_on_the_corpus_passages(
        exported: Path, embedder: SentenceTransformerEmbedder, kb_root: Path, every: int) -> None:
    onnx = default_embedder(exported)
    assert isinstance(onnx, OnnxEmbedder) and onnx.fingerprint == embedder.fingerprint
    texts = [p.text for d in load_corpus(Paths(root=kb_root, cache=exported)).documents for p in chunk(d)][::every]
    texts += ["we're a 6-person health-tech team, need HIPAA", ""]
    cosine = (onnx.encode(texts) * embedder.encode(texts)).sum(axis=1)
    assert cosine.min() >= MIN_COSINE, float(cosine.min())
    assert np.allclose(np.linalg.norm(onnx.encode(texts[:3]), axis=1), 1.0, atol=1e-5)


def test_texts_of_any_lengths_together_get_the_vectors_they_get_alone(exported: Path) -> None:
    """A question and its clauses are embedded in one call, batched only with texts of about their length:
    each row is the text's own vector, in the caller's order, whatever it was batched with."""
    onnx = default_embedder(exported)
    question = "We're a 6-person health-tech team, need HIPAA, is self-hosting PyTorch + MLflow wise, or should we buy?"
    texts = [question, "need HIPAA", "", "is self-hosting PyTorch + MLflow wise", "x " * 400,
             "or should we buy", question, *(f"clause number {n}" for n in range(70))]
    together = onnx.encode(texts)
    alone = np.vstack([onnx.encode([t]) for t in texts])
    assert together.shape == (len(texts), onnx.dimension)
    assert np.allclose(together, alone, atol=1e-5)
    assert np.allclose(together[0], together[6])


def test_a_changed_export_is_not_trusted_and_the_model_is_used(exported: Path, tmp_path: Path) -> None:
    model, manifest = export_paths(exported, WEIGHTS_SHA256)
    copy = tmp_path / "cache"
    (copy / "onnx").mkdir(parents=True)
    (copy / "onnx" / manifest.name).write_bytes(manifest.read_bytes())
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "onnx" / model.name).write_bytes(bytes(data))
    assert trusted_export(copy, WEIGHTS_SHA256) is None
    assert isinstance(default_embedder(copy), SentenceTransformerEmbedder)
    assert trusted_export(exported, "0" * 64) is None  # another model's weights: not this export


def test_a_question_is_answered_without_importing_torch_or_spacys_command_line_once_the_export_exists(
        exported: Path, kb_root: Path, kb_cache: Path, knowledge_base: object, tmp_path: Path) -> None:
    script = ("import sys\nfrom kb.cli import main\ncode = main(['ask', '--root', sys.argv[1], '--cache', sys.argv[2], "
              "'we are five people, build or buy?'])\nprint('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
              "print('SPACY-CLI' if 'spacy.cli' in sys.modules else 'NO-SPACY-CLI')\n"
              "import spacy.cli, spacy\nprint(callable(spacy.cli.download) and callable(spacy.info))\n"
              "sys.exit(code)")
    # The run's index (built by `knowledge_base`, same model fingerprint) beside the export: a built index, as
    # `kb index` leaves one; the question alone is embedded, by the export.
    shutil.copytree(kb_cache / "index", exported / "index", dirs_exist_ok=True)
    again = subprocess.run([sys.executable, "-c", script, str(kb_root), str(exported)], capture_output=True,
                           text=True, timeout=600, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    # neither torch nor spaCy's command line was imported to answer; both import as usual afterwards
    assert again.stdout.split()[-3:] == ["NO-TORCH", "NO-SPACY-CLI", "True"] and "Recommendation" in again.stdout
