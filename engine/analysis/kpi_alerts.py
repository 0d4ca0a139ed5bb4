"""Threshold alerts on observed KPIs ("order processing timeout rate above 5%").

A threshold names a metric of one process (optionally one step), a limit (``above`` and/or
``below``) and a look-back window.  ``check`` evaluates them over the history; ``raise_alerts``
turns firing alerts that name an ``incident_type`` into an Alertmanager-style declaration, so
the matching runbook starts (once per alert while it is open) and its notify steps tell people.
A threshold with no runbook but ``notify: ROLE`` (or a username) messages that role through the
outbox directly, once per firing episode (``alert_notify``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.analysis.alert_notify import fingerprint, notify_alerts
from engine.analysis.history import load_history
from engine.analysis.kpis import METRICS, metric, process_kpis
from engine.errors import InvalidInput

_FIELDS = {"name", "key", "metric", "above", "below", "step", "window_hours", "min_instances",
           "incident_type", "severity", "notify"}


@dataclass(frozen=True)
class Threshold:
    name: str
    key: str
    metric: str
    above: float | None = None
    below: float | None = None
    step: str | None = None
    window_hours: float | None = None
    min_instances: int = 1
    incident_type: str | None = None
    severity: str = "warning"
    notify: str | None = None            # role or username told directly when there is no runbook


def parse_thresholds(items: Any) -> list[Threshold]:
    """Thresholds from parsed YAML/JSON: a list of objects, or ``{"thresholds": [...]}``."""
    if isinstance(items, dict):
        items = items.get("thresholds")
    if not isinstance(items, list):
        raise InvalidInput("thresholds: expected a list of objects")
    out = []
    for i, item in enumerate(items, 1):
        where = f"threshold {i}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where}: expected an object")
        unknown = set(item) - _FIELDS
        if unknown:
            raise InvalidInput(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        for required in ("key", "metric"):
            if not item.get(required):
                raise InvalidInput(f"{where}: '{required}' is required")
        if item["metric"] not in METRICS:
            raise InvalidInput(f"{where}: metric must be one of {', '.join(METRICS)}")
        if item.get("above") is None and item.get("below") is None:
            raise InvalidInput(f"{where}: give 'above' or 'below'")
        try:
            out.append(Threshold(
                name=str(item.get("name") or f"{item['key']} {item['metric']}"), key=str(item["key"]),
                metric=str(item["metric"]),
                above=None if item.get("above") is None else float(item["above"]),
                below=None if item.get("below") is None else float(item["below"]),
                step=item.get("step"),
                window_hours=None if item.get("window_hours") is None else float(item["window_hours"]),
                min_instances=int(item.get("min_instances", 1)), incident_type=item.get("incident_type"),
                severity=str(item.get("severity") or "warning"),
                notify=None if not item.get("notify") else str(item["notify"])))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{where}: {exc}") from None
    return out


def _fmt(name: str, value: float) -> str:
    return f"{value:.1%}" if name.endswith("_rate") else f"{value:g}"


def evaluate(threshold: Threshold, record: dict[str, Any] | None) -> dict[str, Any]:
    """Whether one threshold fires on one KPI record, with a sentence saying why."""
    count = record["instances"] if record else 0
    value = metric(record, threshold.metric, threshold.step) if record else None
    firing = False
    reason = "no data"
    if value is not None and count >= threshold.min_instances:
        if threshold.above is not None and value > threshold.above:
            firing, reason = True, f"above {_fmt(threshold.metric, threshold.above)}"
        elif threshold.below is not None and value < threshold.below:
            firing, reason = True, f"below {_fmt(threshold.metric, threshold.below)}"
        else:
            reason = "within limits"
    elif value is not None:
        reason = f"only {count} instance(s), {threshold.min_instances} needed"
    label = threshold.metric.replace("_", " ") + (f" of {threshold.step}" if threshold.step else "")
    shown = _fmt(threshold.metric, value) if value is not None else "n/a"
    return {"name": threshold.name, "key": threshold.key, "metric": threshold.metric,
            "step": threshold.step, "value": value, "instances": count, "firing": firing,
            "severity": threshold.severity, "incident_type": threshold.incident_type,
            "notify": threshold.notify,
            "message": f"{threshold.name}: {label} {shown} ({reason}; {count} instance(s))"}


def check(engine: Any, thresholds: list[Threshold], now: datetime | None = None,
          drills: bool = False) -> list[dict[str, Any]]:
    """Evaluate every threshold over the engine's history (each over its own window)."""
    now = now or engine.clock.now()
    results = []
    for threshold in thresholds:
        since = now - timedelta(hours=threshold.window_hours) if threshold.window_hours else None
        runs, events = load_history(engine.sessions, threshold.key, since, drills)
        records = process_kpis(runs, events)
        results.append(evaluate(threshold, records[0] if records else None))
    return results


def raise_alerts(engine: Any, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Declare each firing alert with an ``incident_type``: its runbook starts (once while open).
    Alerts without one that name ``notify`` message that role instead (once per firing episode;
    pass every result, firing or not, so a cleared alert closes its episode)."""
    alerts = [{"status": "firing", "fingerprint": fingerprint(r),
               "labels": {"alertname": r["name"], "incident_type": r["incident_type"],
                          "severity": r["severity"], "process": r["key"]},
               "annotations": {"summary": r["message"]}}
              for r in results if r["firing"] and r["incident_type"]]
    declared = [o.to_json() for o in engine.declare_from_alertmanager({"alerts": alerts})] if alerts else []
    return declared + notify_alerts(engine, results)
