"""Shared fixtures: the real embedding model and the knowledge base under test, each loaded once per run.

The knowledge base is the one `Paths.default()` names: $OSCAR_ROOT when it is set, else this project. So
the tests that follow the analysts' folders (ontology, rules, corpus) run unchanged over an analyst's copy
(`OSCAR_ROOT=/path/to/copy pytest ...`). Tests of the project's own code that use its shipped files as
test data name `kb.config.PROJECT_ROOT` instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import Paths
from kb.graph.ontology import Ontology, load_ontology
from kb.retrieval.embeddings import Embedder, default_embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged all-MiniLM-L6-v2 model (hash-checked), shared by every test that embeds."""
    return default_embedder()


@pytest.fixture(scope="session")
def kb_root() -> Path:
    """The folder holding the knowledge base under test: $OSCAR_ROOT, else this project."""
    return Paths.default().root


@pytest.fixture(scope="session")
def ontology_cache(kb_cache: Path) -> Path:
    """The run's one cache, for the ontology tests: the generated license catalogue is parsed and validated
    once."""
    return kb_cache


@pytest.fixture(scope="session")
def shipped_ontology(kb_root: Path, ontology_cache: Path) -> Ontology:
    """The ontology of the knowledge base under test (`kb_root`), loaded and validated once."""
    return load_ontology(Paths(root=kb_root, cache=ontology_cache))


@pytest.fixture(scope="session")
def kb_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's one cache: the knowledge base under test's passage index is built once and then read, by the
    in-process knowledge base and by the `kb` commands the CLI tests run alike, and the tests' copies of the
    knowledge base reuse its vectors and its model export (every cache is keyed by content)."""
    return tmp_path_factory.mktemp("kb-cache")


@pytest.fixture(scope="session")
def knowledge_base(kb_root: Path, embedder: Embedder, kb_cache: Path):  # type: ignore[no-untyped-def]
    """The knowledge base under test (ontology, rules, corpus index) loaded once, its index in `kb_cache`."""
    from kb.advisor.advise import KnowledgeBase

    kb = KnowledgeBase.load(Paths(root=kb_root, cache=kb_cache), embedder=embedder)
    yield kb
    kb.close()
