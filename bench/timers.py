"""Timer benchmark: lateness with many pending timers, and catch-up after a restart.

**Lateness.** On a fresh database, N instances of ``bench/models/timer_wait.bpmn`` (start →
timer whose duration is the start data's ``delay`` → end) are created so that their timers fall
due spread evenly (in shuffled creation order) over a window that opens a few seconds after
creation ends.  Then a real ``TimerService`` (SystemClock, APScheduler ``BackgroundScheduler``)
is started and the bench polls the database once a second until no timer is pending.  The
lateness of a timer is its ``timer_fired`` audit event's ``wall_at`` (the instant the firing
command read the clock, before it loads the instance) minus the ``due_at`` in the event's
detail; the bench also records when each firing command *committed* (an ``after_commit``
listener) and reports that lateness too.  Baseline, measured in the same run: N no-op
APScheduler date jobs scheduled at exactly the same due times in a separate
``BackgroundScheduler`` that runs alongside (same process, same GIL).

**Catch-up.** On another fresh database, M instances are created with ``delay = PT1S`` and no
timer service running (the "downtime"); once every timer is overdue, a fresh ``Engine`` and
``TimerService`` are constructed and ``service.start(run_scheduler=False)`` is timed (it
fires everything overdue once).  Every instance must have exactly one ``timer_fired`` event
and be completed.  Baseline: the floor of firing, with stock SpiffWorkflow: for each of M
workflows of the same model in a one-table database, ``SELECT`` + ``deserialize_json`` +
``refresh_timers`` + ``do_engine_steps`` + ``serialize_json`` + ``UPDATE … COMMIT``.

This module reads the audit and timers tables directly (read-only) to measure; everything it
does to contiflow goes through ``Engine`` and ``TimerService``.
"""

from __future__ import annotations

import contextlib
import gc
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.backends import Backend, postgres_backend, sqlite_backend
from bench.modelgen import BENCH_DIR, Model
from bench.stats import percentile, ratio

TIMER_MODEL = Model("timer_wait", BENCH_DIR / "models" / "timer_wait.bpmn", "bench_timer_wait",
                    "start -> intermediate timer (timeDuration = start data `delay`) -> end")

Log = Callable[[str], None]


def _stderr_log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class TimerSettings:
    quick: bool
    lateness: dict[str, int]      # timers per backend for the lateness run
    window_s: float               # due times spread evenly over this many seconds
    lead_s: float                 # the window opens this long after the estimated end of creation
    estimate_factor: float        # creation is estimated at calibration rate ÷ this (the database grows; load)
    calibration: int              # instances timed (then cancelled) to estimate the creation rate
    catchup: int                  # overdue timers for the catch-up run
    timeout_s: float              # give up this long after the last due time


FULL_TIMERS = TimerSettings(False, {"sqlite": 10_000, "postgresql": 2_000}, window_s=60.0, lead_s=10.0,
                            estimate_factor=1.5, calibration=50, catchup=1_000, timeout_s=120.0)
QUICK_TIMERS = TimerSettings(True, {"sqlite": 500, "postgresql": 200}, window_s=10.0, lead_s=3.0,
                             estimate_factor=1.5, calibration=20, catchup=100, timeout_s=30.0)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"n": 0, "p50_ms": math.nan, "p99_ms": math.nan, "max_ms": math.nan, "mean_ms": math.nan}
    return {"n": len(seconds), "p50_ms": percentile(seconds, 50) * 1000, "p99_ms": percentile(seconds, 99) * 1000,
            "max_ms": max(seconds) * 1000, "mean_ms": sum(seconds) / len(seconds) * 1000,
            "min_ms": min(seconds) * 1000}


def _duration(seconds: float) -> str:
    return f"PT{max(seconds, 0.001):.6f}S"


# -- database reads (measurement only) ---------------------------------------------------

def _pending_timers(engine: Any) -> int:
    from sqlalchemy import func, select

    from engine.store.models import TimerRow
    with engine.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(TimerRow)) or 0)


def _timer_due_times(engine: Any) -> list[tuple[str, datetime]]:
    from sqlalchemy import select

    from engine.store.models import TimerRow
    with engine.sessions() as session:
        return [(r.instance_id, _utc(r.wake_at))
                for r in session.execute(select(TimerRow.instance_id, TimerRow.wake_at))]


