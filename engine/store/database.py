"""Engine and session factory; SQLite gets WAL, a busy timeout and foreign keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (psycopg2 is not a dependency)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
        return engine
    # no pre-ping: it costs a round trip per command; stale connections are recycled instead
    return create_engine(url, pool_recycle=1800, pool_size=10, max_overflow=20)


def make_read_engine(url: str) -> Engine | None:
    """PostgreSQL: a second pool in autocommit mode for the hot one-statement reads (the inbox):
    one round trip per read instead of three (BEGIN, SELECT, ROLLBACK) — a single SELECT sees
    one snapshot anyway.  SQLite: None (no round trips to save; use the main engine)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return None
    return create_engine(url, pool_recycle=1800, pool_size=5, max_overflow=10, isolation_level="AUTOCOMMIT")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
