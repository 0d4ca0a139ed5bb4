"""/api/v1/tasks: the caller's inbox, one task, claim, unclaim, complete."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from engine.errors import NotFound
from web import access, forms
from web.api import body, bp, int_arg, json_response, optional_object, principal
from web.auth import engine, settings
from web.errors import Forbidden, problem


@bp.get("/tasks")
def list_tasks() -> Any:
    who = principal()
    eng = engine()
    limit = min(int_arg("limit") or settings().inbox_limit, settings().inbox_limit)
    tasks = access.visible_task_json(eng, who, request.args.get("instance"), request.args.get("role"),
                                     request.args.get("key"), limit=limit)
    return json_response(tasks)


@bp.get("/tasks/<task_id>")
def get_task(task_id: str) -> Any:
    """An open task (``status: open``), or one no longer open from the audit trail
    (``status: completed`` with ``completed_by``/``completed_at``, or ``cancelled``); 404 only
    for ids the engine never had."""
    who = principal()
    try:
        task = access.task_for(engine(), who, task_id)
    except NotFound:
        return jsonify(access.history_for(engine(), who, task_id).to_json())
    out = access.task_json(task, access.instance_labels(engine(), {task.instance_id}), who)
    out["status"] = "open"
    return jsonify(out)


@bp.post("/tasks/<task_id>/claim")
def claim(task_id: str) -> Any:
    who = principal()
    access.task_for(engine(), who, task_id)
    return jsonify(engine().claim(task_id, who.username).to_json())


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str) -> Any:
    who = principal()
    task = access.task_for(engine(), who, task_id)
    if not access.may_unclaim(who, task):
        raise Forbidden(f"Only {task.claimed_by} or an administrator may release this task.")
    return jsonify(engine().unclaim(task_id).to_json())


@bp.post("/tasks/<task_id>/complete")
def complete(task_id: str) -> Any:
    """Body: {"data": {...}} (or the data object itself, as `contiflow complete --data`)."""
    who = principal()
    eng = engine()
    payload = body()
    data = optional_object(payload, "data") if "data" in payload else payload
    try:
        task = access.task_for(eng, who, task_id)
    except NotFound:
        pass        # no longer open: complete() answers 409 "already completed by …", or 404
    else:
        _, errors = forms.check(task.form, data)        # every field's mistake at once
        if errors:
            return problem(400, "Invalid input", "the form has errors: " + "; ".join(
                f"{name}: {message}" for name, message in errors.items()), "invalid-input", errors=errors)
    instance_id = eng.complete(task_id, data, actor=who.username)
    view = eng.show(instance_id)
    return jsonify({"task_id": task_id, "instance_id": instance_id, "status": view.status,
                    "tasks": [t.to_json() for t in view.tasks]})
