"""`kb eval understanding`: how well questions are read, on the labelled utterances of `reader/eval/`.

Each utterance says what a careful reader takes from it: asker fields, entities named, certifications
required, what it denies, names not known, and the kind of question. The report follows `rasa test nlu`:
per-field precision, recall and F1, micro-F1 over all facts, accuracy on the kind of question, and the
confusions. `--fit` chooses each field's similarity threshold on the dev split (the test split is never
used for fitting) and writes `reader/thresholds.yaml`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from kb.advisor import learned
from kb.advisor.phrasebook import Phrasebook
from kb.advisor.reader import DEFAULT_THRESHOLD, Reader, Understanding
from kb.config import Paths
from kb.graph.expressions import parse as parse_expression
from kb.model.problems import KnowledgeError, Problem
from kb.yamlfile import read_checked

SPLITS = ("dev", "test")
THRESHOLD_GRID = tuple(round(0.40 + 0.02 * i, 2) for i in range(28))  # 0.40 .. 0.94
FIT_FLOOR = 0.40
MIN_FIT_SUPPORT = 15
"""Labelled values a field needs on dev before its threshold may go below the reader's default: a threshold
fitted on a handful of utterances would let loose matches through everywhere else."""
DECISIVE_PRECISION = 0.95
EXAMPLE_PRECISION = 0.80
"""Precision the readings by example must keep on the dev split for any field (DECISIVE_PRECISION for a field
that changes a recommendation): a field read almost only by its patterns is otherwise fitted down to the
grid's floor on two or three lucky example readings."""
log = logging.getLogger(__name__)

TARGETS = {"micro_f1": 0.90, "decisive_precision": 0.95, "asked_accuracy": 0.90}
"""The issue's targets, checked on the test split (documented in docs/reader.md)."""

Item = tuple[str, str, Any]
"""(group, key, value): group is `fact` (key: field), `mention`, `requires` or `denies` (key: entity id)."""


@dataclass(frozen=True)
class Labelled:
    text: str
    asked: str
    items: tuple[Item, ...]
    unknown: tuple[str, ...] = ()
    file: str = ""


def labelled_schema() -> dict[str, Any]:
    """A labelled file (reader/eval/dev.yaml, test.yaml): keys and values from the vocabulary."""
    from kb import vocab

    names = {"type": "array", "items": {"type": "string", "minLength": 1}}
    return {
        "type": "object",
        "required": ["utterances"],
        "additionalProperties": False,
        "properties": {"utterances": {"type": "array", "items": {
            "type": "object",
            "required": ["text", "asked"],
            "additionalProperties": False,
            "properties": {
                "text": {"type": "string", "minLength": 1},
                "asked": {"enum": list(vocab.ASKED_KINDS)},
                "facts": {"type": "object", "propertyNames": {"enum": sorted(vocab.FACT_KINDS["asker"].fields)}},
                "mentions": names, "requires": names, "denies": names, "unknown": names,
            },
        }}},
    }


def end_to_end_schema() -> dict[str, Any]:
    """reader/eval/end_to_end.yaml: questions with the option expected (or abstain) and a phrase cited."""
    from kb import vocab

    return {
        "type": "object",
        "required": ["questions"],
        "additionalProperties": False,
        "properties": {"questions": {"type": "array", "items": {
            "type": "object",
            "required": ["text"],
            "additionalProperties": False,
            "properties": {
                "text": {"type": "string", "minLength": 1},
                "option": {"enum": list(vocab.OPTIONS)},
                "cites": {"type": "string", "minLength": 1},
                "abstain": {"type": "boolean"},
            },
        }}},
    }


def _read(path: Path, schema: dict[str, Any]) -> Any:
    """A labelled file, checked; KnowledgeError naming file and line when it is not well formed."""
    problems: list[Problem] = []
    data = read_checked(path, schema, problems, "a labelled file", "the labelled utterances are kept here")
    if data is None or problems:
        raise KnowledgeError(problems)
    return data


