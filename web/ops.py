"""Endpoints for whoever runs contiflow: ``/healthz`` (liveness: the process answers, no
database), ``/readyz`` (readiness: database reachable, schema present; 503 otherwise) and
``/metrics`` (Prometheus text format, gathered from the database at scrape time).

No login for the first two.  ``/metrics`` needs an API bearer token (or a signed-in
administrator) unless CONTIFLOW_METRICS_PUBLIC is on."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from engine.api import Engine
from engine.health import readiness
from engine.metrics import EngineCollector
from web import auth
from web.errors import Unauthorized, problem

bp = Blueprint("ops", __name__)

REGISTRY_KEY = "contiflow.metrics"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz() -> Response:
    return _no_store(jsonify({"status": "ok"}))


@bp.route("/readyz")
def readyz() -> Response:
    problems = readiness(auth.engine().db)
    if problems:
        detail = "; ".join(p.message for p in problems)
        response = problem(503, "Not ready", detail, "not-ready",
                           checks={p.check: p.message for p in problems})
        response.headers["Retry-After"] = "5"
        return _no_store(response)
    return _no_store(jsonify({"status": "ready", "checks": {"database": "ok", "schema": "ok"}}))


def register(app: Flask, eng: Engine) -> None:
    """The routes, and one metrics registry per app holding only the engine collector (not
    prometheus_client's global one: tests build many apps)."""
    metrics_registry = CollectorRegistry(auto_describe=False)
    metrics_registry.register(EngineCollector(eng))
    app.extensions[REGISTRY_KEY] = metrics_registry
    app.register_blueprint(bp)


@bp.route("/metrics")
def metrics() -> Any:
    if not auth.settings().metrics_public:
        who = auth.current()
        if who is None or not who.admin:
            raise Unauthorized("Send 'Authorization: Bearer <token>' (CONTIFLOW_API_TOKENS), "
                               "or set CONTIFLOW_METRICS_PUBLIC=1 where the network is trusted.")
    # the text format, or OpenMetrics when the scraper asks for it (Prometheus does)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = Response(encode(current_app.extensions[REGISTRY_KEY]), mimetype=None)
    response.headers["Content-Type"] = content_type
    return _no_store(response)
