"""Chat load: cold start to ready, the first answer, and many sessions asking at once on loopback.

Starts `kb serve` on a free port (or uses `--url`), times how long it takes until the page is served,
times the first answer, then asks every question alone (the reference answers) and finally runs
`--sessions` browser-like sessions at once (each its own Gradio session, so its own conversation),
each asking `--rounds` questions (`p95_s` is the wait for the answer). Each session sends what the page's
script sends: opening the page fires its load events (before the timed part for a session's first question),
and an answer fires the events that rebuild the panels built with gr.render (the questions asked back, Why
not?'s changes to try, the facts' editors), which compete with the other sessions' answers for the server;
`p95_with_panels_s` waits for them too (`--ask-only` sends the questions alone, as this bench did until
2026-12-05). The page makes an answer's decision
records only when their links are followed; with `--download md` (or json, html, prov) each session also
downloads that record after every answer, timed into `p95_with_download_s`. Every
concurrent answer must equal the reference answer for the same question: the rendered answer message and
every panel beside it (sources, why, why not, the comparison, facts). The record id is not compared: it
hashes the whole document, which says when it was answered. Prints one JSON object; exits 1 on any mismatch or error.

    .venv/bin/python bench/chat_load.py                    # 20 sessions, 1 question each
    .venv/bin/python bench/chat_load.py --sessions 20 --rounds 3
    .venv/bin/python bench/chat_load.py --download prov    # and each downloads its record
    .venv/bin/python bench/chat_load.py --client gradio    # sessions through gradio_client instead
    .venv/bin/python bench/chat_load.py --ask-only         # the questions only, not the page's own events

Every figure includes the load generator's own work on the same cores (both CPU times are printed). The
sessions speak Gradio's queue protocol as a browser does (`queue/join`, then the server-sent events of
`queue/data`) over plain httpx, at about 6 ms of CPU an answer; gradio_client spends about as much CPU per
answer as the server does, so with it the figures measure the load generator about as much as the server
(people's browsers run on their own machines).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from gradio_client import Client

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "We're a 6-person health-tech team and need HIPAA. Should we self-host PyTorch and MLflow or buy a "
    "managed platform?",
    "We ship our product on-prem to customers. What do we owe if it includes GPL-3.0 code?",
    "Our model must answer in under 20 ms from our legacy serving stack. Build, buy or open source?",
    "We're a 6-person team and our model must answer in under 20 ms from our legacy serving stack. "
    "Build, buy or open source?",
    "Can we fine-tune Llama 2 for a commercial product, and what does its license require?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, concurrency: int, timeout: float) -> tuple[subprocess.Popen[bytes], float, Path]:
    """`kb serve` in a child process; returns it, the seconds until its page is served, and its log."""
    log = Path(tempfile.mkstemp(prefix="oscar-serve-", suffix=".log")[1])
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kb.cli", "serve", "--port", str(port), "--concurrency", str(concurrency)],
        cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    with httpx.Client(timeout=2) as http:
        while time.perf_counter() - started < timeout:
            if proc.poll() is not None:
                raise SystemExit(f"kb serve exited with {proc.returncode}; see {log}")
            try:
                if http.get(url + "config").status_code == 200:
                    return proc, time.perf_counter() - started, log
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"kb serve not ready after {timeout:.0f} s; see {log}")


def answer_key(outputs: Any) -> tuple[str, str]:
    """What must match between runs: the last answer message, and every panel the page shows beside it
    (sources, why, why not, the comparison, facts), hashed. The record panel is left out: its record id
    hashes the whole document, which carries the time it was answered, so it differs by the second (and its
    links name the conversation)."""
    chat = next(o for o in outputs if isinstance(o, list))  # the conversation: the first list among the outputs
    last = chat[-1]["content"]
    text = "".join(part.get("text", "") for part in last) if isinstance(last, list) else str(last)
    # outputs[:2] are the emptied question box and the conversation's key, which differs by session
    panels = [o for o in outputs[2:] if isinstance(o, str) and o and "oscar-digest" not in o]
    return text, hashlib.sha256("\x00".join(panels).encode("utf-8")).hexdigest()[:16]


class HttpSession:
    """One browser-like session spoken to over Gradio's queue protocol with plain httpx (`--client http`): a
    random session hash, `queue/join` to submit an event, `queue/data` (server-sent events) for its outcome.
    It costs the machine far less than gradio_client, which shares the same cores with the server here.

    With `page=True` (the default) it sends what the page's script sends, not only the question: opening the
    page fires the page's load events (the conversation taken up, the panels built with gr.render); after
    every event, each event listening to a change of a session state the server reports changed
    (`changed_state_ids`: the panels rebuilt for the new answer) is fired, as the browser's
    `dispatch_state_change_events` does."""

    _config: dict[str, Any] = {}

    def __init__(self, url: str, page: bool = False, http: httpx.Client | None = None):
        self.url = url
        self.page = page
        # a new tab of the same browser shares its connections: so do a worker's sessions, one after another
        # (making an httpx client makes an SSL context, about 10 ms of CPU on the cores the server shares)
        self.http = http or httpx.Client(timeout=120)
        self.session_hash = secrets.token_hex(8)
        if url not in HttpSession._config:
            HttpSession._config[url] = self.http.get(url + "config").json()
        config = HttpSession._config[self.url]
        self._components = {c["id"]: c for c in config["components"]}
        self._dependencies = config["dependencies"]

    def _fn(self, api_name: str) -> dict[str, Any]:
        for dep in self._dependencies:
            if dep.get("api_name") == api_name:
                return dep
        raise SystemExit(f"the page has no event named {api_name}")

    def _listening(self, target: int | None, event: str) -> list[dict[str, Any]]:
        """The events fired by `event` on component `target` (None: the page itself, as for `load`)."""
        return [d for d in self._dependencies
                if any((target is None or t[0] == target) and t[1] == event for t in d.get("targets", []))]

    def _data(self, dep: dict[str, Any], given: list[Any]) -> list[Any]:
        """An event's inputs as the page sends them: state inputs empty (the server holds them), the values
        given in order, then each remaining component's value as the page shows it."""
        values = iter(given)
        out = []
        for i in dep["inputs"]:
            component = self._components.get(i, {})
            if component.get("type") == "state":
                out.append(None)
            else:
                out.append(next(values, component.get("props", {}).get("value")))
        return out

    def _join(self, dep: dict[str, Any], given: list[Any], trigger: int | None = None) -> str:
        joined = self.http.post(self.url + "gradio_api/queue/join", json={
            "data": self._data(dep, given), "fn_index": dep["id"], "session_hash": self.session_hash,
            "event_data": None, "trigger_id": trigger})
        joined.raise_for_status()
        return str(joined.json()["event_id"])

    def _wait(self, events: dict[str, str]) -> dict[str, Any]:
        """Read the session's server-sent events until every event in `events` (id -> what it is) completed;
        fails on the first that failed. Returns their outputs by id."""
        done: dict[str, Any] = {}
        if events:
            with self.http.stream("GET", self.url + "gradio_api/queue/data",
                                  params={"session_hash": self.session_hash}) as stream:
                for line in stream.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    event_id = message.get("event_id")
                    if event_id in events and message.get("msg") == "process_completed":
                        if not message.get("success"):
                            raise RuntimeError(f"{events[event_id]} failed: {message.get('output')}")
                        done[event_id] = message["output"]
                    if message.get("msg") == "close_stream" or len(done) == len(events):
                        break
        if len(done) < len(events):  # the stream closes only once the session has no event pending
            raise RuntimeError(f"{', '.join(events.values())}: the event stream ended without an answer")
        return done

    def _follow(self, output: dict[str, Any]) -> dict[str, str]:
        """The events the page fires after an event's outcome: those listening to a changed state."""
        return {self._join(dep, [], trigger=state): f"change of {state}: {dep.get('api_name')}"
                for state in output.get("changed_state_ids") or [] for dep in self._listening(state, "change")}

    def open_page(self) -> None:
        """What a browser sends on opening the page (with `page`): every load event, then what they change."""
        if not self.page:
            return
        events = {self._join(dep, []): f"load: {dep.get('api_name')}" for dep in self._listening(None, "load")}
        done = self._wait(events)
        follow: dict[str, str] = {}
        for output in done.values():
            follow.update(self._follow(output))
        self._wait(follow)

    def submit(self, *args: Any, api_name: str) -> tuple[list[Any], float, float | None]:
        """The event's outputs, the seconds until it completed and (with `page`) until the events it set off
        (the panels rebuilt for the new answer) completed too."""
        started = time.perf_counter()
        dep = self._fn(api_name.lstrip("/"))
        event_id = self._join(dep, list(args))
        output = self._wait({event_id: api_name})[event_id]
        answered = time.perf_counter() - started
        if not self.page:
            return list(output["data"]), answered, None
        self._wait(self._follow(output))
        return list(output["data"]), answered, time.perf_counter() - started