def _fired_events(engine: Any) -> list[tuple[str, datetime, datetime]]:
    """(instance_id, wall_at, due_at) of every ``timer_fired`` audit event."""
    from sqlalchemy import select

    from engine.store.models import AuditEventRow
    with engine.sessions() as session:
        rows = session.execute(select(AuditEventRow.instance_id, AuditEventRow.wall_at, AuditEventRow.detail)
                               .where(AuditEventRow.kind == "timer_fired")).all()
    return [(r.instance_id, _utc(r.wall_at), _utc(datetime.fromisoformat(r.detail["due_at"]))) for r in rows]


def _status_counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from engine.store.models import InstanceRow
    with engine.sessions() as session:
        return {status: int(n) for status, n in session.execute(
            select(InstanceRow.status, func.count()).group_by(InstanceRow.status))}


# -- the APScheduler baseline ------------------------------------------------------------

class APSchedulerBaseline:
    """N no-op date jobs at given moments in their own BackgroundScheduler; records when each ran."""

    def __init__(self, due: list[datetime]):
        from apscheduler.schedulers.background import BackgroundScheduler
        self.due = due
        self.ran: list[datetime | None] = [None] * len(due)
        self.scheduler = BackgroundScheduler(timezone="UTC")
        t0 = time.perf_counter()
        for i, moment in enumerate(due):
            self.scheduler.add_job(self._run, "date", run_date=moment, args=(i,), misfire_grace_time=None)
        self.add_s = time.perf_counter() - t0

    def _run(self, i: int) -> None:
        self.ran[i] = _now()

    def start(self) -> None:
        self.scheduler.start()

    def done(self) -> int:
        return sum(1 for r in self.ran if r is not None)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def lateness(self) -> list[float]:
        return [(r - d).total_seconds() for r, d in zip(self.ran, self.due, strict=True) if r is not None]


# -- lateness ------------------------------------------------------------------------------

