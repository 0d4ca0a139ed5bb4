"""Web fixtures, chained on tests/conftest.py: database_url (SQLite, and PostgreSQL when
configured) -> clock (ManualClock) -> web_engine (notifications captured, not sent) -> app
-> client.  ``login`` signs a test client in through the real form, CSRF token included."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from tests.conftest import ROOT, demo_people
from web.app import create_app

HERE = Path(__file__).resolve().parent
PEOPLE = ROOT / "runbooks" / "people.yaml"
OUTAGE = ROOT / "runbooks" / "system_outage.bpmn"
WEB_FORM = HERE / "fixtures" / "web_form.bpmn"
TOKEN = "robot-token-0123456789abcdef"


class CapturingSender:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def __call__(self, row: Any) -> None:
        self.sent.append((row.addressee, row.subject))


@pytest.fixture
def sender() -> CapturingSender:
    return CapturingSender()


@pytest.fixture
def web_engine(database_url: str, clock: ManualClock, sender: CapturingSender) -> Iterator[Engine]:
    eng = Engine(Config(database_url=database_url, script_time_limit=0.5), clock=clock,
                 senders={"email": sender, "webhook": sender})
    eng.load_people(demo_people())
    eng.import_paths([OUTAGE, WEB_FORM])
    try:
        yield eng
    finally:
        eng.close()


@pytest.fixture
def app(web_engine: Engine) -> Flask:
    return create_app(web_engine, config={"api_tokens": {TOKEN: "robot"}, "poll_seconds": 1.0},
                      start_scheduler=False, testing=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = "demo") -> str:
    """Sign in through the form; returns a CSRF token for later posts."""
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_from(client.get("/").get_data(as_text=True))


@pytest.fixture
def login(app: Flask) -> Callable[[str], tuple[FlaskClient, str]]:
    """login("alice") -> (a signed-in client of its own, its CSRF token)."""
    def _login(username: str) -> tuple[FlaskClient, str]:
        client = app.test_client()
        return client, sign_in(client, username)
    return _login


@pytest.fixture
def outage(web_engine: Engine) -> str:
    """A declared system outage: alice's (it_supervisor) acknowledgement is open."""
    return web_engine.start("system_outage", {"incidentSummary": "payments down"}, business_key="INC-1",
                            actor="grace")


def task_of(engine: Engine, instance_id: str, bpmn_id: str) -> Any:
    return next(t for t in engine.tasks(instance_id=instance_id) if t.bpmn_id == bpmn_id)


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
