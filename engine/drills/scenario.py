"""Drill scenarios (YAML or JSON): which runbook, start data, clock speed, and how simulated
responders behave — per BPMN task id ``after`` (ISO-8601 delay from the moment the task is
ready) and ``data`` (form answers), plus a ``default``.  Everything is checked before a drill
starts: an unknown task id, a bad duration or an unknown runbook is an error naming it.

    runbook: system_outage
    speed: 600
    data: {incidentSummary: "payment API down"}
    responses:
      notify_supervisor: {after: PT12M}
      restore_payment: {after: PT90M, data: {paymentRestored: true}}
    default: {after: PT5M}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import yaml

from engine import safe_json
from engine.durations import parse_duration
from engine.errors import InvalidInput


@dataclass(frozen=True)
class Response:
    after: timedelta
    data: dict[str, Any] = field(default_factory=dict)
    after_text: str = "PT0S"


@dataclass(frozen=True)
class Scenario:
    runbook: str
    responses: dict[str, Response]
    default: Response
    data: dict[str, Any] = field(default_factory=dict)
    speed: float | None = None
    name: str = "drill"
    source: dict[str, Any] = field(default_factory=dict)

    def response_for(self, bpmn_id: str) -> Response:
        return self.responses.get(bpmn_id, self.default)


def _response(raw: Any, where: str) -> Response:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: expected a mapping with 'after' and optional 'data'")
    unknown = set(raw) - {"after", "data"}
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(sorted(unknown))} (use 'after' and 'data')")
    after_text = str(raw.get("after", "PT0S"))
    after = parse_duration(after_text, field=f"{where}.after")
    if after < timedelta(0):
        raise InvalidInput(f"{where}.after: must not be negative")
    data = raw.get("data") or {}
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}.data: must be a mapping of form fields")
    return Response(after, dict(data), after_text)


def parse_scenario(text: str, source: str = "scenario", runbook: str | None = None) -> Scenario:
    """Parse and check the shape; ``check_against`` later checks task ids against the runbook."""
    try:
        safe_json.check_depth(text)             # YAML flow collections nest like JSON's
        doc = safe_json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except safe_json.TooDeep as exc:
        raise InvalidInput(f"{source}: {exc}") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else (f" line {exc.lineno}" if hasattr(exc, "lineno") else "")
        raise InvalidInput(f"{source}:{line} is not valid YAML or JSON") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{source}: expected a mapping (runbook, responses, default)")
    unknown = set(doc) - {"runbook", "speed", "data", "responses", "default", "name"}
    if unknown:
        raise InvalidInput(f"{source}: unknown field(s) {', '.join(sorted(unknown))}")
    key = runbook or doc.get("runbook")
    if not key:
        raise InvalidInput(f"{source}: no 'runbook' given")
    speed = doc.get("speed")
    if speed is not None and (not isinstance(speed, (int, float)) or isinstance(speed, bool) or speed <= 0):
        raise InvalidInput(f"{source}: speed must be a positive number")
    responses_raw = doc.get("responses") or {}
    if not isinstance(responses_raw, dict):
        raise InvalidInput(f"{source}: 'responses' must map BPMN task ids to responses")
    responses = {str(k): _response(v, f"{source}: responses.{k}") for k, v in responses_raw.items()}
    default = _response(doc.get("default", {"after": "PT5M"}), f"{source}: default")
    data = doc.get("data") or {}
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: 'data' must be a mapping")
    return Scenario(str(key), responses, default, dict(data), float(speed) if speed else None,
                    str(doc.get("name") or f"{key} drill"), doc)


def check_against(scenario: Scenario, human_task_ids: set[str], source: str = "scenario") -> None:
    unknown = sorted(set(scenario.responses) - human_task_ids)
    if unknown:
        raise InvalidInput(f"{source}: responses name task(s) not in runbook '{scenario.runbook}': "
                           f"{', '.join(unknown)} (human tasks: {', '.join(sorted(human_task_ids))})")
