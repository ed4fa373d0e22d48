"""`kb bench ontology`: the ontology's size and how long `kb check` and loading take on it, as JSON.

Times are wall-clock seconds of real `kb check --only ontology` runs in a subprocess, each on a copy of
the knowledge base's ontology folder: with an empty cache (cold), after a curated file changed (edited),
and with nothing changed (warm); and of `load_ontology` with a fresh and with a filled cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kb.cli import options
from kb.config import Paths


def _check(root: Path, cache: Path) -> float:
    env = {**os.environ, "OSCAR_CACHE": str(cache)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kb.cli", "check", "--only", "ontology", "--root", str(root)],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"kb check failed on {root}:\n{done.stdout}{done.stderr}")
    return elapsed


def size(paths: Paths) -> dict[str, Any]:
    """Triples per file and in the merged graph, entities per class, facts per kind."""
    from rdflib.namespace import RDF

    from kb.graph.ontology import Ontology, curie, read_all

    m = read_all(paths)
    classes = Counter(curie(o) for s, p, o in m.triples.all if p == RDF.type and curie(o).startswith("oscar:"))
    ontology = Ontology(m, paths)
    return {
        "triples_per_file": {f.display: len(f.triples) for f in m.files},
        "triples_asserted": sum(len(f.triples) for f in m.files if f.role != "shapes"),
        "triples_merged_with_closure": len(m.triples.all),
        "entities_per_class": dict(sorted(classes.items())),
        "facts_per_kind": {k: v for k, v in sorted(ontology.stats().items()) if k != "triples"},
    }


def timings(paths: Paths, runs: int) -> dict[str, Any]:
    """Median seconds of `kb check` (cold, edited, warm) and of `load_ontology` (fresh, cached)."""
    from kb.graph.ontology import load_ontology

    cold, edited, warm, load_fresh, load_cached = [], [], [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="oscar-bench-") as tmp:
            root, cache = Path(tmp) / "kb", Path(tmp) / "cache"
            shutil.copytree(paths.ontology, root / "ontology")
            if paths.corpus.is_dir():
                shutil.copytree(paths.corpus, root / "corpus")
            cold.append(_check(root, cache))
            curated = sorted(p for p in (root / "ontology").glob("*.ttl") if p.name == "criteria.ttl")
            target = curated[0] if curated else next((root / "ontology").glob("*.ttl"))
            target.write_text(target.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
            edited.append(_check(root, cache))
            warm.append(_check(root, cache))
            fresh_cache = Path(tmp) / "cache-load"
            started = time.perf_counter()
            load_ontology(Paths(root=root, cache=fresh_cache))
            load_fresh.append(time.perf_counter() - started)
            started = time.perf_counter()
            load_ontology(Paths(root=root, cache=fresh_cache))
            load_cached.append(time.perf_counter() - started)

    def med(xs: list[float]) -> float:
        return round(statistics.median(xs), 3)

    return {
        "runs": runs,
        "kb_check_cold_s": med(cold),
        "kb_check_after_edit_s": med(edited),
        "kb_check_warm_s": med(warm),
        "load_ontology_fresh_s": med(load_fresh),
        "load_ontology_cached_s": med(load_cached),
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str]) -> int:
    parser = options.parser("kb bench ontology", __doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="repetitions; the median is reported (default 3)")
    parser.add_argument("--size-only", action="store_true", help="report the size figures only")
    ns = parser.parse_args(argv)
    paths = options.paths(ns)
    out: dict[str, Any] = {"size": size(paths)}
    if not ns.size_only:
        out["timings"] = timings(paths, max(1, ns.runs))
    print(json.dumps(out, indent=2))
    return 0
