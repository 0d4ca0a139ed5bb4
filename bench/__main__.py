"""``python -m bench``: every benchmark in one run, each figure against a baseline measured in
the same run, and one combined report.

Suites (``--only NAME[,NAME]`` picks; default: all, in this order):

  engine    throughput vs a persisted SpiffWorkflow floor; per-step growth 50→800 tasks vs Spiff
  timers    lateness of 10,000 pending timers vs APScheduler alone; catch-up of 1,000 overdue
  workers   ``contiflow worker --once``: 2 processes vs 1 on PostgreSQL
  inbox     inbox API / page latency vs a static file (``bench/inbox.py``)
  analysis  largest corpus model vs reading + parsing it; 10,000 simulated cases vs bare SimPy
  peer      contiflow vs bpmn-engine (npm) on the same model

Progress goes to stderr; stdout gets each suite's tables, then the combined table (plain, then
Markdown for the README); JSON goes to ``bench/results/latest.json`` (a run with ``--only`` goes
to ``bench/results/<names>.json``; or ``--out``).  A suite that fails is reported as failed and
the others still run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import report, summary
from bench.backends import redact, resolve_postgres
from bench.engine_suite import FULL, QUICK, Settings, run_engine
from bench.modelgen import BENCH_DIR
from bench.timers import FULL_TIMERS, QUICK_TIMERS, TimerSettings, run_timers
from bench.timers import render as render_timers

RESULTS_DIR = BENCH_DIR / "results"
SUITES = ("engine", "timers", "workers", "inbox", "analysis", "peer")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small counts: every suite in a few minutes")
    ap.add_argument("--only", metavar="NAME[,NAME]", help=f"run only these suites ({', '.join(SUITES)})")
    ap.add_argument("--postgres", metavar="URL",
                    help="PostgreSQL URL (default: $CONTIFLOW_BENCH_PG_URL or "
                         "postgresql://root@127.0.0.1:5432/test, used when reachable)")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only (workers then run on SQLite)")
    ap.add_argument("--out", metavar="FILE", type=Path, help="JSON results (default: bench/results/latest.json)")
    ap.add_argument("--instances", type=int, help="engine: instances per throughput run")
    ap.add_argument("--timer-instances", type=int, metavar="N", help="timers: pending timers in the lateness run")
    ap.add_argument("--worker-instances", type=int, metavar="N", help="workers: instances with due timers")
    ap.add_argument("--peer-instances", type=int, metavar="N", help="peer: instances per variant")
    ap.add_argument("--timers", action="store_true", help="same as --only timers")
    ap.add_argument("--report", metavar="FILE", type=Path,
                    help="print the tables of an earlier run's JSON again (no measuring)")
    ap.add_argument("--profile", action="store_true",
                    help="only profile contiflow (c) on the runbook model with cProfile")
    args = ap.parse_args(argv)
    names = [n.strip() for n in (args.only or "").split(",") if n.strip()]
    if args.timers:
        names.append("timers")
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        ap.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    args.suites = [s for s in SUITES if s in names] if names else list(SUITES)
    return args


def git_commit() -> str | None:
    """HEAD of the working tree, with ``+dirty`` when tracked files under engine/ or web/ differ."""
    import subprocess
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=BENCH_DIR, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "engine", "web"],
                               capture_output=True, text=True, cwd=BENCH_DIR.parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


def meta(pg_version: str | None, pg_url: str | None) -> dict[str, Any]:
    from importlib.metadata import version
    return {"commit": git_commit(), "python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_at_start": list(os.getloadavg()),
            "spiffworkflow": version("SpiffWorkflow"), "sqlalchemy": version("SQLAlchemy"),
            "apscheduler": version("APScheduler"),
            "sqlite": sqlite3.sqlite_version, "postgresql": pg_version,
            "postgresql_url": redact(pg_url) if pg_url else None,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def engine_settings(args: argparse.Namespace) -> Settings:
    settings = QUICK if args.quick else FULL
    if args.instances:
        settings = dataclasses.replace(settings, instances=args.instances, profile_instances=args.instances)
    return settings


def timer_settings(args: argparse.Namespace) -> TimerSettings:
    settings = QUICK_TIMERS if args.quick else FULL_TIMERS
    if args.timer_instances:
        settings = dataclasses.replace(settings, lateness={k: args.timer_instances for k in settings.lateness})
    return settings


def suite_runners(args: argparse.Namespace, pg_url: str | None,
                  pg_version: str | None) -> dict[str, Callable[[], dict[str, Any]]]:
    def engine() -> dict[str, Any]:
        return run_engine(engine_settings(args), pg_url, pg_version, log)

    def timers() -> dict[str, Any]:
        return run_timers(timer_settings(args), pg_url, pg_version, log)

    def workers() -> dict[str, Any]:
        from bench.workers import FULL_INSTANCES, FULL_REPEAT, QUICK_INSTANCES, QUICK_REPEAT, run_workers
        n = args.worker_instances or (QUICK_INSTANCES if args.quick else FULL_INSTANCES)
        return run_workers(n, pg_url, pg_version, log, repeat=QUICK_REPEAT if args.quick else FULL_REPEAT)

    def inbox() -> dict[str, Any]:
        from bench.inbox import run
        log("inbox: building the data set and measuring (bench/inbox.py)")
        return dict(run(args.quick, pg_url if pg_version else None))

    def analysis() -> dict[str, Any]:
        from bench.analysis import run
        log("analysis: largest corpus model and simulation")
        return run(args.quick)

    def peer() -> dict[str, Any]:
        from bench.peer import FULL_INSTANCES, QUICK_INSTANCES, WARMUP, run_peer
        n = args.peer_instances or (QUICK_INSTANCES if args.quick else FULL_INSTANCES)
        return run_peer(n, log, warmup=5 if args.quick else WARMUP)

    return {"engine": engine, "timers": timers, "workers": workers, "inbox": inbox, "analysis": analysis,
            "peer": peer}


def note(results: dict[str, Any]) -> str:
    m = results["meta"]
    return (f"commit {m.get('commit') or '?'}, SpiffWorkflow {m['spiffworkflow']}, "
            f"APScheduler {m['apscheduler']}, Python {m['python']}, "
            f"{m['cpus']} CPUs (load average {m['loadavg_at_start'][0]:.1f} at the start), "
            f"SQLite {m['sqlite']}, PostgreSQL {m.get('postgresql') or 'skipped'}"
            f"{' — QUICK run, small counts' if results['quick'] else ''}")


def suite_text(name: str, data: dict[str, Any], results: dict[str, Any], markdown: bool) -> str:
    if name == "engine":
        return report.render({"meta": results["meta"], **data}, markdown)
    if name == "timers":
        return render_timers(data, markdown, note="")
    if name == "workers":
        from bench.workers import markdown as workers_md
        return "Workers — " + workers_md(data)
    if name == "inbox":
        from bench.inbox import markdown as inbox_md
        return "Inbox — " + inbox_md(data)
    if name == "analysis":
        from bench.analysis import markdown as analysis_md
        return "Analysis — " + analysis_md(data)
    from bench.peer import markdown as peer_md
    return "Peer — " + peer_md(data)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        from bench.profiling import profile_runbook, render
        settings = engine_settings(args)
        log(f"profiling contiflow on the runbook model, {settings.profile_instances} instances")
        print(render(profile_runbook(settings.profile_instances, RESULTS_DIR)))
        log(f"wrote {RESULTS_DIR / 'profile_runbook.prof'} and profile_runbook.txt")
        return 0

    if args.report:
        results = json.loads(args.report.read_text())
        results["summary"] = summary.build(results["suites"], results["errors"])
        print_report(results)
        return 0
    pg_url, pg_version, why = resolve_postgres(args.postgres, args.no_postgres)
    log(f"PostgreSQL: {why}; suites: {', '.join(args.suites)}{' (quick)' if args.quick else ''}")
    results: dict[str, Any] = {"meta": meta(pg_version, pg_url), "quick": args.quick, "suites": {},
                               "errors": {}, "seconds": {}}
    runners = suite_runners(args, pg_url, pg_version)
    t_all = time.perf_counter()
    for name in args.suites:
        log(f"== suite {name}")
        t0 = time.perf_counter()
        try:
            results["suites"][name] = runners[name]()
        except Exception:  # noqa: BLE001 - one failing suite must not lose the others' figures
            results["errors"][name] = traceback.format_exc()
            log(f"suite {name} FAILED:\n{results['errors'][name]}")
        results["seconds"][name] = round(time.perf_counter() - t0, 1)
        log(f"== suite {name}: {results['seconds'][name]:.0f} s")
    results["meta"]["total_s"] = round(time.perf_counter() - t_all, 1)
    results["meta"]["loadavg_at_end"] = list(os.getloadavg())
    results["summary"] = summary.build(results["suites"], results["errors"])

    default = "latest.json" if args.suites == list(SUITES) else "-".join(args.suites) + ".json"
    out = args.out or RESULTS_DIR / default
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"done in {results['meta']['total_s']:.0f} s; wrote {out}")

    print_report(results)
    return 1 if results["errors"] else 0


def print_report(results: dict[str, Any]) -> None:
    for name, data in results["suites"].items():
        print(suite_text(name, data, results, markdown=False))
        print()
    print("Summary — " + note(results) + "; ratio = measured ÷ baseline")
    print(summary.render(results["summary"], markdown=False))
    print()
    print("Markdown (for the README):")
    print()
    print(f"**Benchmarks** ({note(results)}; total {results['meta']['total_s'] / 60:.1f} min; "
          "ratio = measured ÷ baseline, both from this run)")
    print()
    print(summary.render(results["summary"], markdown=True))
    for name, data in results["suites"].items():
        print()
        print(suite_text(name, data, results, markdown=True))


if __name__ == "__main__":
    raise SystemExit(main())
