"""Starting the chat server: load the knowledge base once (showing progress), build the page, launch it safely.

Safety settings are fixed here, not left to defaults: no share link, no flagging, `allowed_paths` empty,
no MCP server, no run history, no monitoring page, no server-side rendering, and a temporary folder of
this process's own for uploads, so the file routes can serve nothing else. The decision records the page
offers are made when their link is followed (`Records`), never written to a folder.
"""

from __future__ import annotations

import gc
import hmac
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import IO, Any

from starlette.middleware import Middleware

from kb.config import Paths
from kb.stack.intake import MAX_BYTES

log = logging.getLogger("kb.app")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
API_PATH = "/api/v1"
ANALYTICS_EVERY = 1_000_000_000
"""Events between two of Gradio's analytics summaries (see `launch`): in effect never, as nothing reads them."""


class SignIn:
    """Checks a sign-in against the configured pairs, and slows down guessing: after `MAX_FAILURES` wrong
    attempts for one name within `WINDOW` seconds, every attempt for that name is refused until the window
    has passed (right password or not), and each wrong attempt costs `DELAY` seconds. Passwords are
    compared in constant time."""

    MAX_FAILURES = 5
    WINDOW = 60.0
    DELAY = 0.5

    def __init__(self, pairs: list[tuple[str, str]], clock: Any = time.monotonic, sleep: Any = time.sleep):
        self._pairs = {user: password for user, password in pairs}
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def __call__(self, username: str, password: str) -> bool:
        now = self._clock()
        with self._lock:
            recent = [t for t in self._failures.get(username, []) if now - t < self.WINDOW]
            self._failures[username] = recent
            if len(recent) >= self.MAX_FAILURES:
                log.warning("sign-in for %r refused: too many wrong attempts", username)
                return False
        expected = self._pairs.get(username)
        ok = expected is not None and hmac.compare_digest(expected.encode(), password.encode())
        if not ok:
            with self._lock:
                self._failures.setdefault(username, []).append(now)
            self._sleep(self.DELAY)
        return ok


class SignedInOnly:
    """ASGI middleware: when a sign-in is set, every `/gradio_api/...` route answers 401 to a caller without
    a signed-in session cookie. Gradio checks the login on its page, `/config` and event routes, but
    `/gradio_api/reset`, `/cancel` and the heartbeat answered anyone."""

    OPEN = ("/gradio_api/login", "/gradio_api/login_check", "/gradio_api/startup-events")

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        gradio = scope.get("app")
        if (scope.get("type") in ("http", "websocket") and path.startswith("/gradio_api/")
                and not path.startswith(self.OPEN) and getattr(gradio, "auth", None) is not None
                and not self._signed_in(scope, gradio)):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"detail": "Not authenticated"}'})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _signed_in(scope: dict[str, Any], gradio: Any) -> bool:
        return signed_in_user(scope, gradio) is not None


def signed_in_user(scope: dict[str, Any], gradio: Any) -> str | None:
    """The name of the person whose Gradio sign-in cookie the request carries, or None."""
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                return None
    cookie_id = getattr(gradio, "cookie_id", "")
    tokens = getattr(gradio, "tokens", {})
    for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        if name in jar and tokens.get(jar[name].value) is not None:
            return str(tokens[jar[name].value])
    return None


RecordFinder = Callable[[str, str, str, str], "tuple[str, str] | None"]
"""(owner, conversation key, record id, format) -> (file name, content), or None when there is no such answer."""


