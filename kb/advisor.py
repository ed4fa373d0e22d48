"""The advisor: from a conversation to a cited answer (the justification document).

It composes the seams: the ontology (entities and their facts), the rule base (conclusions and their
reasons), and the retriever (passages that support each conclusion). A `KnowledgeBase` is loaded once
and swapped whole on reload; an `Advisor` answers any number of conversations over it, each from its
own record of facts, so nothing of one conversation reaches another.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb import vocab
from kb.conclusions import Conclusion
from kb.config import Paths
from kb.conversation import ASKER_FIELDS, Conversation, coerce
from kb.corpus import Corpus, load_corpus
from kb.embeddings import Embedder
from kb.facts import Fact, Scalar, Source
from kb.inference import Consultation, RuleBase
from kb.licenses import OUTPUT_NAME as LICENSES_FILE
from kb.ontology import Ontology, load_ontology
from kb.passages import Citation
from kb.phrasebook import Phrasebook, load_phrasebook
from kb.problems import KnowledgeError, Problem
from kb.reader import EntityMatcher, Reader, Understanding
from kb.retrieval import Retriever

log = logging.getLogger("kb.advisor")

Progress = Callable[[str, float], None]
"""progress(stage, fraction done) while a knowledge base loads."""

OUT_OF_SCOPE = (
    "That is outside what I know. I advise on choosing between open-source, commercial and in-house "
    "machine-learning services: licenses and their obligations, vendors and lock-in, compliance, "
    "build versus buy, and the risks of each."
)
NO_RULE = (
    "No rule of mine applies to what I know so far, so I won't guess. Tell me about your team (size, "
    "industry, skills), your needs (certifications, latency, deadline, budget) and the offerings or "
    "licenses you are weighing."
)
MAX_CITATIONS = 3
_ENTITY_ID = re.compile(r"\b(?:" + "|".join(vocab.ONTOLOGY_ID_PREFIXES) + r"):[A-Za-z0-9][\w.+-]*[\w+]")
# Cosine similarity a passage needs to be shown as support: below it, MiniLM pairs are mostly unrelated
# text in this corpus; and a second or third passage must come within SUPPORT_MARGIN of the best one.
MIN_SUPPORT = 0.35
SUPPORT_MARGIN = 0.08


def content_hash(files: Iterable[Path], root: Path) -> str:
    """A short hash of files' names and bytes: names a version of an analysts' folder."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _generated(fact: Fact | None) -> bool:
    """Whether a fact comes only from the generated license catalogue (not from an analyst's file)."""
    return fact is not None and Path(fact.source.file or "").name == LICENSES_FILE


