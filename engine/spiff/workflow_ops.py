"""Everything the runtime does to a live SpiffWorkflow workflow, as small plain functions.

The runtime above sees only our dataclasses (``Snapshot``, ``ReadyTask``, ``PendingTimer``,
``Failure``); it never touches SpiffWorkflow objects itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

import engine.spiff.limits  # noqa: F401  (lifts the silent depth limit on import)
from engine.clock import Clock, as_utc
from engine.errors import ScriptError
from engine.spiff.timer_bridge import clock_in_effect

#: Internal spec names that are not BPMN elements a user drew.
_INTERNAL = {"Root", "Start", "End"}


@dataclass(frozen=True)
class ReadyTask:
    task_id: str
    bpmn_id: str
    name: str
    data: dict[str, Any]


@dataclass(frozen=True)
class PendingTimer:
    task_id: str
    bpmn_id: str
    kind: str            # duration | date | cycle
    due_at: datetime
    attached_to: str | None   # bpmn id of the task a boundary timer guards


@dataclass(frozen=True)
class Failure:
    """Why the instance stopped: becomes an incident."""

    message: str
    task_id: str | None
    bpmn_id: str | None
    line: int | None


def _all_tasks(wf: BpmnWorkflow) -> list[Any]:
    tasks = list(wf.tasks.values())
    for sub in wf.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return tasks


def bpmn_id(task: Any) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def visible(task: Any) -> bool:
    spec = task.task_spec
    return getattr(spec, "bpmn_id", None) is not None and spec.name not in _INTERNAL


def snapshot(wf: BpmnWorkflow) -> dict[str, tuple[int, str]]:
    """task id -> (state, bpmn id) of every drawn element, to diff before/after a command."""
    return {str(t.id): (t.state, bpmn_id(t)) for t in _all_tasks(wf) if visible(t)}


def ready_human_tasks(wf: BpmnWorkflow) -> list[ReadyTask]:
    out = []
    for task in _all_tasks(wf):
        if task.state == TaskState.READY and task.task_spec.manual:
            spec = task.task_spec
            out.append(ReadyTask(str(task.id), bpmn_id(task), spec.bpmn_name or bpmn_id(task),
                                 dict(task.data)))
    return out


def pending_timers(wf: BpmnWorkflow) -> list[PendingTimer]:
    """Timers waiting to fire with their due time on the instance clock."""
    out = []
    for task in list(wf.event_manager.tasks.values()):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition) or task.state != TaskState.WAITING:
            continue
        value = task.internal_data.get("event_value")
        if value is None:
            continue
        if isinstance(definition, CycleTimerEventDefinition):
            if not isinstance(value, dict) or value.get("cycles") == 0:
                continue
            due, kind = TimerEventDefinition.get_datetime(value["next"]), "cycle"
        elif isinstance(definition, TimeDateEventDefinition):
            due, kind = TimerEventDefinition.parse_time_or_duration(value), "date"
        else:
            due, kind = TimerEventDefinition.get_datetime(value), "duration"
        attached = None
        parent = task.parent
        if parent is not None and parent.task_spec.__class__.__name__ == "BoundaryEventSplit":
            host = next((c for c in parent.children if c is not task and not _is_event(c)), None)
            attached = bpmn_id(host) if host is not None else None
        out.append(PendingTimer(str(task.id), bpmn_id(task), kind, as_utc(due), attached))
    return out


def _is_event(task: Any) -> bool:
    return getattr(task.task_spec, "event_definition", None) is not None


#: automatic steps one command may run before the instance is stopped as an endless loop
MAX_STEPS_PER_COMMAND = 50_000


class EndlessLoop(Exception):
    """Too many automatic steps without waiting for a person or a timer."""


def advance(wf: BpmnWorkflow, clock: Clock, max_steps: int = MAX_STEPS_PER_COMMAND) -> Failure | None:
    """Fire due timers and run every automatic step; a failure is returned, never raised.

    SpiffWorkflow fires a timer only when ``due < now``; a timer is due *at* its time, so
    timers are refreshed with the clock nudged by one microsecond (10 minutes means 10:00,
    not 10:00.000001 — nor 9:59).
    """
    steps = 0

    def count(task: Any) -> None:
        nonlocal steps
        steps += 1
        if steps > max_steps:
            raise EndlessLoop(f"more than {max_steps} automatic steps without waiting for a person or a "
                              f"timer (last: {bpmn_id(task)}): an endless loop? The instance was stopped")

    try:
        for _ in range(10):
            with clock_in_effect(_Nudged(clock)):
                wf.refresh_timers()
            wf.do_engine_steps(will_complete_task=count)
            now = clock.now()
            if not any(t.due_at <= now for t in pending_timers(wf)):
                break          # nothing else fell due while the steps ran
    except Exception as exc:  # noqa: BLE001 - every failure becomes an incident
        return failure_from(exc, wf)
    return None


class _Nudged:
    def __init__(self, clock: Clock):
        self.clock = clock

    def now(self) -> datetime:
        return self.clock.now() + timedelta(microseconds=1)


def complete_task(wf: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> Any:
    task = find_task(wf, task_id)
    task.data.update(data)
    task.run()
    share_with_other_branches(wf, task, data)
    return task


def share_with_other_branches(wf: BpmnWorkflow, source: Any, data: dict[str, Any]) -> None:
    """Submitted form data is process-scoped, as modelers (Camunda) draw it.

    SpiffWorkflow gives every parallel branch its own copy of the data taken at the split, so
    a watch branch waiting on a timer ("payment restored within the RTO?") would never see
    the answer given in the other branch.  Tasks that are waiting, ready or running get the
    submitted values, and so do their finished parents: SpiffWorkflow re-merges a waiting
    task's data from its parent each time it checks a timer, parent values winning."""
    if not data:
        return
    live = TaskState.WAITING | TaskState.READY | TaskState.STARTED
    for task in _all_tasks(wf):
        if task is not source and task.state & live:
            task.data.update(data)
            parent = task.parent
            if parent is not None and parent.state & TaskState.FINISHED_MASK:
                parent.data.update(data)


