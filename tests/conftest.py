"""Shared fixtures: the real embedding model, loaded once for the whole test session."""

from __future__ import annotations

import pytest

from kb.embeddings import SentenceTransformerEmbedder, default_embedder


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The packaged all-MiniLM-L6-v2 model (hash-checked), shared by every test that embeds."""
    return default_embedder()
