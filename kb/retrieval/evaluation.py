"""Retrieval evaluation: recall@1, recall@5 and MRR of BM25, dense and hybrid search on labelled questions.

The questions (tests/data/retrieval/questions.yaml) name their answers by document and a verbatim quote
of its cleaned text, so the labels survive changes to chunking: a passage answers a question when it
holds at least half of one of the quotes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.config import PROJECT_ROOT, Paths
from kb.corpus.documents import load_corpus
from kb.corpus.passages import Passage
from kb.model.problems import KnowledgeError, Problem, display_path
from kb.retrieval.search import ALPHA, SUPPORT_THRESHOLD, FusionSettings, Mode, Retriever, rank
from kb.yamlfile import read_checked

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "retrieval" / "questions.yaml"


@dataclass(frozen=True)
class Answer:
    """Where an answer lies: a span of a document's cleaned text."""

    doc: str
    quote: str
    start: int
    end: int

    def answered_by(self, passage: Passage) -> bool:
        """The passage holds at least half of the quote."""
        if passage.doc != self.doc:
            return False
        overlap = min(self.end, passage.end) - max(self.start, passage.start)
        return overlap >= (self.end - self.start) / 2


@dataclass(frozen=True)
class Question:
    """A labelled question."""

    id: str
    text: str
    answers: tuple[Answer, ...]
    line: int


@dataclass(frozen=True)
class Metrics:
    """Scores of one retrieval method over the questions."""

    method: str
    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr: float


QUESTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["questions"],
    "additionalProperties": False,
    "properties": {
        "questions": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "question", "answers"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string"},
                "question": {"type": "string", "minLength": 1},
                "answers": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["doc", "quote"], "additionalProperties": False,
                    "properties": {"doc": {"type": "string"}, "quote": {"type": "string", "minLength": 1}},
                }},
            },
        }},
        "no_answer": {"type": "array", "items": {"type": "string"}},
    },
}
"""The retrieval questions file: each question with the document and verbatim quote that answer it."""


def read_questions(path: Path, problems: list[Problem]) -> Any:
    """The retrieval questions file, checked against QUESTIONS_SCHEMA; None with the problems recorded."""
    return read_checked(path, QUESTIONS_SCHEMA, problems, "the retrieval questions",
                        "the labelled questions are kept here")


def load_questions(paths: Paths, path: Path = QUESTIONS) -> tuple[list[Question], list[str], list[Problem]]:
    """The labelled questions, the unanswerable ones, and problems (a quote not found in its document)."""
    shown = display_path(path)
    problems: list[Problem] = []
    data = read_questions(path, problems)
    if data is None:
        return [], [], problems
    lines = data["questions"].item_lines
    corpus = load_corpus(paths)
    docs = {d.id: d for d in corpus.documents}
    questions: list[Question] = []
    for i, entry in enumerate(data.get("questions") or []):
        line = lines[i] if i < len(lines) else 0
        answers: list[Answer] = []
        for ans in entry.get("answers") or []:
            doc = docs.get(str(ans.get("doc")))
            quote = str(ans.get("quote") or "")
            if doc is None:
                problems.append(Problem(shown, line, f"{entry.get('id')}: no document {ans.get('doc')!r}"))
                continue
            at = doc.text.find(quote) if quote else -1
            if at < 0:
                problems.append(Problem(shown, line, f"{entry.get('id')}: quote not in {doc.id}: {quote!r}"))
                continue
            answers.append(Answer(doc.id, quote, at, at + len(quote)))
        if not answers:
            problems.append(Problem(shown, line, f"{entry.get('id')}: no answer found in the corpus"))
            continue
        questions.append(Question(str(entry["id"]), str(entry["question"]), tuple(answers), line))
    return questions, [str(q) for q in data.get("no_answer") or []], problems


def first_hit(ranked: list[Passage], question: Question) -> int | None:
    """1-based rank of the first passage that answers the question, or None."""
    for i, passage in enumerate(ranked, start=1):
        if any(a.answered_by(passage) for a in question.answers):
            return i
    return None


