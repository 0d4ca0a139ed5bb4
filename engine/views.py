"""The small read-only shapes the engine hands to the CLI and the web app (never ORM rows,
never SpiffWorkflow objects).  ``to_json`` gives the documented JSON field names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.clock import format_duration, isoformat


@dataclass(frozen=True)
class DefinitionView:
    key: str
    version: int
    name: str
    executable: bool
    sha256: str
    created_at: datetime
    warnings: list[str]
    properties: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "version": self.version, "name": self.name,
                "executable": self.executable, "sha256": self.sha256,
                "created_at": isoformat(self.created_at), "warnings": self.warnings,
                "properties": self.properties}


@dataclass(frozen=True)
class ImportedProcess:
    file: str
    key: str
    version: int
    executable: bool
    new_version: bool
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "version": self.version,
                "executable": self.executable, "new_version": self.new_version,
                "warnings": self.warnings}


@dataclass(frozen=True)
class TaskView:
    task_id: str
    instance_id: str
    bpmn_id: str
    name: str
    role: str | None
    due_at: datetime | None
    form: list[dict[str, Any]]
    ready_at: datetime | None = None
    claimed_by: str | None = None
    drill: bool = False
    key: str | None = None                 # definition key, when the query joined it in
    business_key: str | None = None        # the instance's business key, likewise

    def to_json(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "instance_id": self.instance_id, "bpmn_id": self.bpmn_id,
                "name": self.name, "role": self.role, "due_at": isoformat(self.due_at),
                "form": self.form, "ready_at": isoformat(self.ready_at),
                "claimed_by": self.claimed_by, "drill": self.drill}


@dataclass(frozen=True)
class TaskHistoryView:
    """A task that is no longer open, from the audit trail: who completed it and when, or when
    it was withdrawn (an escalation, a cancellation) -- what a Camunda history query answers."""
    task_id: str
    instance_id: str
    bpmn_id: str
    name: str
    role: str | None
    status: str                            # completed | cancelled
    ready_at: datetime | None
    due_at: datetime | None
    ended_at: datetime
    completed_by: str | None               # None: completed by the engine, or cancelled
    key: str | None = None
    business_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        completed = self.status == "completed"
        return {"task_id": self.task_id, "instance_id": self.instance_id, "bpmn_id": self.bpmn_id,
                "name": self.name, "role": self.role, "due_at": isoformat(self.due_at), "form": [],
                "ready_at": isoformat(self.ready_at), "status": self.status,
                "completed_by": self.completed_by if completed else None,
                "completed_at": isoformat(self.ended_at) if completed else None,
                "ended_at": isoformat(self.ended_at), "key": self.key, "business_key": self.business_key}


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    wall_at: datetime
    offset_seconds: float
    kind: str
    actor: str | None
    bpmn_id: str | None
    detail: dict[str, Any]
    task_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        from datetime import timedelta
        return {"at": isoformat(self.at), "wall_at": isoformat(self.wall_at),
                "offset": format_duration(timedelta(seconds=self.offset_seconds)),
                "kind": self.kind, "actor": self.actor, "bpmn_id": self.bpmn_id,
                "task_id": self.task_id, "detail": self.detail}


@dataclass(frozen=True)
class IncidentView:
    id: int
    task_id: str | None
    bpmn_id: str | None
    message: str
    line: int | None
    created_at: datetime
    resolved_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "task_id": self.task_id, "bpmn_id": self.bpmn_id,
                "message": self.message, "line": self.line,
                "created_at": isoformat(self.created_at), "resolved_at": isoformat(self.resolved_at)}


@dataclass(frozen=True)
class TimerView:
    bpmn_id: str
    kind: str
    due_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"bpmn_id": self.bpmn_id, "kind": self.kind, "due_at": isoformat(self.due_at)}


@dataclass(frozen=True)
class InstanceView:
    instance_id: str
    key: str
    version: int
    status: str
    business_key: str | None
    started_at: datetime
    ended_at: datetime | None
    speed: float | None = None
    timeline: list[TimelineEvent] = field(default_factory=list)
    tasks: list[TaskView] = field(default_factory=list)
    incidents: list[IncidentView] = field(default_factory=list)
    timers: list[TimerView] = field(default_factory=list)
    data: dict[str, Any] | None = None
    targets: list[Any] = field(default_factory=list)
    drill: bool = False
    elapsed_seconds: float | None = None      # the instance's own clock: now (or its end) from the start

    def summary_json(self) -> dict[str, Any]:
        return {"instance_id": self.instance_id, "key": self.key, "version": self.version,
                "status": self.status, "business_key": self.business_key,
                "started_at": isoformat(self.started_at), "ended_at": isoformat(self.ended_at),
                "speed": self.speed, "drill": self.drill}

    def to_json(self) -> dict[str, Any]:
        out = self.summary_json()
        out.update({
            "timeline": [e.to_json() for e in self.timeline],
            "tasks": [t.to_json() for t in self.tasks],
            "incidents": [i.to_json() for i in self.incidents],
            "timers": [t.to_json() for t in self.timers],
            "data": self.data,
            "targets": [t.to_json() for t in self.targets],
        })
        return out
