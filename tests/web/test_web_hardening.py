"""Hardening: upload size limits (per file and per request), login rate limiting on the
engine's clock, secure headers on pages and API, and the session cookie's flags."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine import login_throttle
from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from engine.store.models import LoginFailureRow
from tests.conftest import demo_people
from tests.web.conftest import TOKEN, bearer, csrf_from, sign_in
from web.app import create_app

LIMIT = 4096
MODEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:t">
  <bpmn:process id="tiny" isExecutable="true">
    <bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f" sourceRef="start" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def small_engine(database_url: str, clock: ManualClock) -> Iterator[Engine]:
    """An engine whose model files may be at most 4 KiB (CONTIFLOW_MAX_MODEL_BYTES)."""
    eng = Engine(Config(database_url=database_url, max_model_bytes=LIMIT), clock=clock, senders={})
    eng.load_people(demo_people())
    try:
        yield eng
    finally:
        eng.close()


@pytest.fixture
def small_app(small_engine: Engine) -> Flask:
    return create_app(small_engine, config={"api_tokens": {TOKEN: "robot"}}, start_scheduler=False,
                      testing=True)


def _oversize() -> bytes:
    return b"<definitions>" + b" " * LIMIT + b"</definitions>"


# -- upload size limits ----------------------------------------------------------------------

def test_api_upload_of_an_oversize_file_is_413_naming_the_file_and_the_limit(small_app: Flask,
                                                                            small_engine: Engine) -> None:
    client = small_app.test_client()
    response = client.post("/api/v1/definitions", headers=bearer(), content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(b"<a/>"), "small.bpmn"),
                                           (io.BytesIO(_oversize()), "big runbook.bpmn")]})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 413 and body["type"].endswith(":too-large")
    assert body["file"] == "big runbook.bpmn" and body["limit"] == LIMIT
    assert "big runbook.bpmn" in body["detail"] and str(LIMIT) in body["detail"]
    assert "CONTIFLOW_MAX_MODEL_BYTES" in body["detail"]
    assert small_engine.definitions(all_versions=True) == []


def test_page_upload_of_an_oversize_file_shows_the_form_with_the_name_and_the_limit(
        small_app: Flask, small_engine: Engine) -> None:
    admin = small_app.test_client()
    token = sign_in(admin, "admin")
    response = admin.post("/definitions", content_type="multipart/form-data",
                          data={"csrf_token": token, "files": [(io.BytesIO(_oversize()), "huge.bpmn")]})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "huge.bpmn" in page and f"{LIMIT} bytes" in page and 'role="alert"' in page
    assert 'name="files"' in page                    # the upload form is still there, open
    assert small_engine.definitions(all_versions=True) == []


def test_a_file_at_the_limit_is_still_imported(small_app: Flask, small_engine: Engine) -> None:
    response = small_app.test_client().post(
        "/api/v1/definitions", headers=bearer(), content_type="multipart/form-data",
        data={"files": [(io.BytesIO(MODEL + b" " * (LIMIT - len(MODEL))), "tiny.bpmn")]})
    assert response.status_code == 201, response.get_json()
    assert [d.key for d in small_engine.definitions()] == ["tiny"]


def _raw_upload(token: str | None, size: int) -> tuple[bytes, str]:
    """A prebuilt multipart body (the test client would otherwise spool it to a temp file)."""
    parts = b""
    if token:
        parts += b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode() + b"\r\n"
    parts += (b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"huge.bpmn\"\r\n\r\n"
              + b"x" * size + b"\r\n--b--\r\n")
    return parts, "multipart/form-data; boundary=b"


def test_a_request_over_max_content_length_is_413_problem_details_for_the_api(
        small_app: Flask, small_engine: Engine) -> None:
    limit = small_app.config["MAX_CONTENT_LENGTH"]
    data, content_type = _raw_upload(None, limit + 1)
    response = small_app.test_client().post("/api/v1/definitions", headers=bearer(), data=data,
                                            content_type=content_type)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["limit"] == limit and str(limit) in body["detail"] and str(len(data)) in body["detail"]
    assert small_engine.definitions(all_versions=True) == []


def test_a_request_over_max_content_length_is_a_readable_page_for_the_form(small_app: Flask) -> None:
    admin = small_app.test_client()
    token = sign_in(admin, "admin")
    limit = small_app.config["MAX_CONTENT_LENGTH"]
    data, content_type = _raw_upload(token, limit + 1)
    response = admin.post("/definitions", data=data, content_type=content_type)
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "Upload too large" in response.get_data(as_text=True)
    assert f"{limit} bytes" in response.get_data(as_text=True)


# -- login rate limiting ---------------------------------------------------------------------

def _try(client: FlaskClient, username: str, password: str) -> int:
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))}).status_code


def test_after_five_wrong_passwords_even_the_right_one_is_refused_until_the_lockout_passes(
        app: Flask, clock: ManualClock) -> None:
    client = app.test_client()
    assert [_try(client, "alice", f"wrong{i}") for i in range(5)] == [401] * 5
    assert _try(client, "alice", "demo") == 429                       # the 6th: refused
    clock.advance(timedelta(minutes=4, seconds=59))
    assert _try(client, "alice", "demo") == 429                       # still within the window
    clock.advance(timedelta(seconds=2))
    assert _try(client, "alice", "demo") == 302                       # the lockout has passed
    assert app.test_client().get("/api/v1/me").status_code == 401     # a new client: not signed in
    assert client.get("/api/v1/me").get_json()["username"] == "alice"


def test_lockout_is_per_name_and_a_success_resets_the_count(app: Flask) -> None:
    client = app.test_client()
    assert [_try(client, "bob", "wrong") for _ in range(4)] == [401] * 4
    assert _try(client, "bob", "demo") == 302
    other = app.test_client()
    assert [_try(other, "bob", "wrong") for _ in range(4)] == [401] * 4   # the count started again


def test_the_lockout_page_says_why(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        _try(client, "carol", "wrong")
    page = client.get("/login")
    response = client.post("/login", data={"username": "carol", "password": "demo",
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 429 and "Too many failed sign-ins" in response.get_data(as_text=True)


# -- the limit holds across web processes (the failures are in the database) -----------------

@pytest.fixture
def second_app(database_url: str, clock: ManualClock, web_engine: Engine) -> Iterator[Flask]:
    """Another web process on the same database: its own Engine and its own app."""
    eng = Engine(Config(database_url=database_url), clock=clock, senders={})
    try:
        yield create_app(eng, start_scheduler=False, testing=True)
    finally:
        eng.close()


def _failures(eng: Engine) -> list[tuple[str, object]]:
    with eng.sessions() as session:
        return [(r.key, r.failed_at) for r in session.scalars(select(LoginFailureRow))]


def test_failures_on_one_process_count_on_the_other(app: Flask, second_app: Flask, clock: ManualClock) -> None:
    one, two = app.test_client(), second_app.test_client()
    assert [_try(one, "alice", "wrong") for _ in range(3)] == [401] * 3
    assert [_try(two, "alice", "wrong") for _ in range(2)] == [401] * 2
    assert _try(one, "alice", "demo") == 429                          # 5 failures in all, not 3 or 2
    assert _try(two, "alice", "demo") == 429
    clock.advance(timedelta(minutes=4, seconds=59))
    assert _try(two, "alice", "demo") == 429                          # still within the window
    clock.advance(timedelta(seconds=2))
    assert _try(two, "alice", "demo") == 302                          # the lockout has passed
    assert two.get("/api/v1/me").get_json()["username"] == "alice"


def test_an_address_is_limited_across_processes_whatever_the_names(app: Flask, second_app: Flask) -> None:
    one, two = app.test_client(), second_app.test_client()
    for n in range(5):
        assert _try(one if n % 2 else two, f"guess{n}", "wrong") == 401
    assert _try(one, "alice", "demo") == 429 and _try(two, "bob", "demo") == 429
    other = second_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert _try(other, "carol", "demo") == 302                        # another address may sign in


def test_a_success_on_one_process_clears_the_name_on_the_other(app: Flask, second_app: Flask) -> None:
    one, two = app.test_client(), second_app.test_client()
    assert [_try(one, "BOB", "wrong") for _ in range(4)] == [401] * 4   # names count case-insensitively
    assert _try(two, "bob", "demo") == 302
    assert [_try(one, "bob", "wrong") for _ in range(4)] == [401] * 4  # the count started again
    assert _try(second_app.test_client(), "bob", "demo") == 302


def test_expired_failures_are_pruned_and_what_was_typed_is_not_stored(
        app: Flask, web_engine: Engine, clock: ManualClock) -> None:
    client = app.test_client()
    for _ in range(3):
        _try(client, "my-secret-passw0rd", "wrong")                  # a password typed as the name
    rows = _failures(web_engine)
    assert len(rows) == 6                                             # one per failure for the name and the address
    assert all(len(key) == 64 and "passw0rd" not in key for key, _ in rows)
    clock.advance(timedelta(minutes=5))
    _try(client, "dave", "wrong")
    assert len(_failures(web_engine)) == 2                            # only the new failure is left
    assert login_throttle.is_locked(web_engine.sessions, clock, "dave", "127.0.0.1") is False


def test_parallel_attempts_on_two_processes_get_no_more_than_the_limit(
        web_engine: Engine, database_url: str, clock: ManualClock) -> None:
    """Check and count are one step under a lock: concurrent guesses cannot slip in between."""
    other = Engine(Config(database_url=database_url), clock=clock, senders={})
    try:
        barrier = threading.Barrier(12)
        admitted: list[bool] = []

        def guess(eng: Engine, n: int) -> None:
            barrier.wait()
            admitted.append(login_throttle.attempt(eng.sessions, clock, "alice", f"203.0.113.{n}"))

        threads = [threading.Thread(target=guess, args=(web_engine if n % 2 else other, n)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(admitted) == [False] * 7 + [True] * 5
        assert login_throttle.is_locked(other.sessions, clock, "ALICE", "192.0.2.1")
    finally:
        other.close()


# -- secure headers and cookies --------------------------------------------------------------

SECURE = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def _assert_secure(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in SECURE.items():
        assert response.headers.get(name) == value, (name, response.headers)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp or "sandbox" in csp, csp
    assert "unsafe-eval" not in csp and "script-src 'self'" in csp or "default-src 'none'" in csp


def test_secure_headers_on_pages_api_and_errors(app: Flask, login) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    _assert_secure(client.get("/login"))
    _assert_secure(client.get("/no-such-page"))
    _assert_secure(client.get("/api/v1/me", headers=bearer()))
    _assert_secure(client.get("/api/v1/me"))                            # 401
    _assert_secure(client.get("/api/v1/openapi.json"))
    admin, _ = login("admin")
    for path in ("/", "/definitions", "/definitions/system_outage"):
        response = admin.get(path)
        assert response.status_code == 200, path
        _assert_secure(response)
        assert response.headers["Cache-Control"] == "no-store"
    source = admin.get("/definitions/system_outage/1/source")
    assert source.headers["Content-Security-Policy"].startswith("sandbox")
    assert source.headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_httponly_and_samesite(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": "demo",
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("contiflow_session=")]
    assert cookies, response.headers
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookies[-1].split(";")}
    assert "httponly" in flags and flags["samesite"].lower() == "samesite=lax"


def test_secure_cookies_setting_marks_the_cookie_secure(web_engine: Engine) -> None:
    app = create_app(web_engine, config={"secure_cookies": True}, start_scheduler=False, testing=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SESSION_COOKIE_HTTPONLY"] is True


# -- regressions: values PostgreSQL cannot hold ------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/instances/a%00b", "/api/v1/tasks/a%00b", "/api/v1/tasks?role=a%00",
                                  "/api/v1/instances?key=x%00", "/api/v1/definitions/a%00/source"])
def test_nul_in_the_url_is_a_400_on_every_backend(client: FlaskClient, path: str) -> None:
    """On PostgreSQL these were 500s (text fields cannot contain NUL)."""
    response = client.get(path, headers=bearer())
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "NUL" in response.get_json()["detail"]


def test_nul_in_a_page_url_is_a_400_page(login) -> None:  # type: ignore[no-untyped-def]
    admin, _ = login("admin")
    response = admin.get("/definitions/a%00b")
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


def test_a_business_key_over_255_characters_is_refused_naming_the_field(client: FlaskClient,
                                                                        web_engine: Engine) -> None:
    """On PostgreSQL this was a 500 (value too long for character varying(255))."""
    response = client.post("/api/v1/instances", headers=bearer(),
                           json={"key": "system_outage", "business_key": "b" * 256})
    assert response.status_code == 400 and "business_key" in response.get_json()["detail"]
    assert web_engine.instances() == []
    ok = client.post("/api/v1/instances", headers=bearer(), json={"key": "system_outage", "business_key": "b" * 255})
    assert ok.status_code == 201


def test_a_value_the_database_refuses_is_a_400_not_a_500(login, web_engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """The safety net behind the checks: a sign-in name with NUL reaches the database."""
    client = web_engine and login("admin")[0]
    page = client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert page.status_code == 302
    form = client.get("/login")
    response = client.post("/login", data={"username": "a\x00b", "password": "x",
                                           "csrf_token": csrf_from(form.get_data(as_text=True))})
    assert response.status_code in (400, 401), response.status_code