CLIENT = "http"
"""`--client`: http (`HttpSession`, the default) or gradio (gradio_client)."""


PAGE = True
"""`--ask-only` clears it: the sessions send only their questions, not the page's own events."""


def client(url: str, http: httpx.Client | None = None) -> Any:
    """A new session, its page opened (the page's load events answered) when the page's events are sent; with
    `http`, over that client's connections."""
    if CLIENT == "http":
        session = HttpSession(url, page=PAGE, http=http)
        session.open_page()
        return session
    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


DOWNLOAD: str | None = None
"""`--download`: the record format each session downloads after each answer, or None."""
LINK = re.compile(r'href="(oscar/record/[^"]+)"')


def ask(c: Any, question: str, url: str, downloads: list[float] | None = None,
        panels: list[float] | None = None) -> tuple[float, tuple[str, str]]:
    """Ask as a browser does: the answer, the panels it sets off (timed into `panels`), then (with
    `--download`, timed into `downloads`) one of its records, by the link the page shows for it."""
    started = time.perf_counter()
    if isinstance(c, HttpSession):
        outputs, answered, rebuilt = c.submit(question, api_name="/ask")
        if panels is not None and rebuilt is not None:
            panels.append(rebuilt)
    else:
        outputs = c.predict(question, api_name="/ask")
        answered = time.perf_counter() - started
    if downloads is not None and DOWNLOAD:
        record = next(o for o in outputs if isinstance(o, str) and "oscar-digest" in o)
        links = [m for m in LINK.findall(record) if m.endswith("/" + DOWNLOAD)]
        if not links:
            raise RuntimeError(f"the answer to {question!r} offers no {DOWNLOAD} record")
        got = getattr(c, "http", httpx).get(url + links[0], timeout=120)  # the session's own connection, if any
        if got.status_code != 200 or not got.content:
            raise RuntimeError(f"downloading {links[0]}: HTTP {got.status_code}")
        downloads.append(time.perf_counter() - started)
    return answered, answer_key(outputs)


