"""The exercise report: per step the role, ready and done offsets, target, and met or missed;
the escalations taken; every target (notification, meeting, RTO); corrective actions for each
miss — all read off the run's audit trail (ISO 22301 clause 8.5 evidence)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.clock import as_utc, format_duration, isoformat
from engine.durations import parse_duration
from engine.errors import InvalidInput
from engine.runtime import targets
from engine.views import InstanceView, TimelineEvent


def _offset(seconds: float | None) -> str | None:
    return None if seconds is None else format_duration(timedelta(seconds=seconds))


def _target_seconds(event: TimelineEvent, started_at: datetime, meta: dict[str, Any]) -> float | None:
    due = event.detail.get("due_at")
    if due:
        return (as_utc(datetime.fromisoformat(due)) - started_at).total_seconds()
    props = meta.get("properties") or {}
    for kind in ("target", "rto"):
        if props.get(kind):
            try:
                return parse_duration(str(props[kind])).total_seconds()
            except InvalidInput:
                return None
    return None


def steps(view: InstanceView, tasks_meta: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per human task that became ready, in the order they did."""
    rows: dict[str, dict[str, Any]] = {}
    escalated = {(e.detail.get("attached_to"), e.offset_seconds) for e in view.timeline if e.kind == "timer_fired"}
    for event in view.timeline:
        meta = tasks_meta.get(event.bpmn_id or "") or {}
        if event.kind == "task_ready" and event.task_id:
            rows[event.task_id] = {
                "bpmn_id": event.bpmn_id, "name": meta.get("name") or event.bpmn_id, "role": meta.get("role"),
                "status": "open", "ready_offset": event.offset_seconds, "done_offset": None,
                "target_seconds": _target_seconds(event, view.started_at, meta), "actor": None}
        elif event.task_id in rows and event.kind in ("task_completed", "task_cancelled"):
            row = rows[event.task_id]
            row["done_offset"] = event.offset_seconds
            row["actor"] = event.actor
            if event.kind == "task_completed":
                row["status"] = "completed"
            else:
                row["status"] = "escalated" if (row["bpmn_id"], event.offset_seconds) in escalated else "cancelled"
    now = view.elapsed_seconds if view.elapsed_seconds is not None else _end_offset(view)
    end = _end_offset(view) if view.status in ("completed", "cancelled") else None
    out = []
    for row in rows.values():
        target = row.pop("target_seconds")
        done = row["done_offset"] if row["status"] == "completed" else None
        status = None if target is None else targets.judge(
            target, _trace(row), instance_status=view.status, now=now, end=end)
        out.append({**row, "ready_offset": _offset(row["ready_offset"]), "done_offset": _offset(row["done_offset"]),
                    "target": _offset(target), "achieved": _offset(done), "target_status": status,
                    "met": {"met": True, "missed": False}.get(status or "")})
    return out


def _trace(row: dict[str, Any]) -> targets.StepTrace:
    """The judgement's view of one report row (a task that became ready)."""
    done = row["done_offset"] if row["status"] == "completed" else None
    withdrawn = row["done_offset"] if row["status"] in ("cancelled", "escalated") else None
    return targets.StepTrace(done=done, withdrawn=withdrawn, reached=True, due_now=row["status"] == "open")


def _end_offset(view: InstanceView) -> float:
    end = view.ended_at or (view.timeline[-1].at if view.timeline else view.started_at)
    return (end - view.started_at).total_seconds()


def escalations(view: InstanceView) -> list[dict[str, Any]]:
    out = []
    for index, event in enumerate(view.timeline):
        if event.kind != "timer_fired" or not event.detail.get("attached_to"):
            continue
        took_over = [e.bpmn_id for e in view.timeline[index + 1:]
                     if e.kind == "task_ready" and e.offset_seconds == event.offset_seconds]
        out.append({"from": event.detail["attached_to"], "timer": event.bpmn_id,
                    "at": _offset(event.offset_seconds), "to": took_over})
    return out


def corrective_actions(step_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    actions = []
    for row in step_rows:
        if row["met"] is not False:
            continue
        if row["status"] == "escalated":
            text = (f"'{row['name']}' was not done within its target ({row['target']}) and was escalated at "
                    f"{row['done_offset']}: review the {row['role'] or 'responsible'} role's availability "
                    f"and alerting.")
        else:
            text = (f"'{row['name']}' was done at {row['achieved'] or 'never'}, target {row['target']}: "
                    f"find out why and shorten the step.")
        actions.append({"bpmn_id": row["bpmn_id"], "owner_role": row["role"], "description": text})
    return actions


def build(view: InstanceView, tasks_meta: dict[str, Any], scenario: dict[str, Any], kind: str,
          roles: dict[str, list[str]], stopped_reason: str | None) -> dict[str, Any]:
    step_rows = steps(view, tasks_meta)
    used_roles = sorted({r["role"] for r in step_rows if r["role"]})
    notifications = [{"at": _offset(e.offset_seconds), "to": e.detail.get("to"), "subject": e.detail.get("subject"),
                      "recipients": e.detail.get("recipients", [])}
                     for e in view.timeline if e.kind in ("notification_recorded", "notification_queued")]
    end = view.ended_at or (view.timeline[-1].at if view.timeline else view.started_at)
    return {
        "runbook": view.key, "version": view.version, "kind": kind, "instance_status": view.status,
        "stopped_reason": stopped_reason, "scenario": scenario,
        "started_at": isoformat(view.started_at), "duration": format_duration(end - view.started_at),
        "participants": {role: roles.get(role, []) for role in used_roles},
        "steps": step_rows, "escalations": escalations(view),
        "targets": [t.to_json() for t in view.targets],
        "notifications": notifications,
        "corrective_actions": corrective_actions(step_rows),
        "timeline": [e.to_json() for e in view.timeline],
    }


def markdown(report: dict[str, Any]) -> str:
    stopped = f" ({report['stopped_reason']})" if report["stopped_reason"] else ""
    lines = [f"# Exercise report: {report['runbook']} v{report['version']} ({report['kind']} drill)", "",
             f"- Started: {report['started_at']}; virtual duration {report['duration']}; "
             f"outcome: {report['instance_status']}{stopped}",
             "- Participants: " + ("; ".join(f"{r}: {', '.join(m) or '-'}" for r, m in report["participants"].items())
                                   or "-"), "",
             "## Steps", "", "| step | role | status | ready | done | target | met |", "|---|---|---|---|---|---|---|"]
    for s in report["steps"]:
        met = {"missed": "**missed**", None: "-"}.get(s.get("target_status"), (s.get("target_status") or "-").replace("_", " "))
        lines.append(f"| {s['name']} | {s['role'] or '-'} | {s['status']} | +{s['ready_offset']} | "
                     f"{'+' + s['done_offset'] if s['done_offset'] else '-'} | {s['target'] or '-'} | {met} |")
    lines += ["", "## Escalations", ""]
    lines += [f"- {e['from']} escalated at +{e['at']} by {e['timer']} → {', '.join(e['to']) or '-'}"
              for e in report["escalations"]] or ["- none"]
    lines += ["", "## Targets", ""]
    lines += [f"- {t['bpmn_id']} ({t['kind']} {t['target']}): {t['status']}" for t in report["targets"]] or ["- none"]
    lines += ["", "## Corrective actions", ""]
    lines += [f"- [{a['owner_role'] or 'unassigned'}] {a['description']}"
              for a in report["corrective_actions"]] or ["- none: every target was met"]
    return "\n".join(lines) + "\n"
