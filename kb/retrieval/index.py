"""The passage index: dense vectors in faiss, a bm25s lexical index, and both kept on disk with a manifest.

The only module that imports faiss or bm25s. On disk (under `Paths.cache`) an index is one generation
folder beside a `CURRENT` file naming it:

    <cache>/index/<knowledge base>/CURRENT
    <cache>/index/<knowledge base>/gen-<time>-<random>/manifest.json, passages.jsonl, vectors.npy,
                                                       dense.faiss, bm25/...

A build writes a new generation in full, then replaces `CURRENT` (`os.replace`, atomic), then deletes
older generations: a crash mid-build leaves the previous index in use. The manifest records the model
(name and weights hash), the chunking and cleaning settings, every document's content hash and rows, and
the size and sha256 of every file; anything that disagrees is detected on opening and rebuilt, reusing
whatever part is still sound (vectors are re-embedded only for documents that need it).

Dense search is exact (`IndexFlatIP`, inner product of unit vectors = cosine) up to `EXACT_LIMIT`
passages and approximate above it (`IndexHNSWFlat`): at 20k x 384 floats an exact scan costs a few
milliseconds a query on two cores, about what embedding the query costs, and grows linearly from there.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import bm25s
import faiss
import numpy as np
import Stemmer
import threadpoolctl

from kb.config import Paths
from kb.corpus.documents import (
    Corpus,
    Document,
    UnreadableDocument,
    document_files,
    document_id,
    file_hash,
    load_furniture,
    load_metadata,
    read_document,
)
from kb.corpus.passages import ChunkSettings, Passage, chunk
from kb.model.problems import Problem, display_path
from kb.retrieval.embeddings import Embedder

log = logging.getLogger("kb.retrieval.index")
# bm25s sets its own logger to DEBUG; keep it as quiet as ours unless --trace asks for more.
logging.getLogger("bm25s").setLevel(logging.WARNING)

FORMAT_VERSION = 1
# Above this many passages the dense index is approximate (HNSW); at or below, exact.
EXACT_LIMIT = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
EMBED_BATCH = 64
# One query vector at a time gains nothing from OpenMP threads, and on a busy machine their spin-waits
# cost more than the search (2 ms vs 5 ms a query at 100k passages measured here); builds use them all.
SEARCH_THREADS = 1
faiss.omp_set_num_threads(SEARCH_THREADS)
# numpy's own OpenBLAS too: an answer's products are small (a question against the reader's examples, a few
# passages), and between them its idle threads spin-wait. Measured on the served chat, 2 cores, 20 sessions:
# 60-66 ms of server CPU an answer with numpy's default two BLAS threads, 31-37 ms with one. Set here, where
# numpy is loaded (threadpoolctl reaches only libraries already loaded), for the whole process.
threadpoolctl.threadpool_limits(SEARCH_THREADS, user_api="blas")

Progress = Callable[[int, int], None]  # (passages embedded so far, passages to embed)


# --------------------------------------------------------------------------------------------------
# Contracts


class DenseIndex(Protocol):
    """Nearest unit vectors by inner product."""

    kind: str

    def __len__(self) -> int: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the k best rows for one query vector; rows are -1 where there are fewer."""
        ...

    def save(self, path: Path) -> None:
        """Write it to `path` (a file), to be loaded back by the implementation's `load`."""
        ...


class LexicalIndex(Protocol):
    """Term-matching scores for every passage."""

    def scores(self, query: str | Sequence[str]) -> np.ndarray:
        """One BM25 score per row (0 where no query term occurs); `query` a text or its parts."""
        ...

    def save(self, folder: Path) -> None:
        """Write it into `folder`, to be loaded back by the implementation's `load`."""
        ...


# --------------------------------------------------------------------------------------------------
# faiss


