"""Durable timers: the scheduler wakes at the earliest due time, catches up after downtime
exactly once, and several workers never fire a timer twice."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from engine.errors import Conflict
from engine.timers import TimerService
from engine.timers.scheduler import WAKE_JOB
from tests.conftest import FIXTURES

MODEL = FIXTURES / "modelers" / "camunda7_escalation.bpmn"


def _service(engine: Engine) -> TimerService:
    # never started: its jobs are inspected, and sweeps run by the test (no sleeping)
    return TimerService(engine, scheduler=BackgroundScheduler(timezone="UTC"))


def test_wake_job_points_at_the_earliest_timer_and_moves_when_an_earlier_one_appears(
        engine: Engine, clock: ManualClock) -> None:
    engine.import_paths([MODEL])
    service = _service(engine)
    service.start(run_scheduler=False)
    assert service.scheduler.get_job(WAKE_JOB) is None      # nothing pending yet
    t0 = clock.now()
    engine.start("camunda7_escalation")
    job = service.scheduler.get_job(WAKE_JOB)
    assert job.trigger.run_date == t0 + timedelta(minutes=10)
    clock.advance(timedelta(minutes=3))
    engine.start("camunda7_escalation", speed=60)             # due after 10 s of wall time
    assert service.scheduler.get_job(WAKE_JOB).trigger.run_date == t0 + timedelta(minutes=3, seconds=10)


def test_sweep_fires_due_timers_once(engine: Engine, clock: ManualClock) -> None:
    engine.import_paths([MODEL])
    service = _service(engine)
    service.start(run_scheduler=False)
    iid = engine.start("camunda7_escalation")
    clock.advance(timedelta(minutes=10))
    assert service.sweep() == 1
    assert service.sweep() == 0
    assert [t.bpmn_id for t in engine.tasks(instance_id=iid)] == ["notify_backup"]
    assert service.scheduler.get_job(WAKE_JOB) is None        # no timer left to wait for


def test_restart_catches_up_overdue_timers_exactly_once_and_logs_them_late(
        database_url: str, clock: ManualClock) -> None:
    first = Engine(Config(database_url=database_url), clock=clock)
    first.import_paths([MODEL])
    ids = [first.start("camunda7_escalation") for _ in range(3)]
    first.close()                                            # "killed" with timers pending
    clock.advance(timedelta(hours=1))
    second = Engine(Config(database_url=database_url), clock=clock)
    try:
        assert _service(second).start(run_scheduler=False) == 3
        for iid in ids:
            view = second.show(iid)
            fired = [e for e in view.timeline if e.kind == "timer_fired"]
            assert len(fired) == 1 and fired[0].detail["late_seconds"] == 50 * 60
            assert [t.bpmn_id for t in view.tasks] == ["notify_backup"]
        assert _service(second).start(run_scheduler=False) == 0
    finally:
        second.close()


def test_two_workers_on_one_database_fire_each_timer_once(database_url: str, clock: ManualClock) -> None:
    workers = [Engine(Config(database_url=database_url), clock=clock) for _ in range(2)]
    try:
        workers[0].import_paths([MODEL])
        ids = [workers[0].start("camunda7_escalation") for _ in range(4)]
        clock.advance(timedelta(minutes=10))
        due = workers[0].commands.due_instances()
        # both workers saw the same due list; both try every instance
        for iid in due:
            for worker in workers:
                worker.commands.fire_due(iid)
        for iid in ids:
            fired = [e for e in workers[1].show(iid).timeline if e.kind == "timer_fired"]
            assert len(fired) == 1
    finally:
        for worker in workers:
            worker.close()


def test_an_overdue_interrupting_timer_fires_before_a_late_completion(engine: Engine, clock: ManualClock) -> None:
    """No worker ran while the supervisor's 10-minute SLA passed; her acknowledgement at 12
    minutes finds the escalation already due: it fires first (late, once), her task is
    withdrawn and she is told so, and the backup has the task."""
    engine.import_paths([MODEL])
    iid = engine.start("camunda7_escalation")
    [task] = engine.tasks(instance_id=iid)
    clock.advance(timedelta(minutes=12))
    try:
        engine.complete(task.task_id, {}, actor="alice")
    except Conflict as exc:
        assert "withdrawn" in str(exc)
    else:
        raise AssertionError("a task withdrawn by its overdue escalation was completed")
    [backup] = engine.tasks(instance_id=iid)
    assert backup.bpmn_id == "notify_backup"
    kinds = [e.kind for e in engine.show(iid).timeline]
    assert kinds.count("timer_fired") == 1 and "task_completed" not in kinds


def test_a_completion_at_the_deadline_itself_is_in_time(engine: Engine, clock: ManualClock) -> None:
    engine.import_paths([MODEL])
    iid = engine.start("camunda7_escalation")
    [task] = engine.tasks(instance_id=iid)
    clock.advance(timedelta(minutes=10))
    engine.complete(task.task_id, {}, actor="alice")
    kinds = [e.kind for e in engine.show(iid).timeline]
    assert "timer_fired" not in kinds and "task_completed" in kinds
