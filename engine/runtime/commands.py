"""Commands on instances, each one transaction: lock, load, act, run engine steps, save,
rewrite projections, commit.  Two responders racing for a task: one wins, one gets Conflict."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import people, sandbox
from engine.clock import Clock, FixedClock, ScaledClock, isoformat
from engine.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from engine.forms import defaults as form_defaults
from engine.forms import validate_submission
from engine.notify import outbox
from engine.runtime import projections
from engine.runtime import statements as sql
from engine.runtime.definition_cache import DefinitionCache, DefinitionInfo
from engine.services import ServiceCall, ServiceRegistry
from engine.spiff import serializer
from engine.spiff import workflow_ops as ops
from engine.spiff.script_engine import SandboxScriptEngine
from engine.spiff.timer_bridge import clock_in_effect
from engine.store.models import AuditEventRow, InstanceRow, TimerRow

Action = Callable[[Any, "CommandContext"], None]


@dataclass
class CommandContext:
    """What one command knows while SpiffWorkflow runs: who acts, and what services recorded."""

    instance_id: str
    actor: str | None
    drill: bool
    clock: Clock
    registry: ServiceRegistry
    records: list[tuple[str, str | None, str | None, dict[str, Any]]] = field(default_factory=list)
    completed_by_actor: set[str] = field(default_factory=set)
    cancelled: bool = False
    session: Session | None = None
    outbox: list[dict[str, Any]] = field(default_factory=list)
    timers_before: list[ops.PendingTimer] = field(default_factory=list)
    ready_before: list[ops.ReadyTask] = field(default_factory=list)
    form_data: dict[str, Any] = field(default_factory=dict)

    def call_service(self, task: Any, name: str, params: dict[str, Any]) -> Any:
        session = self.session
        call = ServiceCall(service=name, params=params, instance_id=self.instance_id,
                           task_id=str(task.id), bpmn_id=ops.bpmn_id(task), attempt=1,
                           at=self.clock.now(), drill=self.drill,
                           directory=(lambda target: people.addressees(session, target))
                           if session else None)
        try:
            result = self.registry.call(call)
        finally:
            for kind, detail in call.records:
                self.records.append((kind, call.bpmn_id, call.task_id, detail))
        self.outbox.extend({**item, "task_id": call.task_id, "bpmn_id": call.bpmn_id}
                           for item in call.outbox)
        return result


class _NothingDue(Exception):
    """A worker's claim found nothing to do (rolled back, never seen outside this module)."""

    def __init__(self, held: bool):
        super().__init__()
        self.held = held


class _TimersDueFirst(Exception):
    """A completion found timers of its instance already overdue (no worker got there yet):
    they fell due first, so they fire first (rolled back, never seen outside this module)."""

    def __init__(self, instance_id: str):
        super().__init__(instance_id)
        self.instance_id = instance_id


def start_form_defaults(definition: DefinitionInfo) -> dict[str, Any]:
    """Defaults declared on the start event's form seed the instance's data."""
    seeded: dict[str, Any] = {}
    for meta in (definition.tasks or {}).values():
        if meta.get("kind") == "startEvent":
            seeded.update(form_defaults(meta.get("form") or []))
    return seeded


