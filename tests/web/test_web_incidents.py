"""The incident page: status, timeline with offsets, targets, open tasks and holders,
notifications, diagram states; declare and cancel for managers only."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from engine.api import Engine
from engine.clock import ManualClock
from tests.web.conftest import bearer, task_of


def test_incident_page_shows_the_run(login, outage: str, web_engine: Engine, clock: ManualClock) -> None:
    web_engine.deliver_notifications()
    clock.advance(timedelta(minutes=7))
    task = task_of(web_engine, outage, "notify_supervisor")
    web_engine.claim(task.task_id, "alice")
    web_engine.complete(task.task_id, {"acknowledged": True}, actor="alice")
    web_engine.claim(task_of(web_engine, outage, "emergency_meeting").task_id, "frank")
    dan, _ = login("dan")
    page = " ".join(dan.get(f"/instances/{outage}").get_data(as_text=True).split())
    assert "system outage" in page and "INC-1" in page and "status-running" in page
    assert "Acknowledge outage (IT supervisor) at +7m, target 10m: met" in page
    assert re.search(r'<span class="offset">\+7m</span> <span class="what">Acknowledge outage \(IT supervisor\): '
                     r'completed</span> <span class="actor">by alice</span>', page)
    assert "Start emergency meeting" in page and "held by <strong>frank</strong>" in page
    assert "Notification sent to alice via email — System outage declared" in page
    states = json.loads(re.search(r'<script type="application/json" id="element-states">(.*?)</script>', page).group(1))
    assert states["notify_supervisor"] == "completed" and states["emergency_meeting"] == "active"
    assert 'data-source-url="/definitions/system_outage/1/source"' in page
    assert "Cancel incident" not in page                 # dan is no manager


def test_live_feed_follows_changes(login, outage: str, web_engine: Engine) -> None:
    alice, _ = login("alice")
    first = alice.get(f"/instances/{outage}/live").get_json()
    assert first["status"] == "running" and first["states"]["notify_supervisor"] == "active"
    web_engine.complete(task_of(web_engine, outage, "notify_supervisor").task_id, {"acknowledged": True},
                        actor="alice")
    after = alice.get(f"/instances/{outage}/live").get_json()
    assert after["fingerprint"] != first["fingerprint"]
    assert after["states"]["notify_supervisor"] == "completed"
    assert "Acknowledge outage (IT supervisor): completed" in after["html"]


def test_overdue_and_failed_elements(login, outage: str, clock: ManualClock) -> None:
    alice, _ = login("alice")
    clock.advance(timedelta(minutes=11))                 # due, timer not fired yet
    assert alice.get(f"/instances/{outage}/live").get_json()["states"]["notify_supervisor"] == "overdue"


def test_declare_and_cancel_are_for_managers(login, web_engine: Engine) -> None:
    alice, token = login("alice")
    page = alice.get("/instances").get_data(as_text=True)
    assert "Declare an incident" not in page
    assert alice.post("/instances", data={"csrf_token": token, "key": "system_outage"}).status_code == 403
    grace, grace_token = login("grace")                   # continuity_manager
    assert "Declare an incident" in grace.get("/instances").get_data(as_text=True)
    declared = grace.post("/instances", data={"csrf_token": grace_token, "key": "system_outage",
                                              "summary": "orders down", "business_key": "INC-9"})
    assert declared.status_code == 302
    iid = declared.headers["Location"].rsplit("/", 1)[1]
    view = web_engine.show(iid)
    assert view.business_key == "INC-9" and view.timeline[0].actor == "grace"
    assert alice.post(f"/instances/{iid}/cancel", data={"csrf_token": token}).status_code == 403
    assert "Cancel incident" in grace.get(f"/instances/{iid}").get_data(as_text=True)
    assert grace.post(f"/instances/{iid}/cancel", data={"csrf_token": grace_token}).status_code == 302
    assert web_engine.show(iid).status == "cancelled"
    again = grace.post(f"/instances/{iid}/cancel", data={"csrf_token": grace_token})
    assert again.status_code == 409 and b"cancelled" in again.data
    listing = grace.get("/instances?status=cancelled").get_data(as_text=True)
    assert "INC-9" in listing
    unknown = grace.post("/instances", data={"csrf_token": grace_token, "key": "nope"})
    assert unknown.status_code == 404


def test_unknown_instance_is_404_page(login) -> None:
    alice, _ = login("alice")
    response = alice.get("/instances/nope")
    assert response.status_code == 404 and b"no instance" in response.data


DECLARE_FORM = Path(__file__).parent / "fixtures" / "declare_form.bpmn"


def test_declare_page_shows_and_checks_the_start_form(login, web_engine: Engine) -> None:
    """The runbook's start-event form fields are asked for when declaring, and checked like a
    task form: enum values, types and required fields, every error next to its field."""
    web_engine.import_paths([DECLARE_FORM])
    grace, token = login("grace")                         # continuity_manager
    assert 'action="/instances/declare"' in grace.get("/instances").get_data(as_text=True)
    page = grace.get("/instances/declare?key=declare_form").get_data(as_text=True)
    assert 'name="affectedSystem"' in page and '<option value="payment"' in page
    assert 'name="impactedUsers" type="number"' in page and 'name="description"' in page
    assert '<option value="high" selected>' in page                     # the model's default
    bad = grace.post("/instances", data={"csrf_token": token, "key": "declare_form", "affectedSystem": "",
                                         "severity": "medium", "impactedUsers": "many"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Please correct the fields marked below" in text
    assert text.count('class="field-error"') == 4                       # every mistake at once
    assert "this field is required" in text and "many&#39; is not a valid long" in text
    assert "medium&#39; is not one of low, high" in text and 'value="many"' in text   # input kept
    good = grace.post("/instances", data={"csrf_token": token, "key": "declare_form", "affectedSystem": "orders",
                                          "severity": "low", "impactedUsers": "120",
                                          "description": "checkout fails", "business_key": "INC-DF"})
    assert good.status_code == 302
    view = web_engine.show(good.headers["Location"].rsplit("/", 1)[1])
    started = view.timeline[0].detail["data"]
    assert view.business_key == "INC-DF" and started["affectedSystem"] == "orders"
    assert started["impactedUsers"] == 120 and started["severity"] == "low"
    alice, alice_token = login("alice")
    assert alice.get("/instances/declare?key=declare_form").status_code == 403
    assert grace.get("/instances/declare?key=nope").status_code == 404


def test_declare_api_checks_the_start_form(client, web_engine: Engine) -> None:
    web_engine.import_paths([DECLARE_FORM])
    bad = client.post("/api/v1/instances", headers=bearer(), json={
        "key": "declare_form", "data": {"affectedSystem": "mainframe", "impactedUsers": 1.5}})
    problem = bad.get_json()
    assert bad.status_code == 400 and bad.headers["Content-Type"].startswith("application/problem+json")
    assert set(problem["errors"]) == {"affectedSystem", "impactedUsers", "description"}
    assert "mainframe" in problem["errors"]["affectedSystem"]
    good = client.post("/api/v1/instances", headers=bearer(), json={
        "key": "declare_form", "data": {"affectedSystem": "payment", "impactedUsers": "7", "description": "down"}})
    assert good.status_code == 201
    data = web_engine.show(good.get_json()["instance_id"]).timeline[0].detail["data"]
    assert data["impactedUsers"] == 7 and data["severity"] == "high"   # typed; the default filled in
    outage = client.post("/api/v1/instances", headers=bearer(), json={"key": "system_outage"})
    assert outage.status_code == 201                                     # optional fields only
