"""Targets of a run, measured: for every step with a ``target`` or ``rto`` property, when it
was done (offset from the incident start) against the target — met, missed or still open.

"Supervisor notified at +7m, target 10m: met" is read off the audit trail, never typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.clock import format_duration
from engine.durations import parse_duration
from engine.errors import InvalidInput
from engine.views import TimelineEvent


@dataclass(frozen=True)
class TargetResult:
    bpmn_id: str
    name: str
    kind: str                   # target | rto
    target: timedelta
    done_offset: timedelta | None
    status: str                 # met | missed | open | skipped (path not taken)

    def to_json(self) -> dict[str, Any]:
        return {"bpmn_id": self.bpmn_id, "name": self.name, "kind": self.kind,
                "target": format_duration(self.target),
                "done_offset": format_duration(self.done_offset) if self.done_offset is not None else None,
                "status": self.status, "met": self.status == "met"}

    def sentence(self) -> str:
        label = "RTO" if self.kind == "rto" else "target"
        if self.done_offset is None:
            return f"{self.name}: not done, {label} {_short(self.target)}: {self.status}"
        return f"{self.name} at +{_short(self.done_offset)}, {label} {_short(self.target)}: {self.status}"


def _short(delta: timedelta) -> str:
    return format_duration(delta).removeprefix("PT").removeprefix("P").lower()


def measure(tasks_meta: dict[str, Any], timeline: list[TimelineEvent], now_offset: timedelta,
            finished: bool) -> list[TargetResult]:
    done: dict[str, float] = {}
    cancelled: set[str] = set()
    for event in timeline:
        if event.bpmn_id and event.kind == "task_completed":
            done.setdefault(event.bpmn_id, event.offset_seconds)
        elif event.bpmn_id and event.kind == "task_cancelled":
            cancelled.add(event.bpmn_id)
    results = []
    for bpmn_id, meta in tasks_meta.items():
        props = meta.get("properties") or {}
        for kind in ("target", "rto"):
            if not props.get(kind):
                continue
            try:
                target = parse_duration(str(props[kind]), field=f"{bpmn_id}.{kind}")
            except InvalidInput:
                continue
            offset = timedelta(seconds=done[bpmn_id]) if bpmn_id in done else None
            if offset is not None:
                status = "met" if offset <= target else "missed"
            elif now_offset >= target or bpmn_id in cancelled:
                status = "missed"          # overdue, or withdrawn by an escalation
            else:
                status = "skipped" if finished else "open"
            results.append(TargetResult(bpmn_id, meta.get("name") or bpmn_id, kind, target, offset, status))
    return sorted(results, key=lambda r: (r.target, r.bpmn_id))


def offset_now(started_at: datetime, now: datetime) -> timedelta:
    return now - started_at
