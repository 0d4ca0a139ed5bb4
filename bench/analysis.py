"""Process analysis benchmark (issue 6): structural analysis of the largest corpus model
against reading and parsing the same file alone, and 10,000 simulated cases of the order
process against a bare SimPy loop with the same work per case — all in the same run.

    .venv/bin/python -m bench.analysis [--quick]      # prints a Markdown table
    from bench.analysis import run; run(quick=True)   # -> dict (what ``python -m bench`` stores)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import simpy

from engine.analysis import analyse_bytes
from engine.analysis.simmodel import compile_model
from engine.analysis.simulate import Scenario, simulate
from engine.importer.safe_xml import parse_xml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
ORDER = ROOT / "bpmn" / "order_handling_as_is.bpmn"
SUFFIXES = (".bpmn", ".xml")


def largest_model(corpus: Path = CORPUS) -> Path | None:
    files = [p for p in corpus.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES)
             and not p.name.endswith(".xsd")] if corpus.is_dir() else []
    return max(files, key=lambda p: p.stat().st_size, default=None)


def _median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _events(env: simpy.Environment) -> int:
    """Events scheduled so far (SimPy numbers them; reading the counter is bench-only)."""
    counter = getattr(env, "_eid", None)
    return next(counter) if counter is not None else -1


def bare_simpy(cases: int, lanes: list[tuple[str, float]], rate: float, seed: int) -> int:
    """The floor: a hand-written SimPy model of a sequential process (one Resource per lane)."""
    env = simpy.Environment()
    rng = random.Random(seed)
    resources = {lane: simpy.Resource(env, 1) for lane, _ in lanes}

    def case() -> Any:
        for lane, hours in lanes:
            with resources[lane].request() as req:
                yield req
                yield env.timeout(rng.triangular(hours * 0.5, hours * 1.5, hours))

    def source() -> Any:
        for i in range(cases):
            if i:
                yield env.timeout(rng.expovariate(rate))
            env.process(case())

    env.process(source())
    env.run()
    return _events(env)


def run(quick: bool) -> dict[str, Any]:
    repeat = 3 if quick else 10
    cases = 1_000 if quick else 10_000
    result: dict[str, Any] = {"quick": quick}
    path = largest_model()
    if path is not None:
        data_size = path.stat().st_size
        parse_s = _median_time(lambda: parse_xml(path.read_bytes()), repeat)
        analyse_s = _median_time(lambda: analyse_bytes(path.read_bytes(), str(path)).figures(), repeat)
        figures = analyse_bytes(path.read_bytes(), str(path)).figures()
        result["analysis"] = {
            "model": str(path.relative_to(CORPUS)), "bytes": data_size, "repeat": repeat,
            "read_parse_ms": round(parse_s * 1000, 2), "analyse_ms": round(analyse_s * 1000, 2),
            "ratio": round(analyse_s / parse_s, 2) if parse_s else None,
            "tasks": figures["tasks"], "processes": len(figures["processes"])}
    analysis = analyse_bytes(ORDER.read_bytes(), str(ORDER))
    model = compile_model(analysis.processes[0])
    scenario = Scenario(cases=cases, replications=1, seed=1, rate_per_hour=0.05)
    start = time.perf_counter()
    sim = simulate(model, scenario)
    sim_s = time.perf_counter() - start
    lanes = [(n.lane or "", n.seconds / 3600) for n in analysis.processes[0].critical_steps()]
    start = time.perf_counter()
    floor_events = bare_simpy(cases, lanes, 0.05, 1)
    floor_s = time.perf_counter() - start
    result["simulation"] = {
        "model": ORDER.name, "cases": cases, "simulate_s": round(sim_s, 3),
        "bare_simpy_s": round(floor_s, 3), "ratio": round(sim_s / floor_s, 2) if floor_s else None,
        "events": _events(sim.runs[0].env), "bare_events": floor_events,
        "mean_cycle_hours": sim.to_json()["cycle_time_hours"]["mean"]}
    return result


def markdown(result: dict[str, Any]) -> str:
    rows = ["| benchmark | contiflow | baseline (same run) | ratio |", "| --- | ---: | ---: | ---: |"]
    a = result.get("analysis")
    if a:
        rows.append(f"| analyse `{a['model']}` ({a['bytes'] / 1024:,.0f} KiB, {a['tasks']} steps) | "
                    f"{a['analyse_ms']:,.1f} ms | read + parse {a['read_parse_ms']:,.1f} ms | {a['ratio']:.2f} |")
    else:
        rows.append("| analyse largest corpus model | – | corpus not found | – |")
    s = result["simulation"]
    rows.append(f"| simulate {s['cases']:,} cases of `{s['model']}` ({s['events']:,} events) | "
                f"{s['simulate_s'] * 1000:,.0f} ms | bare SimPy loop {s['bare_simpy_s'] * 1000:,.0f} ms "
                f"({s['bare_events']:,} events) | {s['ratio']:.2f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.analysis", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the result dict as JSON too")
    args = ap.parse_args(argv)
    result = run(args.quick)
    print(markdown(result))
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