def check_labelled(paths: Paths) -> list[Problem]:
    """`kb check`: the labelled files of reader/eval/ against their schemas (a missing folder is no problem)."""
    folder = paths.reader / "eval"
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        schema = end_to_end_schema() if path.name == "end_to_end.yaml" else labelled_schema()
        read_checked(path, schema, problems, "a labelled file")
    return problems


def split_files(folder: Path, split: str) -> list[Path]:
    """A split's labelled files: `dev.yaml` and any `dev-*.yaml` beside it (a batch written later keeps its own
    file, so its figures before tuning stay reproducible)."""
    return sorted(p for p in [folder / f"{split}.yaml", *folder.glob(f"{split}-*.yaml")] if p.is_file())


def load_files(paths: Sequence[Path]) -> list[Labelled]:
    """The utterances of several labelled files, in order."""
    return [u for path in paths for u in load_split(path)]


def load_split(path: Path) -> list[Labelled]:
    """The utterances of one labelled file."""
    data = _read(path, labelled_schema())
    out = []
    for u in data.get("utterances", []):
        items: list[Item] = [("fact", k, v) for k, v in (u.get("facts") or {}).items()]
        required = [str(i) for i in u.get("requires") or ()]
        # a requirement names its entity: listed in `mentions` as well, it is still one item, `requires`
        items += [("mention", str(i), True) for i in u.get("mentions") or () if str(i) not in required]
        items += [("requires", i, True) for i in required]
        items += [("denies", str(i), True) for i in u.get("denies") or ()]
        out.append(Labelled(str(u["text"]), str(u["asked"]), tuple(items),
                            tuple(str(n) for n in u.get("unknown") or ()), path.name))
    return out


def predicted(u: Understanding) -> list[Item]:
    """What a reading takes from an utterance, in the labels' terms."""
    return [item for item, _ in sourced(u)]


def sourced(u: Understanding) -> list[tuple[Item, str]]:
    """`predicted`, each item with what read it: the phrase file and line, "example", or how an entity or a
    quantity was read."""
    out: list[tuple[Item, str]] = []
    for o in u.observations:
        how = _how(o.source)
        if o.key in ("mention", "requirement"):
            out.append((("denies" if o.negated else ("mention" if o.key == "mention" else "requires"), str(o.value),
                         True), how))
        elif o.key == "expression":  # "MIT OR Apache-2.0" names each of its licences
            names = dict.fromkeys(i for opt in parse_expression(str(o.value)).options for i in opt.licences)
            out.extend((("denies" if o.negated else "mention", i, True), how) for i in names)
        elif o.negated:
            if o.key == "industry":
                out.append((("denies", str(o.value), True), how))
            # a denied value of any other field ("not on AWS") removes a fact; it states none
        else:
            out.append((("fact", o.key, o.value), how))
    return out


def _how(source: Any) -> str:
    if source.how == "pattern" and source.via:
        return str(source.via)
    if source.how == "label" and source.via:
        return f"the name {source.via!r}"
    if source.how == "quantity":
        return "a quantity"  # one row for the field's numbers, whatever their value
    return str(source.how or source.kind)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) <= max(0.03 * abs(float(b)), 0.011)
    return str(a) == str(b)


def _key(item: Item) -> str:
    return item[1] if item[0] == "fact" else item[0]


