"""Execution and persistence through the public Engine API: timers on a ManualClock,
conflicts, incidents and retry, cancellation, audit timeline, versioning."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.api import Engine
from engine.clock import ManualClock
from engine.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from tests.conftest import FIXTURES

RUNTIME = FIXTURES / "runtime"


def _import(engine: Engine, name: str) -> None:
    engine.import_paths([RUNTIME / name])


def _only_task(engine: Engine, instance_id: str):
    tasks = engine.tasks(instance_id=instance_id)
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_boundary_timer_escalates_at_exactly_ten_minutes(engine: Engine, clock: ManualClock) -> None:
    _import(engine, "escalation.bpmn")
    iid = engine.start("escalation", {"price": 21})
    task = _only_task(engine, iid)
    assert task.bpmn_id == "notify_supervisor"
    assert task.due_at == clock.now() + timedelta(minutes=10)  # the boundary timer is its SLA

    clock.advance(timedelta(minutes=9, seconds=59))
    engine.fire_due_timers()
    assert _only_task(engine, iid).bpmn_id == "notify_supervisor"

    clock.advance(timedelta(seconds=1))
    assert engine.fire_due_timers() == 1
    assert _only_task(engine, iid).bpmn_id == "notify_backup"
    timeline = engine.show(iid).timeline
    fired = [e for e in timeline if e.kind == "timer_fired"]
    assert len(fired) == 1 and fired[0].offset_seconds == 600
    assert fired[0].detail["late_seconds"] == 0


def test_complete_runs_to_end_and_records_who(engine: Engine, clock: ManualClock) -> None:
    _import(engine, "escalation.bpmn")
    iid = engine.start("escalation", {"price": 21})
    clock.advance(timedelta(minutes=7))
    engine.complete(_only_task(engine, iid).task_id, {"acknowledged": True}, actor="alice")
    view = engine.show(iid)
    assert view.status == "completed"
    assert view.data == {"price": 21, "total": 42, "acknowledged": True}
    done = [e for e in view.timeline if e.kind == "task_completed" and e.bpmn_id == "notify_supervisor"]
    assert done[0].actor == "alice" and done[0].offset_seconds == 420
    assert engine.tasks(instance_id=iid) == []
    assert view.timers == []


def test_second_completion_is_a_clear_conflict(engine: Engine) -> None:
    _import(engine, "escalation.bpmn")
    iid = engine.start("escalation", {"price": 1})
    task = _only_task(engine, iid)
    engine.complete(task.task_id, {}, actor="alice")
    with pytest.raises(Conflict, match="already completed by alice"):
        engine.complete(task.task_id, {}, actor="bob")


def test_script_failure_is_an_incident_and_retry_after_fixing_data(engine: Engine) -> None:
    _import(engine, "escalation.bpmn")
    iid = engine.start("escalation", {})          # no price: the script fails
    view = engine.show(iid)
    assert view.status == "incident"
    incident = view.incidents[0]
    assert incident.bpmn_id == "compute" and "price" in incident.message
    assert incident.line == 1
    assert engine.retry(iid, {"price": 5}) == ["compute"]
    view = engine.show(iid)
    assert view.status == "running"
    assert view.incidents[0].resolved_at is not None
    assert _only_task(engine, iid).bpmn_id == "notify_supervisor"


def test_unregistered_service_raises_incident_then_binding_it_and_retrying_recovers(engine: Engine) -> None:
    results = engine.import_paths([RUNTIME / "service_call.bpmn"])
    assert any("com.acme.PageVendorDelegate" in w and "page_vendor" in w for w in results[0].warnings)
    iid = engine.start("service_call")
    view = engine.show(iid)
    assert view.status == "incident"
    assert "com.acme.PageVendorDelegate" in view.incidents[0].message
    engine.services.register("com.acme.PageVendorDelegate", lambda call: {"paged": True})
    engine.retry(iid)
    view = engine.show(iid)
    assert view.status == "completed"
    logged = [e for e in view.timeline if e.kind == "service_log"]
    assert logged and logged[0].detail["message"] == "vendor paged"


def test_cancel_removes_open_tasks_and_timers(engine: Engine) -> None:
    _import(engine, "escalation.bpmn")
    iid = engine.start("escalation", {"price": 1})
    engine.cancel(iid, actor="manager")
    view = engine.show(iid)
    assert view.status == "cancelled" and view.tasks == [] and view.timers == []
    with pytest.raises(InvalidTransition):
        engine.cancel(iid)


def test_identical_reimport_is_not_reversioned_and_instances_keep_their_version(engine: Engine) -> None:
    first = engine.import_paths([RUNTIME / "escalation.bpmn"])
    again = engine.import_paths([RUNTIME / "escalation.bpmn"])
    assert (first[0].version, first[0].new_version) == (1, True)
    assert (again[0].version, again[0].new_version) == (1, False)
    iid = engine.start("escalation", {"price": 1})
    changed = (RUNTIME / "escalation.bpmn").read_bytes().replace(b"price * 2", b"price * 3")
    assert engine.import_files([("escalation.bpmn", changed)])[0].version == 2
    assert engine.show(iid).version == 1
    new = engine.start("escalation", {"price": 1})
    assert engine.show(new).version == 2


def test_bad_input_names_the_problem(engine: Engine) -> None:
    with pytest.raises(NotFound, match="no definition with key 'nope'"):
        engine.start("nope")
    with pytest.raises(NotFound):
        engine.complete("0c7d3a0e-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        engine.show("missing")
    with pytest.raises(InvalidInput):
        engine.start("escalation", [1, 2])  # type: ignore[arg-type]


def test_state_survives_a_new_engine_on_the_same_database(database_url: str, clock: ManualClock) -> None:
    from engine.config import Config

    first = Engine(Config(database_url=database_url), clock=clock)
    _import(first, "escalation.bpmn")
    iid = first.start("escalation", {"price": 2})
    first.close()
    clock.advance(timedelta(minutes=15))       # the timer fell due while nothing was running
    second = Engine(Config(database_url=database_url), clock=clock)
    try:
        assert second.fire_due_timers() == 1
        assert second.fire_due_timers() == 0  # fired once, not twice
        assert _only_task(second, iid).bpmn_id == "notify_backup"
        fired = [e for e in second.show(iid).timeline if e.kind == "timer_fired"]
        assert len(fired) == 1 and fired[0].detail["late_seconds"] == 300
    finally:
        second.close()


def test_scaled_clock_instance_fires_on_virtual_time(engine: Engine, clock: ManualClock) -> None:
    _import(engine, "escalation.bpmn")
    iid = engine.start("escalation", {"price": 1}, speed=600)   # ten virtual minutes per second
    clock.advance(timedelta(seconds=0.999))
    engine.fire_due_timers()
    assert _only_task(engine, iid).bpmn_id == "notify_supervisor"
    clock.advance(timedelta(seconds=0.001))
    engine.fire_due_timers()
    assert _only_task(engine, iid).bpmn_id == "notify_backup"


def test_show_measures_targets_met_and_missed(engine: Engine, clock: ManualClock) -> None:
    _import(engine, "escalation.bpmn")                 # notify_supervisor has target PT30M
    met = engine.start("escalation", {"price": 1})
    clock.advance(timedelta(minutes=7))
    engine.complete(_only_task(engine, met).task_id, {})
    [result] = engine.show(met).targets
    assert (result.bpmn_id, result.status, result.done_offset) == ("notify_supervisor", "met", timedelta(minutes=7))
    assert result.sentence() == "Notify supervisor at +7m, target 30m: met"

    late = engine.start("escalation", {"price": 1})
    clock.advance(timedelta(minutes=31))
    assert engine.show(late).targets[0].status == "missed"     # still open, already past target


PEOPLE = """
users:
  - {username: sam, name: Sam}
  - {username: pat, name: Pat}
  - {username: root, name: Root, admin: true}
