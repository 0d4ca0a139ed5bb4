"""Processes started on a schedule — the quarterly review of the continuity plan and its
registers (``bpmn/plan_review.bpmn``, every ``P3M``) and anything else that recurs.

The same rules as drill schedules (``engine.drills.schedules``; both take ``next_time`` from
``engine.recurrence``): an ISO-8601 interval or a crontab line; ``next_run_at`` in the database is the truth;
the worker starts what is due and sets the next time *after now*, so a run missed while
nothing was running happens once, not once per missed period.  A due schedule is claimed by
moving its ``next_run_at`` in the same UPDATE that checks it is still due, so two workers
never start the same run twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from engine.clock import isoformat
from engine.recurrence import next_time
from engine.errors import EngineError, InvalidInput, NotFound
from engine.store.models import ProcessScheduleRow

log = logging.getLogger(__name__)

PLAN_REVIEW = "plan_review"


def schedule(engine: Any, key: str, every: str | None = None, cron: str | None = None,
             data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start ``key`` every ``every`` (ISO-8601) or on ``cron`` (neither: ``P3M``, quarterly);
    the first run is one interval from now.  The definition must exist and be executable."""
    if every and cron:
        raise InvalidInput("give --every or --cron, not both")
    every = every or (None if cron else "P3M")
    definition = engine.definition(key)              # NotFound names the key
    if not definition.executable:
        raise InvalidInput(f"{key} is model-only: it cannot be started on a schedule")
    now = engine.clock.now()
    first = next_time(now, every, cron)
    with engine.sessions.begin() as session:
        row = ProcessScheduleRow(key=key, data=dict(data or {}), every=every, cron=cron, next_run_at=first,
                                 enabled=True, created_at=now)
        session.add(row)
        session.flush()
        return to_json(row)


def ensure(engine: Any, key: str, every: str = "P3M") -> dict[str, Any] | None:
    """Schedule ``key`` unless an enabled schedule of it exists (the demo set-up)."""
    with engine.sessions() as session:
        row = session.scalars(select(ProcessScheduleRow).where(
            ProcessScheduleRow.key == key, ProcessScheduleRow.enabled)).first()
        if row is not None:
            return None
    return schedule(engine, key, every)


def to_json(row: ProcessScheduleRow) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "every": row.every, "cron": row.cron, "enabled": row.enabled,
            "data": row.data, "next_run_at": isoformat(row.next_run_at), "last_run_at": isoformat(row.last_run_at),
            "last_instance_id": row.last_instance_id, "last_error": row.last_error}


def list_schedules(engine: Any, all_: bool = False) -> list[dict[str, Any]]:
    query = select(ProcessScheduleRow).order_by(ProcessScheduleRow.next_run_at, ProcessScheduleRow.id)
    if not all_:
        query = query.where(ProcessScheduleRow.enabled)
    with engine.sessions() as session:
        return [to_json(r) for r in session.scalars(query)]


def unschedule(engine: Any, schedule_id: int) -> None:
    with engine.sessions.begin() as session:
        row = session.get(ProcessScheduleRow, schedule_id)
        if row is None or not row.enabled:
            raise NotFound(f"no process schedule {schedule_id}")
        row.enabled = False


def next_due(engine: Any) -> datetime | None:
    with engine.sessions() as session:
        return session.scalars(select(ProcessScheduleRow.next_run_at).where(ProcessScheduleRow.enabled)
                               .order_by(ProcessScheduleRow.next_run_at).limit(1)).first()


def _claim(engine: Any, row_id: int, was_due_at: datetime, now: datetime, following: datetime) -> bool:
    with engine.sessions.begin() as session:
        result = session.execute(update(ProcessScheduleRow).where(
            ProcessScheduleRow.id == row_id, ProcessScheduleRow.enabled,
            ProcessScheduleRow.next_run_at == was_due_at).values(
            next_run_at=following, last_run_at=now))
        return result.rowcount == 1


def run_due(engine: Any) -> list[str]:
    """Start every schedule whose time has come, once each; returns the new instance ids.
    A schedule that fails (definition removed, bad data) is logged and kept; never raises."""
    now = engine.clock.now()
    with engine.sessions() as session:
        due = [(r.id, r.key, dict(r.data or {}), r.every, r.cron, r.next_run_at)
               for r in session.scalars(select(ProcessScheduleRow).where(
                   ProcessScheduleRow.enabled, ProcessScheduleRow.next_run_at <= now))]
    started = []
    for row_id, key, data, every, cron, due_at in due:
        try:
            following = next_time(now, every, cron)
            if not _claim(engine, row_id, due_at, now, following):
                continue                          # another worker took it
            business_key = f"{key}-{due_at.date().isoformat()}"
            instance_id = engine.start(key, data, business_key=business_key, actor="scheduler")
            _record(engine, row_id, instance_id, None)
            started.append(instance_id)
        except EngineError as exc:
            log.warning("scheduled process %s (%s) not started: %s", row_id, key, exc)
            _record(engine, row_id, None, str(exc))
        except Exception:  # noqa: BLE001 - one broken schedule must not stop the worker
            log.exception("scheduled process %s (%s) failed", row_id, key)
    return started


def _record(engine: Any, row_id: int, instance_id: str | None, error: str | None) -> None:
    with engine.sessions.begin() as session:
        row = session.get(ProcessScheduleRow, row_id)
        if row is not None:
            row.last_instance_id, row.last_error = instance_id or row.last_instance_id, error
