"""The plan's registers: optimisation targets and the risk register, as CSV in and out.

Targets (goal, pain point, expected benefit, metric, owner, deadline) name an observed KPI
(``key`` + ``metric`` [+ ``step``]) and a ``target`` value, so progress is read, not typed.
Risks carry likelihood × impact on 1–5 scales; the score gives the level (high ≥ 15, medium
≥ 5, else low) and the heat map counts risks per cell.  Exported cells that a spreadsheet
would run as formulas are prefixed with a quote (CSV injection).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from typing import Any

from engine.analysis.kpis import metric
from engine.errors import InvalidInput


@dataclass
class Target:
    goal: str
    pain_point: str = ""
    expected_benefit: str = ""
    key: str = ""
    metric: str = ""
    step: str = ""
    target: float | None = None      # the metric should reach this value (lower is better unless
    direction: str = "below"         # direction 'above')
    owner: str = ""
    deadline: date | None = None


@dataclass
class Risk:
    id: str
    risk: str
    likelihood: int
    impact: int
    process: str = ""
    steps: str = ""                  # BPMN ids or names, ';'-separated
    runbook: str = ""
    controls: str = ""
    owner: str = ""

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def level(self) -> str:
        return "high" if self.score >= 15 else "medium" if self.score >= 5 else "low"


def _cell(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _rows(text: str, required: tuple[str, ...], what: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [r for r in required if r not in header]
        if missing:
            raise InvalidInput(f"{what} CSV: missing column(s) {', '.join(missing)}")
        out = []
        for row in reader:
            clean = {(k or "").strip().lower(): _text(v) for k, v in row.items()}
            if any(clean.values()):
                out.append((reader.line_num, clean))
    except csv.Error as exc:
        raise InvalidInput(f"{what} CSV line {reader.line_num}: {exc}") from None
    return out


def _text(value: str | list[str] | None) -> str:
    """A cell; cells beyond the header (DictReader's list under key None) are joined."""
    if isinstance(value, list):
        return ",".join(v.strip() for v in value if v).strip()
    return (value or "").strip()


def _int_1_5(value: str, name: str, line: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 5:
        raise InvalidInput(f"risk CSV line {line}: {name} must be a whole number from 1 to 5, not {value!r}")
    return number


def read_risks(text: str) -> list[Risk]:
    risks: list[Risk] = []
    for line, row in _rows(text, ("id", "risk", "likelihood", "impact"), "risk"):
        risks.append(Risk(id=row["id"] or f"R{len(risks) + 1}", risk=row["risk"],
                          likelihood=_int_1_5(row["likelihood"], "likelihood", line),
                          impact=_int_1_5(row["impact"], "impact", line),
                          **{f.name: row.get(f.name, "") for f in fields(Risk)
                             if f.name not in ("id", "risk", "likelihood", "impact")}))
    return risks


def read_targets(text: str) -> list[Target]:
    targets = []
    for line, row in _rows(text, ("goal", "metric"), "target"):
        try:
            value = float(row["target"]) if row.get("target") else None
            deadline = date.fromisoformat(row["deadline"]) if row.get("deadline") else None
        except ValueError as exc:
            raise InvalidInput(f"target CSV line {line}: {exc}") from None
        direction = row.get("direction") or "below"
        if direction not in ("below", "above"):
            raise InvalidInput(f"target CSV line {line}: direction must be 'below' or 'above'")
        targets.append(Target(goal=row["goal"], pain_point=row.get("pain_point", ""),
                              expected_benefit=row.get("expected_benefit", ""), key=row.get("key", ""),
                              metric=row["metric"], step=row.get("step", ""), target=value,
                              direction=direction, owner=row.get("owner", ""), deadline=deadline))
    return targets


def write_csv(items: list[Any], kind: type) -> str:
    names = [f.name for f in fields(kind)] + (["score", "level"] if kind is Risk else [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for item in items:
        writer.writerow([_cell(getattr(item, n)) for n in names])
    return out.getvalue()


def risk_json(risk: Risk) -> dict[str, Any]:
    return asdict(risk) | {"score": risk.score, "level": risk.level}


def heat_map(risks: list[Risk]) -> dict[str, Any]:
    """Counts and ids per cell: ``cells[likelihood - 1][impact - 1]``, plus the level of each cell."""
    cells: list[list[dict[str, Any]]] = [
        [{"count": 0, "ids": [], "level": Risk("", "", li, im).level} for im in range(1, 6)] for li in range(1, 6)]
    for risk in risks:
        cell = cells[risk.likelihood - 1][risk.impact - 1]
        cell["count"] += 1
        cell["ids"].append(risk.id)
    levels = {lvl: sum(1 for r in risks if r.level == lvl) for lvl in ("high", "medium", "low")}
    return {"rows": "likelihood 1..5", "columns": "impact 1..5", "cells": cells, "levels": levels}


def target_progress(targets: list[Target], kpis: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Each target with its current value from the observed KPIs and whether it is met."""
    by_key = {k["key"]: k for k in kpis}
    out = []
    for t in targets:
        record = by_key.get(t.key)
        value = metric(record, t.metric, t.step or None) if record else None
        met = None if value is None or t.target is None else (
            value <= t.target if t.direction == "below" else value >= t.target)
        overdue = bool(t.deadline and today > t.deadline and not met)
        out.append(asdict(t) | {"deadline": t.deadline.isoformat() if t.deadline else None,
                                "current": value, "met": met, "overdue": overdue})
    return out


def next_review(last: date, months: int = 3) -> date:
    """The quarterly review date after ``last`` (same day of month, clamped to month end)."""
    month = last.month - 1 + months
    year, month = last.year + month // 12, month % 12 + 1
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return min(date(year, month, 1) + timedelta(days=last.day - 1), first_next - timedelta(days=1))
