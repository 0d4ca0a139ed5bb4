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
    """At most ``inbox_limit`` tasks claimed by me and as many others, read by limited queries
    (labels joined in), plus one COUNT for the total; never the whole inbox."""
    eng, chosen = engine(), _filters()
    limit = settings().inbox_limit
    where: dict[str, Any] = {"instance_id": chosen["instance"], "role": chosen["role"], "key": chosen["key"]}
    if chosen["show"] == "unclaimed":
        where["unclaimed"] = True
    mine = [] if chosen["show"] == "unclaimed" else access.visible_tasks(
        eng, who, **where, claimed_by=who.username, limit=limit + 1)
    others = [] if chosen["show"] == "mine" else access.visible_tasks(
        eng, who, **where, not_claimed_by=who.username, limit=limit + 1)
    if chosen["show"] == "mine":
        total = len(mine) if len(mine) <= limit else access.visible_count(eng, who, **where,
                                                                          claimed_by=who.username)
    elif len(mine) <= limit and len(others) <= limit:
        total = len(mine) + len(others)
    else:
        total = access.visible_count(eng, who, **where)
    truncated = len(mine) > limit or len(others) > limit
    mine, others = mine[:limit], others[:limit]
    labels = access.task_labels(mine + others)
    if chosen["instance"] and chosen["instance"] not in labels:
        labels.update(access.instance_labels(eng, {chosen["instance"]}))
    return {
        "mine": mine, "others": others, "labels": labels, "total": total,
        "truncated": truncated, "now": eng.clock.now(), "filters": chosen,
        "query": {k: v for k, v in chosen.items() if v}, "fingerprint": _fingerprint(mine + others, total),
    }


def _options(who: Principal, labels: dict[str, access.InstanceLabel]) -> dict[str, Any]:
    """Filter choices: the incidents on the page, the executable runbooks, the user's roles."""
    eng = engine()
    return {
        "instance": sorted(((i, _instance_caption(labels, i)) for i in labels), key=lambda pair: pair[1]),
        "key": sorted({d.key for d in eng.definitions() if d.executable}),
        "role": sorted(r.name for r in eng.roles()) if who.admin else list(who.roles),
    }


def _fingerprint(tasks: list[Any], total: int) -> str:
    """Changes when a shown task appears, goes, changes deadline or holder, or the total changes
    (the countdowns tick in JS)."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"{total}\n".encode())
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
