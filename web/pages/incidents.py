"""Incidents (instances): the list with the declare form, and the incident page — status,
timeline with offsets, targets met/missed, open tasks and holders, notifications, and the
live BPMN diagram; cancel and retry for managers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from engine.views import InstanceView
from web import access, forms
from web.auth import Principal, current, engine, login_required, require_manager

bp = Blueprint("incidents", __name__)

STATUSES = ("running", "incident", "completed", "cancelled")


def _page_model(who: Principal, view: InstanceView) -> dict[str, Any]:
    eng = engine()
    return {"view": view, "states": eng.element_states(view.instance_id), "now": eng.clock.now(),
            "notifications": access.notifications(view),
            "actionable": {t.task_id for t in view.tasks if access.may_act(eng, who, t)},
            "fingerprint": _fingerprint(view)}


def _fingerprint(view: InstanceView) -> str:
    """Changes whenever anything on the page would: new events, tasks claimed, status."""
    claims = ",".join(f"{t.task_id}:{t.claimed_by or ''}" for t in view.tasks)
    return f"{view.status}|{len(view.timeline)}|{len(view.incidents)}|{claims}"


@bp.route("/instances")
@login_required
def index() -> Any:
    eng = engine()
    status = request.args.get("status") or None
    key = request.args.get("key") or None
    if status not in (None, *STATUSES):
        status = None
    definitions = eng.definitions()
    return render_template("instances.html", instances=eng.instances(status=status, key=key),
                           status=status, key=key, statuses=STATUSES, definitions=definitions,
                           runbooks=[d for d in definitions if d.executable])


def _declare_page(key: str, status: int = 200, submitted: Any = None,
                  errors: dict[str, str] | None = None) -> Any:
    eng = engine()
    definition = eng.definition(key)
    fields = forms.field_views(forms.start_form(eng.task_metadata(key)), submitted, errors)
    return render_template("declare.html", definition=definition, fields=fields, errors=errors or {},
                           business_key=(submitted or {}).get("business_key", "")), status


@bp.route("/instances/declare")
@login_required
def declare_form() -> Any:
    """The runbook's start form (Camunda form fields on its start event) and a reference."""
    require_manager(current())
    return _declare_page(request.args.get("key", "").strip())


@bp.route("/instances", methods=["POST"])
@login_required
def declare() -> Any:
    """Declare: the start form's fields are checked like a task form's (types, enum values,
    required), with the errors shown per field."""
    who = require_manager(current())
    key = request.form.get("key", "").strip()
    eng = engine()
    form = forms.start_form(eng.task_metadata(key))
    data = forms.submission(form, request.form)
    summary = request.form.get("summary", "").strip()          # the list page's short form
    if summary and "incidentSummary" not in data:
        data["incidentSummary"] = summary
    data, errors = forms.check(form, data)
    if errors:
        return _declare_page(key, 400, request.form, errors)
    instance_id = eng.start(key, data, business_key=request.form.get("business_key", "").strip() or None,
                            actor=who.username)
    flash("Incident declared.", "success")
    return redirect(url_for("incidents.show", instance_id=instance_id))


@bp.route("/instances/<instance_id>")
@login_required
def show(instance_id: str) -> Any:
    who = current()
    assert who is not None
    view = engine().show(instance_id)
    return render_template("instance.html", **_page_model(who, view))


@bp.route("/instances/<instance_id>/live")
@login_required
def live(instance_id: str) -> Any:
    """What the page polls: the panels as escaped HTML, element states for the diagram."""
    who = current()
    assert who is not None
    model = _page_model(who, engine().show(instance_id))
    html = render_template("_instance_panels.html", **model)
    return jsonify({"status": model["view"].status, "states": model["states"], "fingerprint": model["fingerprint"],
                    "html": html})


@bp.route("/instances/<instance_id>/cancel", methods=["POST"])
@login_required
def cancel(instance_id: str) -> Any:
    who = require_manager(current())
    engine().cancel(instance_id, actor=who.username)
    flash("Incident cancelled; its open tasks and timers are withdrawn.", "info")
    return redirect(url_for("incidents.show", instance_id=instance_id))


@bp.route("/instances/<instance_id>/retry", methods=["POST"])
@login_required
def retry(instance_id: str) -> Any:
    who = require_manager(current())
    retried = engine().retry(instance_id, {}, actor=who.username)
    flash(f"Retried {', '.join(retried) or 'nothing'}.", "info")
    return redirect(url_for("incidents.show", instance_id=instance_id))
