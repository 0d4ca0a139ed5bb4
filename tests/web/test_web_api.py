"""The JSON API: token and session auth, the CLI's field names, problem details, and the
OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from engine.api import Engine
from tests.web.conftest import TOKEN, bearer, task_of

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def test_no_credentials_is_401_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/tasks")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert set(body) >= {"type", "title", "status"} and body["status"] == 401
    assert client.get("/api/v1/tasks", headers=bearer("wrong-token-0123456789")).status_code == 401


def test_token_acts_as_admin(client: FlaskClient, outage: str, web_engine: Engine) -> None:
    me = client.get("/api/v1/me", headers=bearer()).get_json()
    assert me == {"username": "robot", "name": "robot", "admin": True, "manager": True, "roles": [], "via": "token"}
    tasks = client.get("/api/v1/tasks", headers=bearer()).get_json()
    assert [t["bpmn_id"] for t in tasks] == ["notify_supervisor"]
    task = tasks[0]
    assert {"task_id", "instance_id", "bpmn_id", "name", "role", "due_at", "form"} <= set(task)
    assert task["key"] == "system_outage" and task["business_key"] == "INC-1"
    assert task["due_at"] == "2026-01-01T00:10:00Z"
    claimed = client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=bearer()).get_json()
    assert claimed["claimed_by"] == "robot"
    released = client.post(f"/api/v1/tasks/{task['task_id']}/unclaim", headers=bearer()).get_json()
    assert released["claimed_by"] is None
    done = client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=bearer(),
                       json={"data": {"acknowledged": True}})
    assert done.status_code == 200
    body = done.get_json()
    assert body["instance_id"] == outage and body["status"] == "running"
    assert "emergency_meeting" in [t["bpmn_id"] for t in body["tasks"]]
    again = client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=bearer(), json={})
    assert again.status_code == 409
    problem = again.get_json()
    assert set(problem) >= PROBLEM_KEYS and problem["type"] == "urn:contiflow:problem:conflict"
    assert "already completed by robot" in problem["detail"]


def test_session_api_needs_csrf_header_for_writes(login, outage: str, web_engine: Engine) -> None:
    alice, token = login("alice")
    task = task_of(web_engine, outage, "notify_supervisor")
    assert alice.get("/api/v1/tasks").status_code == 200
    refused = alice.post(f"/api/v1/tasks/{task.task_id}/claim")
    assert refused.status_code == 400 and refused.get_json()["type"] == "urn:contiflow:problem:csrf"
    ok = alice.post(f"/api/v1/tasks/{task.task_id}/claim", headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.get_json()["claimed_by"] == "alice"


def test_inbox_api_is_per_role(login, outage: str) -> None:
    dan, _ = login("dan")
    assert dan.get("/api/v1/tasks").get_json() == []
    alice, _ = login("alice")
    assert [t["bpmn_id"] for t in alice.get(f"/api/v1/tasks?instance={outage}").get_json()] == ["notify_supervisor"]
    assert alice.get("/api/v1/tasks?role=it_team").get_json() == []
    assert alice.get("/api/v1/tasks?key=web_form").get_json() == []


def test_validation_errors_name_the_fields(client: FlaskClient, web_engine: Engine) -> None:
    iid = web_engine.start("web_form")
    task = task_of(web_engine, iid, "fill_form")
    response = client.post(f"/api/v1/tasks/{task.task_id}/complete", headers=bearer(), json={"data": {"affected": 3}})
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "urn:contiflow:problem:invalid-input"
    assert body["errors"] == {"summary": "this field is required", "severity": "this field is required"}
    mixed = client.post(f"/api/v1/tasks/{task.task_id}/complete", headers=bearer(),
                        json={"data": {"affected": "many", "severity": "extreme", "summary": "s"}})
    assert set(mixed.get_json()["errors"]) == {"affected", "severity"}          # every mistake at once
    malformed = client.post(f"/api/v1/tasks/{task.task_id}/complete", headers={**bearer(), "Content-Type":
                                                                               "application/json"}, data="{nope")
    assert malformed.status_code == 400 and "JSON object" in malformed.get_json()["detail"]


def test_not_found_is_404_problem(client: FlaskClient) -> None:
    for path in ("/api/v1/tasks/nope", "/api/v1/instances/nope", "/api/v1/definitions/nope/source",
                 "/api/v1/no-such-route"):
        response = client.get(path, headers=bearer())
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 404
    wrong_method = client.delete("/api/v1/tasks", headers=bearer())
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "application/problem+json"


def test_instances_start_show_cancel(client: FlaskClient, login) -> None:
    started = client.post("/api/v1/instances", headers=bearer(),
                          json={"key": "system_outage", "business_key": "API-1", "data": {"incidentSummary": "x"}})
    assert started.status_code == 201
    iid = started.get_json()["instance_id"]
    assert started.headers["Location"] == f"/api/v1/instances/{iid}"
    shown = client.get(f"/api/v1/instances/{iid}", headers=bearer()).get_json()
    assert {"instance_id", "status", "timeline", "tasks", "incidents", "targets"} <= set(shown)
    assert shown["status"] == "running" and shown["business_key"] == "API-1"
    listed = client.get("/api/v1/instances?status=running", headers=bearer()).get_json()
    assert iid in [i["instance_id"] for i in listed]
    assert client.get("/api/v1/instances?status=bogus", headers=bearer()).status_code == 400
    states = client.get(f"/api/v1/instances/{iid}/states", headers=bearer()).get_json()
    assert states["notify_supervisor"] == "active" and states["outage_detected"] == "completed"
    alice, token = login("alice")
    forbidden = alice.post(f"/api/v1/instances/{iid}/cancel", headers={"X-CSRFToken": token})
    assert forbidden.status_code == 403
    cancelled = client.post(f"/api/v1/instances/{iid}/cancel", headers=bearer())
    assert cancelled.get_json() == {"instance_id": iid, "status": "cancelled"}
    twice = client.post(f"/api/v1/instances/{iid}/cancel", headers=bearer())
    assert twice.status_code == 409 and twice.get_json()["type"] == "urn:contiflow:problem:invalid-transition"
    retry = client.post(f"/api/v1/instances/{iid}/retry", headers=bearer(), json={})
    assert retry.status_code == 409


def test_start_errors(client: FlaskClient, login) -> None:
    assert client.post("/api/v1/instances", headers=bearer(), json={}).status_code == 400
    assert client.post("/api/v1/instances", headers=bearer(), json={"key": "nope"}).status_code == 404
    not_an_object = client.post("/api/v1/instances", headers=bearer(), json={"key": "system_outage", "data": [1]})
    assert not_an_object.status_code == 400
    grace, token = login("grace")           # continuity manager
    ok = grace.post("/api/v1/instances", json={"key": "system_outage"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_alertmanager_webhook(client: FlaskClient, web_engine: Engine) -> None:
    payload = {"status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "PaymentsDown", "incident_type": "system_outage"},
         "fingerprint": "abc123"},
        {"status": "firing", "labels": {"alertname": "Unknown"}, "fingerprint": "zzz"}]}
    first = client.post("/api/v1/alerts", headers=bearer(), json=payload).get_json()
    assert [o["action"] for o in first] == ["started", "no_runbook"]
    second = client.post("/api/v1/alerts", headers=bearer(), json=payload).get_json()
    assert second[0]["action"] == "already_open" and second[0]["instance_id"] == first[0]["instance_id"]
    bad = client.post("/api/v1/alerts", headers=bearer(), json={"nope": 1})
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_people_and_roles(client: FlaskClient, login) -> None:
    people = client.get("/api/v1/people", headers=bearer()).get_json()
    assert "alice" in [u["username"] for u in people["users"]]
    alice, _ = login("alice")
    assert alice.get("/api/v1/people").status_code == 403
    roles = alice.get("/api/v1/roles").get_json()
    supervisor = next(r for r in roles if r["name"] == "it_supervisor")
    assert supervisor["primary"] == ["alice"] and supervisor["backup"] == ["bob"] and "webhook" not in supervisor
    assert alice.get("/api/v1/me").get_json()["roles"] == ["it_supervisor"]


def test_definitions_api(client: FlaskClient) -> None:
    listed = client.get("/api/v1/definitions", headers=bearer()).get_json()
    assert {d["key"] for d in listed} == {"system_outage", "web_form"}
    assert {"key", "version", "name", "executable", "sha256", "created_at", "warnings"} <= set(listed[0])
    source = client.get("/api/v1/definitions/web_form/source?version=1", headers=bearer())
    assert source.status_code == 200 and source.data.startswith(b"<?xml")
    assert "sandbox" in source.headers["Content-Security-Policy"]


def test_openapi_document_is_valid_and_lists_every_route(client: FlaskClient, app) -> None:
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")              # public: no token needed
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    def openapi_path(rule: Any) -> str:        # <int(max=…):row_id> -> {row_id}
        return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", str(rule).removeprefix("/api/v1"))

    routes = {openapi_path(rule) for rule in app.url_map.iter_rules()
              if str(rule).startswith("/api/v1/")} - {"/openapi.json"}
    assert routes == set(document["paths"])
    for path, item in document["paths"].items():
        rule_methods = {m.lower() for rule in app.url_map.iter_rules()
                        if str(rule).startswith("/api/v1/") and openapi_path(rule) == path
                        for m in rule.methods - {"HEAD", "OPTIONS"}}
        assert rule_methods == set(item), path
    assert TOKEN not in response.get_data(as_text=True)


def test_malformed_query_parameters_are_400_not_500(client: FlaskClient, login) -> None:
    for path in ("/api/v1/definitions/web_form/source?version=328138022332983077240832",
                 "/api/v1/definitions/web_form/source?version=null", "/api/v1/definitions?all_versions=maybe",
                 "/api/v1/tasks?limit=0", "/api/v1/tasks?limit=null", "/api/v1/instances?status="):
        response = client.get(path, headers=bearer())
        assert response.status_code == 400, path
        assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/definitions?all_versions=true", headers=bearer()).status_code == 200
    assert len(client.get("/api/v1/tasks?limit=1", headers=bearer()).get_json()) <= 1
    alice, _ = login("alice")
    assert alice.get("/definitions/web_form/328138022332983077240832").status_code == 404
    bad_status = client.post("/api/v1/alerts", headers=bearer(), json={"alerts": [], "status": {}})
    assert bad_status.status_code == 400


def test_task_history_after_completion(client: FlaskClient, login, outage: str, web_engine: Engine) -> None:
    """GET /tasks/<id> keeps answering once the task is done, like a Camunda history query:
    200 with status, completed_by and completed_at; 404 only for ids never seen; 403 by role."""
    task = task_of(web_engine, outage, "notify_supervisor")
    open_task = client.get(f"/api/v1/tasks/{task.task_id}", headers=bearer()).get_json()
    assert open_task["status"] == "open" and open_task["claimed_by_me"] is False
    web_engine.complete(task.task_id, {"acknowledged": True}, actor="alice")
    done = client.get(f"/api/v1/tasks/{task.task_id}", headers=bearer())
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "completed" and body["completed_by"] == "alice"
    assert body["completed_at"] == "2026-01-01T00:00:00Z" and body["bpmn_id"] == "notify_supervisor"
    assert body["role"] == "it_supervisor" and body["key"] == "system_outage" and body["business_key"] == "INC-1"
    assert body["due_at"] == "2026-01-01T00:10:00Z" and body["instance_id"] == outage
    alice, _ = login("alice")
    assert alice.get(f"/api/v1/tasks/{task.task_id}").get_json()["completed_by"] == "alice"
    dan, _ = login("dan")
    assert dan.get(f"/api/v1/tasks/{task.task_id}").status_code == 403
    missing = client.get("/api/v1/tasks/never-was", headers=bearer())
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/problem+json")
    again = client.post(f"/api/v1/tasks/{task.task_id}/complete", json={"data": {}}, headers=bearer())
    assert again.status_code == 409 and "already completed by alice" in again.get_json()["detail"]


def test_json_list_encoding_keeps_order_and_survives_what_orjson_refuses(app) -> None:
    from web.api import json_response

    with app.app_context():
        assert json_response([{"b": 1, "a": "x"}]).get_data() == b'[{"b":1,"a":"x"}]\n'     # not sorted
        assert json_response([{"n": 10**30}]).get_json() == [{"n": 10**30}]                 # beyond 64 bits
