"""The learned reader: what the labelled utterances teach beyond the phrases.

Per value of a field (`ml_skills: none`, `internal_only: true`), a logistic regression over the question's
word and character n-grams (TF-IDF), fitted on the labelled dev utterances of `reader/eval/`. It reads a field
the patterns and examples left unread, when the probability of its likeliest value reaches the field's
threshold. Which fields it reads, and at what probability, is `learned:` in `reader/thresholds.yaml`, chosen
by `kb eval understanding --fit` on predictions for dev files the model was not fitted on (each file held out in
turn): a field whose learned readings do not keep their precision there is not read this way at all.

The fitted model is a generated artefact like the index: kept in the cache, named by a hash of what it was
fitted on, and fitted again (a few seconds) when a labelled file or the list of fields changes. It is stored as
arrays (no pickle). What read a fact is shown as the words that weighed most for it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.model.facts import Scalar

VERSION = 1
"""The features and model below; part of the cached model's name, so a change here fits again."""
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (3, 5)
WORDS: dict[str, Any] = {"ngram_range": WORD_NGRAMS, "min_df": 2, "sublinear_tf": True}
CHARS: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": CHAR_NGRAMS, "min_df": 3, "sublinear_tf": True}
C = 10.0
"""Inverse regularisation strength: chosen by held-out-file validation on dev."""
MIN_POSITIVES = 5
"""Labelled utterances a value needs before a model of it is fitted."""
FOLDS = 6
"""Dev files are split into this many groups for the held-out predictions that thresholds are chosen on."""
GRID = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
MIN_READINGS = 3
"""Right readings a field needs on held-out files before it is read this way (fewer say nothing of it)."""
CACHES_KEPT = 3


@dataclass(frozen=True)
class Labelled:
    """One labelled utterance as the learned reader needs it."""

    text: str
    facts: Mapping[str, Scalar]
    scored: frozenset[str]
    """The fields its file labels: an utterance is a negative example only for those."""
    group: str
    """Its file: held out together."""
    measured: bool = True
    """False for a phrase file's example or near miss: fitted on, never counted when choosing thresholds."""


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return str(a) == str(b)


class LearnedReader:
    """The fitted vocabularies with their idf weights, and one weight column per (field, value).

    A question's features are computed here as scikit-learn's `TfidfVectorizer` computes them for the settings
    above (the suite checks they agree), so answering needs numpy only: scikit-learn is imported to fit."""

    def __init__(self, words: Sequence[str], word_idf: np.ndarray, chars: Sequence[str], char_idf: np.ndarray,
                 weights: np.ndarray, bias: np.ndarray, labels: Sequence[tuple[str, Scalar]]):
        self.terms = [*words, *chars]
        self._n_words = len(words)
        self._vocab = ({w: i for i, w in enumerate(words)}, {c: i + len(words) for i, c in enumerate(chars)})
        self._idf = np.concatenate([np.asarray(word_idf, dtype=np.float64), np.asarray(char_idf, dtype=np.float64)])
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.labels = [(str(f), v) for f, v in labels]
        self.fingerprint = ""
        """What it was fitted on (see `fingerprint`), set when it is read from or kept in the cache."""

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(term indices, values) of a text's TF-IDF row: word n-grams and character n-grams, each part
        sublinear in its counts, weighted by idf and of unit length, as `TfidfVectorizer` makes them."""
        lower = text.lower()
        idx: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for grams, vocab in ((_word_grams(lower), self._vocab[0]), (_char_grams(lower), self._vocab[1])):
            counts: dict[int, int] = {}
            for g in grams:
                if (i := vocab.get(g)) is not None:
                    counts[i] = counts.get(i, 0) + 1
            if not counts:
                continue
            at = np.fromiter(counts, dtype=np.int64, count=len(counts))
            v = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self._idf[at]
            idx.append(at)
            vals.append(v / np.linalg.norm(v))
        if not idx:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return np.concatenate(idx), np.concatenate(vals)

    def _scores(self, idx: np.ndarray, vals: np.ndarray) -> np.ndarray:
        z = vals.astype(np.float32) @ self.weights[idx] + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """texts x labels: the probability that each text states each (field, value)."""
        return np.stack([self._scores(*self.features(t)) for t in texts]) if texts else np.zeros((0, len(self.labels)))

    def read(self, text: str, thresholds: Mapping[str, float]) -> dict[str, tuple[Scalar, float, tuple[str, ...]]]:
        """Field -> (its likeliest value, that value's probability, the words that weighed most for it), for
        each field of `thresholds` whose likeliest value reaches the field's threshold."""
        idx, vals = self.features(text)
        p = self._scores(idx, vals)
        best: dict[str, int] = {}
        for m, (f, _) in enumerate(self.labels):
            if f in thresholds and (f not in best or p[m] > p[best[f]]):
                best[f] = m
        return {f: (self.labels[m][1], float(p[m]), self._why(idx, vals, m)) for f, m in best.items()
                if p[m] >= thresholds[f]}

    def _why(self, idx: np.ndarray, vals: np.ndarray, m: int, n: int = 3) -> tuple[str, ...]:
        """The n words (or word pairs) of the text that weighed most for label m; character n-grams only when
        no word weighed for it."""
        contrib = vals * self.weights[idx, m]
        order = np.argsort(-contrib)
        stop = _stop_words()
        words = [self.terms[idx[k]] for k in order if contrib[k] > 0 and idx[k] < self._n_words
                 and self.terms[idx[k]] not in stop]
        if not words:
            words = [self.terms[idx[k]].strip() for k in order if contrib[k] > 0]
        return tuple(dict.fromkeys(words))[:n]

    # -- storage ------------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, words=np.array(self.terms[:self._n_words], dtype=str),
                 word_idf=self._idf[:self._n_words], chars=np.array(self.terms[self._n_words:], dtype=str),
                 char_idf=self._idf[self._n_words:], weights=self.weights, bias=self.bias,
                 labels=np.array([json.dumps([f, v]) for f, v in self.labels], dtype=str))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LearnedReader | None:
        """The model stored at `path`; None when it is missing or damaged."""
        try:
            with np.load(path, allow_pickle=False) as d:
                labels = [tuple(json.loads(str(s))) for s in d["labels"]]
                return cls([str(w) for w in d["words"]], d["word_idf"], [str(c) for c in d["chars"]],
                           d["char_idf"], d["weights"], d["bias"], [(str(f), v) for f, v in labels])
        except (OSError, ValueError, KeyError, TypeError):
            return None


