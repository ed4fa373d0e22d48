"""`kb bench reader`: how long reading a question takes, apart from embedding it, as JSON.

Reads every utterance of the labelled dev split (`--rounds` times), timing each reading and, inside it, the
one call to the embedding model (the question and its clauses in one batch, shared with retrieval).
The embedding cache is bypassed so every reading embeds afresh. Prints medians and p95 with the load average.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from kb.benchmarks import quantile
from kb.cli import options


def main(argv: list[str]) -> int:
    parser = options.parser("kb bench reader", __doc__)
    parser.add_argument("--rounds", type=int, default=2)
    ns = parser.parse_args(argv)
    from kb.advisor.advise import KnowledgeBase
    from kb.advisor.reader import Reader
    from kb.advisor.reading_eval import load_files, split_files

    paths = options.paths(ns)
    kb = KnowledgeBase.load(paths)
    embedder = kb.retriever.embedder
    embed_seconds: list[float] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        out = embedder.encode(list(texts))
        embed_seconds.append(time.perf_counter() - started)
        return out

    # the knowledge base's reader, but embedding with the same model without the retriever's cache, timed
    reader = Reader(kb.phrasebook, kb.matcher, embed, embedder.fingerprint, paths.cache)
    texts = [u.text for u in load_files(split_files(paths.reader / "eval", "dev"))]
    load_before = os.getloadavg()
    total: list[float] = []
    apart: list[float] = []
    for _ in range(ns.rounds):
        for text in texts:
            n = len(embed_seconds)
            started = time.perf_counter()
            reader.read(text)
            elapsed = time.perf_counter() - started
            total.append(elapsed)
            apart.append(elapsed - sum(embed_seconds[n:]))
    kb.close()
    ms = 1000.0
    out: dict[str, Any] = {
        "questions": len(total),
        "read_without_embedding_ms": {"p50": round(statistics.median(apart) * ms, 2),
                                      "p95": round(quantile(apart, 0.95) * ms, 2)},
        "embedding_ms": {"p50": round(statistics.median(embed_seconds) * ms, 2),
                         "p95": round(quantile(embed_seconds, 0.95) * ms, 2)},
        "read_total_ms": {"p50": round(statistics.median(total) * ms, 2), "p95": round(quantile(total, 0.95) * ms, 2)},
        "loadavg_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(out, indent=2))
    return 0