class FaissDense:
    """faiss: `IndexFlatIP` (exact) or `IndexHNSWFlat` with inner product (approximate)."""

    def __init__(self, index: Any):
        self._index = index
        self.kind = "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"
        if self.kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH

    @staticmethod
    def build(vectors: np.ndarray, exact_limit: int = EXACT_LIMIT) -> FaissDense:
        """An index over `vectors` (unit rows): exact up to `exact_limit` rows, HNSW above."""
        dim = vectors.shape[1]
        if len(vectors) <= exact_limit:
            index: Any = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        if len(vectors):
            faiss.omp_set_num_threads(os.cpu_count() or 1)
            try:
                index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            finally:
                faiss.omp_set_num_threads(SEARCH_THREADS)
        return FaissDense(index)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        scores, rows = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return scores[0], rows[0]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @staticmethod
    def load(path: Path) -> FaissDense:
        return FaissDense(faiss.read_index(str(path)))


# --------------------------------------------------------------------------------------------------
# bm25s

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'’.][A-Za-z0-9]+)*")
_STEMMER = Stemmer.Stemmer("english")
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed words without English stop words; hyphenated words also give their parts."""
    words: list[str] = []
    for m in _TOKEN.finditer(text.lower()):
        word = m.group(0).replace("’", "'")
        parts = re.split(r"[-'.]", word) if re.search(r"[-'.]", word) else []
        for w in (word, *parts):
            if w and w not in _STOPWORDS:
                words.append(w)
    return _STEMMER.stemWords(words) if words else []


@functools.lru_cache(maxsize=4096)
def _terms(text: str) -> tuple[str, ...]:
    return tuple(tokenize(text))


class BM25Lexical:
    """bm25s (Lucene BM25) over the passages' index texts."""

    def __init__(self, model: bm25s.BM25 | None, size: int):
        self._model = model  # None for an empty corpus: bm25s can't index nothing
        self._size = size

    @staticmethod
    def build(texts: Sequence[str]) -> BM25Lexical:
        if not texts:
            return BM25Lexical(None, 0)
        model = bm25s.BM25()
        model.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return BM25Lexical(model, len(texts))

    def scores(self, query: str | Sequence[str]) -> np.ndarray:
        """BM25 scores of every passage for the query: a text, or its parts (the same words as the parts joined
        by spaces; a rule's evidence hint recurs in answer after answer, and its words are found once)."""
        if self._model is None:
            return np.zeros(0, dtype=np.float32)
        parts = (query,) if isinstance(query, str) else query
        terms = [t for part in parts for t in _terms(part) if t in self._model.vocab_dict]
        if not terms:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._model.get_scores(terms), dtype=np.float32)

    def save(self, folder: Path) -> None:
        if self._model is None:
            folder.mkdir()
            (folder / "empty").write_text("no passages\n", encoding="utf-8")
        else:
            self._model.save(str(folder), show_progress=False)

    @staticmethod
    def load(folder: Path, size: int) -> BM25Lexical:
        if size == 0:
            return BM25Lexical(None, 0)
        model = bm25s.BM25.load(str(folder), show_progress=False)
        return BM25Lexical(model, size)


# --------------------------------------------------------------------------------------------------
# The index as a whole


@dataclass(frozen=True)
class IndexSettings:
    """Everything besides the documents that the stored index depends on; any change means a rebuild."""

    model: str
    model_hash: str
    chunking: ChunkSettings
    furniture: str
    exact_limit: int = EXACT_LIMIT

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT_VERSION, "model": self.model, "model_hash": self.model_hash,
                "chunking": self.chunking.to_dict(), "furniture": self.furniture,
                "exact_limit": self.exact_limit, "index_text": "heading+text"}


@dataclass(frozen=True, eq=False)
class PassageIndex:
    """Passages with their vectors, a dense and a lexical index over them, and where they came from."""

    passages: tuple[Passage, ...]
    vectors: np.ndarray
    dense: DenseIndex
    lexical: LexicalIndex
    documents: dict[str, dict[str, Any]]  # doc id -> {key, file, rows}
    skipped: dict[str, dict[str, Any]] = field(default_factory=dict)  # doc id -> {key, file, problem}

    def __len__(self) -> int:
        return len(self.passages)


