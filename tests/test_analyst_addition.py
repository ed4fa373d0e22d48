"""An analyst's addition lands: a new corpus document, ontology file and rule file, dropped into a copy of
the knowledge base with no registration and no Python, pass `kb check`, `kb test` and the tests that follow
the analysts' folders, and `kb ask` answers with them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kb.config import PROJECT_ROOT

FOLDERS = ("ontology", "rules", "corpus", "reader")

# The test modules parametrised over, or reading, the analysts' folders through `Paths.default()`.
FOLDER_FOLLOWING_TESTS = ("rulebook/test_rule_examples.py", "graph/test_ontology.py", "corpus/test_corpus.py",
                          "rulebook/test_rulebook.py", "cli/test_checks.py")

DOCUMENT_NAME = "evaluating-model-serving-vendors.txt"
DOCUMENT = """\
Evaluating model-serving vendors

Most teams reach the serving question after a model already works in a notebook. The choice then looks like a feature comparison, but the features that matter are operational: how a model is rolled out, how traffic is split between versions, and who is paged when latency climbs at night.

Open-source serving platforms

Kubeflow bundles pipelines, notebooks and KServe for serving on an existing Kubernetes cluster. It costs nothing to license, but a team that runs it also runs the cluster, the upgrades and the on-call rota. Teams without a platform engineer who already knows Kubernetes should budget for one before they adopt it.

Managed serving services

Managed services hide the cluster and bill per instance hour or per request. They fit teams whose traffic is modest and whose models change often, and they come with the provider's certifications.

Running the evaluation

Run a two-week pilot that serves your own model on your own traffic before signing anything. Measure the p99 latency, the time to roll back a bad version and the hours your team spent keeping it running.
"""  # noqa: E501 (one paragraph a line, as captured documents are)

METADATA_ENTRY = f"""\
  {DOCUMENT_NAME}:
    title: Evaluating model-serving vendors
    publisher: an analyst of the OSCAR test suite
    contributes: operating an open-source serving platform, managed serving, running a pilot
"""

ONTOLOGY_NAME = "model-serving.ttl"
ONTOLOGY = f"""\
# An analyst's addition: a model-serving platform, its steward, and the document that speaks of them.

@prefix oscar: <https://w3id.org/oscar/ns#> .
@prefix offering: <https://w3id.org/oscar/id/offering/> .
@prefix vendor: <https://w3id.org/oscar/id/vendor/> .
@prefix doc: <https://w3id.org/oscar/corpus/> .
@prefix spdx: <http://spdx.org/licenses/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

doc:{DOCUMENT_NAME} a oscar:Document ;
    oscar:fileName "{DOCUMENT_NAME}" ;
    dcterms:title "Evaluating model-serving vendors" .

vendor:kubeflow_community a oscar:Vendor ;
    skos:prefLabel "Kubeflow community" ;
    dcterms:source doc:{DOCUMENT_NAME} .

offering:kubeflow a oscar:Offering ;
    skos:prefLabel "Kubeflow" ;
    skos:altLabel "Kubeflow Pipelines" ;
    oscar:offeringType oscar:platform ;
    oscar:delivery oscar:open_source ;
    oscar:license spdx:Apache-2.0 ;
    oscar:vendor vendor:kubeflow_community ;
    oscar:support oscar:community_support ;
    dcterms:source doc:{DOCUMENT_NAME} .
"""

RULE_ID = "serving.operate-open-source-platform"
RULES_NAME = "model_serving.yaml"
RULES = f"""\
topic: Model serving
rules:
  - id: {RULE_ID}
    title: An open-source serving platform is yours to operate
    when:
      - fact: mention
        as: m
        where: {{entity_kind: offering}}
      - fact: offering
        as: o
        where: {{id: $m.entity, type: platform, delivery: open_source, support: community}}
    then:
      - kind: risk
        statement: >-
          {{o.name}} costs nothing to license, but your team runs the cluster, the upgrades and the on-call
          rota: pilot it on your own traffic before you commit.
    evidence:
      doc: {DOCUMENT_NAME}
      quote: a team that runs it also runs the cluster, the upgrades and the on-call rota
      query: operating an open-source model serving platform cluster upgrades on-call

