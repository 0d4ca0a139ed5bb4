"""After every command: bring an instance's human tasks and timers up to date (only what
changed, in batched statements), append audit events for what changed, and open or resolve
incidents — all in the command's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.durations import add_duration
from engine.errors import InvalidInput
from engine.runtime import statements as sql
from engine.spiff import workflow_ops as ops
from engine.store.models import IncidentRow


class AuditWriter:
    """Collects one command's audit events and writes them in one statement."""

    def __init__(self, instance_id: str, at: Callable[[], datetime], wall: Callable[[], datetime],
                 actor: str | None):
        self.instance_id, self.at, self.wall, self.actor = instance_id, at, wall, actor
        self.rows: list[dict[str, Any]] = []

    def add(self, kind: str, bpmn_id: str | None = None, task_id: str | None = None,
            actor: str | None = None, **detail: Any) -> None:
        self.rows.append({"instance_id": self.instance_id, "at": self.at(), "wall_at": self.wall(),
                          "actor": actor if actor is not None else self.actor, "kind": kind,
                          "bpmn_id": bpmn_id, "task_id": task_id, "detail": detail})

    def write(self, session: Session) -> None:
        if self.rows:
            session.connection().execute(sql.INSERT_AUDIT, self.rows)
            self.rows = []


def audit_changes(audit: AuditWriter, before: dict[str, tuple[int, str]],
                  after: dict[str, tuple[int, str]], tasks_meta: dict[str, Any],
                  completed_by_actor: set[str], due: dict[str, datetime] | None = None) -> None:
    """One event per drawn element that became ready, waiting, completed, cancelled or failed;
    a task that became ready carries its due time (SLA timer or target), as reports need it."""
    kinds = {ops.READY: "ready", ops.WAITING: "waiting", ops.COMPLETED: "completed",
             ops.CANCELLED: "cancelled", ops.ERROR: "failed"}
    for task_id, (state, bpmn_id) in after.items():
        old = before.get(task_id, (None, bpmn_id))[0]
        if state == old or state not in kinds:
            continue
        meta = tasks_meta.get(bpmn_id) or {}
        kind = meta.get("kind") or ""
        if state == ops.WAITING and "Event" not in kind:
            continue
        actor = None if task_id in completed_by_actor else "engine"
        extra = {}
        if state == ops.READY and due and task_id in due:
            extra["due_at"] = due[task_id].isoformat()
        audit.add(f"{_element_word(kind)}_{kinds[state]}", bpmn_id=bpmn_id, task_id=task_id,
                  actor=actor, name=meta.get("name") or bpmn_id, **extra)


def audit_timers_fired(audit: AuditWriter, timers_before: list[ops.PendingTimer],
                       after: dict[str, tuple[int, str]], now: datetime) -> None:
    """A timer that was pending and is now completed fired: say when it was due and how late."""
    for timer in timers_before:
        state = after.get(timer.task_id, (None, timer.bpmn_id))[0]
        if state == ops.COMPLETED or (timer.kind == "cycle" and timer.due_at <= now):
            audit.add("timer_fired", bpmn_id=timer.bpmn_id, task_id=timer.task_id, actor="engine",
                      due_at=timer.due_at.isoformat(), late_seconds=max(0.0, (now - timer.due_at).total_seconds()),
                      attached_to=timer.attached_to)


def _element_word(kind: str) -> str:
    if kind.endswith("Gateway"):
        return "gateway"
    if kind.endswith("Event"):
        return "event"
    return "task"


def sync_human_tasks(session: Session, row: Any, tasks_meta: dict[str, Any],
                     before: list[ops.ReadyTask], after: list[ops.ReadyTask],
                     due: dict[str, datetime], now: datetime) -> None:
    """Delete tasks no longer ready, insert newly ready ones; untouched rows keep their claim."""
    before_ids = {t.task_id for t in before}
    after_ids = {t.task_id for t in after}
    gone = before_ids - after_ids
    if gone:
        session.connection().execute(sql.DELETE_TASKS, {"ids": sorted(gone)})
    new = [t for t in after if t.task_id not in before_ids]
    if not new:
        return
    rows = []
    for task in new:
        meta = tasks_meta.get(task.bpmn_id) or {}
        rows.append({"id": task.task_id, "instance_id": row.id, "bpmn_id": task.bpmn_id, "name": task.name,
                     "role": meta.get("role"), "form": meta.get("form") or [], "ready_at": now,
                     "due_at": due.get(task.task_id), "claimed_by": None, "drill": bool(row.drill)})
    session.connection().execute(sql.INSERT_TASKS, rows)


def due_times(row: Any, tasks_meta: dict[str, Any], ready: list[ops.ReadyTask],
              timers: list[ops.PendingTimer]) -> dict[str, datetime]:
    """Task id -> due time: its boundary timer (the SLA), else its ``target`` from the start."""
    sla: dict[str, datetime] = {}
    for timer in timers:
        if timer.attached_to and (timer.attached_to not in sla or timer.due_at < sla[timer.attached_to]):
            sla[timer.attached_to] = timer.due_at
    due = {}
    for task in ready:
        moment = sla.get(task.bpmn_id) or _target_due(row, tasks_meta.get(task.bpmn_id) or {})
        if moment is not None:
            due[task.task_id] = moment
    return due


def _target_due(row: Any, meta: dict[str, Any]) -> datetime | None:
    target = (meta.get("properties") or {}).get("target")
    if not target:
        return None
    try:
        return add_duration(row.started_at, target, field=f"{meta.get('bpmn_id')}.target")
    except InvalidInput:
        return None


def sync_timers(session: Session, instance_id: str, before: list[ops.PendingTimer],
                after: list[ops.PendingTimer], to_wall: Callable[[datetime], datetime]) -> None:
    """Keep the timers table equal to the pending timers (a cycle's next due time counts as new)."""
    old = {(t.task_id, t.due_at) for t in before}
    current = {(t.task_id, t.due_at) for t in after}
    gone = {task_id for task_id, _ in old - current}
    if gone:
        session.connection().execute(sql.DELETE_TIMERS, {"ids": sorted(gone)})
    fresh = [t for t in after if (t.task_id, t.due_at) not in old]
    if fresh:
        session.connection().execute(sql.INSERT_TIMERS, [
            {"id": t.task_id, "instance_id": instance_id, "bpmn_id": t.bpmn_id, "kind": t.kind,
             "due_at": t.due_at, "wake_at": to_wall(t.due_at)} for t in fresh])


def record_incident(session: Session, instance_id: str, failure: ops.Failure, now: datetime,
                    audit: AuditWriter) -> None:
    open_same = session.scalars(select(IncidentRow.id).where(
        IncidentRow.instance_id == instance_id, IncidentRow.resolved_at.is_(None),
        IncidentRow.message == failure.message)).first()
    if open_same is not None:
        return                      # the same failure again: already on record
    session.add(IncidentRow(instance_id=instance_id, task_id=failure.task_id, bpmn_id=failure.bpmn_id,
                            message=failure.message, line=failure.line, created_at=now))
    audit.add("incident_raised", bpmn_id=failure.bpmn_id, task_id=failure.task_id, actor="engine",
              message=failure.message, line=failure.line)


def resolve_incidents(session: Session, instance_id: str, now: datetime, audit: AuditWriter) -> None:
    for incident in session.scalars(select(IncidentRow).where(
            IncidentRow.instance_id == instance_id, IncidentRow.resolved_at.is_(None))):
        incident.resolved_at = now
        audit.add("incident_resolved", bpmn_id=incident.bpmn_id, task_id=incident.task_id,
                  incident_id=incident.id)
