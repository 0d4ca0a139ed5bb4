"""``Engine``: the one object the CLI, the web app and the tests use.

It wires configuration, database, clock, sandbox limits and the service registry, and
exposes every command and query with our own view types.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import engine.importer as importer
from engine import alerts, definitions, people, sandbox
from engine import schedules as process_schedules
from engine.clock import Clock, SystemClock
from engine.config import Config, load_config
from engine.definitions import known_keys, latest_definition_id, list_definitions, store_deployment
from engine.drills import schedules as drill_schedules
from engine.drills import service as drill_service
from engine.drills.scenario import Scenario
from engine.errors import ImportProblem, ImportRejected, InvalidInput, NotFound
from engine.notify.channels import default_senders
from engine.notify.outbox import Outbox
from engine.people import Person
from engine.runtime import inbox, queries
from engine.runtime.commands import InstanceCommands
from engine.notify.service import notify
from engine.services import ServiceRegistry, log_service
from engine.services.http_call import http_service
from engine.store.database import make_engine, make_read_engine, session_factory
from engine.store.migrate import create_schema
from engine.views import DefinitionView, ImportedProcess, InstanceView, TaskHistoryView, TaskView

MODEL_SUFFIXES = (".bpmn", ".dmn", ".bpmn20.xml", ".xml")
#: SpiffArena's form files (``x-schema.json``, ``x-uischema.json``): what a folder brings besides
#: models; other JSON in it (package.json, data) is left alone
FORM_SUFFIX = "schema.json"


class Engine:
    def __init__(self, config: Config | None = None, *, clock: Clock | None = None,
                 services: ServiceRegistry | None = None, senders: dict[str, Any] | None = None,
                 create: bool = True):
        self.config = config or load_config()
        self.clock = clock or SystemClock()
        self.services = services or default_registry(self.config.http_allowed_hosts)
        self.db = make_engine(self.config.database_url)
        if create:
            create_schema(self.db)
        self.sessions = session_factory(self.db)
        self._read_db = make_read_engine(self.config.database_url)
        #: sessions for single-statement reads on hot paths (autocommit on PostgreSQL)
        self.reads = session_factory(self._read_db) if self._read_db is not None else self.sessions
        self.commands = InstanceCommands(self.sessions, self.clock, self.services,
                                         sandbox.Limits(seconds=self.config.script_time_limit))
        self.outbox = Outbox(self.sessions, self.clock, senders or default_senders(self.config))

    def forget_inherited_connections(self) -> None:
        """In a forked child (gunicorn --preload): drop the parent's pooled connections without
        closing them (they are the parent's), so the child opens its own."""
        self.db.dispose(close=False)
        if self._read_db is not None:
            self._read_db.dispose(close=False)

    def close(self) -> None:
        self.db.dispose()
        if self._read_db is not None:
            self._read_db.dispose()

    # -- definitions -------------------------------------------------------------------
    def import_files(self, files: list[tuple[str, bytes]]) -> list[ImportedProcess]:
        """Import one deployment (all files together: call activities, DMN): all or nothing."""
        too_big = [ImportProblem(name, f"file is {len(data)} bytes; the limit is "
                                       f"{self.config.max_model_bytes} (CONTIFLOW_MAX_MODEL_BYTES)")
                   for name, data in files if len(data) > self.config.max_model_bytes]
        if too_big:
            raise ImportRejected(too_big)
        with self.sessions() as session:
            existing = known_keys(session)
        deployment = importer.parse_deployment(files, known_process_ids=existing)
        with self.sessions.begin() as session:
            return store_deployment(session, deployment, self.clock.now(), self.services)

    def import_report(self, files: list[tuple[str, bytes]], each: bool = False
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(imported, rejected) per file, as `contiflow import` and the upload page report them:
        one all-or-nothing deployment, or with ``each`` one per file."""
        imported: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        for group in ([[f] for f in files] if each else [files]):
            try:
                imported.extend(p.to_json() for p in self.import_files(group))
            except ImportRejected as exc:
                bad = {p.file for p in exc.problems}
                rejected.extend({"file": p.file, "line": p.line, "element_id": p.element_id, "message": p.message}
                                for p in exc.problems)
                rejected.extend({"file": name, "line": None, "element_id": None,
                                 "message": "not imported: another file of this deployment was rejected"}
                                for name, _ in group if name not in bad)
        return imported, rejected

    def import_paths(self, paths: Iterable[str | Path]) -> list[ImportedProcess]:
        return self.import_files(read_model_files(paths))

    def definitions(self, all_versions: bool = False) -> list[DefinitionView]:
        with self.sessions() as session:
            return list_definitions(session, all_versions)

    def executable_keys(self) -> list[str]:
        """Keys with an executable version, sorted (cheap: no definition is decoded)."""
        with self.sessions() as session:
            return queries.executable_keys(session)

    # -- instances ---------------------------------------------------------------------
    def start(self, key: str, data: dict[str, Any] | None = None, *, business_key: str | None = None,
              speed: float | None = None, actor: str | None = None, drill: bool = False) -> str:
        if data is not None and not isinstance(data, dict):
            raise InvalidInput("start data must be a JSON object")
        with self.sessions() as session:
            definition_id = latest_definition_id(session, key)
            if definition_id is None:
                raise NotFound(f"no definition with key '{key}' (see `contiflow definitions`)")
            definition = self.commands.definitions.get(session, definition_id)
        return self.commands.start(definition, dict(data or {}), business_key, speed, actor, drill)

    def complete(self, task_id: str, data: dict[str, Any] | None = None, *, actor: str | None = None) -> str:
        if data is not None and not isinstance(data, dict):
            raise InvalidInput("task data must be a JSON object")
        return self.commands.complete(task_id, dict(data or {}), actor)

    def cancel(self, instance_id: str, *, actor: str | None = None) -> None:
        self.commands.cancel(instance_id, actor)

    def retry(self, instance_id: str, data: dict[str, Any] | None = None, *, actor: str | None = None) -> list[str]:
        """Retry failed steps (instance in incident) and failed notifications of the instance."""
        requeued = self.outbox.requeue_failed(instance_id)
        if requeued and self.show(instance_id).status != "incident":
            return [f"{requeued} notification(s)"]
        return self.commands.retry(instance_id, dict(data or {}), actor)

    def declare_from_alertmanager(self, payload: Any) -> list[Any]:
        """Alertmanager webhook body -> runbook instances (see engine.alerts)."""
        return alerts.declare_from_alertmanager(self, payload)

    def deliver_notifications(self) -> int:
        """Send queued notifications that are due (the worker does this continuously)."""
        return self.outbox.deliver_due()

    # -- people ------------------------------------------------------------------------
    def load_people(self, text: str, source: str = "people file") -> tuple[int, int]:
        with self.sessions.begin() as session:
            return people.load_directory(session, text, source)

    def roles(self) -> list[people.Role]:
        with self.sessions() as session:
            return people.list_roles(session)

    def people(self) -> list[Person]:
        with self.sessions() as session:
            return people.list_people(session)

    def authenticate(self, username: str, password: str) -> Person | None:
        with self.sessions() as session:
            return people.authenticate(session, username, password)

    def roles_of(self, username: str) -> list[str]:
        with self.reads() as session:
            return people.roles_of(session, username)

    def fire_due_timers(self) -> int:
        """Run every instance with a timer due now (``contiflow worker --once``); returns how many."""
        count = 0
        seen: set[str] = set()
        for _ in range(10):               # in batches of 1,000, until nothing due is left
            batch = [i for i in self.commands.due_instances() if i not in seen]
            if not batch:
                break
            for instance_id in batch:
                seen.add(instance_id)
                if self.commands.fire_due(instance_id):
                    count += 1
        return count

    # -- queries -----------------------------------------------------------------------
    def tasks(self, instance_id: str | None = None, role: str | None = None, key: str | None = None,
              claimed_by: str | None = None, unclaimed: bool = False, not_claimed_by: str | None = None,
              limit: int | None = None, roles: list[str] | tuple[str, ...] | None = None) -> list[TaskView]:
        """All open tasks matching the filters (``roles``: only tasks of these roles), earliest
        deadline first, at most ``limit``.  With only instance/role filters (the engine's own hot
        path), ``key``/``business_key`` stay None."""
        with self.reads() as session:
            if not (key or claimed_by or unclaimed or not_claimed_by or limit is not None or roles is not None):
                return queries.list_tasks(session, instance_id, role)
            return inbox.select_tasks(session, roles, instance_id, role, key, claimed_by, unclaimed,
                                      not_claimed_by, limit, self.commands.definitions)

    def tasks_json(self, instance_id: str | None = None, role: str | None = None, key: str | None = None,
                   claimed_by: str | None = None, unclaimed: bool = False, not_claimed_by: str | None = None,
                   limit: int | None = None, roles: list[str] | tuple[str, ...] | None = None
                   ) -> list[dict[str, Any]]:
        """``tasks`` as JSON-ready dicts (``TaskView.to_json`` plus ``key`` and ``business_key``),
        for the inbox API: one query, no view objects."""
        with self.reads() as session:
            return inbox.task_dicts(session, inbox.Filters(roles, instance_id, role, key, claimed_by, unclaimed,
                                                           not_claimed_by), limit, self.commands.definitions)

    def tasks_count(self, instance_id: str | None = None, role: str | None = None, key: str | None = None,
                    claimed_by: str | None = None, unclaimed: bool = False,
                    not_claimed_by: str | None = None, roles: list[str] | tuple[str, ...] | None = None) -> int:
        with self.reads() as session:
            return inbox.count_tasks(session, roles, instance_id, role, key, claimed_by, unclaimed,
                                     not_claimed_by)

    def task(self, task_id: str) -> TaskView:
        with self.sessions() as session:
            return queries.get_task(session, task_id)

    def task_history(self, task_id: str) -> TaskHistoryView:
        """A task no longer open (completed by whom and when, or cancelled), from the audit
        trail; NotFound for unknown ids."""
        with self.reads() as session:
            return queries.task_history(session, task_id)

    def inbox(self, username: str, instance_id: str | None = None, role: str | None = None,
              key: str | None = None, claimed_by: str | None = None, unclaimed: bool = False,
              not_claimed_by: str | None = None, limit: int | None = None) -> list[TaskView]:
        """Tasks the user may see: those of their roles (primary or backup); admins see all.
        Earliest deadline first, at most ``limit``, each with its runbook key and business key."""
        with self.reads() as session:
            return inbox.inbox(session, username, instance_id, role, key, claimed_by, unclaimed,
                               not_claimed_by, limit)

    def inbox_count(self, username: str, instance_id: str | None = None, role: str | None = None,
                    key: str | None = None, claimed_by: str | None = None, unclaimed: bool = False,
                    not_claimed_by: str | None = None) -> int:
        """How many tasks ``inbox`` would return without a limit (one COUNT query)."""
        with self.reads() as session:
            return inbox.inbox_count(session, username, instance_id, role, key, claimed_by, unclaimed,
                                     not_claimed_by)

    def may_act(self, username: str, task_id: str) -> bool:
        with self.sessions() as session:
            return inbox.may_act(session, username, queries.get_task(session, task_id))

    def claim(self, task_id: str, username: str) -> TaskView:
        with self.sessions.begin() as session:
            return inbox.claim(session, task_id, username)

    def unclaim(self, task_id: str) -> TaskView:
        with self.sessions.begin() as session:
            return inbox.claim(session, task_id, None)

    def definition(self, key: str, version: int | None = None) -> DefinitionView:
        with self.sessions() as session:
            return definitions.to_view(definitions.get_definition(session, key, version))

    def task_metadata(self, key: str, version: int | None = None) -> dict[str, Any]:
        """BPMN id -> what the importer read about that element (name, kind, role, form, properties)."""
        with self.sessions() as session:
            return dict(definitions.get_definition(session, key, version).tasks or {})

    # -- drills ------------------------------------------------------------------------
    def run_drill(self, scenario: Scenario, pace: float | None = None, source: str = "scenario") -> dict[str, Any]:
        """A simulated drill of the scenario's runbook; returns (and stores) its report."""
        return drill_service.run_drill(self, scenario, pace, source=source)

    def drill_reports(self, key: str | None = None) -> list[dict[str, Any]]:
        return drill_service.list_reports(self, key)

    def drill_report(self, drill_id: int) -> dict[str, Any]:
        return drill_service.get_report(self, drill_id)

    def drill_trend(self, key: str) -> list[dict[str, Any]]:
        return drill_service.trend(self, key)

    def live_drill_report(self, instance_id: str) -> dict[str, Any]:
        return drill_service.live_report(self, instance_id)

    def schedule_drill(self, scenario: Scenario, every: str | None = None, cron: str | None = None) -> dict[str, Any]:
        """A recurring simulated drill (``every="P3M"`` is quarterly); returns it with its next run."""
        return drill_schedules.schedule(self, scenario, every, cron)

    def drill_schedules(self) -> list[dict[str, Any]]:
        return drill_schedules.list_schedules(self)

    def unschedule_drill(self, schedule_id: int) -> None:
        drill_schedules.unschedule(self, schedule_id)

    def run_due_drills(self) -> list[int]:
        """Start the scheduled processes (the quarterly plan review) and run the scheduled
        drills whose time has come (the worker does this); the new drill report ids."""
        process_schedules.run_due(self)
        return drill_schedules.run_due(self)

    def next_scheduled_run(self) -> datetime | None:
        """The earliest scheduled drill or process: when the worker must wake next."""
        due = [m for m in (drill_schedules.next_due(self), process_schedules.next_due(self)) if m is not None]
        return min(due) if due else None

    def diagram(self, key: str, version: int | None = None) -> tuple[str, bytes]:
        """(file name, original BPMN bytes) of a definition version, for bpmn-js to render."""
        with self.sessions() as session:
            return definitions.source_of(session, key, version)

    def element_states(self, instance_id: str) -> dict[str, str]:
        """BPMN element id -> completed | active | overdue | failed | cancelled, for the diagram."""
        with self.sessions() as session:
            return queries.element_states(session, instance_id, self.clock.now())

    def instances(self, status: str | None = None, key: str | None = None) -> list[InstanceView]:
        with self.sessions() as session:
            return queries.list_instances(session, status, key)

    def show(self, instance_id: str) -> InstanceView:
        with self.sessions() as session:
            return queries.show_instance(session, instance_id, self.clock.now())


def default_registry(http_allowed_hosts: tuple[str, ...] = ()) -> ServiceRegistry:
    """The built-in services (composed here, at the root: the registry never imports them)."""
    registry = ServiceRegistry()
    registry.register("log", log_service)
    registry.register("notify", notify)
    registry.register("http", http_service(http_allowed_hosts))
    return registry


def read_model_files(paths: Iterable[str | Path]) -> list[tuple[str, bytes]]:
    """Files as given, folders expanded to their BPMN/DMN files and JSON form schemas (sorted, so
    results are stable)."""
    files: list[tuple[str, bytes]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and p.name.lower().endswith((*MODEL_SUFFIXES, FORM_SUFFIX)))
            files.extend((str(p), p.read_bytes()) for p in found)
        elif path.is_file():
            files.append((str(path), path.read_bytes()))
        else:
            raise InvalidInput(f"{path}: no such file or folder")
    if not files:
        raise InvalidInput("no BPMN or DMN files found in " + ", ".join(str(p) for p in paths))
    return files
