"""Vocabulary in one place: namespaces, fact kinds and their fields, operators, conclusion kinds, options.

Rule files may use only what is declared here (plus the fact kinds a rule file itself declares as derived);
`kb vocab` prints it for analysts, and tests fail when `rules/README.md` or `docs/` stop matching it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rdflib import Namespace

from kb.advisor.phrasebook import load_fields
from kb.config import Paths
from kb.model.problems import Problem

# --- Namespaces (RDF) -------------------------------------------------------------------------------
OSCAR = Namespace("https://w3id.org/oscar/ns#")
"""Our own schema and curated individuals."""
SPDX_LICENSE = Namespace("http://spdx.org/licenses/")
"""SPDX license URIs, as the SPDX list itself names them."""
SCANCODE_LICENSE = Namespace("https://scancode-licensedb.aboutcode.org/")
"""ScanCode LicenseDB keys, for licenses without an SPDX id."""
OSCAR_ID = "https://w3id.org/oscar/id/"
"""Curated individuals live under OSCAR_ID + kind + "/": the Turtle name `offering:pytorch` is the fact id."""
ENTITY_KINDS = ("offering", "vendor", "certification", "industry", "criterion")
"""Kinds of curated individuals, each with a prefix of its own (licenses use `spdx:` / `scancode:`)."""
CORPUS_DOC = Namespace("https://w3id.org/oscar/corpus/")
"""Corpus documents by file name (`doc:000_ec713219caae2b0a.txt`), the objects of dcterms:source."""

PREFIXES: dict[str, str] = {
    "oscar": str(OSCAR),
    "spdx": str(SPDX_LICENSE),
    "scancode": str(SCANCODE_LICENSE),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "sh": "http://www.w3.org/ns/shacl#",
    "doc": str(CORPUS_DOC),
    **{kind: f"{OSCAR_ID}{kind}/" for kind in ENTITY_KINDS},
}

# --- Fact kinds --------------------------------------------------------------------------------------
FieldType = Literal["str", "int", "float", "bool", "ref"]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a fact kind: its type, the values it may take (if enumerated), and what it means."""

    type: FieldType
    doc: str
    values: tuple[str, ...] = ()
    unit: str = ""
    ask: str = ""
    """The question that asks the asker for this field (asker fields only)."""
    decisive: bool = False
    """The field can change a recommendation: a middling reading of it is asked back, not guessed."""
    value_docs: tuple[str, ...] = ()
    """One line for each of `values`, in the same order."""
    shown_as: str = ""
    """How a number's unit is named beside it to a person ("people", "ms")."""


@dataclass(frozen=True)
class FactKind:
    """A kind of fact: where facts of it come from, and its fields (besides `id` and `kind`)."""

    name: str
    origin: Literal["ontology", "asker"]
    doc: str
    fields: dict[str, FieldSpec]


LICENSE_FAMILIES = (
    "permissive",
    "weak_copyleft",
    "strong_copyleft",
    "network_copyleft",
    "source_available",
    "proprietary",
    "public_domain",
    "other",  # not a copyright license: contributor agreements, patent-only grants
    "unclassified",  # listed by SPDX but not yet classified by ScanCode or a curator
)
COPYLEFT_FAMILIES = ("weak_copyleft", "strong_copyleft", "network_copyleft")
DELIVERY_MODELS = ("open_source", "open_core", "commercial", "managed_saas", "in_house")
OFFERING_TYPES = (
    "framework", "library", "platform", "managed_service", "model", "tool", "data_system", "language",
)
SUPPORT_TERMS = ("community", "vendor", "community_and_vendor", "none")
STEWARD_KINDS = ("company", "foundation", "community")
CERTIFICATION_CATEGORIES = ("attestation", "certification", "contract", "standard", "regulation", "guideline")
OPTIONS = ("open_source", "commercial", "build_in_house", "open_core", "hybrid")
OPTION_LABELS = {
    "open_source": "Adopt open source",
    "commercial": "Buy a commercial / managed offering",
    "build_in_house": "Build in house",
    "open_core": "Open core (open source with a commercial tier)",
    "hybrid": "Hybrid (open source core, managed or commercial parts)",
}
"""How each option is named to a person (chat, answers, decision records)."""
CONCLUSION_KINDS = ("recommendation", "obligation", "risk", "note", "question")
ASKED_KINDS = ("recommendation", "obligations", "comparison", "definition", "process", "out_of_scope")
SKILL_LEVELS = ("none", "some", "strong")


ASKER_FIELDS_FILE = "reader/fields.yaml"
ASKER_FIELD_PROBLEMS: list[Problem] = []
"""Mistakes found in the asker fields' file when this vocabulary was loaded (`kb check` reports them)."""


