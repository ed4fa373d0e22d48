"""`kb`: one command line, each subcommand thin; the work is done in the package's modules."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# subcommand -> (module, function, one-line help). Each function takes the remaining argv and returns
# an exit code; modules are imported only when their subcommand runs, so `kb check` never loads torch.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("kb.cli.checks", "main", "validate ontology, rules and corpus; print path:line: message"),
    "vocab": ("kb.cli.vocab", "main", "print the vocabulary rules may use"),
    "licenses": ("kb.graph.licenses", "main", "regenerate ontology/licenses.ttl from the SPDX and ScanCode data"),
    "ask": ("kb.cli.ask", "main", "answer a question with cited conclusions (--json for the justification)"),
    "stack": ("kb.stack.review", "main", "review a stack (CycloneDX/SPDX SBOM, requirements.txt, package.json): "
                                         "each component's licence duties for how it is used"),
    "export": ("kb.cli.ask", "export_main", "write a decision record: Markdown, JSON, HTML or PROV-O"),
    "schema": ("kb.cli.schemas", "main", "print a JSON Schema: the justification document, or an analysts' file kind"),
    "serve": ("app.serve", "main", "start the chat in a web browser on 127.0.0.1:7860 (--host, --port)"),
    "test": ("kb.rulebook.examples", "main", "run the examples written beside the rules; print a diff of failures"),
    "index": ("kb.retrieval.search", "index_main", "build or update the corpus passage index (--search to try it)"),
    "eval": ("kb.retrieval.evaluation", "main", "retrieval recall@1/@5 and MRR of BM25, dense and hybrid search"),
    "bench": ("kb.benchmarks", "main", "benchmarks: `kb bench rules --rules N`, `kb bench retrieval`"),
}


def main(argv: Sequence[str] | None = None) -> int:
    from kb.cli import options

    parser = options.Parser(prog="kb", description="OSCAR knowledge base and advisor.", parents=[options.shared()])
    parser.add_argument("command", choices=sorted(COMMANDS), help="; ".join(
        f"{name}: {spec[2]}" for name, spec in sorted(COMMANDS.items())))
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the subcommand's own arguments (-h)")
    ns = parser.parse_args(argv)
    options.trace(ns.trace)
    module, func, _ = COMMANDS[ns.command]
    run: Callable[[list[str]], int] = getattr(importlib.import_module(module), func)
    try:
        return run([*options.forwarded(ns), *ns.args])
    except BrokenPipeError:  # `kb schema | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
