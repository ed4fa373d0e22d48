"""The HTTP JSON API beside the chat, on the same server (`kb serve`): `/api/v1/...`.

- `POST /answers`: a question (optionally with facts, and a conversation to add it to) in, the justification
  document out: the same typed `Answer` every export is made from (its JSON Schema is `kb schema`).
- `/conversations`: create, read, delete; add turns, correct or remove facts, ask what-if.
- `GET /answers/{id}/export?format=md|json|html|prov`: a decision record of an answer given to this caller.
- `GET /health` (the process answers), `GET /ready` (a knowledge base is loaded), `POST /reload` (analysts,
  signed in).
- `GET /openapi.json`: the OpenAPI document, generated from the same types.

With a sign-in (`--auth-file`, $OSCAR_AUTH) every route but health and readiness asks for it, as HTTP Basic
with the chat's users and passwords. A conversation belongs to the caller who made it (the signed-in user;
without a sign-in, whoever holds its unguessable id): another caller gets 404 for it. Errors are problem
details (RFC 9457, `application/problem+json`). Requests over `MAX_BODY` bytes are refused with 413.
"""

import dataclasses
import logging
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, Union

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model
from starlette.exceptions import HTTPException
from starlette.routing import Match

from app.service import ChatService, Session, conversation_of
from app.store import Store, TooLarge
from kb import __version__
from kb.advisor.conversation import ASKER_FIELDS
from kb.advisor.question import MAX_QUESTION_CHARS
from kb.engine import InferenceError
from kb.model.answer import Answer
from kb.model.problems import KnowledgeError
from kb.render import MEDIA, export
from kb.render.jsondoc import digest
from kb.vocab import FieldSpec

log = logging.getLogger("kb.api")

MAX_BODY = 64 * 1024
"""Bytes a request body may have: a question is at most a few thousand characters."""
ID = r"^[A-Za-z0-9_-]{16,64}$"
ANSWER_ID = r"^[0-9a-f]{16}$"
PROBLEM = "application/problem+json"


# --- the typed bodies -----------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


SOMETHING = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
"""A character that is not white space in any of the regular expression dialects that read the schema (the
Unicode white space class of Python and Rust, and ECMAScript's, which lacks U+0085 and adds U+FEFF): a
question holds one."""
Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=SOMETHING,
                                description="the question, in your words")]
NAMES: dict[str, Callable[[], list[str]]] = {}
"""For each reference field (`industry`), the names the loaded knowledge base knows: the OpenAPI document
lists them (it is made again after a reload); a name it does not know is refused with 422."""


def _a_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    return value


def _value_type(name: str, spec: FieldSpec) -> Any:
    """The type of one asker field's value, constraints included, as the conversation takes it: strict, so
    `0` is no boolean and `"5"` no number (an integer may be written `12.0`, as JSON Schema allows)."""
    if spec.type == "bool":
        return Annotated[bool, Field(strict=True)]
    if spec.type == "int":
        return Annotated[int, BeforeValidator(_a_number), Field(ge=0, le=10**12),
                         WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 10**12})]
    if spec.type == "float":
        return Annotated[float, Field(strict=True, ge=0, le=1e12, allow_inf_nan=False)]
    if spec.values:
        return Literal[spec.values]

    def names(schema: dict[str, Any]) -> None:
        if name in NAMES:
            schema["enum"] = NAMES[name]()
    return Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=names)]


def _optional(name: str, spec: FieldSpec) -> tuple[Any, Any]:
    return Optional[_value_type(name, spec)], Field(default=None, description=spec.doc)  # noqa: UP045


def _setter(name: str, spec: FieldSpec) -> Any:
    literal: Any = Literal[name]
    return create_model(f"Set_{name}", __config__=ConfigDict(extra="forbid"), field=(literal, ...),
                        value=(_value_type(name, spec), Field(description=spec.doc)))


if TYPE_CHECKING:  # built at run time from the asker fields (kb/vocab.py): to a type checker, any model
    Facts = BaseModel
    SetFact = Any
else:
    Facts = create_model("Facts", __config__=ConfigDict(extra="forbid"),
                         __doc__="Facts about the asker, by name (`kb vocab`).",
                         **{name: _optional(name, spec) for name, spec in ASKER_FIELDS.items()})
    SetFact = Annotated[Union[tuple(_setter(n, s) for n, s in ASKER_FIELDS.items())],  # noqa: UP007
                        Field(discriminator="field", description="an asker fact to set or correct")]


class Ask(_Body):
    """A question, optionally with facts about the asker and the conversation it continues."""

    question: Question
    conversation_id: str | None = Field(default=None, pattern=ID, description="a conversation of yours to add it to")
    facts: Facts = Field(default_factory=Facts)