@dataclass(eq=False)
class KnowledgeBase:
    """One loaded knowledge base: ontology, compiled rules, corpus and its index, and their versions."""

    paths: Paths
    ontology: Ontology
    rules: RuleBase
    retriever: Retriever
    corpus: Corpus
    matcher: EntityMatcher
    versions: dict[str, str]
    reader: Reader
    phrasebook: Phrasebook
    load_seconds: float = 0.0

    @classmethod
    def load(cls, paths: Paths, progress: Progress | None = None, embedder: Embedder | None = None) -> KnowledgeBase:
        """Load everything or nothing: any broken file raises KnowledgeError listing every problem.

        `embedder`: an already loaded embedding model to share (default: the packaged model)."""
        started = time.perf_counter()
        say = progress or (lambda stage, done: None)
        say("ontology", 0.0)
        ontology = load_ontology(paths)
        say("reader", 0.15)
        phrasebook = load_phrasebook(paths.reader, vocab.ASKED_KINDS)
        if phrasebook.problems or vocab.ASKER_FIELD_PROBLEMS:
            raise KnowledgeError([*phrasebook.problems, *vocab.ASKER_FIELD_PROBLEMS])
        say("rules", 0.2)
        rules = RuleBase.load(paths, terms=frozenset(ontology.ids()))
        try:
            say("corpus", 0.35)
            corpus = load_corpus(paths)

            def embedded(done: int, total: int) -> None:
                say(f"index ({done}/{total} passages embedded)", 0.4 + 0.55 * done / max(total, 1))

            say("index", 0.4)
            retriever = Retriever.open(paths, progress=embedded, embedder=embedder)
        except BaseException:
            rules.close()
            raise
        labels = ontology.labels()
        guarded = [i for i in labels if i.startswith("license:") and _generated(ontology.fact(i))]
        versions = {
            "rules": rules.version,
            "ontology": content_hash(paths.ontology.glob("*.ttl"), paths.root),
            "corpus": content_hash((d.path for d in corpus.documents), paths.root),
            "model": retriever.embedder.fingerprint[:12],
            "reader": phrasebook.version,
        }
        say("reader examples", 0.97)
        matcher = EntityMatcher(labels, guarded, ontology.resolve)
        try:
            reader = Reader(phrasebook, matcher, retriever.vectors, retriever.embedder.fingerprint, paths.cache)
        except BaseException:
            rules.close()
            raise
        say("ready", 1.0)
        kb = cls(paths, ontology, rules, retriever, corpus, matcher, versions, reader, phrasebook,
                 time.perf_counter() - started)
        log.info("knowledge base loaded in %.2fs: %s", kb.load_seconds, versions)
        return kb

    def close(self) -> None:
        """Stop the rule engine's threads."""
        self.rules.close()

    def resolve(self, label: str) -> str | None:
        """The entity a label names (any of its labels, case- and punctuation-insensitive)."""
        return self.ontology.resolve(label)

    def understand(self, question: str) -> Understanding:
        """Read a question (its vector is kept for the retrieval that follows)."""
        return self.reader.read(question)


class LiveKnowledgeBase:
    """The knowledge base a server answers from, replaced whole on reload; a failed reload keeps the old.

    A replaced knowledge base is not closed at once: conversations being answered may still hold it.
    """

    def __init__(self, paths: Paths, progress: Progress | None = None):
        self.paths = paths
        self._lock = threading.Lock()
        self.current = KnowledgeBase.load(paths, progress)
        self._retired: list[KnowledgeBase] = []

    def reload(self, progress: Progress | None = None) -> list[Problem]:
        """Load again; on success swap and return []; on failure keep the current one and return the problems."""
        try:
            fresh = KnowledgeBase.load(self.paths, progress)
        except KnowledgeError as exc:
            return list(exc.problems)
        with self._lock:
            old, self.current = self.current, fresh
            # Close what was retired one reload ago: by now no answer is still running on it.
            for stale in self._retired:
                stale.close()
            self._retired = [old]
        return []


# --- answering -------------------------------------------------------------------------------------------


@dataclass
class _Citations:
    """Numbers citations across one answer: the same passage keeps one number."""

    numbers: dict[str, int] = field(default_factory=dict)

    def number(self, citation: Citation) -> int:
        return self.numbers.setdefault(citation.passage.key, len(self.numbers) + 1)


