"""Where conversations live: the in-process store's bounds (count, age, size), and Redis shared by two API
apps as two `kb serve` processes share it (a real redis-server on loopback; `pytest -m slow` runs two real
`kb serve` processes)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.store import Bounds, MemoryStore, RedisStore, TooLarge, open_store
from kb.config import PROJECT_ROOT
from tests.app.conftest import Server

REDIS = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(REDIS is None and not os.environ.get("CI"), reason="redis-server is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_memory_store_keeps_at_most_its_bounds() -> None:
    now = [0.0]
    store = MemoryStore(Bounds(max_items=3, max_age=60, max_bytes=200), clock=lambda: now[0])
    for n in range(5):
        store.put(f"k{n}", {"n": n})
        now[0] += 1
    assert len(store) == 3 and store.get("k0") is None and store.get("k4") == {"n": 4}
    with pytest.raises(TooLarge):
        store.put("big", {"text": "x" * 500})
    now[0] += 61
    assert store.get("k4") is None  # expired
    assert store.update("k9", lambda v: {"n": (v or {}).get("n", 0) + 1}) == {"n": 1}
    assert store.update("k9", lambda v: {"n": (v or {})["n"] + 1}) == {"n": 2}
    assert store.update("gone", lambda v: None) is None and store.get("gone") is None


def test_an_unusable_store_url_is_said_at_start() -> None:
    with pytest.raises(ValueError, match="unknown store"):
        open_store("mongodb://localhost")
    with pytest.raises(ValueError, match="cannot reach the store"):
        open_store(f"redis://127.0.0.1:{free_port()}/0")
    assert isinstance(open_store(None), MemoryStore)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if REDIS is None:
        pytest.fail("redis-server is needed (apt-get install redis-server)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                RedisStore(url).close()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("kind", ["memory", pytest.param("redis", marks=needs_redis)])
def test_a_chat_conversation_is_taken_up_again_from_the_store_by_its_owner_only(
        app_server: Server, kind: str, request: pytest.FixtureRequest) -> None:
    """The chat keeps each tab's conversation in the store: a reloaded page (or another server on the same
    Redis) that hands back the tab's key gets it again, messages, answer and all; another person's can't."""
    import gradio as gr

    from app.chat import ChatPage

    store = MemoryStore() if kind == "memory" else RedisStore(request.getfixturevalue("redis_url"))
    page, other_server = ChatPage(app_server.service, store=store), ChatPage(app_server.service, store=store)
    try:
        fresh = page.restore("", gr.Request(username="ana"))
        key, session = fresh[0], fresh[2]
        assert len(key) >= 20 and fresh[1] == []
        asked = page.ask("We're a 6-person team, must answer in under 20 ms from legacy serving: build or buy?",
                         session)
        said, answered = asked[2], asked[3]
        again = other_server.restore(key, gr.Request(username="ana"))
        assert again[0] == key and again[1] == said and again[2]["answer"] == answered["answer"]
        assert again[2]["conversation"] == answered["conversation"]
        stranger = other_server.restore(key, gr.Request(username="bo"))
        assert stranger[0] != key and stranger[1] == [] and stranger[2]["answer"] is None
        assert other_server.restore("../../etc", gr.Request(username="ana"))[1] == []
    finally:
        page.blocks.close()
        other_server.blocks.close()
        store.close()


