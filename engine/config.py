"""Configuration from ``CONTIFLOW_*`` environment variables, read once into a frozen object.

Every variable is listed, with its default, in the README's configuration table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    database_url: str
    script_time_limit: float = 1.0          # seconds a script/expression may run
    max_model_bytes: int = 10 * 1024 * 1024  # largest BPMN/DMN file accepted
    host: str = "127.0.0.1"
    port: int = 5000
    secret_key: str | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    mail_from: str = "contiflow@localhost"
    kpi_thresholds: str | None = None       # YAML file of KPI thresholds the worker checks
    kpi_check_minutes: float = 15.0
    http_allowed_hosts: tuple[str, ...] = ()   # hosts the ``http`` service task may call


def default_database_url(base: Path | None = None) -> str:
    """SQLite file in ./instance/, created on first use."""
    folder = (base or Path.cwd()) / "instance"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'contiflow.db'}"


def load_config(env: dict[str, str] | None = None) -> Config:
    """Read the environment once; callers keep the returned object."""
    env = dict(os.environ if env is None else env)
    url = env.get("CONTIFLOW_DATABASE_URL") or default_database_url()
    return Config(
        database_url=url,
        script_time_limit=float(env.get("CONTIFLOW_SCRIPT_TIME_LIMIT", "1.0")),
        max_model_bytes=int(env.get("CONTIFLOW_MAX_MODEL_BYTES", str(10 * 1024 * 1024))),
        host=env.get("CONTIFLOW_HOST", "127.0.0.1"),
        port=int(env.get("CONTIFLOW_PORT", "5000")),
        secret_key=env.get("CONTIFLOW_SECRET_KEY"),
        smtp_host=env.get("CONTIFLOW_SMTP_HOST", "127.0.0.1"),
        smtp_port=int(env.get("CONTIFLOW_SMTP_PORT", "25")),
        mail_from=env.get("CONTIFLOW_MAIL_FROM", "contiflow@localhost"),
        kpi_thresholds=env.get("CONTIFLOW_KPI_THRESHOLDS") or None,
        kpi_check_minutes=float(env.get("CONTIFLOW_KPI_CHECK_MINUTES", "15")),
        http_allowed_hosts=tuple(h.strip() for h in env.get("CONTIFLOW_HTTP_ALLOWED_HOSTS", "").split(",")
                                 if h.strip()),
    )