def _asker_kind() -> FactKind:
    """The `asker` fact kind, whose fields analysts declare in reader/fields.yaml of the knowledge base in use
    ($OSCAR_ROOT, else this project)."""
    decls = load_fields(Paths.default().root / ASKER_FIELDS_FILE, ASKER_FIELD_PROBLEMS)
    fields = {
        d.name: FieldSpec(type=d.type, doc=d.doc, values=tuple(v for v, _ in d.values),  # type: ignore[arg-type]
                          unit=d.unit, ask=d.ask, decisive=d.decisive, value_docs=tuple(t for _, t in d.values),
                          shown_as=d.shown_as)
        for d in decls.values()
    }
    return FactKind("asker", "asker", "The team asking: one per consultation; fields absent when not known.", fields)


def _f(type: FieldType, doc: str, values: tuple[str, ...] = ()) -> FieldSpec:
    return FieldSpec(type=type, doc=doc, values=values)


_QUOTED = {
    "quote": _f("str", "a phrase of the passage stating what it is (oscar:evidenceQuote), cited by `evidence.of`"),
    "quote_doc": _f("str", "the corpus document holding that phrase, when the entity has one source"),
}

FACT_KINDS: dict[str, FactKind] = {
    k.name: k
    for k in (
        FactKind(
            "license",
            "ontology",
            "A license (SPDX or ScanCode LicenseDB, curated where the corpus speaks).",
            {
                "assumed": _f("str", "the fields no source states (oscar:assumed), `*` for an entity that is an "
                                     "assumption as a whole (oscar:assumption): shown beside what rests on them"),
                "name": _f("str", "full name"),
                "spdx": _f("str", "SPDX identifier, or the LicenseRef-scancode-... one ScanCode gives"),
                "family": _f("str", "copyleft class (most specific)", LICENSE_FAMILIES),
                "burden": _f("int", "how much its family asks of a user, lowest first (oscar:burden)"),
                "copyleft": _f("bool", "any copyleft family (weak, strong or network)"),
                "strong_copyleft": _f("bool", "strong or network copyleft: derived works as a whole"),
                "category": _f("str", "ScanCode LicenseDB category, as the data gives it"),
                "exception": _f("bool", "a license exception (e.g. Classpath), not a license on its own"),
                "deprecated": _f("bool", "deprecated by SPDX or ScanCode"),
                "osi_approved": _f("bool", "approved by the Open Source Initiative"),
                "fsf_libre": _f("bool", "free by the FSF's list"),
                "patent_grant": _f("bool", "grants a patent license"),
                "attribution": _f("bool", "requires attribution / notice preservation"),
                "use_restrictions": _f("bool", "restricts fields of use or users (e.g. acceptable-use policy)"),
                "covers_weights": _f("bool", "written for (or applied to) model weights"),
            },
        ),
        FactKind(
            "offering",
            "ontology",
            "A framework, platform, managed service, model or tool one can adopt.",
            {
                "assumed": _f("str", "the fields no source states (oscar:assumed), `*` for an entity that is an "
                                     "assumption as a whole (oscar:assumption): shown beside what rests on them"),
                "name": _f("str", "common name"),
                "type": _f("str", "what it is", OFFERING_TYPES),
                "delivery": _f("str", "delivery model", DELIVERY_MODELS),
                "license": _f("ref", "id of its license fact (absent for closed services)"),
                "vendor": _f("ref", "id of its vendor or steward"),
                "open_weights": _f("bool", "model weights are downloadable (models only)"),
                "commercial_support": _f("bool", "a vendor sells support for it"),
                "support": _f("str", "support terms", SUPPORT_TERMS),
                "sla": _f("bool", "support or uptime is backed by a service-level agreement"),
            },
        ),
        FactKind("vendor", "ontology", "A company or foundation that makes or stewards offerings.", {
            "name": _f("str", "name"),
            "steward": _f("str", "who decides the projects' future", STEWARD_KINDS),
            "assumed": _f("str", "the fields no source states, `*` for the whole entity (see license)"),
        }),
        FactKind("certification", "ontology", "A compliance certification or attestation.", {
            "name": _f("str", "name"),
            "category": _f("str", "what kind of assurance it is", CERTIFICATION_CATEGORIES),
            "assumed": _f("str", "the fields no source states, `*` for the whole entity (see license)"),
        }),
        FactKind("incompatible", "ontology", "Code under one licence cannot be shipped in one program with code "
                 "under another (`oscar:incompatibleWith`).", {
            "license": _f("ref", "the licence that adds restrictions"),
            "with": _f("ref", "the licence whose terms forbid them"),
            "assumed": _f("str", "the fields no source states, `*` for the whole entity (see license)"),
        }),
        FactKind("stack_licence", "asker", "A licence some components of the asker's stack come under (`kb stack`): "
                 "one per licence, with how many components and which.", {
            "license": _f("ref", "the licence"),
            "components": _f("int", "how many components of the stack come under it"),
            "names": _f("str", "their names and versions, comma-separated (the first ten, then how many more)"),
        }),
        FactKind("holds", "ontology", "An offering holds (or its vendor offers) a certification.", {
            "offering": _f("ref", "offering id"),
            "certification": _f("ref", "certification id"),
            "assumed": _f("str", "the fields no source states, `*` for the whole entity (see license)"),
        }),
        FactKind("expects", "ontology", "Buyers in an industry commonly expect a certification.", {
            "industry": _f("ref", "industry id"),
            "certification": _f("ref", "certification id"),
            "assumed": _f("str", "the fields no source states, `*` for the whole entity (see license)"),
        }),
        FactKind("industry", "ontology", "An industry, regulated or not.", {
            "name": _f("str", "name"),
            "regulated": _f("bool", "subject to sector regulation (HIPAA, PCI DSS, ...)"),
            "assumed": _f("str", "the fields no source states, `*` for the whole entity (see license)"),
        }),
        FactKind("concept", "ontology", "A defined idea: a delivery model, support terms, a license family.", {
            "name": _f("str", "name"),
            "definition": _f("str", "what it means, in the ontology's words"),
            "scheme": _f("str", "what kind of idea it is (delivery model, support terms, license family)"),
            **_QUOTED,
        }),
        FactKind("criterion", "ontology", "A decision criterion the corpus names.", {
            "name": _f("str", "name"),
            "definition": _f("str", "what it measures"),
            "open_source": _f("str", "how open-source offerings typically fare on it (where the corpus says)"),
            "commercial": _f("str", "how commercial offerings typically fare on it (where the corpus says)"),
            **_QUOTED,
        }),
        _asker_kind(),
        FactKind("requirement", "asker", "A certification the asker must have.", {
            "certification": _f("ref", "certification id"),
        }),
        FactKind("mention", "asker", "An entity the asker named (offering, license, vendor, ...).", {
            "entity": _f("ref", "id of the entity's fact"),
            "entity_kind": _f("str", "kind of that fact"),
        }),
        FactKind("license_expression", "asker",
                 "A licence expression the asker named (\"MIT OR Apache-2.0\"), with the option chosen: "
                 "its licences are also mentioned.", {
            "expression": _f("str", "the expression, normalised (SPDX ids, OR / AND / WITH)"),
            "operator": _f("str", "its top operator: a choice, all apply, an exception, or one licence",
                           ("or", "and", "with", "single")),
            "chosen": _f("str", "the lightest option: the licences that then apply"),
            "chosen_family": _f("str", "the families of the chosen option's licences, in words"),
            "others": _f("str", "the other options, `;`-separated"),
            "others_family": _f("str", "their families, in words, `;`-separated"),
            "options": _f("int", "how many options the expression leaves"),
            "tie": _f("bool", "another option is as light as the chosen one"),
            "base": _f("ref", "with an exception: the licence it narrows"),
            "exception": _f("ref", "with an exception: the exception"),
        }),
        FactKind("component", "asker",
                 "A component of the asker's stack (an SBOM or dependency file, `kb stack`): one fact per "
                 "licence of the licence option that applies to it.", {
            "name": _f("str", "the component's name"),
            "version": _f("str", "its version, as the file gives it"),
            "license": _f("ref", "a licence it comes under (absent: the file says none we can read)"),
            "expression": _f("str", "its whole licence expression, as declared"),
            "source": _f("str", "where the file says it: file:line or file#/json/pointer"),
            "licence_from": _f("str", "declared (the file), installed metadata, or classifier"),
            "offering": _f("ref", "the offering the ontology knows it as (by its name), if any"),
        }),
        FactKind("inquiry", "asker", "What the latest question asks: one per consultation.", {
            "asked": _f("str", "the kind of question", ASKED_KINDS),
        }),
    )
}