@dataclass
class UpdateReport:
    """What opening the index did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0  # passages whose vectors were computed now
    reused: int = 0  # new passages whose vectors another index in the cache already held
    rebuilt: str = ""  # why the stored index was not used as it was ("" when it was)
    written: bool = False
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                f"{len(self.unchanged)} unchanged; {self.passages} passages ({self.embedded} embedded"
                f"{f', {self.reused} reused from another index' if self.reused else ''}); "
                f"{self.seconds:.2f}s" + (f"; rebuilt: {self.rebuilt}" if self.rebuilt else ""))


def index_dir(paths: Paths) -> Path:
    """Where this knowledge base's index lives: one folder per knowledge-base root under the cache."""
    root = str(paths.root.resolve())
    return paths.cache / "index" / f"{paths.root.name or 'root'}-{hashlib.sha256(root.encode()).hexdigest()[:10]}"


def _sha256(path: Path) -> str:
    return file_hash(path)


class _Invalid(Exception):
    """A stored index (or part of one) that can't be trusted; the message says why."""


@dataclass
class _Stored:
    folder: Path
    manifest: dict[str, Any]
    passages: list[Passage] | None = None
    vectors: np.ndarray | None = None
    dense: FaissDense | None = None
    lexical: BM25Lexical | None = None
    problem: str = ""


def _check_file(folder: Path, name: str, entry: dict[str, Any]) -> Path:
    path = folder / name
    if not path.is_file():
        raise _Invalid(f"{name} is missing")
    size = path.stat().st_size
    if size != entry.get("bytes"):
        raise _Invalid(f"{name} is {size} bytes, the manifest says {entry.get('bytes')} (truncated?)")
    if _sha256(path) != entry.get("sha256"):
        raise _Invalid(f"{name} does not match its checksum")
    return path


def _current(base: Path) -> tuple[Path, dict[str, Any]]:
    """The current generation's folder and manifest; OSError or ValueError when they can't be read."""
    folder = base / (base / "CURRENT").read_text(encoding="utf-8").strip()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        raise ValueError("manifest is not an object")
    return folder, manifest


def _passages_and_vectors(folder: Path, manifest: dict[str, Any]) -> tuple[list[Passage], np.ndarray]:
    """A generation's passages and vectors, each file checked against the manifest (size, checksum, count,
    shape); _Invalid (or OSError, ValueError, KeyError, TypeError) when they can't be trusted."""
    files: dict[str, Any] = manifest.get("files", {})
    n = int(manifest.get("passages", -1))
    path = _check_file(folder, "passages.jsonl", files.get("passages.jsonl", {}))
    passages = [Passage.from_dict(json.loads(line)) for line in path.read_text("utf-8").splitlines()]
    if len(passages) != n:
        raise _Invalid(f"passages.jsonl has {len(passages)} passages, the manifest says {n}")
    path = _check_file(folder, "vectors.npy", files.get("vectors.npy", {}))
    vectors = np.load(path, allow_pickle=False)
    if vectors.shape != (n, int(manifest.get("dimension", -1))) or vectors.dtype != np.float32:
        raise _Invalid(f"vectors.npy has shape {vectors.shape}, expected ({n}, {manifest.get('dimension')})")
    return passages, vectors


