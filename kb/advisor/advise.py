"""The advisor: from a conversation to a cited answer (the justification document).

It composes the seams: the ontology (entities and their facts), the rule base (conclusions and their
reasons), and the retriever (passages that support each conclusion). A `KnowledgeBase` is loaded once
and swapped whole on reload; an `Advisor` answers any number of conversations over it, each from its
own record of facts, so nothing of one conversation reaches another.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kb import __version__ as OSCAR_VERSION
from kb import vocab
from kb.advisor.conversation import ASKER_FIELDS, Conversation, coerce
from kb.advisor.phrasebook import Phrasebook, load_phrasebook
from kb.advisor.question import question_text
from kb.advisor.reader import EntityMatcher, Observation, Reader, Understanding
from kb.config import Paths
from kb.corpus.documents import Corpus, load_corpus
from kb.corpus.passages import Citation
from kb.engine.rulebase import Baseline, Consultation, RuleBase
from kb.graph.licenses import OUTPUT_NAME as LICENSES_FILE
from kb.graph.ontology import Ontology, load_ontology
from kb.model import answer as model
from kb.model.conclusions import Conclusion, OptionScore, RuleRef
from kb.model.facts import Fact, Scalar, Source
from kb.model.problems import KnowledgeError, Problem, display_path
from kb.render.words import link_words
from kb.retrieval.embeddings import READS_CHARS, Embedder
from kb.retrieval.search import Retriever

log = logging.getLogger("kb.advisor.advise")

Progress = Callable[[str, float], None]
"""progress(stage, fraction done) while a knowledge base loads."""

OUT_OF_SCOPE = (
    "That is outside what I know. I advise on choosing between open-source, commercial and in-house "
    "machine-learning services: licenses and their obligations, vendors and lock-in, compliance, "
    "build versus buy, and the risks of each."
)
STACK_ONLY = (
    "No rule draws a conclusion from the question itself; the review of your stack says what each "
    "component's licence asks of you, and what to check."
)
NO_RULE = (
    "No rule of mine applies to what I know so far, so I won't guess. Tell me about your team (size, "
    "industry, skills), your needs (certifications, latency, deadline, budget) and the offerings or "
    "licenses you are weighing."
)
MAX_CITATIONS = 3
_ENTITY_ID = re.compile(r"\b(?:" + "|".join(vocab.ONTOLOGY_ID_PREFIXES) + r"):[A-Za-z0-9][\w.+-]*[\w+]")
# The citation policy says no rather than pad. A conclusion whose rule names its passage (the analyst's
# `evidence.quote`) cites that passage alone; a question asked back cites only that passage, or nothing. A
# definition (`evidence.of`) cites the passage its idea's ontology entry names, alone, or nothing. Another
# conclusion, whose rule names no passage, is searched with its statement, and a passage is shown only when it
# passes the support test below, fitted on the labelled dev split (tests/data/citations, `kb eval citations`):
# its cosine similarity to the statement and the question reaches MIN_SUPPORT_UNANCHORED, it shares at least
# MIN_SHARED content words with the statement, it holds at least MIN_WORDS words (a title line supports
# nothing), and its document's metadata does not mark it as page furniture (`not_evidence`).
# Passages beside a rule's own were searched too until the labelled dev pairs showed them padding: the own
# passages supported their conclusion 139 times in 139, the passages beside them 4 times in 6 (7 in 10 at an
# earlier fit), with the unsupported ones among the supported in score (0.770 and 0.779 against 0.758-0.788):
# no floor keeps them at 0.95, so none is shown. See docs/advisor.md for the figures.
MIN_SUPPORT_UNANCHORED = 0.4
SUPPORT_MARGIN = 0.03
MIN_SHARED = 4
MIN_WORDS = 12
_WORD = re.compile(r"[a-z][a-z0-9+-]{2,}")
_STOP = frozenset("""the and for with that this from your you are our can its has have not but was were will
would what when which who how why into onto than then them they their there these those about over under
more most less very also just such some any each other only own same both all one two use used using""".split())


def _content_words(text: str) -> frozenset[str]:
    """Lower-cased words of three letters or more, stop words aside (the lexical side of the support test)."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


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


