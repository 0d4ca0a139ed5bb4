"""The OpenAPI 3 document of /api/v1, written by hand next to the routes it describes
(a test checks that it validates and names every API route)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from web.api import analysis_openapi, bp


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid input or CSRF check failed", 401: "No valid session or token", 403: "Forbidden",
            404: "Not found", 409: "Conflict (already completed, changed meanwhile, wrong state)",
            422: "Import rejected or script error", 413: "Upload too large"}
    return {str(c): _problem(text[c]) for c in (401, *codes)}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


_NSTR = {"type": "string", "nullable": True}
_NTIME = {"type": "string", "format": "date-time", "nullable": True}
_OBJ = {"type": "object", "additionalProperties": True}
_TASK_ID = _path_param("task_id", "task id (from the inbox)")
_INSTANCE_ID = _path_param("instance_id", "instance id")
_DATA_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {"data": _OBJ}, "additionalProperties": True}}}}

SCHEMAS: dict[str, Any] = {
    "Problem": {"type": "object", "required": ["type", "title", "status"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "form field -> message"},
        "problems": {"type": "array", "items": _ref("ImportProblem")},
        "file": {"type": "string", "description": "413: the uploaded file over the limit"},
        "limit": {"type": "integer", "description": "413: the limit in bytes"}}},
    "ImportProblem": {"type": "object", "properties": {
        "file": {"type": "string"}, "line": {"type": "integer", "nullable": True}, "element_id": _NSTR,
        "message": {"type": "string"}}},
    "FormField": {"type": "object", "properties": {
        "id": {"type": "string"}, "label": {"type": "string"},
        "type": {"type": "string", "enum": ["string", "long", "number", "boolean", "date", "enum"]},
        "required": {"type": "boolean"}, "default": {"nullable": True},
        "options": {"type": "array", "items": {"type": "object", "properties": {
            "value": {"type": "string"}, "label": {"type": "string"}}}},
        "constraints": {"type": "object", "description": "present when the model sets any", "properties": {
            "min": {}, "max": {}, "minlength": {"type": "integer"}, "maxlength": {"type": "integer"},
            "readonly": {"type": "boolean"}}}}},
    "Task": {"type": "object", "required": ["task_id", "instance_id", "bpmn_id", "name"], "properties": {
        "task_id": {"type": "string"}, "instance_id": {"type": "string"}, "bpmn_id": {"type": "string"},
        "name": {"type": "string"}, "role": _NSTR, "due_at": _NTIME, "ready_at": _NTIME,
        "form": {"type": "array", "items": _ref("FormField")}, "claimed_by": _NSTR,
        "key": _NSTR, "business_key": _NSTR, "claimed_by_me": {"type": "boolean"}}},
    "TaskState": {"allOf": [_ref("Task"), {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["open", "completed", "cancelled"]},
        "completed_by": _NSTR, "completed_at": _NTIME, "ended_at": _NTIME}}]},
    "InstanceSummary": {"type": "object", "required": ["instance_id", "key", "status"], "properties": {
        "instance_id": {"type": "string"}, "key": {"type": "string"}, "version": {"type": "integer"},
        "status": {"type": "string", "enum": ["running", "completed", "incident", "cancelled"]},
        "business_key": _NSTR, "started_at": {"type": "string", "format": "date-time"}, "ended_at": _NTIME,
        "speed": {"type": "number", "nullable": True}}},
    "Instance": {"allOf": [_ref("InstanceSummary"), {"type": "object", "properties": {
        "timeline": {"type": "array", "items": _ref("TimelineEvent")},
        "tasks": {"type": "array", "items": _ref("Task")},
        "incidents": {"type": "array", "items": _OBJ}, "timers": {"type": "array", "items": _OBJ},
        "targets": {"type": "array", "items": _ref("Target")},
        "data": {"type": "object", "nullable": True, "additionalProperties": True}}}]},
    "TimelineEvent": {"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"}, "wall_at": {"type": "string", "format": "date-time"},
        "offset": {"type": "string", "description": "ISO-8601 duration from the start"},
        "kind": {"type": "string"}, "actor": _NSTR, "bpmn_id": _NSTR, "detail": _OBJ}},
    "Target": {"type": "object", "properties": {
        "bpmn_id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
        "target": {"type": "string"}, "done_offset": _NSTR,
        "status": {"type": "string", "enum": ["met", "missed", "open", "not_needed", "cancelled"]}, "met": {"type": "boolean"}}},
    "Definition": {"type": "object", "properties": {
        "key": {"type": "string"}, "version": {"type": "integer"}, "name": {"type": "string"},
        "executable": {"type": "boolean"}, "sha256": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "properties": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "ImportResult": {"type": "object", "properties": {
        "imported": {"type": "array", "items": {"type": "object", "properties": {
            "file": {"type": "string"}, "key": {"type": "string"}, "version": {"type": "integer"},
            "executable": {"type": "boolean"}, "new_version": {"type": "boolean"},
            "warnings": {"type": "array", "items": {"type": "string"}}}}},
        "rejected": {"type": "array", "items": _ref("ImportProblem")}}},
    "StartRequest": {"type": "object", "required": ["key"], "properties": {
        "key": {"type": "string", "minLength": 1}, "data": _OBJ,
        "business_key": {"type": "string", "maxLength": 255}}},
    "InstanceStatus": {"type": "object", "properties": {
        "instance_id": {"type": "string"}, "status": {"type": "string"},
        "retried": {"type": "array", "items": {"type": "string"}}}},
    "CompleteResult": {"type": "object", "properties": {
        "task_id": {"type": "string"}, "instance_id": {"type": "string"}, "status": {"type": "string"},
        "tasks": {"type": "array", "items": _ref("Task")}}},
    "AlertOutcome": {"type": "object", "properties": {
        "fingerprint": {"type": "string"}, "incident_type": _NSTR, "instance_id": _NSTR,
        "action": {"type": "string", "enum": ["started", "already_open", "no_runbook", "resolved_ignored"]}}},
    "Person": {"type": "object", "properties": {
        "username": {"type": "string"}, "name": {"type": "string"}, "email": _NSTR, "webhook": _NSTR,
        "admin": {"type": "boolean"}}},
    "Role": {"type": "object", "properties": {
        "name": {"type": "string"}, "description": {"type": "string"},
        "primary": {"type": "array", "items": {"type": "string"}},
        "backup": {"type": "array", "items": {"type": "string"}}, "webhook": _NSTR}},
    "Me": {"type": "object", "properties": {
        "username": {"type": "string"}, "name": {"type": "string"}, "admin": {"type": "boolean"},
        "manager": {"type": "boolean"}, "roles": {"type": "array", "items": {"type": "string"}},
        "via": {"type": "string", "enum": ["session", "token"]}}},
}

PATHS: dict[str, Any] = {
    "/definitions": {
        "get": {"operationId": "listDefinitions", "summary": "Process definitions (latest versions)",
                "parameters": [_query("all_versions", "every version, not only the latest",
                                      {"type": "boolean"})],
                "responses": {"200": _json({"type": "array", "items": _ref("Definition")}), **_errors(400)}},
        "post": {"operationId": "uploadDefinitions", "summary": "Import BPMN/DMN files and SpiffArena JSON form "
                                                       "schemas (administrators)",
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["files"], "properties": {
                         "files": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"}},
                         "each": {"type": "boolean", "description": "one deployment per file"}}}}}},
                 "responses": {"200": _json(_ref("ImportResult"), "Imported (nothing new)"),
                               "201": _json(_ref("ImportResult"), "Imported"), **_errors(400, 403, 413, 422)}}},
    "/definitions/{key}/source": {
        "get": {"operationId": "definitionSource", "summary": "The original BPMN file of a definition",
                "parameters": [_path_param("key", "definition key"), _query("version", "version (default: latest)",
                                                                            {"type": "integer", "minimum": 1,
                                                                             "maximum": 2**31 - 1})],
                "responses": {"200": {"description": "BPMN XML", "content": {"application/xml": {
                    "schema": {"type": "string"}}}}, **_errors(400, 404)}}},
    "/instances": {
        "get": {"operationId": "listInstances", "summary": "Instances, newest first",
                "parameters": [_query("status", "filter by status", {"type": "string", "enum": [
                    "running", "completed", "incident", "cancelled"]}), _query("key", "filter by definition key")],
                "responses": {"200": _json({"type": "array", "items": _ref("InstanceSummary")}), **_errors(400)}},
        "post": {"operationId": "startInstance", "summary": "Declare an incident: start a runbook (managers); "
                 "data is checked against its start form (400 with errors per field)",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("StartRequest")}}},
                 "responses": {"201": _json(_ref("InstanceStatus"), "Started"), **_errors(400, 403, 404, 409, 422)}}},
    "/instances/{instance_id}": {
        "get": {"operationId": "getInstance", "summary": "Status, timeline, open tasks, incidents, targets",
                "parameters": [_INSTANCE_ID],
                "responses": {"200": _json(_ref("Instance")), **_errors(404)}}},
    "/instances/{instance_id}/states": {
        "get": {"operationId": "instanceElementStates", "summary": "Live state per BPMN element (for the diagram)",
                "parameters": [_INSTANCE_ID],
                "responses": {"200": _json({"type": "object", "additionalProperties": {"type": "string", "enum": [
                    "completed", "active", "overdue", "failed", "cancelled"]}}), **_errors(404)}}},
    "/instances/{instance_id}/cancel": {
        "post": {"operationId": "cancelInstance", "summary": "Cancel a running instance (managers)",
                 "parameters": [_INSTANCE_ID],
                 "responses": {"200": _json(_ref("InstanceStatus")), **_errors(400, 403, 404, 409)}}},
    "/instances/{instance_id}/retry": {
        "post": {"operationId": "retryInstance", "summary": "Retry an instance in incident (managers)",
                 "parameters": [_INSTANCE_ID], "requestBody": _DATA_BODY,
                 "responses": {"200": _json(_ref("InstanceStatus")), **_errors(400, 403, 404, 409, 422)}}},
    "/tasks": {
        "get": {"operationId": "listTasks",
                "summary": "The caller's inbox: tasks of their roles, earliest deadline first",
                "parameters": [_query("instance", "only this instance"), _query("role", "only this role"),
                               _query("key", "only this runbook (definition key)"),
                               _query("limit", "at most this many",
                                      {"type": "integer", "minimum": 1, "maximum": 2**31 - 1})],
                "responses": {"200": _json({"type": "array", "items": _ref("Task")}), **_errors(400)}}},
    "/tasks/{task_id}": {
        "get": {"operationId": "getTask", "summary": "One task: open, or from the audit trail once "
                "completed (completed_by, completed_at) or cancelled; 404 only for unknown ids",
                "parameters": [_TASK_ID], "responses": {"200": _json(_ref("TaskState")), **_errors(403, 404)}}},
    "/tasks/{task_id}/claim": {
        "post": {"operationId": "claimTask", "summary": "Take a task (others see who holds it)",
                 "parameters": [_TASK_ID], "responses": {"200": _json(_ref("Task")), **_errors(403, 404, 409)}}},
    "/tasks/{task_id}/unclaim": {
        "post": {"operationId": "unclaimTask", "summary": "Release a task you hold",
                 "parameters": [_TASK_ID], "responses": {"200": _json(_ref("Task")), **_errors(403, 404)}}},
    "/tasks/{task_id}/complete": {
        "post": {"operationId": "completeTask", "summary": "Complete a task with its form data",
                 "parameters": [_TASK_ID], "requestBody": _DATA_BODY,
                 "responses": {"200": _json(_ref("CompleteResult")), **_errors(400, 403, 404, 409, 422)}}},
    "/alerts": {
        "post": {"operationId": "alertmanagerWebhook",
                 "summary": "Alertmanager webhook: each firing alert starts the runbook of its incident_type",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["alerts"], "properties": {
                         "status": {"type": "string"}, "alerts": {"type": "array", "items": _OBJ}}}}}},
                 "responses": {"200": _json({"type": "array", "items": _ref("AlertOutcome")}),
                               **_errors(400, 403, 404, 409, 422)}}},
    "/people": {
        "get": {"operationId": "listPeople", "summary": "The people directory (administrators)",
                "responses": {"200": _json({"type": "object", "properties": {
                    "users": {"type": "array", "items": _ref("Person")},
                    "roles": {"type": "array", "items": _ref("Role")}}}), **_errors(403)}}},
    "/roles": {
        "get": {"operationId": "listRoles", "summary": "Roles with primary and backup members",
                "responses": {"200": _json({"type": "array", "items": _ref("Role")}), **_errors()}}},
    "/me": {
        "get": {"operationId": "whoAmI", "summary": "The caller: name, roles, rights",
                "responses": {"200": _json(_ref("Me")), **_errors()}}},
    **analysis_openapi.paths(_json, _ref, _errors, _path_param, _query),
}
SCHEMAS.update(analysis_openapi.SCHEMAS)


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "contiflow API", "version": "1",
                 "description": "Runbooks, incidents and tasks of contiflow. Authenticate with "
                                "`Authorization: Bearer <token>` (CONTIFLOW_API_TOKENS) or the browser session "
                                "(unsafe methods then need the page's X-CSRFToken header). "
                                "Errors are problem details (RFC 7807)."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "contiflow_session"}}},
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())
