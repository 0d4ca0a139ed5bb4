"""Definitions: the list with versions, the diagram of each version, and (admins) upload of
BPMN/DMN files through the same import as the CLI, with the same precise errors."""

from __future__ import annotations

import os
from itertools import groupby
from typing import Any

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import FileStorage

from engine.errors import InvalidInput
from web.auth import current, engine, login_required, require_admin
from web.errors import UploadTooLarge

bp = Blueprint("definitions", __name__)


def _grouped() -> list[tuple[str, list[Any]]]:
    views = sorted(engine().definitions(all_versions=True), key=lambda d: (d.key, -d.version))
    return [(key, list(items)) for key, items in groupby(views, key=lambda d: d.key)]


@bp.route("/definitions")
@login_required
def index() -> Any:
    return render_template("definitions.html", groups=_grouped())


def uploaded_files() -> list[tuple[str, bytes]]:
    """The uploaded model files; a file over CONTIFLOW_MAX_MODEL_BYTES is refused (413) by
    name before anything is parsed or stored, and read no further than the limit."""
    limit = engine().config.max_model_bytes
    files = []
    for f in request.files.getlist("files"):
        if not (f and f.filename):
            continue
        data = f.read(limit + 1)
        if len(data) > limit:
            raise UploadTooLarge(f.filename, limit, _size(f))
        files.append((f.filename, data))
    if not files:
        raise InvalidInput("choose at least one BPMN or DMN file to upload")
    return files


def _size(upload: FileStorage) -> int | None:
    try:
        return upload.stream.seek(0, os.SEEK_END)
    except (OSError, ValueError, AttributeError):
        return None


def import_uploads(files: list[tuple[str, bytes]], each: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(imported, rejected) exactly as `contiflow import [--each]` reports them."""
    return engine().import_report(files, each)


@bp.route("/definitions", methods=["POST"])
@login_required
def upload() -> Any:
    require_admin(current())
    try:
        files = uploaded_files()
    except InvalidInput as exc:
        return render_template("definitions.html", groups=_grouped(), upload_error=str(exc)), 400
    except UploadTooLarge as exc:
        return render_template("definitions.html", groups=_grouped(), upload_error=exc.description), 413
    imported, rejected = import_uploads(files, each=request.form.get("each") == "on")
    status = 422 if rejected and not imported else 200
    return render_template("definitions.html", groups=_grouped(), imported=imported, rejected=rejected), status


@bp.route("/definitions/<key>")
@bp.route("/definitions/<key>/<int(min=1, max=2147483647):version>")
@login_required
def show(key: str, version: int | None = None) -> Any:
    versions = [d for d in engine().definitions(all_versions=True) if d.key == key]
    chosen = next((d for d in versions if d.version == version), None) if version else \
        max(versions, key=lambda d: d.version, default=None)
    if chosen is None:
        engine().diagram(key, version)          # raises NotFound with the engine's message
    return render_template("definition.html", definition=chosen,
                           versions=sorted(versions, key=lambda d: -d.version))


@bp.route("/definitions/<key>/<int(min=1, max=2147483647):version>/source")
@login_required
def source(key: str, version: int) -> Any:
    """The original file, for bpmn-js.  Served as plain text in a sandbox: an uploaded file
    must never run as a page of this site."""
    name, data = engine().diagram(key, version)
    response = Response(data, mimetype="text/plain")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Content-Disposition"] = f'inline; filename="{_ascii(name)}"'
    return response


def _ascii(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isascii() and (c.isalnum() or c in "._-")) or "model.bpmn"
