"""API fuzzing: Schemathesis generates requests (valid and invalid) from the app's own OpenAPI
document (/api/v1/openapi.json, checked to be the one served) and sends them to the Flask app
in-process (WSGI), authenticated with the robot's bearer token, against a store holding two
runbooks and a running incident.

No request may end in a server error (5xx), and every response must match the document
(status code, content type, body schema).  Bounded and deterministic for CI: ``derandomize``,
no example database, a fixed number of examples per operation; one backend — PostgreSQL when
CONTIFLOW_TEST_DATABASE_URL is set, else SQLite — not both (that would double the time).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from tests.conftest import demo_people, suite_database
from tests.web.conftest import OUTAGE, TOKEN, WEB_FORM, CapturingSender, bearer, sign_in
from web.api.openapi import document
from web.app import create_app

#: CONTIFLOW_FUZZ_SCALE=10 multiplies the bound for a longer hunt outside CI
EXAMPLES = max(1, int(25 * float(os.environ.get("CONTIFLOW_FUZZ_SCALE", "1"))))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The web fixtures' app (people, both runbooks, a declared outage, the robot token), built
    once for the module: a fresh store per operation would triple the time.  On PostgreSQL when
    the suite has one (it refuses what SQLite lets pass: over-long values, NUL), else SQLite."""
    with suite_database(tmp_path_factory.mktemp("fuzz_api"), "fuzz") as url:
        sender = CapturingSender()
        eng = Engine(Config(database_url=url, script_time_limit=0.5), clock=ManualClock(),
                     senders={"email": sender, "webhook": sender})
        eng.load_people(demo_people())
        eng.import_paths([OUTAGE, WEB_FORM])
        eng.start("system_outage", {"incidentSummary": "payments down"}, business_key="INC-1", actor="grace")
        try:
            yield create_app(eng, config={"api_tokens": {TOKEN: "robot"}, "poll_seconds": 1.0},
                             start_scheduler=False, testing=True)
        finally:
            eng.close()


schema = schemathesis.openapi.from_dict(document())


def test_the_fuzzed_document_is_the_served_one(fuzz_app: Flask) -> None:
    assert fuzz_app.test_client().get("/api/v1/openapi.json").get_json() == document()


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
          suppress_health_check=list(HealthCheck))
def test_no_request_ends_in_a_server_error_or_breaks_the_document(case: Any, fuzz_app: Flask) -> None:
    case.call_and_validate(app=fuzz_app, headers=bearer(), checks=CHECKS)


@pytest.fixture(scope="module")
def alice(fuzz_app: Flask) -> tuple[str, str]:
    """A responder's browser session (no admin, no manager): its cookie and CSRF token."""
    client = fuzz_app.test_client()
    token = sign_in(client, "alice")
    cookie = client.get_cookie("contiflow_session")
    assert cookie is not None
    return cookie.value, token


@schema.parametrize()
@settings(max_examples=max(1, EXAMPLES // 3), derandomize=True, database=None, deadline=None,
          print_blob=False, suppress_health_check=list(HealthCheck))
def test_a_responders_session_gets_no_server_error_either(case: Any, fuzz_app: Flask, alice: tuple[str, str]) -> None:
    """The same, as a signed-in responder (session cookie and X-CSRFToken): the 403 paths."""
    cookie, csrf = alice
    response = case.call(app=fuzz_app, headers={"X-CSRFToken": csrf}, cookies={"contiflow_session": cookie})
    if case.operation.path == "/me" and case.method == "GET" and response.status_code == 200:
        assert response.json()["username"] == "alice"          # the session really was used
    case.validate_response(response, checks=CHECKS)
