"""Schema migrations (Alembic), driven from code: no ``alembic.ini``.

``ensure_schema`` is what every ``Engine`` runs at start:

- an empty database: ``create_all`` and stamp it at head (fast; the Alembic recipe);
- a database made by 0.1.0 (contiflow tables, no ``alembic_version``): stamp it at
  ``0001_baseline``, then upgrade to head;
- a versioned database behind head: upgrade to head;
- at head: nothing (one catalogue query and one row read).

The work happens in one transaction holding a lock, so several processes starting together
do it once: ``pg_advisory_xact_lock`` on PostgreSQL (keyed on the current schema, so schemas
do not wait for each other), ``BEGIN IMMEDIATE`` on SQLite.  On PostgreSQL DDL is
transactional, so a failed upgrade leaves the database as it was.

Every function takes an SQLAlchemy ``Engine`` or a URL.  PostgreSQL URLs may carry
``?options=-csearch_path%3D<schema>``: tables and ``alembic_version`` are in that schema.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from engine.errors import EngineError
from engine.store.database import make_engine
from engine.store.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"
VERSION_TABLE = "alembic_version"
#: the tables of 0.1.0, the release before migrations (frozen: do not follow the models)
BASELINE_TABLES = frozenset({
    "deployments", "source_files", "definitions", "instances", "human_tasks", "timers", "incidents",
    "audit_events", "users", "roles", "role_members", "notifications", "drill_reports",
    "corrective_actions", "drill_schedules",
})

Target = Engine | str
log = logging.getLogger(__name__)


class MigrationError(EngineError):
    """The schema could not be brought to (or read at) the wanted revision."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    rev = scripts().get_current_head()
    assert rev is not None
    return rev


@contextmanager
def _database(target: Target) -> Iterator[Engine]:
    if isinstance(target, Engine):
        yield target
        return
    db = make_engine(target)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def _locked(db: Engine) -> Iterator[Connection]:
    """One transaction holding the migration lock; committed when the block ends cleanly."""
    with db.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")      # the write lock, before we look
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('contiflow.migrate:' || current_schema()))"))
        yield conn
        conn.commit()


def _state(conn: Connection) -> tuple[set[str], str | None]:
    """(contiflow tables present, revision in alembic_version or None)."""
    names = set(inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        revision = MigrationContext.configure(conn).get_current_revision()
    return names & (BASELINE_TABLES | set(Base.metadata.tables)), revision


def _model_differences(conn: Connection) -> list[Any]:
    from alembic.autogenerate import compare_metadata

    return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata))


def _known(revision: str) -> bool:
    try:
        return scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _check_known(revision: str | None) -> None:
    if revision is not None and not _known(revision):
        raise MigrationError(f"the database is at revision '{revision}', which this contiflow does not know "
                             f"(made by a newer version?); this version's head is '{head()}'")


def _upgrade_locked(conn: Connection, revision: str, shortcut: bool = True) -> str | None:
    """Bring the database to ``revision`` (under the lock); returns the revision it started from.
    ``shortcut``: an empty database going to head gets ``create_all`` and a stamp."""
    tables, current = _state(conn)
    _check_known(current)
    if current is None and not tables:
        if shortcut and revision in ("head", head()):
            Base.metadata.create_all(conn, checkfirst=False)
            MigrationContext.configure(conn).stamp(scripts(), "head")
            return None
    elif current is None:
        missing = BASELINE_TABLES - tables
        if missing:
            raise MigrationError(f"the database has some contiflow tables but not {', '.join(sorted(missing))}, "
                                 f"and no {VERSION_TABLE}: not a contiflow database this version can upgrade")
        if tables == BASELINE_TABLES:                    # made by 0.1.0
            MigrationContext.configure(conn).stamp(scripts(), BASELINE)
            current = "0.1.0"
        elif revision in ("head", head()) and not _model_differences(conn):
            # made by ``create_all`` of a development build with these very models
            MigrationContext.configure(conn).stamp(scripts(), "head")
            return "unversioned"
        else:
            raise MigrationError(f"the database has tables beyond 0.1.0 ({', '.join(sorted(tables - BASELINE_TABLES))})"
                                 f" but no {VERSION_TABLE}, and they differ from this version's: not a schema this "
                                 f"version can upgrade (made by a development build?)")
    _run(command.upgrade, conn, revision)
    return current


def _run(fn: Any, conn: Connection, *args: Any) -> None:
    try:
        fn(alembic_config(conn), *args)
    except CommandError as exc:
        raise MigrationError(str(exc)) from exc


