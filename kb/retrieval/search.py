"""Evidence retrieval: find the corpus passages that support a statement, by meaning and by wording.

Dense search (the embedding model's cosine similarity) and lexical search (BM25) each rank candidates;
hybrid search fuses the two rankings. The fusion is a convex combination of min-max normalised scores
(Bruch et al., ACM TOIS 2023), with `ALPHA` the weight of the dense side; `kb eval` compares it with
reciprocal rank fusion and with each side alone on the labelled questions in
tests/data/retrieval/questions.yaml (the figures are in docs/corpus.md).

A `Citation`'s score is its support: the cosine similarity between the query and the passage, an
absolute measure (unlike fused scores, which are relative to one query's candidates), so that
`min_score=SUPPORT_THRESHOLD` can drop weak evidence and show none rather than a poor match.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from kb.config import Paths
from kb.corpus.documents import Corpus
from kb.corpus.passages import ChunkSettings, Citation
from kb.retrieval.embeddings import READS_CHARS, Embedder, default_embedder, export_onnx
from kb.retrieval.index import PassageIndex, Progress, UpdateReport, open_index

log = logging.getLogger("kb.retrieval.search")

Mode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["convex", "rrf"]

# Weight of the dense scores in the convex combination (the BM25 side gets 1 - ALPHA).
ALPHA = 0.6
FUSION: Fusion = "convex"
RRF_K = 60
# Candidates taken from each side before fusing.
POOL = 50
# Cosine similarity below which a passage is not shown as support.
SUPPORT_THRESHOLD = 0.2
# Query vectors kept per retriever (1.5 KB each).
QUERY_CACHE = 2048


@dataclass(frozen=True)
class FusionSettings:
    """How dense and lexical rankings are fused."""

    method: Fusion = FUSION
    alpha: float = ALPHA
    rrf_k: int = RRF_K
    pool: int = POOL


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def rank(
    index: PassageIndex,
    query_vector: np.ndarray,
    query: str | Sequence[str],
    k: int,
    mode: Mode = "hybrid",
    fusion: FusionSettings | None = None,
) -> list[tuple[int, float]]:
    """The best `k` rows of `index` for a query, as (row, cosine similarity) pairs, best first. `query`: the
    text searched lexically, whole or in parts (words never run across parts: see `BM25Lexical.scores`)."""
    fusion = fusion or FusionSettings()
    n = len(index)
    if n == 0 or k <= 0:
        return []
    pool = max(k, fusion.pool)
    cos_of = lambda rows: index.vectors[rows] @ query_vector  # noqa: E731 - exact cosines for candidates

    if mode == "dense":
        scores, rows = index.dense.search(query_vector, k)
        return [(int(r), float(s)) for r, s in zip(rows, scores, strict=True) if r >= 0]

    bm25 = index.lexical.scores(query)
    if mode == "bm25":
        top = np.argsort(-bm25, kind="stable")[:k]
        top = top[bm25[top] > 0]
        cos = cos_of(top) if len(top) else np.zeros(0)
        return [(int(r), float(c)) for r, c in zip(top, cos, strict=True)]

    _, dense_rows = index.dense.search(query_vector, pool)
    dense_rows = dense_rows[dense_rows >= 0]
    lex_rows = np.argpartition(-bm25, min(pool, n) - 1)[:pool] if n > pool else np.arange(n)
    lex_rows = lex_rows[bm25[lex_rows] > 0]
    candidates = np.unique(np.concatenate([dense_rows, lex_rows])).astype(np.int64)
    cos = cos_of(candidates)
    if fusion.method == "rrf":
        dense_rank = {int(r): i for i, r in enumerate(dense_rows)}
        lex_sorted = lex_rows[np.argsort(-bm25[lex_rows], kind="stable")]
        lex_rank = {int(r): i for i, r in enumerate(lex_sorted)}
        fused = np.array([
            (1.0 / (fusion.rrf_k + dense_rank[int(r)] + 1) if int(r) in dense_rank else 0.0)
            + (1.0 / (fusion.rrf_k + lex_rank[int(r)] + 1) if int(r) in lex_rank else 0.0)
            for r in candidates])
    else:
        fused = fusion.alpha * _minmax(cos) + (1 - fusion.alpha) * _minmax(bm25[candidates])
    order = np.argsort(-fused, kind="stable")[:k]
    return [(int(candidates[i]), float(cos[i])) for i in order]


class Retriever:
    """Searches one knowledge base's corpus. Open it once; `search` is safe to call repeatedly."""

    def __init__(self, index: PassageIndex, embedder: Embedder, report: UpdateReport | None = None,
                 fusion: FusionSettings | None = None):
        self.index = index
        self.embedder = embedder
        self.report = report or UpdateReport()
        self.fusion = fusion or FusionSettings()
        # Rules' evidence hints recur from one consultation to the next; their vectors need computing once.
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._fixed: dict[str, np.ndarray] = {}  # rules' evidence queries, embedded at load (`fixed_queries`)
        self._vectors_lock = threading.Lock()

    @staticmethod
    def _normal(query: str) -> str:
        return " ".join(query.split())

    def prepare(self, queries: Iterable[str]) -> None:
        """Embed, in one batch, the queries not embedded yet: an answer's queries cost one model call
        instead of one each (queries are normalised as `search` normalises them)."""
        wanted = list(dict.fromkeys(q for q in map(self._normal, queries) if q))
        with self._vectors_lock:
            missing = [q for q in wanted if q not in self._vectors and q not in self._fixed]
        if missing:
            self._remember(missing, self.embedder.encode(missing))

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts, embedded in one batch where not embedded yet and kept for later searches: the
        reader embeds a question once, and retrieval reuses that vector."""
        normal = [self._normal(t) or " " for t in texts]
        self.prepare(normal)
        return np.stack([self._query_vector(t) for t in normal]) if normal else np.zeros((0, 1), np.float32)

    def forget_asked(self) -> None:
        """Drop the vectors of questions and other queries embedded at answer time (the load's fixed ones
        stay): the next answer embeds its question as a new one would be."""
        with self._vectors_lock:
            self._vectors.clear()

    def _remember(self, queries: Sequence[str], vectors: np.ndarray) -> None:
        with self._vectors_lock:
            for q, v in zip(queries, vectors, strict=True):
                self._vectors[q] = v
                self._vectors.move_to_end(q)
            while len(self._vectors) > QUERY_CACHE:
                self._vectors.popitem(last=False)

    def _query_vector(self, query: str) -> np.ndarray:
        with self._vectors_lock:
            vector = self._fixed.get(query)
            if vector is not None:
                return vector
            vector = self._vectors.get(query)
            if vector is not None:
                self._vectors.move_to_end(query)
                return vector
        vector = self.embedder.encode([query])[0]
        self._remember([query], vector[None, :])
        return vector

    @classmethod
    def open(
        cls,
        paths: Paths,
        progress: Progress | None = None,
        embedder: Embedder | None = None,
        chunking: ChunkSettings | None = None,
        corpus: Corpus | None = None,
    ) -> Retriever:
        """Load the index of `paths` (updating it first if the corpus changed); `progress(done, total)` is
        called while passages are embedded. Unreadable documents are in `retriever.report.problems`.
        `corpus`: the corpus as already read, so its files are not read again. Without an `embedder`, the
        process's default one is used, and the model is exported to ONNX in the cache if it was not yet
        (checked on the corpus's passages), so later processes embed questions without importing torch."""
        chosen = embedder or default_embedder(paths.cache)
        index, report = open_index(paths, chosen, progress=progress, chunking=chunking, corpus=corpus)
        for problem in report.problems:
            log.info("%s", problem)
        if embedder is None:
            export_onnx(chosen, paths.cache, [p.text for p in index.passages[:64]])
        return cls(index, chosen, report)

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid", min_score: float | None = None
               ) -> list[Citation]:
        """The `k` passages that best answer `query`, best first; with `min_score`, only those whose
        support (cosine similarity) reaches it, so a weak match yields no citation rather than a poor one."""
        query = " ".join(query.split())
        if not query:
            return []
        vector = self._query_vector(query)
        ranked = rank(self.index, vector, query, k, mode, self.fusion)
        out = [Citation(self.index.passages[row], score) for row, score in ranked]
        if min_score is not None:
            out = [c for c in out if c.score >= min_score]
        log.debug("search %r -> %s", query, [(c.passage.key, round(c.score, 3)) for c in out])
        return out

    def quoted(self, quote: str, query: str, doc: str | None = None) -> Citation | None:
        """The passage holding `quote` (whitespace and case aside; of `doc`, if given), scored by its cosine
        similarity to `query`; None if no passage holds it. Rules name the passage they rest on this way."""
        row = self._quote_row(" ".join(quote.split()).lower(), doc)
        if row is None:
            return None
        vector = self._query_vector(self._normal(query))
        return Citation(self.index.passages[row], float(self.index.vectors[row] @ vector))

    @functools.cached_property
    def _folded(self) -> tuple[str, ...]:
        return tuple(" ".join(p.text.split()).lower() for p in self.index.passages)

    @functools.lru_cache(maxsize=QUERY_CACHE)  # noqa: B019 - one retriever per knowledge base, kept for its life
    def _quote_row(self, quote: str, doc: str | None) -> int | None:
        for row, text in enumerate(self._folded):
            if quote in text and (doc is None or self.index.passages[row].doc == doc):
                return row
        return None

    def fixed_queries(self, queries: Iterable[str], cache: Path | None) -> int:
        """Vectors of queries known when the knowledge base loads (rules' evidence queries), kept in memory
        for its life and on disk under `cache`, keyed by the model and each text's hash: an unchanged rule
        base embeds nothing, and an answer embeds only its question. Returns how many were embedded now."""
        wanted = list(dict.fromkeys(q for q in map(self._normal, queries) if q))
        stored = _load_query_vectors(cache, self.embedder.fingerprint)
        keys = {q: hashlib.sha256(q.encode("utf-8")).hexdigest() for q in wanted}
        missing = [q for q in wanted if keys[q] not in stored]
        if missing:
            for q, v in zip(missing, self.embedder.encode(missing), strict=True):
                stored[keys[q]] = np.asarray(v, dtype=np.float32)
            _save_query_vectors(cache, self.embedder.fingerprint, {keys[q]: stored[keys[q]] for q in wanted})
        with self._vectors_lock:
            for q in wanted:
                self._fixed[q] = stored[keys[q]]
        return len(missing)

    def evidence(self, hint: str, question: str = "", k: int = 3,
                 min_score: float | None = SUPPORT_THRESHOLD) -> list[Citation]:
        """Passages supporting a conclusion, weak ones left out: searched densely with the rule's evidence
        hint and the asker's question (the sum of their vectors, each embedded once: the hint at load, the
        question when it was read) and lexically with both texts."""
        text = self.evidence_query(hint, question)
        if not text:
            return []
        vector = self.evidence_vector(hint, question)
        ranked = rank(self.index, vector, (hint.strip(), question.strip()[:READS_CHARS]), k, "hybrid", self.fusion)
        out = [Citation(self.index.passages[row], score) for row, score in ranked]
        return out if min_score is None else [c for c in out if c.score >= min_score]

    def evidence_vector(self, hint: str, question: str = "") -> np.ndarray:
        """The dense query of `evidence`: the hint's vector plus the question's, at unit length."""
        vector = self._query_vector(self._normal(hint))
        asked = self._normal(question.strip()[:READS_CHARS])
        if asked:
            vector = vector + self._query_vector(asked)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    @staticmethod
    def evidence_query(hint: str, question: str) -> str:
        """The text evidence is searched with: the hint, then the start of the question (as much as the
        model reads: a 20,000-character question costs no long tokenisation per conclusion)."""
        return f"{hint.strip()} {question.strip()[:READS_CHARS]}".strip()


