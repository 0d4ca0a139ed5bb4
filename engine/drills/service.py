"""Drills through the Engine: run a simulated drill and store its report, start a live drill,
list reports, and the trend of achieved vs target per step across drills."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.drills import report as reports
from engine.drills.scenario import Scenario, check_against
from engine.drills.simulate import directory_yaml, run_simulated
from engine.errors import InvalidTransition, NotFound
from engine.store.models import CorrectiveActionRow, DrillReportRow


def human_task_ids(tasks_meta: dict[str, Any]) -> set[str]:
    return {bpmn_id for bpmn_id, meta in tasks_meta.items()
            if meta.get("kind") in ("userTask", "manualTask", "task")}


def run_drill(engine: Any, scenario: Scenario, pace: float | None = None, schedule_id: int | None = None,
              source: str = "scenario") -> dict[str, Any]:
    """Check the scenario, run it on a virtual clock, store the report (and its corrective
    actions); returns the report with its ``drill_id``."""
    definition = engine.definition(scenario.runbook)
    if not definition.executable:
        raise InvalidTransition(f"runbook '{scenario.runbook}' is model-only: it cannot be drilled")
    meta = engine.task_metadata(scenario.runbook)
    check_against(scenario, human_task_ids(meta), source)
    start = engine.clock.now()
    run = run_simulated(engine.diagram(scenario.runbook), scenario,
                        directory_yaml(engine.people(), engine.roles()), start, pace, new_engine=type(engine))
    body = reports.build(run.view, meta, scenario.source, "simulated", run.roles, run.stopped_reason)
    body["version"] = definition.version
    return store_report(engine, scenario.runbook, definition.version, "simulated", scenario.source, body,
                        schedule_id)


def store_report(engine: Any, key: str, version: int, kind: str, scenario: dict[str, Any],
                 body: dict[str, Any], schedule_id: int | None = None) -> dict[str, Any]:
    now = engine.clock.now()
    with engine.sessions.begin() as session:
        row = DrillReportRow(key=key, version=version, kind=kind, scenario=scenario, started_at=now,
                             finished_at=now, report=body, schedule_id=schedule_id)
        session.add(row)
        session.flush()
        for action in body["corrective_actions"]:
            session.add(CorrectiveActionRow(report_id=row.id, bpmn_id=action["bpmn_id"],
                                            owner_role=action["owner_role"], description=action["description"],
                                            status="open", created_at=now))
        body["drill_id"] = row.id
        row.report = dict(body)
    return body


def live_report(engine: Any, instance_id: str) -> dict[str, Any]:
    """Report of a live drill (real people, real time) so far or at its end; stored."""
    view = engine.show(instance_id)
    if not view.drill:
        raise InvalidTransition(f"instance {instance_id} is a real incident, not a drill")
    meta = engine.task_metadata(view.key, view.version)
    roles = {r.name: r.primary + r.backup for r in engine.roles()}
    body = reports.build(view, meta, {"live": True, "instance_id": instance_id}, "live", roles, None)
    return store_report(engine, view.key, view.version, "live", body["scenario"], body)


def list_reports(engine: Any, key: str | None = None) -> list[dict[str, Any]]:
    with engine.sessions() as session:
        query = select(DrillReportRow)
        if key:
            query = query.where(DrillReportRow.key == key)
        rows = session.scalars(query.order_by(DrillReportRow.id))
        return [_summary(r) for r in rows]


def _summary(row: DrillReportRow) -> dict[str, Any]:
    steps = row.report.get("steps", [])
    return {"drill_id": row.id, "runbook": row.key, "version": row.version, "kind": row.kind,
            "started_at": row.report.get("started_at"), "duration": row.report.get("duration"),
            "steps_met": sum(1 for s in steps if s.get("met") is True),
            "steps_missed": sum(1 for s in steps if s.get("met") is False),
            "escalations": len(row.report.get("escalations", []))}


def get_report(engine: Any, drill_id: int) -> dict[str, Any]:
    with engine.sessions() as session:
        row = session.get(DrillReportRow, drill_id)
        if row is None:
            raise NotFound(f"no drill report {drill_id}")
        return dict(row.report)


def trend(engine: Any, key: str) -> list[dict[str, Any]]:
    """Per step with a target: achieved vs target in each drill, oldest first."""
    series: dict[str, dict[str, Any]] = {}
    for summary in list_reports(engine, key):
        body = get_report(engine, summary["drill_id"])
        for step in body.get("steps", []):
            if not step.get("target"):
                continue
            entry = series.setdefault(step["bpmn_id"], {"bpmn_id": step["bpmn_id"], "name": step["name"],
                                                         "points": []})
            entry["points"].append({"drill_id": summary["drill_id"], "started_at": body.get("started_at"),
                                    "target": step["target"], "achieved": step["achieved"], "met": step["met"]})
    return list(series.values())
