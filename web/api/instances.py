"""/api/v1/instances: list, get (the CLI's `show --json`), start (declare), cancel, retry,
and the live element states for the diagram."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from engine.errors import InvalidInput
from web import forms
from web.api import body, bp, choice_arg, optional_object, optional_string, principal
from web.auth import engine, require_manager
from web.errors import problem

STATUSES = ("running", "completed", "incident", "cancelled")


@bp.get("/instances")
def list_instances() -> Any:
    status = choice_arg("status", STATUSES)
    return jsonify([v.summary_json() for v in engine().instances(status=status, key=request.args.get("key") or None)])


@bp.post("/instances")
def start() -> Any:
    """Declare an incident: {"key": ..., "data": {...}, "business_key": ...}.  ``data`` is
    checked against the runbook's start form (types, enum values, required) like a task form:
    400 with every field's error in ``errors``."""
    who = require_manager(principal())
    payload = body()
    key = optional_string(payload, "key")
    if not key:
        raise InvalidInput("'key' (the definition key to start) is required")
    business_key = optional_string(payload, "business_key")
    if business_key is not None and (len(business_key) > 255 or "\x00" in business_key):
        raise InvalidInput("'business_key' must be at most 255 characters, without NUL")
    data, errors = forms.check(forms.start_form(engine().task_metadata(key)), optional_object(payload, "data"))
    if errors:
        return problem(400, "Invalid input", "the start form has errors: " + "; ".join(
            f"{name}: {message}" for name, message in errors.items()), "invalid-input", errors=errors)
    instance_id = engine().start(key, data, business_key=business_key, actor=who.username)
    view = engine().show(instance_id)
    response = jsonify({"instance_id": instance_id, "status": view.status})
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_instance", instance_id=instance_id)
    return response


@bp.get("/instances/<instance_id>")
def get_instance(instance_id: str) -> Any:
    return jsonify(engine().show(instance_id).to_json())


@bp.get("/instances/<instance_id>/states")
def element_states(instance_id: str) -> Any:
    return jsonify(engine().element_states(instance_id))


@bp.post("/instances/<instance_id>/cancel")
def cancel(instance_id: str) -> Any:
    who = require_manager(principal())
    engine().cancel(instance_id, actor=who.username)
    return jsonify({"instance_id": instance_id, "status": engine().show(instance_id).status})


@bp.post("/instances/<instance_id>/retry")
def retry(instance_id: str) -> Any:
    who = require_manager(principal())
    retried = engine().retry(instance_id, optional_object(body(), "data"), actor=who.username)
    return jsonify({"instance_id": instance_id, "retried": retried, "status": engine().show(instance_id).status})
