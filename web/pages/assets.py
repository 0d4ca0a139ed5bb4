"""Front-end packages installed from the npm registry (``npm install``, see package.json),
served by the app itself — never from a CDN.  Only the bpmn-js viewer bundle and its CSS and
fonts are reachable."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, send_from_directory

from web.auth import settings

bp = Blueprint("assets", __name__)

VIEWER = "bpmn-navigated-viewer.production.min.js"
_ALLOWED_SUFFIXES = (".css", ".woff", ".woff2", ".ttf", ".eot", ".svg")


@bp.route("/assets/bpmn-js/<path:filename>")
def bpmn_js(filename: str) -> Any:
    if filename != VIEWER and not (filename.startswith("assets/") and filename.endswith(_ALLOWED_SUFFIXES)):
        abort(404)
    folder = settings().node_modules / "bpmn-js" / "dist"
    if not (folder / VIEWER).is_file():
        abort(404, description="bpmn-js is not installed: run `make install` (npm install) first.")
    return send_from_directory(folder, filename, max_age=86400)


#: Other front-end libraries, by URL name: (package folder, the only files served from it).
LIBRARIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "chart.js": ("chart.js/dist", ("chart.umd.min.js",)),                       # KPI trend charts
    "frappe-gantt": ("frappe-gantt/dist", ("frappe-gantt.umd.js", "frappe-gantt.css")),  # implementation plan
}


@bp.route("/assets/lib/<name>/<filename>")
def library(name: str, filename: str) -> Any:
    package = LIBRARIES.get(name)
    if package is None or filename not in package[1]:
        abort(404)
    folder = settings().node_modules / package[0]
    if not (folder / filename).is_file():
        abort(404, description=f"{name} is not installed: run `make install` (npm ci) first.")
    return send_from_directory(folder, filename, max_age=86400)
