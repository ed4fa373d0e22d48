"""Entities by label: any spelling people use reaches the same entity."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.graph.lookup import Label, LabelIndex, loose_key, strict_key
from kb.graph.ontology import Ontology

SPELLINGS = {
    "license:GPL-3.0-only": ["GPLv3", "GPL-3.0", "GNU GPL v3", "gpl 3", "GNU General Public License version 3.0",
                             "GPL-3.0-only", "gnu gplv3"],
    "license:GPL-3.0-or-later": ["GPLv3+", "GPL-3.0+", "GPL 3.0 or later"],
    "license:Apache-2.0": ["Apache 2.0", "Apache-2.0", "apache license, version 2.0", "ASL 2", "Apache v2"],
    "license:MIT": ["MIT", "mit license", "The MIT License"],
    "license:BSD-3-Clause": ["BSD 3-Clause", "BSD-style", "new bsd"],
    "license:AGPL-3.0-only": ["AGPLv3", "Affero GPL"],
    "license:LicenseRef-scancode-llama-2-license-2023": ["Llama 2 Community License", "llama 2 license"],
}

COMMON_NAMES = {
    "offering:pytorch": ["pytorch", "PyTorch", "Py Torch"],
    "offering:tensorflow": ["TensorFlow", "tensor flow", "TF"],
    "offering:scikit_learn": ["scikit-learn", "scikit learn", "sklearn", "Scikit_Learn"],
    "offering:spark_mllib": ["Spark MLlib", "mllib", "Apache Spark MLlib"],
    "offering:spark": ["Apache Spark", "spark"],
    "offering:mlflow": ["MLflow", "mlflow", "MLflow Tracking"],
    "offering:databricks": ["Databricks"],
    "offering:ray": ["Ray"],
    "offering:anyscale": ["Anyscale", "managed Ray"],
    "offering:sagemaker": ["SageMaker", "AWS SageMaker", "amazon sagemaker"],
    "offering:azure_ml": ["Azure ML", "azure machine learning", "AzureML"],
    "offering:vertex_ai": ["Vertex AI", "vertex-ai", "Google Vertex AI"],
    "offering:dvc": ["DVC", "data version control"],
    "offering:kubernetes": ["Kubernetes", "k8s"],
    "offering:airflow": ["Airflow", "AirFlow", "Apache Airflow"],
    "offering:hadoop": ["Hadoop"],
    "offering:cloudera": ["Cloudera"],
    "offering:kafka": ["Kafka", "Apache Kafka"],
    "offering:confluent": ["Confluent"],
    "offering:cassandra": ["Cassandra"],
    "offering:datastax": ["DataStax", "Datastax"],
    "offering:modeldb": ["ModelDB"],
    "offering:verta": ["Verta"],
    "offering:llama2": ["Llama 2", "LLaMA-2", "llama2"],
    "offering:gpt3": ["GPT-3", "gpt3", "OpenAI API"],
    "offering:stable_diffusion": ["Stable Diffusion"],
    "offering:michelangelo": ["Michelangelo"],
    "offering:bighead": ["BigHead"],
    "offering:mysql": ["MySQL"],
    "offering:numpy": ["NumPy"],
    "offering:matlab": ["MATLAB"],
    "certification:soc2_type2": ["SOC 2 Type II", "SOC2", "soc 2 type 2"],
    "certification:iso27001": ["ISO 27001", "iso27001", "ISO/IEC 27001"],
    "certification:hipaa_baa": ["HIPAA BAA", "HIPAA", "business associate agreement"],
    "certification:nist_sp_800_161r1": ["NIST SP 800-161r1"],
    "industry:healthcare": ["healthcare", "health-tech", "Health Tech"],
    "industry:finance": ["finance", "fintech", "banking"],
    "industry:defense": ["defense", "defence"],
    "criterion:licensing_cost": ["licensing cost"],
    "criterion:vendor_lock_in": ["vendor lock-in", "lock in"],
    "criterion:compliance_coverage": ["compliance coverage"],
    "criterion:customization_depth": ["customization depth", "customisation"],
    "criterion:opportunity_cost": ["opportunity cost"],
    "criterion:time_to_build": ["time to build"],
    "vendor:meta": ["Meta", "Facebook"],
    "vendor:apache": ["Apache Software Foundation", "ASF"],
}


@pytest.mark.parametrize(("entity", "labels"), sorted({**SPELLINGS, **COMMON_NAMES}.items()))
def test_labels_reach_their_entity(shipped_ontology: Ontology, entity: str, labels: list[str]) -> None:
    assert shipped_ontology.fact(entity) is not None
    for label in labels:
        assert shipped_ontology.resolve(label) == entity, label


def test_kind_narrows_an_ambiguous_label(shipped_ontology: Ontology) -> None:
    assert shipped_ontology.lookup("Databricks") == ["offering:databricks", "vendor:databricks"]
    assert shipped_ontology.resolve("Databricks", kind="vendor") == "vendor:databricks"
    assert shipped_ontology.resolve("no such thing at all") is None


def test_labels_table_for_scanning_text(shipped_ontology: Ontology) -> None:
    table = shipped_ontology.labels(["offering"])
    assert table["offering:scikit_learn"][0] == "scikit-learn"
    assert "sklearn" in table["offering:scikit_learn"]
    assert all(k.startswith("offering:") for k in table)
    assert "GPLv3" in shipped_ontology.labels()["license:GPL-3.0-only"]


def test_keys_ignore_case_punctuation_and_version_noise() -> None:
    assert strict_key("GNU GPL v3") == strict_key("gnu-gpl-V3") == "gnugplv3"
    assert strict_key("GPLv3+") == strict_key("GPL v3 or later") != strict_key("GPLv3")
    assert loose_key("GPL-3.0") == loose_key("GPL v3") == loose_key("GPL version 3") == "gpl3"
    assert loose_key("LGPL-2.1") != loose_key("LGPL-2")


def test_stronger_labels_win() -> None:
    index = LabelIndex([Label("license:A", "Foo", 3), Label("license:B", "foo", 1), Label("offering:c", "bar", 2),
                        Label("vendor:c", "bar", 2), Label("license:D", "x-y", 0), Label("license:E", "x_y", 0)])
    assert index.lookup("FOO") == ["license:B", "license:A"]
    assert index.lookup("Bar") == ["offering:c", "vendor:c"]
    assert index.lookup("x_y") == ["license:E"] and index.lookup("X Y") == ["license:D", "license:E"]
    assert index.labels_of("license:A") == ("Foo",)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_case_and_punctuation_never_matter(shipped_ontology: Ontology, data: st.DataObject) -> None:
    table = shipped_ontology.labels(["offering", "certification", "industry", "criterion", "vendor"])
    entity = data.draw(st.sampled_from(sorted(table)))
    label = data.draw(st.sampled_from(table[entity]))
    flips = data.draw(st.lists(st.booleans(), min_size=len(label), max_size=len(label)))
    seps = data.draw(st.lists(st.sampled_from([" ", "-", "_", ".", " - ", "/"]), min_size=len(label),
                              max_size=len(label)))
    variant = "".join(
        (sep if ch in " -_./" else ch.swapcase() if flip else ch)
        for ch, flip, sep in zip(label, flips, seps, strict=True))
    assert shipped_ontology.resolve(variant) == shipped_ontology.resolve(label)
