"""The quarterly plan review: a bundled process started by the worker on a schedule (P3M), raised
as a task in the continuity manager's inbox — once, even when runs were missed — on a ManualClock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from engine import schedules
from engine.api import Engine
from engine.cli.main import main
from engine.clock import ManualClock
from engine.config import Config
from engine.errors import InvalidInput, NotFound
from engine.timers import TimerService
from tests.conftest import ROOT, demo_people

REVIEW = ROOT / "bpmn" / "plan_review.bpmn"
PEOPLE = ROOT / "runbooks" / "people.yaml"
TASK = "Review continuity plan and registers"


@pytest.fixture
def planned(engine: Engine) -> Engine:
    engine.load_people(demo_people())
    engine.import_paths([REVIEW])
    return engine


def reviews(engine: Engine, username: str = "grace") -> list:
    return [t for t in engine.inbox(username) if t.name == TASK]


def test_review_lands_in_the_continuity_managers_inbox_after_three_months_once(
        planned: Engine, clock: ManualClock) -> None:
    start = clock.now()
    row = schedules.schedule(planned, "plan_review", every="P3M")
    assert row["next_run_at"].startswith((start.replace(month=start.month + 3) if start.month <= 9 else
                                          start.replace(year=start.year + 1, month=start.month - 9))
                                         .date().isoformat())
    service = TimerService(planned, scheduler=BackgroundScheduler(timezone="UTC"))
    service.start(run_scheduler=False)
    try:
        assert service.schedule_next() is not None                 # the worker wakes for it
        clock.advance(timedelta(days=80))
        service.sweep()
        assert reviews(planned) == []                               # not yet
        clock.set(schedules.next_due(planned))                      # three months on
        service.sweep()
        service.sweep()
        [task] = reviews(planned)
        assert task.role == "continuity_manager"
        assert task.due_at == clock.now() + timedelta(days=14)
        assert [f["id"] for f in task.form] == ["outcome", "findings", "nextReviewNotes"]
        assert reviews(planned, "alice") == []                      # not an IT supervisor's task
        assert len(reviews(planned, "carol")) == 1                  # the backup sees it too
        [listed] = schedules.list_schedules(planned)
        assert listed["last_instance_id"] == task.instance_id and listed["next_run_at"] > listed["last_run_at"]
    finally:
        service.stop()


def test_missed_runs_start_one_review(planned: Engine, clock: ManualClock) -> None:
    schedules.schedule(planned, "plan_review", every="P3M")
    clock.advance(timedelta(days=400))                              # four quarters with the worker down
    assert len(planned.run_due_drills()) == 0                       # drills: none; the review: started
    assert len(reviews(planned)) == 1
    planned.run_due_drills()
    assert len(reviews(planned)) == 1
    assert schedules.next_due(planned) > clock.now()


def test_completing_the_review_with_changes_needed(planned: Engine, clock: ManualClock) -> None:
    schedules.schedule(planned, "plan_review", cron="0 9 1 */3 *")
    clock.advance(timedelta(days=93))
    schedules.run_due(planned)
    [task] = reviews(planned)
    planned.complete(task.task_id, {"outcome": "changes_needed", "findings": "R2 control outdated"},
                     actor="grace")
    [update] = planned.inbox("grace")
    assert update.bpmn_id == "update_plan"
    planned.complete(update.task_id, {"changesMade": "failover tested"}, actor="grace")
    assert planned.show(task.instance_id).status == "completed"


def test_schedule_validation_and_stop(planned: Engine, clock: ManualClock) -> None:
    with pytest.raises(NotFound):
        schedules.schedule(planned, "no_such_process", every="P3M")
    with pytest.raises(InvalidInput):
        schedules.schedule(planned, "plan_review", every="P3M", cron="0 9 * * *")
    with pytest.raises(InvalidInput):
        schedules.schedule(planned, "plan_review", every="quarterly")
    row = schedules.schedule(planned, "plan_review", every="P3M")
    assert schedules.ensure(planned, "plan_review") is None         # already scheduled
    schedules.unschedule(planned, row["id"])
    assert schedules.list_schedules(planned) == []
    clock.advance(timedelta(days=200))
    assert schedules.run_due(planned) == []
    with pytest.raises(NotFound):
        schedules.unschedule(planned, row["id"])


def test_cli_schedule_start_list_stop(database_url: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    eng = Engine(Config(database_url=database_url))
    try:
        eng.import_paths([REVIEW])
    finally:
        eng.close()
    assert main(["schedule", "start", "plan_review", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["every"] == "P3M" and row["key"] == "plan_review"
    assert main(["schedule", "list"]) == 0 and "plan_review  every P3M" in capsys.readouterr().out
    assert main(["schedule", "start", "plan_review", "--every", "soon"]) == 1
    assert "ISO-8601" in capsys.readouterr().err
    assert main(["schedule", "stop", str(row["id"]), "--json"]) == 0
    capsys.readouterr()
    assert main(["schedule", "list", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []


def test_worker_once_starts_a_due_scheduled_review(database_url: str, monkeypatch, capsys) -> None:
    """``contiflow worker --once`` does all work due now, scheduled processes included."""
    from sqlalchemy import update

    from engine.store.models import ProcessScheduleRow

    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    eng = Engine(Config(database_url=database_url))
    try:
        eng.load_people(demo_people())
        eng.import_paths([REVIEW])
        schedules.schedule(eng, "plan_review", every="P3M")
        with eng.sessions.begin() as session:             # its quarter has come round
            session.execute(update(ProcessScheduleRow).values(next_run_at=eng.clock.now() - timedelta(minutes=1)))
        assert main(["worker", "--once", "--json"]) == 0
        json.loads(capsys.readouterr().out)
        assert len(reviews(eng)) == 1
        assert main(["worker", "--once", "--json"]) == 0      # not again until the next quarter
        assert len(reviews(eng)) == 1
    finally:
        eng.close()