roles:
  it_supervisor: {primary: [sam]}
  backup: {primary: [pat]}
"""


def test_inbox_shows_only_the_users_roles_and_admins_see_all(engine: Engine) -> None:
    engine.import_files([("e.bpmn", (RUNTIME / "escalation.bpmn").read_bytes().replace(
        b'<bpmn:userTask id="notify_supervisor"', b'<bpmn:userTask id="notify_supervisor" '
        b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" camunda:candidateGroups="it_supervisor"'))])
    engine.load_people(PEOPLE)
    iid = engine.start("escalation", {"price": 1})
    [task] = engine.inbox("sam")
    assert task.role == "it_supervisor" and engine.may_act("sam", task.task_id)
    assert engine.inbox("pat") == [] and not engine.may_act("pat", task.task_id)
    assert [t.task_id for t in engine.inbox("root")] == [task.task_id]
    assert engine.claim(task.task_id, "sam").claimed_by == "sam"
    with pytest.raises(Conflict, match="claimed by sam"):
        engine.claim(task.task_id, "root")
    assert engine.unclaim(task.task_id).claimed_by is None
    states = engine.element_states(iid)
    assert states["compute"] == "completed" and states["notify_supervisor"] == "active"
    name, xml = engine.diagram("escalation")
    assert name == "e.bpmn" and b"notify_supervisor" in xml


def test_a_forked_web_process_opens_its_own_connections(engine) -> None:  # type: ignore[no-untyped-def]
    """gunicorn --preload: a forked child drops the pooled connections it inherited (both
    pools: commands and autocommit reads) without closing them, works on fresh ones, and the
    parent's connections keep working."""
    import os

    engine.tasks_count()
    engine.definitions()
    pid = os.fork()
    if pid == 0:                                    # the child: never returns into pytest
        code = 1
        try:
            engine.forget_inherited_connections()
            code = 0 if engine.tasks_count() == 0 and engine.definitions() == [] else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert engine.tasks_count() == 0 and engine.definitions() == []    # the parent's pools still work
