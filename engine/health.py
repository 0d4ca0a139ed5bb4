"""Readiness: can this process do its work?  The database answers a trivial query and holds
every table the engine uses.  (Liveness needs no check at all: answering is being alive.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine as Database
from sqlalchemy.exc import SQLAlchemyError

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
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable: %s", exc)
        return [Problem("database", f"the database does not answer ({_reason(exc)})")]
    missing = sorted(set(Base.metadata.tables) - present)
    if missing:
        return [Problem("schema", f"the database schema is missing {len(missing)} table(s): "
                                  f"{', '.join(missing)}")]
    return []