def _load_stored(base: Path, settings: IndexSettings) -> _Stored | None:
    """The current generation, as far as it can be trusted; None if there is none usable at all."""
    if not (base / "CURRENT").is_file():
        return None
    try:
        folder, manifest = _current(base)
    except (OSError, ValueError) as exc:
        log.info("index manifest unreadable (%s); rebuilding", exc)
        return _Stored(base, {}, problem=f"manifest unreadable ({exc})")
    if manifest.get("settings") != settings.to_dict():
        return _Stored(folder, manifest, problem="model, chunking or cleaning settings changed")
    stored = _Stored(folder, manifest)
    files: dict[str, Any] = manifest.get("files", {})
    n = int(manifest.get("passages", -1))
    try:
        stored.passages, stored.vectors = _passages_and_vectors(folder, manifest)
    except (_Invalid, OSError, ValueError, KeyError, TypeError) as exc:
        stored.problem = f"stored passages or vectors unusable: {exc}"
        return stored
    try:
        path = _check_file(folder, "dense.faiss", files.get("dense.faiss", {}))
        dense = FaissDense.load(path)
        if len(dense) != n:
            raise _Invalid(f"dense.faiss holds {len(dense)} vectors, expected {n}")
        bm25_files = {k: v for k, v in files.items() if k.startswith("bm25/")}
        if not bm25_files:
            raise _Invalid("bm25 files missing from the manifest")
        for name, entry in bm25_files.items():
            _check_file(folder, name, entry)
        stored.dense, stored.lexical = dense, BM25Lexical.load(folder / "bm25", n)
    except (_Invalid, OSError, ValueError, RuntimeError, KeyError) as exc:
        # faiss raises RuntimeError on a damaged file; the vectors are sound, so only the indexes rebuild.
        stored.problem = f"search indexes unusable: {exc}"
    return stored


STALE_SECONDS = 15 * 60
"""A temporary folder or pointer file this old is left over from an interrupted build, not one under way."""


def sweep(base: Path, now: float | None = None) -> list[str]:
    """Remove what interrupted builds left behind (`.tmp-gen-*` folders, `.CURRENT-*` pointer files) once
    they are older than STALE_SECONDS; the names removed."""
    if not base.is_dir():
        return []
    now = time.time() if now is None else now
    removed = []
    for item in base.iterdir():
        if not (item.name.startswith(".tmp-") or item.name.startswith(".CURRENT-")):
            continue
        try:
            if now - item.lstat().st_mtime < STALE_SECONDS:
                continue
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
            removed.append(item.name)
        except OSError:
            continue
    if removed:
        log.info("removed %d leftovers of interrupted index builds in %s", len(removed), base)
    return removed


