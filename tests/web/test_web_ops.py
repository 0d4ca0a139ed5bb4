"""Operations endpoints: /healthz, /readyz (503 naming what is wrong), /metrics (Prometheus text,
from the database at scrape time, protected unless made public)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from tests.web.conftest import TOKEN, bearer
from web.app import create_app


def _app(engine: Engine, **config: object) -> Flask:
    return create_app(engine, config={"api_tokens": {TOKEN: "robot"}, **config}, start_scheduler=False,
                      testing=True)


def _scrape(client: FlaskClient) -> dict[str, float]:
    """Every sample as 'name{label="value",…}' -> value."""
    response = client.get("/metrics", headers=bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_healthz_needs_no_login_and_no_database(client: FlaskClient, web_engine: Engine) -> None:
    web_engine.db.dispose()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "schema": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_503_when_the_database_is_unreachable(tmp_path: Path, clock: ManualClock) -> None:
    unwritable = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'contiflow.db'}"
    engine = Engine(Config(database_url=unwritable), clock=clock, create=False)
    try:
        response = _app(engine).test_client().get("/readyz")
    finally:
        engine.close()
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 503 and body["type"].endswith("not-ready")
    assert list(body["checks"]) == ["database"] and "does not answer" in body["detail"]
    assert response.headers["Retry-After"]


def test_readyz_503_names_a_missing_schema(tmp_path: Path, clock: ManualClock) -> None:
    engine = Engine(Config(database_url=f"sqlite:///{tmp_path / 'empty.db'}"), clock=clock, create=False)
    try:
        response = _app(engine).test_client().get("/readyz")
    finally:
        engine.close()
    assert response.status_code == 503
    body = response.get_json()
    assert list(body["checks"]) == ["schema"]
    assert "instances" in body["detail"] and "timers" in body["detail"]


def test_readyz_503_when_postgresql_is_down(clock: ManualClock) -> None:
    engine = Engine(Config(database_url="postgresql://root@127.0.0.1:1/nothing?connect_timeout=2"),
                    clock=clock, create=False)
    try:
        response = _app(engine).test_client().get("/readyz")
    finally:
        engine.close()
    assert response.status_code == 503 and list(response.get_json()["checks"]) == ["database"]


def test_metrics_need_a_token_unless_public(client: FlaskClient, web_engine: Engine, login) -> None:
    response = client.get("/metrics")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers=bearer("wrong-token-0123456789")).status_code == 401
    responder, _ = login("alice")                      # signed in, but not an administrator
    assert responder.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer()).status_code == 200
    public = _app(web_engine, metrics_public=True).test_client()
    assert public.get("/metrics").status_code == 200


def test_metrics_move_with_instances_tasks_and_timers(client: FlaskClient, web_engine: Engine,
                                                      clock: ManualClock) -> None:
    before = _scrape(client)
    assert before["contiflow_database_up"] == 1
    assert before['contiflow_instances{status="running"}'] == 0
    assert before["contiflow_human_tasks_open"] == 0 and before["contiflow_timers_pending"] == 0

    iid = web_engine.start("system_outage", {"incidentSummary": "payments down"}, actor="grace")
    started = _scrape(client)
    assert started['contiflow_instances{status="running"}'] == 1
    assert started["contiflow_human_tasks_open"] == 1            # the supervisor's acknowledgement
    assert started["contiflow_human_tasks_overdue"] == 0
    assert started["contiflow_timers_pending"] == 3              # its 10-minute SLA, the 2 h and 4 h RTOs
    assert started["contiflow_timers_overdue"] == 0 and started["contiflow_timers_overdue_seconds"] == 0
    assert sum(v for k, v in started.items() if k.startswith("contiflow_notifications{")) >= 1

    clock.advance(timedelta(minutes=11))                         # no worker: the SLA timer is overdue
    late = _scrape(client)
    assert late["contiflow_timers_overdue"] == 1
    assert late["contiflow_timers_overdue_seconds"] == 60
    assert late["contiflow_human_tasks_overdue"] == 1
    assert late["contiflow_timer_lateness_seconds_count"] == 0

    assert web_engine.fire_due_timers() == 1                     # a worker catches up, 60 s late
    fired = _scrape(client)
    assert fired["contiflow_timers_overdue"] == 0
    assert fired["contiflow_timer_lateness_seconds_count"] == 1
    assert fired["contiflow_timer_lateness_seconds_sum"] == 60
    assert fired['contiflow_timer_lateness_seconds_bucket{le="30.0"}'] == 0
    assert fired['contiflow_timer_lateness_seconds_bucket{le="60.0"}'] == 1
    assert [t.bpmn_id for t in web_engine.tasks(instance_id=iid)] == ["backup_acknowledge"]

    web_engine.cancel(iid, actor="grace")
    done = _scrape(client)
    assert done['contiflow_instances{status="cancelled"}'] == 1
    assert done['contiflow_instances{status="running"}'] == 0
    assert done["contiflow_human_tasks_open"] == 0 and done["contiflow_timers_pending"] == 0
    clock.advance(timedelta(hours=1))                            # settled: counted once, not again
    assert _scrape(client)["contiflow_timer_lateness_seconds_count"] == 1


def test_metrics_report_the_database_down_instead_of_failing(tmp_path: Path, clock: ManualClock) -> None:
    engine = Engine(Config(database_url=f"sqlite:///{tmp_path / 'no' / 'folder' / 'x.db'}"), clock=clock,
                    create=False)
    try:
        samples = _scrape(_app(engine).test_client())
    finally:
        engine.close()
    assert samples == {"contiflow_database_up": 0}


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("1", True), ("0", False), ("off", False)])
def test_web_scheduler_setting(monkeypatch: pytest.MonkeyPatch, web_engine: Engine, value: str | None,
                               expected: bool) -> None:
    from web.settings import load_settings

    env = {} if value is None else {"CONTIFLOW_WEB_SCHEDULER": value}
    settings = load_settings(env)
    app = create_app(web_engine, config=settings, testing=True)
    try:
        assert ("contiflow.timers" in app.extensions) is expected
    finally:
        service = app.extensions.get("contiflow.timers")
        if service is not None:
            service.stop()


def test_web_scheduler_setting_refuses_nonsense() -> None:
    from web.settings import load_settings

    with pytest.raises(ValueError, match="CONTIFLOW_WEB_SCHEDULER"):
        load_settings({"CONTIFLOW_WEB_SCHEDULER": "maybe"})


def test_readyz_503_when_the_schema_is_behind(database_url: str, clock: ManualClock) -> None:
    engine = Engine(Config(database_url=database_url), clock=clock)
    try:
        with engine.db.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0001_baseline'"))
        response = _app(engine).test_client().get("/readyz")
    finally:
        engine.close()
    assert response.status_code == 503
    body = response.get_json()
    assert list(body["checks"]) == ["schema"] and "0001_baseline" in body["detail"]
    assert "contiflow db upgrade" in body["detail"]


@pytest.mark.parametrize("scheduler", [None, "1"])
def test_wsgi_app_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       scheduler: str | None) -> None:
    """`gunicorn web.wsgi:app`: built from CONTIFLOW_*, no scheduler unless asked for."""
    import importlib
    import sys

    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'wsgi.db'}")
    monkeypatch.setenv("CONTIFLOW_SECRET_KEY", "k" * 32)
    if scheduler is None:
        monkeypatch.delenv("CONTIFLOW_WEB_SCHEDULER", raising=False)
    else:
        monkeypatch.setenv("CONTIFLOW_WEB_SCHEDULER", scheduler)
    monkeypatch.delitem(sys.modules, "web.wsgi", raising=False)
    wsgi = importlib.import_module("web.wsgi")
    try:
        assert ("contiflow.timers" in wsgi.app.extensions) is (scheduler == "1")
        client = wsgi.app.test_client()
        assert client.get("/readyz").status_code == 200 and client.get("/healthz").status_code == 200
    finally:
        service = wsgi.app.extensions.get("contiflow.timers")
        if service is not None:
            service.stop()
        wsgi.engine.close()
        sys.modules.pop("web.wsgi", None)


def test_metrics_count_sends_failures_and_drills(client: FlaskClient, web_engine: Engine, sender) -> None:
    from engine.drills.scenario import parse_scenario
    from tests.conftest import FIXTURES

    web_engine.start("system_outage", {"incidentSummary": "payments down"}, actor="grace")
    queued = _scrape(client)['contiflow_notifications{status="pending"}']
    assert queued >= 1
    web_engine.outbox.senders["email"] = _refuse                # the mail server is down
    web_engine.outbox.senders["webhook"] = _refuse
    web_engine.deliver_notifications()
    failing = _scrape(client)
    assert failing["contiflow_notification_attempts_failed_total"] == queued
    assert failing['contiflow_notifications{status="pending"}'] == queued        # retried later
    assert failing['contiflow_notifications{status="sent"}'] == 0

    web_engine.run_drill(parse_scenario((FIXTURES / "drills" / "outage_late_supervisor.yaml").read_text()))
    drilled = _scrape(client)
    assert drilled['contiflow_drills_run_total{kind="simulated"}'] == 1
    assert drilled['contiflow_drills_run_total{kind="live"}'] == 0


def _refuse(_row: object) -> None:
    raise ConnectionRefusedError("mail server down")