@dataclass
class Report:
    """Counts over a split."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    asked_right: int = 0
    asked_total: int = 0
    asked_confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    confusions: list[tuple[str, str, str]] = field(default_factory=list)
    unknown_tp: int = 0
    unknown_fp: int = 0
    unknown_fn: int = 0
    seconds: list[float] = field(default_factory=list)
    by_source: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    """(field, what read it) -> [readings right, readings wrong], over the fields the file scores."""

    def add(self, label: Labelled, u: Understanding, seconds: float, scored: Iterable[str] | None = None) -> None:
        """`scored`: the asker fields the utterance's file labels anywhere; a fact of another field is not
        counted (the file was written before that field existed, so it neither asks for it nor rules it out)."""
        self.seconds.append(seconds)
        fields = set(scored) if scored is not None else None
        got = [(g, how) for g, how in sourced(u) if g[0] != "fact" or fields is None or g[1] in fields]
        for w in label.items:
            k = next((n for n, (g, _) in enumerate(got) if g[:2] == w[:2] and _same(g[2], w[2])), None)
            if k is not None:
                match, how = got.pop(k)
                self.by_source[(_key(match), how)][0] += 1
                self.tp[_key(w)] += 1
            else:
                self.fn[_key(w)] += 1
                wrong = next((g for g, _ in got if g[:2] == w[:2]), None)
                self.confusions.append((label.text, f"{w[0]} {w[1]}={w[2]}",
                                        f"read {wrong[2]}" if wrong is not None else "not read"))
        for g, how in got:
            self.by_source[(_key(g), how)][1] += 1
            self.fp[_key(g)] += 1
            self.confusions.append((label.text, f"{g[0]} {g[1]}={g[2]}", "read but not said"))
        self.asked_total += 1
        if u.asked == label.asked:
            self.asked_right += 1
        else:
            self.asked_confusions[(label.asked, u.asked)] += 1
            self.confusions.append((label.text, f"asked={label.asked}", f"read {u.asked}"))
        said = {n.lower() for n in label.unknown}
        found = {n.lower() for n in u.unknown}
        self.unknown_tp += len(said & found)
        self.unknown_fp += len(found - said)
        self.unknown_fn += len(said - found)

    @staticmethod
    def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def summary(self, decisive: Iterable[str]) -> dict[str, Any]:
        keys = sorted(set(self.tp) | set(self.fp) | set(self.fn))
        per = {}
        for k in keys:
            p, r, f = self.prf(self.tp[k], self.fp[k], self.fn[k])
            per[k] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
                      "support": self.tp[k] + self.fn[k], "read": self.tp[k] + self.fp[k]}
        tp, fp, fn = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        p, r, f = self.prf(tp, fp, fn)
        dec = [k for k in decisive if k in keys]
        dp, _, _ = self.prf(sum(self.tp[k] for k in dec), sum(self.fp[k] for k in dec), 0)
        up, ur, uf = self.prf(self.unknown_tp, self.unknown_fp, self.unknown_fn)
        ms = sorted(s * 1000 for s in self.seconds)
        return {
            "utterances": self.asked_total,
            "micro": {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)},
            "decisive_precision": round(dp, 3),
            "asked_accuracy": round(self.asked_right / self.asked_total, 3) if self.asked_total else 0.0,
            "unknown_names": {"precision": round(up, 3), "recall": round(ur, 3), "f1": round(uf, 3)},
            "fields": per,
            "asked_confusions": {f"{a} -> {b}": n for (a, b), n in self.asked_confusions.most_common()},
            "read_ms_p50": round(ms[len(ms) // 2], 2) if ms else 0.0,
        }

    def misfiring(self, n: int) -> list[tuple[str, str, int, int]]:
        """The `n` readers (phrase file and line, "example", a name, a quantity) with the most wrong readings:
        (field, reader, right, wrong), the worst first."""
        rows = [(k, how, right, wrong) for (k, how), (right, wrong) in self.by_source.items() if wrong]
        rows.sort(key=lambda r: (-r[3], r[2], r[0], r[1]))
        return rows[:n]


def _misfiring_table(rows: Sequence[tuple[str, str, int, int]]) -> str:
    out = ["| field | read by | right | wrong | precision |", "| --- | --- | --- | --- | --- |"]
    out += [f"| {k} | {how} | {right} | {wrong} | {right / (right + wrong):.2f} |" for k, how, right, wrong in rows]
    return "\n".join(out)


def labelled_fields(labelled: Sequence[Labelled]) -> dict[str, set[str]]:
    """File name -> the asker fields some utterance of it labels (a file scores only those)."""
    out: dict[str, set[str]] = defaultdict(set)
    for label in labelled:
        out[label.file].update(k for g, k, _ in label.items if g == "fact")
    return out


def known_now(reader: Reader, label: Labelled) -> Labelled:
    """The label with each `unknown` name that the ontology has learnt since (one entity's label, the whole
    name) expected as a mention of it: labels outlive the ontology they were written against, so a name added
    later needs no relabelling ("GPT-4" once unknown, now offering:gpt_4)."""
    items, unknown = list(label.items), []
    said = {i[1] for i in items if i[0] != "fact"}
    for name in label.unknown:
        found = reader.entities.find(name)
        if len(found) == 1 and found[0][0] and (found[0][1], found[0][2]) == (0, len(name)):
            if found[0][0] not in said:
                items.append(("mention", found[0][0], True))
        else:
            unknown.append(name)
    if len(unknown) == len(label.unknown):
        return label
    return replace(label, items=tuple(items), unknown=tuple(unknown))


def evaluate(reader: Reader, labelled: Sequence[Labelled]) -> Report:
    report = Report()
    scored = labelled_fields(labelled)
    labelled = [known_now(reader, label) for label in labelled]
    for label in labelled:
        started = time.perf_counter()
        u = reader.read(label.text)
        report.add(label, u, time.perf_counter() - started, scored[label.file])
    return report


def fit(reader: Reader, labelled: Sequence[Labelled]) -> dict[str, float]:
    """Each field's threshold (and `asked`'s) chosen on labelled data: the one with the best F1 among those whose
    readings by example keep DECISIVE_PRECISION (a field that changes a recommendation) or EXAMPLE_PRECISION
    (any other); the default where the split has too few labels or no reading by example to judge by."""
    with _embeddings_kept(reader):
        return _fit(reader, labelled)


@contextlib.contextmanager
def _embeddings_kept(reader: Reader) -> Iterator[None]:
    """While fitting, each text is embedded once: the split is read again for every threshold tried."""
    embed = reader._embed
    if embed is None:
        yield
        return
    kept: dict[str, np.ndarray] = {}

    def remembered(texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in kept]
        if new:
            kept.update(zip(new, embed(new), strict=True))
        return np.stack([kept[t] for t in texts])

    reader._embed = remembered
    try:
        yield
    finally:
        reader._embed = embed


def _fit(reader: Reader, labelled: Sequence[Labelled]) -> dict[str, float]:
    saved = dict(reader.thresholds)
    fields = reader.book.fields
    reader.thresholds = {name: FIT_FLOOR for name in [*fields, "asked"]}
    readings = [(label, reader.read(label.text)) for label in labelled]
    scored = labelled_fields(labelled)
    reader.thresholds = saved
    chosen: dict[str, float] = {}
    for name, decl in fields.items():
        best: tuple[float, float, int] | None = None  # (f1, threshold, readings by example)
        for t in THRESHOLD_GRID:
            tp = fp = fn = ex_tp = ex_fp = 0
            for label, u in readings:
                if name not in scored[label.file]:
                    continue
                kept = [o for o in u.observations if o.key == name and not o.negated and not (
                    o.source.how == "example" and (o.source.score or 0) < t)]
                want = [w for w in label.items if w[0] == "fact" and w[1] == name]
                hit = [w for w in want if any(_same(o.value, w[2]) for o in kept)]
                tp += len(hit)
                fn += len(want) - len(hit)
                for o in kept:
                    hit_ = any(_same(o.value, w[2]) for w in want)
                    fp += int(not hit_)
                    if o.source.how == "example":
                        ex_tp += int(hit_)
                        ex_fp += int(not hit_)
            _, _, f = Report.prf(tp, fp, fn)
            # what the examples add must be precise, the more so for a field that changes a recommendation
            ex_p, _, _ = Report.prf(ex_tp, ex_fp, 0)
            if ex_tp + ex_fp and ex_p < (DECISIVE_PRECISION if decl.decisive else EXAMPLE_PRECISION):
                continue
            if best is None or f > best[0] + 1e-9:
                best = (f, t, ex_tp + ex_fp)
        chosen[name] = best[1] if best else THRESHOLD_GRID[-1]
        support = sum(1 for label, _ in readings for w in label.items if w[0] == "fact" and w[1] == name)
        # too few labels, or no example read at all at the chosen threshold: the dev split says nothing of this
        # field's examples, so it keeps the default
        if support < MIN_FIT_SUPPORT or (best is not None and not best[2]):
            chosen[name] = max(chosen[name], DEFAULT_THRESHOLD)
    # the kind of question, where no pattern decided it: each threshold tried by reading the split again
    for name in ("asked", "asked_over_facts"):
        best_asked: tuple[int, float] | None = None
        for t in THRESHOLD_GRID:
            reader.thresholds = {**saved, **chosen, name: t}
            right = sum(int(reader.read(label.text).asked == label.asked) for label in labelled)
            if best_asked is None or right > best_asked[0]:
                best_asked = (right, t)
        chosen[name] = best_asked[1] if best_asked else THRESHOLD_GRID[-1]
    reader.thresholds = saved
    return chosen


def fit_learned(reader: Reader, labelled: Sequence[Labelled]) -> tuple[dict[str, float], dict[str, tuple[int, int]]]:
    """The fields the learned reader reads, each with its probability threshold, and (right, wrong) readings
    there: chosen on predictions for dev files the model was not fitted on, where the other readers read nothing
    of the field; each field must keep DECISIVE_PRECISION (one that changes a recommendation) or
    EXAMPLE_PRECISION (any other), or it is not read so."""
    fields = reader.book.fields
    candidates = [name for name, decl in fields.items() if not decl.unit]
    kept = reader.learned
    reader.learned = None
    try:
        with _embeddings_kept(reader):
            read = [{o.key for o in reader.read(u.text).observations} for u in labelled]
    finally:
        reader.learned = kept
    data = learning_set(labelled, reader.book)
    predicted = learned.held_out(data, candidates)
    precision = {f: DECISIVE_PRECISION if fields[f].decisive else EXAMPLE_PRECISION for f in candidates}
    read += [set() for _ in data[len(read):]]  # (the phrase files' utterances are not counted)
    return learned.choose(data, predicted, read, precision)


def end_to_end(advisor: Any, path: Path) -> list[tuple[str, bool, str]]:
    """Each end-to-end question asked afresh: (text, passed, why not). A question passes when the answer's
    recommended option is the one expected (or none when none is), and some citation contains the expected
    phrase; an `abstain` question passes when it gets no conclusions and no citations."""
    from kb.advisor.conversation import Conversation

    data = _read(path, end_to_end_schema())
    out = []
    for q in data.get("questions", []):
        _, answer = advisor.ask(Conversation(), str(q["text"]))
        rec = answer.option
        cited = [c.text for c in answer.citations()]
        if q.get("abstain"):
            ok = not answer.conclusions and not cited and rec is None
            out.append((q["text"], ok, "" if ok else f"answered ({rec}, {len(cited)} citations)"))
            continue
        why = []
        if rec != q.get("option"):
            why.append(f"option {rec}, expected {q.get('option')}")
        phrase = " ".join(str(q.get("cites", "")).split()).lower()
        if phrase and not any(phrase in " ".join(t.split()).lower() for t in cited):
            why.append(f"no citation contains {q['cites']!r}")
        out.append((q["text"], not why, "; ".join(why)))
    return out


def write_thresholds(path: Path, thresholds: dict[str, float], fitted_on: str, model: str,
                     learned_thresholds: dict[str, float] | None = None) -> None:
    lines = [
        "# Similarity a clause needs to an example utterance to be read as its field's value, per field",
        "# (`asked`: for the kind of question). Fitted on the labelled dev split by `kb eval understanding --fit`",
        "# (the test split is never used for fitting); edit by hand only with a reason, or fit again.",
        f"# fitted_on: {fitted_on}; model: {model[:12]}",
        "thresholds:",
        *(f"  {k}: {v}" for k, v in sorted(thresholds.items())),
    ]
    if learned_thresholds:
        lines += [
            "# Probability the learned reader (fitted on the dev split's labels) needs to read a field that nothing",
            "# else read; a field not listed is not read so. Chosen on dev files held out from its fitting.",
            "learned:",
            *(f"  {k}: {v}" for k, v in sorted(learned_thresholds.items())),
        ]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


def _table(name: str, s: dict[str, Any]) -> str:
    rows = [f"## {name}: {s['utterances']} utterances",
            f"micro P/R/F1 {s['micro']['precision']:.3f} / {s['micro']['recall']:.3f} / {s['micro']['f1']:.3f}; "
            f"decisive-field precision {s['decisive_precision']:.3f}; kind of question {s['asked_accuracy']:.3f}; "
            f"unknown names P/R {s['unknown_names']['precision']:.2f} / {s['unknown_names']['recall']:.2f}; "
            f"read p50 {s['read_ms_p50']:.1f} ms",
            "| field | precision | recall | F1 | support | read |", "| --- | --- | --- | --- | --- | --- |"]
    for k, v in s["fields"].items():
        rows.append(f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} "
                    f"| {v['read']} |")
    if s["asked_confusions"]:
        rows.append("kind-of-question confusions (said -> read): " + ", ".join(
            f"{k} x{n}" for k, n in s["asked_confusions"].items()))
    return "\n".join(rows)


def learning_set(labelled: Sequence[Labelled], book: Phrasebook) -> list[learned.Labelled]:
    """The utterances as the learned reader is fitted on them: facts only, and the fields their file labels;
    then each phrase entry's examples (stating its value) and near misses (stating nothing of its field), so an
    analyst who adds a near miss teaches the learned reader too."""
    scored = labelled_fields(labelled)
    out = [learned.Labelled(u.text, {k: v for g, k, v in u.items if g == "fact"}, frozenset(scored[u.file]), u.file)
           for u in labelled]
    for entry in book.entries:
        decl = book.fields.get(entry.field or "")
        if decl is None or decl.unit:
            continue
        group, field_only = f"phrases:{entry.field}", frozenset({decl.name})
        out += [learned.Labelled(t, {decl.name: entry.value}, field_only, group, measured=False)
                for t, _ in entry.examples]
        out += [learned.Labelled(t, {}, field_only, group, measured=False) for t, _ in entry.near_misses]
    return out


def phrase_texts(book: Phrasebook) -> list[str]:
    """The phrase files' examples and near misses with their fields and values (what the learned reader is fitted
    on besides the labelled files)."""
    return [f"{e.field}={e.value}:{near}:{t}" for e in book.entries if e.field
            for near, texts in ((False, e.examples), (True, e.near_misses)) for t, _ in texts]


def learned_reader(paths: Paths, book: Phrasebook, fields: Iterable[str] | None = None
                   ) -> learned.LearnedReader | None:
    """The learned reader of `fields` (by default those thresholds.yaml `learned` names), fitted on the dev split
    (from the cache when it was fitted on these files before). None when no field is read so, or when a labelled
    file is broken (`kb check` names it; the other readers go on)."""
    files = split_files(paths.reader / "eval", "dev")
    try:
        return learned.cached(paths.cache, files, sorted(book.learned if fields is None else fields),
                              lambda: learning_set(load_files(files), book), phrase_texts(book))
    except KnowledgeError as e:
        log.warning("the learned reader is off until the labelled files are fixed: %s", e)
        return None


def load_reader(paths: Paths) -> Reader:
    """The knowledge base's reader (loads the whole knowledge base: the reader needs its labels and model)."""
    from kb.advisor.advise import KnowledgeBase

    kb = KnowledgeBase.load(paths)
    kb.rules.close()
    return kb.reader