# --- Rule language (rules/*.yaml): operators, conclusion fields, keywords ---------------------------------


@dataclass(frozen=True)
class Operator:
    """A field test of a rule condition: how analysts write it and what it means (each engine says how it
    runs it: see kb.engine)."""

    symbol: str
    operand: Literal["value", "list", "flag"]
    doc: str


OPERATORS: dict[str, Operator] = {
    "eq": Operator("==", "value", "equals a value or `$name.field` (a bare value means eq)"),
    "ne": Operator("!=", "value", "present and different from a value or `$name.field`"),
    "lt": Operator("<", "value", "a number below"),
    "le": Operator("<=", "value", "a number at most"),
    "gt": Operator(">", "value", "a number above"),
    "ge": Operator(">=", "value", "a number at least"),
    "in": Operator("in", "list", "one of a list of values"),
    "not_in": Operator("not in", "list", "present and none of a list of values"),
    "exists": Operator("exists", "flag", "the field is present (`exists: true`)"),
    "absent": Operator("absent", "flag", "the field is not present, i.e. not known (`absent: true`)"),
}
"""Field tests. Every test but `absent` needs the field to be present: an unknown field never matches."""

STANCES = ("for", "against")
"""A recommendation argues for its option (adds its strength) or against it (subtracts it)."""

