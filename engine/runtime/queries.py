"""Read side: tasks, instances and the incident timeline, from projections and the audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.runtime import targets
from engine.spiff.serializer import reachable_steps
from engine.store.models import (
    AuditEventRow,
    DefinitionRow,
    HumanTaskRow,
    IncidentRow,
    InstanceRow,
    TimerRow,
)
from engine.views import IncidentView, InstanceView, TaskHistoryView, TaskView, TimelineEvent, TimerView


def task_view(row: Any) -> TaskView:
    return TaskView(row.id, row.instance_id, row.bpmn_id, row.name, row.role, row.due_at,
                    list(row.form or []), row.ready_at, row.claimed_by, bool(row.drill))


_TASKS = HumanTaskRow.__table__
_TASK_ORDER = (_TASKS.c.due_at.is_(None), _TASKS.c.due_at, _TASKS.c.ready_at, _TASKS.c.id)
_TASKS_OF_INSTANCE = select(_TASKS).where(_TASKS.c.instance_id == bindparam("instance_id")).order_by(*_TASK_ORDER)


def list_tasks(session: Session, instance_id: str | None = None, role: str | None = None) -> list[TaskView]:
    """Ready tasks, earliest deadline first (Core: the inbox is the hottest read)."""
    if instance_id and not role:
        query = _TASKS_OF_INSTANCE
        params = {"instance_id": instance_id}
    else:
        query = select(_TASKS)
        if instance_id:
            query = query.where(_TASKS.c.instance_id == instance_id)
        if role:
            query = query.where(_TASKS.c.role == role)
        query = query.order_by(*_TASK_ORDER)
        params = {}
    return [task_view(r) for r in session.connection().execute(query, params)]


def get_task(session: Session, task_id: str) -> TaskView:
    row = session.get(HumanTaskRow, task_id)
    if row is None:
        raise NotFound(f"no open task '{task_id}'")
    return task_view(row)


def _summary(row: InstanceRow, definition: DefinitionRow) -> InstanceView:
    return InstanceView(row.id, definition.key, definition.version, row.status, row.business_key,
                        row.started_at, row.ended_at, row.speed, drill=row.drill)


def list_instances(session: Session, status: str | None = None, key: str | None = None,
                   limit: int = 500) -> list[InstanceView]:
    query = select(InstanceRow, DefinitionRow).join(DefinitionRow, InstanceRow.definition_id == DefinitionRow.id)
    if status:
        query = query.where(InstanceRow.status == status)
    if key:
        query = query.where(DefinitionRow.key == key)
    rows = session.execute(query.order_by(InstanceRow.started_at.desc()).limit(limit)).all()
    return [_summary(i, d) for i, d in rows]


def show_instance(session: Session, instance_id: str, now: datetime | None = None) -> InstanceView:
    row = session.get(InstanceRow, instance_id)
    if row is None:
        raise NotFound(f"no instance '{instance_id}'")
    definition = session.get(DefinitionRow, row.definition_id)
    assert definition is not None
    events = session.scalars(select(AuditEventRow).where(AuditEventRow.instance_id == instance_id)
                             .order_by(AuditEventRow.id))
    timeline = [TimelineEvent(e.at, e.wall_at, (e.at - row.started_at).total_seconds(), e.kind, e.actor,
                              e.bpmn_id, dict(e.detail or {}), e.task_id) for e in events]
    tasks = list_tasks(session, instance_id=instance_id)
    incidents = [IncidentView(i.id, i.task_id, i.bpmn_id, i.message, i.line, i.created_at, i.resolved_at)
                 for i in session.scalars(select(IncidentRow).where(IncidentRow.instance_id == instance_id)
                                          .order_by(IncidentRow.id))]
    timers = [TimerView(t.bpmn_id, t.kind, t.due_at)
              for t in session.scalars(select(TimerRow).where(TimerRow.instance_id == instance_id)
                                       .order_by(TimerRow.due_at))]
    view = _summary(row, definition)
    final = next((e.detail.get("data") for e in reversed(timeline) if e.kind == "instance_completed"), None)
    finished = row.status in ("completed", "cancelled")
    elapsed = (row.ended_at if finished and row.ended_at else _instance_now(row, now)) - row.started_at
    pending = None if finished else reachable_steps(orjson.loads(row.state), definition.spec or {})
    measured = targets.measure(definition.tasks or {}, timeline, elapsed, row.status, pending)
    return InstanceView(view.instance_id, view.key, view.version, view.status, view.business_key,
                        view.started_at, view.ended_at, view.speed, timeline, tasks, incidents, timers, final,
                        measured, row.drill, elapsed.total_seconds())


def _instance_now(row: InstanceRow, now: datetime | None) -> datetime:
    if now is None:
        return row.updated_at
    if row.speed and row.wall_anchor is not None:
        return row.started_at + (now - row.wall_anchor) * row.speed
    return now


def element_states(session: Session, instance_id: str, now: datetime) -> dict[str, str]:
    """Live state per drawn element, read off the audit trail and the open tasks."""
    row = session.get(InstanceRow, instance_id)
    if row is None:
        raise NotFound(f"no instance '{instance_id}'")
    states: dict[str, str] = {}
    events = session.execute(select(AuditEventRow.kind, AuditEventRow.bpmn_id).where(
        AuditEventRow.instance_id == instance_id, AuditEventRow.bpmn_id.is_not(None)).order_by(AuditEventRow.id))
    for kind, bpmn_id in events:
        bpmn_id = str(bpmn_id)                      # not NULL: the query says so
        if kind.endswith("_completed"):
            states[bpmn_id] = "completed"
        elif kind.endswith("_cancelled"):
            states[bpmn_id] = "cancelled"
        elif kind.endswith("_failed") or kind == "incident_raised":
            states[bpmn_id] = "failed"
        elif kind.endswith(("_ready", "_waiting")):
            states[bpmn_id] = "active"
        elif kind == "incident_resolved":
            states[bpmn_id] = "active"
    for task in list_tasks(session, instance_id=instance_id):
        states[task.bpmn_id] = "overdue" if task.due_at is not None and task.due_at < now else "active"
    for incident in session.scalars(select(IncidentRow).where(IncidentRow.instance_id == instance_id,
                                                              IncidentRow.resolved_at.is_(None))):
        if incident.bpmn_id:
            states[incident.bpmn_id] = "failed"
    return states


def executable_keys(session: Session) -> list[str]:
    """The keys that have an executable version (the inbox's runbook filter): one small query,
    no definition decoded."""
    return list(session.scalars(select(DefinitionRow.key).where(DefinitionRow.executable.is_(True))
                                .distinct().order_by(DefinitionRow.key)))


def task_history(session: Session, task_id: str) -> TaskHistoryView:
    """A task that is no longer open, read off the audit trail (by its task-id index): completed
    (by whom, when) or cancelled.  NotFound for ids the trail does not know, and for tasks still
    open (those are ``get_task``'s)."""
    events = list(session.scalars(select(AuditEventRow).where(AuditEventRow.task_id == task_id)
                                  .order_by(AuditEventRow.id)))
    end = next((e for e in reversed(events) if e.kind.endswith(("_completed", "_cancelled"))), None)
    if end is None or end.instance_id is None:
        raise NotFound(f"no task '{task_id}'")
    ready = next((e for e in events if e.kind.endswith("_ready")), None)
    instance = session.get(InstanceRow, end.instance_id)
    definition = session.get(DefinitionRow, instance.definition_id) if instance is not None else None
    meta = ((definition.tasks or {}).get(end.bpmn_id or "") or {}) if definition is not None else {}
    due = (ready.detail or {}).get("due_at") if ready is not None else None
    completed = end.kind.endswith("_completed")
    return TaskHistoryView(
        task_id, end.instance_id, end.bpmn_id or "", (end.detail or {}).get("name") or meta.get("name") or "",
        meta.get("role"), "completed" if completed else "cancelled", ready.at if ready is not None else None,
        datetime.fromisoformat(due) if due else None, end.at,
        end.actor if completed and end.actor not in (None, "engine") else None,
        definition.key if definition is not None else None, instance.business_key if instance is not None else None)
