"""Several workers on one PostgreSQL database: work is claimed with FOR UPDATE SKIP LOCKED, so
each due timer fires once, each notification is sent once, each scheduled drill runs once, and
no worker waits behind another.  (SQLite has no row locks: these tests are PostgreSQL's.)"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from engine.drills.scenario import parse_scenario
from engine.timers.scheduler import HELD_RETRY, TimerService, exclusive
from tests.conftest import FIXTURES, ROOT

TIMER_MODEL = FIXTURES / "modelers" / "camunda7_escalation.bpmn"
NOTIFY_MODEL = FIXTURES / "runtime" / "notify_role.bpmn"
SCENARIO = FIXTURES / "drills" / "outage_late_supervisor.yaml"
PEOPLE = """
users:
  - {username: alice, name: Alice, email: alice@example.test}
roles:
  it_supervisor: {primary: [alice]}
"""
WORKERS = 3
JOIN = 60.0                  # seconds: a hung worker fails the test instead of hanging it


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks (SKIP LOCKED) are PostgreSQL's; SQLite lets one writer in at a time")
    return database_url


class Capture:
    """A sender recording what it sent (thread-safe)."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, row: Any) -> None:
        with self._lock:
            self.sent.append(row.id)


@pytest.fixture
def workers(pg_url: str, clock: ManualClock) -> Iterator[tuple[list[Engine], Capture]]:
    """Several engines (as in several `contiflow worker` processes) on one database, one sender."""
    capture = Capture()
    engines = [Engine(Config(database_url=pg_url), clock=clock, senders={"email": capture, "webhook": capture})
               for _ in range(WORKERS)]
    try:
        yield engines, capture
    finally:
        for engine in engines:
            engine.close()


def _together(engines: list[Engine], work: Callable[[Engine], Any]) -> list[Any]:
    """Run ``work`` on every engine at the same moment, one thread each; their results."""
    barrier = threading.Barrier(len(engines))
    results: list[Any] = [None] * len(engines)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=JOIN)
            results[index] = work(engines[index])
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not errors, errors
    return results


def _fired(engine: Engine, instance_id: str) -> list[Any]:
    return [e for e in engine.show(instance_id).timeline if e.kind == "timer_fired"]


def test_concurrent_workers_fire_each_due_timer_exactly_once(workers, clock: ManualClock) -> None:
    engines, _ = workers
    engines[0].import_paths([TIMER_MODEL])
    ids = [engines[0].start("camunda7_escalation") for _ in range(30)]
    clock.advance(timedelta(minutes=10))
    assert len(engines[0].commands.due_instances()) == 30

    fired = _together(engines, lambda engine: engine.fire_due_timers())

    assert sum(fired) == 30                                   # each instance run by exactly one worker
    for iid in ids:
        assert len(_fired(engines[0], iid)) == 1
        assert [t.bpmn_id for t in engines[0].show(iid).tasks] == ["notify_backup"]
    assert all(engine.commands.due_instances() == [] for engine in engines)
    assert all(engine.fire_due_timers() == 0 for engine in engines)


def test_concurrent_timer_services_start_together_safely(workers, clock: ManualClock) -> None:
    """Workers started at once (their catch-up sweeps overlap) fire each overdue timer once."""
    engines, _ = workers
    engines[0].import_paths([TIMER_MODEL])
    ids = [engines[0].start("camunda7_escalation") for _ in range(20)]
    clock.advance(timedelta(hours=1))
    services = [TimerService(engine) for engine in engines]
    try:
        caught_up = _together(engines, lambda engine: services[engines.index(engine)].start(run_scheduler=False))
        assert sum(caught_up) == 20
        for iid in ids:
            assert [e.detail["late_seconds"] for e in _fired(engines[1], iid)] == [50 * 60]
    finally:
        for service in services:
            service.stop()


