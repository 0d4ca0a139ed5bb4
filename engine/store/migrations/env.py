"""Alembic environment: runs on the connection handed over by ``engine.store.migrate``.

PostgreSQL: tables and ``alembic_version`` live in the connection's current schema (the first
of its ``search_path``); other schemas are ignored.  SQLite: batch mode, since it cannot ALTER
most things in place; the whole upgrade runs in one ``BEGIN IMMEDIATE`` transaction with
``PRAGMA foreign_keys=ON`` (it cannot be switched inside a transaction), so a batch operation
that recreates a table other tables reference must be tested on SQLite with rows present.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from engine.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_schemas=False,
        compare_type=True,
        user_module_prefix="engine.store.models.",
    )


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # the caller owns the transaction (and, on PostgreSQL, the advisory lock inside it)
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from engine.store.database import make_engine  # plain `alembic` use with sqlalchemy.url

    db = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with db.begin() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        db.dispose()


def run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
