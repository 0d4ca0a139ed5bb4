"""Plan registers stored in the database: risks and optimisation targets added, edited and
deleted one by one, imported and exported as CSV (through the engine and the CLI), the heat map,
and each target's current value read from observed KPIs."""

from __future__ import annotations

import json

import pytest

from engine.analysis import register_store, registers
from engine.api import Engine
from engine.cli.main import main
from engine.clock import ManualClock
from engine.config import Config
from engine.errors import InvalidInput, NotFound
from tests.conftest import FIXTURES
from tests.test_analysis_kpis import generate

ANALYSIS = FIXTURES / "analysis"
RISKS = (ANALYSIS / "risks.csv").read_text()
TARGETS = (ANALYSIS / "targets.csv").read_text()


def test_risk_import_upserts_by_id_and_exports_the_same_register(engine: Engine) -> None:
    assert register_store.import_risks(engine, RISKS) == {"added": 4, "updated": 0}
    assert register_store.import_risks(engine, RISKS.replace("Key supplier", "Main supplier")) == {
        "added": 0, "updated": 4}
    register = register_store.risk_register(engine)
    assert [r["id"] for r in register["risks"]] == ["R1", "R2", "R3", "R4"]      # highest score first
    assert register["risks"][0]["risk"] == "Main supplier cannot deliver"
    assert [r["level"] for r in register["risks"]] == ["high", "high", "medium", "low"]
    assert register["heat_map"]["cells"][3][3]["ids"] == ["R1"]
    again = registers.read_risks(register_store.export_risks(engine))
    assert [r.id for r in again] == ["R1", "R2", "R3", "R4"] and again[1].controls == "Failover data centre"


def test_risk_add_edit_delete_and_validation(engine: Engine) -> None:
    row_id = register_store.save_risk(engine, register_store.risk_from(
        {"id": "R9", "risk": "Flood", "likelihood": "2", "impact": 5, "steps": "restore_payment",
         "runbook": "system_outage", "controls": "Off-site backup"}))
    risk = register_store.get_risk(engine, row_id)
    assert (risk.score, risk.level, risk.runbook) == (10, "medium", "system_outage")
    register_store.save_risk(engine, register_store.risk_from({"id": "R9", "risk": "Flood", "likelihood": 3,
                                                               "impact": 5}), row_id)
    assert register_store.get_risk(engine, row_id).level == "high"
    other = register_store.save_risk(engine, register_store.risk_from({"id": "R10", "risk": "Fire",
                                                                       "likelihood": 1, "impact": 1}))
    with pytest.raises(InvalidInput, match="exists already"):
        register_store.save_risk(engine, register_store.risk_from({"id": "R9", "risk": "x", "likelihood": 1,
                                                                   "impact": 1}), other)
    for bad, message in [({"risk": "x", "likelihood": 1, "impact": 1}, "'id'"),
                         ({"id": "R1", "likelihood": 1, "impact": 1}, "'risk'"),
                         ({"id": "R1", "risk": "x", "likelihood": 0, "impact": 1}, "likelihood"),
                         ({"id": "R1", "risk": "x", "likelihood": 1, "impact": "high"}, "impact"),
                         ({"id": "R" * 41, "risk": "x", "likelihood": 1, "impact": 1}, "longer")]:
        with pytest.raises(InvalidInput, match=message):
            register_store.risk_from(bad)
    register_store.delete_risk(engine, row_id)
    with pytest.raises(NotFound):
        register_store.get_risk(engine, row_id)
    with pytest.raises(NotFound):
        register_store.delete_risk(engine, row_id)
    with pytest.raises(InvalidInput, match="appears twice"):
        register_store.import_risks(engine, "id,risk,likelihood,impact\nR1,a,1,1\nR1,b,2,2\n")
    assert [r.id for _, r in register_store.list_risks(engine)] == ["R10"]       # all or nothing


def test_targets_read_their_metric_from_observed_kpis(engine: Engine, clock: ManualClock) -> None:
    assert register_store.import_targets(engine, TARGETS) == {"added": 3, "removed": 0}
    assert [t["current"] for t in register_store.target_register(engine)] == [None, None, None]
    generate(engine, clock, orders=4, timed_out=1)
    progress = register_store.target_register(engine)
    assert [t["met"] for t in progress] == [True, False, True]
    assert progress[1]["current"] == 0.25 and progress[1]["owner"] == "sales"
    row_id = progress[1]["row_id"]
    changed = register_store.target_from({**progress[1], "target": "0.3"})
    register_store.save_target(engine, changed, row_id)
    assert register_store.target_register(engine)[1]["met"] is True
    assert register_store.import_targets(engine, TARGETS, replace=True) == {"added": 3, "removed": 3}
    assert registers.read_targets(register_store.export_targets(engine)) == registers.read_targets(TARGETS)
    register_store.delete_target(engine, register_store.list_targets(engine)[0][0])
    assert len(register_store.list_targets(engine)) == 2
    for bad, message in [({"goal": "", "metric": "timeout_rate"}, "goal"),
                         ({"goal": "x", "metric": "speed"}, "metric"),
                         ({"goal": "x", "metric": "timeout_rate", "target": "low"}, "number"),
                         ({"goal": "x", "metric": "timeout_rate", "deadline": "soon"}, "date"),
                         ({"goal": "x", "metric": "timeout_rate", "direction": "up"}, "direction")]:
        with pytest.raises(InvalidInput, match=message):
            register_store.target_from(bad)
    with pytest.raises(NotFound):
        register_store.save_target(engine, changed, 999_999)


def test_cli_stored_registers(database_url: str, monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    Engine(Config(database_url=database_url)).close()
    assert main(["risks", "--import", str(ANALYSIS / "risks.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"added": 4, "updated": 0}
    assert main(["risks", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["risks"]] == ["R1", "R2", "R3", "R4"]
    assert main(["risks"]) == 0 and "R1  high" in capsys.readouterr().out
    assert main(["risks", "--export"]) == 0
    assert capsys.readouterr().out.startswith("id,risk,likelihood,impact")
    assert main(["targets", "--import", str(ANALYSIS / "targets.csv")]) == 0
    assert "3 added" in capsys.readouterr().out
    assert main(["targets", "--json"]) == 0 and len(json.loads(capsys.readouterr().out)) == 3
    assert main(["targets", "--export"]) == 0 and "Fewer SLA breaches" in capsys.readouterr().out
    assert main(["targets", "--import", str(ANALYSIS / "targets.csv"), "--replace", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"added": 3, "removed": 3}
    assert main(["risks", str(ANALYSIS / "risks.csv")]) == 0 and "impact →" in capsys.readouterr().out
    assert main(["targets", str(ANALYSIS / "targets.csv"), "--export"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (ANALYSIS / "targets.csv").read_text().splitlines()[0]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,risk,likelihood,impact\nR1,x,9,1\n")
    assert main(["risks", "--import", str(bad)]) == 1 and "likelihood" in capsys.readouterr().err
    assert main(["risks", str(ANALYSIS / "risks.csv"), "--import", str(bad)]) == 1
    assert "not both" in capsys.readouterr().err
