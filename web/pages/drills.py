"""Drills: stored exercise reports (page, JSON, Markdown), running a simulated drill from a
scenario typed or pasted here, the trend per runbook, and scheduled drills."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for

from engine.drills import report as reports
from engine.drills.scenario import parse_scenario
from engine.errors import EngineError
from web.auth import current, engine, login_required, require_manager

bp = Blueprint("drills", __name__)

EXAMPLE = """runbook: system_outage
data: {incidentSummary: "drill: payment API down"}
responses:
  notify_supervisor: {after: PT12M, data: {acknowledged: true}}
  restore_payment: {after: PT90M, data: {paymentRestored: true}}
default: {after: PT5M}
"""


@bp.route("/drills")
@login_required
def index() -> Any:
    eng = engine()
    key = request.args.get("key") or None
    return render_template("drills.html", reports=list(reversed(eng.drill_reports(key))), key=key,
                           schedules=eng.drill_schedules(), scenario=EXAMPLE,
                           trend=eng.drill_trend(key) if key else [],
                           runbooks=[d for d in eng.definitions() if d.executable])


@bp.route("/drills", methods=["POST"])
@login_required
def run() -> Any:
    require_manager(current())
    text = request.form.get("scenario", "")
    every = request.form.get("every", "").strip() or None
    cron = request.form.get("cron", "").strip() or None
    try:
        scenario = parse_scenario(text, source="scenario")
        if every or cron:
            schedule = engine().schedule_drill(scenario, every=every, cron=cron)
            flash(f"Drill scheduled; next run {schedule['next_run_at']}.", "success")
            return redirect(url_for("drills.index"))
        report = engine().run_drill(scenario)
    except EngineError as exc:
        eng = engine()
        return render_template("drills.html", reports=list(reversed(eng.drill_reports())), key=None,
                               schedules=eng.drill_schedules(), scenario=text, error=str(exc), trend=[],
                               runbooks=[d for d in eng.definitions() if d.executable]), 400
    flash("Drill finished.", "success")
    return redirect(url_for("drills.show", drill_id=report["drill_id"]))


@bp.route("/drills/<int:drill_id>")
@login_required
def show(drill_id: int) -> Any:
    report = engine().drill_report(drill_id)
    return render_template("drill.html", report=report, drill_id=drill_id)


@bp.route("/drills/<int:drill_id>.json")
@login_required
def as_json(drill_id: int) -> Any:
    return jsonify(engine().drill_report(drill_id))


@bp.route("/drills/<int:drill_id>.md")
@login_required
def as_markdown(drill_id: int) -> Any:
    text = reports.markdown(engine().drill_report(drill_id))
    return Response(text, mimetype="text/markdown",
                    headers={"Content-Disposition": f'attachment; filename="drill-{drill_id}.md"'})
