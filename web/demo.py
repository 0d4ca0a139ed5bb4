"""The demo set-up behind `contiflow serve --demo`: the demo people (password "demo"), the
bundled processes and runbooks, one declared incident and the quarterly plan review on its
schedule (P3M), so a first run shows a working inbox.  Demo notifications are written to the
log instead of being sent."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engine import schedules
from engine.api import Engine, read_model_files
from engine.errors import EngineError, ImportRejected
from web.settings import ROOT

log = logging.getLogger("contiflow.demo")

DEMO_INCIDENT = ("system_outage", "DEMO-1", {"incidentSummary": "Payment and order systems unreachable (demo)"})


class LogSender:
    """Stands in for SMTP and webhooks in the demo: every message is logged, none leaves."""

    def __init__(self, channel: str):
        self.channel = channel

    def __call__(self, row: Any) -> None:
        log.warning("demo %s to %s (%s): %s", self.channel, row.addressee, row.target, row.subject)


def demo_senders() -> dict[str, Any]:
    return {"email": LogSender("email"), "webhook": LogSender("webhook")}


def seed(engine: Engine, root: Path = ROOT) -> list[str]:
    """Fill an empty database; a database that has definitions already is left alone."""
    done: list[str] = []
    if not engine.people():
        users, roles = engine.load_people((root / "runbooks" / "people.yaml").read_text(), "runbooks/people.yaml")
        done.append(f"loaded {users} demo user(s) and {roles} role(s) (password: demo)")
    if engine.definitions():
        return done
    imported = 0
    for name, content in read_model_files([root / "bpmn", root / "runbooks"]):
        try:
            imported += len(engine.import_files([(Path(name).name, content)]))
        except ImportRejected as exc:
            log.warning("demo: %s not imported: %s", name, exc)
    done.append(f"imported {imported} bundled process(es)")
    try:
        review = schedules.ensure(engine, schedules.PLAN_REVIEW, "P3M")
        if review:
            done.append(f"scheduled the quarterly plan review (next {review['next_run_at']})")
    except EngineError as exc:
        log.warning("demo: plan review not scheduled: %s", exc)
    key, business_key, summary = DEMO_INCIDENT
    try:
        engine.start(key, summary, business_key=business_key, actor="demo")
        done.append(f"declared the demo incident {key} {business_key}")
    except EngineError as exc:
        log.warning("demo: incident not declared: %s", exc)
    return done
