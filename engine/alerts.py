"""Declaring incidents from monitoring: Alertmanager-compatible webhook payloads.

Each firing alert is mapped to a runbook by its ``incident_type`` label (or, failing that,
its ``alertname``) matched against the ``incident_type`` property of executable definitions.
The alert's fingerprint becomes the business key, so a repeated notification for the same
alert does not declare a second incident while the first is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import InvalidInput


@dataclass(frozen=True)
class AlertOutcome:
    fingerprint: str
    incident_type: str | None
    instance_id: str | None
    action: str          # started | already_open | no_runbook | resolved_ignored

    def to_json(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "incident_type": self.incident_type,
                "instance_id": self.instance_id, "action": self.action}


def declare_from_alertmanager(engine: Any, payload: Any) -> list[AlertOutcome]:
    """Start the matching runbook for every firing alert in an Alertmanager webhook body."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise InvalidInput("alertmanager payload: expected an object with an 'alerts' list")
    runbooks = _runbooks_by_incident_type(engine)
    outcomes = []
    for index, alert in enumerate(payload["alerts"]):
        if not isinstance(alert, dict):
            raise InvalidInput(f"alertmanager payload: alerts[{index}] is not an object")
        labels = alert.get("labels") or {}
        fingerprint = str(alert.get("fingerprint") or _fingerprint(labels))
        kind = labels.get("incident_type") or labels.get("alertname")
        if alert.get("status", payload.get("status")) != "firing":
            outcomes.append(AlertOutcome(fingerprint, kind, None, "resolved_ignored"))
            continue
        key = runbooks.get(kind or "")
        if key is None:
            outcomes.append(AlertOutcome(fingerprint, kind, None, "no_runbook"))
            continue
        business_key = f"alert:{fingerprint}"
        open_ = [i for i in engine.instances(key=key) if i.business_key == business_key
                 and i.status in ("running", "incident")]
        if open_:
            outcomes.append(AlertOutcome(fingerprint, kind, open_[0].instance_id, "already_open"))
            continue
        data = {"alert": {"labels": dict(labels), "annotations": dict(alert.get("annotations") or {}),
                          "startsAt": alert.get("startsAt"), "generatorURL": alert.get("generatorURL")}}
        instance_id = engine.start(key, data, business_key=business_key, actor="alertmanager")
        outcomes.append(AlertOutcome(fingerprint, kind, instance_id, "started"))
    return outcomes


def _runbooks_by_incident_type(engine: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for definition in engine.definitions():
        if definition.executable and definition.properties.get("incident_type"):
            found.setdefault(definition.properties["incident_type"], definition.key)
    return found


def _fingerprint(labels: dict[str, Any]) -> str:
    import hashlib

    text = ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