def _write_generation(base: Path, settings: IndexSettings, index: PassageIndex) -> Path:
    """Write `index` as a new generation and make it current; return its folder."""
    base.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
    tmp = base / f".tmp-{name}"
    tmp.mkdir()
    try:
        with (tmp / "passages.jsonl").open("w", encoding="utf-8") as fh:
            for p in index.passages:
                fh.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        np.save(tmp / "vectors.npy", index.vectors, allow_pickle=False)
        index.dense.save(tmp / "dense.faiss")
        index.lexical.save(tmp / "bm25")
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            files[path.relative_to(tmp).as_posix()] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        manifest = {
            "settings": settings.to_dict(),
            "passages": len(index.passages),
            "dimension": int(index.vectors.shape[1]),
            "dense": index.dense.kind,
            "documents": index.documents,
            "skipped": index.skipped,
            "files": files,
            "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), "utf-8")
        for path in tmp.rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        final = base / name
        os.replace(tmp, final)
        pointer = base / f".CURRENT-{secrets.token_hex(4)}"
        pointer.write_text(name + "\n", encoding="utf-8")
        with pointer.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer, base / "CURRENT")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in base.iterdir():
        if old.name != name and (old.name.startswith("gen-") or old.name.startswith(".tmp-")):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _vectors_elsewhere(base: Path, settings: IndexSettings, wanted: set[str]) -> dict[str, np.ndarray]:
    """Vectors of the `wanted` passage texts that other knowledge bases' indexes in the same cache hold,
    made by the same model (an analyst's copy of a knowledge base embeds nothing it shares with the
    original). Only a generation whose passages and vectors pass their checksums is read; any other is
    passed over."""
    found: dict[str, np.ndarray] = {}
    parent = base.parent
    if not parent.is_dir():
        return found
    mine = settings.to_dict()
    for other in sorted(parent.iterdir()):
        if other == base or not other.is_dir() or len(found) == len(wanted):
            continue
        try:
            folder, manifest = _current(other)
            theirs = manifest.get("settings", {})
            if any(theirs.get(k) != mine[k] for k in ("format", "model", "model_hash", "index_text")):
                continue
            passages, vectors = _passages_and_vectors(folder, manifest)
        except (_Invalid, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.debug("index at %s not reused: %s", other, exc)
            continue
        for passage, vector in zip(passages, vectors, strict=True):
            text = passage.index_text()
            if text in wanted and text not in found:
                found[text] = vector
    return found


def _embed(embedder: Embedder, texts: list[str], progress: Progress | None) -> np.ndarray:
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for i in range(0, len(texts), EMBED_BATCH):
        out[i:i + EMBED_BATCH] = embedder.encode(texts[i:i + EMBED_BATCH], batch_size=EMBED_BATCH)
        if progress is not None:
            progress(min(i + EMBED_BATCH, len(texts)), len(texts))
    return out


def open_index(
    paths: Paths,
    embedder: Embedder,
    progress: Progress | None = None,
    chunking: ChunkSettings | None = None,
    exact_limit: int = EXACT_LIMIT,
    corpus: Corpus | None = None,
) -> tuple[PassageIndex, UpdateReport]:
    """Load the stored index, bringing it up to date with corpus/ first if it differs.

    `corpus`: the corpus as already read (a knowledge base reads it once); its documents' hashes and texts
    are used rather than reading the files again. Without it, files are hashed, and read only if changed.

    Unchanged documents keep their stored passages and vectors; only added or changed documents are read,
    cut and embedded. A stored index that is missing, damaged or built under other settings is rebuilt
    (as little of it as possible) and never used as it was. Unreadable documents are left out and
    reported in `report.problems`.
    """
    started = time.perf_counter()
    report = UpdateReport()
    corpus_dir = paths.corpus
    if corpus is not None and corpus.furniture is not None:
        metadata, furniture = corpus.metadata, corpus.furniture
    else:
        metadata, _ = load_metadata(corpus_dir)
        furniture, furniture_problems = load_furniture(corpus_dir)
        report.problems += furniture_problems
    read = {d.id: d for d in corpus.documents} if corpus is not None else {}
    settings = IndexSettings(embedder.name, embedder.fingerprint, chunking or ChunkSettings(),
                             furniture.fingerprint, exact_limit)
    base = index_dir(paths)
    sweep(base)

    # What the corpus holds now: each document's key is its bytes' hash plus its provenance.
    current: dict[str, tuple[Path, str]] = {}
    for path in document_files(corpus_dir):
        doc_id = document_id(corpus_dir, path)
        try:
            digest = read[doc_id].content_hash if doc_id in read else file_hash(path)
        except OSError as exc:
            report.problems.append(Problem(display_path(path), 0, f"skipped, can't read the file: {exc}"))
            continue
        meta = metadata.get(doc_id)
        key = hashlib.sha256(f"{digest}\n{meta!r}".encode()).hexdigest()
        current[doc_id] = (path, key)

    stored = _load_stored(base, settings)
    old_docs: dict[str, dict[str, Any]] = {}
    old_skipped: dict[str, dict[str, Any]] = {}
    if stored is None:
        report.rebuilt = "no index yet"
    elif stored.problem:
        report.rebuilt = stored.problem
        log.info("index at %s not used as it was: %s", stored.folder, stored.problem)
    if stored is not None and stored.passages is not None and stored.vectors is not None:
        old_docs = dict(stored.manifest.get("documents", {}))
        old_skipped = dict(stored.manifest.get("skipped", {}))

    skipped: dict[str, dict[str, Any]] = {}
    for doc_id in sorted(current):
        key = current[doc_id][1]
        if doc_id in old_docs and old_docs[doc_id].get("key") == key:
            report.unchanged.append(doc_id)
        elif doc_id in old_skipped and old_skipped[doc_id].get("key") == key:
            # Still the same unreadable file: report it again without trying it again.
            skipped[doc_id] = old_skipped[doc_id]
            report.problems.append(Problem(skipped[doc_id]["file"], 0, skipped[doc_id]["problem"]))
        elif doc_id in old_docs or doc_id in old_skipped:
            report.changed.append(doc_id)
        else:
            report.added.append(doc_id)
    report.removed = sorted((set(old_docs) | set(old_skipped)) - set(current))

    fresh = not report.added and not report.changed and not report.removed
    if stored is not None and not stored.problem and fresh:
        assert stored.passages is not None and stored.vectors is not None
        assert stored.dense is not None and stored.lexical is not None
        index = PassageIndex(tuple(stored.passages), stored.vectors, stored.dense, stored.lexical, old_docs,
                             skipped)
        report.passages = len(index)
        report.seconds = time.perf_counter() - started
        return index, report

    # Read and cut the new and changed documents.
    new_passages: dict[str, list[Passage]] = {}
    for doc_id in report.added + report.changed:
        path, key = current[doc_id]
        try:
            doc: Document = read[doc_id] if doc_id in read else read_document(path, corpus_dir,
                                                                              metadata.get(doc_id), furniture)
        except UnreadableDocument as exc:
            problem = Problem(display_path(path), 0, f"skipped, {exc}")
            report.problems.append(problem)
            skipped[doc_id] = {"key": key, "file": problem.path, "problem": problem.message}
            continue
        new_passages[doc_id] = chunk(doc, settings.chunking)
    to_embed = [p for doc_id in sorted(new_passages) for p in new_passages[doc_id]]
    texts = [p.index_text() for p in to_embed]
    known = _vectors_elsewhere(base, settings, set(texts)) if texts else {}
    unknown = list(dict.fromkeys(t for t in texts if t not in known))
    if unknown:
        known.update(zip(unknown, _embed(embedder, unknown, progress), strict=True))
    new_vectors = (np.stack([known[t] for t in texts]).astype(np.float32, copy=False) if texts
                   else np.zeros((0, embedder.dimension), np.float32))
    report.embedded = len(unknown)
    report.reused = len(texts) - len(unknown)
    new_rows = {}
    pos = 0
    for doc_id in sorted(new_passages):
        new_rows[doc_id] = (pos, pos + len(new_passages[doc_id]))
        pos += len(new_passages[doc_id])

    # Assemble in document order: stored rows for unchanged documents, new rows for the rest.
    passages: list[Passage] = []
    blocks: list[np.ndarray] = []
    documents: dict[str, dict[str, Any]] = {}
    for doc_id in sorted(set(report.unchanged) | set(new_passages)):
        start = len(passages)
        if doc_id in new_passages:
            s, e = new_rows[doc_id]
            passages.extend(to_embed[s:e])
            blocks.append(new_vectors[s:e])
        else:
            assert stored is not None and stored.passages is not None and stored.vectors is not None
            s, e = old_docs[doc_id]["rows"]
            passages.extend(stored.passages[s:e])
            blocks.append(stored.vectors[s:e])
        documents[doc_id] = {"key": current[doc_id][1], "file": display_path(current[doc_id][0], paths.root),
                             "rows": [start, len(passages)]}
    dim = embedder.dimension
    vectors = np.ascontiguousarray(np.concatenate(blocks) if blocks else np.zeros((0, dim), np.float32))
    index = PassageIndex(tuple(passages), vectors, FaissDense.build(vectors, exact_limit),
                         BM25Lexical.build([p.index_text() for p in passages]), documents, skipped)
    _write_generation(base, settings, index)
    report.written = True
    report.passages = len(index)
    report.seconds = time.perf_counter() - started
    log.info("index updated: %s", report.summary())
    return index, report


def build_memory_index(
    passages: Iterable[Passage], vectors: np.ndarray, exact_limit: int = EXACT_LIMIT
) -> PassageIndex:
    """An index held only in memory (benchmarks and evaluations over synthetic passages)."""
    items = tuple(passages)
    return PassageIndex(items, vectors, FaissDense.build(vectors, exact_limit),
                        BM25Lexical.build([p.index_text() for p in items]), {})
