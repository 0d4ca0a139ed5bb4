"""Simulated drills of the real runbooks: escalations at exactly their time, targets and RTOs
met or missed in the report, isolation from real incidents, bad scenarios refused up front,
schedules that survive restarts."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from engine.drills import report as reports
from engine.drills.scenario import parse_scenario
from engine.errors import InvalidInput, NotFound
from tests.conftest import FIXTURES, ROOT

SCENARIO = FIXTURES / "drills" / "outage_late_supervisor.yaml"


@pytest.fixture
def drills(engine: Engine) -> Engine:
    engine.load_people((ROOT / "runbooks" / "people.yaml").read_text())
    engine.import_paths([ROOT / "runbooks"])
    return engine


def _step(report: dict, bpmn_id: str) -> dict:
    return next(s for s in report["steps"] if s["bpmn_id"] == bpmn_id)


def test_late_supervisor_misses_sla_and_backup_takes_over_at_exactly_ten_minutes(drills: Engine) -> None:
    report = drills.run_drill(parse_scenario(SCENARIO.read_text()))
    assert report["instance_status"] == "completed"
    supervisor = _step(report, "notify_supervisor")
    assert (supervisor["status"], supervisor["done_offset"], supervisor["target"], supervisor["met"]) == \
        ("escalated", "PT10M", "PT10M", False)
    backup = _step(report, "backup_acknowledge")
    assert (backup["ready_offset"], backup["done_offset"], backup["met"]) == ("PT10M", "PT13M", True)
    assert report["escalations"][0] == {"from": "notify_supervisor", "timer": "supervisor_sla", "at": "PT10M",
                                        "to": ["backup_acknowledge"]}
    meeting = _step(report, "emergency_meeting")
    assert (meeting["done_offset"], meeting["target"], meeting["met"]) == ("PT23M", "PT30M", True)
    payment = _step(report, "restore_payment")
    assert payment["target"] == "PT2H" and payment["met"] is False
    assert _step(report, "restore_orders")["met"] is True
    assert {a["bpmn_id"] for a in report["corrective_actions"]} == {"notify_supervisor", "restore_payment"}
    breaches = [n for n in report["notifications"] if "RTO breach" in (n["subject"] or "")]
    assert breaches and breaches[0]["at"] == "PT2H" and breaches[0]["subject"].startswith("[DRILL]")


def test_drill_report_is_stored_with_markdown_and_trend(drills: Engine) -> None:
    first = drills.run_drill(parse_scenario(SCENARIO.read_text()))
    faster = SCENARIO.read_text().replace("after: PT12M", "after: PT4M").replace("after: PT3H", "after: PT1H")
    second = drills.run_drill(parse_scenario(faster))
    assert [r["drill_id"] for r in drills.drill_reports("system_outage")] == [first["drill_id"], second["drill_id"]]
    assert drills.drill_report(second["drill_id"])["steps"] == second["steps"]
    text = reports.markdown(second)
    assert "| Restore payment system | it_team | completed |" in text and "every target was met" in text
    assert "**missed**" in reports.markdown(first)
    trend = {s["bpmn_id"]: s["points"] for s in drills.drill_trend("system_outage")}
    assert [p["met"] for p in trend["notify_supervisor"]] == [False, True]
    assert [p["met"] for p in trend["restore_payment"]] == [False, True]


def test_drills_run_side_by_side_without_touching_real_incidents(drills: Engine) -> None:
    real = drills.start("system_outage")
    results: list[dict] = []
    scenario = parse_scenario(SCENARIO.read_text())
    threads = [threading.Thread(target=lambda: results.append(drills.run_drill(scenario))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0]["drill_id"] != results[1]["drill_id"]
    assert [s["done_offset"] for s in results[0]["steps"]] == [s["done_offset"] for s in results[1]["steps"]]
    assert [i.instance_id for i in drills.instances()] == [real]           # no drill instance in the real store
    assert [t.bpmn_id for t in drills.tasks(instance_id=real)] == ["notify_supervisor"]


@pytest.mark.parametrize("text, message", [
    ("runbook: system_outage\nresponses:\n  no_such_task: {after: PT1M}\n", "no_such_task"),
    ("runbook: system_outage\nresponses:\n  notify_supervisor: {after: soon}\n", "notify_supervisor.after"),
    ("runbook: system_outage\ndefault: {after: PT1M, data: [1]}\n", "default.data"),
    ("runbook: system_outage\nspeed: -3\n", "speed"),
    ("runbook: [unclosed\n", "not valid YAML"),
])
def test_bad_scenarios_are_refused_before_anything_starts(drills: Engine, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        drills.run_drill(parse_scenario(text))
    assert drills.drill_reports() == []


def test_unknown_runbook_is_refused(drills: Engine) -> None:
    with pytest.raises(NotFound, match="no_such_runbook"):
        drills.run_drill(parse_scenario("runbook: no_such_runbook\n"))


def test_quarterly_schedule_shows_next_run_and_a_missed_run_runs_once_after_restart(
        database_url: str, clock: ManualClock) -> None:
    first = Engine(Config(database_url=database_url), clock=clock)
    first.load_people((ROOT / "runbooks" / "people.yaml").read_text())
    first.import_paths([ROOT / "runbooks" / "system_outage.bpmn"])
    t0 = clock.now()
    [scheduled] = [first.schedule_drill(parse_scenario(SCENARIO.read_text()), every="P3M")]
    assert scheduled["next_run_at"] == "2026-04-01T00:00:00Z" and t0.isoformat().startswith("2026-01-01")
    assert first.drill_schedules()[0]["next_run_at"] == "2026-04-01T00:00:00Z"
    first.close()                                     # down for half a year: two runs missed
    clock.advance(timedelta(days=200))
    second = Engine(Config(database_url=database_url), clock=clock)
    try:
        assert len(second.run_due_drills()) == 1
        assert second.run_due_drills() == []
        [schedule] = second.drill_schedules()
        assert schedule["last_run_at"] == "2026-07-20T00:00:00Z"
        assert schedule["next_run_at"] == "2026-10-20T00:00:00Z"
        assert len(second.drill_reports("system_outage")) == 1
    finally:
        second.close()


def test_live_drill_is_marked_as_a_drill_in_tasks_and_reported(drills: Engine, clock: ManualClock) -> None:
    iid = drills.start("system_outage", drill=True, actor="continuity manager")
    [task] = drills.tasks(instance_id=iid)
    assert task.drill and drills.show(iid).drill
    clock.advance(timedelta(minutes=4))
    drills.complete(task.task_id, {"acknowledged": True}, actor="alice")
    report = drills.live_drill_report(iid)
    assert report["kind"] == "live"
    assert _step(report, "notify_supervisor")["met"] is True
    real = drills.start("system_outage")
    with pytest.raises(Exception, match="not a drill"):
        drills.live_drill_report(real)


def test_live_drill_report_and_incident_targets_agree_on_every_status(drills: Engine, clock: ManualClock) -> None:
    """One judgement behind both: the report's step rows and the instance's targets."""
    iid = drills.start("system_outage", drill=True, actor="continuity manager")
    clock.advance(timedelta(minutes=12))
    drills.fire_due_timers()                                          # the supervisor is escalated
    [backup] = drills.tasks(instance_id=iid)
    clock.advance(timedelta(minutes=3))
    drills.complete(backup.task_id, {"acknowledged": True}, actor="bob")
    clock.advance(timedelta(minutes=20))                                # the meeting is now overdue
    drills.cancel(iid, actor="grace")
    report = drills.live_drill_report(iid)
    from_targets = {t.bpmn_id: t.status for t in drills.show(iid).targets}
    from_steps = {s["bpmn_id"]: s["target_status"] for s in report["steps"] if s["target_status"]}
    assert from_steps == {k: v for k, v in from_targets.items() if k in from_steps}
    assert from_steps == {"notify_supervisor": "missed", "backup_acknowledge": "met", "emergency_meeting": "missed"}
    assert {t["bpmn_id"]: t["status"] for t in report["targets"]}["assess_impact"] == "cancelled"
