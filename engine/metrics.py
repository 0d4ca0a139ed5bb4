"""Prometheus metrics, gathered from the database when scraped (a custom collector, no
Flask): every web process computes the same numbers, whichever one Prometheus reaches.

Gauges — instances by status, open and overdue human tasks, pending and overdue timers (and
how overdue the oldest one is), open incidents, notifications by status.  Counters and the
timer-lateness histogram come from the append-only audit trail, read incrementally: each
scrape reads only audit events newer than the last settled one (an event counts as settled
five minutes after it was written, so a transaction committing late is still counted once).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.store.models import (
    AuditEventRow,
    DrillReportRow,
    HumanTaskRow,
    IncidentRow,
    InstanceRow,
    NotificationRow,
    TimerRow,
)

log = logging.getLogger(__name__)

INSTANCE_STATUSES = ("running", "incident", "completed", "cancelled")
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed")
DRILL_KINDS = ("simulated", "live")
#: seconds a timer fired after it was due (the promise is "within a second")
LATENESS_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, math.inf)
SETTLE = timedelta(minutes=5)
BATCH = 5000


class AuditTally:
    """Running totals over audit events (timer lateness, failed send attempts), read
    incrementally from the audit trail."""

    KINDS = ("timer_fired", "notification_attempt_failed")

    def __init__(self, settle: timedelta = SETTLE):
        self.settle = settle
        self.settled_id = 0              # every relevant event up to this id is counted
        self.recent: set[int] = set()    # counted events above settled_id
        self.buckets = [0] * len(LATENESS_BUCKETS)
        self.lateness_sum = 0.0
        self.failed_attempts = 0

    def update(self, session: Session, now: datetime) -> None:
        horizon = now - self.settle
        after, settling = self.settled_id, True
        while True:
            rows = session.execute(
                select(AuditEventRow.id, AuditEventRow.kind, AuditEventRow.wall_at, AuditEventRow.detail,
                       InstanceRow.speed)
                .outerjoin(InstanceRow, InstanceRow.id == AuditEventRow.instance_id)
                .where(AuditEventRow.id > after, AuditEventRow.kind.in_(self.KINDS))
                .order_by(AuditEventRow.id).limit(BATCH)).all()
            for row in rows:
                if row.id not in self.recent:
                    self._count(row.kind, row.detail or {}, row.speed)
                    self.recent.add(row.id)
                if settling and row.wall_at <= horizon:
                    self.settled_id = row.id
                else:
                    settling = False
            if len(rows) < BATCH:
                break
            after = rows[-1].id
        self.recent = {i for i in self.recent if i > self.settled_id}

    def _count(self, kind: str, detail: dict[str, Any], speed: float | None) -> None:
        if kind == "notification_attempt_failed":
            self.failed_attempts += 1
            return
        try:
            late = max(0.0, float(detail.get("late_seconds") or 0.0))
        except (TypeError, ValueError):
            late = 0.0
        if speed:
            late /= speed                 # an accelerated instance's seconds are virtual
        self.lateness_sum += late
        for index, bound in enumerate(LATENESS_BUCKETS):
            if late <= bound:
                self.buckets[index] += 1
                break

    def lateness(self) -> HistogramMetricFamily:
        cumulative, running = [], 0
        for bound, count in zip(LATENESS_BUCKETS, self.buckets, strict=True):
            running += count
            cumulative.append((floatToGoString(bound), running))
        return HistogramMetricFamily(
            "contiflow_timer_lateness_seconds",
            "How late timers fired after they were due (wall-clock seconds), from the audit trail",
            buckets=cumulative, sum_value=self.lateness_sum)


class EngineCollector:
    """A prometheus_client collector over one Engine's database."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.tally = AuditTally()
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        now = self.engine.clock.now()
        families: list[Metric] = []
        up = 1.0
        try:
            with self._lock, self.engine.sessions() as session:
                families = list(_gauges(session, now))
                self.tally.update(session, now)
                families.append(self.tally.lateness())
                failed = CounterMetricFamily("contiflow_notification_attempts_failed",
                                             "Notification send attempts that failed (each is retried "
                                             "with backoff until the last)")
                failed.add_metric([], self.tally.failed_attempts)
                families.append(failed)
                families.append(_drills(session))
        except SQLAlchemyError:
            log.exception("metrics: the database did not answer")
            families, up = [], 0.0
        yield GaugeMetricFamily("contiflow_database_up", "1 when the database answered this scrape", value=up)
        yield from families


def _by(session: Session, column: Any, known: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(known, 0)
    for key, count in session.execute(select(column, func.count()).group_by(column)):
        counts[str(key)] = int(count)
    return counts


def _labelled(name: str, doc: str, label: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(counts.items()):
        family.add_metric([key], value)
    return family


def _gauges(session: Session, now: datetime) -> Iterator[Metric]:
    yield _labelled("contiflow_instances", "Process instances by status", "status",
                    _by(session, InstanceRow.status, INSTANCE_STATUSES))
    open_tasks, overdue_tasks = session.execute(select(
        func.count(HumanTaskRow.id),
        func.coalesce(func.sum(case((HumanTaskRow.due_at < now, 1), else_=0)), 0))).one()
    yield GaugeMetricFamily("contiflow_human_tasks_open", "Human tasks ready for someone to do",
                            value=int(open_tasks))
    yield GaugeMetricFamily("contiflow_human_tasks_overdue", "Open human tasks past their due time",
                            value=int(overdue_tasks))
    pending, overdue = session.execute(select(
        func.count(TimerRow.id),
        func.coalesce(func.sum(case((TimerRow.wake_at <= now, 1), else_=0)), 0))).one()
    oldest = session.scalars(select(func.min(TimerRow.wake_at)).where(TimerRow.wake_at <= now)).first()
    yield GaugeMetricFamily("contiflow_timers_pending", "Timers waiting to fire", value=int(pending))
    yield GaugeMetricFamily("contiflow_timers_overdue", "Timers due but not fired yet (no worker running?)",
                            value=int(overdue))
    yield GaugeMetricFamily("contiflow_timers_overdue_seconds",
                            "How long the oldest due timer has been waiting to fire (0 when none)",
                            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    incidents = session.scalar(select(func.count(IncidentRow.id)).where(IncidentRow.resolved_at.is_(None)))
    yield GaugeMetricFamily("contiflow_incidents_open", "Unresolved incidents (failed steps or sends)",
                            value=int(incidents or 0))
    yield _labelled("contiflow_notifications", "Notifications in the outbox by status", "status",
                    _by(session, NotificationRow.status, NOTIFICATION_STATUSES))


def _drills(session: Session) -> CounterMetricFamily:
    family = CounterMetricFamily("contiflow_drills_run", "Drills run (simulated and live), from their reports",
                                 labels=["kind"])
    for kind, count in sorted(_by(session, DrillReportRow.kind, DRILL_KINDS).items()):
        family.add_metric([kind], count)
    return family
