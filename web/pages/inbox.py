"""The inbox: my claimed tasks and my roles' tasks, earliest deadline first, with filters by
incident, runbook and role; ``/inbox/live`` feeds the page's polling.

The lists are turned into ready-to-print rows here (links, countdown text, the claim action)
so the template is a plain loop: a hundred rows render in a couple of milliseconds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from engine.clock import isoformat
from engine.views import TaskView
from web import access
from web.auth import Principal, current, engine, login_required, settings
from web.pages.filters import short_duration, when

bp = Blueprint("inbox", __name__)


@dataclass(frozen=True, slots=True)
class Row:
    """One task line of the inbox, every text ready (Jinja still escapes them)."""
    task_id: str
    name: str
    href: str
    instance_id: str
    instance_href: str
    caption: str
    role: str
    held_by: str | None
    overdue: bool
    due_iso: str | None
    due_title: str
    countdown: str
    action: str | None            # "claim" | "release" | None (held by someone else)
    action_href: str
    claimed_by: str | None
    due_at: datetime | None


def _filters() -> dict[str, str]:
    return {name: request.args.get(name, "").strip() for name in ("instance", "key", "role", "show")}


def _model(who: Principal) -> dict[str, Any]:
    """At most ``inbox_limit`` tasks claimed by me and as many others, read by limited queries
    (labels joined in); never the whole inbox, never a COUNT over it."""
    eng, chosen = engine(), _filters()
    limit = settings().inbox_limit
    where: dict[str, Any] = {"instance_id": chosen["instance"], "role": chosen["role"], "key": chosen["key"]}
    if chosen["show"] == "unclaimed":
        where["unclaimed"] = True
    mine = [] if chosen["show"] == "unclaimed" else access.visible_tasks(
        eng, who, **where, claimed_by=who.username, limit=limit + 1)
    others = [] if chosen["show"] == "mine" else access.visible_tasks(
        eng, who, **where, not_claimed_by=who.username, limit=limit + 1)
    truncated = len(mine) > limit or len(others) > limit
    mine, others = mine[:limit], others[:limit]
    # the page shows at most ``limit`` per list: beyond that an exact COUNT (as costly as the
    # list itself with 100,000 tasks) would change nothing on it, so the total is left open
    total = None if truncated else len(mine) + len(others)
    labels = access.task_labels(mine + others)
    if chosen["instance"] and chosen["instance"] not in labels:
        labels.update(access.instance_labels(eng, {chosen["instance"]}))
    now = eng.clock.now()
    return {
        "mine": _rows(mine, labels, who, now), "others": _rows(others, labels, who, now), "labels": labels,
        "total": total, "truncated": truncated, "now": now, "filters": chosen,
        "query": {k: v for k, v in chosen.items() if v}, "fingerprint": _fingerprint(mine + others, total),
        "csrf_input": Markup('<input type="hidden" name="csrf_token" value="%s">') % generate_csrf(),
    }


def _link(endpoint: str, argument: str) -> Any:
    """``url_for`` once per request; each id is then put in with ``quote`` (ids are plain)."""
    values: dict[str, Any] = {argument: "\x00"}
    head, _, tail = url_for(endpoint, **values).partition("%00")
    return lambda value: f"{head}{quote(value, safe='')}{tail}"


def _rows(tasks: list[TaskView], labels: dict[str, access.InstanceLabel], who: Principal,
          now: datetime) -> list[Row]:
    task_href, instance_href = _link("tasks.show", "task_id"), _link("incidents.show", "instance_id")
    claim_href, release_href = _link("tasks.claim", "task_id"), _link("tasks.unclaim", "task_id")
    rows = []
    for t in tasks:
        due = t.due_at
        overdue = due is not None and due < now
        if due is None:
            countdown = ""
        elif overdue:
            countdown = f"overdue by {short_duration((now - due).total_seconds())}"
        else:
            countdown = f"{short_duration((due - now).total_seconds())} left"
        mine = t.claimed_by == who.username
        action = "release" if mine else None if t.claimed_by else "claim"
        rows.append(Row(
            t.task_id, t.name, task_href(t.task_id), t.instance_id, instance_href(t.instance_id),
            _instance_caption(labels, t.instance_id), (t.role or "").replace("_", " ") or "—",
            ("you" if mine else t.claimed_by) if t.claimed_by else None, overdue, isoformat(due),
            when(due), countdown, action,
            (release_href if mine else claim_href)(t.task_id) if action else "", t.claimed_by, due))
    return rows


def _options(who: Principal, labels: dict[str, access.InstanceLabel]) -> dict[str, Any]:
    """Filter choices: the incidents on the page, the executable runbooks, the user's roles."""
    eng = engine()
    return {
        "instance": sorted(((i, _instance_caption(labels, i)) for i in labels), key=lambda pair: pair[1]),
        "key": eng.executable_keys(),
        "role": sorted(r.name for r in eng.roles()) if who.admin else list(who.roles),
    }


def _fingerprint(tasks: list[Any], total: int | None) -> str:
    """Changes when a shown task appears, goes, changes deadline or holder, or the total changes
    (the countdowns tick in JS); ``None``: more than the page shows."""
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
    return render_template("inbox.html", **model, options=_options(who, model["labels"]))


@bp.route("/inbox/live")
@login_required
def live() -> Any:
    """The task tables as HTML (escaped by Jinja) plus the server's clock for the countdowns."""
    who = current()
    assert who is not None
    model = _model(who)
    html = render_template("_inbox_tables.html", **model)
    return jsonify({"now": isoformat(model["now"]), "total": model["total"], "fingerprint": model["fingerprint"],
                    "html": html})

