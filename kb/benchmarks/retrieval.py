"""`kb bench retrieval`: index build throughput and hybrid query latency at 1k, 10k and 100k passages.

What is measured, exactly:
- build: `--build` synthetic passages (sentences of the shipped corpus recombined at random, 1 to 4 a
  passage) are embedded with the real model and indexed (faiss + bm25s) as `kb index` does; passages/s
  is reported for embedding, for indexing, and for the two together.
- latency at each size: the lexical index is a real bm25s index over that many synthetic passages
  (recombined sentences, so the vocabulary and posting lists are those of real prose). The dense index is
  a real faiss index of the kind `kb index` would choose for that size (exact up to
  kb.retrieval.index.EXACT_LIMIT, HNSW above), over vectors made from the `--build` real embeddings, replicated
  with small Gaussian noise and re-normalised (embedding 100k passages would take most of an hour here
  and is not what the latency depends on). Each query is a real question, embedded by the real model
  every time; the latency of one query is embedding + dense search + BM25 scoring + fusion, i.e. a
  whole `Retriever.search`.
Figures are printed as JSON (and written to `--out` if given).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from kb.cli import options
from kb.config import Paths
from kb.corpus.documents import load_corpus
from kb.corpus.passages import Passage, sentences
from kb.retrieval.embeddings import default_embedder
from kb.retrieval.evaluation import QUESTIONS
from kb.retrieval.index import EXACT_LIMIT, BM25Lexical, FaissDense, PassageIndex
from kb.retrieval.search import Retriever, rank


def corpus_sentences(paths: Paths) -> list[str]:
    """Every sentence of the corpus (at least 20 characters long)."""
    out = []
    for doc in load_corpus(paths).documents:
        out += [doc.text[s:e] for s, e in sentences(doc.text) if e - s >= 20]
    return out


def synthetic_passages(pool: list[str], n: int, seed: int) -> list[Passage]:
    """`n` passages of 1-4 corpus sentences drawn at random."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 4)))
        out.append(Passage(f"synthetic-{i // 100}", "Synthetic", "", 0, len(text), text))
    return out


def replicate(vectors: np.ndarray, n: int, sigma: float, seed: int) -> np.ndarray:
    """`n` unit vectors: copies of `vectors` with Gaussian noise, re-normalised."""
    rng = np.random.default_rng(seed)
    out = vectors[np.arange(n) % len(vectors)].copy()
    if n > len(vectors):
        out[len(vectors):] += rng.normal(0.0, sigma, size=(n - len(vectors), vectors.shape[1])).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return np.ascontiguousarray(out, dtype=np.float32)


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 2)


def questions(path: Path = QUESTIONS) -> list[str]:
    from kb.model.problems import KnowledgeError, Problem
    from kb.retrieval.evaluation import read_questions

    problems: list[Problem] = []
    data = read_questions(path, problems)
    if data is None:
        raise KnowledgeError(problems)
    return [q["question"] for q in data["questions"]] + list(data.get("no_answer") or [])


def main(argv: list[str]) -> int:
    """Run the benchmark and print its figures as JSON."""
    parser = options.parser("kb bench retrieval", __doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="passage counts (comma-separated)")
    parser.add_argument("--build", type=int, default=1000, help="passages embedded for build throughput")
    parser.add_argument("--queries", type=int, default=300, help="timed queries per size")
    parser.add_argument("--noise", type=float, default=0.02, help="std. dev. of the replication noise")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    ns = parser.parse_args(argv)
    sizes = [int(s) for s in ns.sizes.split(",") if s.strip()]
    paths = options.paths(ns)
    pool = corpus_sentences(paths)

    t = time.perf_counter()
    embedder = default_embedder()
    load_s = time.perf_counter() - t

    base = synthetic_passages(pool, ns.build, ns.seed)
    t = time.perf_counter()
    base_vectors = embedder.encode([p.index_text() for p in base], batch_size=64)
    embed_s = time.perf_counter() - t
    t = time.perf_counter()
    FaissDense.build(base_vectors)
    BM25Lexical.build([p.index_text() for p in base])
    index_s = time.perf_counter() - t
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "model_load_s": round(load_s, 2),
        "build": {
            "passages": ns.build,
            "mean_chars": round(sum(len(p.text) for p in base) / len(base), 1),
            "embed_passages_per_s": round(ns.build / embed_s, 1),
            "index_passages_per_s": round(ns.build / index_s, 1),
            "total_passages_per_s": round(ns.build / (embed_s + index_s), 1),
        },
        "latency": [],
        "exact_limit": EXACT_LIMIT,
        "method": "hybrid (dense + BM25, convex fusion) incl. query embedding; dense vectors replicated "
                  f"from {ns.build} real embeddings with N(0, {ns.noise}) noise; BM25 over recombined "
                  "corpus sentences",
    }
    qs = questions()
    for n in sizes:
        passages = synthetic_passages(pool, n, ns.seed + n)
        vectors = replicate(base_vectors, n, ns.noise, ns.seed)
        t = time.perf_counter()
        dense = FaissDense.build(vectors)
        dense_s = time.perf_counter() - t
        t = time.perf_counter()
        lexical = BM25Lexical.build([p.index_text() for p in passages])
        lexical_s = time.perf_counter() - t
        index = PassageIndex(tuple(passages), vectors, dense, lexical, {})
        retriever = Retriever(index, embedder)
        for q in qs[:10]:  # warm-up: first calls allocate
            retriever.search(q, k=5)
        total: list[float] = []
        embed: list[float] = []
        cpu: list[float] = []
        load_before = os.getloadavg()[0]
        for i in range(ns.queries):
            q = qs[i % len(qs)]
            c0 = time.thread_time()
            t0 = time.perf_counter()
            vec = embedder.encode([q])[0]
            t1 = time.perf_counter()
            rank(index, vec, q, 5, "hybrid")
            t2 = time.perf_counter()
            cpu.append(time.thread_time() - c0)
            embed.append(t1 - t0)
            total.append(t2 - t0)
        search = [a - b for a, b in zip(total, embed, strict=True)]
        result["latency"].append({
            "passages": n,
            "dense_index": dense.kind,
            "dense_build_s": round(dense_s, 2),
            "bm25_build_s": round(lexical_s, 2),
            "queries": ns.queries,
            "p50_ms": percentile(total, 50),
            "p95_ms": percentile(total, 95),
            "embed_p50_ms": percentile(embed, 50),
            "search_p50_ms": percentile(search, 50),
            "search_p95_ms": percentile(search, 95),
            # CPU time of the querying thread: what a query costs when it has a core to itself
            "cpu_p50_ms": percentile(cpu, 50),
            "cpu_p95_ms": percentile(cpu, 95),
            # other work on the machine while timing (1-minute load average, before and after)
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        })
    text = json.dumps(result, indent=2)
    print(text)
    if ns.out:
        ns.out.parent.mkdir(parents=True, exist_ok=True)
        ns.out.write_text(text + "\n", encoding="utf-8")
    return 0