tests:
  - name: a team considering Kubeflow
    given:
      - {{kind: mention, id: "mention:offering:kubeflow", entity: "offering:kubeflow", entity_kind: offering}}
    ontology: ["offering:kubeflow"]
    expect:
      - {{rule: {RULE_ID}, kind: risk, statement: Kubeflow costs nothing to license}}
"""
QUESTION = "Should we use Kubeflow to serve our models?"


def add_document(root: Path) -> None:
    """(a) A plain-text document and its provenance, appended under `documents:` in corpus/metadata.yaml."""
    (root / "corpus" / DOCUMENT_NAME).write_text(DOCUMENT, encoding="utf-8")
    metadata = root / "corpus" / "metadata.yaml"
    with metadata.open("a", encoding="utf-8") as fh:
        fh.write(METADATA_ENTRY)
    assert DOCUMENT_NAME in yaml.safe_load(metadata.read_text(encoding="utf-8"))["documents"]


def add_ontology(root: Path) -> None:
    """(b) An ontology file: a new offering, its vendor and the document it is sourced from."""
    (root / "ontology" / ONTOLOGY_NAME).write_text(ONTOLOGY, encoding="utf-8")


def add_rules(root: Path) -> None:
    """(c) A rule file: one rule resting on a quote of the new document, and its example."""
    (root / "rules" / RULES_NAME).write_text(RULES, encoding="utf-8")


FIELD = """\
  explainability:
    type: bool
    doc: decisions of the model must be explained to users or a regulator
    ask: Must the model's decisions be explainable to users or a regulator?
    decisive: true
"""
PHRASES = """\
phrases:
  - field: explainability
    value: true
    patterns:
      - [{LOWER: {REGEX: "^explainab"}}]
    examples:
      - we have to justify every automated decision to the customer
"""
FIELD_RULES = f"""\
topic: Explainability
rules:
  - id: explain.operate-what-you-can-inspect
    title: Explanations need a platform you can inspect
    when:
      - fact: asker
        where: {{explainability: true}}
    then:
      - kind: note
        statement: You must explain the model's decisions, so pilot the platform on your own traffic first.
    evidence:
      doc: {DOCUMENT_NAME}
      quote: a team that runs it also runs the cluster, the upgrades and the on-call rota
      query: explainable decisions pilot platform

tests:
  - name: a team that must explain decisions
    given:
      - {{kind: asker, id: asker, explainability: true}}
    expect:
      - {{rule: explain.operate-what-you-can-inspect, kind: note}}
"""


def add_asker_field(root: Path) -> None:
    """(d) A new asker field in reader/fields.yaml, its phrases, and a rule file that tests it: no Python."""
    fields = root / "reader" / "fields.yaml"
    fields.write_text(fields.read_text(encoding="utf-8").rstrip("\n") + "\n" + FIELD, encoding="utf-8")
    (root / "reader" / "phrases" / "explainability.yaml").write_text(PHRASES, encoding="utf-8")
    (root / "rules" / "explainability.yaml").write_text(FIELD_RULES, encoding="utf-8")


def add_analyst_addition(root: Path) -> None:
    add_document(root)
    add_ontology(root)
    add_rules(root)
    add_asker_field(root)


@pytest.fixture(scope="module")
def copy(kb_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analysts' folders of the knowledge base under test, copied, with the addition dropped in."""
    root = tmp_path_factory.mktemp("analyst") / "kb"
    for name in FOLDERS:
        if (kb_root / name).is_dir():
            shutil.copytree(kb_root / name, root / name)
    add_analyst_addition(root)
    return root


