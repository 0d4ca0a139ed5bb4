"""Schema migrations (Alembic): the revision scripts build exactly the models' schema, go down
and up again, and a database of the previous release (0.1.0) with an incident in progress is
upgraded and the incident goes on as the runbook says."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Integer, MetaData, insert, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SAEngine

from engine.api import Engine
from engine.cli.main import main as cli
from engine.clock import ManualClock
from engine.config import Config
from engine.store import migrate
from engine.store.database import make_engine
from engine.store.migrate import create_schema
from engine.store.models import Base
from tests.conftest import FIXTURES, ROOT

RELEASED = FIXTURES / "migrations" / "released_0_1_0.json"


@contextmanager
def database(url: str) -> Iterator[SAEngine]:
    db = make_engine(url)
    try:
        yield db
    finally:
        db.dispose()


def tables(url: str) -> set[str]:
    with database(url) as db, db.connect() as conn:
        return set(inspect(conn).get_table_names())


def model_differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def snapshot(url: str) -> dict[str, Any]:
    """What the database says about its schema: columns, keys, indexes, constraints."""
    with database(url) as db, db.connect() as conn:
        insp = inspect(conn)
        shot: dict[str, Any] = {}
        for name in sorted(set(insp.get_table_names()) - {"alembic_version"}):
            shot[name] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(name)],
                "pk": insp.get_pk_constraint(name)["constrained_columns"],
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in insp.get_indexes(name)),
                "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(name)),
                "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]),
                               str(sorted((f.get("options") or {}).items())))
                              for f in insp.get_foreign_keys(name)),
            }
        return shot


# -- (a) the scripts build the models' schema -----------------------------------------------

def test_revision_scripts_from_empty_build_exactly_the_models_schema(database_url: str) -> None:
    result = migrate.upgrade(database_url, shortcut=False)
    assert result == {"from": None, "to": migrate.head()}
    with database(database_url) as db, db.connect() as conn:
        assert model_differences(conn) == []
    assert tables(database_url) == set(Base.metadata.tables) | {"alembic_version"}
    with database(database_url) as db, db.connect() as conn:
        if conn.dialect.name == "postgresql":       # everything in the URL's search_path schema
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            where = conn.execute(text("SELECT table_schema FROM information_schema.tables "
                                      "WHERE table_name = 'alembic_version' AND table_schema IN "
                                      "(current_schema(), 'public')")).scalars().all()
            assert where == [schema] and schema.startswith("t_")


def test_create_all_shortcut_and_revision_scripts_give_the_same_schema(database_url: str) -> None:
    with database(database_url) as db:
        create_schema(db)                                   # empty database: create_all + stamp head
    assert migrate.current(database_url)["state"] == "current"
    by_create_all = snapshot(database_url)
    migrate.downgrade(database_url, "base")
    migrate.upgrade(database_url, shortcut=False)
    assert snapshot(database_url) == by_create_all


# -- (b) down and up ----------------------------------------------------------------------------

def test_upgrade_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    migrate.upgrade(database_url, shortcut=False)
    assert migrate.downgrade(database_url, migrate.BASELINE)["to"] == migrate.BASELINE
    assert tables(database_url) == set(migrate.BASELINE_TABLES) | {"alembic_version"}
    assert migrate.downgrade(database_url, "base") == {"from": migrate.BASELINE, "to": None}
    assert tables(database_url) <= {"alembic_version"}
    assert migrate.current(database_url)["state"] == "empty"
    assert migrate.upgrade(database_url, shortcut=False)["to"] == migrate.head()
    with database(database_url) as db, db.connect() as conn:
        assert model_differences(conn) == []


def test_engine_start_is_cheap_and_idempotent_and_upgrades_a_database_behind_head(database_url: str) -> None:
    migrate.upgrade(database_url, migrate.BASELINE)
    assert migrate.current(database_url)["state"] == ("current" if migrate.head() == migrate.BASELINE
                                                      else "behind")
    for _ in range(2):
        eng = Engine(Config(database_url=database_url), clock=ManualClock())
        eng.close()
        assert migrate.current(database_url)["revision"] == migrate.head()


def test_an_unversioned_database_with_the_current_models_is_stamped_not_migrated(database_url: str) -> None:
    """Made by ``create_all`` of a development build between 0.1.0 and migrations."""
    with database(database_url) as db:
        Base.metadata.create_all(db)
    assert migrate.current(database_url)["state"] == "unversioned"
    Engine(Config(database_url=database_url), clock=ManualClock()).close()
    assert migrate.current(database_url)["state"] == "current"
    with database(database_url) as db, db.connect() as conn:
        assert model_differences(conn) == []


def test_an_unversioned_database_that_is_neither_0_1_0_nor_current_is_refused(database_url: str) -> None:
    with database(database_url) as db:
        Base.metadata.create_all(db)
        with db.begin() as conn:
            conn.execute(text("CREATE INDEX ix_extra ON instances (started_at)"))
    with pytest.raises(migrate.MigrationError, match="no alembic_version, and they differ"):
        migrate.upgrade(database_url)
    assert migrate.current(database_url)["state"] == "unversioned"


def test_a_database_from_a_newer_version_is_refused(database_url: str) -> None:
    migrate.upgrade(database_url)
    with database(database_url) as db, db.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(migrate.MigrationError, match="9999_from_the_future.*newer"):
        Engine(Config(database_url=database_url), clock=ManualClock())
    assert migrate.current(database_url)["state"] == "unknown"


# -- (c) an incident started on 0.1.0 goes on after the upgrade ---------------------------------

def released_fixture() -> dict[str, Any]:
    return json.loads(RELEASED.read_text())


def make_released_database(url: str, versioned: bool) -> None:
    """The 0.1.0 schema, as 0.1.0 made it (no alembic_version) or stamped at the baseline."""
    migrate.upgrade(url, migrate.BASELINE)
    if not versioned:
        with database(url) as db, db.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))


def load_rows(url: str, fixture: dict[str, Any]) -> None:
    with database(url) as db, db.begin() as conn:
        meta = MetaData()
        meta.reflect(conn)
        sqlite = conn.dialect.name == "sqlite"
        for table in meta.sorted_tables:
            if table.name not in fixture["tables"]:
                continue
            dumped = fixture["tables"][table.name]
            kinds = dumped["columns"]
            rows = [{k: _decode(v, kinds[k], sqlite) for k, v in row.items()} for row in dumped["rows"]]
            if rows:
                conn.execute(insert(table), rows)
            if rows and not sqlite:                  # explicit ids: move the sequences past them
                for column in [c for c in table.primary_key.columns if isinstance(c.type, Integer)]:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                                      f"(SELECT max({column.name}) FROM {table.name})) "
                                      f"WHERE pg_get_serial_sequence('{table.name}', '{column.name}') IS NOT NULL"))


def _decode(value: Any, kind: str, sqlite: bool) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        moment = datetime.fromisoformat(value).astimezone(UTC)
        return moment.replace(tzinfo=None) if sqlite else moment      # as UTCDateTime stores it
    if kind == "binary":
        return base64.b64decode(value)
    return value


def test_the_fixture_is_the_baseline_schema(database_url: str) -> None:
    fixture = released_fixture()
    assert set(fixture["tables"]) == migrate.BASELINE_TABLES
    make_released_database(database_url, versioned=False)
    with database(database_url) as db, db.connect() as conn:
        insp = inspect(conn)
        for name, dumped in fixture["tables"].items():
            assert {c["name"] for c in insp.get_columns(name)} == set(dumped["columns"]), name


@pytest.mark.parametrize("versioned", [False, True], ids=["as-0.1.0-made-it", "stamped-baseline"])
def test_an_incident_started_on_0_1_0_keeps_running_after_db_upgrade(
        database_url: str, versioned: bool, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    fixture = released_fixture()
    make_released_database(database_url, versioned)
    load_rows(database_url, fixture)
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)

    assert cli(["db", "current", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["state"] == ("behind" if versioned else "unversioned")
    assert before["pending"][-1] == migrate.head()
    assert cli(["db", "upgrade", "--json"]) == 0
    upgraded = json.loads(capsys.readouterr().out)
    assert upgraded == {"from": migrate.BASELINE if versioned else "0.1.0", "to": migrate.head(),
                        "head": migrate.head()}
    with database(database_url) as db, db.connect() as conn:
        assert model_differences(conn) == []

    sent: list[tuple[str, str]] = []
    senders = {"email": lambda row: sent.append((row.target, row.subject)),
               "webhook": lambda row: sent.append((row.target, row.subject))}
    clock = ManualClock(datetime.fromisoformat(fixture["now"]))
    eng = Engine(Config(database_url=database_url), clock=clock, senders=senders)
    try:
        iid = fixture["instance_id"]
        old_audit = fixture["tables"]["audit_events"]["rows"]
        view = eng.show(iid)
        assert view.status == "running" and view.business_key == "INC-0042"
        assert [t.bpmn_id for t in view.tasks] == ["emergency_meeting"]
        assert view.tasks[0].role == "crisis_team"
        assert view.tasks[0].due_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        assert sorted(t.bpmn_id for t in view.timers) == ["orders_rto_elapsed", "payment_rto_elapsed"]
        assert len(view.timeline) == len(old_audit)

        # the notification 0.1.0 queued is delivered by the new version
        assert eng.deliver_notifications() == 1
        assert sent == [("alice@example.test", "System outage declared")]

        # the crisis team meets, the impact is assessed: the runbook goes on
        clock.advance(timedelta(minutes=10))
        eng.complete(view.tasks[0].task_id, {"meetingLocation": "room 2"}, actor="bob")
        assert [t.bpmn_id for t in eng.tasks(instance_id=iid)] == ["assess_impact"]

        # the payment RTO timer set by 0.1.0 fires at its due time, not before, and only once
        clock.set(datetime(2026, 3, 2, 10, 59, 59, tzinfo=UTC))
        assert eng.fire_due_timers() == 0
        clock.set(datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
        assert eng.fire_due_timers() == 1
        assert eng.fire_due_timers() == 0
        eng.deliver_notifications()
        breaches = [(to, s) for to, s in sent if "RTO breach" in s]
        assert breaches and breaches[0][0] == "grace@example.test"     # the continuity manager
        view = eng.show(iid)
        assert view.status == "running"
        assert [t.bpmn_id for t in view.timers] == ["orders_rto_elapsed"]
        assert [t.bpmn_id for t in view.tasks] == ["assess_impact"]
        assert next(t for t in view.targets if t.bpmn_id == "restore_payment").status == "missed"

        # the audit trail: 0.1.0's events untouched, the new ones appended after them
        events = [e.to_json() for e in view.timeline]
        assert len(events) > len(old_audit)
        assert [e.kind for e in view.timeline[:len(old_audit)]] == [r["kind"] for r in old_audit]
        assert any(e.kind == "task_completed" and e.bpmn_id == "emergency_meeting" and e.actor == "bob"
                   for e in view.timeline)
        with database(database_url) as db, db.connect() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM audit_events ORDER BY id"))]
        assert ids[:len(old_audit)] == [r["id"] for r in old_audit] and len(set(ids)) == len(ids)
    finally:
        eng.close()


# -- (d) the CLI --------------------------------------------------------------------------------

def test_db_current_on_a_fresh_database_does_not_create_anything(
        database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    assert cli(["db", "current", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info == {"revision": None, "head": migrate.head(), "state": "empty",
                    "pending": [r["revision"] for r in migrate.history()]}
    assert tables(database_url) == set()
    assert cli(["db", "upgrade"]) == 0
    assert f"created at {migrate.head()}" in capsys.readouterr().out
    assert cli(["db", "current", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "current"
    assert cli(["db", "upgrade", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["from"] == migrate.head()


def test_db_history_and_downgrade(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    assert cli(["db", "history", "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert history[0]["revision"] == "0001_baseline" and history[0]["down_revision"] is None
    assert history[-1]["head"] and history[-1]["revision"] == migrate.head()
    assert cli(["db", "upgrade", "--revision", "0001_baseline", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["to"] == "0001_baseline"
    assert cli(["db", "upgrade", "--json"]) == 0
    capsys.readouterr()
    assert cli(["db", "downgrade", "0001_baseline", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"from": migrate.head(), "to": "0001_baseline"}


@pytest.mark.parametrize("argv, message", [
    (["db", "upgrade", "--revision", "nope"], "unknown revision 'nope'"),
    (["db", "downgrade", "nope"], "unknown revision 'nope'"),
    (["db", "downgrade"], "needs the revision"),
])
def test_db_errors_are_one_line_on_stderr(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    assert cli([*argv, "--json"]) != 0
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and err.startswith("contiflow: ")


@pytest.mark.parametrize("url", ["nosuchdialect://x", "postgresql://nobody@127.0.0.1:1/none",
                                 "sqlite:////no/such/folder/contiflow.db"])
def test_db_current_with_a_bad_url_is_a_one_line_error(url: str, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", url)
    assert cli(["db", "current", "--json"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("contiflow: database: ")


# -- several processes starting together ------------------------------------------------------

STARTER = """
import sys, time
from pathlib import Path
from engine.store import migrate
url, barrier, n, released = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
(barrier / str(time.monotonic_ns())).touch()
deadline = time.monotonic() + 60
while len(list(barrier.iterdir())) < n and time.monotonic() < deadline:   # all imported: go together
    time.sleep(0.01)
migrate.upgrade(url) if released else migrate.ensure_schema(url)   # ensure_schema: what Engine() runs
"""


@pytest.mark.slow
@pytest.mark.parametrize("released", [False, True], ids=["empty", "0.1.0"])
def test_processes_starting_together_create_or_upgrade_the_schema_once(
        database_url: str, released: bool, tmp_path: Path) -> None:
    if released:
        make_released_database(database_url, versioned=False)
        load_rows(database_url, released_fixture())
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", STARTER, database_url, str(barrier), "3", str(int(released))],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with database(database_url) as db, db.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))] == [migrate.head()]
        assert model_differences(conn) == []
