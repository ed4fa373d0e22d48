"""Writes tests/data/stack/environment.spdx.json and environment.spdx (tag-value): an SPDX 2.3 document of the
Python distributions installed in this project's environment, each with the licence its metadata declares
(License-Expression), written by spdx-tools. Run it with the project's interpreter to refresh the files."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.parser.jsonlikedict.license_expression_parser import LicenseExpressionParser
from spdx_tools.spdx.writer.write_anything import write_file

HERE = Path(__file__).parent


def main() -> None:
    info = CreationInfo("SPDX-2.3", "SPDXRef-DOCUMENT", "oscar-environment", "https://w3id.org/oscar/sbom/environment",
                        [Actor(ActorType.TOOL, "tests/data/stack/make_spdx.py")],
                        datetime(2026, 12, 3, tzinfo=UTC).replace(tzinfo=None))
    parser = LicenseExpressionParser()
    packages = []
    for n, dist in enumerate(sorted(metadata.distributions(), key=lambda d: d.metadata["Name"].lower())):
        name, version = dist.metadata["Name"], dist.version
        declared = dist.metadata.get("License-Expression")
        licence = parser.parse_license_expression(declared) if declared else SpdxNoAssertion()
        packages.append(Package(f"SPDXRef-Package-{n}", name, SpdxNoAssertion(), version=version,
                                license_declared=licence, license_concluded=SpdxNoAssertion(),
                                external_references=[ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER,
                                                                        "purl", f"pkg:pypi/{name.lower()}@{version}")]))
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, p.spdx_id) for p in packages]
    doc = Document(info, packages=packages, relationships=relationships)
    write_file(doc, str(HERE / "environment.spdx.json"), validate=True)
    write_file(doc, str(HERE / "environment.spdx"), validate=True)


if __name__ == "__main__":
    main()
