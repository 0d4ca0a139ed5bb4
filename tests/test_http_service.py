"""The ``http`` service task: a real local HTTP server receives the call after the step commits,
once, with an Idempotency-Key; hosts outside the allow-list, redirects and failures never get
past it; simulated drills record the call without making it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from engine.drills.scenario import parse_scenario
from engine.notify.outbox import MAX_ATTEMPTS
from tests.receivers import HttpReceiver

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"')


def _model(url: str, method: str = "PUT") -> bytes:
    params = (f'<camunda:inputParameter name="url">{url}</camunda:inputParameter>'
              f'<camunda:inputParameter name="method">{method}</camunda:inputParameter>'
              '<camunda:inputParameter name="body">{"status": "degraded", "component": "payments"}'
              '</camunda:inputParameter>')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="d" '
            'targetNamespace="http://example.com" exporter="Camunda Modeler">'
            '<bpmn:process id="status_page" isExecutable="true"><bpmn:startEvent id="start"/>'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="post"/>'
            '<bpmn:serviceTask id="post" name="Update the status page" camunda:type="external" '
            f'camunda:topic="http"><bpmn:extensionElements><camunda:inputOutput>{params}'
            '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>'
            '<bpmn:sequenceFlow id="f1" sourceRef="post" targetRef="end"/><bpmn:endEvent id="end"/>'
            '</bpmn:process></bpmn:definitions>').encode()


@pytest.fixture
def server() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


def _engine(database_url: str, clock: ManualClock, *allowed: str) -> Engine:
    return Engine(Config(database_url=database_url, http_allowed_hosts=allowed), clock=clock)


def test_the_call_reaches_the_server_once_after_commit(database_url: str, clock: ManualClock,
                                                       server: HttpReceiver) -> None:
    engine = _engine(database_url, clock, "example.org", f"127.0.0.1:{server.port}")
    try:
        engine.import_files([("status.bpmn", _model(f"http://127.0.0.1:{server.port}/api/status"))])
        iid = engine.start("status_page")
        assert engine.show(iid).status == "completed" and server.requests == []     # queued, not sent yet
        assert engine.deliver_notifications() == 1 and engine.deliver_notifications() == 0
        [(method, path, headers, body)] = server.requests
        assert (method, path) == ("PUT", "/api/status")
        assert json.loads(body) == {"status": "degraded", "component": "payments"}
        assert headers["Content-Type"] == "application/json" and headers["Idempotency-Key"].startswith(iid)
        kinds = [e.kind for e in engine.show(iid).timeline]
        assert kinds.count("http_call_queued") == 1 and kinds.count("notification_sent") == 1
    finally:
        engine.close()


def test_a_url_too_long_for_the_outbox_is_an_incident(database_url: str, clock: ManualClock) -> None:
    engine = _engine(database_url, clock, "127.0.0.1")
    try:
        engine.import_files([("status.bpmn", _model("http://127.0.0.1/" + "a" * 500))])
        view = engine.show(engine.start("status_page"))
        assert view.status == "incident" and "the limit is 400" in view.incidents[-1].message
    finally:
        engine.close()


@pytest.mark.parametrize("allowed", [(), ("127.0.0.1:1",), ("example.org",)])
def test_a_host_outside_the_allow_list_is_an_incident_and_nothing_is_sent(
        database_url: str, clock: ManualClock, server: HttpReceiver, allowed: tuple[str, ...]) -> None:
    engine = _engine(database_url, clock, *allowed)
    try:
        engine.import_files([("status.bpmn", _model(f"http://127.0.0.1:{server.port}/internal"))])
        view = engine.show(engine.start("status_page"))
        assert view.status == "incident"
        assert f"host '127.0.0.1:{server.port}' is not in CONTIFLOW_HTTP_ALLOWED_HOSTS" in view.incidents[-1].message
        assert engine.deliver_notifications() == 0 and server.requests == []
    finally:
        engine.close()


def test_a_redirect_or_an_error_answer_is_retried_then_an_incident(database_url: str, clock: ManualClock) -> None:
    """A redirect is not followed (it could lead past the allow-list): it fails like a 500."""
    target = HttpReceiver().start()
    redirecting = HttpReceiver(status=302, location=f"http://127.0.0.1:{target.port}/elsewhere").start()
    engine = _engine(database_url, clock, "127.0.0.1")
    try:
        engine.import_files([("status.bpmn", _model(f"http://127.0.0.1:{redirecting.port}/api", "POST"))])
        iid = engine.start("status_page")
        for _ in range(MAX_ATTEMPTS):
            engine.deliver_notifications()
            due = engine.outbox.next_attempt_at()
            if due is not None and due > clock.now():
                clock.advance(due - clock.now())
        assert len(redirecting.requests) == MAX_ATTEMPTS and target.requests == []
        assert any("failed after" in i.message for i in engine.show(iid).incidents)
    finally:
        engine.close()
        target.stop()
        redirecting.stop()


def test_a_simulated_drill_records_the_call_without_making_it(database_url: str, clock: ManualClock,
                                                              server: HttpReceiver) -> None:
    engine = _engine(database_url, clock, f"127.0.0.1:{server.port}")
    try:
        engine.import_files([("status.bpmn", _model(f"http://127.0.0.1:{server.port}/api/status"))])
        report = engine.run_drill(parse_scenario("runbook: status_page\nresponses: {}\n"))
        assert report["instance_status"] == "completed" and server.requests == []
        recorded = [e["detail"] for e in report["timeline"] if e["kind"] == "service_recorded"]
        assert [(r["service"], r["params"]["method"]) for r in recorded] == [("http", "PUT")]
    finally:
        engine.close()
