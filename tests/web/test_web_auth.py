"""Sign-in, sessions, CSRF and security headers."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import csrf_from, sign_in


def test_pages_need_a_session(client: FlaskClient) -> None:
    for path in ("/", "/instances", "/definitions", "/tasks/nope"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_login_and_logout(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and b'autocomplete="current-password"' in page.data
    token = csrf_from(page.get_data(as_text=True))
    bad = client.post("/login", data={"username": "alice", "password": "wrong", "csrf_token": token})
    assert bad.status_code == 401 and b"wrong password" in bad.data
    good = client.post("/login", data={"username": "alice", "password": "demo", "csrf_token": token,
                                       "next": "/instances"})
    assert good.status_code == 302 and good.headers["Location"] == "/instances"
    inbox = client.get("/")
    assert inbox.status_code == 200 and b"Alice Martin" in inbox.data
    token = csrf_from(inbox.get_data(as_text=True))
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_lax(client: FlaskClient) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": "demo",
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookie_flag(web_engine) -> None:
    from web.app import create_app

    app = create_app(web_engine, config={"secure_cookies": True}, start_scheduler=False, testing=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_form_post_without_csrf_token_is_refused(client: FlaskClient, outage: str, web_engine) -> None:
    assert client.post("/login", data={"username": "alice", "password": "demo"}).status_code == 400
    sign_in(client, "alice")
    task = web_engine.tasks(instance_id=outage)[0]
    refused = client.post(f"/tasks/{task.task_id}", data={"acknowledged": "true"})
    assert refused.status_code == 400 and b"security token" in refused.data
    assert web_engine.tasks(instance_id=outage)[0].task_id == task.task_id        # nothing happened
    assert client.post(f"/tasks/{task.task_id}/claim", data={}).status_code == 400
    assert client.post("/logout").status_code == 400


def test_no_open_redirect_after_login(client: FlaskClient) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": "demo", "next": "//evil.test/x",
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/"


def test_repeated_failures_are_throttled(client: FlaskClient) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for _ in range(5):
        client.post("/login", data={"username": "bob", "password": "nope", "csrf_token": token})
    blocked = client.post("/login", data={"username": "bob", "password": "demo", "csrf_token": token})
    assert blocked.status_code == 429


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_secret_key_is_generated_and_kept(tmp_path, monkeypatch, web_engine) -> None:
    from web.app import create_app

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONTIFLOW_SECRET_KEY", raising=False)
    first = create_app(web_engine, start_scheduler=False).config["SECRET_KEY"]
    second = create_app(web_engine, start_scheduler=False).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("CONTIFLOW_SECRET_KEY", "from-the-environment")
    assert create_app(web_engine, start_scheduler=False).config["SECRET_KEY"] == "from-the-environment"


def test_app_starts_and_stops_the_timer_service(web_engine) -> None:
    from web.app import create_app

    app: Flask = create_app(web_engine, testing=True)
    service = app.extensions["contiflow.timers"]
    try:
        assert service.scheduler.running
    finally:
        service.stop()


def test_hsts_only_when_served_over_tls(web_engine) -> None:  # type: ignore[no-untyped-def]
    """Secure cookies mean TLS in front: then browsers are told to stay on https."""
    from web.app import create_app
    plain = create_app(web_engine, config={"secure_cookies": False}, start_scheduler=False, testing=True)
    assert "Strict-Transport-Security" not in plain.test_client().get("/login").headers
    tls = create_app(web_engine, config={"secure_cookies": True}, start_scheduler=False, testing=True)
    assert tls.test_client().get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"
