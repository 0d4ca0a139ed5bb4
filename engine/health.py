"""Readiness: can this process do its work?  The database answers a trivial query, holds every
table the engine uses and is at the schema revision this version expects (when it is
versioned).  Liveness needs no check at all: answering is being alive."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine as Database
from sqlalchemy.exc import SQLAlchemyError

from engine.store import migrate
from engine.store.models import Base

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    check: str          # database | schema
    message: str


def _reason(exc: BaseException) -> str:
    """The driver's own first line (no SQL, no parameters): enough to act on."""
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [""])[0]
    return f"{original.__class__.__name__}: {first}"[:300]


def readiness(db: Database) -> list[Problem]:
    """What keeps this process from serving: [] when ready."""
    try:
        with db.connect() as conn:
            conn.execute(text("SELECT 1"))
            present = set(inspect(conn).get_table_names())
            revisions = ({str(r) for r in conn.execute(text(f"SELECT version_num FROM {migrate.VERSION_TABLE}"))
                          .scalars()} if migrate.VERSION_TABLE in present else None)
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable: %s", exc)
        return [Problem("database", f"the database does not answer ({_reason(exc)})")]
    missing = sorted(set(Base.metadata.tables) - present)
    if missing:
        return [Problem("schema", f"the database schema is missing {len(missing)} table(s): "
                                  f"{', '.join(missing)}")]
    if revisions is not None and revisions != {migrate.head()}:
        found = ", ".join(sorted(revisions)) or "none"
        return [Problem("schema", f"the database schema is at revision {found}; this version expects "
                                  f"{migrate.head()} (run `contiflow db upgrade`)")]
    return []
