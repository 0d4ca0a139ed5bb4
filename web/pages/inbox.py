"""The inbox: my claimed tasks and my roles' tasks, earliest deadline first, with filters by
incident, runbook and role; ``/inbox/live`` feeds the page's polling."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, jsonify, render_template, request

from engine.clock import isoformat
from web import access
from web.auth import Principal, current, engine, login_required, settings

bp = Blueprint("inbox", __name__)


def _filters() -> dict[str, str]:
    return {name: request.args.get(name, "").strip() for name in ("instance", "key", "role", "show")}


def _model(who: Principal) -> dict[str, Any]:
    eng, chosen = engine(), _filters()
    tasks = access.visible_tasks(eng, who, chosen["instance"], chosen["role"], chosen["key"])
    if chosen["show"] == "mine":
        tasks = [t for t in tasks if t.claimed_by == who.username]
    elif chosen["show"] == "unclaimed":
        tasks = [t for t in tasks if t.claimed_by is None]
    limit = settings().inbox_limit
    mine = [t for t in tasks if t.claimed_by == who.username]
    others = [t for t in tasks if t.claimed_by != who.username]
    shown = mine[:limit] + others[:limit]
    labels = access.instance_labels(eng, {t.instance_id for t in shown} | ({chosen["instance"]} - {""}))
    return {
        "mine": mine[:limit], "others": others[:limit], "labels": labels, "total": len(tasks),
        "truncated": len(mine) > limit or len(others) > limit, "now": eng.clock.now(), "filters": chosen,
        "query": {k: v for k, v in chosen.items() if v}, "fingerprint": _fingerprint(tasks),
    }


def _options(who: Principal, labels: dict[str, access.InstanceLabel]) -> dict[str, Any]:
    """Filter choices: the incidents on the page, the executable runbooks, the user's roles."""
    eng = engine()
    return {
        "instance": sorted(((i, _instance_caption(labels, i)) for i in labels), key=lambda pair: pair[1]),
        "key": sorted({d.key for d in eng.definitions() if d.executable}),
        "role": sorted(r.name for r in eng.roles()) if who.admin else list(who.roles),
    }


def _fingerprint(tasks: list[Any]) -> str:
    """Changes when a task appears, goes, changes deadline or holder (the countdowns tick in JS)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for t in tasks:
        digest.update(f"{t.task_id}|{t.claimed_by}|{t.due_at}\n".encode())
    return digest.hexdigest()


def _instance_caption(labels: dict[str, access.InstanceLabel], instance_id: str) -> str:
    label = labels.get(instance_id)
    if label is None:
        return instance_id[:8]
    return f"{label.key.replace('_', ' ')} · {label.business_key or instance_id[:8]}"


@bp.route("/")
@login_required
def index() -> Any:
    who = current()
    assert who is not None
    model = _model(who)
    return render_template("inbox.html", **model, options=_options(who, model["labels"]),
                           caption=_instance_caption)


@bp.route("/inbox/live")
@login_required
def live() -> Any:
    """The task tables as HTML (escaped by Jinja) plus the server's clock for the countdowns."""
    who = current()
    assert who is not None
    model = _model(who)
    html = render_template("_inbox_tables.html", **model, caption=_instance_caption)
    return jsonify({"now": isoformat(model["now"]), "total": model["total"], "fingerprint": model["fingerprint"],
                    "html": html})
