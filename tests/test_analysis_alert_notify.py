"""KPI alerts without a runbook notify their role directly through the outbox: once while the
alert keeps firing, again after it cleared and fired anew; below the threshold, nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.analysis import kpi_alerts
from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from tests.conftest import demo_people
from tests.test_analysis_kpis import generate

NOTIFY = [{"name": "order timeouts", "key": "order_sla", "metric": "timeout_rate", "above": 0.05,
           "window_hours": 48, "notify": "continuity_manager", "severity": "critical"}]


class Capture:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def __call__(self, row) -> None:
        self.sent.append((row.channel, row.addressee, row.subject))


@pytest.fixture
def sender() -> Capture:
    return Capture()


@pytest.fixture
def notifying(database_url: str, clock: ManualClock, sender: Capture) -> Iterator[Engine]:
    eng = Engine(Config(database_url=database_url, script_time_limit=0.5), clock=clock,
                 senders={"email": sender, "webhook": sender})
    eng.load_people(demo_people())
    try:
        yield eng
    finally:
        eng.close()


def check(engine: Engine) -> list[dict]:
    thresholds = kpi_alerts.parse_thresholds(NOTIFY)
    return kpi_alerts.raise_alerts(engine, kpi_alerts.check(engine, thresholds))


def test_alert_without_runbook_notifies_once_while_firing(notifying: Engine, clock: ManualClock,
                                                          sender: Capture) -> None:
    generate(notifying, clock, orders=10, timed_out=3)           # 30% > 5%
    [outcome] = check(notifying)
    assert outcome["action"] == "notified" and outcome["recipients"] == ["grace"]   # primary only
    assert sender.sent == [("email", "grace", "[KPI critical] order timeouts")]
    for _ in range(3):                                           # still firing: no second message
        clock.advance(timedelta(minutes=5))
        assert [o["action"] for o in check(notifying)] == ["already_notified"]
    assert len(sender.sent) == 1


def test_cleared_alert_notifies_again_when_it_fires_anew(notifying: Engine, clock: ManualClock,
                                                         sender: Capture) -> None:
    generate(notifying, clock, orders=10, timed_out=3)
    assert [o["action"] for o in check(notifying)] == ["notified"]
    clock.advance(timedelta(days=3))                             # the window is empty: cleared
    assert check(notifying) == []
    generate(notifying, clock, orders=10, timed_out=2)           # fires again: a new episode
    assert [o["action"] for o in check(notifying)] == ["notified"]
    assert [a for _, a, _ in sender.sent] == ["grace", "grace"]


def test_below_threshold_sends_nothing(notifying: Engine, clock: ManualClock, sender: Capture) -> None:
    generate(notifying, clock, orders=20, timed_out=1)           # 5%: not above
    assert check(notifying) == []
    assert sender.sent == []


def test_unknown_role_is_reported_not_raised(notifying: Engine, clock: ManualClock, sender: Capture) -> None:
    generate(notifying, clock, orders=10, timed_out=3)
    rules = kpi_alerts.parse_thresholds([{**NOTIFY[0], "notify": "nobody_role"}])
    [outcome] = kpi_alerts.raise_alerts(notifying, kpi_alerts.check(notifying, rules))
    assert outcome["action"] == "not_notified" and "nobody_role" in outcome["error"]
    assert sender.sent == []
