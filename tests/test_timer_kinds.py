"""Every timer kind SpiffWorkflow supports, driven by a ManualClock through the engine:
boundary (interrupting and not, with a repeating cycle), intermediate catch, timer start
events, and event-subprocess timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.api import Engine
from engine.clock import ManualClock
from tests.conftest import FIXTURES

TIMERS = FIXTURES / "timers"


def _start(engine: Engine, name: str) -> str:
    engine.import_paths([TIMERS / f"{name}.bpmn"])
    return engine.start(name)


def _open(engine: Engine, iid: str) -> list[str]:
    return sorted(t.bpmn_id for t in engine.tasks(instance_id=iid))


def _fired(engine: Engine, iid: str) -> list[tuple[str, float]]:
    return [(e.bpmn_id, e.offset_seconds) for e in engine.show(iid).timeline if e.kind == "timer_fired"]


def test_intermediate_catch_waits_its_duration(engine: Engine, clock: ManualClock) -> None:
    iid = _start(engine, "catch_wait")
    assert _open(engine, iid) == [] and engine.show(iid).timers[0].due_at == clock.now() + timedelta(minutes=30)
    clock.advance(timedelta(minutes=30))
    engine.fire_due_timers()
    assert _open(engine, iid) == ["after_wait"]


def test_non_interrupting_cycle_repeats_and_keeps_the_task(engine: Engine, clock: ManualClock) -> None:
    iid = _start(engine, "non_interrupting_reminder")
    for _ in range(4):
        clock.advance(timedelta(hours=1))
        engine.fire_due_timers()
        assert _open(engine, iid) == ["work"]
    fired = _fired(engine, iid)
    assert [offset for _, offset in fired] == [3600, 7200, 10800]      # R3: three times, then stops
    engine.complete(engine.tasks(instance_id=iid)[0].task_id, {})
    assert engine.show(iid).status == "completed"


def test_timer_start_event_with_a_date_waits_until_then(engine: Engine, clock: ManualClock) -> None:
    clock.set(datetime(2025, 12, 31, 9, 0, tzinfo=UTC))
    iid = _start(engine, "date_start")
    [timer] = engine.show(iid).timers
    assert timer.due_at == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)     # naive date read as UTC
    clock.set(datetime(2026, 1, 1, 8, 59, 59, tzinfo=UTC))
    engine.fire_due_timers()
    assert _open(engine, iid) == []
    clock.set(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    engine.fire_due_timers()
    assert _open(engine, iid) == ["review"]


def test_event_subprocess_timer_interrupts_after_two_hours(engine: Engine, clock: ManualClock) -> None:
    iid = _start(engine, "event_subprocess_timer")
    assert _open(engine, iid) == ["work"]
    clock.advance(timedelta(hours=2))
    engine.fire_due_timers()
    assert _open(engine, iid) == ["escalate"]
    engine.complete(engine.tasks(instance_id=iid)[0].task_id, {})
    assert engine.show(iid).status == "completed"
