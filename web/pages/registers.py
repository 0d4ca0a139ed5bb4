"""The plan page: the quarterly review schedule, the optimisation targets (each with its
metric's current value from observed KPIs) and the risk register with its heat map — listed for
everyone signed in, added, edited, deleted and imported/exported as CSV by continuity managers
and administrators."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from engine import schedules
from engine.analysis import register_store
from engine.analysis.kpis import METRICS
from engine.errors import EngineError, InvalidInput
from web.auth import Principal, current, engine, login_required
from web.errors import Forbidden

bp = Blueprint("registers", __name__)

MAX_UPLOAD = 1024 * 1024
RISK_FIELDS = ("id", "risk", "likelihood", "impact", "process", "steps", "runbook", "controls", "owner")
TARGET_FIELDS = ("goal", "pain_point", "expected_benefit", "key", "metric", "step", "target", "direction",
                 "owner", "deadline")


def require_editor(who: Principal | None) -> Principal:
    if who is None or not who.manager:
        raise Forbidden("Only continuity managers and administrators may change the plan registers.")
    return who


def _form(names: tuple[str, ...]) -> dict[str, str]:
    return {n: request.form.get(n, "") for n in names}


def _page(status: int = 200, **extra: Any) -> Any:
    eng = engine()
    register = register_store.risk_register(eng)
    context = {"risks": register["risks"], "heat": register["heat_map"],
               "targets": register_store.target_register(eng), "schedules": schedules.list_schedules(eng),
               "metrics": METRICS, "processes": [d for d in eng.definitions() if d.executable],
               "risk_form": {}, "target_form": {"direction": "below"}, "error": None}
    context.update(extra)
    return render_template("registers.html", **context), status


@bp.route("/plan")
@login_required
def index() -> Any:
    return _page()


# -- risks -------------------------------------------------------------------------------------

@bp.route("/plan/risks", methods=["POST"])
@login_required
def add_risk() -> Any:
    require_editor(current())
    values = _form(RISK_FIELDS)
    try:
        register_store.save_risk(engine(), register_store.risk_from(values))
    except InvalidInput as exc:
        return _page(400, risk_form=values, error=f"Risk not added: {exc}")
    flash(f"Risk {values['id']} added.", "success")
    return redirect(url_for("registers.index") + "#risks")


@bp.route("/plan/risks/<int(max=2147483647):row_id>")
@login_required
def edit_risk(row_id: int) -> Any:
    require_editor(current())
    risk = register_store.get_risk(engine(), row_id)
    return render_template("register_edit.html", kind="risk", row_id=row_id, values=asdict(risk), error=None,
                           metrics=METRICS)


@bp.route("/plan/risks/<int(max=2147483647):row_id>", methods=["POST"])
@login_required
def save_risk(row_id: int) -> Any:
    require_editor(current())
    values = _form(RISK_FIELDS)
    try:
        register_store.save_risk(engine(), register_store.risk_from(values), row_id)
    except InvalidInput as exc:
        return render_template("register_edit.html", kind="risk", row_id=row_id, values=values, error=str(exc),
                               metrics=METRICS), 400
    flash(f"Risk {values['id']} saved.", "success")
    return redirect(url_for("registers.index") + "#risks")


@bp.route("/plan/risks/<int(max=2147483647):row_id>/delete", methods=["POST"])
@login_required
def delete_risk(row_id: int) -> Any:
    require_editor(current())
    register_store.delete_risk(engine(), row_id)
    flash("Risk deleted.", "success")
    return redirect(url_for("registers.index") + "#risks")


# -- targets -----------------------------------------------------------------------------------

@bp.route("/plan/targets", methods=["POST"])
@login_required
def add_target() -> Any:
    require_editor(current())
    values = _form(TARGET_FIELDS)
    try:
        register_store.save_target(engine(), register_store.target_from(values))
    except InvalidInput as exc:
        return _page(400, target_form=values, error=f"Target not added: {exc}")
    flash("Optimisation target added.", "success")
    return redirect(url_for("registers.index") + "#targets")


@bp.route("/plan/targets/<int(max=2147483647):row_id>")
@login_required
def edit_target(row_id: int) -> Any:
    require_editor(current())
    values = asdict(register_store.get_target(engine(), row_id))
    values["deadline"] = values["deadline"].isoformat() if values["deadline"] else ""
    values["target"] = "" if values["target"] is None else f"{values['target']:g}"
    return render_template("register_edit.html", kind="target", row_id=row_id, values=values, error=None,
                           metrics=METRICS)


@bp.route("/plan/targets/<int(max=2147483647):row_id>", methods=["POST"])
@login_required
def save_target(row_id: int) -> Any:
    require_editor(current())
    values = _form(TARGET_FIELDS)
    try:
        register_store.save_target(engine(), register_store.target_from(values), row_id)
    except InvalidInput as exc:
        return render_template("register_edit.html", kind="target", row_id=row_id, values=values,
                               error=str(exc), metrics=METRICS), 400
    flash("Optimisation target saved.", "success")
    return redirect(url_for("registers.index") + "#targets")


@bp.route("/plan/targets/<int(max=2147483647):row_id>/delete", methods=["POST"])
@login_required
def delete_target(row_id: int) -> Any:
    require_editor(current())
    register_store.delete_target(engine(), row_id)
    flash("Optimisation target deleted.", "success")
    return redirect(url_for("registers.index") + "#targets")


# -- CSV ---------------------------------------------------------------------------------------

def _csv(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/plan/risks.csv")
@login_required
def export_risks() -> Any:
    return _csv(register_store.export_risks(engine()), "risks.csv")


@bp.route("/plan/targets.csv")
@login_required
def export_targets() -> Any:
    return _csv(register_store.export_targets(engine()), "targets.csv")


def _upload() -> str:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("choose a CSV file to import")
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput(f"the CSV is larger than {MAX_UPLOAD} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV must be UTF-8 text") from None


@bp.route("/plan/risks.csv", methods=["POST"])
@login_required
def import_risks() -> Any:
    require_editor(current())
    try:
        counts = register_store.import_risks(engine(), _upload())
    except InvalidInput as exc:
        return _page(400, error=f"Risk register not imported: {exc}")
    flash(f"Risk register imported: {counts['added']} added, {counts['updated']} updated.", "success")
    return redirect(url_for("registers.index") + "#risks")


@bp.route("/plan/targets.csv", methods=["POST"])
@login_required
def import_targets() -> Any:
    require_editor(current())
    try:
        counts = register_store.import_targets(engine(), _upload(), replace=request.form.get("replace") == "on")
    except InvalidInput as exc:
        return _page(400, error=f"Targets not imported: {exc}")
    flash(f"Targets imported: {counts['added']} added, {counts['removed']} replaced.", "success")
    return redirect(url_for("registers.index") + "#targets")


# -- the review schedule -----------------------------------------------------------------------

@bp.route("/plan/schedules", methods=["POST"])
@login_required
def add_schedule() -> Any:
    require_editor(current())
    key = request.form.get("key", "").strip()
    every = request.form.get("every", "").strip() or None
    cron = request.form.get("cron", "").strip() or None
    try:
        row = schedules.schedule(engine(), key or schedules.PLAN_REVIEW, every, cron)
    except EngineError as exc:
        return _page(400, error=f"Not scheduled: {exc}")
    flash(f"{row['key']} scheduled; next run {row['next_run_at']}.", "success")
    return redirect(url_for("registers.index") + "#review")


@bp.route("/plan/schedules/<int(max=2147483647):schedule_id>/stop", methods=["POST"])
@login_required
def stop_schedule(schedule_id: int) -> Any:
    require_editor(current())
    schedules.unschedule(engine(), schedule_id)
    flash("Schedule stopped.", "success")
    return redirect(url_for("registers.index") + "#review")
