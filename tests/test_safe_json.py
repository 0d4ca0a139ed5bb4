"""Untrusted JSON is decoded with a nesting limit: the engine's raised recursion limit would
otherwise let the C decoder overrun the stack and kill the process on deeply nested input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.drills.scenario import parse_scenario
from engine.errors import InvalidInput
from engine.safe_json import MAX_DEPTH, TooDeep, loads, nesting


def test_nesting_skips_strings_and_escapes() -> None:
    assert nesting(b'{"a": [1, {"b": "[[[{"}], "c": "\\"]]"}') == 3
    assert nesting(b'"[[["') == 0 and nesting(b"[]") == 1 and nesting(b"42") == 0


def test_the_limit_is_exact_and_a_value_error() -> None:
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads(at_limit) == loads(at_limit)          # decodes
    with pytest.raises(TooDeep, match=f"more than {MAX_DEPTH} levels"):
        loads("[" + at_limit + "]")
    assert issubclass(TooDeep, ValueError)
    assert loads(b'{"x": ["[", "{"]}') == {"x": ["[", "{"]}


def test_a_pasted_drill_scenario_nested_too_deep_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="nested more than"):
        parse_scenario('{"runbook": ' + "[" * 100_000 + "]" * 100_000 + "}", source="pasted")
    with pytest.raises(InvalidInput, match="nested more than"):        # YAML flow style: minutes before
        parse_scenario("runbook: " + "[" * 100_000 + "]" * 100_000, source="pasted")


def test_a_deeply_nested_api_body_is_a_400_and_the_process_survives() -> None:
    """In a child process, because before the guard this request killed the process (SIGSEGV)."""
    script = """
from engine.api import Engine
from engine.config import Config
from web.app import create_app
app = create_app(Engine(Config(database_url="sqlite://")), start_scheduler=False,
                 config={"api_tokens": {"t" * 32: "robot"}})
client = app.test_client()
headers = {"Authorization": "Bearer " + "t" * 32}
body = "[" * 150_000 + "]" * 150_000
print(client.post("/api/v1/instances", data=body, content_type="application/json", headers=headers).status_code)
print(client.get("/api/v1/definitions", headers=headers).status_code)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["400", "200"]
