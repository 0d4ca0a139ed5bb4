"""Where (b) and (c) persist: a SQLite file in a temporary folder, or a private PostgreSQL
schema (``?options=-csearch_path%3D<schema>``) created before and dropped after the run."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PG_URL = "postgresql://root@127.0.0.1:5432/test"
PG_ENV = "CONTIFLOW_BENCH_PG_URL"


@dataclass(frozen=True)
class Backend:
    name: str                 # sqlite | postgresql
    database_url: str         # for contiflow's Config
    floor_target: str         # sqlite file path, or the psycopg URL of the private schema
    version: str


def postgres_version(url: str, timeout: float = 2.0) -> str | None:
    """The server version if ``url`` answers within ``timeout`` seconds, else None."""
    try:
        import psycopg
        with psycopg.connect(url, connect_timeout=max(1, int(timeout))) as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return None


def resolve_postgres(explicit: str | None, disabled: bool) -> tuple[str | None, str | None, str]:
    """(url, version, why) — url None means PostgreSQL is skipped, ``why`` says why."""
    if disabled:
        return None, None, "disabled by --no-postgres"
    url = explicit or os.environ.get(PG_ENV) or DEFAULT_PG_URL
    version = postgres_version(url)
    if version is None:
        if explicit:
            raise SystemExit(f"bench: PostgreSQL at {redact(url)} is not reachable")
        return None, None, f"not reachable at {redact(url)}"
    return url, version, "reachable"


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def with_search_path(url: str, schema: str) -> str:
    option = f"options=-csearch_path%3D{schema}"
    return url + ("&" if "?" in url else "?") + option


@contextlib.contextmanager
def sqlite_backend() -> Iterator[Backend]:
    import sqlite3
    folder = tempfile.mkdtemp(prefix="contiflow-bench-")
    try:
        yield Backend("sqlite", f"sqlite:///{os.path.join(folder, 'contiflow.db')}",
                      os.path.join(folder, "floor.db"), sqlite3.sqlite_version)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_backend(url: str, version: str) -> Iterator[Backend]:
    import psycopg
    schema = f"contiflow_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        scoped = with_search_path(url, schema)
        yield Backend("postgresql", scoped, scoped, version)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