class Advisor:
    """Answers conversations over one knowledge base (or a live one that may be reloaded)."""

    def __init__(self, knowledge: KnowledgeBase | LiveKnowledgeBase):
        self._knowledge = knowledge

    @property
    def kb(self) -> KnowledgeBase:
        k = self._knowledge
        return k.current if isinstance(k, LiveKnowledgeBase) else k

    # -- public API --------------------------------------------------------------------------------------
    def ask(self, conversation: Conversation, question: str) -> tuple[Conversation, dict[str, Any]]:
        """Add a turn to (a copy of) the conversation and answer it."""
        kb = self.kb
        understanding = kb.understand(question)
        updated = Conversation(turns=list(conversation.turns), observations=list(conversation.observations))
        updated.add_turn(understanding)
        return updated, self._answer(kb, updated, understanding)

    def answer(self, conversation: Conversation) -> dict[str, Any]:
        """Answer the conversation as it stands (after facts were edited by hand, say)."""
        kb = self.kb
        question = conversation.turns[-1] if conversation.turns else ""
        return self._answer(kb, conversation, kb.understand(question) if question else None)

    def what_if(self, conversation: Conversation, name: str, value: object) -> dict[str, Any]:
        """The answer that would follow if the asker field `name` were `value`; the conversation is untouched."""
        return self.answer(conversation.what_if(name, value))

    # -- the answer ---------------------------------------------------------------------------------------
    def _answer(self, kb: KnowledgeBase, conversation: Conversation,
                understanding: Understanding | None) -> dict[str, Any]:
        question = understanding.question if understanding else ""
        asked = understanding.asked if understanding else "recommendation"
        doc: dict[str, Any] = {
            "schema_version": 1,
            "question": question,
            "turns": list(conversation.turns),
            "asked": asked,
            "facts": [],
            "conclusions": [],
            "recommendation": None,
            "missing": [],
            "why_not": [],
            "versions": dict(kb.versions),
            "abstention": None,
        }
        if understanding is not None:
            doc["reading"] = self._reading(understanding)
        facts = conversation.facts(kb.ontology, asked)
        if understanding is not None and asked == "out_of_scope":
            doc["facts"] = self._fact_entries(kb, conversation, facts, None)
            doc["abstention"] = OUT_OF_SCOPE
            return doc
        consultation = kb.rules.consult(facts)
        doc["facts"] = self._fact_entries(kb, conversation, facts, consultation)
        numbering = _Citations()
        drawn = [c for c in self._ordered(consultation) if self._relevant(c, asked)]
        known = {f["id"] for f in doc["facts"]}
        # Every query this answer will search with, embedded in one batch rather than one model call each.
        kb.retriever.prepare(q for c in drawn for q in (self._query(c), f"{self._query(c)} {question}"))
        cited = [self._conclusion_entry(kb, c, question, numbering, known) for c in drawn]
        doc["conclusions"] = cited
        weighing = [s for s in consultation.weighing() if s.score > 0]
        if weighing:
            top = weighing[0]
            doc["recommendation"] = {
                "option": top.option,
                "strength": round(min(1.0, top.score), 3),
                "scores": {s.option: round(s.score, 3) for s in consultation.weighing()},
                "conclusions": list(top.supporting),
            }
        chosen = weighing[0].option if weighing else None
        questions = [c for c in drawn if c.kind == "question"]
        doc["missing"] = self._confirmations(conversation, understanding) + self._missing(
            kb, conversation, questions, chosen, asked)
        doc["why_not"] = self._why_not(kb, consultation, chosen)
        if not cited:
            doc["abstention"] = NO_RULE
        return doc

    @staticmethod
    def _reading(understanding: Understanding) -> dict[str, Any]:
        """How the question was read, beyond the facts taken: names not known, unsure readings, maybes."""
        out: dict[str, Any] = {
            "unknown": list(understanding.unknown),
            "unsure": [{"field": f"asker.{u.field}", "value": u.value, "score": u.score, "text": u.text,
                        "question": u.question} for u in understanding.unsure],
            "hedged": [{"field": o.key, "value": o.value, "text": o.source.text or ""} for o in understanding.hedged],
        }
        if understanding.asked_how is not None:
            out["asked_how"] = understanding.asked_how.to_dict()
        return out

    @staticmethod
    def _confirmations(conversation: Conversation, understanding: Understanding | None) -> list[dict[str, Any]]:
        """Readings that would matter but were not sure enough to take, asked back first ("Did you mean ...?"),
        unless the asker has already said the field."""
        if understanding is None:
            return []
        known = {fid for fid, _, _ in conversation.known()}
        out: list[dict[str, Any]] = []
        for u in understanding.unsure:
            if f"asker.{u.field}" in known:
                continue
            out.append({"field": f"asker.{u.field}", "question": u.question, "rules": [], "decisive": True,
                        "confirm": u.value})
        return out

    @staticmethod
    def _named(kb: KnowledgeBase, statement: str) -> str:
        """A statement with the entity ids a rule quoted (`license:BSD-3-Clause`) given as their names."""

        def name(m: re.Match[str]) -> str:
            ident = m.group(0)
            fact = kb.ontology.fact(ident)
            if fact is None:
                return ident
            label = kb.ontology.label(ident)
            spdx = fact.get("spdx")
            return f"{label} ({spdx})" if spdx and str(spdx) != label else label

        return _ENTITY_ID.sub(name, statement)

    @staticmethod
    def _relevant(c: Conclusion, asked: str) -> bool:
        """Whether to show a conclusion for what is asked. Questions about the asker's profile (budget,
        team size, ...) matter to a recommendation; asked for a definition, a process or a license's
        obligations, only questions raised by something the asker named are worth asking."""
        if c.kind != "question" or asked in ("recommendation", "comparison"):
            return True
        return any(fid != "asker" for fid in c.because)

    @staticmethod
    def _ordered(consultation: Consultation) -> list[Conclusion]:
        """Recommendations by weight (strongest first), then obligations, risks, notes, questions."""
        kinds = vocab.CONCLUSION_KINDS
        return sorted(consultation.conclusions, key=lambda c: (kinds.index(c.kind), -abs(c.weight), c.id))

    def _conclusion_entry(self, kb: KnowledgeBase, c: Conclusion, question: str, numbering: _Citations,
                          known: set[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": c.id,
            "kind": c.kind,
            "title": c.title,
            "statement": self._named(kb, c.statement),
            "rule": c.rule_ref.to_dict(),
            "because": self._expand(kb, c.because, c.rule_ref.id, known),
            "citations": [],
        }
        if c.option is not None:
            entry["option"] = c.option
        if c.strength is not None:
            entry["strength"] = c.weight
        for cit in self._evidence(kb, c, question):
            entry["citations"].append({
                "n": numbering.number(cit),
                "doc": cit.passage.doc,
                "title": cit.passage.title,
                "heading": cit.passage.heading or None,
                "start": cit.passage.start,
                "end": cit.passage.end,
                "text": cit.passage.text,
                "score": round(cit.score, 4),
            })
        return entry

    def _evidence(self, kb: KnowledgeBase, c: Conclusion, question: str) -> list[Citation]:
        """1-3 passages for a conclusion, ordered by support: the passage its rule rests on first (when it
        clears the threshold), then what the hint and the question retrieve within reach of the best one.
        Each is checked against its document; a weak match is left out rather than shown."""
        hint = c.evidence_hint
        query = self._query(c)
        found = kb.retriever.evidence(query, question, k=MAX_CITATIONS + 2, min_score=MIN_SUPPORT)
        named = kb.retriever.quoted(hint.quote, query, hint.doc) if hint is not None and hint.quote else None
        if hint is not None and hint.quote and named is None:
            log.warning("no passage of %s holds the quote %r", hint.doc or "the corpus", hint.quote)
        # The passage the rule names is vouched for by the analyst: shown whatever its score.
        anchored = [named] if named is not None else []
        best = max((x.score for x in found), default=0.0)
        ranked = sorted(found, key=lambda x: -x.score)
        out: list[Citation] = []
        seen: set[str] = set()
        for cit in anchored + [x for x in ranked if x.score >= best - SUPPORT_MARGIN]:
            if cit.passage.key in seen or not self._exact(kb, cit):
                continue
            seen.add(cit.passage.key)
            out.append(cit)
        return out[:MAX_CITATIONS]

    @staticmethod
    def _query(c: Conclusion) -> str:
        """What a conclusion's evidence is searched with: its rule's evidence query, else its statement."""
        return c.evidence_hint.query if c.evidence_hint else f"{c.title}. {c.statement}"

    @staticmethod
    def _exact(kb: KnowledgeBase, cit: Citation) -> bool:
        """A citation's text must be its document's slice at start..end; an index out of step is not trusted."""
        try:
            doc = kb.corpus.get(cit.passage.doc)
        except KeyError:
            return False
        ok = doc.text[cit.passage.start:cit.passage.end] == cit.passage.text
        if not ok:
            log.warning("citation %s does not match its document; left out", cit.passage.key)
        return ok

    # -- facts and their sources ---------------------------------------------------------------------------
    @staticmethod
    def _asker_fields_read(kb: KnowledgeBase, rule_id: str) -> list[str]:
        try:
            rule = kb.rules.book.rule(rule_id)
        except KeyError:
            return []
        return sorted({t.field for alt in rule.alternatives for m in alt if m.kind == "asker" for t in m.tests})

    def _expand(self, kb: KnowledgeBase, ids: Sequence[str], rule_id: str | None, known: set[str]) -> list[str]:
        """Fact ids with the one `asker` fact replaced by the known fields of it that the rule tested; a rule
        that tested only fields the asker has not given (a question) keeps `asker` itself."""
        out: list[str] = []
        for fid in ids:
            if fid == "asker":
                fields = [f"asker.{f}" for f in (self._asker_fields_read(kb, rule_id) if rule_id else [])]
                out.extend([f for f in fields if f in known] or ["asker"])
            else:
                out.append(fid)
        return sorted(dict.fromkeys(out))

    def _fact_entries(self, kb: KnowledgeBase, conversation: Conversation, facts: Sequence[Fact],
                      consultation: Consultation | None) -> list[dict[str, Any]]:
        """The facts of the answer: the asker as a whole and field by field (each field with the words or
        file it came from), then every other fact given or derived, each with its provenance."""
        sources = conversation.field_sources()
        asker = next((f for f in facts if f.id == "asker"), None)
        entries: list[dict[str, Any]] = [
            {"id": "asker", "kind": "asker", "value": dict(asker.fields if asker else ()),
             "source": Source(kind="user").to_dict()}
        ]
        for name, value in asker.fields if asker else ():
            source = sources[name].source.to_dict() if name in sources else Source(kind="user").to_dict()
            entries.append({"id": f"asker.{name}", "kind": "asker", "value": {name: value}, "source": source})
        known = {e["id"] for e in entries} | {f.id for f in facts}
        for f in consultation.facts if consultation is not None else facts:
            if f.id == "asker":
                continue
            source = f.source.to_dict()
            if f.source.kind == "derived":
                source["from_facts"] = self._expand(kb, f.source.from_facts, f.source.rule, known)
            entries.append({"id": f.id, "kind": f.kind, "value": dict(f.fields), "source": source})
        return entries

    # -- asking back --------------------------------------------------------------------------------------
    def _candidates(self, kb: KnowledgeBase, name: str) -> list[Scalar]:
        """Values worth trying for an unknown asker field: yes/no, its enumerated values, or either side of
        every threshold the rules compare it with."""
        spec = ASKER_FIELDS.get(name)
        if spec is None:
            return []
        if spec.type == "bool":
            return [True, False]
        if spec.values:
            return list(spec.values)
        if spec.type in ("int", "float"):
            points: set[float] = set()
            for rule in kb.rules.book.rules:
                for alt in rule.alternatives:
                    for m in alt:
                        for t in m.tests:
                            if m.kind == "asker" and t.field == name and isinstance(t.value, (int, float)) \
                                    and not isinstance(t.value, bool):
                                points.update({float(t.value) - 1, float(t.value), float(t.value) + 1})
            values: list[Scalar] = []
            for p in sorted(x for x in points if x >= 0):
                try:
                    values.append(coerce(name, p))
                except ValueError:
                    continue
            return list(dict.fromkeys(values))
        return []

    def _missing(self, kb: KnowledgeBase, conversation: Conversation, questions: Sequence[Conclusion],
                 chosen: str | None, asked: str) -> list[dict[str, Any]]:
        """The rules' questions, most decisive first: a question is decisive when some answer to it would
        change the recommended option (tried by re-running the consultation with that answer)."""
        asks: dict[str, dict[str, Any]] = {}
        for c in questions:
            if not c.asks:
                continue
            item = asks.setdefault(c.asks, {"field": c.asks, "question": c.statement, "rules": []})
            item["rules"] = sorted({*item["rules"], c.rule_ref.id})
        for item in asks.values():
            kind, _, name = item["field"].partition(".")
            changes = 0
            if kind == "asker":
                for value in self._candidates(kb, name)[:12]:
                    trial = kb.rules.consult(conversation.what_if(name, value).facts(kb.ontology, asked))
                    scores = [s for s in trial.weighing() if s.score > 0]
                    if (scores[0].option if scores else None) != chosen:
                        changes += 1
            item["decisive"] = changes > 0
            item["_changes"] = changes
        ordered = sorted(asks.values(), key=lambda i: (-i["_changes"], i["field"]))
        for item in ordered:
            del item["_changes"]
        return ordered

    # -- why not ------------------------------------------------------------------------------------------
    def _why_not(self, kb: KnowledgeBase, consultation: Consultation, chosen: str | None) -> list[dict[str, Any]]:
        """For each option not chosen: the rules that would recommend it and the condition of each that failed."""
        scores = {s.option: s.score for s in consultation.weighing()}
        out: list[dict[str, Any]] = []
        for option in vocab.OPTIONS:
            if option == chosen:
                continue
            rules: list[dict[str, Any]] = []
            for rule in kb.rules.book.rules:
                if not any(t.kind == "recommendation" and t.option == option and t.stance != "against"
                           for t in rule.then):
                    continue
                failures = consultation.explain_failed(rule.id)
                rules.append({
                    "rule": {"id": rule.id, "file": rule.file, "line": rule.line},
                    "title": rule.title,
                    "fired": failures is None,
                    "failed": list(dict.fromkeys(str(f) for f in failures or ())),
                })
            out.append({"option": option, "score": round(scores.get(option, 0.0), 3), "rules": rules})
        return out


# --- plain text ------------------------------------------------------------------------------------------
def derivation_lines(doc: dict[str, Any], fact_ids: Sequence[str], indent: int = 0) -> list[str]:
    """The facts behind a conclusion as an indented tree, each with where it came from; a derived fact
    expands into the rule that derived it and the facts it was derived from."""
    from kb.export import describe_source, value_text

    facts = {f["id"]: f for f in doc["facts"]}
    out: list[str] = []

    def walk(fid: str, depth: int, seen: frozenset[str]) -> None:
        fact = facts.get(fid)
        if fact is None or fid in seen:
            return
        out.append(f"{'  ' * depth}{fid}: {value_text(fact['value'])} ({describe_source(fact['source'])})")
        for child in fact["source"].get("from_facts", []):
            walk(child, depth + 1, seen | {fid})

    for fid in fact_ids:
        walk(fid, indent, frozenset())
    return out


def render_text(doc: dict[str, Any], why: bool = False) -> str:
    """The answer for a person reading a terminal: recommendation, conclusions with citation numbers,
    open questions, and the numbered sources; with `why`, the facts behind each conclusion."""
    from kb.export import KIND_HEADINGS, citations, reading_lines
    from kb.vocab import OPTION_LABELS

    lines: list[str] = list(reading_lines(doc))
    if doc["abstention"]:
        lines.append(doc["abstention"])
    rec = doc["recommendation"]
    if rec:
        lines.append(f"Recommendation: {OPTION_LABELS[rec['option']]} (strength {rec['strength']:.2f})")
    for kind, heading in KIND_HEADINGS:
        items = [c for c in doc["conclusions"] if c["kind"] == kind]
        if not items:
            continue
        lines.append("")
        lines.append(f"{heading}:")
        for c in items:
            marks = "".join(f"[{x['n']}]" for x in c["citations"])
            lines.append(f"  - {c['statement']} {marks}".rstrip())
            lines.append(f"      rule {c['rule']['id']} ({c['rule']['file']}:{c['rule']['line']})")
            if why:
                lines.extend("      because " + line for line in derivation_lines(doc, c["because"]))
    if doc["missing"]:
        lines.append("")
        lines.append("To sharpen this, tell me:")
        for m in doc["missing"]:
            lines.append(f"  - {m['question']}" + (" (could change the recommendation)" if m.get("decisive") else ""))
    cits = citations(doc)
    if cits:
        lines.append("")
        lines.append("Sources:")
        for cit in cits:
            text = " ".join(cit["text"].split())
            lines.append(f"  [{cit['n']}] {cit['title']} ({cit['doc']}, {cit['start']}-{cit['end']}): \"{text}\"")
    return "\n".join(lines).strip() + "\n"
