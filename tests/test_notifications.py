"""Notifications reach a real SMTP server and a real webhook receiver, exactly once, with
retries and an incident when delivery keeps failing — and timers fire regardless."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from engine.notify.outbox import MAX_ATTEMPTS, STALE_CLAIM
from tests.conftest import FIXTURES
from tests.receivers import WebhookReceiver, free_port

MODEL = FIXTURES / "runtime" / "notify_role.bpmn"


def _people(hook_url: str) -> str:
    return f"""
users:
  - {{username: alice, name: Alice, email: alice@example.test}}
  - {{username: bob, name: Bob, email: bob@example.test, webhook: "{hook_url}"}}
  - {{username: carol, name: Carol}}
roles:
  it_supervisor: {{primary: [alice], backup: [bob]}}
  it_supervisor_backup: {{primary: [bob]}}
  empty_role: {{primary: [], backup: []}}
"""


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


def _engine(database_url: str, clock: ManualClock, smtp_port: int) -> Engine:
    return Engine(Config(database_url=database_url, smtp_port=smtp_port), clock=clock)


def test_email_reaches_the_smtp_server_once(database_url: str, clock: ManualClock, smtp, hook) -> None:
    engine = _engine(database_url, clock, smtp.port)
    try:
        engine.load_people(_people(hook.url))
        engine.import_paths([MODEL])
        iid = engine.start("notify_role")
        assert engine.deliver_notifications() == 1
        assert engine.deliver_notifications() == 0
        [mail] = smtp.messages
        assert mail["To"] == "alice@example.test"             # the primary, not the backup
        assert mail["Subject"] == "System outage declared"
        assert "Payment system is down." in mail.get_payload()
        kinds = [e.kind for e in engine.show(iid).timeline]
        assert kinds.count("notification_queued") == 1 and kinds.count("notification_sent") == 1
    finally:
        engine.close()


def test_role_without_primary_goes_to_backup_by_email_and_webhook(database_url: str, clock: ManualClock,
                                                                   smtp, hook) -> None:
    engine = _engine(database_url, clock, smtp.port)
    try:
        engine.load_people(_people(hook.url).replace("primary: [alice], backup: [bob]", "primary: [], backup: [bob]"))
        engine.import_paths([MODEL])
        iid = engine.start("notify_role")
        assert engine.deliver_notifications() == 2
        assert [m["To"] for m in smtp.messages] == ["bob@example.test"]
        [post] = hook.posts
        assert post["text"].startswith("*System outage declared*") and post["instance_id"] == iid
        assert hook.headers[0]["Idempotency-Key"] == post["notification_key"]
    finally:
        engine.close()


def test_worker_killed_mid_send_delivers_exactly_once_after_restart(database_url: str, clock: ManualClock,
                                                                    smtp, hook) -> None:
    first = _engine(database_url, clock, smtp.port)
    first.load_people(_people(hook.url))
    first.import_paths([MODEL])
    first.start("notify_role")
    [nid] = first.outbox.due_ids()
    assert first.outbox._claim(nid) is not None          # claimed ... and the worker dies here
    first.close()
    second = _engine(database_url, clock, smtp.port)
    try:
        assert second.deliver_notifications() == 0        # the claim is fresh: not taken over yet
        clock.advance(STALE_CLAIM)
        assert second.deliver_notifications() == 1
        assert second.deliver_notifications() == 0
        assert len(smtp.messages) == 1
    finally:
        second.close()


def test_a_mail_sent_again_after_a_crash_keeps_its_message_id(database_url: str, clock: ManualClock,
                                                              smtp, hook) -> None:
    """The worker died after the SMTP server took the mail but before it was recorded: the
    takeover sends it again with the same Message-ID, so mail clients show it once."""
    engine = _engine(database_url, clock, smtp.port)
    try:
        engine.load_people(_people(hook.url))
        engine.import_paths([MODEL])
        engine.start("notify_role")
        [nid] = engine.outbox.due_ids()
        row = engine.outbox._claim(nid)
        assert row is not None
        engine.outbox.senders["email"](row)                 # sent ... and the worker dies here
        clock.advance(STALE_CLAIM)
        assert engine.deliver_notifications() == 1
        first, again = smtp.messages
        assert first["Message-ID"] == again["Message-ID"] and first["Message-ID"].endswith("@localhost>")
    finally:
        engine.close()


def test_role_with_no_members_is_an_incident_that_says_so(engine: Engine, hook) -> None:
    engine.load_people(_people(hook.url))
    engine.import_files([("m.bpmn", MODEL.read_bytes().replace(b">it_supervisor<", b">empty_role<"))])
    iid = engine.start("notify_role")
    view = engine.show(iid)
    assert view.status == "incident"
    assert "role 'empty_role' has no members" in view.incidents[0].message
    assert view.incidents[0].bpmn_id == "page_supervisor"


def test_smtp_down_retries_then_incident_and_the_timer_still_fires(database_url: str, clock: ManualClock,
                                                                   hook) -> None:
    engine = _engine(database_url, clock, free_port())     # nothing listens there
    try:
        engine.load_people(_people(hook.url))
        engine.import_paths([MODEL])
        iid = engine.start("notify_role")
        for _ in range(MAX_ATTEMPTS):
            assert engine.deliver_notifications() == 0
            clock.advance(timedelta(minutes=1))
            engine.fire_due_timers()
            clock.advance(timedelta(minutes=10))
        view = engine.show(iid)
        failures = [e for e in view.timeline if e.kind == "notification_attempt_failed"]
        assert len(failures) == MAX_ATTEMPTS
        assert any("failed after 5 attempts" in i.message for i in view.incidents)
        assert [t.bpmn_id for t in view.tasks] == ["backup_acknowledge"]     # the SLA timer fired
        assert len([e for e in view.timeline if e.kind == "timer_fired"]) == 1
    finally:
        engine.close()


def test_failed_notification_is_sent_after_retry_once_the_server_is_back(database_url: str, clock: ManualClock,
                                                                        smtp, hook) -> None:
    engine = _engine(database_url, clock, free_port())
    try:
        engine.load_people(_people(hook.url))
        engine.import_paths([MODEL])
        iid = engine.start("notify_role")
        for _ in range(MAX_ATTEMPTS):
            engine.deliver_notifications()
            clock.advance(timedelta(minutes=15))
        engine.outbox.senders["email"].port = smtp.port     # the mail server is fixed
        engine.retry(iid)
        assert engine.deliver_notifications() == 1
        assert len(smtp.messages) == 1
    finally:
        engine.close()