class Records:
    """ASGI middleware: `GET /oscar/record/{conversation key}/{record id}/{format}` downloads the decision
    record of a conversation's latest answer, made when asked for. The page links each answer's records there,
    so answering writes no files. The conversation must be the caller's own: with a sign-in, the signed-in
    person's (401 without one); without, whoever holds its unguessable key. Anything else is 404."""

    PATH = re.compile(r"/oscar/record/([A-Za-z0-9_-]{20,64})/([0-9a-f]{8,64})/([a-z]{2,8})")

    def __init__(self, app: Any, find: RecordFinder):
        self.app, self.find = app, find

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope.get("type") != "http" or not path.startswith("/oscar/record/"):
            await self.app(scope, receive, send)
            return
        from kb.render import MEDIA

        if scope.get("method") not in ("GET", "HEAD"):
            await self._reply(send, 405, "Only GET downloads a record.\n", {"allow": "GET, HEAD"})
            return
        gradio = scope.get("app")
        owner = ""
        if getattr(gradio, "auth", None) is not None:
            owner = signed_in_user(scope, gradio) or ""
            if not owner:
                await self._reply(send, 401, "Sign in to download records.\n")
                return
        match = self.PATH.fullmatch(path)
        if match is None or match[3] not in MEDIA:
            await self._reply(send, 404, "No such record.\n")
            return
        import anyio

        try:
            found = await anyio.to_thread.run_sync(self.find, owner, match[1], match[2], match[3])
        except Exception:
            log.exception("a record could not be made")
            await self._reply(send, 503, "The record could not be made; the details are in the server's log.\n")
            return
        if found is None:
            await self._reply(send, 404, "No answer of yours has this record id: a newer answer in the conversation "
                                         "replaced it, or it expired. Download it again from the page.\n")
            return
        name, content = found
        await self._reply(send, 200, content, {
            "content-type": MEDIA[match[3]],
            # a page of this origin is downloaded, never shown, and could run nothing if it were
            "content-disposition": f'attachment; filename="{name}"',
            "content-security-policy": "sandbox",
        }, head=scope.get("method") == "HEAD")

    @staticmethod
    async def _reply(send: Any, status: int, body: str, headers: dict[str, str] | None = None,
                     head: bool = False) -> None:
        data = body.encode("utf-8")
        sent = {"content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff",
                "cache-control": "private, no-store", "content-length": str(len(data)), **(headers or {})}
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in sent.items()]})
        await send({"type": "http.response.body", "body": b"" if head else data})


class ApiFirst:
    """ASGI middleware: every request under `/api/v1` goes to the JSON API, whatever its path holds. (A
    mounted route's pattern does not match a path with a newline in it, and the chat app would answer such a
    request with its own error instead of the API's problem details.)"""

    def __init__(self, app: Any, api: Any, prefix: str = API_PATH):
        self.app, self.api, self.prefix = app, api, prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope.get("type") in ("http", "websocket") and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.api({**scope, "root_path": scope.get("root_path", "") + self.prefix}, receive, send)
            return
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Workdir:
    """This process's own temporary folder: Gradio's file cache (uploads, served files)."""

    root: Path

    @property
    def files(self) -> Path:
        return self.root / "files"



def prepare(workdir: Path | None = None) -> Workdir:
    """Create the process's folders and point Gradio at them. Call before the page is built."""
    wd = Workdir(Path(workdir or tempfile.mkdtemp(prefix="oscar-app-")).resolve())
    wd.files.mkdir(parents=True, exist_ok=True)
    # Gradio reads these when its components and server are created: uploads and files it serves go
    # into a folder only this process writes to, and nothing is reported home.
    os.environ["GRADIO_TEMP_DIR"] = str(wd.files)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return wd


class ProgressPrinter:
    """Prints load progress as `loading: <stage> [####....] 40%`, one line per stage (a redrawn line on a tty)."""

    def __init__(self, out: IO[str] | None = None):
        self.out = out or sys.stderr
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self._last = ""
        self._stage = ""

    def __call__(self, stage: str, done: float) -> None:
        filled = int(max(0.0, min(1.0, done)) * 20)
        line = f"loading: [{'#' * filled}{'.' * (20 - filled)}] {done * 100:3.0f}% {stage}"
        if self.tty:
            self.out.write("\r" + line.ljust(len(self._last)))
            if done >= 1.0:
                self.out.write("\n")
        elif stage.split(" ")[0] != self._stage or done >= 1.0:
            self.out.write(line + "\n")
        self._last, self._stage = line, stage.split(" ")[0]
        self.out.flush()


def load(paths: Paths, out: IO[str] | None = None) -> Any:
    """The live knowledge base, loaded once with progress shown. Raises KnowledgeError on broken files."""
    from kb.advisor.advise import LiveKnowledgeBase

    return LiveKnowledgeBase(paths, progress=ProgressPrinter(out))


