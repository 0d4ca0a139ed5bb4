"""A simulated drill: the real runbook, in a private database, on a virtual clock that jumps
from one event (a timer falling due, a simulated responder answering) to the next.

A four-hour runbook therefore runs in well under a second, two drills never touch each other
or real incidents, and the same timers, escalations and targets apply as in a real incident.
With ``pace`` the virtual clock is slowed to ``speed`` times wall time (for demonstrations).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from engine.clock import ManualClock
from engine.config import Config
from engine.drills.recording import RecordingRegistry
from engine.drills.responders import answers
from engine.drills.scenario import Scenario
from engine.errors import Conflict, InvalidInput
from engine.views import InstanceView

#: a drill that has not finished after this much virtual time is stopped (and reported so)
MAX_VIRTUAL_TIME = timedelta(days=30)
MAX_EVENTS = 10_000


@dataclass
class DrillRun:
    view: InstanceView
    started_at: datetime
    stopped_reason: str | None
    roles: dict[str, list[str]]


def directory_yaml(people: list[Any], roles: list[Any]) -> str:
    """The live people directory, copied into the drill's private database."""
    return yaml.safe_dump({
        "users": [{"username": p.username, "name": p.name, "email": p.email} for p in people],
        "roles": {r.name: {"description": r.description, "primary": r.primary, "backup": r.backup}
                  for r in roles},
    })


def run_simulated(source: tuple[str, bytes], scenario: Scenario, directory: str, start: datetime,
                  pace: float | None = None, *, new_engine: Callable[..., Any]) -> DrillRun:
    """``new_engine``: the Engine class (passed in: ``engine.api`` builds on this package)."""
    clock = ManualClock(start)
    with tempfile.TemporaryDirectory(prefix="contiflow-drill-") as folder:
        config = Config(database_url=f"sqlite:///{Path(folder) / 'drill.db'}")
        engine = new_engine(config, clock=clock, services=RecordingRegistry())
        try:
            engine.load_people(directory, source="people directory")
            engine.import_files([source])
            instance_id = engine.start(scenario.runbook, dict(scenario.data), actor="drill", drill=True)
            reason = _drive(engine, clock, instance_id, scenario, start, pace)
            roles = {r.name: r.primary + r.backup for r in engine.roles()}
            return DrillRun(engine.show(instance_id), start, reason, roles)
        finally:
            engine.close()


def _drive(engine: Any, clock: ManualClock, instance_id: str, scenario: Scenario, start: datetime,
           pace: float | None) -> str | None:
    answer_at: dict[str, datetime] = {}
    for _ in range(MAX_EVENTS):
        view = engine.show(instance_id)
        if view.status != "running":
            return None if view.status == "completed" else f"instance ended {view.status}"
        open_tasks = {t.task_id: t for t in view.tasks}
        for task_id in list(answer_at):
            if task_id not in open_tasks:
                del answer_at[task_id]          # withdrawn (an escalation got there first)
        for task in view.tasks:
            answer_at.setdefault(task.task_id, task.ready_at + scenario.response_for(task.bpmn_id).after)
        wake = engine.commands.next_wake_at()
        moments = [m for m in [wake, *answer_at.values()] if m is not None]
        if not moments:
            return "stalled: no open task and no pending timer"
        moment = max(min(moments), clock.now())
        if moment - start > MAX_VIRTUAL_TIME:
            return f"stopped after {MAX_VIRTUAL_TIME.days} days of virtual time"
        if pace:
            time.sleep(max(0.0, (moment - clock.now()).total_seconds() / pace))
        clock.set(moment)
        engine.fire_due_timers()               # a timer due now beats an answer due now
        still_open = {t.task_id: t for t in engine.tasks(instance_id=instance_id)}
        for task_id, when in sorted(answer_at.items(), key=lambda item: item[1]):
            task = still_open.get(task_id)
            if when > moment or task is None:
                continue
            response = scenario.response_for(task.bpmn_id)
            try:
                engine.complete(task_id, answers(task.form, response.data), actor=f"drill:{task.role or 'responder'}")
            except Conflict:
                pass                             # withdrawn in the same instant
            except InvalidInput as exc:
                raise InvalidInput(f"scenario answer for '{task.bpmn_id}': {exc}") from None
            del answer_at[task_id]
    return f"stopped after {MAX_EVENTS} events"
