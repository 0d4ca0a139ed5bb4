"""``python -m bench``: throughput and growth of contiflow against raw SpiffWorkflow, and timer
lateness / catch-up (``--timers`` runs only that section).

Progress goes to stderr; the results table and a Markdown version go to stdout; the JSON
results go to ``bench/results/latest.json`` (``timers.json`` with ``--timers``; or ``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report
from bench.backends import Backend, postgres_backend, redact, resolve_postgres, sqlite_backend
from bench.drivers import Driver, FloorDriver, MemoryDriver, PostgresStateStore, SqliteStateStore, parse_spec
from bench.harness import growth, throughput
from bench.modelgen import BENCH_DIR, THROUGHPUT_MODELS, Model, chain_model
from bench.stats import ratio
from bench.timers import FULL_TIMERS, QUICK_TIMERS, TimerSettings, run_timers
from bench.timers import render as render_timers

RESULTS_DIR = BENCH_DIR / "results"


@dataclass(frozen=True)
class Settings:
    quick: bool
    instances: int
    warmup: int
    sizes: tuple[int, ...]
    growth_steps: int
    profile_instances: int


FULL = Settings(False, instances=200, warmup=5, sizes=(50, 200, 800), growth_steps=30, profile_instances=150)
QUICK = Settings(True, instances=12, warmup=2, sizes=(50, 200, 800), growth_steps=4, profile_instances=20)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small counts (smoke test, < 1 minute)")
    ap.add_argument("--postgres", metavar="URL",
                    help="PostgreSQL URL (default: $CONTIFLOW_BENCH_PG_URL or "
                         "postgresql://root@127.0.0.1:5432/test, used when reachable)")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    ap.add_argument("--out", metavar="FILE", type=Path,
                    help="JSON results (default: bench/results/latest.json; bench/results/timers.json "
                         "with --timers)")
    ap.add_argument("--instances", type=int, help="instances per throughput run (overrides the default)")
    ap.add_argument("--profile", action="store_true",
                    help="only profile contiflow (c) on the runbook model with cProfile")
    ap.add_argument("--timers", action="store_true",
                    help="only the timer section: lateness with many pending timers, catch-up after a restart")
    ap.add_argument("--timer-instances", type=int, metavar="N",
                    help="pending timers in the lateness run, on every backend (overrides the default)")
    return ap.parse_args(argv)


def meta(pg_version: str | None, pg_url: str | None) -> dict[str, Any]:
    from importlib.metadata import version
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "spiffworkflow": version("SpiffWorkflow"), "sqlalchemy": version("SQLAlchemy"),
            "apscheduler": version("APScheduler"),
            "sqlite": sqlite3.sqlite_version, "postgresql": pg_version,
            "postgresql_url": redact(pg_url) if pg_url else None,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def floor_store(backend: Backend) -> SqliteStateStore | PostgresStateStore:
    if backend.name == "sqlite":
        return SqliteStateStore(backend.floor_target)
    return PostgresStateStore(backend.floor_target)


def raw_drivers(model: Model, stores: dict[str, Any]) -> list[Driver]:
    spec, subs = parse_spec(model)
    floors: list[Driver] = [FloorDriver(spec, subs, model.step_data, store) for store in stores.values()]
    return [MemoryDriver(spec, subs, model.step_data), *floors]


def run_raw(settings: Settings, backends: list[Backend], results: dict[str, Any]) -> None:
    """(a) and (b) for every model — before contiflow is imported, so its SpiffWorkflow
    patches (clock bridge, iterator depth) cannot touch the raw figures."""
    stores = {b.name: floor_store(b) for b in backends}
    try:
        for entry in results["throughput"]:
            model: Model = entry["_model"]
            for driver in raw_drivers(model, stores):
                log(f"throughput {model.short}: {driver.name}")
                entry["runs"][driver.name] = throughput(driver, settings.instances, settings.warmup)
        for size in settings.sizes:
            model = chain_model(size)
            for driver in raw_drivers(model, stores):
                log(f"growth {size}: {driver.name}")
                run = growth(driver, settings.growth_steps, size)
                if isinstance(driver, FloorDriver):
                    run["state_kb"] = driver.state_bytes / 1024
                results["growth"]["runs"].setdefault(driver.name, {})[str(size)] = run
    finally:
        for store in stores.values():
            store.close()


def run_contiflow(settings: Settings, backend: Backend, results: dict[str, Any]) -> None:
    from bench.contiflow_driver import ContiflowDriver, import_model, open_engine
    engine = open_engine(backend.database_url)
    try:
        for entry in results["throughput"]:
            model = entry["_model"]
            driver = ContiflowDriver(engine, import_model(engine, model), model.step_data, backend.name)
            log(f"throughput {model.short}: {driver.name}")
            entry["runs"][driver.name] = throughput(driver, settings.instances, settings.warmup)
        for size in settings.sizes:
            model = chain_model(size)
            t0 = time.perf_counter()
            key = import_model(engine, model)
            import_s = time.perf_counter() - t0
            driver = ContiflowDriver(engine, key, model.step_data, backend.name)
            log(f"growth {size}: {driver.name}")
            run = growth(driver, settings.growth_steps, size)
            run["import_s"] = import_s
            results["growth"]["runs"].setdefault(driver.name, {})[str(size)] = run
    finally:
        engine.close()


def derive(results: dict[str, Any]) -> None:
    for entry in results["throughput"]:
        ips = {name: run["instances_per_s"] for name, run in entry["runs"].items()}
        entry["ratios"] = {k: v for k, v in {
            "b_sqlite_over_a": ratio(ips.get("b_floor_sqlite"), ips.get("a_spiff_memory")),
            "b_postgresql_over_a": ratio(ips.get("b_floor_postgresql"), ips.get("a_spiff_memory")),
            "c_sqlite_over_b_sqlite": ratio(ips.get("c_contiflow_sqlite"), ips.get("b_floor_sqlite")),
            "c_postgresql_over_b_postgresql": ratio(ips.get("c_contiflow_postgresql"),
                                                    ips.get("b_floor_postgresql")),
            "c_postgresql_over_b_sqlite": ratio(ips.get("c_contiflow_postgresql"), ips.get("b_floor_sqlite")),
            "c_sqlite_over_a": ratio(ips.get("c_contiflow_sqlite"), ips.get("a_spiff_memory")),
        }.items() if v is not None}
    g = results["growth"]
    first, last = str(g["sizes"][0]), str(g["sizes"][-1])
    g["growth_factor"] = {name: ratio(per.get(last, {}).get("p50_ms"), per.get(first, {}).get("p50_ms"))
                          for name, per in g["runs"].items()}
    g["added_ms"] = {name: per[last]["p50_ms"] - per[first]["p50_ms"]
                     for name, per in g["runs"].items() if first in per and last in per}


def timer_settings(args: argparse.Namespace) -> TimerSettings:
    settings = QUICK_TIMERS if args.quick else FULL_TIMERS
    if args.timer_instances:
        settings = dataclasses.replace(settings, lateness={k: args.timer_instances for k in settings.lateness})
    return settings


def timers_note(results: dict[str, Any]) -> str:
    m = results["meta"]
    return (f"SpiffWorkflow {m['spiffworkflow']}, APScheduler {m.get('apscheduler')}, Python {m['python']}, "
            f"{m['cpus']} CPUs, SQLite {m['sqlite']}, PostgreSQL {m.get('postgresql') or 'skipped'}"
            f"{' — QUICK run, small counts' if results['timers']['settings']['quick'] else ''}")


def main_timers(args: argparse.Namespace, pg_url: str | None, pg_version: str | None) -> int:
    """``--timers``: only the timer section."""
    results: dict[str, Any] = {"meta": meta(pg_version, pg_url)}
    t0 = time.perf_counter()
    results["timers"] = run_timers(timer_settings(args), pg_url, pg_version, log)
    results["meta"]["total_s"] = time.perf_counter() - t0
    out = args.out or RESULTS_DIR / "timers.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"done in {results['meta']['total_s']:.0f} s; wrote {out}")
    print(render_timers(results["timers"], markdown=False, note=timers_note(results)))
    print()
    print("Markdown (for the README):")
    print()
    print(render_timers(results["timers"], markdown=True, note=timers_note(results)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.instances:
        settings = Settings(settings.quick, args.instances, settings.warmup, settings.sizes,
                            settings.growth_steps, args.instances)
    if args.profile:
        from bench.profiling import profile_runbook, render
        log(f"profiling contiflow on the runbook model, {settings.profile_instances} instances")
        profile = profile_runbook(settings.profile_instances, RESULTS_DIR)
        print(render(profile))
        log(f"wrote {RESULTS_DIR / 'profile_runbook.prof'} and profile_runbook.txt")
        return 0

    pg_url, pg_version, why = resolve_postgres(args.postgres, args.no_postgres)
    log(f"PostgreSQL: {why}")
    if args.timers:
        return main_timers(args, pg_url, pg_version)
    results: dict[str, Any] = {
        "meta": meta(pg_version, pg_url),
        "settings": {"quick": settings.quick, "instances": settings.instances, "warmup": settings.warmup,
                     "growth_sizes": list(settings.sizes), "growth_steps": settings.growth_steps,
                     "step_data": {m.short: m.step_data for m in THROUGHPUT_MODELS}},
        "throughput": [{"model": str(m.path.relative_to(BENCH_DIR.parent)), "short": m.short,
                        "about": m.about, "runs": {}, "_model": m} for m in THROUGHPUT_MODELS],
        "growth": {"sizes": list(settings.sizes), "runs": {}},
    }
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        backends = [stack.enter_context(sqlite_backend())]
        if pg_url and pg_version:
            backends.append(stack.enter_context(postgres_backend(pg_url, pg_version)))
        run_raw(settings, backends, results)
        for backend in backends:
            run_contiflow(settings, backend, results)
    results["timers"] = run_timers(timer_settings(args), pg_url, pg_version, log)
    for entry in results["throughput"]:
        entry.pop("_model")
    results["meta"]["total_s"] = time.perf_counter() - t0
    derive(results)

    out = args.out or RESULTS_DIR / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"done in {results['meta']['total_s']:.0f} s; wrote {out}")
    print(report.render(results, markdown=False))
    print()
    print(render_timers(results["timers"], markdown=False, note=timers_note(results)))
    print()
    print("Markdown (for the README):")
    print()
    print(report.render(results, markdown=True))
    print()
    print(render_timers(results["timers"], markdown=True, note=timers_note(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