_TOKEN = re.compile(r"(?u)\b\w\w+\b")
"""`TfidfVectorizer`'s default token pattern: words of two or more word characters."""
_SPACES = re.compile(r"\s\s+")


def _word_grams(lower: str) -> list[str]:
    """The word n-grams of WORDS["ngram_range"] of a lowercased text, as `TfidfVectorizer` makes them."""
    tokens = _TOKEN.findall(lower)
    lo, hi = WORD_NGRAMS
    return [" ".join(tokens[i:i + n]) for n in range(lo, hi + 1) for i in range(len(tokens) - n + 1)]


def _char_grams(lower: str) -> list[str]:
    """The character n-grams of CHARS["ngram_range"] inside each word of a lowercased text, each word padded
    with a space on either side, as `TfidfVectorizer(analyzer="char_wb")` makes them (a word shorter than n
    gives itself once)."""
    lo, hi = CHAR_NGRAMS
    out: list[str] = []
    for w in _SPACES.sub(" ", lower).split():
        w = f" {w} "
        for n in range(lo, hi + 1):
            if len(w) <= n:
                out.append(w)
                break
            out.extend(w[k:k + n] for k in range(len(w) - n + 1))
    return out


@functools.cache
def _stop_words() -> frozenset[str]:
    """Words too common to explain a reading ("our", "the"): they still count, they are only not shown."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def values_of(utterances: Sequence[Labelled], fields: Iterable[str]) -> list[tuple[str, Scalar]]:
    """(field, value) pairs with at least MIN_POSITIVES labelled utterances, in a stable order."""
    out: list[tuple[str, Scalar]] = []
    for f in sorted(set(fields)):
        seen: dict[str, tuple[Scalar, int]] = {}
        for u in utterances:
            if f in u.facts:
                v = u.facts[f]
                key = json.dumps(v)
                seen[key] = (v, seen.get(key, (v, 0))[1] + 1)
        out.extend((f, v) for key, (v, n) in sorted(seen.items()) if n >= MIN_POSITIVES)
    return out


def fit(utterances: Sequence[Labelled], fields: Iterable[str]) -> LearnedReader:
    """A model of every value of `fields` labelled often enough, fitted on `utterances`."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [u.text for u in utterances]
    words, chars = TfidfVectorizer(**WORDS), TfidfVectorizer(**CHARS)
    x = hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    labels = values_of(utterances, fields)
    weights = np.zeros((x.shape[1], len(labels)), dtype=np.float32)
    bias = np.zeros(len(labels), dtype=np.float32)
    for m, (f, v) in enumerate(labels):
        rows = [i for i, u in enumerate(utterances) if f in u.scored]
        y = np.array([f in utterances[i].facts and _same(utterances[i].facts[f], v) for i in rows])
        if y.all() or not y.any():
            bias[m] = 20.0 if y.all() else -20.0
            continue
        model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(x[rows], y)
        weights[:, m] = model.coef_[0]
        bias[m] = model.intercept_[0]
    def by_index(v: Any) -> list[str]:
        return [str(t) for t, _ in sorted(v.vocabulary_.items(), key=lambda kv: kv[1])]

    return LearnedReader(by_index(words), words.idf_, by_index(chars), chars.idf_, weights, bias, labels)


