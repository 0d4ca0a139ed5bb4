"""The OpenAPI description of /api/v1/compare, /risks, /targets and /schedules (web.api.analysis),
merged into the document by ``web.api.openapi``; the helpers are passed in to avoid a cycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_NSTR = {"type": "string", "nullable": True}
_NUM = {"type": "number", "nullable": True}
_OBJ = {"type": "object", "additionalProperties": True}
_ROW = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
_INT = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}

SCHEMAS: dict[str, Any] = {
    "ProcessFigures": {"type": "object", "properties": {
        "source": {"type": "string"}, "tasks": {"type": "integer"}, "human_tasks": {"type": "integer"},
        "automated_tasks": {"type": "integer"}, "handoffs": {"type": "integer"},
        "decision_points": {"type": "integer"}, "parallel_sections": {"type": "integer"},
        "critical_path": {"type": "string", "description": "ISO-8601 duration"},
        "critical_path_hours": {"type": "number"},
        "critical_path_tasks": {"type": "array", "items": {"type": "string"}},
        "processes": {"type": "array", "items": _OBJ}}, "additionalProperties": True},
    "Comparison": {"type": "object", "required": ["as_is", "to_be", "deltas", "summary"], "properties": {
        "as_is": {"$ref": "#/components/schemas/ProcessFigures"},
        "to_be": {"$ref": "#/components/schemas/ProcessFigures"},
        "deltas": _OBJ,
        "summary": {"type": "string", "example": "steps 5 → 3, critical path 48 h → 24 h, hand-offs 4 → 2"},
        "changes": {"type": "object", "description": "kept, renamed, merged, automated, parallelised, removed, added",
                    "additionalProperties": {"type": "array", "items": {}}},
        "keys": _OBJ,
        "simulation": {"type": "object", "description": "as_is and to_be: cycle time mean/p90 with 95% CI, "
                                                        "working and waiting time, utilisation per lane",
                       "additionalProperties": True},
        "plots": {"type": "object", "description": "SVG text: histogram (as_is, to_be) and box_plot",
                  "additionalProperties": True}}},
    "Risk": {"type": "object", "required": ["id", "risk", "likelihood", "impact"], "properties": {
        "row_id": {"type": "integer", "readOnly": True}, "id": {"type": "string", "maxLength": 40},
        "risk": {"type": "string"}, "likelihood": {"type": "integer", "minimum": 1, "maximum": 5},
        "impact": {"type": "integer", "minimum": 1, "maximum": 5}, "process": {"type": "string"},
        "steps": {"type": "string", "description": "BPMN ids or names, ';'-separated"},
        "runbook": {"type": "string"}, "controls": {"type": "string"}, "owner": {"type": "string"},
        "score": {"type": "integer", "readOnly": True},
        "level": {"type": "string", "enum": ["high", "medium", "low"], "readOnly": True}}},
    "RiskRegister": {"type": "object", "properties": {
        "risks": {"type": "array", "items": {"$ref": "#/components/schemas/Risk"}},
        "heat_map": {"type": "object", "description": "cells[likelihood - 1][impact - 1]: count, ids, level",
                     "additionalProperties": True}}},
    "OptimisationTarget": {"type": "object", "required": ["goal", "metric"], "properties": {
        "row_id": {"type": "integer", "readOnly": True}, "goal": {"type": "string"},
        "pain_point": {"type": "string"}, "expected_benefit": {"type": "string"},
        "key": {"type": "string", "description": "process key of the metric"}, "metric": {"type": "string"},
        "step": {"type": "string"}, "target": _NUM, "direction": {"type": "string", "enum": ["below", "above"]},
        "owner": {"type": "string"}, "deadline": {"type": "string", "format": "date", "nullable": True},
        "current": {**_NUM, "readOnly": True, "description": "the metric now, from observed KPIs"},
        "met": {"type": "boolean", "nullable": True, "readOnly": True},
        "overdue": {"type": "boolean", "readOnly": True}}},
    "ProcessSchedule": {"type": "object", "properties": {
        "id": {"type": "integer"}, "key": {"type": "string"}, "every": _NSTR, "cron": _NSTR,
        "enabled": {"type": "boolean"}, "data": _OBJ,
        "next_run_at": {"type": "string", "format": "date-time"},
        "last_run_at": {"type": "string", "format": "date-time", "nullable": True},
        "last_instance_id": _NSTR, "last_error": _NSTR}},
}


def paths(json_: Callable[..., Any], ref: Callable[[str], Any], errors: Callable[..., Any],
          path_param: Callable[..., Any], query: Callable[..., Any]) -> dict[str, Any]:
    csv = {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}
    csv_body = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    row = [{**path_param("row_id", "row id (from the list)"), "schema": _ROW}]
    deleted = {"204": {"description": "Deleted"}}

    def crud(name: str, schema: str, what: str) -> dict[str, Any]:
        body = {"required": True, "content": {"application/json": {"schema": ref(schema)}}}
        return {
            f"/{name}/{{row_id}}": {
                "get": {"operationId": f"get{schema}", "summary": f"One {what}", "parameters": row,
                        "responses": {"200": json_(ref(schema)), **errors(404)}},
                "put": {"operationId": f"change{schema}", "summary": f"Change a {what} (fields not given "
                        "keep their value; managers)", "parameters": row, "requestBody": body,
                        "responses": {"200": json_(ref(schema)), **errors(400, 403, 404)}},
                "delete": {"operationId": f"delete{schema}", "summary": f"Delete a {what} (managers)",
                           "parameters": row, "responses": {**deleted, **errors(403, 404)}}},
            f"/{name}.csv": {
                "get": {"operationId": f"export{schema}s", "summary": f"The {what}s as CSV",
                        "responses": {"200": csv, **errors()}},
                "post": {"operationId": f"import{schema}s", "summary": f"Import {what}s from CSV (managers)",
                         "parameters": [query("replace", "targets: replace the current ones", {"type": "boolean"})]
                         if name == "targets" else [], "requestBody": csv_body,
                         "responses": {"200": json_({"type": "object", "additionalProperties": {"type": "integer"}}),
                                       **errors(400, 403)}}}}

    return {
        "/compare": {
            "get": {"operationId": "compareProcesses",
                    "summary": "As-is vs to-be: figures, deltas, changes; optionally both simulated",
                    "parameters": [query("as_is", "as-is definition key (default order_handling_as_is)"),
                                   query("to_be", "to-be definition key (default order_handling_to_be)"),
                                   query("simulate", "simulated cases (0: no simulation)",
                                         {"type": "integer", "minimum": 0, "maximum": 10_000}),
                                   query("seed", "random seed: same seed, same figures",
                                         {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}),
                                   query("replications", "replications (default 5)",
                                         {"type": "integer", "minimum": 1, "maximum": 20}),
                                   query("plots", "include the SVG plots", {"type": "boolean"})],
                    "responses": {"200": json_(ref("Comparison")), **errors(400, 404)}}},
        "/risks": {
            "get": {"operationId": "listRisks", "summary": "The risk register with its heat map",
                    "responses": {"200": json_(ref("RiskRegister")), **errors()}},
            "post": {"operationId": "addRisk", "summary": "Add a risk (managers)",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": ref("Risk")}}},
                     "responses": {"201": json_(ref("Risk"), "Added"), **errors(400, 403)}}},
        "/targets": {
            "get": {"operationId": "listTargets",
                    "summary": "Optimisation targets, each with its metric's current value from observed KPIs",
                    "responses": {"200": json_({"type": "array", "items": ref("OptimisationTarget")}), **errors()}},
            "post": {"operationId": "addTarget", "summary": "Add an optimisation target (managers)",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": ref("OptimisationTarget")}}},
                     "responses": {"201": json_(ref("OptimisationTarget"), "Added"), **errors(400, 403)}}},
        **crud("risks", "Risk", "risk"),
        **crud("targets", "OptimisationTarget", "optimisation target"),
        "/schedules": {
            "get": {"operationId": "listSchedules", "summary": "Processes started on a schedule (the plan review)",
                    "responses": {"200": json_({"type": "array", "items": ref("ProcessSchedule")}), **errors()}},
            "post": {"operationId": "addSchedule", "summary": "Start a process on a schedule (managers)",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["key"], "properties": {
                             "key": {"type": "string", "minLength": 1}, "every": {"type": "string"},
                             "cron": {"type": "string"}, "data": _OBJ}}}}},
                     "responses": {"201": json_(ref("ProcessSchedule"), "Scheduled"), **errors(400, 403, 404)}}},
        "/schedules/{schedule_id}": {
            "delete": {"operationId": "deleteSchedule", "summary": "Stop a schedule (managers)",
                       "parameters": [{**path_param("schedule_id", "schedule id"), "schema": _INT}],
                       "responses": {**deleted, **errors(403, 404)}}},
    }
