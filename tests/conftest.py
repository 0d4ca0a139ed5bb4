"""Fixtures chain: a fresh database (SQLite file, and PostgreSQL when
CONTIFLOW_TEST_DATABASE_URL is set), a ManualClock, and the Engine on top."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from engine.people import hash_password
from engine.store.database import normalise_url

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
PG_URL = os.environ.get("CONTIFLOW_TEST_DATABASE_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@functools.cache
def demo_people() -> str:
    """The bundled people directory with its passwords hashed once per test session
    (``password_hash``): scrypt is slow on purpose, and 16 hashes per test add up."""
    doc = yaml.safe_load((ROOT / "runbooks" / "people.yaml").read_text())
    for user in doc["users"]:
        if user.get("password"):
            user["password_hash"] = hash_password(str(user.pop("password")))
    return str(yaml.safe_dump(doc))


@contextmanager
def private_pg_schema(prefix: str = "t") -> Iterator[str]:
    """A URL of the test PostgreSQL whose search_path is a new schema, dropped afterwards."""
    assert PG_URL is not None
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def suite_database(folder: Path, prefix: str) -> Iterator[str]:
    """One database for a whole module: a private PostgreSQL schema when the suite has one (it
    enforces what SQLite lets pass: column widths, NUL characters), else a SQLite file."""
    if PG_URL is None:
        yield f"sqlite:///{folder / 'contiflow.db'}"
        return
    with private_pg_schema(prefix) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'contiflow.db'}"
        return
    with private_pg_schema() as url:
        yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(database_url: str, clock: ManualClock) -> Iterator[Engine]:
    eng = Engine(Config(database_url=database_url, script_time_limit=0.5), clock=clock)
    try:
        yield eng
    finally:
        eng.close()


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free localhost port, collecting what it receives."""
    from tests.receivers import SmtpReceiver

    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()
