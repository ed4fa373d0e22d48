"""`kb bench rules --rules N`: compile N synthetic rules written in the real rule format and time consultations.

Prints JSON: compile time, partitions, and consultation latency (p50/p95/max, ms) on the partitioned
engine; alongside, the same consultations on one unpartitioned durable_rules ruleset, run in a child
process with a timeout. The unpartitioned run is skipped (reported as not survivable) when an alpha node
would get 500 or more children: durable_rules 2.0.28 loops forever at the 513th.

The synthetic rules mix the shapes the seed rules use: rules about one named entity (most of them, as a
large rule base is mostly about particular offerings, licenses and certifications), joins from a mention to
its offering and license, negation over certifications, and rules on the asker's numbers.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from kb.cli import options
from kb.model.facts import Fact, Scalar, Source

OFFERINGS = 400
CONSULTATIONS = 200
FAMILIES = ("permissive", "weak_copyleft", "strong_copyleft", "network_copyleft")
CERTS = ("certification:soc2_type2", "certification:iso27001", "certification:hipaa_baa", "certification:pci_dss")


def synthetic_rules(n: int, seed: int = 7) -> str:
    """N rules in the rule-file format (one YAML document), deterministic for a seed."""
    rng = random.Random(seed)
    lines = ["topic: synthetic", "rules:"]
    for i in range(n):
        shape = rng.random()
        off = f"offering:s{rng.randrange(OFFERINGS)}"
        lines.append(f"  - id: syn.r{i}")
        lines.append(f"    title: synthetic rule {i}")
        lines.append("    when:")
        if shape < 0.6:
            lines += ["      - fact: offering", "        as: o", f"        where: {{id: \"{off}\"}}",
                      "      - fact: asker", f"        where: {{team_size: {{lt: {rng.randrange(2, 60)}}}}}"]
        elif shape < 0.8:
            fam = rng.choice(FAMILIES)
            lines += ["      - fact: mention", "        as: m", f"        where: {{entity: \"{off}\"}}",
                      "      - fact: offering", "        as: o", "        where: {id: $m.entity}",
                      "      - fact: license", "        as: l", f"        where: {{id: $o.license, family: {fam}}}"]
        elif shape < 0.95:
            cert = rng.choice(CERTS)
            lines += ["      - fact: requirement", "        as: r", f"        where: {{certification: \"{cert}\"}}",
                      "      - fact: offering", "        as: o", f"        where: {{id: \"{off}\"}}",
                      "      - none:", "          fact: holds",
                      "          where: {offering: $o.id, certification: $r.certification}"]
        else:
            lines += ["      - fact: asker", f"        where: {{budget_usd: {{lt: {rng.randrange(10, 500) * 1000}}}, "
                      f"latency_ms: {{lt: {rng.randrange(5, 200)}}}}}"]
        option = rng.choice(("open_source", "commercial", "build_in_house", "open_core", "hybrid"))
        lines += ["    then:", "      - kind: recommendation", f"        option: {option}",
                  f"        strength: {rng.randrange(1, 10) / 10}", f"        statement: synthetic conclusion {i}",
                  "    evidence: {query: synthetic}"]
    return "\n".join(lines) + "\n"


def consultations(count: int = CONSULTATIONS, seed: int = 11) -> list[list[Fact]]:
    """A fixed set of consultations: an asker, a few mentioned offerings with licenses, requirements."""
    rng = random.Random(seed)
    src = Source(kind="profile")
    out = []
    for _ in range(count):
        asker: dict[str, Scalar] = {"team_size": rng.randrange(1, 80), "budget_usd": rng.randrange(5, 900) * 1000,
                 "latency_ms": float(rng.randrange(5, 300))}
        facts = [Fact.make("asker", "asker", asker, src)]
        for k in rng.sample(range(OFFERINGS), 4):
            oid, lid = f"offering:s{k}", f"license:L{k}"
            facts.append(Fact.make(f"mention:{oid}", "mention", {"entity": oid, "entity_kind": "offering"}, src))
            facts.append(Fact.make(oid, "offering", {"name": f"S{k}", "license": lid}, src))
            facts.append(Fact.make(lid, "license", {"name": f"L{k}", "family": FAMILIES[k % 4]}, src))
        for cert in rng.sample(CERTS, 2):
            facts.append(Fact.make(f"requirement:{cert}", "requirement", {"certification": cert}, src))
        out.append(facts)
    return out


def _measure(path: str, single: bool, count: int) -> dict[str, Any]:
    from kb.engine.durable import DurableEngine, compile_rulebook
    from kb.engine.rulebase import RuleBase
    from kb.rulebook.rules import load_rules

    started = time.perf_counter()
    book = load_rules([path])
    parsed = time.perf_counter()
    partitions = compile_rulebook(book, single=single)
    base = RuleBase(book, DurableEngine(partitions))
    compiled = time.perf_counter()
    cases = consultations(count)
    base.consult(cases[0])  # warm-up
    times = []
    cpu = []
    fired = 0
    ran = 0
    for facts in cases:
        t0, c0 = time.perf_counter(), time.thread_time()
        result = base.consult(facts)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        fired += len(result.activations)
        ran += result.stats.engine_rules
    times.sort()
    cpu.sort()
    base.close()
    return {
        "load_s": round(parsed - started, 3),
        "compile_s": round(compiled - parsed, 3),
        "partitions": len(partitions),
        "consultations": len(times),
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "max_ms": round(times[-1], 3),
        # CPU time of the consulting thread: the same figures without time spent waiting for a core
        "cpu_p50_ms": round(statistics.median(cpu), 3),
        "cpu_p95_ms": round(cpu[int(0.95 * (len(cpu) - 1))], 3),
        "mean_rules_in_run_partitions": round(ran / len(times), 1),
        "mean_activations": round(fired / len(times), 1),
    }


def _child(path: str, count: int, queue: Any) -> None:
    try:
        queue.put(_measure(path, True, count))
    except Exception as exc:  # noqa: BLE001 - reported as the baseline's outcome
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def unpartitioned(path: str, count: int, timeout: float) -> dict[str, Any]:
    """The same consultations on one ruleset holding every rule, in a child process with a timeout."""
    from kb.engine.durable import compile_rulebook, max_fanout
    from kb.rulebook.rules import load_rules

    (single,) = compile_rulebook(load_rules([path]), single=True)
    fanout = max_fanout(single.definition)
    if fanout >= 500:
        return {"survives": False, "max_alpha_children": fanout,
                "reason": "an alpha node would get 500+ children; durable_rules loops forever past 512"}
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(path, count, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return {"survives": False, "max_alpha_children": fanout, "reason": f"no result within {timeout:.0f} s"}
    if queue.empty():
        return {"survives": False, "max_alpha_children": fanout, "reason": f"child exited with {proc.exitcode}"}
    result: dict[str, Any] = queue.get()
    return {"survives": "error" not in result, "max_alpha_children": fanout, **result}


def chain_rules(n: int) -> str:
    """A rule file whose rules derive one fact from the last, n steps deep (rule i: `k{i-1}` -> `k{i}`)."""
    out = ["topic: a derivation chain", "derives:"]
    for i in range(1, n + 1):
        out += [f"  k{i}:", f"    doc: step {i}", "    fields:", "      n: {type: int, doc: the step}"]
    out.append("rules:")
    for i in range(1, n + 1):
        cond = "      - fact: asker\n        where: {team_size: {ge: 1}}" if i == 1 else f"      - fact: k{i - 1}"
        out += [f"  - id: chain.s{i}", f"    title: step {i}", "    when:", cond, "    then:", f"      - derive: k{i}",
                f"        fields: {{n: {i}}}"]
    out += ["  - id: chain.end", "    title: the last step", "    when:", f"      - fact: k{n}", "    then:",
            "      - kind: note", "        statement: the chain reached its end", "    evidence: {query: chain}"]
    return "\n".join(out) + "\n"


def negation_chain_rules(n: int) -> str:
    """A rule file of n rules written in reverse order, rule i deriving `k{i}` when no `k{i+1}` exists: each
    `none` puts its rule one stratum after the rule it waits for, n strata in all. From the last rule back,
    every other step is derived (k{n}, k{n-2}, ...): (n + 1) // 2 facts, `k1` among them when n is odd."""
    out = ["topic: a chain of negations", "derives:"]
    for i in range(1, n + 1):
        out += [f"  k{i}:", f"    doc: step {i}", "    fields:", "      n: {type: int, doc: the step}"]
    out.append("rules:")
    for i in range(n, 0, -1):
        cond = ["      - fact: asker", "        where: {team_size: {ge: 1}}"]
        if i < n:
            cond.append(f"      - none: {{fact: k{i + 1}}}")
        out += [f"  - id: neg.s{i}", f"    title: step {i}", "    when:", *cond, "    then:", f"      - derive: k{i}",
                f"        fields: {{n: {i}}}"]
    out += ["  - id: neg.end", "    title: the chain's end", "    when:", "      - fact: k1", "    then:",
            "      - kind: note", "        statement: the first step holds", "    evidence: {query: chain}"]
    return "\n".join(out) + "\n"