def evaluate(
    retriever: Retriever,
    questions: list[Question],
    methods: dict[str, tuple[Mode, FusionSettings | None]],
    k: int = 5,
) -> list[Metrics]:
    """Metrics of each named method (mode and fusion settings) over the questions."""
    vectors = retriever.embedder.encode([q.text for q in questions])
    out: list[Metrics] = []
    for name, (mode, fusion) in methods.items():
        hits: list[int | None] = []
        for q, vec in zip(questions, vectors, strict=True):
            ranked = rank(retriever.index, vec, q.text, k, mode, fusion or retriever.fusion)
            hits.append(first_hit([retriever.index.passages[r] for r, _ in ranked], q))
        n = len(questions)
        out.append(Metrics(
            name, n,
            sum(1 for h in hits if h == 1) / n,
            sum(1 for h in hits if h is not None and h <= 5) / n,
            sum(1.0 / h for h in hits if h is not None) / n,
        ))
    return out


def standard_methods() -> dict[str, tuple[Mode, FusionSettings | None]]:
    """BM25 alone, dense alone, and the hybrid as configured in kb.retrieval.search."""
    return {"bm25": ("bm25", None), "dense": ("dense", None), "hybrid": ("hybrid", None)}


def fusion_sweep() -> dict[str, tuple[Mode, FusionSettings | None]]:
    """The fusion choices `kb eval --sweep` compares: RRF and convex combinations over a range of weights."""
    methods: dict[str, tuple[Mode, FusionSettings | None]] = {
        "hybrid rrf k=60": ("hybrid", FusionSettings(method="rrf", rrf_k=60)),
    }
    for alpha in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        methods[f"hybrid convex alpha={alpha}"] = ("hybrid", FusionSettings(method="convex", alpha=alpha))
    return methods


def support_separation(retriever: Retriever, questions: list[Question], no_answer: list[str]
                       ) -> dict[str, float]:
    """Support (cosine) of the first answering passage for each question vs the best passage for each
    unanswerable one: the threshold should sit between the two."""
    answered: list[float] = []
    for q in questions:
        for c in retriever.search(q.text, k=5):
            if any(a.answered_by(c.passage) for a in q.answers):
                answered.append(c.score)
                break
    unanswered = [max((c.score for c in retriever.search(q, k=5)), default=0.0) for q in no_answer]
    return {
        "threshold": SUPPORT_THRESHOLD,
        "answers_min": min(answered, default=0.0),
        "answers_p10": float(np.percentile(answered, 10)) if answered else 0.0,
        "answers_below_threshold": sum(1 for s in answered if s < SUPPORT_THRESHOLD),
        "no_answer_max": max(unanswered, default=0.0),
    }


def main(argv: list[str]) -> int:
    """`kb eval`: print recall@1, recall@5 and MRR for BM25, dense and hybrid retrieval;
    `kb eval understanding`: how well questions are read (kb.advisor.reading_eval)."""
    from kb.cli import options

    if argv and argv[0] == "citations":
        from kb.advisor.citation_eval import main as citations_main

        return citations_main(argv[1:])
    if argv and argv[0] == "understanding":
        from kb.advisor.reading_eval import main as understanding_main

        return understanding_main(argv[1:])
    parser = options.parser("kb eval", __doc__)
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="labelled questions (YAML)")
    parser.add_argument("--sweep", action="store_true", help="also compare RRF and convex weights")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ns = parser.parse_args(argv)
    paths = options.paths(ns)
    questions, no_answer, problems = load_questions(paths, ns.questions)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not questions:
        raise KnowledgeError(problems)
    retriever = Retriever.open(paths)
    methods = standard_methods()
    if ns.sweep:
        methods.update(fusion_sweep())
    results = evaluate(retriever, questions, methods)
    support = support_separation(retriever, questions, no_answer)
    if ns.json:
        print(json.dumps({"results": [asdict(m) for m in results], "support": support,
                          "fusion": asdict(retriever.fusion)}, indent=2))
        return 0
    print(f"{len(questions)} questions, {len(retriever.index)} passages; hybrid = "
          f"{retriever.fusion.method} (alpha={ALPHA})")
    print(f"{'method':<28} {'recall@1':>9} {'recall@5':>9} {'MRR':>7}")
    for m in results:
        print(f"{m.method:<28} {m.recall_at_1:>9.3f} {m.recall_at_5:>9.3f} {m.mrr:>7.3f}")
    print("support: " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in support.items()))
    return 0
