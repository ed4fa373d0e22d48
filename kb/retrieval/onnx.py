"""The embedding model run by onnxruntime: the same vectors without importing torch.

Importing torch and transformers costs seconds before a process can embed anything; a question needs one
small forward pass. So the first time a knowledge base is loaded with the model (the index build), the
model is exported to ONNX in the cache (`export`, which needs torch and is done by `kb.retrieval.embeddings`),
checked against the model it came from on probe texts (cosine >= MIN_COSINE for every one), and from then
on `OnnxEmbedder` serves queries and passages with onnxruntime and the tokenizer's own `tokenizers` file.

The only module that imports onnxruntime. An export is trusted only when its manifest names the pinned
weights and the file's sha256 still matches; anything else is ignored (and the model is used), never run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("kb.retrieval.onnx")

ONNX_FOLDER = "onnx"
"""Folder of the cache holding the exported model, one file and manifest per weights hash."""
MIN_COSINE = 0.999
"""Every probe text's ONNX vector must be at least this close to the model's own, or the export is dropped."""
MAX_TOKENS = 256
"""Word pieces the model reads (all-MiniLM-L6-v2's max_seq_length); longer texts are truncated, as there."""
_BATCH = 64
PADDING_RATIO = 1.25
"""A batch holds texts whose word pieces are within this ratio of its shortest's; longer ones start the next."""


def export_paths(cache: Path, weights_sha256: str) -> tuple[Path, Path]:
    """The ONNX file and its manifest for these weights."""
    folder = cache / ONNX_FOLDER
    return folder / f"{weights_sha256[:16]}.onnx", folder / f"{weights_sha256[:16]}.json"


def trusted_export(cache: Path | None, weights_sha256: str) -> Path | None:
    """The export for these weights when its manifest vouches for it and its bytes are unchanged, else None."""
    if cache is None:
        return None
    model, manifest = export_paths(cache, weights_sha256)
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        if meta.get("weights_sha256") != weights_sha256 or float(meta.get("min_cosine", 0)) < MIN_COSINE:
            return None
        with model.open("rb") as fh:
            if hashlib.file_digest(fh, "sha256").hexdigest() != meta.get("onnx_sha256"):
                log.warning("%s does not match its manifest; ignored", model)
                return None
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    return model


def write_manifest(cache: Path, weights_sha256: str, min_cosine: float, probes: int) -> None:
    """Vouch for an export that passed the probe check."""
    model, manifest = export_paths(cache, weights_sha256)
    with model.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    tmp = manifest.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"weights_sha256": weights_sha256, "onnx_sha256": digest,
                               "min_cosine": round(min_cosine, 6), "probes": probes}, indent=2), encoding="utf-8")
    tmp.replace(manifest)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through onnxruntime: mean pooling over the last hidden state, unit length."""

    def __init__(self, model_file: Path, tokenizer_file: Path, weights_sha256: str, name: str, dimension: int):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        def session(threads: int) -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

        # A question on one thread: a second saves little on a small batch and costs much on a busy 2-core
        # machine. Passages (an index build) on every core, through a second session made when first needed.
        self._session = session(1)
        self._batch_session: Any = None
        self._make_session = session
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()  # the file pads to 128; `_batch` pads each batch to its longest
        self.name = name
        self.fingerprint = weights_sha256  # the weights it was exported from: the index and caches stay valid
        self.dimension = dimension
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = _BATCH) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            encoded = self._tokenizer.encode_batch(list(texts))
        # Sorted by length, and batched only with texts of about the same length: a batch pads every text to
        # its longest, and a question's short clauses padded to the whole question cost more than running
        # them one by one. Rows go back to the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        at = 0
        while at < len(order):
            end = at + 1
            longest_allowed = len(encoded[order[at]].ids) * PADDING_RATIO
            while end < len(order) and end - at < batch_size and len(encoded[order[end]].ids) <= longest_allowed:
                end += 1
            rows = order[at:end]
            out[rows] = self._batch([encoded[i].ids for i in rows])
            at = end
        return out

    def _batch(self, pieces: list[list[int]]) -> np.ndarray:
        width = max(len(p) for p in pieces)
        ids = np.zeros((len(pieces), width), dtype=np.int64)  # 0 is [PAD], as the tokenizer pads
        mask = np.zeros_like(ids)
        for row, p in enumerate(pieces):
            ids[row, :len(p)] = p
            mask[row, :len(p)] = 1
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        if len(pieces) > 4 and self._batch_session is None:
            with self._lock:
                if self._batch_session is None:
                    self._batch_session = self._make_session(os.cpu_count() or 1)
        hidden = (self._batch_session if len(pieces) > 4 else self._session).run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)
