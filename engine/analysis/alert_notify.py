"""KPI alerts without a runbook tell people directly: a threshold with ``notify: ROLE`` (or a
username) and no ``incident_type`` queues one message per recipient in the outbox.

Each threshold's firing state is kept (``kpi_alert_states``): the first check that finds it
firing opens a new *episode* and notifies; later checks while it keeps firing do not; once a
check finds it within limits the episode closes, and the next firing notifies again.  The
outbox key carries the episode, so two workers checking at once still send one message.
Recipients are the role's primary members (its backups when it has none), by e-mail and
webhook as each person has them — the rule of the ``notify`` service task.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import people
from engine.errors import EngineError
from engine.store.models import KpiAlertStateRow, NotificationRow

log = logging.getLogger(__name__)


def fingerprint(result: dict[str, Any]) -> str:
    return f"kpi-{result['name']}".replace(" ", "_")[:255]


def notify_alerts(engine: Any, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Update the firing state of every result that names ``notify`` (and no runbook); queue
    messages for each newly firing one.  Returns one outcome per firing alert."""
    outcomes = []
    for result in results:
        if not result.get("notify") or result.get("incident_type"):
            continue
        try:
            outcome = _one(engine, result)
        except IntegrityError:           # another worker recorded the same state change first
            outcome = _outcome(result, "already_notified", [])
        except EngineError as exc:       # e.g. an unknown role: logged, the other alerts go on
            log.warning("KPI alert %s: cannot notify %s: %s", result["name"], result["notify"], exc)
            outcome = _outcome(result, "not_notified", [], error=str(exc))
        if outcome is not None:
            outcomes.append(outcome)
    if any(o["action"] == "notified" for o in outcomes):
        engine.deliver_notifications()
    return outcomes


def _outcome(result: dict[str, Any], action: str, recipients: list[str], error: str | None = None
             ) -> dict[str, Any]:
    out = {"fingerprint": fingerprint(result), "incident_type": None, "instance_id": None, "action": action,
           "notify": result["notify"], "recipients": recipients}
    if error:
        out["error"] = error
    return out


def _one(engine: Any, result: dict[str, Any]) -> dict[str, Any] | None:
    now = engine.clock.now()
    name = fingerprint(result)
    with engine.sessions.begin() as session:
        state = session.get(KpiAlertStateRow, name)
        if state is None:
            state = KpiAlertStateRow(name=name, firing=False, episode=0, updated_at=now)
            session.add(state)
        state.value, state.updated_at = result.get("value"), now
        if not result["firing"]:
            state.firing, state.since = False, None
            return None
        if state.firing:
            return _outcome(result, "already_notified", [])
        state.firing, state.since, state.episode = True, now, state.episode + 1
        recipients = _queue(session, result, name, state.episode, now)
        session.flush()
    return _outcome(result, "notified", recipients)


def _queue(session: Session, result: dict[str, Any], name: str, episode: int, now: Any) -> list[str]:
    primary, backup = people.addressees(session, str(result["notify"]))
    chosen = primary or backup
    subject = f"[KPI {result['severity']}] {result['name']}"
    body = (f"{result['message']}\n\nProcess: {result['key']}. This alert has no runbook; it was raised by "
            f"contiflow's KPI threshold check and is sent once until the value is back within limits.")
    recipients = []
    for person in chosen:
        for channel, target in (("email", person.email), ("webhook", person.webhook)):
            if not target:
                continue
            key = f"{name}:{episode}:{channel}:{target}"[:500]
            if session.scalars(select(NotificationRow.id).where(NotificationRow.key == key)).first():
                continue
            session.add(NotificationRow(
                key=key, instance_id=None, task_id=None, bpmn_id=None, channel=channel, target=target,
                addressee=person.username, subject=subject, body=body, drill=False, status="pending",
                attempts=0, next_attempt_at=now, created_at=now))
            if person.username not in recipients:
                recipients.append(person.username)
    return recipients
