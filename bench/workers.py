"""Worker scaling: instances advanced per second by ``contiflow worker --once`` run as 1 process
and as 2 processes at once, on PostgreSQL, in the same run.

A template database is built once through the ``Engine``: N instances of
``bench/models/timer_wait.bpmn`` (start → timer ``delay`` = ``PT1S`` → end), so that every
instance waits on a timer that is already due when the workers start.  Each run then gets an
exact copy of the template (PostgreSQL: a fresh private schema whose tables contiflow creates,
filled with ``INSERT … SELECT`` from the template and its sequences moved on; SQLite: a copy of
the file) and spawns K real processes of ``contiflow worker --once --json`` with
``CONTIFLOW_DATABASE_URL`` pointing at the copy, all at once, and waits for them to exit.

Measured per run: the wall time from spawning to the last exit (includes each process's
start-up: imports, engine, spec load), and the firing span — first to last ``timer_fired``
audit event's ``wall_at`` — which is what more processes can shorten.  Checked per run: every
instance has exactly one ``timer_fired`` event and is completed, no timer is left, every
process exited 0; the per-process ``instances_run`` counts show how the work was split.

The ratio 2 ÷ 1 cannot reach 2 on a 2-core machine that also runs the database server (and, on
a shared machine, other work); on SQLite (``--no-postgres``) writers are serialised by the
database lock, so expect about 1 or less there.

    .venv/bin/python -m bench.workers [--quick] [--instances N] [--no-postgres] [--postgres URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.backends import postgres_backend, redact, resolve_postgres
from bench.stats import ratio
from bench.timers import TIMER_MODEL, _fired_events, _pending_timers, _status_counts

Log = Callable[[str], None]
FULL_INSTANCES, QUICK_INSTANCES = 2_000, 300
FULL_REPEAT, QUICK_REPEAT = 2, 1      # runs per process count (ABBA order: 1, 2, 2, 1)
DELAY = "PT1S"


def _stderr_log(message: str) -> None:
    print(f"[bench.workers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def worker_command() -> list[str]:
    """``contiflow worker --once --json`` from this virtualenv (the console script if installed)."""
    script = Path(sys.executable).with_name("contiflow")
    if script.exists():
        return [str(script), "worker", "--once", "--json"]
    return [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())",
            "worker", "--once", "--json"]


# -- databases: a template and exact copies of it ------------------------------------------

def _schema_of(url: str) -> str:
    match = re.search(r"search_path%3D([A-Za-z0-9_]+)", url)
    if not match:
        raise ValueError(f"no private schema in {redact(url)}")
    return match.group(1)


def _create_tables(url: str) -> None:
    from bench.contiflow_driver import open_engine
    open_engine(url).close()          # opening the engine creates contiflow's tables


def _copy_postgres(template_url: str, target_url: str, base_url: str) -> None:
    import psycopg

    from engine.store.models import Base
    _create_tables(target_url)
    src, dst = _schema_of(template_url), _schema_of(target_url)
    with psycopg.connect(base_url) as conn:
        for table in Base.metadata.sorted_tables:           # parents before children (foreign keys)
            cols = ", ".join(f'"{c.name}"' for c in table.columns)
            conn.execute(f'INSERT INTO "{dst}"."{table.name}" ({cols}) SELECT {cols} FROM "{src}"."{table.name}"')
            for col in table.primary_key.columns:
                if col.autoincrement is True or (col.autoincrement == "auto" and col.type.python_type is int):
                    seq = conn.execute("SELECT pg_get_serial_sequence(%s, %s)",
                                       (f'"{dst}"."{table.name}"', col.name)).fetchone()
                    if seq and seq[0]:
                        conn.execute(f'SELECT setval(%s, COALESCE((SELECT MAX("{col.name}") FROM '
                                     f'"{dst}"."{table.name}"), 0) + 1, false)', (seq[0],))
        conn.execute("ANALYZE")


@contextlib.contextmanager
def _databases(pg_url: str | None, pg_version: str | None) -> Iterator[tuple[str, str, Callable[[], Any]]]:
    """(backend name, template URL, fresh_copy) where ``fresh_copy()`` is a context manager
    yielding the URL of a new exact copy of the template."""
    if pg_url and pg_version:
        with postgres_backend(pg_url, pg_version) as template:
            @contextlib.contextmanager
            def fresh_pg() -> Iterator[str]:
                with postgres_backend(pg_url, pg_version) as copy:
                    _copy_postgres(template.database_url, copy.database_url, pg_url)
                    yield copy.database_url
            yield "postgresql", template.database_url, fresh_pg
        return
    folder = tempfile.mkdtemp(prefix="contiflow-bench-workers-")
    path = os.path.join(folder, "template.db")
    counter = iter(range(1_000_000))
    try:
        @contextlib.contextmanager
        def fresh_sqlite() -> Iterator[str]:
            with contextlib.closing(sqlite3.connect(path)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            copy = os.path.join(folder, f"run{next(counter)}.db")
            shutil.copyfile(path, copy)
            yield f"sqlite:///{copy}"
        yield "sqlite", f"sqlite:///{path}", fresh_sqlite
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _build_template(url: str, n: int, log: Log) -> dict[str, Any]:
    from bench.contiflow_driver import import_model, open_engine
    engine = open_engine(url)
    try:
        key = import_model(engine, TIMER_MODEL)
        t0 = time.perf_counter()
        for i in range(n):
            engine.start(key, {"delay": DELAY}, actor="bench")
            if i and i % 1000 == 0:
                log(f"  {i:,} created ({i / (time.perf_counter() - t0):.0f}/s)")
        create_s = time.perf_counter() - t0
        pending = _pending_timers(engine)
        if pending != n:
            raise RuntimeError(f"expected {n} pending timers in the template, found {pending}")
    finally:
        engine.close()
    time.sleep(1.2)            # the last timer is due 1 s after its instance started
    return {"instances": n, "create_s": create_s, "create_per_s": n / create_s}


# -- one run -----------------------------------------------------------------------------

def run_processes(url: str, k: int, n: int, timeout_s: float = 900.0) -> dict[str, Any]:
    """Spawn ``k`` workers at once on ``url`` (which holds ``n`` instances with due timers);
    measure and check."""
    from bench.contiflow_driver import open_engine
    env = {name: value for name, value in os.environ.items() if not name.startswith("CONTIFLOW_")}
    env["CONTIFLOW_DATABASE_URL"] = url
    cmd = worker_command()
    spawned_at = datetime.now(UTC)
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(k)]
    exits: dict[int, float] = {}
    outputs: dict[int, tuple[str, str]] = {}
    try:
        while len(exits) < k:
            for i, proc in enumerate(procs):
                if i not in exits and proc.poll() is not None:
                    exits[i] = time.perf_counter() - t0
            if time.perf_counter() - t0 > timeout_s:
                raise RuntimeError(f"{k} worker(s) still running after {timeout_s:.0f} s")
            time.sleep(0.005)
    finally:
        for i, proc in enumerate(procs):
            if proc.poll() is None:
                proc.kill()
            outputs[i] = proc.communicate()
    wall_s = max(exits.values())

    runs: list[int | None] = []
    for i, proc in enumerate(procs):
        out, err = outputs[i]
        try:
            runs.append(int(json.loads(out)["instances_run"]) if proc.returncode == 0 else None)
        except (ValueError, KeyError, TypeError):
            runs.append(None)
        if proc.returncode != 0:
            _stderr_log(f"worker {i} exited {proc.returncode}: {err.strip()[-500:]}")

    engine = open_engine(url)
    try:
        events = _fired_events(engine)
        statuses = _status_counts(engine)
        pending = _pending_timers(engine)
    finally:
        engine.close()
    per_instance = Counter(iid for iid, _, _ in events)
    walls = sorted(wall for _, wall, _ in events)
    span_s = (walls[-1] - walls[0]).total_seconds() if len(walls) > 1 else None
    exactly_once = (len(per_instance) == n and all(c == 1 for c in per_instance.values())
                    and statuses.get("completed", 0) == n and pending == 0
                    and all(p.returncode == 0 for p in procs))
    return {
        "processes": k, "instances": n, "wall_s": wall_s, "exit_s": [round(exits[i], 3) for i in range(k)],
        "per_s_wall": n / wall_s,
        "first_fire_after_s": (walls[0] - spawned_at).total_seconds() if walls else None,
        "firing_span_s": span_s, "per_s_firing": (len(walls) - 1) / span_s if span_s else None,
        "instances_run": runs, "instances_run_total": sum(r or 0 for r in runs),
        "timer_fired_events": len(events), "instances_with_events": len(per_instance),
        "fired_more_than_once": sum(1 for c in per_instance.values() if c > 1),
        "statuses": statuses, "timers_left": pending,
        "exit_codes": [p.returncode for p in procs], "exactly_once": exactly_once,
    }


def _order(processes: tuple[int, ...], repeat: int) -> list[int]:
    """Run order: ABBA… (1, 2, 2, 1, 1, 2 …) so that a load that drifts during the suite
    weighs on both process counts alike."""
    order: list[int] = []
    for r in range(repeat):
        order.extend(processes if r % 2 == 0 else tuple(reversed(processes)))
    return order


def _aggregate(k: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(key: str) -> float | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        return sum(values) / len(values) if values else None
    return {"processes": k, "instances": runs[0]["instances"], "repeats": len(runs),
            "per_s_firing": mean("per_s_firing"), "per_s_wall": mean("per_s_wall"),
            "exactly_once": all(r["exactly_once"] for r in runs), "runs": runs}


def run_workers(instances: int, pg_url: str | None, pg_version: str | None, log: Log = _stderr_log,
                processes: tuple[int, ...] = (1, 2), repeat: int = 1) -> dict[str, Any]:
    """Build the template once, then one run per process count, ``repeat`` times in ABBA order,
    each on its own fresh copy; per process count the mean rate of its runs."""
    t_all = time.perf_counter()
    done: dict[int, list[dict[str, Any]]] = {k: [] for k in processes}
    sequence = []
    with _databases(pg_url, pg_version) as (backend, template_url, fresh_copy):
        log(f"workers {backend}: building the template, {instances:,} instances with due timers")
        template = _build_template(template_url, instances, log)
        log(f"  template built in {template['create_s']:.1f} s ({template['create_per_s']:.0f}/s)")
        for k in _order(processes, repeat):
            with fresh_copy() as url:
                log(f"workers {backend}: {k} process(es) of `contiflow worker --once` on a copy")
                run = run_processes(url, k, instances)
                run["order"] = len(sequence) + 1
                done[k].append(run)
                sequence.append(run)
                log(f"  {k}: wall {run['wall_s']:.1f} s ({run['per_s_wall']:.0f}/s), firing "
                    f"{run['per_s_firing'] or 0:.0f}/s, split {run['instances_run']}, "
                    f"exactly once: {run['exactly_once']}")
    runs = {str(k): _aggregate(k, done[k]) for k in processes}
    one, two = runs.get("1"), runs.get("2")
    command = worker_command()
    result: dict[str, Any] = {
        "backend": backend, "postgresql": pg_version, "model": str(TIMER_MODEL.path.relative_to(
            TIMER_MODEL.path.parents[2])), "delay": DELAY, "instances": instances, "cpus": os.cpu_count(),
        "command": " ".join([Path(command[0]).name, *command[1:]]), "repeat": repeat,
        "template": template, "runs": runs, "total_s": time.perf_counter() - t_all,
    }
    if one and two:
        result["ratio_firing"] = ratio(two["per_s_firing"], one["per_s_firing"])
        result["ratio_wall"] = ratio(two["per_s_wall"], one["per_s_wall"])
        result["all_exactly_once"] = one["exactly_once"] and two["exactly_once"]
    return result


def markdown(result: dict[str, Any]) -> str:
    from bench.report import table
    headers = ["run", "processes", "instances", "wall s", "inst/s (wall)", "firing span s", "inst/s (firing)",
               "split (instances_run)", "exactly once"]
    runs = sorted((r for agg in result["runs"].values() for r in agg["runs"]), key=lambda r: r["order"])
    rows = [[str(r["order"]), str(r["processes"]), f"{r['instances']:,}", f"{r['wall_s']:.2f}",
             f"{r['per_s_wall']:.0f}", f"{r['firing_span_s'] or 0:.2f}", f"{r['per_s_firing'] or 0:.0f}",
             " / ".join("?" if x is None else f"{x:,}" for x in r["instances_run"]),
             "yes" if r["exactly_once"] else "NO"] for r in runs]
    out = [table(headers, rows, True, right={2, 3, 4, 5, 6})]
    if "ratio_firing" in result:
        means = ", ".join(f"{k} process{'es' if k != '1' else ''} {agg['per_s_firing'] or 0:.0f}/s"
                          for k, agg in result["runs"].items())
        out += ["", f"Mean firing rate over {result['repeat']} run(s) each ({means}, ABBA order): "
                    f"2 ÷ 1 processes = {result['ratio_firing'] or 0:.2f}× (firing), "
                    f"{result['ratio_wall'] or 0:.2f}× (wall, with process start-up); {result['backend']}, "
                    f"{result['cpus']} CPUs shared with the database server — the ceiling is below 2×."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_INSTANCES} instances")
    ap.add_argument("--instances", type=int, help=f"instances (default {FULL_INSTANCES:,})")
    ap.add_argument("--repeat", type=int, help=f"runs per process count, ABBA order (default {FULL_REPEAT}; "
                                               f"--quick: {QUICK_REPEAT})")
    ap.add_argument("--postgres", metavar="URL")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite (writers serialised: not the target)")
    args = ap.parse_args(argv)
    url, version, why = resolve_postgres(args.postgres, args.no_postgres)
    _stderr_log(f"PostgreSQL: {why}")
    n = args.instances or (QUICK_INSTANCES if args.quick else FULL_INSTANCES)
    repeat = args.repeat or (QUICK_REPEAT if args.quick else FULL_REPEAT)
    result = run_workers(n, url, version, repeat=repeat)
    print(markdown(result))
    return 0 if result.get("all_exactly_once") else 1


if __name__ == "__main__":
    raise SystemExit(main())