def held_out(utterances: Sequence[Labelled], fields: Iterable[str], folds: int = FOLDS
             ) -> list[dict[str, tuple[Scalar, float]]]:
    """Per utterance, field -> (likeliest value, probability) by a model fitted without its file's group."""
    from sklearn.model_selection import GroupKFold

    fields = list(fields)
    groups = [u.group for u in utterances]
    out: list[dict[str, tuple[Scalar, float]]] = [{} for _ in utterances]
    n = min(folds, len(set(groups)))
    if n < 2:
        return out
    for train, test in GroupKFold(n_splits=n).split(utterances, groups=groups):
        model = fit([utterances[i] for i in train], fields)
        if not model.labels:
            continue
        p = model.probabilities([utterances[i].text for i in test])
        for row, i in enumerate(test):
            for m, (f, v) in enumerate(model.labels):
                if f not in out[i] or p[row, m] > out[i][f][1]:
                    out[i][f] = (v, float(p[row, m]))
    return out


def choose(utterances: Sequence[Labelled], predicted: Sequence[dict[str, tuple[Scalar, float]]],
           read: Sequence[set[str]], precision: Mapping[str, float]
           ) -> tuple[dict[str, float], dict[str, tuple[int, int]]]:
    """Each field's threshold: of the grid's, the one whose readings (where the other readers read nothing of the
    field: `read`) keep the field's `precision` on held-out predictions with the most right readings net of
    wrong ones. Fields with no such threshold are left out. Also returns (right, wrong) at each chosen one."""
    chosen: dict[str, float] = {}
    counts: dict[str, tuple[int, int]] = {}
    for f, need in precision.items():
        best: tuple[int, float, int, int] | None = None
        for t in GRID:
            tp = fp = 0
            for u, pred, done in zip(utterances, predicted, read, strict=True):
                if not u.measured or f not in u.scored or f in done or f not in pred or pred[f][1] < t:
                    continue
                if f in u.facts and _same(pred[f][0], u.facts[f]):
                    tp += 1
                else:
                    fp += 1
            if tp >= MIN_READINGS and tp / (tp + fp) >= need and (best is None or tp - fp > best[0]):
                best = (tp - fp, t, tp, fp)
        if best is not None:
            chosen[f] = best[1]
            counts[f] = (best[2], best[3])
    return chosen, counts


def fingerprint(files: Sequence[Path], fields: Iterable[str], more: Iterable[str] = ()) -> str:
    """What a fitted model depends on: the labelled files' bytes, the fields read, the features and library, and
    `more` (the phrase files' examples and near misses)."""
    import sklearn

    h = hashlib.sha256(f"{VERSION}:{sklearn.__version__}:{','.join(sorted(fields))}".encode())
    for text in more:
        h.update(text.encode() + b"\0")
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def cached(cache: Path | None, files: Sequence[Path], fields: Sequence[str],
           labelled: Callable[[], Sequence[Labelled]], more: Iterable[str] = ()) -> LearnedReader | None:
    """The model of `fields` fitted on the labelled `files`: from the cache when it holds it, else fitted (and
    kept). `labelled()` gives the utterances (read only when fitting). None when there is nothing to fit."""
    if not fields or not files:
        return None
    key = fingerprint(files, fields, more)
    path = cache / f"reader-learned-{key}.npz" if cache is not None else None
    if path is not None and path.is_file() and (model := LearnedReader.load(path)) is not None:
        with contextlib.suppress(OSError):
            os.utime(path)
        model.fingerprint = key
        return model
    model = fit(labelled(), fields)
    model.fingerprint = key
    if path is not None:
        with contextlib.suppress(OSError):
            model.save(path)
            older = sorted(path.parent.glob("reader-learned-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
            for stale in older[CACHES_KEPT:]:
                stale.unlink(missing_ok=True)
    return model