def main(argv: list[str]) -> int:
    from kb.cli import options

    parser = options.parser("kb eval understanding", __doc__)
    parser.add_argument("--split", choices=[*SPLITS, "both"], default="dev",
                        help="dev (default: tune on it), test (measure once, at the end) or both")
    parser.add_argument("--fit", action="store_true", help="fit thresholds on dev and write reader/thresholds.yaml")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--confusions", type=int, default=0, help="list up to N misread utterances")
    parser.add_argument("--misfiring", type=int, default=0,
                        help="list the N phrase lines, examples, names and quantities with the most wrong readings")
    parser.add_argument("--end-to-end", action="store_true", help="also answer reader/eval/end_to_end.yaml")
    parser.add_argument("--file", type=Path, action="append", default=[],
                        help="measure on this labelled file instead of the splits (repeatable)")
    ns = parser.parse_args(argv)
    if (ns.confusions or ns.misfiring) and ns.split != "dev" and not ns.file:
        parser.error("--confusions and --misfiring look at dev utterances only: the test split is never read while "
                     "tuning")
    paths = options.paths(ns)
    reader = load_reader(paths)
    folder = paths.reader / "eval"
    if ns.fit:
        dev_files = split_files(folder, "dev")
        dev = load_files(dev_files)
        with _embeddings_kept(reader):  # both fits read the split: each text is embedded once for the two
            thresholds = fit(reader, dev)
            reader.thresholds = thresholds
            learned_thresholds, counts = fit_learned(reader, dev)
        write_thresholds(paths.reader / "thresholds.yaml", thresholds,
                         ", ".join(f"reader/eval/{p.name}" for p in dev_files), reader.fingerprint, learned_thresholds)
        reader.learned_thresholds = learned_thresholds
        reader.learned = learned_reader(paths, reader.book, learned_thresholds)
        print("fitted thresholds: " + ", ".join(f"{k}={v}" for k, v in sorted(thresholds.items())), file=sys.stderr)
        print("learned reader (right / wrong readings on held-out dev files): " + ", ".join(
            f"{k}={v} ({counts[k][0]} / {counts[k][1]})" for k, v in sorted(learned_thresholds.items())),
            file=sys.stderr)
    decisive = [d.name for d in reader.book.fields.values() if d.decisive] + ["industry"]
    out: dict[str, Any] = {}
    files = {str(p): [p] for p in ns.file} or {
        split: split_files(folder, split) for split in (SPLITS if ns.split == "both" else (ns.split,))}
    splits = tuple(files)
    confusions: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    misfiring: dict[str, list[tuple[str, str, int, int]]] = {}
    for split in splits:
        report = evaluate(reader, load_files(files[split]))
        out[split] = report.summary(decisive)
        confusions[split] = report.confusions
        misfiring[split] = report.misfiring(ns.misfiring)
        if ns.misfiring:
            out[split]["misfiring"] = [{"field": k, "read_by": how, "right": right, "wrong": wrong}
                                       for k, how, right, wrong in misfiring[split]]
    if ns.json:
        print(json.dumps(out, indent=2))
    else:
        for split in splits:
            print(_table(split, out[split]))
            for text, item, what in confusions[split][: ns.confusions]:
                print(f"  - {item}: {what}: {text!r}")
            if misfiring[split]:
                print(f"\nwhat misreads most on {split}:\n" + _misfiring_table(misfiring[split]))
            print()
    if ns.end_to_end:
        from kb.advisor.advise import Advisor, KnowledgeBase

        kb = KnowledgeBase.load(paths)
        try:
            results = end_to_end(Advisor(kb), folder / "end_to_end.yaml")
        finally:
            kb.close()
        passed = sum(ok for _, ok, _ in results)
        print(f"end to end: {passed} of {len(results)} questions pass")
        for text, ok, why in results:
            if not ok:
                print(f"  - {text!r}: {why}")
    test = out.get("test")
    if test is not None and (test["micro"]["f1"] < TARGETS["micro_f1"] or test["decisive_precision"] <
                             TARGETS["decisive_precision"] or test["asked_accuracy"] < TARGETS["asked_accuracy"]):
        print("below target on the test split: " + json.dumps(TARGETS), file=sys.stderr)
        return 1
    return 0
