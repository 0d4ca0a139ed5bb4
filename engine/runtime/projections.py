"""After every command: rewrite an instance's human tasks and timers, append audit events for
what changed, and open or resolve incidents — all in the command's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.durations import add_duration
from engine.errors import InvalidInput
from engine.spiff import workflow_ops as ops
from engine.store.models import AuditEventRow, DefinitionRow, HumanTaskRow, IncidentRow, InstanceRow, TimerRow


class AuditWriter:
    """Collects audit events for one command; times come from the instance and engine clocks."""

    def __init__(self, session: Session, instance_id: str, at: Callable[[], datetime],
                 wall: Callable[[], datetime], actor: str | None):
        self.session, self.instance_id, self.at, self.wall, self.actor = session, instance_id, at, wall, actor

    def add(self, kind: str, bpmn_id: str | None = None, task_id: str | None = None,
            actor: str | None = None, **detail: Any) -> None:
        self.session.add(AuditEventRow(instance_id=self.instance_id, at=self.at(), wall_at=self.wall(),
                                       actor=actor if actor is not None else self.actor, kind=kind,
                                       bpmn_id=bpmn_id, task_id=task_id, detail=detail))


def audit_changes(audit: AuditWriter, before: dict[str, tuple[int, str]],
                  after: dict[str, tuple[int, str]], tasks_meta: dict[str, Any],
                  completed_by_actor: set[str]) -> None:
    """One event per drawn element that became ready, waiting, completed, cancelled or failed."""
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
        audit.add(f"{_element_word(kind)}_{kinds[state]}", bpmn_id=bpmn_id, task_id=task_id,
                  actor=actor, name=meta.get("name") or bpmn_id)


def audit_timers_fired(audit: AuditWriter, timers_before: list[ops.PendingTimer],
                       after: dict[str, tuple[int, str]], now: datetime) -> None:
    """A timer that was pending and is now completed fired: say when it was due and how late."""
    for timer in timers_before:
        state = after.get(timer.task_id, (None, timer.bpmn_id))[0]
        fired = state == ops.COMPLETED or (timer.kind == "cycle" and timer.due_at <= now)
        if fired:
            audit.add("timer_fired", bpmn_id=timer.bpmn_id, task_id=timer.task_id, actor="engine",
                      due_at=timer.due_at.isoformat(), late_seconds=max(0.0, (now - timer.due_at).total_seconds()),
                      attached_to=timer.attached_to)


def _element_word(kind: str) -> str:
    if kind.endswith("Gateway"):
        return "gateway"
    if kind.endswith("Event"):
        return "event"
    return "task"


def rewrite_human_tasks(session: Session, row: InstanceRow, definition: DefinitionRow,
                        ready: list[ops.ReadyTask], timers: list[ops.PendingTimer], now: datetime) -> None:
    previous = {t.id: t for t in session.scalars(select(HumanTaskRow).where(HumanTaskRow.instance_id == row.id))}
    session.execute(delete(HumanTaskRow).where(HumanTaskRow.instance_id == row.id))
    sla = {}
    for timer in timers:
        if timer.attached_to and (timer.attached_to not in sla or timer.due_at < sla[timer.attached_to]):
            sla[timer.attached_to] = timer.due_at
    for task in ready:
        meta = definition.tasks.get(task.bpmn_id) or {}
        old = previous.get(task.task_id)
        session.add(HumanTaskRow(
            id=task.task_id, instance_id=row.id, bpmn_id=task.bpmn_id, name=task.name,
            role=meta.get("role"), form=meta.get("form") or [],
            ready_at=old.ready_at if old else now,
            due_at=sla.get(task.bpmn_id) or _target_due(row, meta),
            claimed_by=old.claimed_by if old else None))


def _target_due(row: InstanceRow, meta: dict[str, Any]) -> datetime | None:
    target = (meta.get("properties") or {}).get("target")
    if not target:
        return None
    try:
        return add_duration(row.started_at, target, field=f"{meta.get('bpmn_id')}.target")
    except InvalidInput:
        return None


def rewrite_timers(session: Session, row: InstanceRow, timers: list[ops.PendingTimer],
                   to_wall: Callable[[datetime], datetime]) -> None:
    session.execute(delete(TimerRow).where(TimerRow.instance_id == row.id))
    for timer in timers:
        session.add(TimerRow(id=timer.task_id, instance_id=row.id, bpmn_id=timer.bpmn_id,
                             kind=timer.kind, due_at=timer.due_at, wake_at=to_wall(timer.due_at)))


def record_incident(session: Session, row: InstanceRow, failure: ops.Failure, now: datetime,
                    audit: AuditWriter) -> None:
    open_same = session.scalars(select(IncidentRow).where(
        IncidentRow.instance_id == row.id, IncidentRow.resolved_at.is_(None),
        IncidentRow.message == failure.message)).first()
    if open_same is None:
        session.add(IncidentRow(instance_id=row.id, task_id=failure.task_id, bpmn_id=failure.bpmn_id,
                                message=failure.message, line=failure.line, created_at=now))
    audit.add("incident_raised", bpmn_id=failure.bpmn_id, task_id=failure.task_id, actor="engine",
              message=failure.message, line=failure.line)


def resolve_incidents(session: Session, row: InstanceRow, now: datetime, audit: AuditWriter) -> None:
    for incident in session.scalars(select(IncidentRow).where(
            IncidentRow.instance_id == row.id, IncidentRow.resolved_at.is_(None))):
        incident.resolved_at = now
        audit.add("incident_resolved", bpmn_id=incident.bpmn_id, task_id=incident.task_id,
                  incident_id=incident.id)
