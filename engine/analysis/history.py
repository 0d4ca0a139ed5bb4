"""Execution history for observed KPIs: instances and their audit events, read-only.

Times are instance (virtual) times, so a drill run at 600× speed yields the durations its
participants lived through.  Drill instances are left out unless asked for: they would
distort production figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.store.models import AuditEventRow, DefinitionRow, InstanceRow


@dataclass(frozen=True)
class Run:
    instance_id: str
    key: str
    version: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    drill: bool = False


@dataclass(frozen=True)
class Event:
    instance_id: str
    at: datetime
    kind: str
    bpmn_id: str | None = None
    task_id: str | None = None
    actor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def load_history(sessions: sessionmaker[Session], key: str | None = None, since: datetime | None = None,
                 drills: bool = False) -> tuple[list[Run], list[Event]]:
    """Instances (of ``key``, started at or after ``since``) and their audit events in order."""
    query = select(InstanceRow, DefinitionRow.key, DefinitionRow.version).join(
        DefinitionRow, InstanceRow.definition_id == DefinitionRow.id)
    if key is not None:
        query = query.where(DefinitionRow.key == key)
    if since is not None:
        query = query.where(InstanceRow.started_at >= since)
    if not drills:
        query = query.where(InstanceRow.drill.is_(False))
    with sessions() as session:
        runs = [Run(row.id, k, v, row.status, row.started_at, row.ended_at, bool(row.drill))
                for row, k, v in session.execute(query.order_by(InstanceRow.started_at))]
        events: list[Event] = []
        ids = [r.instance_id for r in runs]
        for chunk in range(0, len(ids), 500):
            rows = session.scalars(select(AuditEventRow).where(
                AuditEventRow.instance_id.in_(ids[chunk:chunk + 500])).order_by(AuditEventRow.id))
            events.extend(Event(e.instance_id or "", e.at, e.kind, e.bpmn_id, e.task_id, e.actor,
                                dict(e.detail or {})) for e in rows)
    return runs, events
