"""`kb serve`: start the chat on 127.0.0.1:7860 (or `--host`/`--port`), optionally behind a sign-in.

This module only parses arguments and the sign-in settings; the app (`app.server`) does the rest. A
sign-in comes from $OSCAR_AUTH (`user:password`) or `--auth-file` (one `user:password` a line); there is
no default password, and without either the chat is open to whoever can reach the address.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kb.cli import options
from kb.model.problems import Problem, display_path

AUTH_ENV = "OSCAR_AUTH"


class AuthError(ValueError):
    """A sign-in setting that can't be used; the message says where and why."""


def parse_credentials(text: str, where: str) -> list[tuple[str, str]]:
    """`user:password` pairs, one a line; blank lines and `#` comments are skipped.

    AuthError names the line (`where:line`) of a pair that is missing its user or password.
    """
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise AuthError(str(Problem(where, number, "expected user:password (both non-empty)")))
        pairs.append((user.strip(), password))
    if not pairs:
        raise AuthError(str(Problem(where, 0, "no user:password pair")))
    return pairs


def credentials(auth_file: str | None, env: dict[str, str] | None = None) -> list[tuple[str, str]] | None:
    """The sign-in pairs from `--auth-file`, else from $OSCAR_AUTH, else None (no sign-in)."""
    environ = os.environ if env is None else env
    if auth_file:
        path = Path(auth_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthError(f"{display_path(path)}: cannot read: {exc.strerror or exc}") from None
        return parse_credentials(text, display_path(path))
    value = environ.get(AUTH_ENV)
    if value is None or not value.strip():
        return None
    return parse_credentials(value, f"${AUTH_ENV}")


def parser() -> argparse.ArgumentParser:
    p = options.parser("kb serve", "Start the OSCAR chat in a web browser.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--auth-file", help=f"file of user:password lines to require a sign-in (or set ${AUTH_ENV})")
    p.add_argument("--concurrency", type=int, default=2, help="answers computed at once (default 2)")
    p.add_argument("--store", metavar="URL",
                   help="where API conversations are kept: redis://host:6379/0 to share them between several "
                        "kb serve processes (default: in this process)")
    return p


def main(argv: list[str]) -> int:
    """Parse arguments and start the server; returns the exit code."""
    ns = parser().parse_args(argv)
    if not 0 < ns.port < 65536:
        print(f"kb serve: --port {ns.port} is not a port number (1-65535)", file=sys.stderr)
        return 2
    if ns.concurrency < 1:
        print("kb serve: --concurrency must be at least 1", file=sys.stderr)
        return 2
    try:
        auth = credentials(ns.auth_file)
    except AuthError as exc:
        print(f"kb serve: {exc}", file=sys.stderr)
        return 2
    from app.server import serve

    return serve(options.paths(ns), host=ns.host, port=ns.port, auth=auth,
                 concurrency=ns.concurrency, store=ns.store)
