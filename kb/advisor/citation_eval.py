"""`kb eval citations`: do the passages an answer cites support the conclusions they are cited under?

The labelled set is `tests/data/citations/*.yaml`: (conclusion, passage, supports, furniture) pairs drawn
from real answers and from each rule's best-ranked passages, labelled by reading. The end-to-end questions
(`reader/eval/end_to_end.yaml`) and the reader's dev utterances (`reader/eval/dev*.yaml`, never its test
split) are answered and every citation is looked up in the set:

- precision: of the cited (conclusion, passage) pairs that are labelled, the share labelled as support;
- own-passage recall: of the conclusions whose rule names its passage (`evidence.quote`), the share citing
  that passage;
- furniture: the share of citations that are page furniture (an author's biography, a sign-off, advice to
  vendors, a title line);
- unlabelled: cited pairs the set does not hold (reported, never counted as right or wrong).

Pairs are split by rule: a rule whose id hashes to 0 mod 4 is in the test split (never used for fitting).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.model.problems import KnowledgeError, Problem
from kb.yamlfile import read_checked

TARGETS = {"precision": 0.95, "own_passage_recall": 1.0, "furniture_rate_max": 0.02}
"""The issue's targets (docs/advisor.md)."""
LABELS = Path("tests") / "data" / "citations"
PREFIX = 120
"""Characters of a passage's start (whitespace collapsed) that identify it in the labelled set."""


def labels_schema() -> dict[str, Any]:
    text = {"type": "string", "minLength": 1}
    return {
        "type": "object", "title": "a labelled citation file", "required": ["pairs"], "additionalProperties": False,
        "properties": {"pairs": {"type": "array", "items": {
            "type": "object", "title": "a labelled pair", "additionalProperties": False,
            "required": ["rule", "doc", "passage", "supports", "furniture"],
            "properties": {"rule": text, "kind": text, "statement": text, "doc": text, "passage": text,
                           "supports": {"type": "boolean"}, "furniture": {"type": "boolean"}, "why": text},
        }}},
    }


def split_of(rule_id: str) -> str:
    """`test` for about one rule in four (by the hash of its id), else `dev`."""
    return "test" if hashlib.sha256(rule_id.encode("utf-8")).digest()[0] % 4 == 0 else "dev"


def _key(text: str) -> str:
    return " ".join(text.split())[:PREFIX]


@dataclass(frozen=True)
class Label:
    rule: str
    doc: str
    passage: str
    supports: bool
    furniture: bool


@dataclass
class Labels:
    """Labels by (rule, doc, passage start)."""

    by_key: dict[tuple[str, str, str], Label] = field(default_factory=dict)

    def find(self, rule: str, doc: str, text: str) -> Label | None:
        return self.by_key.get((rule, doc, _key(text)))

    def furniture(self, doc: str, text: str) -> bool | None:
        """Whether any label calls this passage furniture (None if no label holds it)."""
        marks = [lab.furniture for (_, d, k), lab in self.by_key.items() if d == doc and k == _key(text)]
        return any(marks) if marks else None


def load_labels(folder: Path) -> Labels:
    problems: list[Problem] = []
    out = Labels()
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise KnowledgeError([Problem(str(folder), 0, "no labelled citation files (*.yaml)")])
    for path in files:
        data = read_checked(path, labels_schema(), problems, "a labelled citation file")
        for item in data["pairs"] if data else ():
            label = Label(item["rule"], item["doc"], item["passage"], item["supports"], item["furniture"])
            out.by_key[(label.rule, label.doc, _key(label.passage))] = label
    if problems:
        raise KnowledgeError(problems)
    return out


