"""Services for simulated drills: nothing leaves the building.  ``notify`` is rendered (who
would be paged, with what) and recorded as DRILL; every other service is recorded, not run."""

from __future__ import annotations

from typing import Any

from engine.errors import ServiceError
from engine.services.registry import ServiceCall, ServiceRegistry


class RecordingRegistry(ServiceRegistry):
    def __contains__(self, name: object) -> bool:
        return True

    def call(self, call: ServiceCall) -> Any:
        if call.service == "log":
            call.record("service_log", message=str(call.params.get("message", "")), drill=True)
            return {"logged": True}
        if call.service == "notify":
            return _record_notification(call)
        call.record("service_recorded", service=call.service, params=_plain(call.params), drill=True)
        return {"recorded": True, "drill": True}


def _record_notification(call: ServiceCall) -> dict[str, Any]:
    to = str(call.params.get("to") or call.params.get("role") or call.params.get("recipient") or "")
    if not to:
        raise ServiceError(f"notify in task {call.bpmn_id} has no addressee (parameter 'to')")
    recipients: list[str] = []
    if call.directory is not None:
        try:
            primary, backup = call.directory(to)
            recipients = [p.username for p in (primary or backup)]
        except ServiceError:
            recipients = []
    subject = f"[DRILL] {call.params.get('subject') or call.params.get('message') or call.bpmn_id}"
    call.record("notification_recorded", to=to, recipients=recipients, subject=subject,
                message=str(call.params.get("message") or ""), channel="drill", drill=True)
    return {"notified": to, "recipients": recipients, "drill": True}


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v) for k, v in params.items()}
