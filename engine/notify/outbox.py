"""The outbox: queue in the command's transaction, deliver after commit, retry with backoff.

Delivery claims rows (pending -> sending) before sending, so two workers never send the same
message: on PostgreSQL one at a time, selected ``FOR UPDATE SKIP LOCKED`` and marked in the
same transaction (workers take different rows and never wait for each other); on SQLite one
row at a time with a conditional UPDATE.  A claim older than ``STALE_CLAIM`` (a worker killed
mid-send) is taken over.  After
``MAX_ATTEMPTS`` failures the message is marked failed and an incident is opened on its
instance — the instance itself keeps running (its timers still fire).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.store.models import AuditEventRow, IncidentRow, InstanceRow, NotificationRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = [timedelta(seconds=s) for s in (10, 30, 120, 600)]
#: a claim this old is a worker that died mid-send; senders time out after 10 s per step
STALE_CLAIM = timedelta(minutes=2)
#: rows claimed at once on PostgreSQL: one, so a worker killed mid-send strands only the message
#: it was sending (for STALE_CLAIM), never a batch of others it had not reached
CLAIM_BATCH = 1
#: the most messages one deliver_due call sends (the next sweep sends the rest)
MAX_PER_CALL = 1000

Sender = Callable[[NotificationRow], None]


def enqueue(session: Session, instance_id: str, items: list[dict[str, Any]], now: datetime) -> None:
    for item in items:
        key = f"{instance_id}:{item['task_id']}:{item['channel']}:{item['target']}"
        if session.scalars(select(NotificationRow.id).where(NotificationRow.key == key)).first():
            continue                      # this task already queued this message: idempotent
        session.add(NotificationRow(
            key=key, instance_id=instance_id, task_id=item["task_id"], bpmn_id=item["bpmn_id"],
            channel=item["channel"], target=item["target"], addressee=item["addressee"],
            subject=item["subject"], body=item["body"], drill=bool(item.get("drill")),
            status="pending", attempts=0, next_attempt_at=now, created_at=now))


class Outbox:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, senders: dict[str, Sender]):
        self.sessions, self.clock, self.senders = sessions, clock, senders

    def _row_locks(self) -> bool:
        """PostgreSQL: claim batches under row locks.  SQLite has none (one writer at a time)."""
        with self.sessions() as session:
            return session.get_bind().dialect.name == "postgresql"

    def _due(self, now: datetime) -> Any:
        return or_((NotificationRow.status == "pending") & (NotificationRow.next_attempt_at <= now),
                   (NotificationRow.status == "sending") & (NotificationRow.claimed_at <= now - STALE_CLAIM))

    def due_ids(self, limit: int = 100) -> list[int]:
        now = self.clock.now()
        with self.sessions() as session:
            return list(session.scalars(select(NotificationRow.id).where(self._due(now))
                                        .order_by(NotificationRow.next_attempt_at).limit(limit)))

    def next_attempt_at(self) -> datetime | None:
        with self.sessions() as session:
            return session.scalars(select(NotificationRow.next_attempt_at)
                                   .where(NotificationRow.status == "pending")
                                   .order_by(NotificationRow.next_attempt_at).limit(1)).first()

    def deliver_due(self) -> int:
        """Send everything due; returns how many were sent.  Never raises."""
        if self._row_locks():
            return self._deliver_batches()
        sent = 0
        for notification_id in self.due_ids():
            try:
                sent += self._deliver(notification_id)
            except Exception:  # noqa: BLE001 - one bad message must not stop the others
                log.exception("delivering notification %s failed", notification_id)
        return sent

    def _deliver_batches(self) -> int:
        sent = handled = 0
        while handled < MAX_PER_CALL:
            try:
                batch = self.claim_batch(CLAIM_BATCH)
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("claiming notifications failed")
                break
            if not batch:
                break
            for row in batch:
                handled += 1
                try:
                    sent += self._send(row)
                except Exception:  # noqa: BLE001 - one bad message must not stop the others
                    log.exception("delivering notification %s failed", row.id)
        return sent

    def claim_batch(self, limit: int) -> list[NotificationRow]:
        """Claim up to ``limit`` due messages in one transaction: select them FOR UPDATE SKIP
        LOCKED (rows another worker is claiming are passed over, not waited for), mark them
        sending.  Returns detached rows, already counted as an attempt."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            ids = list(session.scalars(select(NotificationRow.id).where(self._due(now))
                                       .order_by(NotificationRow.next_attempt_at, NotificationRow.id)
                                       .limit(limit).with_for_update(skip_locked=True)))
            if not ids:
                return []
            session.execute(update(NotificationRow).where(NotificationRow.id.in_(ids), self._due(now))
                            .values(status="sending", claimed_at=now, attempts=NotificationRow.attempts + 1)
                            .execution_options(synchronize_session=False))
            rows = list(session.scalars(select(NotificationRow).where(
                NotificationRow.id.in_(ids), NotificationRow.status == "sending",
                NotificationRow.claimed_at == now).order_by(NotificationRow.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def _claim(self, notification_id: int) -> NotificationRow | None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            # DML through the session returns a CursorResult (typed as the general Result)
            claimed = cast(CursorResult[Any], session.execute(update(NotificationRow).where(
                NotificationRow.id == notification_id,
                or_(NotificationRow.status == "pending",
                    (NotificationRow.status == "sending") & (NotificationRow.claimed_at <= now - STALE_CLAIM)),
            ).values(status="sending", claimed_at=now, attempts=NotificationRow.attempts + 1)
                .execution_options(synchronize_session=False)))
            if claimed.rowcount != 1:
                return None               # another worker has it
            row = session.get(NotificationRow, notification_id)
            session.expunge(row)
            return row

    def _deliver(self, notification_id: int) -> int:
        row = self._claim(notification_id)
        if row is None:
            return 0
        return self._send(row)

    def _send(self, row: NotificationRow) -> int:
        sender = self.senders.get(row.channel)
        error = None
        try:
            if sender is None:
                raise RuntimeError(f"no sender for channel '{row.channel}'")
            sender(row)
        except Exception as exc:  # noqa: BLE001 - recorded, retried
            error = f"{exc.__class__.__name__}: {exc}"
        self._record(row, error)
        return 0 if error else 1

    def _record(self, row: NotificationRow, error: str | None) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            current = session.get(NotificationRow, row.id)
            assert current is not None
            at = _instance_now(session, row.instance_id, now)
            detail = {"notification_id": row.id, "channel": row.channel, "to": row.addressee,
                      "target": row.target, "subject": row.subject, "attempt": current.attempts,
                      "drill": row.drill}
            if error is None:
                current.status, current.sent_at, current.last_error = "sent", now, None
                _audit(session, row, at, now, "notification_sent", detail)
                return
            current.last_error = error
            _audit(session, row, at, now, "notification_attempt_failed", {**detail, "error": error})
            if current.attempts >= MAX_ATTEMPTS:
                current.status = "failed"
                message = (f"notification to {row.addressee} via {row.channel} failed after "
                           f"{current.attempts} attempts: {error}")
                if row.instance_id:
                    session.add(IncidentRow(instance_id=row.instance_id, task_id=row.task_id,
                                            bpmn_id=row.bpmn_id, message=message, created_at=now))
                _audit(session, row, at, now, "incident_raised", {"message": message})
            else:
                current.status = "pending"
                current.next_attempt_at = now + BACKOFF[min(current.attempts - 1, len(BACKOFF) - 1)]

    def requeue_failed(self, instance_id: str) -> int:
        """Retry failed notifications of an instance (after fixing the mail server, say)."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            result = cast(CursorResult[Any], session.execute(update(NotificationRow).where(
                NotificationRow.instance_id == instance_id, NotificationRow.status == "failed")
                .values(status="pending", attempts=0, next_attempt_at=now)))
            return int(result.rowcount or 0)


def _instance_now(session: Session, instance_id: str | None, now: datetime) -> datetime:
    """Audit times are instance times; an accelerated instance's clock runs ahead."""
    if not instance_id:
        return now
    row = session.get(InstanceRow, instance_id)
    if row is None or not row.speed or row.wall_anchor is None:
        return now
    return row.started_at + (now - row.wall_anchor) * row.speed


def _audit(session: Session, row: NotificationRow, at: datetime, now: datetime, kind: str,
           detail: dict[str, Any]) -> None:
    session.add(AuditEventRow(instance_id=row.instance_id, at=at, wall_at=now, actor="engine", kind=kind,
                              bpmn_id=row.bpmn_id, task_id=row.task_id, detail=detail))