@dataclass
class Tally:
    cited: int = 0
    labelled: int = 0
    supported: int = 0
    furniture: int = 0
    own_expected: int = 0
    own_cited: int = 0
    unlabelled: list[tuple[str, str, str]] = field(default_factory=list)
    unsupported: list[tuple[str, str, str]] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "citations": self.cited,
            "labelled": self.labelled,
            "precision": round(self.supported / self.labelled, 3) if self.labelled else None,
            "own_passage_recall": round(self.own_cited / self.own_expected, 3) if self.own_expected else None,
            "furniture_rate": round(self.furniture / self.cited, 3) if self.cited else None,
            "unlabelled": len(self.unlabelled),
        }


def evaluate(kb: Any, questions: Iterable[str], labels: Labels) -> dict[str, Tally]:
    """Answer each question in a fresh conversation; tally its citations per split."""
    from kb.advisor.advise import Advisor
    from kb.advisor.conversation import Conversation

    advisor = Advisor(kb)
    rules = {r.id: r for r in kb.rules.book.rules}
    tallies = {"dev": Tally(), "test": Tally()}
    seen: set[tuple[str, str, str]] = set()
    for question in questions:
        _, answer = advisor.ask(Conversation(), question)
        for c in answer.conclusions:
            rule = rules.get(c.rule.id)
            tally = tallies[split_of(c.rule.id)]
            quote = rule.evidence.quote if rule is not None and rule.evidence else None
            if quote:
                tally.own_expected += 1
                folded = " ".join(quote.split()).lower()
                if any(folded in " ".join(cit.text.split()).lower() for cit in c.citations):
                    tally.own_cited += 1
            for cit in c.citations:
                key = (c.rule.id, cit.doc, _key(cit.text))
                if key in seen:  # one pair counts once, however many answers cite it
                    continue
                seen.add(key)
                tally.cited += 1
                label = labels.find(c.rule.id, cit.doc, cit.text)
                if labels.furniture(cit.doc, cit.text):
                    tally.furniture += 1
                if label is None:
                    tally.unlabelled.append(key)
                    continue
                tally.labelled += 1
                if label.supports:
                    tally.supported += 1
                else:
                    tally.unsupported.append(key)
    return tallies


def questions(reader: Path, every: int = 1) -> list[str]:
    """The questions whose answers' citations are measured: the end-to-end questions, then the reader's dev
    utterances (written in askers' words; the reader's test split stays unread), each once. `every` > 1 keeps
    every so many dev utterances: a sample, for a quicker check."""
    from kb.advisor.reading_eval import _read, end_to_end_schema, load_files, split_files

    folder = reader / "eval"
    texts = [str(q["text"]) for q in _read(folder / "end_to_end.yaml", end_to_end_schema())["questions"]]
    texts += [u.text for u in load_files(split_files(folder, "dev"))][::every]
    return list(dict.fromkeys(texts))


def main(argv: Sequence[str]) -> int:
    """`kb eval citations`: precision, own-passage recall and furniture rate per split, as JSON."""
    from kb.cli import options

    parser = options.parser("kb eval citations", __doc__)
    parser.add_argument("--labels", help=f"folder of labelled pairs (default: {LABELS} under the project)")
    parser.add_argument("--show", action="store_true", help="list unsupported and unlabelled cited pairs")
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both",
                        help="which split to report (tune on dev only)")
    ns = parser.parse_args(list(argv))
    from kb.advisor.advise import KnowledgeBase
    from kb.config import PROJECT_ROOT

    paths = options.paths(ns)
    try:
        labels = load_labels(Path(ns.labels) if ns.labels else PROJECT_ROOT / LABELS)
    except KnowledgeError as exc:
        print(exc)
        return 1
    asked = questions(paths.reader)
    kb = KnowledgeBase.load(paths)
    try:
        tallies = evaluate(kb, asked, labels)
    finally:
        kb.close()
    shown = {s: t for s, t in tallies.items() if ns.split in (s, "both")}
    report: dict[str, Any] = {"questions": len(asked), "targets": TARGETS,
                              **{split: t.figures() for split, t in shown.items()}}
    if ns.show:
        report["unsupported"] = {s: t.unsupported for s, t in shown.items()}
        report["unlabelled"] = {s: t.unlabelled for s, t in shown.items()}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0
