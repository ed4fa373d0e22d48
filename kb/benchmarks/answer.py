"""`kb bench answer`: how long a warm answer takes (knowledge base loaded), and how many embedding-model
calls and texts it costs, as JSON.

Asks every end-to-end question (reader/eval/end_to_end.yaml) in a fresh conversation, `--rounds` times
over, after one untimed warm-up question. Prints medians and p95 of the whole answer (reading, rules,
evidence, the answer value) with the load average before and after.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

from kb.benchmarks import quantile
from kb.cli import options


def main(argv: list[str]) -> int:
    parser = options.parser("kb bench answer", __doc__)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--question", help="time this one question, --rounds times (default: every end-to-end "
                                           "question once per round); each time embedded afresh, as a new "
                                           "question would be")
    ns = parser.parse_args(argv)
    from kb.advisor.advise import Advisor, KnowledgeBase
    from kb.advisor.conversation import Conversation
    from kb.advisor.reading_eval import _read, end_to_end_schema

    paths = options.paths(ns)
    kb = KnowledgeBase.load(paths)
    embedder = kb.retriever.embedder
    calls: list[int] = []
    original = embedder.encode

    def counted(texts: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(len(texts))
        return original(texts, *args, **kwargs)

    embedder.encode = counted  # type: ignore[method-assign]
    advisor = Advisor(kb)
    questions = [ns.question] if ns.question else [
        str(q["text"]) for q in _read(paths.reader / "eval" / "end_to_end.yaml", end_to_end_schema())["questions"]]
    advisor.ask(Conversation(), "warm-up: we are a small team, build or buy?")
    load_before = os.getloadavg()
    seconds: list[float] = []
    per_answer_calls: list[int] = []
    per_answer_texts: list[int] = []
    for _ in range(ns.rounds):
        for q in questions:
            kb.retriever.forget_asked()
            n = len(calls)
            started = time.perf_counter()
            advisor.ask(Conversation(), q)
            seconds.append(time.perf_counter() - started)
            per_answer_calls.append(len(calls) - n)
            per_answer_texts.append(sum(calls[n:]))
    load_after = os.getloadavg()
    kb.close()
    ms = [s * 1000 for s in seconds]
    print(json.dumps({
        "answers": len(ms),
        "answer_ms": {"p50": round(statistics.median(ms), 1), "p95": round(quantile(ms, 0.95), 1),
                      "max": round(max(ms), 1)},
        "model_calls_per_answer": {"p50": statistics.median(per_answer_calls), "max": max(per_answer_calls)},
        "texts_embedded_per_answer": {"p50": statistics.median(per_answer_texts), "max": max(per_answer_texts)},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
    }, indent=2))
    return 0