def test_an_instance_held_elsewhere_is_skipped_not_waited_for(workers, clock: ManualClock) -> None:
    engines, _ = workers
    engines[0].import_paths([TIMER_MODEL])
    held, free = engines[0].start("camunda7_escalation"), engines[0].start("camunda7_escalation")
    clock.advance(timedelta(minutes=10))
    with engines[2].db.connect() as other:                    # a responder's command, say, holds it
        other.execute(text("SELECT id FROM instances WHERE id = :id FOR UPDATE"), {"id": held})
        result = _together(engines[:1], lambda engine: engine.fire_due_timers())
        assert result == [1]                                  # the free one fired; no waiting
        assert engines[0].commands.skipped_held == 1
        assert _fired(engines[0], held) == [] and len(_fired(engines[0], free)) == 1
        service = TimerService(engines[0])
        try:
            service.sweep()                                   # still held: look again shortly
            assert service._scheduled_for == clock.now() + HELD_RETRY
        finally:
            service.stop()
        other.rollback()
    assert engines[0].fire_due_timers() == 1                  # released: fired, once
    assert len(_fired(engines[0], held)) == 1


def test_a_timer_fired_meanwhile_is_not_fired_again(workers, clock: ManualClock) -> None:
    """A worker working from a stale due list re-checks under the lock and leaves it alone."""
    engines, _ = workers
    engines[0].import_paths([TIMER_MODEL])
    iid = engines[0].start("camunda7_escalation")
    clock.advance(timedelta(minutes=10))
    stale = engines[1].commands.due_instances()
    assert engines[0].commands.fire_due(iid) is True
    with engines[0].sessions() as session:
        version = session.execute(text("SELECT lock_version FROM instances WHERE id = :id"), {"id": iid}).scalar()
    assert [engines[1].commands.fire_due(i) for i in stale] == [False]
    with engines[0].sessions() as session:
        assert session.execute(text("SELECT lock_version FROM instances WHERE id = :id"),
                               {"id": iid}).scalar() == version        # not even rewritten
    assert len(_fired(engines[0], iid)) == 1


def test_concurrent_deliverers_send_each_notification_exactly_once(workers) -> None:
    engines, capture = workers
    engines[0].load_people(PEOPLE)
    engines[0].import_paths([NOTIFY_MODEL])
    for _ in range(40):
        engines[0].start("notify_role")
    assert len(engines[0].outbox.due_ids()) == 40

    sent = _together(engines, lambda engine: engine.deliver_notifications())

    assert sum(sent) == 40
    assert len(capture.sent) == 40 and set(Counter(capture.sent).values()) == {1}
    with engines[0].sessions() as session:
        statuses = dict(session.execute(text("SELECT status, count(*) FROM notifications GROUP BY status")).all())
        audited = session.execute(text("SELECT count(*) FROM audit_events WHERE kind = 'notification_sent'")).scalar()
    assert statuses == {"sent": 40} and audited == 40
    assert all(engine.deliver_notifications() == 0 for engine in engines)


def test_a_deliverer_passes_over_rows_another_is_claiming(workers) -> None:
    engines, capture = workers
    engines[0].load_people(PEOPLE)
    engines[0].import_paths([NOTIFY_MODEL])
    for _ in range(5):
        engines[0].start("notify_role")
    locked = sorted(engines[0].outbox.due_ids())[:2]
    with engines[2].db.connect() as other:                    # another worker mid-claim
        other.execute(text("SELECT id FROM notifications WHERE id = ANY(:ids) FOR UPDATE"), {"ids": locked})
        assert _together(engines[:1], lambda engine: engine.deliver_notifications()) == [3]
        assert not set(locked) & set(capture.sent)
        other.rollback()
    assert engines[0].deliver_notifications() == 2
    assert sorted(capture.sent) == sorted(set(capture.sent)) and len(capture.sent) == 5


def test_concurrent_workers_run_a_scheduled_drill_once(workers, clock: ManualClock) -> None:
    engines, _ = workers
    engines[0].load_people((ROOT / "runbooks" / "people.yaml").read_text())
    engines[0].import_paths([ROOT / "runbooks" / "system_outage.bpmn"])
    engines[0].schedule_drill(parse_scenario(SCENARIO.read_text()), every="P3M")
    clock.advance(timedelta(days=92))

    reports = _together(engines, lambda engine: engine.run_due_drills())

    assert sum(len(r) for r in reports) == 1
    assert len(engines[0].drill_reports()) == 1
    assert all(engine.run_due_drills() == [] for engine in engines)


def test_only_one_worker_at_a_time_runs_the_kpi_check(workers) -> None:
    engines, _ = workers
    with exclusive(engines[0].db, "job") as first:
        with exclusive(engines[1].db, "job") as second:
            assert first and not second
    with exclusive(engines[1].db, "job") as again:
        assert again                                          # released when the holder finished
