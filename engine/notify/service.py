"""The ``notify`` service task: resolve the addressee (role: primary first, then backup; or a
user) and queue one message per recipient and channel in the outbox.

Parameters (from Camunda input parameters, Zeebe inputs or SpiffArena operator params):
``to`` (role or username; also ``role``/``recipient``), ``subject``, ``message``, optional
``channel`` (``email``, ``webhook`` or ``all``, default all that the recipient has) and
``include_backup`` (also message the backups, default false)."""

from __future__ import annotations

from typing import Any

from engine.errors import ServiceError
from engine.services.registry import ServiceCall


def notify(call: ServiceCall) -> dict[str, Any]:
    to = str(call.params.get("to") or call.params.get("role") or call.params.get("recipient") or "")
    if not to:
        raise ServiceError(f"notify in task {call.bpmn_id} has no addressee (parameter 'to')")
    subject = str(call.params.get("subject") or call.params.get("message") or f"contiflow: {call.bpmn_id}")
    body = str(call.params.get("message") or subject)
    channel = str(call.params.get("channel") or "all")
    include_backup = _truthy(call.params.get("include_backup"))
    people = _recipients(call, to, include_backup)
    if call.drill:
        subject = f"[DRILL] {subject}"
    queued = []
    for person in people:
        if channel in ("all", "email") and person.email:
            queued.append(("email", person.email, person.username))
        if channel in ("all", "webhook") and person.webhook:
            queued.append(("webhook", person.webhook, person.username))
    if not queued:
        raise ServiceError(f"notify in task {call.bpmn_id}: nobody in '{to}' has an address for "
                           f"channel '{channel}'")
    for kind, target, username in queued:
        call.outbox.append({"channel": kind, "target": target, "addressee": username,
                            "subject": subject, "body": body, "drill": call.drill})
    call.record("notification_queued", to=to, recipients=[u for _, _, u in queued], subject=subject,
                channels=sorted({k for k, _, _ in queued}), drill=call.drill)
    return {"notified": to, "recipients": sorted({u for _, _, u in queued})}


def _recipients(call: ServiceCall, to: str, include_backup: bool) -> list[Any]:
    if call.directory is None:
        raise ServiceError("notify needs the people directory")
    people, backups = call.directory(to)
    if not people and not backups:
        raise ServiceError(f"notify in task {call.bpmn_id}: role '{to}' has no members; "
                           f"add people to it, then retry the instance")
    chosen = list(people) if people else list(backups)   # primary first; backup if no primary
    if include_backup and people:
        chosen += [p for p in backups if p not in chosen]
    return chosen


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")