def find_task(wf: BpmnWorkflow, task_id: str) -> Any:
    from uuid import UUID
    try:
        return wf.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, TypeError):
        return None


def task_state(task: Any) -> int:
    return task.state


def is_ready_human(task: Any) -> bool:
    return task is not None and task.state == TaskState.READY and task.task_spec.manual


def errored_tasks(wf: BpmnWorkflow) -> list[Any]:
    return [t for t in _all_tasks(wf) if t.state == TaskState.ERROR]


def reset_for_retry(wf: BpmnWorkflow, data: dict[str, Any]) -> list[str]:
    """Put failed tasks back to READY (with the corrected data merged) so they run again."""
    ids = []
    for task in errored_tasks(wf):
        task.data.update(data)
        task._set_state(TaskState.READY)
        ids.append(bpmn_id(task))
        share_with_other_branches(wf, task, data)
    return ids


def cancel(wf: BpmnWorkflow) -> None:
    wf.cancel()


def is_completed(wf: BpmnWorkflow) -> bool:
    return wf.is_completed()


def final_data(wf: BpmnWorkflow) -> dict[str, Any]:
    if wf.data:
        return dict(wf.data)
    last = wf.last_task
    return dict(last.data) if last is not None else {}


def failure_from(exc: BaseException, wf: BpmnWorkflow | None = None) -> Failure:
    task = getattr(exc, "task", None)
    line = getattr(exc, "line_number", None) or None
    inner = getattr(exc, "exception", None) or exc.__cause__
    if isinstance(inner, ScriptError) and inner.line:
        line = inner.line
    message = (str(exc) if isinstance(exc, (SpiffWorkflowException, EndlessLoop))
               else f"{exc.__class__.__name__}: {exc}")
    if isinstance(inner, ScriptError) and str(inner) not in message:
        message = f"{message}: {inner}"
    if task is None and wf is not None:
        bad = errored_tasks(wf)
        task = bad[0] if bad else None
    return Failure(message=message.strip(), task_id=str(task.id) if task is not None else None,
                   bpmn_id=bpmn_id(task) if task is not None else None,
                   line=line if isinstance(line, int) and line > 0 else None)


def state_name(state: int) -> str:
    return TaskState.get_name(state)


COMPLETED = TaskState.COMPLETED
CANCELLED = TaskState.CANCELLED
READY = TaskState.READY
WAITING = TaskState.WAITING
ERROR = TaskState.ERROR