class NewConversation(_Body):
    facts: Facts = Field(default_factory=Facts)


class Turn(_Body):
    question: Question


class Answered(BaseModel):
    """An answer, its id (for exports) and the conversation it belongs to, if any."""

    answer_id: str
    conversation_id: str | None
    answer: Answer


class KnownFact(BaseModel):
    id: str
    label: str
    value: str
    source: str


class ConversationView(BaseModel):
    conversation_id: str
    turns: list[str]
    facts: list[KnownFact]
    answer_id: str | None


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Ready(BaseModel):
    ready: bool
    versions: dict[str, str]


class Reloaded(BaseModel):
    reloaded: bool
    problems: list[str]


class Problem(BaseModel):
    """A problem detail (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None


def problem(status: int, title: str, detail: str, request: Request | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail,
                   instance=request.url.path if request is not None else None).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
             "description": text}
    for status, text in ((400, "the body is not JSON"), (401, "a sign-in is needed"),
                         (403, "not allowed"), (404, "no such conversation or answer of yours"),
                         (409, "refused: the files have problems"),
                         (413, "the request or the conversation is too large"),
                         (422, "the input does not fit (the detail says where)"),
                         (503, "the rules could not finish answering"))
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem responses a route documents: those given, and always 400, 401, 413 and 422."""
    return {k: _ERRORS[k] for k in sorted({400, 401, 413, 422, *statuses})}


