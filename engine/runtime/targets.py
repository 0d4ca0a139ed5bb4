"""Targets of a run, measured: for every step with a ``target`` or ``rto`` property, when it
was done (offset from the incident start) against the target.

"Supervisor notified at +7m, target 10m: met" is read off the audit trail, never typed in.
One judgement (``judge``) serves the incident page, the API, ``contiflow show`` and the drill
report, so they cannot disagree.  Red (``missed``) only when the deadline passed while the
step was still due:

- ``met`` / ``missed``: done before / after its target, or still due when the target passed;
- ``open``: still due, target not yet passed;
- ``not_needed``: its branch was never taken (the supervisor acknowledged, so the backup's
  acknowledgement never became due) or the run finished without it;
- ``cancelled``: withdrawn (an escalation, a cancelled incident) before its target passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.clock import format_duration
from engine.durations import parse_duration
from engine.errors import InvalidInput
from engine.views import TimelineEvent

STATUSES = ("met", "missed", "open", "not_needed", "cancelled")


@dataclass(frozen=True)
class TargetResult:
    bpmn_id: str
    name: str
    kind: str                   # target | rto
    target: timedelta
    done_offset: timedelta | None
    status: str                 # one of STATUSES

    def to_json(self) -> dict[str, Any]:
        return {"bpmn_id": self.bpmn_id, "name": self.name, "kind": self.kind,
                "target": format_duration(self.target),
                "done_offset": format_duration(self.done_offset) if self.done_offset is not None else None,
                "status": self.status, "met": self.status == "met"}

    def sentence(self) -> str:
        label = "RTO" if self.kind == "rto" else "target"
        status = self.status.replace("_", " ")
        if self.done_offset is None:
            return f"{self.name}: not done, {label} {_short(self.target)}: {status}"
        return f"{self.name} at +{_short(self.done_offset)}, {label} {_short(self.target)}: {status}"


def _short(delta: timedelta) -> str:
    return format_duration(delta).removeprefix("PT").removeprefix("P").lower()


@dataclass
class StepTrace:
    """What the audit trail says of one step (all offsets in seconds from the start)."""

    done: float | None = None          # first completion
    withdrawn: float | None = None     # cancelled (escalation, cancelled incident) while due
    reached: bool = False              # became ready at least once
    due_now: bool = False              # ready and neither completed nor cancelled since


def judge(target: float, step: StepTrace, *, instance_status: str, now: float, end: float | None,
          still_reachable: bool = True) -> str:
    """The status of one target (seconds from the start); ``now`` is the instance's current
    offset, ``end`` its end offset once completed or cancelled."""
    if step.done is not None:
        return "met" if step.done <= target else "missed"
    if step.due_now:
        if instance_status in ("completed", "cancelled"):
            stopped = end if end is not None else now
            return "missed" if stopped >= target else "cancelled"
        return "missed" if now >= target else "open"
    if step.withdrawn is not None:
        return "missed" if step.withdrawn >= target else "cancelled"
    if instance_status == "completed":
        return "not_needed"
    if instance_status == "cancelled":
        return "cancelled"
    if not still_reachable:
        return "not_needed"
    return "missed" if now >= target else "open"


def traces(timeline: list[TimelineEvent]) -> dict[str, StepTrace]:
    out: dict[str, StepTrace] = {}
    for event in timeline:
        if not event.bpmn_id or event.kind not in ("task_ready", "task_completed", "task_cancelled"):
            continue
        step = out.setdefault(event.bpmn_id, StepTrace())
        if event.kind == "task_ready":
            step.reached = step.due_now = True
        elif event.kind == "task_completed":
            step.due_now = False
            if step.done is None:
                step.done = event.offset_seconds
        elif step.due_now:
            step.due_now = False
            step.withdrawn = event.offset_seconds
    return out


def target_of(bpmn_id: str, meta: dict[str, Any], kind: str) -> timedelta | None:
    value = (meta.get("properties") or {}).get(kind)
    if not value:
        return None
    try:
        return parse_duration(str(value), field=f"{bpmn_id}.{kind}")
    except InvalidInput:
        return None


def measure(tasks_meta: dict[str, Any], timeline: list[TimelineEvent], now_offset: timedelta,
            instance_status: str, pending: set[str] | None = None) -> list[TargetResult]:
    """``pending``: the steps the run can still reach (None when unknown: all of them)."""
    steps = traces(timeline)
    now = now_offset.total_seconds()
    end = now if instance_status in ("completed", "cancelled") else None
    results = []
    for bpmn_id, meta in tasks_meta.items():
        for kind in ("target", "rto"):
            target = target_of(bpmn_id, meta, kind)
            if target is None:
                continue
            step = steps.get(bpmn_id, StepTrace())
            reachable = pending is None or bpmn_id in pending
            status = judge(target.total_seconds(), step, instance_status=instance_status, now=now, end=end,
                           still_reachable=reachable)
            offset = timedelta(seconds=step.done) if step.done is not None else None
            results.append(TargetResult(bpmn_id, meta.get("name") or bpmn_id, kind, target, offset, status))
    return sorted(results, key=lambda r: (r.target, r.bpmn_id))


def offset_now(started_at: datetime, now: datetime) -> timedelta:
    return now - started_at
