"""/api/v1: the as-is / to-be comparison, the plan registers (risks, optimisation targets — JSON
and CSV) and scheduled processes.  Anyone signed in reads; continuity managers and
administrators (and tokens) change.  Same shapes as the CLI's ``--json``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, jsonify, request

from engine import schedules
from engine.analysis import register_store
from engine.errors import InvalidInput, NotFound
from web.api import body, bool_arg, bp, int_arg, principal
from web.auth import engine
from web.pages.analysis import pick, run, scenario_from
from web.pages.registers import require_editor

MAX_CSV_BYTES = 1024 * 1024


@bp.get("/compare")
def compare() -> Any:
    """``as_is`` and ``to_be`` (stored keys; default the bundled order pair), ``simulate`` cases
    and ``seed`` (same seed, same figures), ``replications``, ``plots=true`` for the SVG plots."""
    as_is, to_be = pick(engine(), request.args.get("as_is") or None, request.args.get("to_be") or None)
    if not as_is or not to_be:
        raise InvalidInput("give as_is and to_be (definition keys)")
    scenario = scenario_from(int_arg("simulate", 0), int_arg("seed", 0), int_arg("replications"))
    return jsonify(run(engine(), as_is, to_be, scenario, plots=bool_arg("plots") and scenario is not None))


def _csv_body() -> str:
    data = request.get_data(cache=False)
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(f"the CSV is larger than {MAX_CSV_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV must be UTF-8 text") from None


def csv_response(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _id(text: str, what: str) -> int:
    """A row id from the path: a whole number in range, else Not Found."""
    if not text.isascii() or not text.isdigit() or int(text) > 2**31 - 1:
        raise NotFound(f"no {what} {text}")
    return int(text)


def _created(payload: dict[str, Any]) -> Response:
    response = jsonify(payload)
    response.status_code = 201
    return response


# -- risks -------------------------------------------------------------------------------------

def _risk(row_id: int) -> dict[str, Any]:
    return register_store.risk_json(row_id, register_store.get_risk(engine(), row_id))


@bp.get("/risks")
def list_risks() -> Any:
    return jsonify(register_store.risk_register(engine()))


@bp.post("/risks")
def add_risk() -> Any:
    require_editor(principal())
    row_id = register_store.save_risk(engine(), register_store.risk_from(body()))
    return _created(_risk(row_id))


@bp.get("/risks/<row_id>")
def get_risk(row_id: str) -> Any:
    return jsonify(_risk(_id(row_id, "risk")))


@bp.put("/risks/<row_id>")
def change_risk(row_id: str) -> Any:
    """Fields not given keep their value."""
    require_editor(principal())
    number = _id(row_id, "risk")
    current = asdict(register_store.get_risk(engine(), number))
    register_store.save_risk(engine(), register_store.risk_from(current | body()), number)
    return jsonify(_risk(number))


@bp.delete("/risks/<row_id>")
def delete_risk(row_id: str) -> Any:
    require_editor(principal())
    register_store.delete_risk(engine(), _id(row_id, "risk"))
    return Response(status=204)


@bp.get("/risks.csv")
def export_risks() -> Any:
    return csv_response(register_store.export_risks(engine()), "risks.csv")


@bp.post("/risks.csv")
def import_risks() -> Any:
    """A CSV register (id, risk, likelihood, impact, …): upserted by id, all or nothing."""
    require_editor(principal())
    return jsonify(register_store.import_risks(engine(), _csv_body()))


# -- optimisation targets ----------------------------------------------------------------------

def _target(row_id: int) -> dict[str, Any]:
    for item in register_store.target_register(engine()):
        if item["row_id"] == row_id:
            return item
    register_store.get_target(engine(), row_id)          # raises NotFound
    raise AssertionError("unreachable")


@bp.get("/targets")
def list_targets() -> Any:
    return jsonify(register_store.target_register(engine()))


@bp.post("/targets")
def add_target() -> Any:
    require_editor(principal())
    row_id = register_store.save_target(engine(), register_store.target_from(body()))
    return _created(_target(row_id))


@bp.get("/targets/<row_id>")
def get_target(row_id: str) -> Any:
    return jsonify(_target(_id(row_id, "optimisation target")))


@bp.put("/targets/<row_id>")
def change_target(row_id: str) -> Any:
    require_editor(principal())
    number = _id(row_id, "optimisation target")
    current = asdict(register_store.get_target(engine(), number))
    register_store.save_target(engine(), register_store.target_from(current | body()), number)
    return jsonify(_target(number))


@bp.delete("/targets/<row_id>")
def delete_target(row_id: str) -> Any:
    require_editor(principal())
    register_store.delete_target(engine(), _id(row_id, "optimisation target"))
    return Response(status=204)


@bp.get("/targets.csv")
def export_targets() -> Any:
    return csv_response(register_store.export_targets(engine()), "targets.csv")


@bp.post("/targets.csv")
def import_targets() -> Any:
    """A CSV of targets, added (``replace=true``: instead of the current ones)."""
    require_editor(principal())
    return jsonify(register_store.import_targets(engine(), _csv_body(), replace=bool_arg("replace")))


# -- scheduled processes -----------------------------------------------------------------------

@bp.get("/schedules")
def list_schedules() -> Any:
    return jsonify(schedules.list_schedules(engine()))


@bp.post("/schedules")
def add_schedule() -> Any:
    """``{"key": "plan_review", "every": "P3M"}`` (or ``cron``; neither: quarterly)."""
    require_editor(principal())
    payload = body()
    key, every, cron, data = (payload.get(n) for n in ("key", "every", "cron", "data"))
    if not isinstance(key, str) or not key:
        raise InvalidInput("'key' is required (the definition to start)")
    for name, value in (("every", every), ("cron", cron)):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"'{name}' must be a string")
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("'data' must be a JSON object")
    return _created(schedules.schedule(engine(), key, every or None, cron or None, data))


@bp.delete("/schedules/<schedule_id>")
def delete_schedule(schedule_id: str) -> Any:
    require_editor(principal())
    schedules.unschedule(engine(), _id(schedule_id, "process schedule"))
    return Response(status=204)
