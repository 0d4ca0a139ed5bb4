"""Web settings from ``CONTIFLOW_*`` environment variables, read once into a frozen object
(the engine's own settings live in ``engine.config``).  Every variable is in the README."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class WebSettings:
    secret_key: str | None = None
    #: machine tokens: token -> acting name (every token acts with admin rights)
    api_tokens: Mapping[str, str] = field(default_factory=dict)
    #: session cookie only over https (set when served behind TLS)
    secure_cookies: bool = False
    #: roles (besides admins) that may declare, cancel and retry incidents
    manager_roles: tuple[str, ...] = ("continuity_manager",)
    #: how often pages poll for changes, in seconds
    poll_seconds: float = 5.0
    #: where `npm install` put the front-end packages (bpmn-js)
    node_modules: Path = ROOT / "node_modules"
    #: the most tasks one inbox page or API call returns
    inbox_limit: int = 100
    session_hours: float = 12.0
    #: run the timer scheduler inside the web process (CONTIFLOW_WEB_SCHEDULER); None = the
    #: entry point's default: on for `contiflow serve`, off for gunicorn's `web.wsgi:app`
    web_scheduler: bool | None = None
    #: /metrics without a token (CONTIFLOW_METRICS_PUBLIC): only where the network is trusted
    metrics_public: bool = False
    #: reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port headers
    #: are trusted (CONTIFLOW_PROXY_HOPS); 0 = none: the headers are ignored (they are forgeable)
    proxy_hops: int = 0

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> WebSettings:
        return replace(self, **dict(overrides or {}))


def parse_tokens(text: str) -> dict[str, str]:
    """``name:token,name2:token2`` -> {token: name}; malformed entries are refused."""
    tokens: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        name, sep, token = entry.partition(":")
        if not sep or not name.strip() or not token.strip():
            raise ValueError("CONTIFLOW_API_TOKENS: expected 'name:token' entries separated by commas")
        if len(token.strip()) < 16:
            raise ValueError(f"CONTIFLOW_API_TOKENS: the token of '{name.strip()}' is shorter than 16 characters")
        tokens[token.strip()] = name.strip()
    return tokens


def parse_flag(env: Mapping[str, str], name: str) -> bool | None:
    """A yes/no variable: None when unset or empty; anything unrecognised is refused."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{name}: expected 1/0, true/false, yes/no or on/off, not '{raw}'")


def parse_hops(raw: str) -> int:
    """CONTIFLOW_PROXY_HOPS: a whole number of trusted proxies, 0 (the default) to 10."""
    raw = raw.strip() or "0"
    if not raw.isdigit() or int(raw) > 10:
        raise ValueError(f"CONTIFLOW_PROXY_HOPS: expected a whole number of proxies from 0 to 10, not '{raw}'")
    return int(raw)


def load_settings(env: Mapping[str, str] | None = None) -> WebSettings:
    env = dict(os.environ if env is None else env)
    roles = tuple(r.strip() for r in env.get("CONTIFLOW_MANAGER_ROLES", "continuity_manager").split(",") if r.strip())
    return WebSettings(
        secret_key=env.get("CONTIFLOW_SECRET_KEY") or None,
        api_tokens=parse_tokens(env.get("CONTIFLOW_API_TOKENS", "")),
        secure_cookies=env.get("CONTIFLOW_SECURE_COOKIES", "").strip().lower() in _TRUE,
        manager_roles=roles,
        poll_seconds=float(env.get("CONTIFLOW_POLL_SECONDS", "5")),
        node_modules=Path(env.get("CONTIFLOW_NODE_MODULES") or ROOT / "node_modules"),
        web_scheduler=parse_flag(env, "CONTIFLOW_WEB_SCHEDULER"),
        metrics_public=bool(parse_flag(env, "CONTIFLOW_METRICS_PUBLIC")),
        proxy_hops=parse_hops(env.get("CONTIFLOW_PROXY_HOPS", "")),
    )


def persistent_secret_key(folder: Path | None = None) -> str:
    """The key in ./instance/secret_key, generated (owner-only file) on first use, so sessions
    survive restarts without anyone having to configure CONTIFLOW_SECRET_KEY.  Several web
    processes starting together (gunicorn -w N) agree on one key: the file is created
    exclusively and completely (written aside, then linked into place), and whoever loses the
    race reads the winner's."""
    folder = folder or Path.cwd() / "instance"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    scratch = folder / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        try:
            os.link(scratch, path)        # atomic, and fails if another process got there first
        except FileExistsError:
            if path.read_text().strip():
                return path.read_text().strip()
            os.replace(scratch, path)     # an empty file left by an old version: replace it
            return key
    finally:
        scratch.unlink(missing_ok=True)
    return key
