"""One running server for the chat's browser tests and the JSON API's tests: `kb serve`'s app (the chat and
the API on one port), in-process on a free port, over a copy of the knowledge base under test (the reload
tests break a file of the copy, never the project's). The API asks for a sign-in (HTTP Basic, `API_USERS`)
so its tests can call as two different users; the chat is open, as `kb serve` without `--auth-file` runs it
(the sign-in tests of the chat start servers of their own)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kb.config import Paths

API_USERS = [("ana", "first-secret"), ("bo", "second-secret")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    """The chat's address, ending in `/`; the API is at `url + "api/v1"`."""
    root: Path
    service: Any
    workdir: Any

    @property
    def api(self) -> str:
        return self.url + "api/v1"


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory, kb_root: Path, ontology_cache: Path) -> Iterator[Server]:
    from app.api import build_api
    from app.chat import build
    from app.server import SignIn, launch, prepare
    from app.service import ChatService
    from app.store import MemoryStore
    from kb.advisor.advise import LiveKnowledgeBase
    from kb.render.chat import CSS

    root = tmp_path_factory.mktemp("kb")
    for name in ("ontology", "rules", "corpus", "reader"):
        if (kb_root / name).is_dir():
            shutil.copytree(kb_root / name, root / name)
    paths = Paths(root=root, cache=ontology_cache)
    workdir = prepare(tmp_path_factory.mktemp("app"))
    live = LiveKnowledgeBase(paths)
    service = ChatService(live, uploads=workdir.files)
    store = MemoryStore()  # one store for the chat's and the API's conversations, as `kb serve` has
    page = build(service, store=store)
    api = build_api(service, store, SignIn(API_USERS))
    _, url = launch(page, workdir, paths, port=free_port(), block=False, css=CSS, api=api)
    try:
        yield Server(url.rstrip("/") + "/", root, service, workdir)
    finally:
        page.close()
        live.current.close()
