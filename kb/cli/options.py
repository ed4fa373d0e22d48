"""The options every `kb` subcommand shares, declared once: `--root`, `--cache` and `--trace`.

`kb --root X ask ...` and `kb ask --root X ...` mean the same: the top-level command hands its shared
options to the subcommand, whose parser is built by `parser()` and so accepts them too.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from kb.config import Paths


def shared() -> argparse.ArgumentParser:
    """A parent parser holding the shared options (no help of its own)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("knowledge base")
    group.add_argument("--root", help="knowledge base folder holding rules/, ontology/, corpus/, reader/ "
                                      "(default: $OSCAR_ROOT, else the current folder if it is one, "
                                      "else the shipped one)")
    group.add_argument("--cache", help="folder for the index and caches (default: $OSCAR_CACHE, "
                                       "else ~/.cache/oscar)")
    group.add_argument("--trace", action="store_const", const="oscar",
                       help="log each of OSCAR's stages to stderr (--trace=all: every library's debug lines too)")
    group.add_argument("--trace-all", dest="trace", action="store_const", const="all", help=argparse.SUPPRESS)
    return common


class Parser(argparse.ArgumentParser):
    """A parser that reads `--trace=all` (argparse would take a flag's `=value` as an error, and an optional
    value as the subcommand that follows it)."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        given = sys.argv[1:] if args is None else list(args)
        return super().parse_known_args(["--trace-all" if a == "--trace=all" else a for a in given], namespace)


def parser(prog: str, description: str | None = None, **kwargs: object) -> argparse.ArgumentParser:
    """A subcommand's parser, with the shared options already declared."""
    return Parser(prog=prog, description=description, parents=[shared()], **kwargs)  # type: ignore[arg-type]


def paths(ns: argparse.Namespace) -> Paths:
    """The knowledge base and cache folders the parsed options name; sets up --trace logging. A `--cache`
    is the whole process's cache, as $OSCAR_CACHE would be: the YAML files' verdicts (kb/yamlfile.py) go
    there too, never to ~/.cache/oscar."""
    trace(getattr(ns, "trace", None))
    cache = getattr(ns, "cache", None)
    if cache:
        os.environ["OSCAR_CACHE"] = str(Path(cache).resolve())
    return Paths.default(getattr(ns, "root", None), cache)


def trace(level: str | None) -> None:
    """Logging for `--trace`: OSCAR's own stages (the `kb` loggers) at debug level, other libraries' only
    warnings; `--trace=all` lets every library's debug lines through; no --trace, warnings only."""
    logging.basicConfig(format="%(name)s %(levelname)s: %(message)s")
    logging.getLogger().setLevel(logging.DEBUG if level == "all" else logging.WARNING)
    logging.getLogger("kb").setLevel(logging.DEBUG if level else logging.NOTSET)


def forwarded(ns: argparse.Namespace) -> list[str]:
    """The shared options given before the subcommand, as arguments for the subcommand's own parser."""
    out: list[str] = []
    if ns.root:
        out += ["--root", ns.root]
    if ns.cache:
        out += ["--cache", ns.cache]
    if ns.trace:
        out.append("--trace=all" if ns.trace == "all" else "--trace")
    return out
