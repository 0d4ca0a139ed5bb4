"""Printing for the CLI: human text or ``--json`` (JSON on stdout, nothing else)."""

from __future__ import annotations

import json
import sys
from typing import Any

from engine.clock import isoformat
from engine.views import InstanceView, TaskView


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"contiflow: {message.splitlines()[0] if message else 'failed'}\n")
    return code


def task_line(task: TaskView) -> str:
    due = isoformat(task.due_at) or "-"
    fields = ",".join(f["id"] + ("*" if f.get("required") else "") for f in task.form) or "-"
    return (f"{task.task_id}  {task.instance_id}  {task.bpmn_id}  {task.name!r}  "
            f"role={task.role or '-'}  due={due}  form={fields}")


def instance_text(view: InstanceView) -> str:
    lines = [f"instance {view.instance_id}  {view.key} v{view.version}  status={view.status}",
             f"started {isoformat(view.started_at)}" + (f"  ended {isoformat(view.ended_at)}" if view.ended_at else "")
             + (f"  speed x{view.speed:g}" if view.speed else "")]
    if view.tasks:
        lines.append("open tasks:")
        lines.extend("  " + task_line(t) for t in view.tasks)
    if view.timers:
        lines.append("pending timers:")
        lines.extend(f"  {t.bpmn_id} ({t.kind}) due {isoformat(t.due_at)}" for t in view.timers)
    if view.incidents:
        lines.append("incidents:")
        for inc in view.incidents:
            where = f"{inc.bpmn_id or '-'}" + (f" line {inc.line}" if inc.line else "")
            state = "resolved" if inc.resolved_at else "OPEN"
            lines.append(f"  [{state}] {where}: {inc.message}")
    if view.targets:
        lines.append("targets:")
        lines.extend(f"  {t.sentence()}" for t in view.targets)
    lines.append("timeline:")
    for event in view.timeline:
        e = event.to_json()
        who = f" by {event.actor}" if event.actor and event.actor != "engine" else ""
        what = event.detail.get("name") or event.detail.get("message") or ""
        lines.append(f"  {e['wall_at']}  +{e['offset']:<10} {event.kind:<22} {event.bpmn_id or ''} {what}{who}")
    return "\n".join(lines)
