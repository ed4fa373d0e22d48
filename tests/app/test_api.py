"""The JSON API, called over HTTP on the real server (the chat and the API on one port, behind a sign-in),
over a copy of the project's knowledge base: answers under the justification schema, conversations that
belong to their caller, corrections and what-ifs, exports, problem details, size limits and reload."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kb.config import Paths
from tests.app.conftest import API_USERS, Server

pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")

USERS = API_USERS
ANA, BO = httpx.BasicAuth(*USERS[0]), httpx.BasicAuth(*USERS[1])
SMALL_TEAM = ("We're a 6-person team and our model must answer in under 20 ms from our legacy serving "
              "stack. Build, buy or open source?")


@dataclass
class Api:
    url: str
    root: Path
    service: Any


@pytest.fixture(scope="module")
def api(app_server: Server) -> Api:
    """The API of the app under test (tests/app/conftest.py), which asks for a sign-in."""
    return Api(app_server.api, app_server.root, app_server.service)


def _client(api: Api, auth: httpx.Auth | None = ANA) -> httpx.Client:
    return httpx.Client(base_url=api.url, auth=auth, timeout=120)


def test_health_and_readiness_need_no_sign_in(api: Api) -> None:
    with _client(api, None) as http:
        assert http.get("/health").json()["status"] == "ok"
        ready = http.get("/ready").json()
        assert ready["ready"] is True and set(ready["versions"]) >= {"rules", "ontology", "corpus"}
        refused = http.post("/answers", json={"question": SMALL_TEAM})
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert refused.headers["content-type"] == "application/problem+json"


def test_an_answer_is_the_justification_document_and_exports_from_its_id(api: Api) -> None:
    from kb.model.answer import Answer, validate

    with _client(api) as http:
        response = http.post("/answers", json={"question": SMALL_TEAM})
        assert response.status_code == 200, response.text
        body = response.json()
        validate(body["answer"])
        answer = Answer.from_dict(body["answer"])
        assert answer.option is not None and any(c.citations for c in answer.conclusions)
        assert body["conversation_id"] is None
        record = http.get(f"/answers/{body['answer_id']}/export", params={"format": "md", "deciders": ["Ana", "Bo"]})
        assert record.status_code == 200 and "## Decision Outcome" in record.text
        assert "- Status: proposed" in record.text and "- Deciders: Ana, Bo" in record.text
        joined = http.get(f"/answers/{body['answer_id']}/export", params={"deciders": ["Ana, Bo"]})
        assert joined.status_code == 422 and "deciders" in joined.json()["detail"]  # one name each: no commas
        assert record.headers["content-disposition"].startswith('attachment; filename="oscar-decision-')
        for fmt in ("json", "html", "prov"):
            assert http.get(f"/answers/{body['answer_id']}/export", params={"format": fmt}).status_code == 200
        assert json.loads(http.get(f"/answers/{body['answer_id']}/export", params={"format": "json"}).text) \
            == body["answer"]
    with _client(api, BO) as http:  # an answer is exported only for the caller it was given to
        assert http.get(f"/answers/{body['answer_id']}/export").status_code == 404


def test_a_conversation_takes_turns_corrections_and_what_ifs(api: Api) -> None:
    with _client(api) as http:
        made = http.post("/conversations", json={"facts": {"ml_skills": "strong"}})
        assert made.status_code == 201, made.text
        cid = made.json()["conversation_id"]
        first = http.post(f"/conversations/{cid}/turns", json={"question": SMALL_TEAM}).json()
        facts = {f["id"]: f["value"] for f in first["answer"]["facts"] if f["id"].startswith("asker.")}
        assert facts["asker.team_size"] == {"team_size": 6} and facts["asker.ml_skills"] == {"ml_skills": "strong"}
        bigger = http.post(f"/conversations/{cid}/what-if", json={"field": "team_size", "value": 150}).json()
        assert any(f["value"] == {"team_size": 150} for f in bigger["answer"]["facts"])
        view = http.get(f"/conversations/{cid}").json()
        assert view["turns"] == [SMALL_TEAM] and view["answer_id"] == first["answer_id"]  # what-if kept nothing
        corrected = http.post(f"/conversations/{cid}/facts", json={"field": "team_size", "value": 150}).json()
        assert corrected["answer"]["recommendation"] == bigger["answer"]["recommendation"]
        removed = http.delete(f"/conversations/{cid}/facts/asker.ml_skills").json()
        assert not any(f["id"] == "asker.ml_skills" for f in removed["answer"]["facts"])
        follow = http.post("/answers", json={"question": "And what if we need HIPAA?", "conversation_id": cid})
        assert follow.json()["answer"]["turns"] == [SMALL_TEAM, "And what if we need HIPAA?"]
        wrong = http.post(f"/conversations/{cid}/facts", json={"field": "team_size", "value": "a dozen"})
        assert wrong.status_code == 422 and "body.team_size.value" in wrong.json()["detail"]
        unknown = http.post(f"/conversations/{cid}/facts", json={"field": "industry", "value": "basket weaving"})
        assert unknown.status_code == 422 and "industry the ontology knows" in unknown.json()["detail"]
        assert http.delete(f"/conversations/{cid}").status_code == 204
        assert http.get(f"/conversations/{cid}").status_code == 404


def test_two_callers_at_once_never_see_each_others_conversations(api: Api) -> None:
    results: dict[str, Any] = {}

    def converse(name: str, auth: httpx.BasicAuth, size: int) -> None:
        with _client(api, auth) as http:
            cid = http.post("/conversations", json={"facts": {"team_size": size}}).json()["conversation_id"]
            answer = http.post(f"/conversations/{cid}/turns", json={"question": SMALL_TEAM.replace("6-person",
                                                                                           f"{size}-person")})
            results[name] = (cid, answer.json())

    threads = [threading.Thread(target=converse, args=("ana", ANA, 5)),
               threading.Thread(target=converse, args=("bo", BO, 300))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (ana_id, ana), (bo_id, bo) = results["ana"], results["bo"]
    assert {"team_size": 5} in [f["value"] for f in ana["answer"]["facts"]]
    assert {"team_size": 300} not in [f["value"] for f in ana["answer"]["facts"]]
    assert {"team_size": 300} in [f["value"] for f in bo["answer"]["facts"]]
    with _client(api, BO) as http:
        assert http.get(f"/conversations/{ana_id}").status_code == 404
        assert http.post(f"/conversations/{ana_id}/turns", json={"question": "hello"}).status_code == 404
        assert http.delete(f"/conversations/{ana_id}").status_code == 404
    with _client(api) as http:
        assert http.get(f"/conversations/{ana_id}").json()["turns"]  # still there for its caller
        assert http.get(f"/conversations/{bo_id}").status_code == 404


def test_bad_requests_are_problem_details_and_big_ones_are_refused(api: Api) -> None:
    with _client(api) as http:
        for response in (http.post("/answers", json={"question": ""}),
                         http.post("/answers", json={"question": "hi", "surprise": 1}),
                         http.post("/answers", content=b"{not json", headers={"content-type": "application/json"})):
            assert response.status_code == 422
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == 422 and response.json()["detail"]
        huge = http.post("/answers", content=b'{"question": "' + b"x" * 200_000 + b'"}',
                         headers={"content-type": "application/json"})
        assert huge.status_code == 413 and huge.json()["title"] == "Request too large"
        assert http.get("/conversations/not-an-id").status_code == 422
        assert http.get("/conversations/" + "A" * 24).status_code == 404


def test_reload_is_for_signed_in_analysts_and_a_broken_rule_file_is_refused(api: Api) -> None:
    rule_file = api.root / "rules" / "broken.yaml"
    with _client(api, None) as http:
        assert http.post("/reload").status_code == 401
    with _client(api) as http:
        rule_file.write_text("rules:\n  - id: broken\n    when: nonsense\n", encoding="utf-8")
        try:
            refused = http.post("/reload")
            assert refused.status_code == 409 and "broken.yaml" in refused.json()["detail"]
            assert http.post("/answers", json={"question": SMALL_TEAM}).status_code == 200  # the last good one
        finally:
            rule_file.unlink()
        assert http.post("/reload").json() == {"reloaded": True, "problems": []}


def test_the_openapi_document_describes_the_justification_and_problem_details(api: Api) -> None:
    with _client(api, None) as http:
        spec = http.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"Answer", "Answered", "Problem", "StackReview"} <= set(schemas)
    assert "application/problem+json" in spec["paths"]["/answers"]["post"]["responses"]["422"]["content"]


def _examples(heading: str) -> list[str]:
    """The Python code blocks of docs/api.md's section `heading`."""
    import re

    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_docs_typed_client_example_runs_against_the_server(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (example,) = _examples("HTTP: `/api/v1` beside the chat")
    monkeypatch.setenv("OSCAR_API", api.url)
    monkeypatch.setenv("OSCAR_API_AUTH", ":".join(USERS[0]))
    exec(compile(example, "docs/api.md", "exec"), {})  # noqa: S102 - the documentation's own example
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[0] in ("open_source", "commercial", "build_in_house", "open_core", "hybrid", "None")
    assert any(".yaml" not in line and len(line.split()) >= 2 for line in printed[1:])


def test_the_docs_python_example_runs(knowledge_base: Any, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (example,) = _examples("Python: the calls the app itself uses")
    monkeypatch.setattr(Paths, "default", staticmethod(lambda *args, **kwargs: knowledge_base.paths))
    exec(compile(example.replace("/tmp/oscar-conversation.json", str(tmp_path / "c.json")), "docs/api.md",
                 "exec"), {})  # noqa: S102 - the documentation's own example
    assert (tmp_path / "c.json").exists() and capsys.readouterr().out.strip()


@pytest.mark.slow  # about 26 s of generated requests
def test_schemathesis_finds_no_failure_against_the_running_server(api: Api, tmp_path: Path) -> None:
    """Generated requests (valid and invalid, single and in sequences) against every operation, all checks:
    server errors, status codes, content types, headers and bodies against the OpenAPI document, invalid
    input refused, valid input taken, deleted conversations gone, another caller's ids refused."""
    import subprocess
    import sys

    st = Path(sys.executable).with_name("schemathesis")
    run = subprocess.run([str(st), "run", f"{api.url}/openapi.json", "--auth", ":".join(USERS[0]), "--checks", "all",
                          "--max-examples", "5", "--max-time", "25", "--workers", "1", "--seed", "7",
                          "--report-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout or " passed" in run.stdout
