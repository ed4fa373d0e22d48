"""The names people write for a licence, in sentences as they write them (tests/data/licence_names.yaml), are
read as that licence and no other: official names, short names, versions ("GPLv2+", "Llama 3.1"), British
spellings, Hugging Face licence ids; a model named instead of its licence ("fine-tuning Llama 2 under its
community license") reaches the licence through the model. Add a sentence to the data file: nothing here
changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kb.advisor.reading_eval import predicted

DATA = Path(__file__).parents[1] / "data" / "licence_names.yaml"
CASES = [(entry["licence"], said) for entry in yaml.safe_load(DATA.read_text(encoding="utf-8"))["names"]
         for said in entry["said"]]


@pytest.mark.parametrize(("licence", "said"), CASES, ids=[s for _, s in CASES])
def test_a_licence_is_read_by_the_name_people_give_it(knowledge_base: Any, licence: str, said: str) -> None:
    reached: set[str] = set()
    for key, value, _ in predicted(knowledge_base.understand(said)):
        ident = str(value)
        if key != "mention":
            continue
        if ident.startswith("offering:"):
            offering = knowledge_base.ontology.fact(ident)
            ident = str(offering.get("license") or "") if offering is not None else ""
        if ident.startswith("license:"):
            reached.add(ident)
    assert reached == {f"license:{licence}"}
