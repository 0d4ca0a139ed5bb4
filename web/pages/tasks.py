"""The task page: instructions, the generated form, claim/unclaim, completion with
per-field errors; 403 for another role's task, a clear message when someone was first."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine.errors import Conflict, InvalidInput, NotFound
from engine.views import TaskView
from web import access, forms
from web.auth import Principal, _safe_next, current, engine, login_required
from web.errors import Forbidden, field_errors
from web.modelinfo import DocumentationCache

bp = Blueprint("tasks", __name__)


def _docs() -> DocumentationCache:
    return current_app.extensions.setdefault("contiflow.docs", DocumentationCache())  # type: ignore[no-any-return]


def _render(who: Principal, task: TaskView, status: int = 200, submitted: Any = None,
            errors: dict[str, str] | None = None, message: str | None = None) -> Any:
    eng = engine()
    instance = eng.show(task.instance_id)
    documentation = getattr(task, "documentation", None) or _docs().lookup(
        eng, instance.key, instance.version, task.bpmn_id)
    return render_template("task.html", task=task, instance=instance, documentation=documentation,
                           fields=forms.field_views(task.form, submitted, errors), message=message,
                           may_unclaim=access.may_unclaim(who, task), now=eng.clock.now()), status


def _gone(task_id: str, exc: NotFound) -> Any:
    return render_template("error.html", status=404, title="Task no longer open",
                           detail=f"{exc}. It was completed, or withdrawn by an escalation or a "
                                  f"cancellation; see your inbox for what is open now."), 404


@bp.route("/tasks/<task_id>")
@login_required
def show(task_id: str) -> Any:
    who = current()
    assert who is not None
    try:
        task = access.task_for(engine(), who, task_id)
    except NotFound as exc:
        try:
            history = access.history_for(engine(), who, task_id)
        except NotFound:
            return _gone(task_id, exc)
        return render_template("task_history.html", task=history)
    return _render(who, task)


@bp.route("/tasks/<task_id>", methods=["POST"])
@login_required
def complete(task_id: str) -> Any:
    who = current()
    assert who is not None
    eng = engine()
    try:
        task = access.task_for(eng, who, task_id)
    except NotFound as exc:
        # gone between page load and submit: say who completed it when the engine knows
        try:
            eng.complete(task_id, {}, actor=who.username)
        except Conflict as conflict:
            return render_template("error.html", status=409, title="Already completed", detail=str(conflict)), 409
        except NotFound:
            pass
        return _gone(task_id, exc)
    data = forms.submission(task.form, request.form)
    _, every_error = forms.check(task.form, data)          # all field mistakes at once, not the first
    if every_error:
        return _render(who, task, 400, request.form, every_error, None)
    try:
        instance_id = eng.complete(task_id, data, actor=who.username)
    except InvalidInput as exc:
        errors = field_errors(exc)
        return _render(who, task, 400, request.form, errors, None if errors else str(exc))
    except Conflict as exc:
        return render_template("error.html", status=409, title="Already completed", detail=str(exc)), 409
    flash(f"Completed “{task.name}”.", "success")
    return redirect(url_for("incidents.show", instance_id=instance_id))


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: str) -> Any:
    who = current()
    assert who is not None
    task = access.task_for(engine(), who, task_id)
    engine().claim(task_id, who.username)
    flash(f"You hold “{task.name}”.", "success")
    return redirect(_safe_next(request.form.get("next") or url_for("tasks.show", task_id=task_id)))


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@login_required
def unclaim(task_id: str) -> Any:
    who = current()
    assert who is not None
    task = access.task_for(engine(), who, task_id)
    if not access.may_unclaim(who, task):
        raise Forbidden(f"Only {task.claimed_by} or an administrator may release this task.")
    engine().unclaim(task_id)
    flash(f"Released “{task.name}”.", "info")
    return redirect(_safe_next(request.form.get("next") or url_for("tasks.show", task_id=task_id)))