class InstanceCommands:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, registry: ServiceRegistry,
                 limits: sandbox.Limits):
        self.sessions, self.clock, self.registry, self.limits = sessions, clock, registry, limits
        self.definitions = DefinitionCache()
        #: task id -> instance id for tasks this process saw become ready (saves a query per
        #: completion; ids are unique forever, so an entry can be missing but never wrong)
        self._task_owner: dict[str, str] = {}
        #: called after each committed command with the instance id and the earliest moment it
        #: needs waking (a timer, or now for queued notifications); the timer scheduler listens
        self.after_commit: list[Callable[[str, datetime | None], None]] = []
        self._wake: dict[str, datetime | None] = {}
        #: due instances this process skipped because another transaction held them (the
        #: timer service then retries shortly instead of at once)
        self.skipped_held = 0

    def _committed(self, instance_id: str) -> None:
        wake = self._wake.pop(instance_id, None)
        for listener in self.after_commit:
            listener(instance_id, wake)

    # -- clocks ------------------------------------------------------------------------
    def instance_clock(self, row: Any, base: Clock) -> Clock:
        """The instance's clock for one command, on the command's fixed ``base`` instant."""
        if row.speed and row.wall_anchor is not None:
            return ScaledClock(row.speed, row.started_at, row.wall_anchor, base=base)
        return base

    @staticmethod
    def _to_wall(clock: Clock) -> Callable[[datetime], datetime]:
        if isinstance(clock, ScaledClock):
            return clock.to_wall
        return lambda moment: moment

    def _script_engine(self, ctx: CommandContext) -> SandboxScriptEngine:
        return SandboxScriptEngine(ctx.call_service, self.limits)

    # -- commands ----------------------------------------------------------------------
    def start(self, definition: DefinitionInfo, data: dict[str, Any], business_key: str | None,
              speed: float | None, actor: str | None, drill: bool = False) -> str:
        if not definition.executable or not definition.spec:
            raise InvalidTransition(f"definition '{definition.key}' v{definition.version} is model-only "
                                    f"(not executable): it can be viewed and analysed, not started")
        if speed is not None and speed <= 0:
            raise InvalidInput("--speed must be a positive number")
        data = {**start_form_defaults(definition), **data}
        instance_id = uuid.uuid4().hex
        base = FixedClock(self.clock.now())
        now = base.now()
        row = InstanceRow(id=instance_id, definition_id=definition.id, business_key=business_key,
                          status="running", state="{}", lock_version=-1, started_at=now,
                          speed=speed, wall_anchor=now if speed else None, drill=drill, updated_at=now,
                          ended_at=None)
        with self.sessions.begin() as session:
            clock = self.instance_clock(row, base)
            ctx = CommandContext(instance_id, actor, drill, clock, self.registry, session=session)
            with clock_in_effect(clock):
                wf = serializer.new_workflow(definition.sha256, definition.spec, self._script_engine(ctx))
                for task in wf.get_tasks(state=ops.READY):
                    task.data.update(data)
                failure = ops.advance(wf, clock)
            audit = projections.AuditWriter(instance_id, clock.now, base.now, actor)
            audit.add("instance_started", key=definition.key, version=definition.version,
                      business_key=business_key, data=data, speed=speed, drill=drill)
            self._save(session, row, definition, wf, {}, ctx, failure, clock, base, audit, initial=True)
        self._committed(instance_id)
        return instance_id

    def complete(self, task_id: str, data: dict[str, Any], actor: str | None) -> str:
        """Complete a human task.  Timers of the instance that were already overdue (a worker
        was down or busy) fire first, in their own transaction, as they would have: a late
        acknowledgement must not cancel an SLA escalation whose time had come.  A timer due at
        the very instant of the completion does not: the responder made it in time."""
        fire_overdue_first = True

        def act(wf: Any, ctx: CommandContext) -> None:
            now = ctx.clock.now()
            if fire_overdue_first and any(t.due_at < now for t in ctx.timers_before):
                raise _TimersDueFirst(ctx.instance_id)
            task = ops.find_task(wf, task_id)
            if not ops.is_ready_human(task):
                assert ctx.session is not None
                done = self._missing_task(ctx.session, task_id)
                raise done if isinstance(done, Conflict) else Conflict(
                    f"task {task_id} was already completed or is no longer ready")
            ops.complete_task(wf, task_id, ctx.form_data)
            ctx.completed_by_actor.add(task_id)
        try:
            return self._run(None, actor, act, task=(task_id, data))
        except _TimersDueFirst as overdue:
            self._run(overdue.instance_id, None, lambda wf, ctx: None, allowed=("running", "incident"))
        fire_overdue_first = False        # once: a cycle timer cannot hold the responder off
        return self._run(None, actor, act, task=(task_id, data))

    def cancel(self, instance_id: str, actor: str | None) -> None:
        def act(wf: Any, ctx: CommandContext) -> None:
            ops.cancel(wf)
            ctx.cancelled = True
        self._run(instance_id, actor, act, allowed=("running", "incident"))

    def retry(self, instance_id: str, data: dict[str, Any], actor: str | None) -> list[str]:
        retried: list[str] = []

        def act(wf: Any, ctx: CommandContext) -> None:
            retried.extend(ops.reset_for_retry(wf, data))
        self._run(instance_id, actor, act, allowed=("incident",), audit_kind="instance_retried",
                  audit_detail={"data": data})
        return retried

    def fire_due(self, instance_id: str) -> bool:
        """Run an instance whose timers are due (worker); False when there was nothing to do.

        On PostgreSQL the instance is claimed with ``FOR UPDATE SKIP LOCKED``: an instance that
        another worker (or a responder's command) holds is skipped, not waited for — whoever
        holds it runs its due timers, or the next sweep does.  Under the claim the timer is
        checked again, so a timer another worker fired meanwhile is not fired twice.  On SQLite
        the version column lets exactly one of two racing workers commit."""
        try:
            self._run(instance_id, None, lambda wf, ctx: None, allowed=("running", "incident"), claim_due=True)
        except _NothingDue as skipped:
            if skipped.held:
                self.skipped_held += 1
            return False
        except (Conflict, InvalidTransition):
            return False
        return True

    def due_instances(self, limit: int = 1000) -> list[str]:
        with self.sessions() as session:
            rows = session.execute(
                select(TimerRow.instance_id).where(TimerRow.wake_at <= self.clock.now())
                .order_by(TimerRow.wake_at).limit(limit)).scalars().all()
        return list(dict.fromkeys(rows))

    def next_wake_at(self) -> datetime | None:
        """The earliest pending timer on the engine clock (what the scheduler sleeps until)."""
        with self.sessions() as session:
            return session.scalars(select(func.min(TimerRow.wake_at))).first()

    # -- the transaction -----------------------------------------------------------------
    def _run(self, instance_id: str | None, actor: str | None, action: Action,
             allowed: tuple[str, ...] = ("running",), task: tuple[str, dict[str, Any]] | None = None,
             audit_kind: str | None = None, audit_detail: dict[str, Any] | None = None,
             claim_due: bool = False) -> str:
        """Lock, load, act, advance, save — one transaction.  With ``task`` (id, form data) the
        instance is found from the open task and the data checked against its form first.
        ``claim_due`` (workers): skip an instance held elsewhere or with no timer due any more."""
        base = FixedClock(self.clock.now())
        with self.sessions.begin() as session:
            conn = session.connection()
            if task is not None:
                instance_id = self._task_owner.get(task[0])
                if instance_id is None:
                    task_row = conn.execute(sql.TASK_OWNER, {"task_id": task[0]}).first()
                    if task_row is None:
                        raise self._missing_task(session, task[0])
                    instance_id = task_row.instance_id
            assert instance_id is not None
            if claim_due:
                row = conn.execute(sql.CLAIM_INSTANCE, {"instance_id": instance_id}).first()
                if row is None:
                    raise _NothingDue(held=True)     # held by another transaction (or gone)
                if conn.execute(sql.DUE_TIMER, {"instance_id": instance_id, "now": base.now()}).first() is None:
                    raise _NothingDue(held=False)    # fired meanwhile by whoever held it
            else:
                row = conn.execute(sql.LOCK_INSTANCE, {"instance_id": instance_id}).first()
            if row is None:
                raise NotFound(f"no instance '{instance_id}'")
            if row.status not in allowed:
                if task is not None:
                    done = self._missing_task(session, task[0])
                    raise done if isinstance(done, Conflict) else Conflict(
                        f"task {task[0]} can no longer be completed: instance is {row.status}")
                raise InvalidTransition(f"instance {instance_id} is {row.status}; "
                                        f"this needs it to be {' or '.join(allowed)}")
            definition = self.definitions.get(session, row.definition_id)
            assert definition.spec is not None
            clock = self.instance_clock(row, base)
            ctx = CommandContext(instance_id, actor, row.drill, clock, self.registry, session=session)
            with clock_in_effect(clock):
                wf = serializer.restore_workflow(definition.sha256, definition.spec, json.loads(row.state),
                                                 self._script_engine(ctx))
                before = ops.snapshot(wf)
                ctx.timers_before = ops.pending_timers(wf)
                ctx.ready_before = ops.ready_human_tasks(wf)
                if task is not None:
                    ctx.form_data = self._checked_form_data(session, definition, ctx.ready_before, *task)
                action(wf, ctx)
                failure = ops.advance(wf, clock)
            audit = projections.AuditWriter(instance_id, clock.now, base.now, actor)
            if audit_kind:
                audit.add(audit_kind, **(audit_detail or {}))
            self._save(session, row, definition, wf, before, ctx, failure, clock, base, audit)
        self._committed(instance_id)
        return instance_id

    def _save(self, session: Session, row: Any, definition: DefinitionInfo, wf: Any,
              before: dict[str, tuple[int, str]], ctx: CommandContext, failure: ops.Failure | None,
              clock: Clock, base: Clock, audit: projections.AuditWriter, initial: bool = False) -> None:
        now = clock.now()
        previous_status = None if initial else row.status
        status = self._status(wf, ctx, failure)
        values = {"state": json.dumps(serializer.workflow_state(wf), default=str), "status": status,
                  "lock_version": row.lock_version + 1, "updated_at": base.now(),
                  "ended_at": now if status in ("completed", "cancelled") else None}
        conn = session.connection()
        if initial:
            conn.execute(sql.INSERT_INSTANCE, {
                "id": row.id, "definition_id": row.definition_id, "business_key": row.business_key,
                "started_at": row.started_at, "speed": row.speed, "wall_anchor": row.wall_anchor,
                "drill": row.drill, **values})
        else:
            result = conn.execute(sql.SAVE_INSTANCE, {"instance_id": row.id,
                                                      "expected_version": row.lock_version, **values})
            if result.rowcount != 1:
                raise Conflict(f"instance {row.id} was changed by someone else; reload and try again")
        after = ops.snapshot(wf)
        live = status in ("running", "incident")
        timers = ops.pending_timers(wf) if live else []
        ready_after = ops.ready_human_tasks(wf) if live else []
        projections.audit_timers_fired(audit, ctx.timers_before, after, now)
        due = projections.due_times(row, definition.tasks, ready_after, timers)
        projections.audit_changes(audit, before, after, definition.tasks, ctx.completed_by_actor, due)
        for kind, bpmn_id, task_id, detail in ctx.records:
            audit.add(kind, bpmn_id=bpmn_id, task_id=task_id, actor="engine", **detail)
        outbox.enqueue(session, row.id, ctx.outbox, base.now())
        projections.sync_human_tasks(session, row, definition.tasks, ctx.ready_before, ready_after, due, now)
        self._remember_owners(row.id, ready_after)
        to_wall = self._to_wall(clock)
        projections.sync_timers(session, row.id, ctx.timers_before, timers, to_wall)
        wakes = [to_wall(t.due_at) for t in timers] + ([base.now()] if ctx.outbox else [])
        self._wake[row.id] = min(wakes) if wakes else None
        if failure is not None:
            projections.record_incident(session, row.id, failure, now, audit)
        elif status != "incident" and previous_status == "incident":
            projections.resolve_incidents(session, row.id, now, audit)
        if status in ("completed", "cancelled"):
            audit.add(f"instance_{status}", data=ops.final_data(wf) if status == "completed" else {})
        audit.write(session)

    def _checked_form_data(self, session: Session, definition: DefinitionInfo, ready: list[ops.ReadyTask],
                           task_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """The submission checked against the task's form, before anything changes."""
        match = next((t for t in ready if t.task_id == task_id), None)
        if match is None:
            raise self._missing_task(session, task_id)
        form = (definition.tasks.get(match.bpmn_id) or {}).get("form") or []
        return validate_submission(list(form), data)

    def _remember_owners(self, instance_id: str, ready: list[ops.ReadyTask]) -> None:
        if len(self._task_owner) > 200_000:
            self._task_owner.clear()
        for task in ready:
            self._task_owner[task.task_id] = instance_id

    @staticmethod
    def _status(wf: Any, ctx: CommandContext, failure: ops.Failure | None) -> str:
        if ctx.cancelled:
            return "cancelled"
        if failure is not None or ops.errored_tasks(wf):
            return "incident"
        return "completed" if ops.is_completed(wf) else "running"

    @staticmethod
    def _missing_task(session: Session, task_id: str) -> Exception:
        done = session.scalars(select(AuditEventRow).where(
            AuditEventRow.task_id == task_id, AuditEventRow.kind.in_(("task_completed", "task_cancelled")))
            .order_by(AuditEventRow.id.desc()).limit(1)).first()
        if done is not None and done.kind == "task_cancelled":
            return Conflict(f"task {task_id} was withdrawn at {isoformat(done.at)} "
                            f"(its deadline escalated it, or the process moved on)")
        if done is not None:
            who = f" by {done.actor}" if done.actor and done.actor != "engine" else ""
            return Conflict(f"task {task_id} was already completed{who} at {isoformat(done.at)}")
        return NotFound(f"no open task '{task_id}'")