def lateness_run(backend: Backend, n: int, settings: TimerSettings, log: Log = _stderr_log) -> dict[str, Any]:
    from bench.contiflow_driver import import_model, open_engine
    from engine.timers.scheduler import TimerService

    engine = open_engine(backend.database_url)
    try:
        key = import_model(engine, TIMER_MODEL)
        # calibrate the creation rate (these instances are cancelled: nothing else stays pending)
        t0 = time.perf_counter()
        calib = [engine.start(key, {"delay": "P1D"}, actor="bench") for _ in range(settings.calibration)]
        calib_rate = settings.calibration / (time.perf_counter() - t0)
        for iid in calib:
            engine.cancel(iid, actor="bench")
        estimate_s = n / calib_rate * settings.estimate_factor
        first_due = _now() + timedelta(seconds=estimate_s + settings.lead_s)
        step = settings.window_s / max(n - 1, 1)
        targets = [first_due + timedelta(seconds=i * step) for i in range(n)]
        random.Random(20240601).shuffle(targets)
        log(f"timers lateness {backend.name}: creating {n:,} instances (calibrated {calib_rate:.0f}/s, "
            f"estimate {estimate_s:.0f} s); due over {settings.window_s:.0f} s from "
            f"{first_due.strftime('%H:%M:%S')}")

        gc.collect()
        overdue_at_creation = 0
        t0 = time.perf_counter()
        for i, target in enumerate(targets):
            delay = (target - _now()).total_seconds()
            if delay <= 0:
                overdue_at_creation += 1
            engine.start(key, {"delay": _duration(delay)}, actor="bench")
            if i and i % 2000 == 0:
                log(f"  {i:,} created ({i / (time.perf_counter() - t0):.0f}/s)")
        create_s = time.perf_counter() - t0

        due_rows = _timer_due_times(engine)
        if len(due_rows) != n:
            raise RuntimeError(f"expected {n} pending timers after creation, found {len(due_rows)}")
        due = [d for _, d in due_rows]
        first, last = min(due), max(due)
        baseline = APSchedulerBaseline(due)
        commits: dict[str, datetime] = {}

        def on_commit(instance_id: str, _wake: object = None) -> None:
            commits[instance_id] = _now()

        service = TimerService(engine)
        sweeps: list[tuple[float, int]] = []
        original_sweep = service.sweep

        def counted_sweep() -> int:
            s0 = time.perf_counter()
            fired = original_sweep()
            sweeps.append((time.perf_counter() - s0, fired))
            return fired
        service.sweep = counted_sweep  # type: ignore[method-assign]

        gc.collect()
        margin_s = (first - _now()).total_seconds()
        log(f"  created in {create_s:.1f} s ({n / create_s:.0f}/s); first due in {margin_s:.1f} s; "
            f"starting TimerService and the APScheduler baseline ({n:,} jobs added in {baseline.add_s:.2f} s)")
        engine.commands.after_commit.append(on_commit)
        baseline.start()
        service.start()
        deadline = last + timedelta(seconds=settings.timeout_s)
        pending = n
        next_note = time.monotonic() + 10
        try:
            while _now() < deadline:
                time.sleep(1.0)
                pending = _pending_timers(engine)
                if pending == 0 and baseline.done() == n:
                    break
                if time.monotonic() >= next_note:
                    next_note += 10
                    log(f"  pending {pending:,}; APScheduler baseline ran {baseline.done():,}/{n:,}")
        finally:
            service.stop()
            baseline.stop()
            if on_commit in engine.commands.after_commit:
                engine.commands.after_commit.remove(on_commit)
        wait_s = (_now() - first).total_seconds()

        events = _fired_events(engine)
        per_instance = Counter(iid for iid, _, _ in events)
        fired = [(wall - d).total_seconds() for _, wall, d in events]
        due_of = {iid: d for iid, d in due_rows}
        committed = [(commits[iid] - due_of[iid]).total_seconds() for iid in due_of if iid in commits]
        base = baseline.lateness()
        statuses = _status_counts(engine)
        last_commit = max(commits.values()) if commits else None
        result: dict[str, Any] = {
            "backend": backend.name, "timers": n, "window_s": settings.window_s,
            "due_per_s": n / max((last - first).total_seconds(), 1e-9),
            "create_s": create_s, "create_per_s": n / create_s, "calibration_per_s": calib_rate,
            "first_due_margin_s": margin_s, "overdue_at_creation": overdue_at_creation,
            "fired": len(events), "unfired": pending,
            "fired_more_than_once": sum(1 for c in per_instance.values() if c > 1),
            "statuses": statuses,
            "lateness": summary_ms(fired),
            "commit_lateness": summary_ms(committed),
            "fired_per_s": (len(committed) / (last_commit - first).total_seconds()
                            if last_commit and last_commit > first else None),
            "sweeps": len(sweeps), "max_fired_per_sweep": max((f for _, f in sweeps), default=0),
            "sweep_seconds_total": sum(s for s, _ in sweeps),
            "apscheduler": {**summary_ms(base), "missed": n - len(base), "add_jobs_s": baseline.add_s},
            "wait_s": wait_s,
        }
        result["p99_over_apscheduler"] = ratio(result["lateness"]["p99_ms"], result["apscheduler"]["p99_ms"])
        result["commit_p99_over_apscheduler"] = ratio(result["commit_lateness"]["p99_ms"],
                                                      result["apscheduler"]["p99_ms"])
        lat = result["lateness"]
        log(f"  fired {len(events):,}/{n:,}: lateness p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms, "
            f"max {lat['max_ms']:.0f} ms; APScheduler p99 {result['apscheduler']['p99_ms']:.1f} ms")
        return result
    finally:
        engine.close()


# -- catch-up --------------------------------------------------------------------------------

class FloorTimers:
    """Stock SpiffWorkflow + its serializer + a one-table database: the floor of firing a timer."""

    def __init__(self, store: Any):
        from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
        from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

        from bench.drivers import parse_spec
        self.spec, self.subs = parse_spec(TIMER_MODEL)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.store = store

    def create(self, delay: str) -> int:
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState
        wf = BpmnWorkflow(self.spec, self.subs)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update({"delay": delay})
        wf.do_engine_steps()
        if wf.is_completed():
            raise RuntimeError("floor workflow completed before its timer was due")
        return self.store.insert(self.serializer.serialize_json(wf))

    def fire(self, row_id: int) -> None:
        wf = self.serializer.deserialize_json(self.store.load(row_id))
        wf.refresh_timers()
        wf.do_engine_steps()
        if not wf.is_completed():
            raise RuntimeError(f"floor workflow {row_id} did not complete after its timer was due")
        self.store.save(row_id, self.serializer.serialize_json(wf))