def chain(n: int, rounds: int = 5, negation: bool = False) -> dict[str, Any]:
    """Load and consult a derivation chain n steps deep (`negation`: the reverse-ordered chain of `none`
    conditions, n strata): seconds to load, consultation p50/max in ms."""
    from kb.engine.rulebase import RuleBase

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.yaml"
        path.write_text(negation_chain_rules(n) if negation else chain_rules(n), encoding="utf-8")
        started = time.perf_counter()
        base = RuleBase.load([path])
        load_s = time.perf_counter() - started
        try:
            asker = [Fact.make("asker", "asker", {"team_size": 3}, Source(kind="user"))]
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                result = base.consult(asker)
                times.append((time.perf_counter() - started) * 1000)
            assert len(result.derived) == (n + 1) // 2 if negation else n
        finally:
            base.close()
    return {"chain": n, "negation": negation, "load_s": round(load_s, 3),
            "consult_ms_p50": round(statistics.median(times), 1),
            "consult_ms_max": round(max(times), 1), "load_average": round(os.getloadavg()[0], 2)}


def main(argv: list[str]) -> int:
    parser = options.parser("kb bench rules", __doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rules", type=int, default=1000, help="number of synthetic rules (default 1000)")
    parser.add_argument("--consultations", type=int, default=CONSULTATIONS, help="consultations to time")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for the unpartitioned run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unpartitioned run")
    parser.add_argument("--chain", type=int, metavar="N", help="instead: a derivation chain N steps deep")
    parser.add_argument("--negation-chain", type=int, metavar="N",
                        help="instead: N rules in reverse order, each waiting for the absence of the next (N strata)")
    ns = parser.parse_args(argv)
    if ns.chain or ns.negation_chain:
        print(json.dumps(chain(ns.chain or ns.negation_chain, negation=bool(ns.negation_chain)), indent=2))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "synthetic.yaml")
        Path(path).write_text(synthetic_rules(ns.rules), encoding="utf-8")
        report: dict[str, Any] = {"rules": ns.rules, "load_average": round(os.getloadavg()[0], 2),
                                  "cores": os.cpu_count(),
                                  "partitioned": _measure(path, False, ns.consultations)}
        if not ns.no_baseline:
            report["unpartitioned"] = unpartitioned(path, ns.consultations, ns.timeout)
    print(json.dumps(report, indent=2))
    return 0
