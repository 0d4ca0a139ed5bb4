"""Observed KPIs from real executions (generated history on a ManualClock), threshold alerts
that fire above the limit and not at or below it, and the plan registers (CSV in and out)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from engine.analysis import kpi_alerts, registers
from engine.analysis.history import load_history
from engine.analysis.kpis import metric, process_kpis
from engine.api import Engine
from engine.cli.main import main
from engine.clock import ManualClock
from engine.errors import InvalidInput
from tests.conftest import FIXTURES

ANALYSIS = FIXTURES / "analysis"
TIMEOUT_RATE = [{"name": "order timeouts", "key": "order_sla", "metric": "timeout_rate", "above": 0.05,
                 "window_hours": 48, "incident_type": "order_timeouts"}]


def generate(engine: Engine, clock: ManualClock, orders: int, timed_out: int) -> None:
    """``orders`` orders: all but ``timed_out`` are processed after 30 minutes, the rest hit the SLA."""
    engine.import_paths([ANALYSIS / "order_sla.bpmn"])
    ids = [engine.start("order_sla") for _ in range(orders)]
    clock.advance(timedelta(minutes=30))
    for instance_id in ids[timed_out:]:
        [task] = engine.tasks(instance_id=instance_id)
        engine.complete(task.task_id, {}, actor="alice")
    clock.advance(timedelta(minutes=30))          # the SLA is due exactly now
    assert engine.fire_due_timers() == timed_out


def kpis_of(engine: Engine) -> dict:
    [record] = process_kpis(*load_history(engine.sessions, "order_sla"))
    return record


def test_cycle_times_timeout_rate_and_mtta(engine: Engine, clock: ManualClock) -> None:
    generate(engine, clock, orders=10, timed_out=2)
    record = kpis_of(engine)
    assert (record["instances"], record["completed"], record["timeouts"]) == (10, 10, 2)
    assert record["timeout_rate"] == pytest.approx(0.2)
    assert record["cycle_time_hours"]["count"] == 10
    # 8 done after 0.5 h, 2 timed out at 1 h
    assert record["cycle_time_hours"]["mean"] == pytest.approx((8 * 0.5 + 2 * 1.0) / 10)
    assert record["mtta_hours"] == pytest.approx(0.5) and record["mttr_hours"] == pytest.approx(0.6)
    [step] = record["steps"]
    assert (step["name"], step["ready"], step["completed"], step["timeouts"]) == ("Process order", 10, 8, 2)
    assert step["mean_hours"] == pytest.approx(0.5) and step["timeout_rate"] == pytest.approx(0.2)
    assert metric(record, "step_timeout_rate", "process_order") == pytest.approx(0.2)


@pytest.mark.parametrize(("timed_out", "fires"), [(0, False), (1, False), (2, True)])
def test_timeout_alert_fires_above_threshold_only(engine: Engine, clock: ManualClock,
                                                  timed_out: int, fires: bool) -> None:
    generate(engine, clock, orders=20, timed_out=timed_out)     # 0%, 5% (not above), 10%
    [result] = kpi_alerts.check(engine, kpi_alerts.parse_thresholds(TIMEOUT_RATE))
    assert result["firing"] is fires
    assert result["value"] == pytest.approx(timed_out / 20)


def test_firing_alert_starts_its_runbook_once(engine: Engine, clock: ManualClock) -> None:
    engine.import_paths([ANALYSIS / "order_timeout_runbook.bpmn"])
    generate(engine, clock, orders=10, timed_out=3)
    thresholds = kpi_alerts.parse_thresholds({"thresholds": TIMEOUT_RATE})
    first = kpi_alerts.raise_alerts(engine, kpi_alerts.check(engine, thresholds))
    assert [o["action"] for o in first] == ["started"]
    again = kpi_alerts.raise_alerts(engine, kpi_alerts.check(engine, thresholds))
    assert [o["action"] for o in again] == ["already_open"]
    [task] = engine.tasks(instance_id=first[0]["instance_id"])
    assert task.name == "Investigate order backlog"


def test_window_leaves_old_history_out(engine: Engine, clock: ManualClock) -> None:
    generate(engine, clock, orders=10, timed_out=5)
    clock.advance(timedelta(days=3))
    [result] = kpi_alerts.check(engine, kpi_alerts.parse_thresholds(TIMEOUT_RATE))
    assert result["firing"] is False and result["instances"] == 0


@pytest.mark.parametrize("bad", [
    [{"key": "k", "metric": "nonsense", "above": 1}], [{"key": "k", "metric": "timeout_rate"}],
    [{"metric": "timeout_rate", "above": 1}], [{"key": "k", "metric": "timeout_rate", "above": "x"}],
    [{"key": "k", "metric": "timeout_rate", "above": 1, "colour": "red"}], "nope"])
def test_bad_thresholds_are_refused(bad) -> None:
    with pytest.raises(InvalidInput):
        kpi_alerts.parse_thresholds(bad)


def test_cli_kpis_kpi_check_and_registers(database_url: str, monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    clock = ManualClock()
    from engine.config import Config

    eng = Engine(Config(database_url=database_url), clock=clock)
    try:
        generate(eng, clock, orders=4, timed_out=1)
    finally:
        eng.close()
    assert main(["kpis", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["timeout_rate"] == 0.25
    assert main(["kpis"]) == 0 and "timeout rate 25.0%" in capsys.readouterr().out
    rules = tmp_path / "thresholds.yaml"
    rules.write_text("thresholds:\n  - {name: order timeouts, key: order_sla, metric: timeout_rate, above: 0.05}\n")
    assert main(["kpi-check", str(rules), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["alerts"][0]["firing"] is True
    rules.write_text("[: bad")
    assert main(["kpi-check", str(rules)]) == 1 and "not YAML" in capsys.readouterr().err
    assert main(["targets", str(ANALYSIS / "targets.csv"), "--json"]) == 0
    progress = json.loads(capsys.readouterr().out)
    assert [t["met"] for t in progress] == [True, False, True]
    assert main(["risks", str(ANALYSIS / "risks.csv"), "--json"]) == 0
    risks = json.loads(capsys.readouterr().out)
    assert [r["level"] for r in risks["risks"]] == ["high", "high", "medium", "low"]
    assert risks["heat_map"]["cells"][3][3]["ids"] == ["R1"]


def test_risk_register_round_trip_and_validation() -> None:
    text = (ANALYSIS / "risks.csv").read_text()
    risks = registers.read_risks(text)
    again = registers.read_risks(registers.write_csv(risks, registers.Risk))
    assert [registers.risk_json(r) for r in again] == [registers.risk_json(r) for r in risks]
    assert registers.heat_map(risks)["levels"] == {"high": 2, "medium": 1, "low": 1}
    with pytest.raises(InvalidInput, match="line 2: likelihood"):
        registers.read_risks("id,risk,likelihood,impact\nR9,x,7,1\n")
    with pytest.raises(InvalidInput, match="missing column"):
        registers.read_risks("id,risk\nR1,x\n")
    hostile = registers.write_csv([registers.Risk("R1", "=HYPERLINK(\"x\")", 1, 1)], registers.Risk)
    assert "'=HYPERLINK" in hostile


def test_targets_round_trip_and_progress() -> None:
    targets = registers.read_targets((ANALYSIS / "targets.csv").read_text())
    assert registers.read_targets(registers.write_csv(targets, registers.Target)) == targets
    kpis = [{"key": "order_sla", "instances": 5, "timeout_rate": 0.2, "steps": [],
             "cycle_time_hours": {"mean": 2.0, "p90": 3.0, "count": 5}}]
    progress = registers.target_progress(targets, kpis, date(2026, 4, 1))
    assert [(p["current"], p["met"], p["overdue"]) for p in progress] == [
        (2.0, False, False), (0.2, False, True), (None, None, False)]
    with pytest.raises(InvalidInput, match="line 2"):
        registers.read_targets("goal,metric,deadline\nx,timeout_rate,soon\n")
    assert registers.next_review(date(2026, 11, 30)) == date(2027, 2, 28)


def test_worker_checks_kpi_thresholds_on_its_schedule(database_url: str, clock: ManualClock, tmp_path) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from engine.config import Config
    from engine.timers import TimerService
    from engine.timers.scheduler import KPI_JOB

    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text(json.dumps({"thresholds": TIMEOUT_RATE}))
    engine = Engine(Config(database_url=database_url, kpi_thresholds=str(thresholds), kpi_check_minutes=5),
                    clock=clock)
    try:
        engine.import_paths([ANALYSIS / "order_timeout_runbook.bpmn"])
        generate(engine, clock, orders=10, timed_out=3)
        service = TimerService(engine, scheduler=BackgroundScheduler(timezone="UTC"))
        service.start(run_scheduler=False)
        assert service.scheduler.get_job(KPI_JOB).trigger.interval == timedelta(minutes=5)
        [outcome] = service.check_kpis()
        assert outcome["action"] == "started"
        assert service.check_kpis()[0]["action"] == "already_open"
    finally:
        engine.close()
