"""/api/v1/definitions: list (latest or all versions), upload (multipart, admin), source."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from engine.errors import ImportProblem, ImportRejected
from web.api import bool_arg, bp, int_arg, principal
from web.auth import engine, require_admin
from web.pages.definitions import _ascii, import_uploads, uploaded_files


@bp.get("/definitions")
def list_definitions() -> Any:
    return jsonify([d.to_json() for d in engine().definitions(all_versions=bool_arg("all_versions"))])


@bp.post("/definitions")
def upload() -> Any:
    """multipart/form-data with one or more ``files``; ``each=true`` imports file by file
    (default: one all-or-nothing deployment).  Body as `contiflow import --json`."""
    require_admin(principal())
    each = request.form.get("each", "").lower() in ("1", "true", "on")
    imported, rejected = import_uploads(uploaded_files(), each=each)
    if rejected and not imported:
        raise ImportRejected([ImportProblem(r["file"], r["message"], r["line"], r["element_id"]) for r in rejected])
    response = jsonify({"imported": imported, "rejected": rejected})
    response.status_code = 201 if any(i["new_version"] for i in imported) else 200
    return response


@bp.get("/definitions/<key>/source")
def source(key: str) -> Any:
    name, data = engine().diagram(key, int_arg("version"))
    response = Response(data, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{_ascii(name)}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
