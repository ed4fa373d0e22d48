"""`kb bench stack [--sizes 100,1000,5000] [--repeat 3]`: how long a generated CycloneDX SBOM takes to read and
to review, by number of components (the review must grow linearly: one rule run over the whole stack).

Each SBOM mixes the licences real stacks carry (permissive, weak and strong copyleft, AGPL, an OR expression)
with a fixed seed. Prints JSON: per size, the median and p95 of reading and of reviewing, the findings, and
the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from kb.benchmarks import quantile

LICENCES = ["MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0-only", "LGPL-2.1-only", "MPL-2.0", "ISC",
            "AGPL-3.0-only", "MIT OR Apache-2.0", "BSD-2-Clause", "GPL-2.0-only"]


def sbom(n: int, seed: int = 1) -> str:
    """A CycloneDX 1.6 SBOM of `n` library components with seeded licences."""
    rng = random.Random(seed)
    components = [{"type": "library", "name": f"component-{i}", "version": f"1.{i % 17}.0",
                   "purl": f"pkg:pypi/component-{i}@1.{i % 17}.0",
                   "licenses": [{"expression": rng.choice(LICENCES)}]} for i in range(n)]
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components})


def main(argv: list[str]) -> int:
    from kb.cli import options

    parser = options.parser("kb bench stack", __doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,5000", help="component counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size")
    parser.add_argument("--use", default="distributed", choices=["distributed", "network", "internal"])
    ns = parser.parse_args(argv)
    from kb.advisor.advise import KnowledgeBase
    from kb.stack.intake import read_stack
    from kb.stack.review import review

    kb = KnowledgeBase.load(options.paths(ns))
    before = os.getloadavg()
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in (int(x) for x in ns.sizes.split(",") if x.strip()):
                path = Path(tmp) / f"sbom-{n}.cdx.json"
                path.write_text(sbom(n), encoding="utf-8")
                reads, reviews, findings = [], [], 0
                for _ in range(max(1, ns.repeat)):
                    started = time.perf_counter()
                    stack = read_stack(path)
                    read_at = time.perf_counter()
                    result = review(kb, stack, ns.use)
                    done = time.perf_counter()
                    reads.append(read_at - started)
                    reviews.append(done - read_at)
                    findings = sum(len(r.findings) for r in result.components)
                results.append({
                    "components": n, "findings": findings,
                    "read_s": {"median": round(statistics.median(reads), 3), "p95": round(quantile(reads, 0.95), 3)},
                    "review_s": {"median": round(statistics.median(reviews), 3),
                                 "p95": round(quantile(reviews, 0.95), 3)},
                    "review_ms_per_component": round(1000 * statistics.median(reviews) / n, 3),
                })
    finally:
        kb.close()
    print(json.dumps({"benchmark": "stack", "use": ns.use, "repeat": ns.repeat, "sizes": results,
                      "load_average_before_after": [round(before[0], 2), round(os.getloadavg()[0], 2)]}, indent=2))
    return 0