def launch(page: Any, workdir: Workdir, paths: Paths | None = None, host: str = DEFAULT_HOST,
           port: int = DEFAULT_PORT, auth: list[tuple[str, str]] | SignIn | None = None, concurrency: int = 2,
           block: bool = True, quiet: bool = True, css: str | None = None, api: Any | None = None) -> tuple[Any, str]:
    """Launch the Gradio app `page` (gr.Blocks), with the JSON API `api` (a FastAPI app) under `/api/v1` on
    the same server. Returns (server app, local URL); blocks unless `block=False`."""
    blocked = [str(p) for p in (paths.root, paths.cache) if p is not None] if paths is not None else []
    sign_in = auth if isinstance(auth, SignIn) or auth is None else SignIn(auth)
    middleware = [Middleware(SignedInOnly)] + ([Middleware(ApiFirst, api=api)] if api is not None else [])
    find = getattr(page, "record", None)
    if find is not None:
        middleware.append(Middleware(Records, find=find))
    # Gradio summarises its last 10,000 events (a pandas DataFrame, grouped by function) after every event,
    # for the monitoring page this server turns off: once the server has answered for a while, that summary
    # cost more than the event itself (22% of the server's busy time in a profile). It is made at most once
    # every so many events here; the queue reads this when `queue()` makes it.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(ANALYTICS_EVERY))
    page.queue(default_concurrency_limit=max(1, concurrency), max_size=256)
    app, url, _ = page.launch(
        server_name=host,
        server_port=port,
        share=False,
        auth=sign_in,
        auth_message="OSCAR: sign in" if auth else None,
        allowed_paths=[],
        blocked_paths=blocked,
        max_file_size=f"{MAX_BYTES // 1_000_000}mb",  # an SBOM of 5,000 components is about 5 MB
        show_error=False,
        quiet=quiet,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        run_history=False,
        enable_monitoring=False,
        footer_links=[],
        prevent_thread_lock=not block,
        strict_cors=True,
        css=css,
        app_kwargs={"middleware": middleware},
    )
    return app, url


def serve(paths: Paths, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          auth: list[tuple[str, str]] | None = None, concurrency: int = 2, out: IO[str] | None = None,
          store: str | None = None) -> int:
    """`kb serve`: load, build, launch (the chat and the JSON API), and block until interrupted."""
    from app.store import open_store
    from kb.model.problems import KnowledgeError

    stream = out or sys.stderr
    started = time.perf_counter()
    try:
        conversations = open_store(store)
    except ValueError as exc:
        print(f"kb serve: {exc}", file=stream)
        return 1
    workdir = prepare()
    try:
        live = load(paths, stream)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=stream)
        print("kb serve: the knowledge base has problems; fix them and start again.", file=stream)
        shutil.rmtree(workdir.root, ignore_errors=True)
        return 1
    from app.api import build_api
    from app.chat import build
    from app.service import RELOAD_LIMIT, ChatService
    from kb.render.chat import CSS

    service = ChatService(live, uploads=workdir.files)
    page = build(service, store=conversations)
    sign_in = SignIn(auth) if auth else None
    api = build_api(service, conversations, sign_in, concurrency)
    # What is loaded now (the knowledge base, the models, the page: about 390,000 objects) lives as long as
    # the server; a full collection still walked all of it, stopping every session for 130-260 ms (gen 2,
    # measured under 20 sessions at once) and more as conversations pile up. Frozen, it is left out.
    gc.collect()
    gc.freeze()
    try:
        _, url = launch(page, workdir, paths, host, port, sign_in, concurrency, block=False, css=CSS, api=api)
    except OSError as exc:
        print(f"kb serve: cannot listen on {host}:{port}: {exc}. Is another server using it? Try --port.",
              file=stream)
        live.current.close()
        conversations.close()
        shutil.rmtree(workdir.root, ignore_errors=True)
        return 1

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a plain `kill` stops the server as Ctrl+C does, tidying up

    def reload_on_hangup(signum: int, frame: object) -> None:
        # `kill -HUP`: reload in the background, as the Reload button does; the outcome goes to the log stream
        def report() -> None:
            problems = service.reload(wait=RELOAD_LIMIT)
            if problems is None:
                print("kb serve: a reload is still running", file=stream, flush=True)
                return
            for problem in problems:
                print(problem, file=stream)
            print("kb serve: reload refused; still answering with the last good knowledge base" if problems
                  else "kb serve: reloaded", file=stream, flush=True)

        print("kb serve: reloading (SIGHUP)", file=stream, flush=True)
        threading.Thread(target=report, name="oscar-sighup", daemon=True).start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, reload_on_hangup)
    shown = url.replace("0.0.0.0", "127.0.0.1")
    loaded = getattr(live.current, "load_seconds", 0.0)
    try:
        print(f"OSCAR is ready at {shown} (knowledge base loaded in {loaded:.1f} s, started in "
              f"{time.perf_counter() - started:.1f} s"
              f"{', sign-in required' if auth else ''}); the JSON API is at {shown.rstrip('/')}{API_PATH} "
              f"(conversations kept {'in ' + store if store else 'in this process'}). Press Ctrl+C to stop.",
              file=stream, flush=True)
        page.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        page.close()
        live.current.close()
        conversations.close()
        shutil.rmtree(workdir.root, ignore_errors=True)  # this process's uploads go with it
    return 0
