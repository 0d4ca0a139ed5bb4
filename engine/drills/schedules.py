"""Recurring drills ("every 3 months", or a crontab line), kept in the database.

``next_run_at`` is the truth: the worker runs a schedule whose time has come, then sets the
next time *after now* — so a schedule missed while nothing was running runs once on start,
not once per missed period.  Next times come from isodate (calendar months) or APScheduler's
cron trigger.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from engine.clock import isoformat
from engine.drills.scenario import Scenario, check_against, parse_scenario
from engine.drills.service import human_task_ids, run_drill
from engine.errors import InvalidInput, NotFound
from engine.recurrence import next_time
from engine.store.models import DrillScheduleRow

log = logging.getLogger(__name__)


def schedule(engine: Any, scenario: Scenario, every: str | None, cron: str | None) -> dict[str, Any]:
    if every and cron:
        raise InvalidInput("give --every or --cron, not both")
    check_against(scenario, human_task_ids(engine.task_metadata(scenario.runbook)))
    now = engine.clock.now()
    first = next_time(now, every, cron)
    with engine.sessions.begin() as session:
        row = DrillScheduleRow(key=scenario.runbook, scenario=scenario.source, every=every, cron=cron,
                               next_run_at=first, last_run_at=None, enabled=True, created_at=now)
        session.add(row)
        session.flush()
        return to_json(row)


def to_json(row: DrillScheduleRow) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "every": row.every, "cron": row.cron, "enabled": row.enabled,
            "next_run_at": isoformat(row.next_run_at), "last_run_at": isoformat(row.last_run_at)}


def list_schedules(engine: Any) -> list[dict[str, Any]]:
    with engine.sessions() as session:
        return [to_json(r) for r in session.scalars(select(DrillScheduleRow).where(DrillScheduleRow.enabled)
                                                    .order_by(DrillScheduleRow.next_run_at))]


def unschedule(engine: Any, schedule_id: int) -> None:
    with engine.sessions.begin() as session:
        row = session.get(DrillScheduleRow, schedule_id)
        if row is None:
            raise NotFound(f"no drill schedule {schedule_id}")
        row.enabled = False


def next_due(engine: Any) -> datetime | None:
    """The earliest drill due (the worker's wake-up takes the earlier of this and
    ``engine.schedules.next_due``)."""
    with engine.sessions() as session:
        return session.scalars(select(DrillScheduleRow.next_run_at).where(DrillScheduleRow.enabled)
                               .order_by(DrillScheduleRow.next_run_at).limit(1)).first()


def run_due(engine: Any) -> list[int]:
    """Run every drill schedule whose time has come, once; returns the new drill report ids."""
    now = engine.clock.now()
    claimed = []
    with engine.sessions.begin() as session:
        # claimed under row locks (PostgreSQL: schedules another worker is claiming are
        # skipped); the conditional update makes the claim hold on SQLite too
        due = session.execute(select(DrillScheduleRow.id, DrillScheduleRow.scenario, DrillScheduleRow.key,
                                     DrillScheduleRow.every, DrillScheduleRow.cron, DrillScheduleRow.next_run_at)
                              .where(DrillScheduleRow.enabled, DrillScheduleRow.next_run_at <= now)
                              .order_by(DrillScheduleRow.next_run_at, DrillScheduleRow.id)
                              .with_for_update(skip_locked=True)).all()
        for row in due:
            following = next_time(now, row.every, row.cron)
            won = session.execute(update(DrillScheduleRow).where(
                DrillScheduleRow.id == row.id, DrillScheduleRow.next_run_at == row.next_run_at)
                .values(last_run_at=now, next_run_at=following).execution_options(synchronize_session=False))
            if won.rowcount == 1:
                claimed.append((row.id, dict(row.scenario), row.key))
    report_ids = []
    for schedule_id, source, key in claimed:
        try:
            scenario = parse_scenario(_as_text(source), source=f"schedule {schedule_id}", runbook=key)
            report = run_drill(engine, scenario, schedule_id=schedule_id, source=f"schedule {schedule_id}")
            report_ids.append(report["drill_id"])
        except Exception:  # noqa: BLE001 - one broken schedule must not stop the worker
            log.exception("scheduled drill %s failed", schedule_id)
    return report_ids


def _as_text(source: dict[str, Any]) -> str:
    import json

    return json.dumps(source)