TIE_MARGIN = 0.05
"""Options whose weighed support is this close to the leader's are a tie, not a decision."""
COMPARED = ("open_source", "open_core", "commercial", "build_in_house", "hybrid")
"""The options the comparison sets side by side (hybrid only when a rule speaks of it)."""
CHANGES_SHOWN = 2
"""How many ways to make an option lead a Why not? shows."""
PAIR_POOL = 4
"""Pairs of asker facts are tried among this many single changes (those that raise the option most)."""


def _leading(weighing: Iterable[OptionScore]) -> tuple[str, ...]:
    """The options that lead, best first: the best scored and those tied with it (none when nothing is for
    any)."""
    scores = [s for s in weighing if s.score > 0]
    return tuple(s.option for s in scores if scores[0].score - s.score < TIE_MARGIN)


@dataclass(frozen=True)
class _Trial:
    """A conversation with one or two asker fields changed, and how the rules weigh the options for it."""

    conversation: Conversation
    scores: dict[str, float]
    leading: tuple[str, ...]


class _Trials:
    """The rules' weighing of a conversation with one asker field changed, each worked out once per answer:
    the questions back (`_missing`) and Why not? (`_changes`) try many of the same values."""

    def __init__(self, kb: KnowledgeBase, conversation: Conversation, asked: str):
        self.kb, self.conversation, self.asked = kb, conversation, asked
        self._done: dict[tuple[str, Scalar], _Trial] = {}
        self._baseline: Baseline | None = None

    def weigh(self, name: str, value: Scalar) -> _Trial:
        """The conversation with `name` set to `value`, weighed."""
        key = (name, value)
        if key not in self._done:
            self._done[key] = self.of(self.conversation.what_if(name, value))
        return self._done[key]

    def of(self, conversation: Conversation) -> _Trial:
        """Any conversation, weighed (a pair of changes: not kept)."""
        if self._baseline is None:  # the answer's own facts, weighed once; each trial runs what its change reaches
            self._baseline = self.kb.rules.baseline(self.conversation.facts(self.kb.ontology, self.asked))
        weighing = self._baseline.weigh(conversation.facts(self.kb.ontology, self.asked))
        return _Trial(conversation, {s.option: s.score for s in weighing}, _leading(weighing))


def _outcome(consultation: Consultation, asked: str) -> frozenset[str]:
    """What an answer to a question back would have to change to matter: for a licence question, which
    obligations and risks apply; otherwise which options lead."""
    if asked == "obligations":
        return frozenset(c.rule_ref.id for c in consultation.conclusions if c.kind in ("obligation", "risk"))
    return frozenset(_leading(consultation.weighing()))


def _fact_words(kb: KnowledgeBase, fact: Fact) -> str:
    """A curated fact in words: an entity's name, or "Amazon SageMaker holds HIPAA BAA" for a link."""
    return link_words(fact.kind, dict(fact.fields), kb.ontology.label) or str(fact.get("name") or fact.id)


ASSUMED_WORDS = {"support": "support terms", "commercial_support": "support terms", "sla": "service levels",
                 "holds": "certifications", "delivery": "delivery model", "open_weights": "published weights"}
"""How a curated field marked as an assumption is named to a person."""

def named(kb: KnowledgeBase, statement: str) -> str:
    """A statement with the entity ids a rule quoted (`license:BSD-3-Clause`) given as their names, as every
    answer (and a stack review) shows them."""

    def name(m: re.Match[str]) -> str:
        ident = m.group(0)
        fact = kb.ontology.fact(ident)
        if fact is None:
            return ident
        label = kb.ontology.label(ident)
        spdx = fact.get("spdx")
        return f"{label} ({spdx})" if spdx and str(spdx) != label else label

    return _ENTITY_ID.sub(name, statement)


