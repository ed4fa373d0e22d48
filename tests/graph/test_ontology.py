"""The ontology: `kb check` on the shipped files and on an analyst's mistakes, and the facts it yields."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kb.cli.checks import run_checks
from kb.config import PROJECT_ROOT, Paths
from kb.corpus.documents import document_files, document_id
from kb.graph.ontology import Ontology, check_ontology, load_ontology, scan_turtle
from kb.model.problems import KnowledgeError, Problem
from kb.vocab import FACT_KINDS

PREFIXES = """@prefix oscar: <https://w3id.org/oscar/ns#> .
@prefix offering: <https://w3id.org/oscar/id/offering/> .
@prefix vendor: <https://w3id.org/oscar/id/vendor/> .
@prefix certification: <https://w3id.org/oscar/id/certification/> .
@prefix spdx: <http://spdx.org/licenses/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""


@pytest.fixture
def kb_copy(tmp_path: Path, kb_root: Path, ontology_cache: Path) -> Paths:
    """A copy of the ontology under test that a test can break, sharing one cache across the test run."""
    shutil.copytree(kb_root / "ontology", tmp_path / "ontology")
    return Paths(root=tmp_path, cache=ontology_cache)


def add_file(paths: Paths, name: str, text: str) -> Path:
    path = paths.ontology / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based number of the first line containing `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def only(problems: list[Problem], needle: str) -> Problem:
    found = [p for p in problems if needle in p.message]
    assert len(found) == 1, problems
    return found[0]


# --- kb check -------------------------------------------------------------------------------------------

def test_the_ontology_under_test_is_clean(kb_root: Path, ontology_cache: Path) -> None:
    assert run_checks(Paths(root=kb_root, cache=ontology_cache), {"ontology"}) == []


def test_turtle_syntax_error_names_file_and_line(kb_copy: Paths) -> None:
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """
offering:thing a oscar:Offering ;
    skos:prefLabel "Thing ;
    oscar:offeringType oscar:tool .
""")
    problems = check_ontology(kb_copy)
    problem = only(problems, "Turtle syntax error")
    assert problem.path == "ontology/extra.ttl"
    assert problem.line == line_of(path, 'skos:prefLabel "Thing ;')
    assert "newline found in string literal" in problem.message


def test_open_source_offering_without_license_is_caught(kb_copy: Paths) -> None:
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """
offering:homegrown_tool a oscar:Offering ;
    skos:prefLabel "Homegrown tool" ;
    oscar:offeringType oscar:tool ;
    oscar:delivery oscar:open_source ;
    oscar:vendor vendor:apache .

offering:hosted_thing a oscar:Offering ;
    skos:prefLabel "Hosted thing" ;
    oscar:offeringType oscar:managed_service ;
    oscar:delivery oscar:managed_saas ;
    oscar:vendor vendor:aws .
""")
    problem = only(check_ontology(kb_copy), "needs a license")
    assert problem.path == "ontology/extra.ttl"
    assert problem.line == line_of(path, "offering:homegrown_tool a")
    assert problem.message.startswith("offering:homegrown_tool")
    assert "oscar:license" in problem.message and "oscar:open_source" in problem.message


def test_license_with_unknown_copyleft_class_is_caught(kb_copy: Paths) -> None:
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """
spdx:Example-1.0 a oscar:StrongCopyleftLicence ;
    oscar:spdxId "Example-1.0" ;
    skos:prefLabel "Example License 1.0" .
""")
    problems = check_ontology(kb_copy)
    line = line_of(path, "spdx:Example-1.0 a")
    unknown = only(problems, "unknown class")
    assert (unknown.path, unknown.line) == ("ontology/extra.ttl", line)
    assert "oscar:StrongCopyleftLicence" in unknown.message
    family = only(problems, "needs a license family")
    assert (family.path, family.line) == ("ontology/extra.ttl", line)
    assert family.message.startswith("spdx:Example-1.0 rdf:type/skos:notation")
    assert "oscar:StrongCopyleftLicense" in family.message


def test_license_in_two_families_is_caught(kb_copy: Paths) -> None:
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """
spdx:Example-1.0 a oscar:PermissiveLicense , oscar:WeakCopyleftLicense ;
    oscar:spdxId "Example-1.0" ;
    skos:prefLabel "Example License 1.0" .
""")
    problem = only(check_ontology(kb_copy), "disjoint")
    assert (problem.path, problem.line) == ("ontology/extra.ttl", line_of(path, "spdx:Example-1.0 a"))


def test_misspelt_certification_is_caught_at_its_line(kb_copy: Paths) -> None:
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """
offering:hosted_thing a oscar:Offering ;
    skos:prefLabel "Hosted thing" ;
    oscar:offeringType oscar:managed_service ;
    oscar:delivery oscar:managed_saas ;
    oscar:vendor vendor:aws ;
    oscar:holds certification:soc2_typ2 , certification:iso27001 .
""")
    problem = only(check_ontology(kb_copy), "certification:soc2_typ2")
    assert problem.path == "ontology/extra.ttl"
    assert problem.line == line_of(path, "certification:soc2_typ2")
    assert problem.message.startswith("offering:hosted_thing oscar:holds:")
    assert "oscar:Certification" in problem.message


def test_misspelt_property_and_value_are_caught(kb_copy: Paths) -> None:
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """
offering:thing a oscar:Offering ;
    skos:prefLabel "Thing" ;
    oscar:offeringType oscar:tool ;
    oscar:delivery oscar:opensource ;
    oscar:lisence spdx:MIT ;
    oscar:vendor vendor:apache .
""")
    problems = check_ontology(kb_copy)
    prop = only(problems, "unknown property oscar:lisence")
    assert prop.line == line_of(path, "oscar:lisence")
    value = only(problems, "unknown value oscar:opensource")
    assert value.line == line_of(path, "oscar:opensource")


def test_document_missing_from_the_corpus_is_caught(kb_copy: Paths, kb_root: Path) -> None:
    shutil.copytree(kb_root / "corpus", kb_copy.root / "corpus")
    assert check_ontology(kb_copy) == []  # every document the ontology names is in the copied corpus
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """@prefix doc: <https://w3id.org/oscar/corpus/> .
doc:gone.txt a oscar:Document ;
    oscar:fileName "gone.txt" .
""")
    problem = only(check_ontology(kb_copy), "not in the corpus folder")
    assert (problem.path, problem.line) == ("ontology/extra.ttl", line_of(path, '"gone.txt"'))
    assert problem.message.startswith("doc:gone.txt oscar:fileName:")


def test_an_evidence_quote_its_source_does_not_hold_is_caught_at_its_line(kb_copy: Paths, kb_root: Path) -> None:
    shutil.copytree(kb_root / "corpus", kb_copy.root / "corpus")
    head = PREFIXES + ("@prefix doc: <https://w3id.org/oscar/corpus/> .\n"
                       "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
                       "@prefix criterion: <https://w3id.org/oscar/id/criterion/> .\n")
    held = "Open source   licenses impose different obligations"
    add_file(kb_copy, "extra.ttl", head + f"""criterion:lock_in_x a oscar:Criterion ; skos:prefLabel "lock-in x" ;
    skos:definition "How hard it is to leave." ;
    dcterms:source doc:000_ec713219caae2b0a.txt ;
    oscar:evidenceQuote "{held.upper()}" .
""")
    assert check_ontology(kb_copy) == []  # case and spacing aside, the document holds the phrase
    path = add_file(kb_copy, "extra.ttl", head + """criterion:lock_in_x a oscar:Criterion ; skos:prefLabel "lock-in x" ;
    skos:definition "How hard it is to leave." ;
    dcterms:source doc:000_ec713219caae2b0a.txt ;
    oscar:evidenceQuote "leaving a vendor is always painless" .
""")
    problem = only(check_ontology(kb_copy), "evidenceQuote")
    assert (problem.path, problem.line) == ("ontology/extra.ttl", line_of(path, "painless"))
    assert "000_ec713219caae2b0a.txt" in problem.message


def test_a_check_after_an_edit_sees_the_edit(kb_copy: Paths) -> None:
    assert check_ontology(kb_copy) == []
    add_file(kb_copy, "extra.ttl", PREFIXES + "offering:x a oscar:Offering .\n")
    assert any("offering:x" in p.message for p in check_ontology(kb_copy))


def test_kb_check_exit_codes(kb_copy: Paths) -> None:
    env = {**os.environ, "OSCAR_CACHE": str(kb_copy.cache)}
    command = [sys.executable, "-m", "kb.cli", "check", "--root", str(kb_copy.root), "--only", "ontology"]
    clean = subprocess.run(command, capture_output=True, text=True, env=env, cwd=kb_copy.root, timeout=300)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout == ""
    add_file(kb_copy, "extra.ttl", PREFIXES + "offering:x a oscar:Offering ;\n    skos:prefLabel \"X\" ;\n")
    broken = subprocess.run(command, capture_output=True, text=True, env=env, cwd=kb_copy.root, timeout=300)
    assert broken.returncode == 1
    # The unfinished statement runs into the end of the file, one line after the last one written.
    assert broken.stdout.splitlines() == [
        f"ontology/extra.ttl:{len(PREFIXES.splitlines()) + 3}: Turtle syntax error: "
        "EOF found when expected verb in property list"]


def test_load_refuses_an_invalid_ontology(kb_copy: Paths) -> None:
    load_ontology(kb_copy)  # valid: its validation is kept in the cache, which must not hide the edit below
    add_file(kb_copy, "extra.ttl", PREFIXES + "offering:x a oscar:Offering .\n")
    with pytest.raises(KnowledgeError) as err:
        load_ontology(kb_copy)
    assert any(p.path == "ontology/extra.ttl" and p.line == 7 for p in err.value.problems)


def test_an_ontology_read_back_from_its_snapshot_is_the_one_built_from_the_files(kb_copy: Paths) -> None:
    from kb.graph.ontology import Ontology, read_all

    load_ontology(kb_copy)  # leaves the snapshot in the cache
    again = load_ontology(kb_copy)
    built = Ontology(read_all(kb_copy), kb_copy)
    assert again._m is None and built._m is not None  # read back, not built
    assert again.facts() == built.facts() and again.facts()
    assert [f.source for f in again.facts()] == [f.source for f in built.facts()]
    assert again.labels() == built.labels() and again.stats() == built.stats()
    assert again.related(["offering:pytorch"]) == built.related(["offering:pytorch"])
    for name in ("PyTorch", "GPL v3", "Apache 2.0", "sklearn", "Llama 2", "hipaa"):
        assert (again.lookup(name), again.decisive(name)) == (built.lookup(name), built.decisive(name)), name
    assert again.graph.isomorphic(built.graph)  # the graph, for exports, is read from the files when asked for
    add_file(kb_copy, "extra.ttl", PREFIXES + 'offering:brand_new a oscar:Offering ; skos:prefLabel "Brand New" .\n')
    with pytest.raises(KnowledgeError):  # an edit is seen: this offering names no license
        load_ontology(kb_copy)


# --- Facts ---------------------------------------------------------------------------------------------

def test_facts_follow_the_vocabulary(shipped_ontology: Ontology) -> None:
    facts = shipped_ontology.facts()
    kinds = {f.kind for f in facts}
    assert kinds == {k.name for k in FACT_KINDS.values() if k.origin == "ontology"}
    python_types = {"str": str, "ref": str, "int": int, "float": float, "bool": bool}
    for fact in facts:
        spec = FACT_KINDS[fact.kind]
        assert fact.id.startswith(f"{fact.kind}:")
        for name, value in fact.fields:
            assert name in spec.fields, (fact.id, name)
            assert type(value) is python_types[spec.fields[name].type], (fact.id, name, value)
            if spec.fields[name].values:
                assert value in spec.fields[name].values, (fact.id, name, value)
            if spec.fields[name].type == "ref":
                assert shipped_ontology.fact(str(value)) is not None, (fact.id, name, value)
        assert fact.source.kind == "ontology" and fact.source.file and fact.source.triple


def test_offering_fact_and_its_provenance(shipped_ontology: Ontology, kb_root: Path) -> None:
    fact = shipped_ontology.fact("offering:pytorch")
    assert fact is not None
    assert fact.as_dict() == {
        "id": "offering:pytorch", "kind": "offering", "name": "PyTorch", "type": "framework",
        "delivery": "open_source", "license": "license:BSD-3-Clause", "vendor": "vendor:pytorch_foundation",
        "support": "community_and_vendor", "commercial_support": True,
        "assumed": "support,commercial_support",  # no corpus document says who sells support
    }
    source = fact.source
    assert source.file == "ontology/offerings.ttl"
    assert source.line == line_of(kb_root / "ontology/offerings.ttl", "offering:pytorch a")
    assert source.triple == ("offering:pytorch", "rdf:type", "oscar:Offering")
    assert source.doc == "000_ec713219caae2b0a.txt"


def test_license_facts_curated_win_over_generated(shipped_ontology: Ontology) -> None:
    gpl = shipped_ontology.fact("license:GPL-3.0-only")
    assert gpl is not None
    assert gpl.get("family") == "strong_copyleft" and gpl.get("copyleft") is True
    assert gpl.get("osi_approved") is True and gpl.get("patent_grant") is True
    agpl = shipped_ontology.fact("license:AGPL-3.0-only")
    assert agpl is not None and agpl.get("family") == "network_copyleft" and agpl.get("strong_copyleft") is True
    assert agpl.source.file == "ontology/licenses-curated.ttl"
    llama = shipped_ontology.fact("license:LicenseRef-scancode-llama-2-license-2023")
    assert llama is not None
    assert llama.get("family") == "source_available"  # ScanCode says Proprietary Free; the curated file wins
    assert llama.get("category") == "Proprietary Free"
    assert llama.get("covers_weights") is True and llama.get("osi_approved") is False
    mit = shipped_ontology.fact("license:MIT")
    assert mit is not None and mit.get("family") == "permissive" and mit.get("copyleft") is False
    assert mit.source.file == "ontology/licenses.ttl"


def test_related_gives_what_a_consultation_needs(shipped_ontology: Ontology) -> None:
    ids = {f.id for f in shipped_ontology.related(["offering:mlflow", "industry:healthcare", "offering:nope"])}
    assert ids == {
        "offering:mlflow", "license:Apache-2.0", "vendor:databricks",
        "industry:healthcare", "expects:healthcare/hipaa_baa", "expects:healthcare/soc2_type2",
        "certification:hipaa_baa", "certification:soc2_type2",
    }
    sagemaker = {f.id for f in shipped_ontology.related(["offering:sagemaker"])}
    assert "holds:sagemaker/hipaa_baa" in sagemaker and "certification:hipaa_baa" in sagemaker
    assert not any(i.startswith("license:") for i in sagemaker)


def test_every_corpus_fact_cites_a_document_of_the_corpus(shipped_ontology: Ontology, kb_root: Path) -> None:
    docs = {f.source.doc for f in shipped_ontology.facts() if f.source.doc}
    corpus = kb_root / "corpus"
    in_corpus = {document_id(corpus, p) for p in document_files(corpus)}
    assert sorted(docs - in_corpus) == []


# --- Where things are written -----------------------------------------------------------------------------

def test_scanner_finds_subjects_predicates_and_values() -> None:
    text = PREFIXES + '''
offering:a a oscar:Offering ;   # a comment ; with . punctuation
    skos:prefLabel """A long
name. With ; dots""" , "x" ;
    oscar:license spdx:GPL-3.0-only.
[] oscar:x [ oscar:y offering:z ] .
offering:b
    oscar:holds certification:soc2_type2 , certification:iso27001 .
'''
    index = scan_turtle(text)
    base = len(PREFIXES.splitlines())
    offering = "https://w3id.org/oscar/id/offering/"
    assert index.subjects[offering + "a"] == base + 2
    assert index.predicates[(offering + "a", "https://w3id.org/oscar/ns#license")] == base + 5
    assert index.objects[(offering + "a", "https://w3id.org/oscar/ns#license",
                          "http://spdx.org/licenses/GPL-3.0-only")] == base + 5
    assert index.subjects[offering + "b"] == base + 7
    assert index.objects[(offering + "b", "https://w3id.org/oscar/ns#holds",
                          "https://w3id.org/oscar/id/certification/iso27001")] == base + 8
    assert offering + "z" not in index.subjects


# --- Documentation ---------------------------------------------------------------------------------------

def test_every_schema_term_and_fact_field_is_documented(shipped_ontology: Ontology) -> None:
    from rdflib import Graph
    from rdflib.namespace import OWL, RDF

    docs = (PROJECT_ROOT / "docs" / "ontology.md").read_text(encoding="utf-8")
    schema = Graph().parse(PROJECT_ROOT / "ontology" / "schema.ttl")
    oscar = "https://w3id.org/oscar/ns#"
    terms = {str(s)[len(oscar):] for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for s in schema.subjects(RDF.type, kind) if str(s).startswith(oscar)}
    assert len(terms) > 40
    assert sorted(t for t in terms if f"oscar:{t}" not in docs) == []
    for kind in FACT_KINDS.values():
        if kind.origin == "ontology":
            row = next((line for line in docs.splitlines() if line.startswith(f"| {kind.name} |")), "")
            assert row, kind.name
            assert [f for f in kind.fields if f not in row] == [], kind.name
    # ontology/README.md's table of files is checked by `kb check`, which reports a row naming no file;
    # a new .ttl file needs no row (nothing is registered), see test_checks.py.


def test_broken_shapes_are_a_problem_not_a_crash(kb_copy: Paths) -> None:
    add_file(kb_copy, "extra-shapes.ttl", PREFIXES + """@prefix sh: <http://www.w3.org/ns/shacl#> .
oscar:BadShape a sh:NodeShape ; sh:targetClass oscar:Offering ;
    sh:property [ sh:path skos:prefLabel ; sh:minCount "one" ] .
""")
    problems = check_ontology(kb_copy)
    shapes = ", ".join(f"ontology/{p.name}" for p in sorted(kb_copy.ontology.glob("*shapes.ttl")))
    assert "ontology/extra-shapes.ttl" in shapes
    assert len(problems) == 1 and problems[0].path == "ontology"
    assert f"SHACL shapes could not be used ({shapes})" in problems[0].message
    assert "sh:minCount" in problems[0].message


def test_damaged_caches_are_rebuilt_not_trusted(kb_copy: Paths, tmp_path: Path) -> None:
    own = tmp_path / "own-cache"
    shutil.copytree(kb_copy.cache, own)  # starts from the parsed catalogue, so only the rest is rebuilt
    paths = Paths(root=kb_copy.root, cache=own)
    assert check_ontology(paths) == []
    assert load_ontology(paths).resolve("sklearn") == "offering:scikit_learn"
    kinds = ("generated", "check", "parsed", "shapes", "built")
    damaged = [p for p in (own / "ontology").iterdir() if p.name.split("-")[1] in kinds]
    assert {p.name.split("-")[1] for p in damaged} == set(kinds)
    for path in damaged:
        path.write_bytes(b"\x80not a cache")
    assert check_ontology(paths) == []
    assert load_ontology(paths).resolve("sklearn") == "offering:scikit_learn"


def test_damaged_parse_cache_is_rebuilt(tmp_path: Path) -> None:
    from kb.graph.licenses import GENERATED_MARKER
    from kb.graph.ontology import read_turtle

    path = tmp_path / "catalogue.ttl"
    path.write_text(GENERATED_MARKER + "\n" + PREFIXES + 'spdx:X-1.0 oscar:spdxId "X-1.0" .\n', encoding="utf-8")
    first, _ = read_turtle(path, "catalogue.ttl", tmp_path / "cache")
    caches = list((tmp_path / "cache" / "ontology").glob("*parsed-*.json"))
    assert first is not None and len(first.triples) == 1 and len(caches) == 1
    caches[0].write_bytes(caches[0].read_bytes().replace(b"X-1.0", b"Y-9.9"))  # altered: the checksum fails
    again, problems = read_turtle(path, "catalogue.ttl", tmp_path / "cache")
    assert problems == [] and again is not None and again.triples == first.triples


def test_cache_files_left_unused_are_pruned_and_those_in_use_kept(tmp_path: Path) -> None:
    import time

    from kb.graph.licenses import GENERATED_MARKER
    from kb.graph.ontology import CACHE_KEEP_DAYS, prune_cache, read_turtle

    path = tmp_path / "catalogue.ttl"
    cache = tmp_path / "cache"
    folder = cache / "ontology"
    old = time.time() - (CACHE_KEEP_DAYS + 5) * 86_400
    for edit in ("X-1.0", "X-2.0", "X-3.0"):  # an analyst's edits: each content leaves its own parse
        path.write_text(GENERATED_MARKER + "\n" + PREFIXES + f'spdx:X oscar:spdxId "{edit}" .\n', encoding="utf-8")
        read_turtle(path, "catalogue.ttl", cache)
    parses = sorted(folder.glob("*parsed-*.json"), key=lambda p: p.stat().st_mtime)
    assert len(parses) == 3
    for p in parses:
        os.utime(p, (old, old))  # all three untouched for over a month...
    read_turtle(path, "catalogue.ttl", cache)  # ...but the current content's parse is read now
    (folder / "v1-parsed-0123-4567.json").write_text("{}", encoding="utf-8")  # an older code's format
    (folder / "notes.txt").write_text("not ours", encoding="utf-8")
    removed = prune_cache(folder)
    kept = sorted(p.name for p in folder.iterdir())
    assert len(removed) == 3 and "v1-parsed-0123-4567.json" in removed
    assert kept == sorted(["notes.txt", parses[-1].name])
    again, problems = read_turtle(path, "catalogue.ttl", cache)
    assert problems == [] and again is not None and len(again.triples) == 1


def test_individual_under_the_wrong_prefix_is_caught(kb_copy: Paths) -> None:
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """
offering:acme a oscar:Vendor ;
    skos:prefLabel "Acme" .
""")
    problem = only(check_ontology(kb_copy), "must be a oscar:Offering")
    assert (problem.path, problem.line) == ("ontology/extra.ttl", line_of(path, "offering:acme a"))


def test_hand_edited_catalogue_is_caught(kb_copy: Paths) -> None:
    path = kb_copy.ontology / "licenses.ttl"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('skos:prefLabel "MIT License"', 'skos:prefLabel "MIT Licence"', 1), encoding="utf-8")
    problem = only(check_ontology(kb_copy), "kb licenses")
    assert (problem.path, problem.line) == ("ontology/licenses.ttl", 0)


# --- curated facts: sourced, or marked as assumptions -------------------------------------------------------

def test_a_curated_fact_without_a_source_must_be_marked_an_assumption(kb_copy: Paths) -> None:
    path = add_file(kb_copy, "extra.ttl", PREFIXES + """
offering:newtool a oscar:Offering ;
    skos:prefLabel "New Tool" ;
    oscar:offeringType oscar:tool ;
    oscar:delivery oscar:commercial ;
    oscar:vendor vendor:openai ;
    oscar:sla true .
""")
    problems = check_ontology(kb_copy)
    problem = only(problems, "offering:newtool states curated facts")
    assert problem.path.endswith("extra.ttl") and problem.line == line_of(path, "offering:newtool a")
    assert "dcterms:source" in problem.message and "oscar:assumption" in problem.message
    marked = 'oscar:sla true ;\n    oscar:assumption "the vendor\'s pricing page, not yet in the corpus" .'
    path.write_text(path.read_text(encoding="utf-8").replace("oscar:sla true .", marked), encoding="utf-8")
    assert not [p for p in check_ontology(kb_copy) if "newtool" in p.message]
    fact = load_ontology(kb_copy).fact("offering:newtool")
    assert fact is not None and fact.get("assumed") == "*"


def test_a_field_its_source_does_not_state_is_carried_as_assumed(shipped_ontology: Ontology) -> None:
    """An offering a corpus document speaks of carries as assumed only what its documents leave unsaid; one no
    document speaks of is assumed whole (`*`), and says why in `oscar:assumption` (kb check asks for one)."""
    marked = [f for f in shipped_ontology.facts() if f.kind == "offering" and f.get("assumed")]
    sourced = [f for f in marked if f.get("assumed") != "*"]
    assert sourced and all(set(str(f.get("assumed")).split(",")) <= {"support", "commercial_support", "sla", "holds"}
                           for f in sourced)
