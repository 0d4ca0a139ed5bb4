"""The command-line contract (DESIGN.md §3), driven as a user would: modeler files imported
and run to completion, --json everywhere, one-line errors with a non-zero exit."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from engine.cli.main import main
from tests.conftest import FIXTURES, ROOT
from tests.test_bundled_models import answer

MODELERS = FIXTURES / "modelers"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run ``contiflow ARGS``; returns (exit code, stdout, stderr), JSON-decoded with --json."""
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)

    def run(*args: str):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        if "--json" in args and code == 0:
            return code, json.loads(out), err
        return code, out, err
    return run


def _tasks(cli, instance_id: str) -> list[dict]:
    code, tasks, _ = cli("tasks", "--instance", instance_id, "--json")
    assert code == 0
    return tasks


def _complete(cli, task: dict, data: dict, actor: str = "tester") -> None:
    code, out, err = cli("complete", task["task_id"], "--data", json.dumps(data), "--as", actor, "--json")
    assert code == 0, err


def _status(cli, instance_id: str) -> str:
    return cli("show", instance_id, "--json")[1]["status"]


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_camunda7_model_runs_with_roles_forms_juel_and_bare_timer(cli) -> None:
    code, report, _ = cli("import", MODELERS / "camunda7_escalation.bpmn", "--json")
    assert code == 0 and report["imported"][0]["key"] == "camunda7_escalation"
    code, started, _ = cli("start", "camunda7_escalation", "--json")
    iid = started["instance_id"]
    [task] = _tasks(cli, iid)
    assert (task["bpmn_id"], task["role"]) == ("notify_supervisor", "it_supervisor")
    assert [f["id"] for f in task["form"]] == ["acknowledged"]
    assert task["form"][0]["type"] == "boolean"
    assert _parse(task["due_at"]) - _parse(task["ready_at"]) == timedelta(minutes=10)  # bare PT10M
    _complete(cli, task, {"acknowledged": True})
    [task] = _tasks(cli, iid)
    assert (task["bpmn_id"], task["role"]) == ("assess", "it_team")
    _complete(cli, task, {"severity": "high", "summary": "db down"})
    assert _status(cli, iid) == "completed"

    code, started, _ = cli("start", "camunda7_escalation", "--json")
    [task] = _tasks(cli, started["instance_id"])
    _complete(cli, task, {"acknowledged": False})          # ${!acknowledged} branch
    assert _status(cli, started["instance_id"]) == "completed"


def test_camunda8_model_runs_with_feel_conditions_and_zeebe_service(cli, tmp_path: Path) -> None:
    people = tmp_path / "people.yaml"
    people.write_text("users:\n  - {username: requester, name: Rita Requester, email: rita@example.test}\n")
    assert cli("people", "--load", people)[0] == 0
    assert cli("import", MODELERS / "camunda8_approval.bpmn")[0] == 0
    iid = cli("start", "camunda8_approval", "--json")[1]["instance_id"]
    [task] = _tasks(cli, iid)
    assert (task["bpmn_id"], task["role"]) == ("review", "finance")
    _complete(cli, task, {"approved": True})
    view = cli("show", iid, "--json")[1]
    assert view["status"] == "completed"
    sent = [e for e in view["timeline"] if e["kind"] == "notification_queued"]
    assert sent and sent[0]["detail"]["to"] == "requester" and sent[0]["detail"]["recipients"] == ["requester"]

    iid = cli("start", "camunda8_approval", "--json")[1]["instance_id"]
    _complete(cli, _tasks(cli, iid)[0], {"approved": False})
    view = cli("show", iid, "--json")[1]
    assert view["status"] == "completed"
    assert not [e for e in view["timeline"] if e["kind"] == "notification_queued"]


def test_bpmnio_model_takes_roles_from_lanes_and_descriptive_one_is_model_only(cli) -> None:
    code, report, _ = cli("import", MODELERS / "bpmnio_simple.bpmn", MODELERS / "bpmnio_descriptive.bpmn", "--json")
    assert code == 0
    kinds = {p["key"]: p["executable"] for p in report["imported"]}
    assert kinds == {"bpmnio_simple": True, "bpmnio_descriptive": False}
    iid = cli("start", "bpmnio_simple", "--json")[1]["instance_id"]
    [task] = _tasks(cli, iid)
    assert (task["bpmn_id"], task["role"]) == ("prepare", "clerk")
    _complete(cli, task, {})
    [task] = _tasks(cli, iid)
    assert (task["bpmn_id"], task["role"]) == ("approve", "manager")
    _complete(cli, task, {})
    assert _status(cli, iid) == "completed"
    code, out, err = cli("start", "bpmnio_descriptive")
    assert code != 0 and "model-only" in err and err.count("\n") == 1


@pytest.mark.parametrize("price, route_end, approvals", [(30, "order_approved", 1), (10, "order_accepted", 0)])
def test_spiffarena_model_routes_on_python_conditions(cli, price: int, route_end: str, approvals: int) -> None:
    assert cli("import", MODELERS / "spiffarena_review.bpmn")[0] == 0
    iid = cli("start", "spiffarena_review", "--data", json.dumps({"price": price, "quantity": 5}), "--json")[1][
        "instance_id"]
    [task] = _tasks(cli, iid)
    assert (task["bpmn_id"], task["role"]) == ("review", "reviewer")
    _complete(cli, task, {"confirmed": True})
    for _ in range(approvals):
        [task] = _tasks(cli, iid)
        assert (task["bpmn_id"], task["role"]) == ("approve", "approver")
        _complete(cli, task, {})
    view = cli("show", iid, "--json")[1]
    assert view["status"] == "completed"
    assert any(e["bpmn_id"] == route_end for e in view["timeline"])