_LICENCE_DATA = re.compile(r"ScanCode LicenseDB \(([^)]+)\)")
"""The data version a licence text was copied from, as its corpus/metadata.yaml publisher records it."""


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
            retriever = Retriever.open(paths, progress=embedded, embedder=embedder, corpus=corpus)
            # Rules' evidence queries are fixed text: embedded once here (or read from the cache), never per answer.
            retriever.fixed_queries((r.evidence.query for r in rules.book.rules if r.evidence and r.evidence.query),
                                    paths.cache)
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
        licence_data = sorted({m.group(1) for meta in corpus.metadata.values()
                               if (m := _LICENCE_DATA.search(meta.publisher or ""))})
        if licence_data:
            versions["licence texts"] = "ScanCode LicenseDB: " + ", ".join(licence_data)
        say("reader examples", 0.97)
        matcher = EntityMatcher(labels, guarded, ontology.decisive,
                                vouched={i: ontology.alt_labels(i) for i in guarded})
        implied: dict[str, list[tuple[str, str]]] = {}
        tests = [(decl.name, *test) for decl in phrasebook.fields.values() for test in decl.implied_by]
        for fact in ontology.facts() if tests else ():  # fields.yaml `implied_by`, resolved against the ontology
            for field_name, kind, fname, values in tests:
                if fact.kind == kind and str(fact.get(fname)) in values:
                    why = f"{fact.get('name') or fact.id}: {kind} with {fname} {fact.get(fname)}"
                    implied.setdefault(fact.id, []).append((field_name, why))
        from kb.advisor.reading_eval import learned_reader

        say("learned reader", 0.98)
        learned = learned_reader(paths, phrasebook)
        if learned is not None:
            versions["learned reader"] = learned.fingerprint
        try:
            reader = Reader(phrasebook, matcher, retriever.vectors, retriever.embedder.fingerprint, paths.cache,
                            implied, learned)
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

    def reload(self, progress: Progress | None = None, deadline: float | None = None) -> list[Problem]:
        """Load again; on success swap and return []; on failure keep the current one and return the problems.
        `deadline` (time.monotonic()): a load that ends after it is discarded, not swapped in."""
        try:
            fresh = KnowledgeBase.load(self.paths, progress)
        except KnowledgeError as exc:
            return list(exc.problems)
        if deadline is not None and time.monotonic() > deadline:
            fresh.close()
            return [Problem(display_path(self.paths.root), 0, "the reload took too long and was discarded; "
                            "still answering with the last good knowledge base")]
        with self._lock:
            old, self.current = self.current, fresh
            # Close what was retired one reload ago: by now no answer is still running on it.
            for stale in self._retired:
                stale.close()
            self._retired = [old]
        return []


# --- answering -------------------------------------------------------------------------------------------


@dataclass
class CitationNumbers:
    """Numbers citations across one answer: the same passage keeps one number."""

    numbers: dict[str, int] = field(default_factory=dict)

    def number(self, citation: Citation) -> int:
        return self.numbers.setdefault(citation.passage.key, len(self.numbers) + 1)


