"""The plan registers kept in the database: risks and optimisation targets, editable one by one
and imported or exported as CSV (the same columns as ``registers``).

Entries travel as the ``registers`` dataclasses (``Risk``, ``Target``) plus their database id.
A risk's ``id`` is the register's own reference (``R1``…), unique; a target is known by its
row id.  Validation is the CSV reader's, so a form, the API and a CSV file refuse the same
values with the same words.  Importing a CSV upserts risks by reference and, for targets,
replaces the register (``replace=True``) or appends to it.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import date
from typing import Any

from sqlalchemy import delete, select

from engine.analysis import registers
from engine.analysis.history import load_history
from engine.analysis.kpis import METRICS, process_kpis
from engine.analysis.registers import Risk, Target
from engine.errors import InvalidInput, NotFound
from engine.store.models import OptimisationTargetRow, RiskRow

_RISK_TEXT = ("process", "steps", "runbook", "controls", "owner")
_TARGET_TEXT = ("pain_point", "expected_benefit", "key", "step", "owner")
_MAX_TEXT = {"ref": 40, "process": 255, "runbook": 255, "owner": 255, "key": 255, "step": 255}


# -- conversion and validation -----------------------------------------------------------------

def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    text = "" if value is None else str(value).strip()
    limit = _MAX_TEXT.get(name)
    if limit and len(text) > limit:
        raise InvalidInput(f"'{name}' is longer than {limit} characters")
    return text


def risk_from(values: dict[str, Any]) -> Risk:
    """A Risk from form or JSON values (strings or numbers); InvalidInput names the field."""
    ref = _text(values, "id") or _text(values, "ref")
    if len(ref) > _MAX_TEXT["ref"]:
        raise InvalidInput(f"'id' is longer than {_MAX_TEXT['ref']} characters")
    text = _text(values, "risk")
    if not ref:
        raise InvalidInput("'id' is required (the register's reference, e.g. R1)")
    if not text:
        raise InvalidInput("'risk' is required (what could happen)")
    scores = {}
    for name in ("likelihood", "impact"):
        raw = values.get(name)
        try:
            number = int(str(raw).strip()) if not isinstance(raw, bool) else 0
        except (TypeError, ValueError):
            number = 0
        if not 1 <= number <= 5:
            raise InvalidInput(f"'{name}' must be a whole number from 1 to 5, not {raw!r}")
        scores[name] = number
    return Risk(id=ref, risk=text, likelihood=scores["likelihood"], impact=scores["impact"],
                **{n: _text(values, n) for n in _RISK_TEXT})


def target_from(values: dict[str, Any]) -> Target:
    goal, metric = _text(values, "goal"), _text(values, "metric")
    if not goal:
        raise InvalidInput("'goal' is required")
    if metric not in METRICS:
        raise InvalidInput(f"'metric' must be one of {', '.join(METRICS)}")
    raw_target, raw_deadline = values.get("target"), values.get("deadline")
    try:
        value = None if raw_target in (None, "") else float(raw_target)
    except (TypeError, ValueError):
        raise InvalidInput(f"'target' must be a number, not {raw_target!r}") from None
    try:
        deadline = None if raw_deadline in (None, "") else (
            raw_deadline if isinstance(raw_deadline, date) else date.fromisoformat(str(raw_deadline)))
    except ValueError:
        raise InvalidInput(f"'deadline' must be a date (YYYY-MM-DD), not {raw_deadline!r}") from None
    direction = _text(values, "direction") or "below"
    if direction not in ("below", "above"):
        raise InvalidInput("'direction' must be 'below' or 'above'")
    return Target(goal=goal, metric=metric, target=value, deadline=deadline, direction=direction,
                  **{n: _text(values, n) for n in _TARGET_TEXT})


def _risk(row: RiskRow) -> Risk:
    return Risk(id=row.ref, risk=row.risk, likelihood=row.likelihood, impact=row.impact,
                **{n: getattr(row, n) or "" for n in _RISK_TEXT})


def _target(row: OptimisationTargetRow) -> Target:
    return Target(**{f.name: getattr(row, f.name) for f in fields(Target)})


def risk_json(row_id: int, risk: Risk) -> dict[str, Any]:
    return {"row_id": row_id, **registers.risk_json(risk)}


# -- risks -------------------------------------------------------------------------------------

def list_risks(engine: Any) -> list[tuple[int, Risk]]:
    """(row id, risk), highest score first, then by reference."""
    with engine.sessions() as session:
        rows = session.scalars(select(RiskRow)).all()
        pairs = [(r.id, _risk(r)) for r in rows]
    return sorted(pairs, key=lambda p: (-p[1].score, p[1].id))


def get_risk(engine: Any, row_id: int) -> Risk:
    with engine.sessions() as session:
        row = session.get(RiskRow, row_id)
        if row is None:
            raise NotFound(f"no risk {row_id}")
        return _risk(row)


def save_risk(engine: Any, risk: Risk, row_id: int | None = None) -> int:
    """Add (``row_id`` None) or change a risk; its reference must stay unique."""
    now = engine.clock.now()
    with engine.sessions.begin() as session:
        clash = session.scalars(select(RiskRow.id).where(RiskRow.ref == risk.id)).first()
        if clash is not None and clash != row_id:
            raise InvalidInput(f"a risk with id '{risk.id}' exists already")
        if row_id is None:
            row = RiskRow(created_at=now)
            session.add(row)
        else:
            row = _existing(session, RiskRow, row_id, "risk")
        row.ref, row.risk, row.likelihood, row.impact = risk.id, risk.risk, risk.likelihood, risk.impact
        for name in _RISK_TEXT:
            setattr(row, name, getattr(risk, name))
        row.updated_at = now
        session.flush()
        return row.id


def delete_risk(engine: Any, row_id: int) -> None:
    _delete(engine, RiskRow, row_id, "risk")


def import_risks(engine: Any, text: str) -> dict[str, int]:
    """Upsert every risk of a CSV register by its id: (added, updated).  All or nothing."""
    risks = registers.read_risks(text)
    seen: set[str] = set()
    for risk in risks:
        if risk.id in seen:
            raise InvalidInput(f"risk CSV: id '{risk.id}' appears twice")
        seen.add(risk.id)
        risk_from(asdict(risk))                     # the same length limits as the form
    now = engine.clock.now()
    added = updated = 0
    with engine.sessions.begin() as session:
        existing = {r.ref: r for r in session.scalars(select(RiskRow))}
        for risk in risks:
            row = existing.get(risk.id)
            if row is None:
                row = RiskRow(created_at=now, ref=risk.id)
                session.add(row)
                added += 1
            else:
                updated += 1
            row.risk, row.likelihood, row.impact, row.updated_at = risk.risk, risk.likelihood, risk.impact, now
            for name in _RISK_TEXT:
                setattr(row, name, getattr(risk, name))
    return {"added": added, "updated": updated}


def export_risks(engine: Any) -> str:
    return registers.write_csv([r for _, r in list_risks(engine)], Risk)


def risk_register(engine: Any) -> dict[str, Any]:
    """The register as JSON (``risks`` with row ids, score and level) and its ``heat_map``."""
    pairs = list_risks(engine)
    return {"risks": [risk_json(i, r) for i, r in pairs], "heat_map": registers.heat_map([r for _, r in pairs])}


# -- targets -----------------------------------------------------------------------------------

def list_targets(engine: Any) -> list[tuple[int, Target]]:
    with engine.sessions() as session:
        return [(r.id, _target(r)) for r in session.scalars(
            select(OptimisationTargetRow).order_by(OptimisationTargetRow.id))]


def get_target(engine: Any, row_id: int) -> Target:
    with engine.sessions() as session:
        row = session.get(OptimisationTargetRow, row_id)
        if row is None:
            raise NotFound(f"no optimisation target {row_id}")
        return _target(row)


def _fill(row: OptimisationTargetRow, target: Target) -> None:
    for f in fields(Target):
        setattr(row, f.name, getattr(target, f.name))


def save_target(engine: Any, target: Target, row_id: int | None = None) -> int:
    now = engine.clock.now()
    with engine.sessions.begin() as session:
        if row_id is None:
            row = OptimisationTargetRow(created_at=now)
            session.add(row)
        else:
            row = _existing(session, OptimisationTargetRow, row_id, "optimisation target")
        _fill(row, target)
        row.updated_at = now
        session.flush()
        return row.id


def delete_target(engine: Any, row_id: int) -> None:
    _delete(engine, OptimisationTargetRow, row_id, "optimisation target")


def _existing(session: Any, model: Any, row_id: int, what: str) -> Any:
    found = session.get(model, row_id)
    if found is None:
        raise NotFound(f"no {what} {row_id}")
    return found


def _delete(engine: Any, model: Any, row_id: int, what: str) -> None:
    with engine.sessions.begin() as session:
        if session.execute(delete(model).where(model.id == row_id)).rowcount != 1:
            raise NotFound(f"no {what} {row_id}")


def import_targets(engine: Any, text: str, replace: bool = False) -> dict[str, int]:
    """Add every target of a CSV file (``replace``: instead of the current ones).  All or nothing."""
    targets = [target_from(asdict(t)) for t in registers.read_targets(text)]
    now = engine.clock.now()
    with engine.sessions.begin() as session:
        removed = session.execute(delete(OptimisationTargetRow)).rowcount if replace else 0
        for target in targets:
            row = OptimisationTargetRow(created_at=now, updated_at=now)
            _fill(row, target)
            session.add(row)
    return {"added": len(targets), "removed": int(removed or 0)}


def export_targets(engine: Any) -> str:
    return registers.write_csv([t for _, t in list_targets(engine)], Target)


def target_register(engine: Any) -> list[dict[str, Any]]:
    """Each target with its row id and its metric's current value from the observed KPIs."""
    pairs = list_targets(engine)
    kpis = [record for key in sorted({t.key for _, t in pairs if t.key})      # only the processes named
            for record in process_kpis(*load_history(engine.sessions, key))]
    progress = registers.target_progress([t for _, t in pairs], kpis, engine.clock.now().date())
    return [{"row_id": i, **p} for (i, _), p in zip(pairs, progress, strict=True)]
