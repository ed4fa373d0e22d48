"""The options every `kb` subcommand shares, declared once: `--root`, `--cache` and `--trace`.

`kb --root X ask ...` and `kb ask --root X ...` mean the same: the top-level command hands its shared
options to the subcommand, whose parser is built by `parser()` and so accepts them too.
"""

from __future__ import annotations

import argparse
import logging

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
    group.add_argument("--trace", action="store_true", help="log each pipeline stage to stderr")
    return common


def parser(prog: str, description: str | None = None, **kwargs: object) -> argparse.ArgumentParser:
    """A subcommand's parser, with the shared options already declared."""
    return argparse.ArgumentParser(prog=prog, description=description, parents=[shared()], **kwargs)  # type: ignore[arg-type]


def paths(ns: argparse.Namespace) -> Paths:
    """The knowledge base and cache folders the parsed options name; sets up --trace logging."""
    logging.basicConfig(level=logging.DEBUG if getattr(ns, "trace", False) else logging.WARNING,
                        format="%(name)s %(levelname)s: %(message)s")
    return Paths.default(getattr(ns, "root", None), getattr(ns, "cache", None))


def forwarded(ns: argparse.Namespace) -> list[str]:
    """The shared options given before the subcommand, as arguments for the subcommand's own parser."""
    out: list[str] = []
    if ns.root:
        out += ["--root", ns.root]
    if ns.cache:
        out += ["--cache", ns.cache]
    if ns.trace:
        out.append("--trace")
    return out
