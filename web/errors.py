"""The one place where engine errors become HTTP status codes, and where every error becomes
either a problem-details document (RFC 7807, for /api/) or an HTML error page."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from engine.errors import (
    Conflict,
    EngineError,
    ImportRejected,
    InvalidInput,
    InvalidTransition,
    NotFound,
    ScriptError,
    ServiceError,
)

log = logging.getLogger(__name__)

#: most specific first; the first matching class wins
STATUS: list[tuple[type[EngineError], int, str]] = [
    (ImportRejected, 422, "import-rejected"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (InvalidTransition, 409, "invalid-transition"),
    (InvalidInput, 400, "invalid-input"),
    (ScriptError, 422, "script-error"),
    (ServiceError, 502, "service-error"),
    (EngineError, 400, "engine-error"),
]

PROBLEM_BASE = "urn:contiflow:problem:"


class Forbidden(Exception):
    """The signed-in user may not see or do this (403)."""


class Unauthorized(Exception):
    """No valid session or token (401 for the API; the pages redirect to the login form)."""


class UploadTooLarge(RequestEntityTooLarge):
    """One uploaded file is over the model size limit (413, naming the file and the limit)."""

    def __init__(self, file: str, limit: int, size: int | None = None):
        self.file, self.limit, self.size = file, limit, size
        got = f" ({size} bytes)" if size is not None else ""
        super().__init__(f"{file}{got} is larger than the limit of {limit} bytes per file "
                         "(CONTIFLOW_MAX_MODEL_BYTES); nothing was imported.")


def too_large_detail(exc: RequestEntityTooLarge) -> tuple[str, dict[str, Any]]:
    """What was too large, and the limit: one file (UploadTooLarge) or the whole request
    (Flask's MAX_CONTENT_LENGTH)."""
    if isinstance(exc, UploadTooLarge):
        return exc.description or "", {"file": exc.file, "limit": exc.limit}
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    size = f" of {request.content_length} bytes" if request.content_length else ""
    return (f"The request{size} is larger than the limit of {limit} bytes (four model files of "
            "CONTIFLOW_MAX_MODEL_BYTES plus 1 MiB); nothing was imported.", {"limit": limit})


def status_of(exc: EngineError) -> tuple[int, str]:
    for cls, status, slug in STATUS:
        if isinstance(exc, cls):
            return status, slug
    return 400, "engine-error"


_FIELD = re.compile(r"^field '([^']+)': (.+)$")
_MISSING = re.compile(r"^required field\(s\) missing: (.+)$")


def field_errors(exc: InvalidInput) -> dict[str, str]:
    """Per-field messages out of the engine's form-validation errors ({} when not about a field)."""
    text = str(exc)
    if match := _FIELD.match(text):
        return {match.group(1): match.group(2)}
    if match := _MISSING.match(text):
        return {name.strip(): "this field is required" for name in match.group(1).split(",") if name.strip()}
    return {}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def problem(status: int, title: str, detail: str | None = None, slug: str | None = None,
            **extra: Any) -> Response:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug if slug else "about:blank", "title": title,
                            "status": status, "instance": request.path}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def engine_problem(exc: EngineError) -> Response:
    status, slug = status_of(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, ImportRejected):
        extra["problems"] = [{"file": p.file, "line": p.line, "element_id": p.element_id, "message": p.message}
                             for p in exc.problems]
    if isinstance(exc, InvalidInput) and (fields := field_errors(exc)):
        extra["errors"] = fields
    if isinstance(exc, ScriptError):
        extra.update({"line": exc.line, "task": exc.task})
    title = slug.replace("-", " ").capitalize()
    return problem(status, title, str(exc), slug, **extra)


def _page(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, detail=detail), status


def _refuse_nul() -> None:
    """NUL characters cannot be stored or even compared by PostgreSQL: refuse them in the
    path and query string up front (400 on every backend, not a database error)."""
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise InvalidInput("NUL characters are not allowed in the URL")


def register(app: Flask) -> None:
    app.before_request(_refuse_nul)

    @app.errorhandler(DataError)
    def on_data_error(exc: DataError) -> Any:
        """A value the database cannot hold (too long, NUL character…): the caller's input,
        so a 400 — the checks in front should have caught it, hence the warning."""
        log.warning("database refused a value on %s %s: %s", request.method, request.path,
                    str(exc.orig).splitlines()[0] if exc.orig else exc)
        detail = ("A value is too long or contains characters that cannot be stored "
                  "(for example NUL); nothing was changed.")
        if wants_json():
            return problem(400, "Invalid input", detail, "invalid-input")
        return _page(400, "Bad request", detail)

    @app.errorhandler(EngineError)
    def on_engine_error(exc: EngineError) -> Any:
        if wants_json():
            return engine_problem(exc)
        status, slug = status_of(exc)
        return _page(status, slug.replace("-", " ").capitalize(), str(exc))

    @app.errorhandler(Forbidden)
    def on_forbidden(exc: Forbidden) -> Any:
        detail = str(exc) or "You may not see or do this."
        return problem(403, "Forbidden", detail, "forbidden") if wants_json() else _page(403, "Forbidden", detail)

    @app.errorhandler(Unauthorized)
    def on_unauthorized(exc: Unauthorized) -> Any:
        response = problem(401, "Unauthorized", str(exc) or "Sign in, or send 'Authorization: Bearer <token>'.",
                           "unauthorized")
        response.headers["WWW-Authenticate"] = 'Bearer realm="contiflow"'
        return response

    @app.errorhandler(CSRFError)
    def on_csrf(exc: CSRFError) -> Any:
        detail = f"The form's security token is missing or expired ({exc.description}). Reload the page and try again."
        return problem(400, "CSRF check failed", detail, "csrf") if wants_json() else _page(400, "Bad request", detail)

    @app.errorhandler(RequestEntityTooLarge)
    def on_too_large(exc: RequestEntityTooLarge) -> Any:
        detail, extra = too_large_detail(exc)
        if wants_json():
            return problem(413, "Upload too large", detail, "too-large", **extra)
        return _page(413, "Upload too large", detail)

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException) -> Any:
        status = exc.code or 500
        if wants_json():
            response = problem(status, exc.name, exc.description)
            if status == 405 and exc.get_response().headers.get("Allow"):
                response.headers["Allow"] = exc.get_response().headers["Allow"]
            return response
        return _page(status, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        detail = "Something went wrong on our side; it has been logged."
        return problem(500, "Internal Server Error", detail) if wants_json() else _page(500, "Server error", detail)
