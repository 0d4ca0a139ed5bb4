"""The three ways of running an instance that the benchmarks compare.

Every driver has the same shape so the harness can time them alike:
``start(data) -> handle``, ``step(handle)`` completes one ready user task (with everything
the engine does after it), ``done(handle)``, and ``verify(handle)`` (untimed) checks the
instance really completed.

(a) ``MemoryDriver``   raw SpiffWorkflow in memory.
(b) ``FloorDriver``    (a) + stock serializer + one plain SQL commit per step, and a reload
                        (SELECT + deserialize) at the next step: the floor of any engine that
                        persists state per command.
(c) ``ContiflowDriver`` contiflow's public ``Engine`` API (``bench.contiflow_driver``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Iterator
from typing import Any, Protocol

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from bench.modelgen import Model

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


class Driver(Protocol):
    name: str

    def start(self, data: dict[str, Any]) -> Any: ...
    def step(self, handle: Any) -> None: ...
    def done(self, handle: Any) -> bool: ...
    def verify(self, handle: Any) -> None: ...


@contextlib.contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    """SpiffWorkflow's parser recurses once per sequence flow: long chains need headroom."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _strip_camunda(root: Any) -> Any:
    """A copy without camunda:* attributes and extension elements (fallback only)."""
    root = etree.fromstring(etree.tostring(root))
    for el in root.iter():
        for attr in [a for a in el.attrib if a.startswith("{" + CAMUNDA_NS + "}")]:
            del el.attrib[attr]
    for ext in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}extensionElements"):
        ext.getparent().remove(ext)
    return root


def parse_spec(model: Model) -> tuple[Any, dict[str, Any]]:
    """The model parsed straight with SpiffBpmnParser (no contiflow importer)."""
    root = etree.fromstring(model.read())
    with recursion_limit(20_000):
        for candidate in (root, None):
            try:
                parser = SpiffBpmnParser()
                parser.add_bpmn_xml(candidate if candidate is not None else _strip_camunda(root),
                                    filename=model.path.name)
                return parser.get_spec(model.process_id), parser.get_subprocess_specs(model.process_id)
            except ValidationException:
                if candidate is None:
                    raise
    raise AssertionError("unreachable")


def _run_one_ready(wf: BpmnWorkflow, data: dict[str, Any]) -> None:
    ready = wf.get_tasks(state=TaskState.READY, manual=True)
    if not ready:
        raise RuntimeError("no ready user task, but the workflow is not completed")
    task = ready[0]
    task.data.update(data)
    task.run()
    wf.do_engine_steps()


class MemoryDriver:
    """(a) raw SpiffWorkflow, in memory."""

    name = "a_spiff_memory"

    def __init__(self, spec: Any, subs: dict[str, Any], step_data: dict[str, Any]):
        self.spec, self.subs, self.data = spec, subs, step_data

    def start(self, data: dict[str, Any]) -> BpmnWorkflow:
        wf = BpmnWorkflow(self.spec, self.subs)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        wf.do_engine_steps()
        return wf

    def step(self, wf: BpmnWorkflow) -> None:
        _run_one_ready(wf, self.data)

    def done(self, wf: BpmnWorkflow) -> bool:
        return wf.is_completed()

    def verify(self, wf: BpmnWorkflow) -> None:
        if not wf.is_completed():
            raise RuntimeError("raw workflow did not complete")


class SqliteStateStore:
    """One table of JSON states; WAL, synchronous=NORMAL; one commit per write."""

    backend = "sqlite"

    def __init__(self, path: str):
        self.conn = sqlite3.connect(path, isolation_level="DEFERRED")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS bench_state "
                          "(id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL)")
        self.conn.commit()

    def insert(self, state: str) -> int:
        cur = self.conn.execute("INSERT INTO bench_state (state) VALUES (?)", (state,))
        self.conn.commit()
        return int(cur.lastrowid or 0)

    def load(self, row_id: int) -> str:
        return str(self.conn.execute("SELECT state FROM bench_state WHERE id = ?", (row_id,)).fetchone()[0])

    def save(self, row_id: int, state: str) -> None:
        self.conn.execute("UPDATE bench_state SET state = ? WHERE id = ?", (state, row_id))
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class PostgresStateStore:
    """The same table on PostgreSQL (psycopg 3), for a same-database floor."""

    backend = "postgresql"

    def __init__(self, url: str):
        import psycopg
        self.conn = psycopg.connect(url)
        self.conn.execute("CREATE TABLE IF NOT EXISTS bench_state "
                          "(id BIGSERIAL PRIMARY KEY, state TEXT NOT NULL)")
        self.conn.commit()

    def insert(self, state: str) -> int:
        row = self.conn.execute("INSERT INTO bench_state (state) VALUES (%s) RETURNING id",
                                (state,)).fetchone()
        self.conn.commit()
        return int(row[0])

    def load(self, row_id: int) -> str:
        row = self.conn.execute("SELECT state FROM bench_state WHERE id = %s", (row_id,)).fetchone()
        self.conn.commit()
        return str(row[0])

    def save(self, row_id: int, state: str) -> None:
        self.conn.execute("UPDATE bench_state SET state = %s WHERE id = %s", (state, row_id))
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class FloorDriver:
    """(b) (a) + serialize_json after each step, one commit, deserialize at the next step."""

    def __init__(self, spec: Any, subs: dict[str, Any], step_data: dict[str, Any],
                 store: SqliteStateStore | PostgresStateStore):
        self.spec, self.subs, self.store, self.data = spec, subs, store, step_data
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.name = f"b_floor_{store.backend}"
        self.state_bytes = 0

    def start(self, data: dict[str, Any]) -> dict[str, Any]:
        wf = BpmnWorkflow(self.spec, self.subs)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        wf.do_engine_steps()
        state = self.serializer.serialize_json(wf)
        self.state_bytes = len(state)
        return {"id": self.store.insert(state), "done": wf.is_completed()}

    def step(self, handle: dict[str, Any]) -> None:
        wf = self.serializer.deserialize_json(self.store.load(handle["id"]))
        _run_one_ready(wf, self.data)
        state = self.serializer.serialize_json(wf)
        self.state_bytes = len(state)
        self.store.save(handle["id"], state)
        handle["done"] = wf.is_completed()

    def done(self, handle: dict[str, Any]) -> bool:
        return bool(handle["done"])

    def verify(self, handle: dict[str, Any]) -> None:
        wf = self.serializer.deserialize_json(self.store.load(handle["id"]))
        if not wf.is_completed():
            raise RuntimeError("floor workflow did not complete")