def _floor_store(backend: Backend) -> Any:
    from bench.drivers import PostgresStateStore, SqliteStateStore
    if backend.name == "sqlite":
        return SqliteStateStore(backend.floor_target)
    return PostgresStateStore(backend.floor_target)


def catchup_run(backend: Backend, m: int, log: Log = _stderr_log) -> dict[str, Any]:
    from bench.contiflow_driver import import_model, open_engine
    from engine.timers.scheduler import TimerService

    delay = "PT1S"
    log(f"timers catch-up {backend.name}: {m:,} instances with {delay} timers, no timer service running")
    store = _floor_store(backend)
    try:
        floor = FloorTimers(store)
        floor_ids = [floor.create(delay) for _ in range(m)]
        floor_created = _now()

        engine = open_engine(backend.database_url)
        try:
            key = import_model(engine, TIMER_MODEL)
            t0 = time.perf_counter()
            for _ in range(m):
                engine.start(key, {"delay": delay}, actor="bench")
            create_s = time.perf_counter() - t0
            overdue_from = max(d for _, d in _timer_due_times(engine))
        finally:
            engine.close()      # the "crash": nothing of this engine survives but the database
        overdue_from = max(overdue_from, floor_created + timedelta(seconds=1))
        pause = (overdue_from - _now()).total_seconds() + 0.2
        if pause > 0:
            time.sleep(pause)

        gc.collect()
        t0 = time.perf_counter()
        for row_id in floor_ids:
            floor.fire(row_id)
        floor_s = time.perf_counter() - t0

        engine = open_engine(backend.database_url)      # the restart: a fresh Engine (cold caches)
        try:
            service = TimerService(engine)
            gc.collect()
            t0 = time.perf_counter()
            fired = service.start(run_scheduler=False)
            catchup_s = time.perf_counter() - t0
            service.stop()
            events = _fired_events(engine)
            per_instance = Counter(iid for iid, _, _ in events)
            statuses = _status_counts(engine)
            pending = _pending_timers(engine)
        finally:
            engine.close()
    finally:
        store.close()

    exactly_once = (len(per_instance) == m and all(c == 1 for c in per_instance.values())
                    and statuses.get("completed", 0) == m and pending == 0)
    late = [(wall - d).total_seconds() for _, wall, d in events]
    result = {
        "backend": backend.name, "timers": m, "create_s": create_s, "fired_reported": fired,
        "seconds": catchup_s, "timers_per_s": m / catchup_s,
        "floor_seconds": floor_s, "floor_timers_per_s": m / floor_s,
        "over_floor": ratio(catchup_s, floor_s),
        "exactly_once": exactly_once, "timer_fired_events": len(events),
        "instances_with_events": len(per_instance), "statuses": statuses, "still_pending": pending,
        "lateness": summary_ms(late),
    }
    log(f"  contiflow caught up {fired:,} in {catchup_s:.2f} s ({m / catchup_s:.0f}/s); floor {floor_s:.2f} s "
        f"({m / floor_s:.0f}/s); exactly once: {exactly_once}")
    return result


# -- the section -------------------------------------------------------------------------------

@contextlib.contextmanager
def _fresh(name: str, pg_url: str | None, pg_version: str | None) -> Iterator[Backend]:
    if name == "sqlite":
        with sqlite_backend() as backend:
            yield backend
    else:
        assert pg_url and pg_version
        with postgres_backend(pg_url, pg_version) as backend:
            yield backend


def run_timers(settings: TimerSettings, pg_url: str | None, pg_version: str | None,
               log: Log = _stderr_log) -> dict[str, Any]:
    """Lateness and catch-up on each backend, each on a fresh database."""
    names = ["sqlite"] + (["postgresql"] if pg_url and pg_version else [])
    out: dict[str, Any] = {"model": str(TIMER_MODEL.path.relative_to(BENCH_DIR.parent)),
                           "settings": asdict(settings), "lateness": {}, "catchup": {}}
    t0 = time.perf_counter()
    for name in names:
        with _fresh(name, pg_url, pg_version) as backend:
            out["lateness"][name] = lateness_run(backend, settings.lateness[name], settings, log)
        with _fresh(name, pg_url, pg_version) as backend:
            out["catchup"][name] = catchup_run(backend, settings.catchup, log)
    out["total_s"] = time.perf_counter() - t0
    return out