class Advisor:
    """Answers conversations over one knowledge base (or a live one that may be reloaded)."""

    def __init__(self, knowledge: KnowledgeBase | LiveKnowledgeBase):
        self._knowledge = knowledge
        self._tested: tuple[object, list[str], frozenset[str]] | None = None
        self._tried: tuple[object, dict[str, list[Scalar]]] = (None, {})

    @property
    def kb(self) -> KnowledgeBase:
        k = self._knowledge
        return k.current if isinstance(k, LiveKnowledgeBase) else k

    # -- public API --------------------------------------------------------------------------------------
    def ask(self, conversation: Conversation, question: str) -> tuple[Conversation, model.Answer]:
        """Add a turn to (a copy of) the conversation and answer it."""
        kb = self.kb
        understanding = kb.understand(question_text(question))
        updated = Conversation(turns=list(conversation.turns), observations=list(conversation.observations),
                               stack=conversation.stack)
        updated.add_turn(understanding)
        return updated, self._answer(kb, updated, understanding)

    def answer(self, conversation: Conversation) -> model.Answer:
        """Answer the conversation as it stands (after facts were edited by hand, say)."""
        kb = self.kb
        question = conversation.turns[-1] if conversation.turns else ""
        return self._answer(kb, conversation, kb.understand(question) if question else None)

    def what_if(self, conversation: Conversation, name: str, value: object) -> model.Answer:
        """The answer that would follow if the asker field `name` were `value`; the conversation is untouched."""
        return self.what_if_all(conversation, {name: value})

    def what_if_all(self, conversation: Conversation, changes: Mapping[str, object]) -> model.Answer:
        """The answer that would follow if each asker field of `changes` had its value (a Why not?'s pair)."""
        for name, value in changes.items():
            conversation = conversation.what_if(name, self.value(name, value))
        return self.answer(conversation)

    def value(self, name: str, value: object) -> object:
        """A value for the asker field `name` as given by a person: a reference field (industry) given by
        name becomes the entity's id ("fintech" -> industry:finance); others pass as given (the
        conversation coerces them). ValueError says what the field expects. The chat, the CLI and the API
        all set facts through this, so the same words store the same value."""
        spec = ASKER_FIELDS.get(name)
        if spec is not None and spec.type == "ref":
            ident = self.kb.resolve(str(value))
            if ident is None or not ident.startswith(f"{name}:"):
                raise ValueError(f"'{name}' expects the name of an {name} the ontology knows, got {value!r}")
            return ident
        return value

    def set_fact(self, conversation: Conversation, name: str, value: object) -> None:
        """Set or correct an asker field in `conversation` as a person gives it (see `value`)."""
        conversation.set_fact(name, self.value(name, value))

    # -- the answer ---------------------------------------------------------------------------------------
    def _answer(self, kb: KnowledgeBase, conversation: Conversation,
                understanding: Understanding | None) -> model.Answer:
        question = understanding.question if understanding else ""
        asked = understanding.asked if understanding else "recommendation"
        reading = self._reading(kb, understanding) if understanding is not None else None
        facts = conversation.facts(kb.ontology, asked)

        numbering = CitationNumbers()

        def stack() -> model.StackReview | None:
            """The stack given beside the questions, reviewed under the asker's facts; its clauses are numbered
            after the answer's own citations."""
            if conversation.stack is None:
                return None
            from kb.stack.review import review

            asker = next((f for f in facts if f.id == "asker"), None)
            return review(kb, conversation.stack, asker=asker, numbering=numbering, advisor=self)

        declined = model.Answer(question=question, turns=tuple(conversation.turns), asked=asked, facts=(),
                                conclusions=(), recommendation=None, missing=(), why_not=(),
                                versions=dict(kb.versions), abstention=OUT_OF_SCOPE, reading=reading,
                                answered_at=datetime.now(UTC).isoformat(timespec="seconds"),
                                oscar_version=OSCAR_VERSION)
        if understanding is not None and asked == "out_of_scope":
            return dataclasses.replace(declined, facts=tuple(self._fact_entries(kb, conversation, facts, None)),
                                       stack=stack())
        consultation = kb.rules.consult(facts)
        entries = self._fact_entries(kb, conversation, facts, consultation)
        drawn = [c for c in self._ordered(consultation) if self._relevant(c, asked)]
        known = {f.id for f in entries}
        # What this answer's citations are scored and searched with, embedded in one batch: the question (the
        # reader's vector), the evidence query of a rule that names its passage (most embedded at load), and the
        # filled-in statement of a conclusion whose passages are searched.
        kb.retriever.prepare([question.strip()[:READS_CHARS],
                              *(self._query(c) for c in drawn if c.evidence_hint is not None and c.evidence_hint.quote),
                              *(c.statement for c in drawn if self._searched(c))])
        cited = tuple(self._conclusion_entry(kb, c, question, numbering, known) for c in drawn)
        weighing = [s for s in consultation.weighing() if s.score > 0]
        recommendation = None
        if weighing:
            top = weighing[0]
            recommendation = model.Recommendation(
                option=top.option,  # type: ignore[arg-type]
                strength=round(min(1.0, top.score), 3),
                scores={s.option: round(s.score, 3) for s in consultation.weighing()},
                conclusions=tuple(top.supporting),
                tie=_leading(weighing)[1:],  # type: ignore[arg-type]
            )
        questions = [c for c in drawn if c.kind == "question"]
        trials = _Trials(kb, conversation, asked)
        missing = self._confirmations(conversation, understanding) + self._missing(
            kb, conversation, questions, _outcome(consultation, asked), asked, trials)
        chosen = weighing[0].option if weighing else None
        abstention = None if cited else STACK_ONLY if conversation.stack is not None else NO_RULE
        return dataclasses.replace(declined, facts=tuple(entries), abstention=abstention,
                                   conclusions=cited, recommendation=recommendation, missing=tuple(missing),
                                   comparison=self._comparison(kb, cited),
                                   why_not=tuple(self._why_not(kb, consultation, chosen, trials)),
                                   stack=stack())

    @staticmethod
    def _reading(kb: KnowledgeBase, understanding: Understanding) -> model.Reading:
        """How the question was read, beyond the facts taken: names not known, unsure readings, maybes and
        what was said of someone else."""
        def not_taken(observations: tuple[Observation, ...]) -> tuple[model.Hedged, ...]:
            return tuple(model.Hedged(field=o.key, value=o.value, text=o.source.text or "") for o in observations)

        return model.Reading(
            unknown=tuple(understanding.unknown),
            unsure=tuple(understanding.unsure),
            hedged=not_taken(understanding.hedged),
            asked_how=understanding.asked_how,
            ambiguous=tuple(model.Ambiguous(text, tuple(kb.ontology.label(i) for i in ids))
                            for text, ids in understanding.ambiguous),
            others=not_taken(understanding.others),
        )

    @staticmethod
    def _confirmations(conversation: Conversation, understanding: Understanding | None) -> list[model.Question]:
        """Readings that would matter but were not sure enough to take, asked back first ("Did you mean ...?"),
        unless the asker has already said the field."""
        if understanding is None:
            return []
        known = {fid for fid, _, _ in conversation.known()}
        return [model.Question(field=u.field, question=u.question, rules=(), decisive=True, confirm=u.value)
                for u in understanding.unsure if u.field not in known]

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
        """Recommendations (those for the leading options first, each group strongest first), then
        obligations, risks, notes, questions: so an answer's citations are numbered in the order it shows them."""
        kinds = vocab.CONCLUSION_KINDS
        leading = _leading(consultation.weighing())
        return sorted(consultation.conclusions,
                      key=lambda c: (kinds.index(c.kind), c.option not in leading, -abs(c.weight), c.id))

    def _conclusion_entry(self, kb: KnowledgeBase, c: Conclusion, question: str, numbering: CitationNumbers,
                          known: set[str]) -> model.Conclusion:
        return model.Conclusion(
            id=c.id,
            kind=c.kind,  # type: ignore[arg-type]
            title=c.title,
            statement=named(kb, c.statement),
            rule=c.rule_ref,
            because=tuple(self._expand(kb, c.because, c.rule_ref.id, known)),
            citations=tuple(self._cited(kb, cit, numbering) for cit in self._evidence(kb, c, question)),
            option=c.option,  # type: ignore[arg-type]
            strength=c.weight if c.strength is not None else None,
            assumptions=self._assumptions(kb, c),
            criterion=c.criterion,
        )

    def _cited(self, kb: KnowledgeBase, cit: Citation, numbering: CitationNumbers) -> model.Citation:
        """A passage as the answer cites it: numbered across the answer, with its place in its file."""
        return model.Citation(n=numbering.number(cit), doc=cit.passage.doc, title=cit.passage.title,
                              heading=cit.passage.heading or None, start=cit.passage.start, end=cit.passage.end,
                              text=cit.passage.text, score=round(cit.score, 4), source=self._span(kb, cit))

    def rule_passage(self, kb: KnowledgeBase, c: Conclusion, numbering: CitationNumbers) -> model.Citation | None:
        """The passage a conclusion's own rule names (a licence's clause, say), as the answer cites it; None
        when the rule names none or its document no longer holds it."""
        found = self._own_passage(kb, c)
        return self._cited(kb, found, numbering) if found is not None else None

    def _own_passage(self, kb: KnowledgeBase, c: Conclusion) -> Citation | None:
        """The passage the conclusion's rule names by its quote, checked against its document; None (and a
        warning when the quote is in no passage) otherwise."""
        hint = c.evidence_hint
        if hint is None or not hint.quote:
            return None
        named = kb.retriever.quoted(hint.quote, self._query(c), hint.doc)
        if named is None:
            log.warning("no passage of %s holds the quote %r", hint.doc or "the corpus", hint.quote)
        return named if named is not None and self._exact(kb, named) else None

    @staticmethod
    def _assumptions(kb: KnowledgeBase, c: Conclusion) -> tuple[str, ...]:
        """The assumptions among the curated facts a conclusion rests on: a whole entity marked as one, or a
        marked field of it that the conclusion's rule tests."""
        rule = kb.rules.rule(c.rule_ref.id)
        tested: dict[str, set[str]] = {}
        for alt in rule.alternatives if rule is not None else ():
            for m in alt:
                if not m.negated:
                    tested.setdefault(m.kind, set()).update(t.field for t in m.tests)
        out: list[str] = []
        for fid in c.because:
            fact = kb.ontology.fact(fid)
            assumed = str(fact.get("assumed") or "") if fact is not None else ""
            if fact is None or not assumed:
                continue
            if assumed == "*":
                out.append(f"{_fact_words(kb, fact)}: no source records it")
                continue
            name = str(fact.get("name") or fid)
            fields = [f for f in assumed.split(",") if f in tested.get(fact.kind, set())]
            words = dict.fromkeys(ASSUMED_WORDS.get(f, f.replace("_", " ")) for f in fields)
            if words:
                out.append(f"{name}: its {' and '.join(words)} (no source records them)")
        return tuple(dict.fromkeys(out))

    def _evidence(self, kb: KnowledgeBase, c: Conclusion, question: str) -> list[Citation]:
        """The passages cited under a conclusion, by the policy above: the passage its rule names, alone; else,
        for a conclusion whose passages are searched, those that pass the support test, best first. Each is
        checked against its document; none at all rather than a weak one."""
        # The passage the rule names is vouched for by the analyst: shown whatever its score.
        named = self._own_passage(kb, c)
        out: list[Citation] = [named] if named is not None else []
        if out or not self._searched(c):
            return out
        # A rule that names no passage (its support depends on what the conclusion is about) is searched with
        # its filled-in statement, under the fitted support test.
        found = kb.retriever.evidence(c.statement, question, k=MAX_CITATIONS + 2, min_score=MIN_SUPPORT_UNANCHORED)
        words = _content_words(f"{self._query(c)} {c.statement}")
        passing = [x for x in sorted(found, key=lambda x: -x.score)  # search returns each passage once
                   if self._supports(kb, x, words) and not self._clause_text(kb, x.passage.doc)]
        best = passing[0].score if passing else 0.0
        return [x for x in passing if x.score >= best - SUPPORT_MARGIN][:MAX_CITATIONS]

    @staticmethod
    def _span(kb: KnowledgeBase, cit: Citation) -> model.SourceSpan | None:
        """The cited passage's place in its file as stored (see model.SourceSpan)."""
        try:
            doc = kb.corpus.get(cit.passage.doc)
        except KeyError:
            return None
        start, end = doc.source_span(cit.passage.start, cit.passage.end)
        first, last = doc.locate(cit.passage.start), doc.locate(max(cit.passage.start, cit.passage.end - 1))
        return model.SourceSpan(file=display_path(doc.path, kb.paths.root), start=start, end=end, line=first.line,
                                column=first.column, end_line=last.line, end_column=last.column,
                                text=doc.source_text[start:end], page=first.page)

    @staticmethod
    def _clause_text(kb: KnowledgeBase, doc_id: str) -> bool:
        """A document cut at its own clauses (a licence, `sections: numbered`): a clause is cited only as a rule's
        own passage. Beside it, the licence's other clauses were padding: on the labelled dev split 2 of 7
        supported the conclusion (the attribution clause under the monthly-user limit, a title line)."""
        meta = kb.corpus.metadata.get(doc_id)
        return meta is not None and meta.sections == "numbered"

    @staticmethod
    def _supports(kb: KnowledgeBase, cit: Citation, words: frozenset[str]) -> bool:
        """The support test a searched passage must pass (see MIN_SUPPORT_UNANCHORED)."""
        text = cit.passage.text
        if len(text.split()) < MIN_WORDS or len(words & _content_words(text)) < MIN_SHARED:
            return False
        try:
            doc = kb.corpus.get(cit.passage.doc)
        except KeyError:
            return False
        return doc.citable(cit.passage.heading or "", text) and Advisor._exact(kb, cit)

    @staticmethod
    def _searched(c: Conclusion) -> bool:
        """Whether a conclusion's passages are searched for (with its statement): not when its rule names its
        passage (that passage alone is cited), not for a question asked back (its rule's passage or nothing),
        not for a definition (the passage its entity names, or nothing: searched by its statement, such
        passages supported it in 13 of the 25 labelled pairs (dev): most named the idea in passing)."""
        hint = c.evidence_hint
        return c.kind != "question" and (hint is None or (not hint.quote and hint.entity is None))

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
                      consultation: Consultation | None) -> list[model.FactEntry]:
        """The facts of the answer: the asker as a whole and field by field (each field with the words or
        file it came from), then every other fact given or derived, each with its provenance."""
        sources = conversation.field_sources()
        asker = next((f for f in facts if f.id == "asker"), None)
        user = Source(kind="user")
        entries = [model.FactEntry("asker", "asker", dict(asker.fields if asker else ()), user)]
        for name, value in asker.fields if asker else ():
            entries.append(model.FactEntry(f"asker.{name}", "asker", {name: value},
                                           sources[name].source if name in sources else user))
        known = {e.id for e in entries} | {f.id for f in facts}
        for f in consultation.facts if consultation is not None else facts:
            if f.id == "asker":
                continue
            source = f.source
            if source.kind == "derived":
                source = dataclasses.replace(
                    source, from_facts=tuple(self._expand(kb, source.from_facts, source.rule, known)))
            entries.append(model.FactEntry(f.id, f.kind, dict(f.fields), source))
        return entries

    # -- asking back --------------------------------------------------------------------------------------
    def _candidates(self, kb: KnowledgeBase, name: str) -> list[Scalar]:
        """Values worth trying for an unknown asker field: yes/no, its enumerated values, or either side of
        every threshold the rules compare it with (worked out once per rule base and field)."""
        book = kb.rules.book
        if self._tried[0] is not book:
            self._tried = (book, {})
        known = self._tried[1].get(name)
        if known is None:
            known = self._tried[1][name] = self._values_to_try(kb, name)
        return known

    @staticmethod
    def _values_to_try(kb: KnowledgeBase, name: str) -> list[Scalar]:
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
                 outcome: frozenset[str], asked: str, trials: _Trials) -> list[model.Question]:
        """The rules' questions, most decisive first: a question is decisive when some answer to it would
        change this answer's outcome (`_outcome`: the leading options, or for a licence question the
        obligations and risks), tried by re-running the consultation with that answer."""
        asks: dict[str, tuple[str, set[str]]] = {}
        for c in questions:
            if c.asks:
                asks.setdefault(c.asks, (c.statement, set()))[1].add(c.rule_ref.id)
        changes: dict[str, int] = {}
        for fid in asks:
            kind, _, name = fid.partition(".")
            changes[fid] = 0
            if kind == "asker":
                for value in self._candidates(kb, name)[:12]:
                    if asked == "obligations":
                        facts = conversation.what_if(name, value).facts(kb.ontology, asked)
                        trial = _outcome(kb.rules.consult(facts), asked)
                    else:
                        trial = frozenset(trials.weigh(name, value).leading)
                    if trial != outcome:
                        changes[fid] += 1
        return [model.Question(field=fid, question=asks[fid][0], rules=tuple(sorted(asks[fid][1])),
                               decisive=changes[fid] > 0)
                for fid in sorted(asks, key=lambda f: (-changes[f], f))]

    # -- the comparison -----------------------------------------------------------------------------------
    @staticmethod
    def _comparison(kb: KnowledgeBase, cited: Sequence[model.Conclusion]) -> tuple[model.Compared, ...]:
        """The options against each criterion a recommendation or risk of this answer speaks to (its rule's
        `criterion`): a cell per option with the recommendations for or against it, or the ontology's
        typical profile of open source or commercial offerings where no rule speaks; weightiest first."""
        rows: dict[str, list[model.Conclusion]] = {}
        for c in cited:
            if c.criterion and c.kind in ("recommendation", "risk"):
                rows.setdefault(c.criterion, []).append(c)
        if not rows:
            return ()
        options = [o for o in COMPARED if o != "hybrid" or any(c.option == o for c in cited)]
        out: list[tuple[float, model.Compared]] = []
        for criterion, drawn in rows.items():
            fact = kb.ontology.fact(criterion)
            fields = dict(fact.fields) if fact is not None else {}
            typical = {"open_source": str(fields.get("open_source") or ""),
                       "commercial": str(fields.get("commercial") or "")}
            cells = tuple(model.Cell(option, tuple(c.id for c in drawn if c.option == option),  # type: ignore[arg-type]
                                     "" if any(c.option == option for c in drawn) else typical.get(option, ""))
                          for option in options)
            where = f"{fact.source.file}:{fact.source.line}" if fact is not None and fact.source.file else ""
            row = model.Compared(criterion, str(fields.get("name") or criterion.partition(":")[2].replace("_", " ")),
                                 str(fields.get("definition") or ""), cells,
                                 tuple(c.id for c in drawn if c.kind == "risk"), where)
            out.append((sum(abs(c.strength or 0.0) for c in drawn), row))
        out.sort(key=lambda x: (-x[0], -len(x[1].risks), x[1].name))
        return tuple(row for _, row in out)

    # -- why not ------------------------------------------------------------------------------------------
    def _what_ifs(self, kb: KnowledgeBase) -> tuple[list[str], frozenset[str]]:
        """What Why not? tries, worked out once per rule base: the asker fields some rule tests (a
        recommendation's, or a derivation's a recommendation rests on: the team's size makes a
        `small_team`), and the options some rule argues for (no fact can make another one lead)."""
        book = kb.rules.book
        cached = self._tested
        if cached is None or cached[0] is not book:
            fields = sorted({t.field for rule in book.rules for alt in rule.alternatives for m in alt
                             if m.kind == "asker" for t in m.tests if t.field in ASKER_FIELDS})
            argued = frozenset(t.option for rule in book.rules for t in rule.then
                               if t.kind == "recommendation" and t.stance != "against" and t.option)
            cached = self._tested = (book, fields, argued)
        return cached[1], cached[2]

    def _changes(self, kb: KnowledgeBase, trials: _Trials, chosen: str | None,
                 base: Mapping[str, float]) -> dict[str, list[model.Change]]:
        """Per option not chosen, at most CHANGES_SHOWN sets of one or two asker facts that would make it lead,
        found by re-weighing the rules with each value worth trying (`_candidates`) of every asker field a
        rule tests; pairs are tried among the single changes that raise an option most when no single one
        makes it lead. When no pair does either, the single change that raises it most is kept (`leads`
        false). Fields already said count too: a different answer is what would have changed it. `base`:
        each option's support as the answer weighs it."""
        said = {fid.removeprefix("asker."): value for fid, value, _ in trials.conversation.known()
                if fid.startswith("asker.")}
        tested, argued = self._what_ifs(kb)
        singles = [(model.SetTo(f"asker.{name}", value), trials.weigh(name, value))
                   for name in tested for value in self._candidates(kb, name)[:12] if said.get(name) != value]
        out: dict[str, list[model.Change]] = {}
        for option in vocab.OPTIONS:
            if option == chosen or option not in argued:
                continue
            found = [model.Change((s,), round(t.scores.get(option, 0.0), 3), True)
                     for s, t in singles if t.leading[:1] == (option,)]
            raising = sorted((x for x in singles if x[1].scores.get(option, 0.0) > base.get(option, 0.0)),
                             key=lambda x: -x[1].scores.get(option, 0.0))
            if not found:
                firsts: dict[str, tuple[model.SetTo, _Trial]] = {}
                for s, t in raising:
                    firsts.setdefault(s.field, (s, t))
                pool = list(firsts.values())[:PAIR_POOL]
                for i, (a, t) in enumerate(pool):
                    for b, _ in pool[i + 1:]:
                        both = trials.of(t.conversation.what_if(b.field.removeprefix("asker."), b.value))
                        if both.leading[:1] == (option,):
                            found.append(model.Change((a, b), round(both.scores.get(option, 0.0), 3), True))
            if not found and raising:
                s, t = raising[0]
                found = [model.Change((s,), round(t.scores.get(option, 0.0), 3), False)]
            found.sort(key=lambda c: (len(c.facts), -c.score))
            out[option] = found[:CHANGES_SHOWN]
        return out

    def _why_not(self, kb: KnowledgeBase, consultation: Consultation, chosen: str | None,
                 trials: _Trials) -> list[model.WhyNot]:
        """For each option not chosen: the rules that would recommend it, the condition of each that failed,
        and the asker facts that would have made it lead (`_changes`)."""
        scores = {s.option: s.score for s in consultation.weighing()}
        changes = self._changes(kb, trials, chosen, scores) if trials.asked in ("recommendation", "comparison") \
            else {}
        out: list[model.WhyNot] = []
        for option in vocab.OPTIONS:
            if option == chosen:
                continue
            rules: list[model.RuleCheck] = []
            for rule in kb.rules.book.rules:
                if not any(t.kind == "recommendation" and t.option == option and t.stance != "against"
                           for t in rule.then):
                    continue
                failures = consultation.explain_failed(rule.id)
                rules.append(model.RuleCheck(
                    rule=RuleRef(rule.id, rule.file, rule.line),
                    title=rule.title,
                    fired=failures is None,
                    failed=tuple(dict.fromkeys(str(f) for f in failures or ())),
                ))
            out.append(model.WhyNot(option=option, score=round(scores.get(option, 0.0), 3),  # type: ignore[arg-type]
                                    rules=tuple(rules), changes=tuple(changes.get(option, ()))))
        return out