@pytest.fixture(scope="module")
def env(copy: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """OSCAR_ROOT at the copy, and a cache of its own shared by every command below."""
    return {**os.environ, "OSCAR_ROOT": str(copy), "OSCAR_CACHE": str(tmp_path_factory.mktemp("analyst-cache")),
            "HF_HUB_OFFLINE": "1"}


def kb(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """The `kb` command installed beside this Python (the virtualenv's), run outside the project folder."""
    script = Path(sys.executable).with_name("kb")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kb.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, cwd=env["OSCAR_ROOT"],
                          timeout=timeout)


def test_kb_check_and_kb_test_accept_the_addition(copy: Path, env: dict[str, str]) -> None:
    check = kb(env, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == "" and "kb check: ok" in check.stderr
    tested = kb(env, "test", "-v")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # the new file's example ran (it is found by glob) and passed
    assert f"rules/{RULES_NAME}:{RULES.splitlines().index('tests:') + 2}: ok  a team considering Kubeflow" \
        in tested.stdout.splitlines()
    # and so did the rule on the new asker field, declared only in the copy's reader/fields.yaml
    assert any(line.endswith("ok  a team that must explain decisions") for line in tested.stdout.splitlines())
    assert " 0 uncovered" in tested.stderr


def test_a_mistake_in_the_addition_is_reported_at_its_line(copy: Path, env: dict[str, str],
                                                          tmp_path: Path) -> None:
    """The same commands do look at the new files: a misspelt vendor and a wrong expectation fail them."""
    broken = tmp_path / "kb"
    shutil.copytree(copy, broken)
    ontology = broken / "ontology" / ONTOLOGY_NAME
    ontology.write_text(ONTOLOGY.replace("oscar:vendor vendor:kubeflow_community",
                                         "oscar:vendor vendor:kubeflow_comunity"), encoding="utf-8")
    rules = broken / "rules" / RULES_NAME
    rules.write_text(RULES.replace("statement: Kubeflow costs", "statement: Seldon costs"), encoding="utf-8")
    env = {**env, "OSCAR_ROOT": str(broken)}
    check = kb(env, "check")
    assert check.returncode == 1
    vendor_line = ONTOLOGY.splitlines().index("    oscar:vendor vendor:kubeflow_community ;") + 1
    assert any(line.startswith(f"ontology/{ONTOLOGY_NAME}:{vendor_line}: ") and "vendor:kubeflow_comunity" in line
               for line in check.stdout.splitlines()), check.stdout
    tested = kb(env, "test")
    assert tested.returncode == 1
    test_line = RULES.splitlines().index("tests:") + 2
    assert f"rules/{RULES_NAME}:{test_line}: test `a team considering Kubeflow` failed" in tested.stdout


@pytest.mark.slow
def test_kb_ask_answers_with_the_new_offering_document_and_rule(copy: Path, env: dict[str, str]) -> None:
    asked = kb(env, "ask", "--json", QUESTION)
    assert asked.returncode == 0, asked.stderr
    doc = json.loads(asked.stdout)
    assert any(f["id"] == "offering:kubeflow" and f["value"]["name"] == "Kubeflow" for f in doc["facts"])
    new = [c for c in doc["conclusions"] if c["rule"]["id"] == RULE_ID]
    assert len(new) == 1 and new[0]["statement"].startswith("Kubeflow costs nothing to license")
    assert new[0]["rule"]["file"] == f"rules/{RULES_NAME}"
    assert any(c["doc"] == DOCUMENT_NAME and "the on-call rota" in c["text"] for c in new[0]["citations"])
    text = kb(env, "ask", QUESTION)
    assert text.returncode == 0, text.stderr
    assert "Kubeflow costs nothing to license" in text.stdout and f"rule {RULE_ID} (rules/{RULES_NAME}:" in text.stdout


@pytest.mark.slow
def test_the_tests_that_follow_the_analysts_folders_pass_on_the_addition(
        copy: Path, env: dict[str, str], tmp_path: Path) -> None:
    modules = [str(PROJECT_ROOT / "tests" / name) for name in FOLDER_FOLLOWING_TESTS]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-m", "not slow and not browser",
         f"--basetemp={tmp_path / 'pytest'}", *modules],
        capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    # the parametrised example test ran the new file's example too
    test_line = RULES.splitlines().index("tests:") + 2
    assert f"test_rule_examples.py::test_example[rules/{RULES_NAME}:{test_line}] PASSED" in run.stdout