# -- report --------------------------------------------------------------------------------------

def _ms(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _r(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


LATENESS_HEADERS = ["backend", "timers", "created/s", "due/s", "p50 ms", "p99 ms", "max ms",
                    "commit p99 ms", "fired/s", "APScheduler p50 / p99 ms", "p99 ÷ APScheduler"]
CATCHUP_HEADERS = ["backend", "overdue timers", "catch-up s", "timers/s", "floor s", "floor timers/s",
                   "÷ floor", "fired exactly once"]


def lateness_rows(timers: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, r in timers["lateness"].items():
        lat, com, aps = r["lateness"], r["commit_lateness"], r["apscheduler"]
        timers_cell = f"{r['fired']:,}" + ("" if r["fired"] == r["timers"] else f" of {r['timers']:,}")
        rows.append([name, timers_cell, _ms(r["create_per_s"]), _ms(r["due_per_s"]), _ms(lat["p50_ms"]),
                     _ms(lat["p99_ms"]), _ms(lat["max_ms"]), _ms(com["p99_ms"]), _ms(r["fired_per_s"]),
                     f"{_ms(aps['p50_ms'], 1)} / {_ms(aps['p99_ms'], 1)}", _r(r["p99_over_apscheduler"])])
    return rows


def catchup_rows(timers: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, r in timers["catchup"].items():
        rows.append([name, f"{r['timers']:,}", f"{r['seconds']:.2f}", _ms(r["timers_per_s"]),
                     f"{r['floor_seconds']:.2f}", _ms(r["floor_timers_per_s"]), _r(r["over_floor"]),
                     "yes" if r["exactly_once"] else "NO"])
    return rows


def render(timers: dict[str, Any], markdown: bool, note: str = "") -> str:
    from bench.report import table
    s = timers["settings"]
    lateness_title = (f"timer lateness: N pending timers due evenly over {s['window_s']:.0f} s, fired by a "
                      f"running TimerService; lateness = timer_fired wall_at − due_at (goal p99 < 1 s)")
    catchup_title = ("catch-up after a restart: a fresh Engine + TimerService.start(run_scheduler=False) "
                     "fires every overdue timer; floor = stock Spiff load + fire + save per workflow")
    checks = []
    for name, r in timers["lateness"].items():
        flags = []
        if r["unfired"]:
            flags.append(f"{r['unfired']:,} timers still pending at the timeout")
        if r["overdue_at_creation"] or r["first_due_margin_s"] < 0:
            flags.append(f"creation overran the window (first due {r['first_due_margin_s']:.1f} s after "
                         f"creation; {r['overdue_at_creation']} overdue when created)")
        if r["fired_more_than_once"]:
            flags.append(f"{r['fired_more_than_once']} instances fired more than once")
        if r["apscheduler"]["missed"]:
            flags.append(f"APScheduler baseline missed {r['apscheduler']['missed']} jobs")
        lat = r["lateness"]
        line = (f"{name}: {r['timers']:,} instances created in {r['create_s']:.0f} s; p99 lateness "
                f"{lat['p99_ms'] / 1000:.2f} s {'meets' if lat['p99_ms'] < 1000 else 'MISSES'} the 1 s goal; "
                f"{r['sweeps']} sweeps, at most {r['max_fired_per_sweep']} timers per sweep")
        checks.append(line + ("; " + "; ".join(flags) if flags else ""))
    if markdown:
        out = [f"**Timers — lateness**{' (' + note + ')' if note else ''}: {lateness_title}", "",
               table(LATENESS_HEADERS, lateness_rows(timers), True), "",
               *[f"- {c}" for c in checks], "",
               f"**Timers — catch-up**: {catchup_title}", "", table(CATCHUP_HEADERS, catchup_rows(timers), True)]
    else:
        out = [f"Timers — lateness{' — ' + note if note else ''}", lateness_title,
               table(LATENESS_HEADERS, lateness_rows(timers), False), "", *checks, "",
               "Timers — catch-up", catchup_title, table(CATCHUP_HEADERS, catchup_rows(timers), False)]
    return "\n".join(out)
