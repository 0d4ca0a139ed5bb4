"""Peer comparison: contiflow against bpmn-engine (npm, Node.js) on the same model, same run.

The model is a generated chain of 10 plain ``bpmn:userTask``s (``bench/models/generated/
chain_10.bpmn``, the same generator as the growth benchmark): no scripts, conditions, forms or
vendor extensions, so both engines execute exactly the same thing — start, 10 waits each
completed with the same small dict, end.  (The bundled order processes carry Camunda forms and
JUEL/FEEL gateway conditions, which bpmn-engine evaluates with its own expression language:
the runs would not be the same process.)

bpmn-engine runs in ``bench/peer/run.js`` (one Node process per mode, timing inside Node, after
at least 20 untimed warm-up instances so that V8 has compiled the hot paths):

- ``memory`` — the instance lives in memory from start to end, nothing is saved;
- ``saved`` — as memory, plus ``engine.getState()`` → ``JSON.stringify`` → ``writeFileSync``
  after the start and every step (the engine object stays in memory; the file is never read);
- ``reload`` — a stateless command per step, the way a persisted engine works: read the file,
  ``recover`` a new Engine, ``resume``, signal, ``getState``, write.

contiflow runs the same number of instances and steps through its public API (``Engine.start``,
``Engine.complete``, ``Engine.tasks``, as the throughput benchmark): on a SQLite file (WAL,
``synchronous=NORMAL`` — like ``writeFileSync`` without fsync, a commit is not flushed to disk)
and on in-memory SQLite (the same work, no file).  Raw SpiffWorkflow in memory (the library
contiflow drives) is the in-memory counterpart of bpmn-engine ``memory``.

Pairs compared (ratio = contiflow-side inst/s ÷ bpmn-engine inst/s):
``contiflow SQLite file ÷ bpmn-engine reload`` (the fairest: both persist and reload per
command), ``contiflow SQLite file ÷ bpmn-engine saved``, ``contiflow in-memory SQLite ÷
bpmn-engine memory``, ``raw SpiffWorkflow ÷ bpmn-engine memory`` (library against library).

Node modules are installed with ``npm ci --prefix bench/peer`` when ``bench/peer/node_modules``
is missing — only when this benchmark runs.  Without ``node``/``npm`` the suite is skipped.

    .venv/bin/python -m bench.peer [--quick] [--instances N] [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.modelgen import BENCH_DIR, STEP_DATA, chain_model
from bench.stats import ratio

PEER_DIR = BENCH_DIR / "peer"
Log = Callable[[str], None]
FULL_INSTANCES, QUICK_INSTANCES, STEPS, WARMUP = 100, 20, 10, 5
JS_WARMUP = 20   # untimed; V8 needs them: with 2 warm-up instances bpmn-engine measured a third as fast
JS_MODES = ("memory", "saved", "reload")
PAIRS = (  # (contiflow-side variant, bpmn-engine mode, what it compares)
    ("contiflow_sqlite_file", "reload", "both persist and reload the state per command (fairest)"),
    ("contiflow_sqlite_file", "saved", "both persist per step; bpmn-engine never reloads"),
    ("contiflow_sqlite_memory", "memory", "no file; contiflow still serialises, projects and audits"),
    ("spiff_memory", "memory", "the two libraries, in memory, nothing saved"),
)
LABELS = {
    "contiflow_sqlite_file": "contiflow, SQLite file",
    "contiflow_sqlite_memory": "contiflow, in-memory SQLite",
    "spiff_memory": "raw SpiffWorkflow, in memory",
    "bpmn_engine_memory": "bpmn-engine, in memory",
    "bpmn_engine_saved": "bpmn-engine, getState() to a file per step",
    "bpmn_engine_reload": "bpmn-engine, reload + resume + save per step",
}


def _stderr_log(message: str) -> None:
    print(f"[bench.peer {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def node_available() -> str | None:
    """Why the peer cannot run (None when node and npm are on PATH)."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not found on PATH" if missing else None


