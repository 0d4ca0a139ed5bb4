"""/api/v1: who am I, people and roles, and the Alertmanager webhook."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from engine.errors import InvalidInput
from web.api import bp, principal
from web.auth import engine, require_admin, require_manager


@bp.get("/me")
def me() -> Any:
    return jsonify(principal().to_json())


@bp.get("/people")
def people() -> Any:
    """The whole directory (with addresses and webhooks): administrators only."""
    require_admin(principal())
    return jsonify({"users": [p.to_json() for p in engine().people()],
                    "roles": [r.to_json() for r in engine().roles()]})


@bp.get("/roles")
def roles() -> Any:
    """Roles with their primary and backup members; webhooks only for administrators."""
    admin = principal().admin
    out = []
    for role in engine().roles():
        item = role.to_json()
        if not admin:
            item.pop("webhook", None)
        out.append(item)
    return jsonify(out)


@bp.post("/alerts")
def alerts() -> Any:
    """An Alertmanager webhook body; each firing alert declares its runbook's incident once."""
    require_manager(principal())
    payload = request.get_json(silent=True)
    if payload is None:
        raise InvalidInput("alertmanager payload: the body must be JSON")
    if isinstance(payload, dict) and not isinstance(payload.get("status", ""), str):
        raise InvalidInput("alertmanager payload: 'status' must be a string")
    return jsonify([o.to_json() for o in engine().declare_from_alertmanager(payload)])
