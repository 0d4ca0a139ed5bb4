"""Wake-ups for due timers with APScheduler 3.

The timers table (rewritten after every command) is the source of truth.  APScheduler holds
just one date job — "wake at the earliest pending timer" — moved earlier whenever a commit
creates an earlier timer, plus a sweeper interval job that catches anything missed.  On start,
every timer that fell due while nothing was running fires once (its audit event says how late).
Several workers may run against one PostgreSQL database, started together or not: each claims
work with ``FOR UPDATE SKIP LOCKED`` (a due instance, a notification batch, a drill schedule),
so a timer fires once and a worker never queues behind another; an instance another process
holds is retried shortly (``HELD_RETRY``).  The KPI check runs in one worker at a time (an
advisory lock); the others skip that round.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import text

from engine.analysis import kpi_alerts
from engine.api import Engine

log = logging.getLogger(__name__)

WAKE_JOB = "contiflow-next-timer"
SWEEP_JOB = "contiflow-sweeper"
KPI_JOB = "contiflow-kpi-check"
#: a due instance another process held during a sweep is looked at again this much later
#: (not at once: that would spin while the holder works)
HELD_RETRY = timedelta(seconds=0.5)


class TimerService:
    def __init__(self, engine: Engine, scheduler: BaseScheduler | None = None, sweep_seconds: float = 30.0):
        self.engine = engine
        self.scheduler = scheduler or BackgroundScheduler(timezone="UTC")
        self.sweep_seconds = sweep_seconds
        self._scheduled_for: datetime | None = None
        self._lock = threading.Lock()
        self._sweeping = threading.Lock()

    def start(self, run_scheduler: bool = True) -> int:
        """Catch up on overdue timers, then keep waking up for the next ones.

        ``run_scheduler=False`` sets everything up without starting APScheduler's thread
        (tests drive ``sweep`` themselves on a ManualClock)."""
        fired = self.sweep()
        self.engine.commands.after_commit.append(self._on_commit)
        self.scheduler.add_job(self.sweep, "interval", seconds=self.sweep_seconds, id=SWEEP_JOB,
                               replace_existing=True, coalesce=True, max_instances=1)
        if self.engine.config.kpi_thresholds:
            self.scheduler.add_job(self.check_kpis, "interval", id=KPI_JOB, replace_existing=True,
                                   minutes=self.engine.config.kpi_check_minutes, coalesce=True, max_instances=1)
        if run_scheduler and not self.scheduler.running:
            self.scheduler.start()
        self.schedule_next()
        return fired

    def stop(self) -> None:
        if self._on_commit in self.engine.commands.after_commit:
            self.engine.commands.after_commit.remove(self._on_commit)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def sweep(self) -> int:
        """Fire everything due now, again while more falls due; never raises (a failure must
        not kill the scheduler).  A wake-up while a sweep runs returns at once: the running
        sweep picks up that work and reschedules when it ends."""
        if not self._sweeping.acquire(blocking=False):
            return 0
        fired = 0
        held_before = self.engine.commands.skipped_held
        try:
            for _ in range(5):
                round_fired = self.engine.fire_due_timers()
                fired += round_fired
                self.engine.deliver_notifications()
                self.engine.run_due_drills()
                if not round_fired or not self.engine.commands.due_instances(limit=1):
                    break
        except Exception:  # noqa: BLE001 - logged; the next sweep retries
            log.exception("timer sweep failed")
        finally:
            self._sweeping.release()
        self.schedule_next(held=self.engine.commands.skipped_held != held_before)
        return fired

    def check_kpis(self) -> list[dict]:
        """Check the configured KPI thresholds; firing ones with an incident_type start their
        runbook (once while open), whose notify steps tell people.  Never raises."""
        try:
            with exclusive(self.engine.db, KPI_JOB) as mine:
                if not mine:
                    log.info("KPI check: another worker is running it")
                    return []
                thresholds = Path(str(self.engine.config.kpi_thresholds)).read_text()
                results = kpi_alerts.check(self.engine, kpi_alerts.parse_thresholds(yaml.safe_load(thresholds)))
                for result in results:
                    if result["firing"]:
                        log.warning("KPI alert: %s", result["message"])
                return kpi_alerts.raise_alerts(self.engine, results)
        except Exception:  # noqa: BLE001 - a bad thresholds file must not stop the timers
            log.exception("KPI threshold check failed")
            return []

    def schedule_next(self, held: bool = False) -> datetime | None:
        """Point the wake-up job at the earliest pending timer or notification retry; ``held``:
        the last sweep skipped work another process held, so look again soon, not at once."""
        wake = _earliest(self.engine.commands.next_wake_at(), self.engine.outbox.next_attempt_at(),
                         self.engine.next_scheduled_run())
        if held:
            retry_at = self.engine.clock.now() + HELD_RETRY
            wake = retry_at if wake is None or wake < retry_at else wake
        with self._lock:
            self._scheduled_for = wake
            try:
                self.scheduler.remove_job(WAKE_JOB)
            except JobLookupError:   # already ran (date jobs remove themselves) or never set
                pass
            if wake is None:
                return None
            run_at = self._wall(wake)
            # max_instances > 1: this job may be re-added from inside a running sweep
            self.scheduler.add_job(self.sweep, "date", run_date=run_at, id=WAKE_JOB,
                                   misfire_grace_time=None, max_instances=3)
        return wake

    def _on_commit(self, _instance_id: str, wake: datetime | None) -> None:
        """A command committed; wake earlier if it created an earlier timer (no query)."""
        if wake is None:
            return
        with self._lock:
            current = self._scheduled_for
            if current is not None and current <= wake:
                return
            self._scheduled_for = wake
            try:
                self.scheduler.remove_job(WAKE_JOB)
            except JobLookupError:
                pass
            self.scheduler.add_job(self.sweep, "date", run_date=self._wall(wake), id=WAKE_JOB,
                                   misfire_grace_time=None, max_instances=3)

    @staticmethod
    def _wall(wake: datetime) -> datetime:
        """``wake_at`` is already on the engine clock (scaled instances were converted when
        the timer was projected), which is the wall clock in production."""
        return wake


@contextmanager
def exclusive(db: Any, name: str) -> Iterator[bool]:
    """Whether this process may run the job ``name`` now: on PostgreSQL at most one process at
    a time (a session advisory lock, tried, never waited for); elsewhere always."""
    if db.dialect.name != "postgresql":
        yield True
        return
    key = zlib.crc32(f"contiflow:{name}".encode())
    with db.connect() as conn:
        mine = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        conn.commit()                     # the lock belongs to the session, not the transaction
        try:
            yield mine
        finally:
            if mine:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None