def ensure_node_modules(log: Log) -> None:
    """``npm ci --prefix bench/peer`` when node_modules is missing (only when the bench runs)."""
    marker = PEER_DIR / "node_modules" / "bpmn-engine" / "package.json"
    if marker.exists():
        return
    log("peer: installing bench/peer/node_modules with `npm ci` (package-lock.json)")
    done = subprocess.run(["npm", "ci", "--prefix", str(PEER_DIR), "--no-audit", "--no-fund"],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not marker.exists():
        raise RuntimeError(f"npm ci failed: {done.stderr.strip()[-800:]}")


def run_js(model: Path, mode: str, instances: int, warmup: int, state_dir: str) -> dict[str, Any]:
    cmd = ["node", str(PEER_DIR / "run.js"), "--model", str(model), "--instances", str(instances),
           "--warmup", str(warmup), "--mode", mode, "--state-dir", os.path.join(state_dir, mode)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=PEER_DIR)
    if done.returncode != 0:
        raise RuntimeError(f"bpmn-engine ({mode}) failed: {done.stderr.strip()[-800:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_python(model: Any, instances: int, warmup: int, folder: str) -> dict[str, dict[str, Any]]:
    from bench.contiflow_driver import ContiflowDriver, import_model, open_engine
    from bench.drivers import MemoryDriver, parse_spec
    from bench.harness import throughput

    runs: dict[str, dict[str, Any]] = {}
    spec, subs = parse_spec(model)
    runs["spiff_memory"] = throughput(MemoryDriver(spec, subs, STEP_DATA), instances, warmup)
    for name, url in (("contiflow_sqlite_file", f"sqlite:///{os.path.join(folder, 'peer.db')}"),
                      ("contiflow_sqlite_memory", "sqlite:///:memory:")):
        engine = open_engine(url)
        try:
            driver = ContiflowDriver(engine, import_model(engine, model), STEP_DATA, "sqlite")
            runs[name] = throughput(driver, instances, warmup)
        finally:
            engine.close()
    return runs


def run_peer(instances: int, log: Log = _stderr_log, steps: int = STEPS, warmup: int = WARMUP,
             js_warmup: int = JS_WARMUP) -> dict[str, Any]:
    """Every variant on the same chain; returns JSON-ready figures (``skipped`` says why if not run)."""
    model = chain_model(steps)
    result: dict[str, Any] = {"model": str(model.path.relative_to(BENCH_DIR.parent)), "steps": steps,
                              "instances": instances, "warmup": warmup,
                              "warmup_bpmn_engine": max(warmup, js_warmup), "step_data": STEP_DATA,
                              "runs": {}, "pairs": []}
    why = node_available()
    if why:
        result["skipped"] = why
        log(f"peer: skipped ({why})")
        return result
    ensure_node_modules(log)
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="contiflow-bench-peer-") as folder:
        for mode in JS_MODES:
            log(f"peer: bpmn-engine {mode}, {instances} instances of a {steps}-task chain")
            result["runs"][f"bpmn_engine_{mode}"] = run_js(model.path, mode, instances,
                                                           max(warmup, js_warmup), folder)
        log(f"peer: raw SpiffWorkflow and contiflow (SQLite file, in-memory SQLite), {instances} instances")
        result["runs"].update(run_python(model, instances, warmup, folder))
    js = result["runs"]["bpmn_engine_memory"]
    result["bpmn_engine"] = js.get("version")
    result["node"] = node_version
    for ours, mode, about in PAIRS:
        mine, theirs = result["runs"][ours], result["runs"][f"bpmn_engine_{mode}"]
        result["pairs"].append({"contiflow_side": ours, "bpmn_engine": mode, "about": about,
                                "ratio": ratio(mine["instances_per_s"], theirs["instances_per_s"])})
    result["total_s"] = time.perf_counter() - t0
    return result


def markdown(result: dict[str, Any]) -> str:
    from bench.report import table
    if result.get("skipped"):
        return f"Peer comparison skipped: {result['skipped']}."
    rows = []
    for name in ("bpmn_engine_memory", "bpmn_engine_saved", "bpmn_engine_reload", "spiff_memory",
                 "contiflow_sqlite_memory", "contiflow_sqlite_file"):
        r = result["runs"][name]
        rows.append([LABELS[name], f"{r['instances_per_s']:,.1f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}"])
    pairs = [[LABELS[p["contiflow_side"]], LABELS[f"bpmn_engine_{p['bpmn_engine']}"], f"{p['ratio']:.2f}",
              p["about"]] for p in result["pairs"]]
    return "\n".join([
        f"{result['instances']} instances of a chain of {result['steps']} user tasks "
        f"(`{result['model']}`), bpmn-engine {result.get('bpmn_engine')} on Node {result.get('node')}:", "",
        table(["variant", "inst/s", "step p50 ms", "step p99 ms"], rows, True),
        "", table(["contiflow side", "bpmn-engine", "ratio (inst/s)", "what the pair compares"], pairs, True,
                  right={2})])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_INSTANCES} instances")
    ap.add_argument("--instances", type=int, help=f"instances per variant (default {FULL_INSTANCES})")
    ap.add_argument("--steps", type=int, default=STEPS, help=f"user tasks in the chain (default {STEPS})")
    args = ap.parse_args(argv)
    n = args.instances or (QUICK_INSTANCES if args.quick else FULL_INSTANCES)
    print(markdown(run_peer(n, steps=args.steps, warmup=2 if args.quick else WARMUP)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
