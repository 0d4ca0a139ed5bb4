"""Behind a reverse proxy (CONTIFLOW_PROXY_HOPS): the client address, scheme and host come from
the trusted X-Forwarded-* headers -- so the login throttle limits the real client, not the
proxy -- and with the default 0 those headers are ignored, as anyone can send them."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify, request
from flask.testing import FlaskClient

from engine.api import Engine
from tests.web.conftest import TOKEN, csrf_from
from web.app import create_app
from web.settings import load_settings, parse_hops


def _app(web_engine: Engine, hops: int) -> Flask:
    app = create_app(web_engine, config={"api_tokens": {TOKEN: "robot"}, "proxy_hops": hops},
                     start_scheduler=False, testing=True)

    @app.get("/_test/client")
    def client_info() -> Any:
        return jsonify({"addr": request.remote_addr, "scheme": request.scheme, "host": request.host})

    return app


def _fail_login(client: FlaskClient, username: str, headers: dict[str, str]) -> int:
    token = csrf_from(client.get("/login", headers=headers).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": "wrong", "csrf_token": token},
                       headers=headers).status_code


def test_forwarded_headers_are_used_behind_one_proxy(web_engine: Engine) -> None:
    client = _app(web_engine, 1).test_client()
    seen = client.get("/_test/client", headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.7",
                                               "X-Forwarded-Proto": "https",
                                               "X-Forwarded-Host": "bcm.example.test"},
                      environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    # one trusted hop: the address the proxy saw (the last one), not what the client claimed
    assert seen == {"addr": "203.0.113.7", "scheme": "https", "host": "bcm.example.test"}


def test_forwarded_headers_are_ignored_by_default(web_engine: Engine) -> None:
    client = _app(web_engine, 0).test_client()
    seen = client.get("/_test/client", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                                               "X-Forwarded-Host": "evil.example.test"},
                      environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    assert seen == {"addr": "10.0.0.2", "scheme": "http", "host": "localhost"}


def test_login_throttle_sees_the_real_client_behind_the_proxy(web_engine: Engine) -> None:
    client = _app(web_engine, 1).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.2"}                      # every request arrives from the proxy
    client.environ_base.update(proxy)
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    for n in range(5):                                      # five names, one address: the address is limited
        assert _fail_login(client, f"guess{n}", attacker) == 401
    assert _fail_login(client, "guess-more", attacker) == 429
    # another client behind the same proxy is not locked out by the attacker's failures
    assert _fail_login(client, "someone", {"X-Forwarded-For": "198.51.100.20"}) == 401


def test_without_proxy_hops_a_forged_header_does_not_escape_the_throttle(web_engine: Engine) -> None:
    client = _app(web_engine, 0).test_client()
    for n in range(5):
        assert _fail_login(client, f"guess{n}", {"X-Forwarded-For": f"203.0.113.{n}"}) == 401
    assert _fail_login(client, "guess-more", {"X-Forwarded-For": "198.51.100.99"}) == 429


def test_proxy_hops_setting() -> None:
    assert load_settings({}).proxy_hops == 0
    assert load_settings({"CONTIFLOW_PROXY_HOPS": "2"}).proxy_hops == 2
    assert parse_hops(" ") == 0
    for bad in ("-1", "one", "11", "1.5"):
        with pytest.raises(ValueError, match="CONTIFLOW_PROXY_HOPS"):
            parse_hops(bad)
