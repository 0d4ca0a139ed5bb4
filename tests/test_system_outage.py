"""The plan's core runbook, on a ManualClock with real email: the 10-minute escalation
happens at 10 minutes, RTO breaches are raised at their due time and only when the system
is not restored, and the timeline says which targets were met."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from tests.conftest import ROOT
from tests.receivers import SmtpReceiver

RUNBOOK = ROOT / "runbooks" / "system_outage.bpmn"
PEOPLE = ROOT / "runbooks" / "people.yaml"


@pytest.fixture
def outage(database_url: str, clock: ManualClock, smtp: SmtpReceiver) -> Iterator[Engine]:
    engine = Engine(Config(database_url=database_url, smtp_port=smtp.port), clock=clock)
    engine.load_people(PEOPLE.read_text())
    engine.import_paths([RUNBOOK])
    yield engine
    engine.close()


def open_ids(engine: Engine, iid: str) -> list[str]:
    return [t.bpmn_id for t in engine.tasks(instance_id=iid)]


def do(engine: Engine, iid: str, bpmn_id: str, data: dict | None = None, actor: str = "tester") -> None:
    task = next(t for t in engine.tasks(instance_id=iid) if t.bpmn_id == bpmn_id)
    engine.complete(task.task_id, data or {}, actor=actor)


def advance(engine: Engine, clock: ManualClock, delta: timedelta) -> None:
    clock.advance(delta)
    engine.fire_due_timers()
    engine.deliver_notifications()


def subjects(smtp: SmtpReceiver) -> list[tuple[str, str]]:
    return [(m["To"], m["Subject"]) for m in smtp.messages]


def test_supervisor_silent_for_ten_minutes_escalates_to_backup_at_exactly_ten(outage: Engine, clock, smtp) -> None:
    iid = outage.start("system_outage")
    outage.deliver_notifications()
    assert ("alice@example.test", "System outage declared") in subjects(smtp)
    assert open_ids(outage, iid) == ["notify_supervisor"]
    advance(outage, clock, timedelta(minutes=9, seconds=59))
    assert open_ids(outage, iid) == ["notify_supervisor"]
    advance(outage, clock, timedelta(seconds=1))
    assert open_ids(outage, iid) == ["backup_acknowledge"]
    [backup] = outage.tasks(instance_id=iid)
    assert backup.role == "it_supervisor_backup"
    assert any("did not respond in 10 minutes" in s for _, s in subjects(smtp))
    view = outage.show(iid)
    cancelled = [e for e in view.timeline if e.kind == "task_cancelled" and e.bpmn_id == "notify_supervisor"]
    assert cancelled[0].offset_seconds == 600
    target = next(t for t in view.targets if t.bpmn_id == "notify_supervisor")
    assert target.status == "missed"


def test_full_run_in_time_meets_targets_and_raises_no_rto_breach(outage: Engine, clock, smtp) -> None:
    iid = outage.start("system_outage")
    advance(outage, clock, timedelta(minutes=7))
    do(outage, iid, "notify_supervisor", {"acknowledged": True}, actor="alice")
    advance(outage, clock, timedelta(minutes=15))
    do(outage, iid, "emergency_meeting")
    do(outage, iid, "assess_impact", {"standbyAvailable": True})
    do(outage, iid, "switch_to_standby")
    advance(outage, clock, timedelta(minutes=30))
    do(outage, iid, "restore_payment", {"paymentRestored": True})
    advance(outage, clock, timedelta(hours=1, minutes=30))          # past the 2 h payment RTO
    assert not any("RTO breach" in s for _, s in subjects(smtp))
    do(outage, iid, "restore_orders", {"ordersRestored": True})
    for step in ("verify_services", "close_incident", "post_incident_review"):
        do(outage, iid, step)
    view = outage.show(iid)
    assert view.status == "completed"
    met = {t.bpmn_id: t.status for t in view.targets}
    assert met["notify_supervisor"] == "met" and met["emergency_meeting"] == "met"
    assert met["restore_payment"] == "met" and met["restore_orders"] == "met"
    sentence = next(t.sentence() for t in view.targets if t.bpmn_id == "notify_supervisor")
    assert "+7m" in sentence and sentence.endswith(": met")


def test_payment_not_restored_within_rto_raises_breach_at_two_hours(outage: Engine, clock, smtp) -> None:
    iid = outage.start("system_outage")
    do(outage, iid, "notify_supervisor", {"acknowledged": True})
    advance(outage, clock, timedelta(hours=1, minutes=59, seconds=59))
    assert not any("RTO breach" in s for _, s in subjects(smtp))
    advance(outage, clock, timedelta(seconds=1))
    breaches = [(to, s) for to, s in subjects(smtp) if "RTO breach" in s]
    assert breaches and breaches[0][0] == "grace@example.test"      # the continuity manager
    view = outage.show(iid)
    assert next(t for t in view.targets if t.bpmn_id == "restore_payment").status == "missed"


def _statuses(engine: Engine, iid: str) -> dict[str, str]:
    return {t.bpmn_id: t.status for t in engine.show(iid).targets}


def test_backup_acknowledgement_is_not_needed_once_the_supervisor_acknowledged(outage: Engine, clock) -> None:
    """The false red of issue 12: the escalation branch was never taken, so its step is
    `not_needed` — not `missed` — however long the incident runs."""
    iid = outage.start("system_outage", speed=60)                   # the drill-speed run
    advance(outage, clock, timedelta(seconds=1.5))                   # +1m30s on the incident's clock
    do(outage, iid, "notify_supervisor", {"acknowledged": True}, actor="alice")
    advance(outage, clock, timedelta(seconds=25))                    # +26m30s
    statuses = _statuses(outage, iid)
    assert statuses["notify_supervisor"] == "met"
    assert statuses["backup_acknowledge"] == "not_needed"
    assert statuses["emergency_meeting"] == "open"                 # 26m30s < 30m, still due
    shown = {t["bpmn_id"]: t for t in outage.show(iid).to_json()["targets"]}
    assert shown["backup_acknowledge"]["status"] == "not_needed" and shown["backup_acknowledge"]["met"] is False
    advance(outage, clock, timedelta(seconds=4))
    assert _statuses(outage, iid)["emergency_meeting"] == "missed"  # reachable and past 30 minutes


def test_steps_of_a_cancelled_incident_are_cancelled_not_missed(outage: Engine, clock) -> None:
    iid = outage.start("system_outage")
    advance(outage, clock, timedelta(seconds=36))
    outage.cancel(iid, actor="grace")
    clock.advance(timedelta(hours=5))                                # long after every target
    statuses = _statuses(outage, iid)
    assert statuses["notify_supervisor"] == "cancelled"             # was due, withdrawn before 10m
    assert set(statuses.values()) == {"cancelled"}


def test_a_step_still_due_when_the_incident_is_cancelled_after_its_target_is_missed(outage: Engine, clock) -> None:
    iid = outage.start("system_outage")
    do(outage, iid, "notify_supervisor", {"acknowledged": True})
    advance(outage, clock, timedelta(minutes=31))                    # the meeting is overdue
    outage.cancel(iid, actor="grace")
    statuses = _statuses(outage, iid)
    assert statuses["emergency_meeting"] == "missed"
    assert statuses["assess_impact"] == "cancelled" and statuses["backup_acknowledge"] == "cancelled"


def test_an_escalated_step_is_missed_and_the_backup_step_open_while_due(outage: Engine, clock) -> None:
    iid = outage.start("system_outage")
    advance(outage, clock, timedelta(minutes=12))
    statuses = _statuses(outage, iid)
    assert statuses["notify_supervisor"] == "missed"                 # withdrawn by the 10-minute escalation
    assert statuses["backup_acknowledge"] == "open"
    assert statuses["emergency_meeting"] == "open"


def test_a_completed_run_marks_the_untaken_branch_not_needed(outage: Engine, clock) -> None:
    iid = outage.start("system_outage")
    do(outage, iid, "notify_supervisor", {"acknowledged": True})
    do(outage, iid, "emergency_meeting")
    do(outage, iid, "assess_impact", {"standbyAvailable": True})
    do(outage, iid, "switch_to_standby")
    do(outage, iid, "restore_payment", {"paymentRestored": True})
    do(outage, iid, "restore_orders", {"ordersRestored": True})
    for step in ("verify_services", "close_incident", "post_incident_review"):
        do(outage, iid, step)
    statuses = _statuses(outage, iid)
    assert statuses["backup_acknowledge"] == "not_needed"
    assert {s for k, s in statuses.items() if k != "backup_acknowledge"} == {"met"}