def test_sample_order_processes_run_to_completion(cli) -> None:
    code, report, _ = cli("import", ROOT / "bpmn", "--json")
    assert code == 0 and {p["key"] for p in report["imported"]} >= {"order_handling_as_is", "order_handling_to_be"}
    for key, steps in (("order_handling_as_is", 5), ("order_handling_to_be", 3)):
        iid = cli("start", key, "--json")[1]["instance_id"]
        done = 0
        while _status(cli, iid) == "running":
            tasks = _tasks(cli, iid)
            assert tasks, f"{key} stalled"
            for task in tasks:
                data = {f["id"]: answer(f) for f in task["form"]}
                _complete(cli, task, data)
                done += 1
        assert (_status(cli, iid), done) == ("completed", steps)



def test_every_command_reports_bad_input_in_one_line_and_stores_nothing(cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.bpmn"
    bad.write_text("<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><oops")
    cases = [
        ("start", "unknown_key"),
        ("start", "x", "--data", "{not json"),
        ("start", "x", "--data", "[1]"),
        ("complete", "00000000-0000-0000-0000-000000000000"),
        ("show", "no-such-instance"),
        ("retry", "no-such-instance"),
        ("cancel", "no-such-instance"),
        ("import", tmp_path / "missing.bpmn"),
    ]
    for args in cases:
        code, out, err = cli(*args)
        assert code != 0, args
        assert err.startswith("contiflow: ") and err.count("\n") == 1, (args, err)
    code, out, err = cli("import", bad)
    assert code != 0 and "broken.bpmn" in err and "line 1" in err or ":1" in err
    assert cli("definitions", "--json")[1] == []
    assert cli("instances", "--json")[1] == []


def test_completing_a_completed_task_is_a_conflict(cli) -> None:
    cli("import", MODELERS / "bpmnio_simple.bpmn")
    iid = cli("start", "bpmnio_simple", "--json")[1]["instance_id"]
    [task] = _tasks(cli, iid)
    _complete(cli, task, {}, actor="alice")
    code, _, err = cli("complete", task["task_id"])
    assert code != 0 and "already completed by alice" in err


def test_accelerated_instance_escalates_through_the_worker(cli) -> None:
    """A Camunda 7 runbook on a clock a billion times faster: ten virtual minutes pass in well
    under a millisecond, so by the time the worker looks, the supervisor's SLA has expired."""
    cli("import", MODELERS / "camunda7_escalation.bpmn")
    iid = cli("start", "camunda7_escalation", "--speed", "1e9", "--json")[1]["instance_id"]
    code, out, _ = cli("worker", "--once", "--json")
    assert code == 0 and out["instances_run"] == 1
    [task] = _tasks(cli, iid)
    assert (task["bpmn_id"], task["role"]) == ("notify_backup", "it_supervisor_backup")
    view = cli("show", iid, "--json")[1]
    cancelled = [e for e in view["timeline"] if e["kind"] == "task_cancelled"]
    assert cancelled and cancelled[0]["bpmn_id"] == "notify_supervisor"


def test_drill_run_prints_the_report_and_bad_scenarios_fail_cleanly(cli, tmp_path: Path) -> None:
    assert cli("people", "--load", ROOT / "runbooks" / "people.yaml")[0] == 0
    assert cli("import", ROOT / "runbooks" / "system_outage.bpmn")[0] == 0
    scenario = FIXTURES / "drills" / "outage_late_supervisor.yaml"
    code, report, _ = cli("drill", "run", "system_outage", "--scenario", scenario, "--json")
    assert code == 0
    step = next(s for s in report["steps"] if s["bpmn_id"] == "notify_supervisor")
    assert (step["status"], step["ready_offset"], step["done_offset"], step["target"], step["met"]) == \
        ("escalated", "PT0S", "PT10M", "PT10M", False)
    assert report["escalations"][0]["to"] == ["backup_acknowledge"]
    code, out, _ = cli("drill", "report", str(report["drill_id"]), "--markdown")
    assert code == 0 and out.startswith("# Exercise report: system_outage")
    bad = tmp_path / "bad.yaml"
    bad.write_text("responses:\n  typo_task: {after: PT1M}\n")
    code, _, err = cli("drill", "run", "system_outage", "--scenario", bad)
    assert code != 0 and "typo_task" in err and err.count("\n") == 1
    assert len(cli("drill", "reports", "--json")[1]) == 1
    code, sched, _ = cli("drill", "schedule", "system_outage", "--scenario", scenario, "--every", "P3M", "--json")
    assert code == 0 and sched["next_run_at"]
    assert cli("drill", "schedules", "--json")[1][0]["id"] == sched["id"]


def test_people_file_may_carry_password_hashes_instead_of_passwords(cli, database_url, monkeypatch, tmp_path) -> None:
    """`people --hash-password` reads the password on stdin; the hash signs in like the password."""
    import io

    from engine.api import Engine
    from engine.config import Config

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    code, out, _ = cli("people", "--hash-password", "--json")
    assert code == 0 and out["password_hash"].startswith("scrypt$") and "s3cret" not in out["password_hash"]
    directory = tmp_path / "people.yaml"
    directory.write_text(f"users:\n  - {{username: dana, password_hash: '{out['password_hash']}'}}\n")
    assert cli("people", "--load", directory)[0] == 0
    engine = Engine(Config(database_url=database_url))
    try:
        assert engine.authenticate("dana", "s3cret") is not None
        assert engine.authenticate("dana", "wrong") is None
    finally:
        engine.close()
    directory.write_text("users:\n  - {username: dana, password_hash: 'md5$abc'}\n")
    code, _, err = cli("people", "--load", directory)
    assert code != 0 and "users[0].password_hash" in err