class _LimitBody:
    """ASGI middleware: a body over `limit` bytes is refused (413) before it is read whole."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooBig
            return message

        try:
            await self.app(scope, limited, send)
        except _TooBig:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = Problem(title="Request too large", status=413,
                       detail=f"a request body may have at most {self.limit} bytes").model_dump_json().encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooBig(Exception):
    pass


_BASIC = HTTPBasic(auto_error=False)


def caller(request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(_BASIC)]) -> str:
    """Who is calling: the signed-in user, or `anyone` when the server has no sign-in."""
    sign_in: Callable[[str, str], bool] | None = request.app.state.sign_in
    if sign_in is None:
        return "anyone"
    if credentials is None or not sign_in(credentials.username, credentials.password):
        raise HTTPException(401, "sign in with the chat's user and password (HTTP Basic)",
                            headers={"WWW-Authenticate": 'Basic realm="OSCAR"'})
    return credentials.username


def known_query(request: Request) -> None:
    """A query parameter the route does not take is refused (422), not ignored: a typo is said at once."""
    route = request.scope.get("route")
    known = {p.alias for p in route.dependant.query_params} if isinstance(route, APIRoute) else set()
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError([{"loc": ("query", name), "msg": "not a parameter of this route",
                                       "type": "extra_forbidden"} for name in unknown[:5]])


Caller = Annotated[str, Depends(caller)]
ConversationId = Annotated[str, Path(pattern=ID, description="a conversation id this API gave you")]
AnswerId = Annotated[str, Path(pattern=ANSWER_ID, description="an answer id this API gave you")]
FactId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,200}$",
                                 description="`asker.team_size`, `mention:offering:pytorch`, ...")]
Format = Annotated[Literal["md", "json", "html", "prov"], Query(description="the record's format")]
Deciders = Annotated[list[Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^,]+$")]] | None,
                     Query(max_length=20, description="who decides, as the record names them (repeatable; "
                           "one name each, without commas: the record lists them comma-separated)")]


# --- the app ---------------------------------------------------------------------------------------------
def build_api(service: ChatService, store: Store, sign_in: Callable[[str, str], bool] | None = None,
              concurrency: int = 2) -> FastAPI:
    """The API over the chat's service and a conversation store; `sign_in` checks HTTP Basic credentials
    (None: no sign-in, as the chat)."""
    api = FastAPI(title="OSCAR API", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", dependencies=[Depends(known_query)],
                  description="Answers with their reasons: every conclusion names its rule, its facts and the "
                              "passages it rests on. The answer is the justification document (`kb schema`).")
    api.state.sign_in = sign_in
    answering = threading.BoundedSemaphore(max(1, concurrency))
    NAMES["industry"] = lambda: sorted({n for labels in service.kb.ontology.labels(["industry"]).values()
                                        for n in labels})

    # --- errors as problem details ---
    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        titles = {400: "Bad request", 401: "Sign-in needed", 403: "Not allowed", 404: "Not found",
                  405: "Method not allowed", 413: "Too large"}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # every method of the path, not only those of the first route matched
            headers["Allow"] = ", ".join(sorted({m for r in api.routes if isinstance(r, APIRoute)
                                                 and r.matches(request.scope)[0] == Match.PARTIAL
                                                 for m in r.methods or ()}))
        return problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), request,
                       headers=headers or None)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors())
        return problem(422, "Invalid request", where[:2000], request)

    def answered(owner: str, session: Session, conversation_id: str | None) -> JSONResponse:
        answer: Answer = session["answer"]
        answer_id = digest(answer)
        document = answer.to_dict()
        store.put(f"answer:{owner}:{answer_id}", document)
        return JSONResponse({"answer_id": answer_id, "conversation_id": conversation_id, "answer": document})

    def run(work: Callable[[], Response], request: Request) -> Response:
        """Answer under the concurrency bound; what the caller can fix becomes a problem, nothing else leaks."""
        with answering:
            try:
                return work()
            except TooLarge as exc:
                return problem(413, "Conversation too large", f"the conversation would be {exc}", request)
            except ValueError as exc:
                return problem(422, "Cannot use this input", str(exc), request)
            except KnowledgeError as exc:
                return problem(422, "Cannot use this input", "; ".join(str(p) for p in exc.problems), request)
            except InferenceError as exc:
                log.warning("consultation stopped: %s", exc)
                return problem(503, "The rules could not finish", str(exc), request)

    def with_facts(session: Session | None, facts: BaseModel | None) -> Session:
        conversation = conversation_of(session)
        for name, value in (facts.model_dump(exclude_none=True) if facts is not None else {}).items():
            service.advisor.set_fact(conversation, name.removeprefix("asker."), value)
        return {"conversation": conversation.to_dict(), "answer": (session or {}).get("answer")}

    def key(owner: str, conversation_id: str) -> str:
        return f"conversation:{owner}:{conversation_id}"

    def change(owner: str, conversation_id: str, request: Request,
               step: Callable[[Session], Session]) -> Response:
        """Change one of the caller's conversations under its lock; 404 if it is not theirs (or gone)."""
        out: dict[str, Any] = {}

        def apply(stored: dict[str, Any] | None) -> dict[str, Any] | None:
            if stored is None:
                return None
            session = step({"conversation": stored["conversation"], "answer": None})
            out["session"] = session
            return {"conversation": session["conversation"], "answer_id": digest(session["answer"])}

        def work() -> Response:
            if store.update(key(owner, conversation_id), apply) is None:
                raise HTTPException(404, "no conversation of yours has this id (it may have expired)")
            return answered(owner, out["session"], conversation_id)

        return run(work, request)

    # --- routes ---
    @api.get("/health", response_model=Health, tags=["service"], responses=errors())
    def health() -> Health:
        """The process is up."""
        return Health(status="ok", version=__version__)

    @api.get("/ready", response_model=Ready, tags=["service"], responses=errors(503))
    def ready() -> Ready:
        """A knowledge base is loaded and answering (during a reload, the previous one answers)."""
        return Ready(ready=True, versions=dict(service.kb.versions))

    @api.post("/answers", response_model=Answered, tags=["answers"],
              responses=errors(401, 404, 413, 422, 503))
    def ask(body: Ask, owner: Caller, request: Request) -> Response:
        """Answer a question; with `conversation_id`, as the next turn of that conversation of yours."""
        if body.conversation_id is not None:
            return change(owner, body.conversation_id, request,
                          lambda s: service.ask(with_facts(s, body.facts), body.question))
        return run(lambda: answered(owner, service.ask(with_facts(None, body.facts), body.question), None),
                   request)

    @api.post("/conversations", status_code=201, response_model=ConversationView, tags=["conversations"],
              responses=errors(401, 413, 422))
    def create(owner: Caller, request: Request, body: NewConversation | None = None) -> Response:
        """Start a conversation (optionally with facts); its id is yours alone."""
        conversation_id = secrets.token_urlsafe(18)

        def work() -> Response:
            session = with_facts(None, body.facts if body else None)
            store.put(key(owner, conversation_id), {"conversation": session["conversation"], "answer_id": None})
            return JSONResponse(_view(service, conversation_id, session["conversation"], None), status_code=201)

        return run(work, request)

    @api.get("/conversations/{conversation_id}", response_model=ConversationView, tags=["conversations"],
             responses=errors(401, 404))
    def read(conversation_id: ConversationId, owner: Caller) -> Response:
        """A conversation of yours: its turns, the facts you gave and the latest answer's id."""
        stored = store.get(key(owner, conversation_id))
        if stored is None:
            raise HTTPException(404, "no conversation of yours has this id (it may have expired)")
        return JSONResponse(_view(service, conversation_id, stored["conversation"], stored.get("answer_id")))

    @api.delete("/conversations/{conversation_id}", status_code=204, tags=["conversations"],
                responses=errors(401, 404))
    def forget(conversation_id: ConversationId, owner: Caller) -> Response:
        """Forget a conversation of yours."""
        if not store.delete(key(owner, conversation_id)):
            raise HTTPException(404, "no conversation of yours has this id (it may have expired)")
        return Response(status_code=204)

    @api.post("/conversations/{conversation_id}/turns", response_model=Answered, tags=["conversations"],
              responses=errors(401, 404, 413, 422, 503))
    def turn(conversation_id: ConversationId, body: Turn, owner: Caller, request: Request) -> Response:
        """Ask the next question of a conversation of yours."""
        return change(owner, conversation_id, request, lambda s: service.ask(s, body.question))

    @api.post("/conversations/{conversation_id}/facts", response_model=Answered, tags=["conversations"],
              responses=errors(401, 404, 413, 422, 503))
    def correct(conversation_id: ConversationId, body: SetFact, owner: Caller, request: Request) -> Response:
        """Set or correct a fact ("team_size": 12) and answer again."""
        return change(owner, conversation_id, request, lambda s: service.set_fact(s, body.field, body.value))

    @api.delete("/conversations/{conversation_id}/facts/{fact_id}", response_model=Answered,
                tags=["conversations"], responses=errors(401, 404, 413, 422, 503))
    def remove(conversation_id: ConversationId, fact_id: FactId, owner: Caller, request: Request) -> Response:
        """Remove a fact you gave (`asker.team_size`, `mention:offering:pytorch`) and answer again."""
        return change(owner, conversation_id, request, lambda s: service.remove_fact(s, fact_id))

    @api.post("/conversations/{conversation_id}/what-if", response_model=Answered, tags=["conversations"],
              responses=errors(401, 404, 422, 503))
    def what_if(conversation_id: ConversationId, body: SetFact, owner: Caller, request: Request) -> Response:
        """The answer that would follow if one fact were different; the conversation stays as it is."""
        stored = store.get(key(owner, conversation_id))
        if stored is None:
            raise HTTPException(404, "no conversation of yours has this id (it may have expired)")
        session = {"conversation": stored["conversation"], "answer": None}
        return run(lambda: answered(owner, {"answer": service.what_if(session, body.field, body.value)},
                                    conversation_id), request)

    @api.get("/answers/{answer_id}/export", tags=["answers"],
             responses={200: {"description": "the decision record in that format (JSON: the justification)",
                              "content": {m.split(";")[0]: {"schema": {"$ref": "#/components/schemas/Answer"}
                                                            if fmt == "json" else {"type": "string"}}
                                          for fmt, m in MEDIA.items()}},
                        **errors(404)})
    def export_answer(answer_id: AnswerId, owner: Caller, format: Format = "md",
                      deciders: Deciders = None) -> Response:
        """A decision record of an answer this API gave you: Markdown, JSON, HTML or PROV-O (Turtle)."""
        stored = store.get(f"answer:{owner}:{answer_id}")
        if stored is None:
            raise HTTPException(404, "no answer of yours has this id (it may have expired)")
        answer = Answer.from_dict(stored)
        if deciders:
            answer = dataclasses.replace(answer, deciders=tuple(d.strip() for d in deciders if d.strip()))
        name, content = export(answer, format)
        return Response(content, media_type=MEDIA[format],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @api.post("/reload", response_model=Reloaded, tags=["service"],
              responses={202: {"model": Reloaded, "description": "still reloading; the current one answers"},
                         **errors(403, 409)})
    def reload(owner: Caller, request: Request) -> Response:
        """Reload rules, ontology, reader and corpus (analysts). A broken file is refused: the last good
        knowledge base keeps answering and the problems are listed."""
        if sign_in is None:
            return problem(403, "Not allowed", "reloading through the API needs a sign-in: start kb serve with "
                                               "--auth-file or $OSCAR_AUTH (the chat's Reload button works)", request)
        problems = service.reload()
        api.openapi_schema = None  # the names the knowledge base knows may have changed
        if problems is None:
            return JSONResponse(Reloaded(reloaded=False, problems=[]).model_dump(), status_code=202)
        if problems:
            return problem(409, "Reload refused", "; ".join(str(p) for p in problems), request)
        return JSONResponse(Reloaded(reloaded=True, problems=[]).model_dump())

    api.add_middleware(_LimitBody, limit=MAX_BODY)
    return api


def _view(service: ChatService, conversation_id: str, conversation: dict[str, Any],
          answer_id: str | None) -> dict[str, Any]:
    session = {"conversation": conversation, "answer": None}
    return {"conversation_id": conversation_id, "turns": list(conversation.get("turns", [])),
            "facts": [{"id": k.id, "label": k.label, "value": k.raw or k.value, "source": k.source}
                      for k in service.known(session)],
            "answer_id": answer_id}

