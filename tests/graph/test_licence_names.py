"""The names people use for a licence reach the licence (three spellings each, versions kept apart); a name
that an analyst assigned ("BSL") reaches that licence, and the other's own id still reaches the other."""

from __future__ import annotations

import pytest

from kb.graph.ontology import Ontology

SPELLINGS = {
    "license:MIT": ["MIT", "MIT license", "the MIT License"],
    "license:BSD-3-Clause": ["BSD 3-clause", "BSD-3-Clause", "New BSD License"],
    "license:BSD-2-Clause": ["BSD-2", "BSD 2-Clause", "Simplified BSD License"],
    "license:Apache-2.0": ["Apache 2", "Apache 2.0", "Apache License 2.0"],
    "license:MPL-2.0": ["MPL 2", "MPL-2.0", "Mozilla Public License 2.0"],
    "license:LGPL-2.1-only": ["LGPL 2.1", "LGPLv2.1", "LGPL-2.1"],
    "license:GPL-2.0-only": ["GPLv2", "GPL v2", "GPL-2.0"],
    "license:GPL-3.0-only": ["GPLv3", "GPL v3", "GPL-3.0"],
    "license:AGPL-3.0-only": ["AGPL", "AGPLv3", "Affero GPL"],
    "license:SSPL-1.0": ["SSPL", "Server Side Public License", "SSPL-1.0"],
    "license:BUSL-1.1": ["BUSL", "Business Source License", "BUSL-1.1"],
    "license:Elastic-2.0": ["Elastic License", "ELv2", "Elastic License 2.0"],
    "license:CC-BY-NC-4.0": ["CC BY-NC", "CC-BY-NC-4.0", "Creative Commons NonCommercial"],
    "license:LicenseRef-scancode-bigscience-open-rail-m": ["OpenRAIL-M", "BigScience OpenRAIL", "OpenRAIL"],
    "license:LicenseRef-scancode-llama-2-license-2023": ["Llama 2 license", "Llama 2 community license",
                                                         "llama2 license"],
}


@pytest.mark.parametrize(("licence", "name"), [(k, n) for k, names in SPELLINGS.items() for n in names])
def test_a_licence_is_reached_by_the_names_people_use(shipped_ontology: Ontology, licence: str, name: str) -> None:
    assert shipped_ontology.resolve(name) == licence


def test_an_abbreviation_two_licences_share_goes_where_the_analyst_put_it(shipped_ontology: Ontology) -> None:
    # bare "BSL" is the Business Source License among ML and infrastructure teams; Boost is "BSL-1.0"
    assert shipped_ontology.resolve("BSL") == "license:BUSL-1.1"
    assert shipped_ontology.resolve("BSL-1.0") == "license:BSL-1.0"