QUERY_VECTORS = "query-vectors"
"""Folder of the cache holding fixed queries' vectors, one .npz per model (no pickles: data only)."""


def _query_vectors_path(cache: Path | None, model: str) -> Path | None:
    return cache / QUERY_VECTORS / f"{model[:16]}.npz" if cache is not None else None


def _load_query_vectors(cache: Path | None, model: str) -> dict[str, np.ndarray]:
    """Stored vectors by text hash; an unreadable or mismatched file counts as empty (it is rebuilt)."""
    path = _query_vectors_path(cache, model)
    if path is None or not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"], data["vectors"]
            if keys.shape[0] != vectors.shape[0] or vectors.ndim != 2:
                return {}
            return {str(k): np.asarray(v, dtype=np.float32) for k, v in zip(keys, vectors, strict=True)}
    except (OSError, ValueError, KeyError) as exc:
        log.info("ignoring the query vector cache %s: %s", path, exc)
        return {}


def _save_query_vectors(cache: Path | None, model: str, vectors: dict[str, np.ndarray]) -> None:
    path = _query_vectors_path(cache, model)
    if path is None or not vectors:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
        np.savez(tmp, keys=np.array(list(vectors), dtype="U64"), vectors=np.stack(list(vectors.values())))
        tmp.replace(path)
    except OSError as exc:  # a read-only cache costs an embedding per load, nothing else
        log.info("could not store query vectors in %s: %s", path, exc)