def ensure_schema(target: Target) -> None:
    """Make the database current (see module docstring); cheap when it already is."""
    with _database(target) as db:
        with db.connect() as conn:
            tables, current = _state(conn)
        if current is not None and current == head():
            return
        _check_known(current)
        with _locked(db) as conn:
            before = _upgrade_locked(conn, "head")
        log.info("database schema %s at %s", "created" if before is None else f"upgraded from {before}", head())


def upgrade(target: Target, revision: str = "head", *, shortcut: bool = True) -> dict[str, Any]:
    """Upgrade to ``revision``: ``{"from": rev or None, "to": rev}`` (``from`` is ``"0.1.0"``
    for an unversioned 0.1.0 database, None for an empty one).  ``shortcut=False`` runs every
    revision script even on an empty database (tests, autogenerate)."""
    if revision != "head" and not _known(revision):
        raise MigrationError(f"unknown revision '{revision}' (see `contiflow db history`)")
    with _database(target) as db:
        with _locked(db) as conn:
            before = _upgrade_locked(conn, revision, shortcut)
        return {"from": before, "to": current(db)["revision"]}


def downgrade(target: Target, revision: str) -> dict[str, Any]:
    """Downgrade to ``revision`` (``base`` drops every table)."""
    if revision != "base" and not revision.startswith("-") and not _known(revision):
        raise MigrationError(f"unknown revision '{revision}' (see `contiflow db history`)")
    with _database(target) as db:
        before = current(db)["revision"]
        if before is None:
            raise MigrationError(f"the database has no {VERSION_TABLE}: nothing to downgrade "
                                 f"(run `contiflow db upgrade` first)")
        with _locked(db) as conn:
            _run(command.downgrade, conn, revision)
        return {"from": before, "to": current(db)["revision"]}


def stamp(target: Target, revision: str) -> None:
    """Record ``revision`` without running anything (for a schema known to be at it)."""
    if revision not in ("head", "base") and not _known(revision):
        raise MigrationError(f"unknown revision '{revision}' (see `contiflow db history`)")
    with _database(target) as db, _locked(db) as conn:
        MigrationContext.configure(conn).stamp(scripts(), revision)


def current(target: Target) -> dict[str, Any]:
    """Where the database is, without changing it: ``revision`` (None when unversioned),
    ``head``, ``state`` (``empty``, ``unversioned``, ``behind``, ``current``, ``unknown``)."""
    with _database(target) as db, db.connect() as conn:
        tables, revision = _state(conn)
    if revision is None:
        state = "unversioned" if tables else "empty"
    elif not _known(revision):
        state = "unknown"
    else:
        state = "current" if revision == head() else "behind"
    pending: list[str] = []
    if state in ("behind", "empty", "unversioned"):
        lower = revision or (BASELINE if state == "unversioned" else "base")
        pending = [r.revision for r in reversed(list(scripts().iterate_revisions("heads", lower)))]
    return {"revision": revision, "head": head(), "state": state, "pending": pending}


def history() -> list[dict[str, Any]]:
    """Every revision, oldest first."""
    revs = list(scripts().walk_revisions("base", "heads"))
    return [{"revision": r.revision, "down_revision": r.down_revision,
             "message": " ".join((r.doc or "").strip().split("\n\n")[0].split()), "head": r.is_head}
            for r in reversed(revs)]


def new_revision(message: str, rev_id: str, autogenerate: bool = False) -> None:
    """Developers: write ``versions/<rev_id>.py`` (ids like ``0003_what``).  ``autogenerate``
    drafts it from the difference between the models and a scratch SQLite database migrated
    to head; review it (and test it on PostgreSQL) before committing."""
    if not autogenerate:
        command.revision(alembic_config(), message=message, rev_id=rev_id)
        return
    with tempfile.TemporaryDirectory() as tmp, _database(f"sqlite:///{tmp}/head.db") as db:
        upgrade(db, shortcut=False)
        with db.begin() as conn:
            command.revision(alembic_config(conn), message=message, rev_id=rev_id, autogenerate=True)


def create_schema(engine: Engine) -> None:
    """Bring the database to the current schema: create it when empty, upgrade it (Alembic)
    when made by an older version; cheap when already current."""
    try:
        ensure_schema(engine)
    except BaseException:
        engine.dispose()          # the caller fails to start: leave no pooled connection behind
        raise