def cpu_seconds(pid: int | None) -> float | None:
    """User and system CPU seconds a process has used so far (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running chat to load instead of starting `kb serve`")
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--rounds", type=int, default=1, help="questions each session asks, one after another")
    p.add_argument("--concurrency", type=int, default=2, help="`kb serve --concurrency` for the started server")
    p.add_argument("--client", choices=["http", "gradio"], default="http",
                   help="what the sessions speak with: plain httpx over Gradio's queue protocol, as a browser does "
                        "(default), or gradio_client (about ten times the CPU, on the cores the server shares)")
    p.add_argument("--ask-only", action="store_true",
                   help="send only the questions (the figures before 2026-12-05), not the page's load events and "
                        "the panels each answer sets off")
    p.add_argument("--download", choices=["md", "json", "html", "prov"],
                   help="each session also downloads this record of every answer, by the page's link")
    p.add_argument("--server-pid", type=int, help="with --url: the server's process id, to report its CPU time")
    p.add_argument("--timeout", type=float, default=600, help="bound on the whole run, seconds")
    ns = p.parse_args(argv)
    global CLIENT, DOWNLOAD, PAGE
    CLIENT, DOWNLOAD, PAGE = ns.client, ns.download, not ns.ask_only
    deadline = time.perf_counter() + ns.timeout
    proc = None
    figures: dict[str, Any] = {"sessions": ns.sessions, "rounds": ns.rounds, "client": ns.client,
                               "page_events": PAGE and ns.client == "http", "download": ns.download}
    try:
        if ns.url:
            url = ns.url.rstrip("/") + "/"
        else:
            port = free_port()
            proc, ready, _ = start_server(port, ns.concurrency, ns.timeout)
            url = f"http://127.0.0.1:{port}/"
            figures.update(cold_start_to_ready_s=round(ready, 2), server_concurrency=ns.concurrency)
        first_seconds, _ = ask(client(url), QUESTIONS[0], url)
        figures["first_answer_s"] = round(first_seconds, 3)

        reference: dict[str, tuple[str, str]] = {}
        alone: list[float] = []
        for q in QUESTIONS:
            seconds, key = ask(client(url), q, url)
            reference[q] = key
            alone.append(seconds)
        figures["alone_p50_s"] = round(statistics.median(alone), 3)

        https = [httpx.Client(timeout=120) for _ in range(ns.sessions)]
        clients = [client(url, https[i]) for i in range(ns.sessions)]
        with_download: list[float] = []  # list.append is atomic: shared by the sessions' threads
        with_panels: list[float] = []

        def session(i: int) -> list[tuple[str, float, bool]]:
            out = []
            for r in range(ns.rounds):
                if time.perf_counter() > deadline:
                    raise TimeoutError("load run exceeded --timeout")
                q = QUESTIONS[(i + r) % len(QUESTIONS)]
                # a fresh conversation per question, so each answer must equal the question asked alone
                c = clients[i] if r == 0 else client(url, https[i])
                seconds, key = ask(c, q, url, with_download, with_panels)
                out.append((q, seconds, key == reference[q]))
            return out

        server_cpu = cpu_seconds(proc.pid if proc is not None else ns.server_pid)
        client_cpu = time.process_time()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=ns.sessions) as pool:
            results = [r for rs in pool.map(session, range(ns.sessions), timeout=ns.timeout) for r in rs]
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_after = cpu_seconds(proc.pid if proc is not None else ns.server_pid)
        times = [s for _, s, _ in results]
        mismatches = sum(1 for _, _, ok in results if not ok)
        figures.update(
            answers=len(results),
            mismatches=mismatches,
            p50_s=round(percentile(times, 0.50), 3),
            p95_s=round(percentile(times, 0.95), 3),
            max_s=round(max(times), 3),
            p95_with_panels_s=round(percentile(with_panels, 0.95), 3) if with_panels else None,
            p95_with_download_s=round(percentile(with_download, 0.95), 3) if with_download else None,
            wall_s=round(wall, 2),
            answers_per_s=round(len(results) / wall, 2),
            # CPU seconds spent during the concurrent part, per answer: by the server (when known) and by this
            # load generator, which shares the machine's cores with it
            server_cpu_ms_per_answer=(round((server_after - server_cpu) / len(results) * 1000, 1)
                                      if server_cpu is not None and server_after is not None else None),
            client_cpu_ms_per_answer=round(client_cpu / len(results) * 1000, 1),
            load_average=[round(x, 2) for x in os.getloadavg()],
            cpus=os.cpu_count(),
        )
        print(json.dumps(figures, indent=2))
        return 1 if mismatches else 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