ONTOLOGY_ID_PREFIXES = ("license", "offering", "vendor", "certification", "industry", "criterion", "concept")
"""Id prefixes of ontology entities: a rule value like `certification:hipaa_baa` must name one the
ontology holds."""

RULE_KEYWORDS: dict[str, str] = {
    "topic": "what a rule file is about",
    "derives": "fact kinds the file's rules derive, each with `doc` and `fields` (`type`, `doc`, `values`)",
    "rules": "the list of rules",
    "id": "a rule's unique id (lowercase, `.`/`-`/`_`)",
    "title": "a rule's one-line title",
    "when": "the conditions: a list (all must hold)",
    "fact": "a condition on one fact of a kind",
    "as": "the name a matched fact is bound to (default: its kind)",
    "where": "field tests of a condition: `field: value` or `field: {operator: value}`",
    "none": "a condition that holds when no fact of a kind matches",
    "all": "a group of conditions that must all hold",
    "any": "a group of alternatives of which one must hold",
    "then": "what a rule concludes: conclusions (`kind:`) and derived facts (`derive:`)",
    "kind": "a conclusion's kind: recommendation, obligation, risk, note, question",
    "statement": "a conclusion's text; `{name.field}` quotes a matched fact's field",
    "option": "the option a recommendation argues about",
    "strength": "how strongly a recommendation argues (0 < strength <= 1)",
    "stance": "`for` (default) or `against` the option",
    "asks": "the fact a question asks for, as kind.field",
    "criterion": "the decision criterion a conclusion speaks to (criterion:vendor_lock_in): its row in the comparison",
    "derive": "a fact kind (declared under `derives:`) the rule derives",
    "fields": "a derived fact's field values: literals, `$name.field` or text with `{name.field}`",
    "evidence": "the corpus passage a rule rests on: `doc`, `quote`, `query`",
    "doc": "the corpus file a rule's argument comes from",
    "quote": "a short phrase of that document, as written there",
    "query": "the retrieval query for the rule's evidence",
    "of": "a bound concept or criterion (its `as:` name): cite the passage its ontology entry names, or none",
    "tests": "the file's examples: `name`, `given`, `ontology`, `expect`, `expect_not`",
    "given": "a test's facts: mappings with `kind`, `id` and fields",
    "ontology": "a test's ontology entities (their facts and related facts are added)",
    "expect": "conclusions or derived facts a test requires: `rule`, `kind`, `option`, `fact`, `statement`",
    "expect_not": "conclusions or derived facts a test forbids",
    "name": "a test's name",
    "rule": "the rule an expectation names",
}
"""Every keyword of the rule language; docs/rules.md and rules/README.md must explain each."""

RULE_KEYS: dict[str, tuple[str, ...]] = {
    "a rule file": ("topic", "derives", "rules", "tests"),
    "a derived fact kind": ("doc", "fields"),
    "a rule": ("id", "title", "when", "then", "evidence"),
    "a fact condition": ("fact", "as", "where"),
    "a `none` condition": ("none",),
    "an `all` group": ("all",),
    "an `any` group": ("any",),
    "a conclusion": ("kind", "statement", "option", "strength", "stance", "asks", "criterion"),
    "a `derive`": ("derive", "fields"),
    "`evidence`": ("doc", "quote", "query", "of"),
    "a test": ("name", "given", "ontology", "expect", "expect_not"),
    "an expectation": ("rule", "kind", "option", "fact", "statement"),
}
"""The keys each part of a rule file may have: the parser (kb/rulebook/rules.py) reads them from here, so the
language, its parser and its documentation (every key is a RULE_KEYWORDS entry) can't drift apart."""
