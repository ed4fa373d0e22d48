"""Shared fixtures: the real embedding model and the shipped ontology, each loaded once per test run."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT, Paths
from kb.embeddings import SentenceTransformerEmbedder, default_embedder
from kb.ontology import Ontology, load_ontology


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The packaged all-MiniLM-L6-v2 model (hash-checked), shared by every test that embeds."""
    return default_embedder()


@pytest.fixture(scope="session")
def ontology_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for every ontology test: the generated license catalogue is parsed and validated once."""
    return tmp_path_factory.mktemp("oscar-cache")


@pytest.fixture(scope="session")
def shipped_ontology(ontology_cache: Path) -> Ontology:
    """The project's own ontology, loaded and validated once."""
    return load_ontology(Paths(root=PROJECT_ROOT, cache=ontology_cache))


@pytest.fixture(scope="session")
def knowledge_base(embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The shipped knowledge base (ontology, rules, corpus index) loaded once, its index in a test cache."""
    from kb.advisor import KnowledgeBase

    kb = KnowledgeBase.load(Paths(root=PROJECT_ROOT, cache=tmp_path_factory.mktemp("kb-cache")), embedder=embedder)
    yield kb
    kb.close()