def test_the_panels_buttons_act_and_what_they_send_is_checked(app_server: Server) -> None:
    """A click on a fact's Set, one-click answer or Remove (sent by the page's script as the panel's click,
    with the button's action, target and value) answers again; anything else the page could be made to send
    is refused with a message and leaves the conversation as it was."""
    import gradio as gr

    from app.chat import ChatPage

    page = ChatPage(app_server.service)

    def click(op: str, target: str, value: object = None) -> gr.EventData:
        return gr.EventData(None, {"op": op, "target": target, "value": value})

    try:
        session = page.restore("", gr.Request(username=""))[2]
        asked = page.ask("We're a 6-person team, must answer in under 20 ms from legacy serving: build or buy?",
                         session)
        session = asked[3]
        editor = asked[-1]
        assert 'class="oscar-row oscar-fact oscar-fact-asker-team_size"' in editor and 'value="6"' in editor
        assert 'data-op="remove" data-target="asker.team_size"' in editor
        set_ = page.act(session, click("set", "asker.team_size", "4"))
        assert "You said" in set_[1][-1]["content"] and "4 people" in set_[1][-1]["content"]
        assert 'value="4"' in set_[-1]
        removed = page.act(set_[2], click("remove", "asker.team_size"))
        assert "Removed" in removed[1][-1]["content"] and "oscar-fact-asker-team_size" not in removed[-1]
        for bad in (click("remove", "asker.team_size"), click("drop", "asker.team_size"),
                    click("set", "asker.no_such_field", "1"), click("set", "asker.team_size", "9" * 500),
                    click("set", "asker.team_size", {"a": 1}), gr.EventData(None, None),
                    gr.EventData(None, ["set"])):
            with pytest.raises(gr.Error):
                page.act(removed[2], bad)
        with pytest.raises(gr.Error):
            page.act(removed[2], click("set", "asker.team_size", "lots"))  # the field's own check
        answer = session["answer"]
        i = next(n for n, e in enumerate(answer.why_not) if e.changes)
        tried = page.try_it(session, gr.EventData(None, {"target": f"{i}.0"}))
        assert "Had you said" in tried
        for target in ("99.0", f"{i}.99", "0", "-1.0", "1.0.0", None):
            with pytest.raises(gr.Error):
                page.try_it(session, gr.EventData(None, {"target": target}))
    finally:
        page.blocks.close()


@needs_redis
def test_redis_keeps_its_bounds_and_takes_turns(redis_url: str) -> None:
    store = RedisStore(redis_url, Bounds(max_items=3, max_age=60, max_bytes=200))
    try:
        for n in range(5):
            store.put(f"bounded:{n}", {"n": n})
        assert store.get("bounded:0") is None and store.get("bounded:4") == {"n": 4}
        with pytest.raises(TooLarge):
            store.put("big", {"text": "x" * 500})
        other = RedisStore(redis_url, store.bounds)  # a second process's client sees the same entries
        assert other.update("bounded:4", lambda v: {"n": (v or {})["n"] + 1}) == {"n": 5}
        assert store.get("bounded:4") == {"n": 5} and store.delete("bounded:4") and other.get("bounded:4") is None
        other.close()
    finally:
        store.close()


def _serve(port: int, store: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("OSCAR_AUTH", None)
    return subprocess.Popen([sys.executable, "-m", "kb.cli", "serve", "--port", str(port), "--store", store],
                            cwd=PROJECT_ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


@pytest.mark.slow
@needs_redis
def test_two_kb_serve_processes_sharing_redis_answer_one_conversation_in_turn(
        redis_url: str, tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    procs = [_serve(p, redis_url, tmp_path / f"serve-{p}.log") for p in ports]
    try:
        urls = [f"http://127.0.0.1:{p}/api/v1" for p in ports]
        deadline = time.monotonic() + 600
        for url in urls:
            while True:
                try:
                    if httpx.get(url + "/ready", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "kb serve did not start"
                time.sleep(1)
        a, b = (httpx.Client(base_url=u, timeout=120) for u in urls)
        cid = a.post("/conversations", json={}).json()["conversation_id"]
        turns = ["We're a 6-person health-tech team and need HIPAA.", "Should we self-host PyTorch and MLflow?",
                 "Actually we are 40 people now.", "And our deadline is three months."]
        answers = []
        for n, question in enumerate(turns):  # A, B, A, B
            client = (a, b)[n % 2]
            answers.append(client.post(f"/conversations/{cid}/turns", json={"question": question}).json())
            assert answers[-1]["answer"]["turns"] == turns[: n + 1]
        # the same conversation read from either server is the same, and so is its answer
        assert a.get(f"/conversations/{cid}").json() == b.get(f"/conversations/{cid}").json()
        again = a.post(f"/conversations/{cid}/what-if", json={"field": "team_size", "value": 40}).json()
        assert again["answer"]["recommendation"] == answers[-1]["answer"]["recommendation"]
        assert b.get(f"/answers/{answers[-1]['answer_id']}/export", params={"format": "json"}).json() \
            == answers[-1]["answer"]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
