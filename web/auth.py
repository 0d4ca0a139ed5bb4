"""Who is asking: a browser session (login form, engine.authenticate) or a machine token
(``Authorization: Bearer``, CONTIFLOW_API_TOKENS).  Pages use ``login_required``; the API
resolves the principal itself and answers 401/403 as problem details."""

from __future__ import annotations

import functools
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from engine import login_throttle
from engine.api import Engine
from web.errors import Forbidden
from web.settings import WebSettings

bp = Blueprint("auth", __name__)


@dataclass(frozen=True)
class Principal:
    username: str
    name: str
    admin: bool
    roles: tuple[str, ...] = ()
    via: str = "session"          # session | token
    manager_roles: tuple[str, ...] = field(default=(), repr=False)

    @property
    def manager(self) -> bool:
        """May declare, cancel and retry incidents: admins and the configured manager roles."""
        return self.admin or any(r in self.manager_roles for r in self.roles)

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "name": self.name, "admin": self.admin,
                "manager": self.manager, "roles": list(self.roles), "via": self.via}


def engine() -> Engine:
    return current_app.extensions["contiflow.engine"]  # type: ignore[no-any-return]


def settings() -> WebSettings:
    return current_app.extensions["contiflow.settings"]  # type: ignore[no-any-return]


class Directory:
    """People's names and admin flags, re-read at most every few seconds (a changed people
    file takes effect without a restart; roles are read on every request)."""

    def __init__(self, eng: Engine, ttl: float = 10.0):
        self.engine, self.ttl = eng, ttl
        self._people: dict[str, Any] = {}
        self._loaded = 0.0
        self._lock = threading.Lock()

    def get(self, username: str) -> Any:
        with self._lock:
            if time.monotonic() - self._loaded > self.ttl or username not in self._people:
                self._people = {p.username: p for p in self.engine.people()}
                self._loaded = time.monotonic()
            return self._people.get(username)


class LoginThrottle:
    """Slows password guessing: after 5 failures for a name or address within 5 minutes,
    further attempts (even with the right password) are refused until the window passes.
    A thin adapter over ``engine.login_throttle``: the failures live in the database, so the
    limit holds across every web process on it.  Time comes from the engine's clock."""

    def __init__(self, eng: Engine, limit: int = login_throttle.LIMIT,
                 window: timedelta = login_throttle.WINDOW):
        self.sessions, self.clock = eng.sessions, eng.clock
        self.limit, self.window = limit, window

    def blocked(self, username: str, address: str | None) -> bool:
        return login_throttle.is_locked(self.sessions, self.clock, username, address,
                                        limit=self.limit, window=self.window)

    def admit(self, username: str, address: str | None) -> bool:
        """False when locked; otherwise the attempt counts as a failure until ``succeeded``."""
        return login_throttle.attempt(self.sessions, self.clock, username, address,
                                      limit=self.limit, window=self.window)

    def failed(self, username: str, address: str | None) -> None:
        login_throttle.record_failure(self.sessions, self.clock, username, address, window=self.window)

    def succeeded(self, username: str, address: str | None) -> None:
        login_throttle.clear(self.sessions, username, address)


def token_principal(header: str | None) -> Principal | None:
    if not header or not header.lower().startswith("bearer "):
        return None
    offered = header[7:].strip()
    for token, name in settings().api_tokens.items():
        if hmac.compare_digest(offered.encode(), token.encode()):
            return Principal(name, name, True, (), "token", settings().manager_roles)
    return None


def session_principal() -> Principal | None:
    username = session.get("user")
    if not username:
        return None
    person = current_app.extensions["contiflow.directory"].get(username)
    if person is None:
        session.clear()
        return None
    return Principal(person.username, person.name, person.admin, tuple(engine().roles_of(username)),
                     "session", settings().manager_roles)


def current() -> Principal | None:
    """The principal of this request (token first, then session); cached on ``g``."""
    if "principal" not in g:
        g.principal = token_principal(request.headers.get("Authorization")) or session_principal()
    return g.principal  # type: ignore[no-any-return]


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def require_admin(who: Principal | None) -> Principal:
    if who is None or not who.admin:
        raise Forbidden("Only administrators may do this.")
    return who


def require_manager(who: Principal | None) -> Principal:
    if who is None or not who.manager:
        raise Forbidden("Only administrators and continuity managers may declare, cancel or retry incidents.")
    return who


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect to another site after login."""
    if not target:
        return url_for("inbox.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("inbox.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if current() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    throttle: LoginThrottle = current_app.extensions["contiflow.throttle"]
    if not throttle.admit(username, request.remote_addr):      # counts as a failure until it succeeds
        flash("Too many failed sign-ins. Wait a few minutes and try again.", "error")
        return render_template("login.html", next=request.form.get("next", ""), username=username), 429
    person = engine().authenticate(username, password) if username and password else None
    if person is None:
        flash("Unknown user name or wrong password.", "error")
        return render_template("login.html", next=request.form.get("next", ""), username=username), 401
    throttle.succeeded(username, request.remote_addr)
    session.clear()                       # no session fixation: a fresh session on sign-in
    session.permanent = True
    session["user"] = person.username
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
