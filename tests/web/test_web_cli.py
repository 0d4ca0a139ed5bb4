"""`contiflow serve` (web.cli) and the demo set-up; every other command is the engine's CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from tests.conftest import ROOT
from web import demo
from web.cli import main

TOKEN = "ci-token-0123456789abcdef"


def test_other_commands_are_the_engines(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    assert main(["import", str(ROOT / "bpmn" / "order_handling_as_is.bpmn"), "--json"]) == 0
    capsys.readouterr()
    assert main(["definitions", "--json"]) == 0
    assert [d["key"] for d in json.loads(capsys.readouterr().out)] == ["order_handling_as_is"]
    assert main(["show", "nope"]) == 1


def test_engine_cli_does_not_import_web() -> None:
    code = "import sys, engine.cli.main; print(any(m == 'web' or m.startswith('web.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_demo_seed_fills_an_empty_database_once(database_url: str, clock: ManualClock) -> None:
    eng = Engine(Config(database_url=database_url), clock=clock, senders=demo.demo_senders())
    try:
        done = demo.seed(eng)
        assert any("demo user" in line for line in done) and any("incident" in line for line in done)
        keys = {d.key for d in eng.definitions()}
        assert {"system_outage", "supplier_disruption", "order_handling_as_is"} <= keys
        assert eng.authenticate("alice", "demo") is not None and eng.authenticate("admin", "demo").admin
        assert [t.bpmn_id for t in eng.inbox("alice")] == ["notify_supervisor"]
        assert demo.seed(eng) == []                       # a second start changes nothing
        assert len(eng.instances()) == 1
        eng.deliver_notifications()                       # logged, not sent: no incident
        assert eng.instances()[0].status == "running"
    finally:
        eng.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - localhost only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        exc.close()
        return exc.code, body


def test_serve_demo_answers_on_its_port(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CONTIFLOW_DATABASE_URL": database_url, "CONTIFLOW_API_TOKENS": f"ci:{TOKEN}",
           "PYTHONPATH": str(ROOT)}
    env.pop("CONTIFLOW_SECRET_KEY", None)
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--demo", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(base + "/login")
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert status == 200 and b"Sign in" in body
        status, body = _get(base + "/api/v1/tasks", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        assert [t["bpmn_id"] for t in json.loads(body)] == ["notify_supervisor"]
        assert _get(base + "/api/v1/tasks")[0] == 401
        assert (tmp_path / "instance" / "secret_key").is_file()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "serving on http://127.0.0.1:" in err and "declared the demo incident" in err