def progress_bar(desc: str = "embedding passages") -> tuple[Progress, Callable[[], None]]:
    """A tqdm progress callback for `Retriever.open`/`open_index`, and a function that closes the bar."""
    from tqdm import tqdm

    bar: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc=desc, unit="passage"))
        bar[0].update(done - bar[0].n)

    def close() -> None:
        if bar:
            bar[0].close()

    return update, close


def index_main(argv: list[str]) -> int:
    """`kb index`: build or update the passage index and say what was done."""
    import sys

    from kb.cli import options

    parser = options.parser("kb index", "Build or update the corpus index.")
    parser.add_argument("--search", metavar="QUERY", help="afterwards, print the best passages for QUERY")
    parser.add_argument("-k", type=int, default=5, help="passages to print with --search (default 5)")
    ns = parser.parse_args(argv)
    paths = options.paths(ns)
    update, close = progress_bar()
    try:
        retriever = Retriever.open(paths, progress=update)
    finally:
        close()
    report = retriever.report
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(f"documents: {len(report.added)} added, {len(report.changed)} changed, "
          f"{len(report.removed)} removed, {len(report.unchanged)} unchanged")
    for label, ids in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        for doc_id in ids:
            print(f"  {label}: {doc_id}")
    print(f"passages: {report.passages} ({report.embedded} embedded now); dense index: "
          f"{retriever.index.dense.kind}")
    if report.rebuilt:
        print(f"rebuilt: {report.rebuilt}")
    print(f"seconds: {report.seconds:.2f}")
    if ns.search:
        for c in retriever.search(ns.search, k=ns.k):
            p = c.passage
            print(f"\n[{c.score:.3f}] {p.doc}:{p.start}-{p.end}  {p.heading}\n{p.text}")
    return 1 if report.problems else 0
