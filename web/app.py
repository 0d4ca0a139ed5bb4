"""The application factory: the only place that wires the engine, the settings and the timer
scheduler into a Flask app."""

from __future__ import annotations

import atexit
import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Response, g, redirect, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect, generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix

from engine import safe_json
from engine.api import Engine
from engine.timers.scheduler import TimerService
from web import auth, errors, i18n, ops
from web.pages import filters
from web.settings import WebSettings, load_settings, persistent_secret_key

log = logging.getLogger(__name__)

csrf = CSRFProtect()

#: no inline script anywhere: every script is a file under /static or the bpmn-js bundle
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class GuardedJSONProvider(DefaultJSONProvider):
    """Request bodies are decoded with a nesting limit (``engine.safe_json``): a deeply nested
    body would otherwise crash the process, not just fail the request."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return safe_json.loads(s, **kwargs)


def create_app(engine: Engine | None = None, *, config: WebSettings | Mapping[str, Any] | None = None,
               start_scheduler: bool | None = None, testing: bool = False) -> Flask:
    """``engine``: the Engine to serve (default: one from the CONTIFLOW_* environment).
    ``config``: WebSettings, or a mapping of WebSettings fields overriding the environment.
    ``start_scheduler``: run the timer service (APScheduler) in this process; None means the
    ``web_scheduler`` setting (CONTIFLOW_WEB_SCHEDULER), on when that is unset too."""
    settings = config if isinstance(config, WebSettings) else load_settings().with_overrides(config)
    eng = engine or Engine()
    app = Flask(__name__)
    app.json = GuardedJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key or (secrets.token_hex(32) if testing else persistent_secret_key()),
        TESTING=testing,
        SESSION_COOKIE_NAME="contiflow_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        MAX_CONTENT_LENGTH=4 * eng.config.max_model_bytes + 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,           # valid for the whole session
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
        JSON_SORT_KEYS=False,
    )
    if settings.proxy_hops:
        # behind N trusted reverse proxies: the client address (login throttle, logs), scheme
        # (secure cookies, redirects) and host come from their X-Forwarded-* headers
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    app.extensions["contiflow.engine"] = eng
    app.extensions["contiflow.settings"] = settings
    app.extensions["contiflow.directory"] = auth.Directory(eng)
    app.extensions["contiflow.throttle"] = auth.LoginThrottle(eng)
    csrf.init_app(app)
    errors.register(app)
    filters.register(app)
    i18n.init_app(app)
    _register_blueprints(app)
    ops.register(app, eng)
    _favicon(app)
    _security_headers(app)
    if start_scheduler is None:
        start_scheduler = settings.web_scheduler is not False
    if start_scheduler:
        service = TimerService(eng)
        service.start()
        app.extensions["contiflow.timers"] = service
        atexit.register(service.stop)
    return app


def _register_blueprints(app: Flask) -> None:
    from web.api import bp as api_bp
    from web.pages import analysis, assets, definitions, drills, inbox, incidents, registers, tasks

    app.register_blueprint(auth.bp)
    for module in (inbox, tasks, incidents, definitions, drills, analysis, registers, assets):
        app.register_blueprint(module.bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)        # the API checks CSRF itself, for session callers only


def _favicon(app: Flask) -> None:
    @app.route("/favicon.ico")
    def favicon() -> Response:
        return redirect(url_for("static", filename="favicon.svg"), 301)  # type: ignore[return-value]


def _security_headers(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"me": auth.current(), "csrf_token": generate_csrf,
                "poll_seconds": auth.settings().poll_seconds}

    hsts = app.extensions["contiflow.settings"].secure_cookies

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if hsts:            # served over TLS (secure cookies): browsers must never fall back to http
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint and not request.endpoint.startswith("assets.") and "principal" in g:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
