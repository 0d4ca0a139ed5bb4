"""Observed KPIs from execution history: cycle time per process and step, SLA timeout rate,
MTTA and MTTR — the figures the plan's optimisation targets and threshold alerts are read from.

Definitions (README, "Process analysis"):
- cycle time: start to end of completed instances; per step: ready to completed.
- SLA timeout rate: share of instances in which a boundary timer (a task's SLA) fired; per
  step: its timeouts over the times it became ready.
- MTTA: start to the first step completed by a person (acknowledgement); MTTR: start to end
  of completed instances (the incident resolved).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from engine.analysis import stats
from engine.analysis.history import Event, Run


def _hours(values: list[float]) -> dict[str, Any]:
    return {"count": len(values), "mean": round(stats.mean(values), 4) if values else None,
            "p90": round(stats.percentile(values, 90), 4) if values else None}


def _steps(events: list[Event]) -> list[dict[str, Any]]:
    ready: dict[str, Event] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    readies: dict[str, int] = defaultdict(int)
    timeouts: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {}
    for e in events:
        if e.kind == "task_ready" and e.task_id and e.bpmn_id:
            ready[e.task_id] = e
            readies[e.bpmn_id] += 1
            names[e.bpmn_id] = str(e.detail.get("name") or e.bpmn_id)
        elif e.kind == "task_completed" and e.task_id in ready and e.bpmn_id:
            durations[e.bpmn_id].append((e.at - ready.pop(e.task_id).at).total_seconds() / 3600)
        elif e.kind == "timer_fired" and e.detail.get("attached_to"):
            timeouts[str(e.detail["attached_to"])] += 1
    out = []
    for bpmn_id in sorted(readies, key=lambda b: names[b]):
        cycle = _hours(durations[bpmn_id])
        out.append({"bpmn_id": bpmn_id, "name": names[bpmn_id], "ready": readies[bpmn_id],
                    "completed": cycle["count"], "mean_hours": cycle["mean"], "p90_hours": cycle["p90"],
                    "timeouts": timeouts[bpmn_id],
                    "timeout_rate": round(timeouts[bpmn_id] / readies[bpmn_id], 4)})
    return out


def process_kpis(runs: list[Run], events: list[Event]) -> list[dict[str, Any]]:
    """One KPI record per process key, in key order."""
    by_instance: dict[str, list[Event]] = defaultdict(list)
    for e in events:
        by_instance[e.instance_id].append(e)
    by_key: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_key[run.key].append(run)
    out = []
    for key in sorted(by_key):
        group = by_key[key]
        status: dict[str, int] = defaultdict(int)
        cycle, ack = [], []
        timed_out = 0
        key_events: list[Event] = []
        for run in group:
            status[run.status] += 1
            mine = by_instance.get(run.instance_id, [])
            key_events.extend(mine)
            if run.status == "completed" and run.ended_at:
                cycle.append((run.ended_at - run.started_at).total_seconds() / 3600)
            first = next((e for e in mine if e.kind == "task_completed" and e.actor not in (None, "engine")), None)
            if first is not None:
                ack.append((first.at - run.started_at).total_seconds() / 3600)
            timed_out += any(e.kind == "timer_fired" and e.detail.get("attached_to") for e in mine)
        n = len(group)
        out.append({
            "key": key, "instances": n, "completed": status["completed"], "running": status["running"],
            "incident": status["incident"], "cancelled": status["cancelled"],
            "cycle_time_hours": _hours(cycle), "timeouts": timed_out,
            "timeout_rate": round(timed_out / n, 4) if n else 0.0,
            "incident_rate": round(status["incident"] / n, 4) if n else 0.0,
            "mtta_hours": round(stats.mean(ack), 4) if ack else None,
            "mttr_hours": round(stats.mean(cycle), 4) if cycle else None,
            "steps": _steps(key_events)})
    return out


def metric(record: dict[str, Any], name: str, step: str | None = None) -> float | None:
    """One figure of a KPI record by name: timeout_rate, cycle_time_mean_hours, mtta_hours…;
    with ``step`` (a BPMN id or name): step_mean_hours, step_p90_hours, step_timeout_rate."""
    if step is not None:
        found = next((s for s in record["steps"] if step in (s["bpmn_id"], s["name"])), None)
        field = {"step_mean_hours": "mean_hours", "step_p90_hours": "p90_hours",
                 "step_timeout_rate": "timeout_rate"}.get(name)
        return None if found is None or field is None else found[field]
    if name == "cycle_time_mean_hours":
        return record["cycle_time_hours"]["mean"]
    if name == "cycle_time_p90_hours":
        return record["cycle_time_hours"]["p90"]
    value = record.get(name)
    return float(value) if isinstance(value, (int, float)) else None


METRICS = ("timeout_rate", "incident_rate", "cycle_time_mean_hours", "cycle_time_p90_hours",
           "mtta_hours", "mttr_hours", "instances", "step_mean_hours", "step_p90_hours",
           "step_timeout_rate")
