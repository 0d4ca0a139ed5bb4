"""The drills pages: a manager runs a simulated drill from a scenario and reads the report
(page, JSON, Markdown); a bad scenario is refused with its message; responders may read but
not run; a schedule shows its next run."""

from __future__ import annotations

from engine.api import Engine
from tests.conftest import FIXTURES

SCENARIO = (FIXTURES / "drills" / "outage_late_supervisor.yaml").read_text()


def test_manager_runs_a_drill_and_reads_the_report(login, web_engine: Engine) -> None:
    client, token = login("grace")
    response = client.post("/drills", data={"scenario": SCENARIO, "csrf_token": token})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Exercise report" in html and "missed" in html
    [summary] = web_engine.drill_reports()
    report = client.get(f"/drills/{summary['drill_id']}.json").get_json()
    assert next(s for s in report["steps"] if s["bpmn_id"] == "notify_supervisor")["status"] == "escalated"
    markdown = client.get(f"/drills/{summary['drill_id']}.md")
    assert markdown.mimetype == "text/markdown" and markdown.get_data(as_text=True).startswith("# Exercise report")
    listing = client.get("/drills?key=system_outage").get_data(as_text=True)
    assert f"#{summary['drill_id']}" in listing and "achieved / target" in listing


def test_bad_scenario_is_refused_with_its_message(login, web_engine: Engine) -> None:
    client, token = login("grace")
    bad = "runbook: system_outage\nresponses:\n  typo_step: {after: PT1M}\n"
    response = client.post("/drills", data={"scenario": bad, "csrf_token": token})
    assert response.status_code == 400 and "typo_step" in response.get_data(as_text=True)
    assert web_engine.drill_reports() == []


def test_responders_read_but_do_not_run_drills(login, web_engine: Engine) -> None:
    client, token = login("alice")
    assert client.get("/drills").status_code == 200
    assert client.post("/drills", data={"scenario": SCENARIO, "csrf_token": token}).status_code == 403


def test_quarterly_schedule_is_listed_with_its_next_run(login, web_engine: Engine) -> None:
    client, token = login("grace")
    response = client.post("/drills", data={"scenario": SCENARIO, "every": "P3M", "csrf_token": token})
    assert response.status_code == 302
    [schedule] = web_engine.drill_schedules()
    assert schedule["next_run_at"] in client.get("/drills").get_data(as_text=True)
