"""Crash-safety soak test (issue 7): hundreds of runbook instances with timers and
notifications, driven through the JSON API of real web processes while real ``contiflow
worker`` processes fire timers and deliver notifications — and a chaos thread SIGKILLs a random
worker or web process every few seconds and starts it again.  Then, from the database and the
receivers: every instance completed, every timer fired exactly once (never early, never lost),
every notification queued once, sent once and received — raw receipts and distinct by
idempotency key reported separately — the audit trail complete, no incident.

What is and is not guaranteed, and what this test holds the engine to:

* Timers and engine state: exactly once.  A command is one transaction holding the instance
  row lock; a process killed mid-command leaves nothing behind (PostgreSQL rolls back).
* Notifications: the outbox row is written in the command's transaction (queued exactly once);
  delivery claims the row (pending -> sending) before sending.  A worker killed after the claim
  and before recording the result leaves a ``sending`` row that another worker takes over only
  after ``STALE_CLAIM``.  If it died *after* the receiver got the message, the takeover sends
  it again: at-least-once on the wire.  Webhooks carry ``Idempotency-Key`` (the row's key) and
  mails ``X-Contiflow-Notification`` (the same key), so receivers can deduplicate: exactly once
  *distinct*.  The test asserts no message is lost, none is received under a key the outbox does
  not hold, and every raw duplicate belongs to a row whose claim was taken over.
* The stale-claim window (minutes) is longer than this test, so after the cluster is stopped the
  test runs the takeover itself with an engine whose clock is ``STALE_CLAIM`` ahead: it tests
  the promise, not the waiting.

Runs on PostgreSQL only (several processes on one SQLite file is not the production layout):
skipped unless CONTIFLOW_TEST_DATABASE_URL is set.  Knobs (environment): CONTIFLOW_SOAK_INSTANCES
(default 300), CONTIFLOW_SOAK_CHAOS_SECONDS (default 75), CONTIFLOW_SOAK_SEED (default random;
printed in the summary to replay a run).  Run alone with:

    CONTIFLOW_TEST_DATABASE_URL=postgresql://... .venv/bin/pytest -m soak -s tests/test_soak.py
"""

from __future__ import annotations

import json
import os
import random
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.api import Engine
from engine.clock import SystemClock
from engine.config import Config
from engine.notify.outbox import STALE_CLAIM
from engine.store.models import AuditEventRow, IncidentRow, InstanceRow, NotificationRow, TimerRow
from tests.conftest import FIXTURES, PG_URL, private_pg_schema
from tests.receivers import SmtpReceiver, WebhookReceiver, free_port
from tests.soak_support import ApiClient, Chaos, Cluster, Unavailable, has_wsgi_entry

MODEL = FIXTURES / "soak" / "soak_runbook.bpmn"
KEY = "soak_runbook"
INSTANCES = int(os.environ.get("CONTIFLOW_SOAK_INSTANCES", "300"))
CHAOS_SECONDS = float(os.environ.get("CONTIFLOW_SOAK_CHAOS_SECONDS", "75"))
START_SECONDS = CHAOS_SECONDS * 0.8          # starts are paced over (at least) this much of the chaos
DRAIN_SECONDS = 75.0                         # survivors finish everything within this
HARD_LIMIT = CHAOS_SECONDS + DRAIN_SECONDS + 75.0   # the whole test, set-up and checks included
STARTERS = 2         # client threads declaring incidents (calls overlap while one waits)
ACKNOWLEDGERS = 2    # client threads acknowledging, each for its share of the instances
#: when each third of the instances acknowledges, after its SLA (PT4S) is due: None = as soon as
#: the task shows (mostly before the SLA: no escalation); 2.5 s late (a worker must have fired the
#: escalation by then); just after the due time (a race: whichever command runs first — the
#: worker's or the responder's — must fire the overdue timer before anything else)
ACK_AFTER_DUE: tuple[float | None, ...] = (None, 2.5, 0.05)
NOTIFY_STEPS = ("notify_declared", "notify_resolved", "notify_escalated")
CHANNELS = ("email", "webhook")


class Deadline(AssertionError):
    pass


class OffsetClock:
    """Wall time plus an offset: lets the takeover of stale claims run without the wait."""

    def __init__(self, offset: timedelta):
        self.offset = offset

    def now(self) -> datetime:
        return SystemClock().now() + self.offset


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_pg_schema("soak") as url:
        yield url


def _people(hook_url: str) -> str:
    return f"""
users:
  - {{username: responder, name: Soak Responder, email: responder@example.test, webhook: "{hook_url}"}}
roles:
  responders: {{primary: [responder]}}
"""


class Driver:
    """The responders' side: declare incidents and acknowledge tasks over HTTP, retrying through
    kills.  A call whose answer was lost is settled against the database (start) or by the 409
    that says it already happened (complete) — never by doing it twice."""

    def __init__(self, client: ApiClient, engine: Engine, deadline: float):
        self.client, self.engine, self.deadline = client, engine, deadline
        self.started: dict[str, str] = {}           # business key -> instance id
        self.acknowledged: set[str] = set()         # instance ids
        self.ack_conflicts = 0                      # completes answered 409: an earlier try had won
        self.start_retries = 0
        self.errors: list[BaseException] = []
        self.stop = threading.Event()

    def _instance_by_business_key(self, business_key: str) -> str | None:
        with self.engine.sessions() as session:
            return session.scalars(select(InstanceRow.id).where(InstanceRow.business_key == business_key)).first()

    def start_all(self, count: int, spread: float, lane: int = 0, lanes: int = 1) -> None:
        """Start instances ``lane``, ``lane + lanes``, … of ``count``, paced over ``spread`` s."""
        try:
            t0 = time.monotonic()
            for i in range(lane, count, lanes):
                pause = t0 + i * spread / count - time.monotonic()
                if pause > 0 and self.stop.wait(pause):
                    return
                self._start_one(f"soak-{i:04d}")
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)

    def _start_one(self, business_key: str) -> None:
        while not self.stop.is_set():
            if time.monotonic() > self.deadline:
                raise Deadline(f"could not start {business_key} before the deadline")
            try:
                status, answer = self.client.call("POST", "/instances", {"key": KEY, "business_key": business_key})
                if status == 201:
                    self.started[business_key] = answer["instance_id"]
                    return
                assert status >= 500, f"start {business_key}: HTTP {status} {answer}"
            except Unavailable:
                pass
            # the answer was lost: did the start commit before the process died?
            self.start_retries += 1
            time.sleep(0.5)
            existing = self._instance_by_business_key(business_key)
            if existing is not None:
                self.started[business_key] = existing
                return

    def acknowledge_loop(self, lane: int = 0, lanes: int = 1) -> None:
        """Acknowledge each task (of instances numbered ``lane`` modulo ``lanes``) when its
        instance's class says (ACK_AFTER_DUE)."""
        try:
            while not self.stop.is_set():
                if time.monotonic() > self.deadline:
                    raise Deadline("acknowledging did not finish before the deadline")
                try:
                    status, tasks = self.client.call("GET", "/tasks?limit=100")
                except Unavailable:
                    time.sleep(0.2)
                    continue
                if status != 200:
                    time.sleep(0.2)
                    continue
                acted = 0
                for task in tasks:
                    if task["bpmn_id"] != "acknowledge" or task["instance_id"] in self.acknowledged:
                        continue
                    number = int(str(task.get("business_key") or "soak-0").rsplit("-", 1)[-1])
                    if number % lanes != lane:
                        continue
                    due = datetime.fromisoformat(task["due_at"])
                    after_due = ACK_AFTER_DUE[number % len(ACK_AFTER_DUE)]
                    if after_due is not None and SystemClock().now() < due + timedelta(seconds=after_due):
                        continue
                    acted += self._acknowledge(task)
                if not acted:
                    time.sleep(0.15)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)

    def _acknowledge(self, task: dict[str, Any]) -> int:
        try:
            status, answer = self.client.call("POST", f"/tasks/{task['task_id']}/complete", {"data": {}})
        except Unavailable:
            return 0
        if status == 200:
            self.acknowledged.add(task["instance_id"])
            return 1
        if status == 409:                    # an earlier attempt committed; its answer was lost
            self.ack_conflicts += 1
            self.acknowledged.add(task["instance_id"])
            return 1
        if status in (404,) or status >= 500:
            return 0                         # stale listing, or the process died mid-request: retry
        raise AssertionError(f"complete {task['task_id']}: HTTP {status} {answer}")


def _drained(engine: Engine, expected: int) -> tuple[bool, dict[str, int]]:
    with engine.sessions() as session:
        statuses = dict(session.execute(select(InstanceRow.status, func.count()).group_by(InstanceRow.status)).all())
        outbox = dict(session.execute(select(NotificationRow.status, func.count())
                                      .group_by(NotificationRow.status)).all())
    done = statuses.get("completed", 0) == expected and sum(statuses.values()) == expected and not outbox.get("pending")
    return done, {**{f"instances_{k}": v for k, v in statuses.items()},
                  **{f"notifications_{k}": v for k, v in outbox.items()}}


@pytest.mark.soak
@pytest.mark.skipif(not PG_URL, reason="the soak test runs on PostgreSQL (CONTIFLOW_TEST_DATABASE_URL)")
def test_soak_with_random_kills_loses_and_duplicates_nothing(pg_url: str, tmp_path: Path) -> None:
    t_begin = time.monotonic()
    deadline = t_begin + HARD_LIMIT
    seed = int(os.environ.get("CONTIFLOW_SOAK_SEED") or secrets.randbelow(10**9))
    rng = random.Random(seed)
    token = secrets.token_hex(24)
    smtp, hook = SmtpReceiver().start(), WebhookReceiver().start()
    config = Config(database_url=pg_url, smtp_host="127.0.0.1", smtp_port=smtp.port)
    engine = Engine(config)
    env = {**os.environ, "CONTIFLOW_DATABASE_URL": pg_url, "CONTIFLOW_SMTP_HOST": "127.0.0.1",
           "CONTIFLOW_SMTP_PORT": str(smtp.port), "CONTIFLOW_API_TOKENS": f"soak:{token}",
           "CONTIFLOW_SECRET_KEY": secrets.token_hex(32), "PYTHONUNBUFFERED": "1"}
    env.pop("CONTIFLOW_WEB_SCHEDULER", None)         # production default: timers are the workers' job
    (tmp_path / "logs").mkdir()
    cluster = Cluster(env, tmp_path, tmp_path / "logs")
    chaos: Chaos | None = None
    driver: Driver | None = None
    threads: list[threading.Thread] = []
    try:
        engine.load_people(_people(hook.url))
        engine.import_paths([MODEL])
        webs = [cluster.add_web(f"web{i}", free_port()) for i in (1, 2)]
        workers = [cluster.add_worker(f"worker{i}") for i in (1, 2, 3)]
        for proc in cluster.procs:
            cluster.start(proc)
        cluster.wait_ready(webs + workers, timeout=60)
        t_load = time.monotonic()

        chaos = Chaos(cluster, rng, until=t_load + CHAOS_SECONDS)
        driver = Driver(ApiClient(cluster, token), engine, deadline)
        starters = [threading.Thread(target=driver.start_all, args=(INSTANCES, START_SECONDS, lane, STARTERS),
                                     daemon=True) for lane in range(STARTERS)]
        threads = [*starters, *(threading.Thread(target=driver.acknowledge_loop, args=(lane, ACKNOWLEDGERS),
                                                 daemon=True) for lane in range(ACKNOWLEDGERS))]
        chaos.start()
        for thread in threads:
            thread.start()
        for thread in starters:
            thread.join(timeout=max(1.0, deadline - time.monotonic()))
        t_started = time.monotonic()
        assert not driver.errors, f"driver failed: {driver.errors[0]!r}"
        assert len(driver.started) == INSTANCES, f"started only {len(driver.started)} of {INSTANCES} instances"
        chaos.join(timeout=max(0.0, t_load + CHAOS_SECONDS - time.monotonic()) + 10)
        chaos.stop.set()
        chaos.join(timeout=10)
        assert chaos.error is None, f"chaos thread failed: {chaos.error!r}"
        t_chaos_end = max(time.monotonic(), t_started)

        # every process back up; the survivors drain the work
        for proc in cluster.procs:
            cluster.start(proc)
        drain_end = min(deadline, time.monotonic() + DRAIN_SECONDS)
        backlog = _drained(engine, INSTANCES)[1]
        progress: dict[str, int] = {}
        while True:
            done, progress = _drained(engine, INSTANCES)
            if done:
                break
            assert not driver.errors, f"driver failed: {driver.errors[0]!r}"
            if time.monotonic() > drain_end:
                raise Deadline(f"not drained {DRAIN_SECONDS:.0f}s after the chaos stopped: {progress}; "
                               f"stuck: {_stuck(engine)}")
            time.sleep(0.5)
        t_drained = time.monotonic()
        driver.stop.set()
        cluster.stop_all()

        # rows still 'sending' were claimed by a process killed before it recorded the outcome
        with engine.sessions() as session:
            stale = session.scalars(select(NotificationRow.id).where(NotificationRow.status == "sending")).all()
        taken_over = 0
        if stale:
            late = Engine(config, clock=OffsetClock(STALE_CLAIM + timedelta(seconds=1)), create=False)
            try:
                taken_over = late.deliver_notifications()
            finally:
                late.close()
        time.sleep(0.5)                              # the receivers' threads finish what they got

        summary = _check(engine, driver, chaos, cluster, smtp, hook, stale_claims=len(stale), taken_over=taken_over)
        summary.update(seed=seed, web_layout="gunicorn web.wsgi:app" if has_wsgi_entry() else "contiflow serve",
                       seconds_total=round(time.monotonic() - t_begin, 1),
                       seconds_chaos=round((chaos.ended_at or t_chaos_end) - t_load, 1),
                       seconds_starting=round(t_started - t_load, 1),
                       seconds_drain=round(t_drained - t_chaos_end, 1), backlog_at_chaos_end=backlog,
                       start_retries=driver.start_retries, ack_conflicts=driver.ack_conflicts,
                       api_unavailable=driver.client.unavailable, api_server_errors=driver.client.server_errors)
        (tmp_path / "soak_summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
        print("\n" + _paragraph(summary) + f"\n(summary: {tmp_path / 'soak_summary.json'})")
        problems = summary["problems"]
        assert not problems, f"{len(problems)} problem(s); first: {problems[:10]}"
    finally:
        if chaos is not None:
            chaos.stop.set()
        if driver is not None:
            driver.stop.set()
        cluster.stop_all()
        for thread in [*threads, *([chaos] if chaos else [])]:
            thread.join(timeout=20)
        smtp.stop()
        hook.stop()
        engine.close()


def _stuck(engine: Engine, limit: int = 5) -> list[dict[str, Any]]:
    """Instances not completed, with their pending timers and last audit events."""
    out = []
    with engine.sessions() as session:
        rows = session.scalars(select(InstanceRow).where(InstanceRow.status != "completed").limit(limit)).all()
        for row in rows:
            timers = session.execute(select(TimerRow.bpmn_id, TimerRow.wake_at)
                                     .where(TimerRow.instance_id == row.id)).all()
            last = session.scalars(select(AuditEventRow.kind).where(AuditEventRow.instance_id == row.id)
                                   .order_by(AuditEventRow.id.desc()).limit(3)).all()
            out.append({"instance": row.id, "business_key": row.business_key, "status": row.status,
                        "timers": [(b, w.isoformat()) for b, w in timers], "last_events": last})
    return out


class Problems:
    """What went wrong, by kind: ``lost`` (something that should have happened did not),
    ``duplicated`` (it happened more than once) and ``wrong`` (anything else)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, kind: str, message: str) -> None:
        self.items.append((kind, message))

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.items if k == kind)

    def messages(self) -> list[str]:
        return [f"{k}: {m}" for k, m in self.items]


def _check(engine: Engine, driver: Driver, chaos: Chaos, cluster: Cluster, smtp: SmtpReceiver,
           hook: WebhookReceiver, *, stale_claims: int, taken_over: int) -> dict[str, Any]:
    problems = Problems()
    with engine.sessions() as session:
        instances = session.scalars(select(InstanceRow)).all()
        events = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
        rows = session.scalars(select(NotificationRow)).all()
        incidents = session.scalars(select(IncidentRow)).all()
        timers_left = session.scalar(select(func.count()).select_from(TimerRow))

    by_instance: dict[str, list[AuditEventRow]] = defaultdict(list)
    for event in events:
        by_instance[event.instance_id or ""].append(event)
    rows_by_instance: dict[str, list[NotificationRow]] = defaultdict(list)
    for row in rows:
        rows_by_instance[row.instance_id or ""].append(row)

    # instances: exactly the ones started (once each), all completed, no incident
    for business_key, n in Counter(i.business_key for i in instances).items():
        if n > 1:
            problems.add("duplicated", f"business key {business_key} started {n} times")
    for business_key in set(driver.started) - {i.business_key for i in instances}:
        problems.add("lost", f"{business_key} was started but is not in the database")
    for instance in instances:
        if instance.status != "completed":
            problems.add("lost", f"instance {instance.business_key} is {instance.status}, not completed")
    for incident in incidents:
        problems.add("wrong", f"incident on {incident.instance_id}: {incident.message}")
    if timers_left:
        problems.add("lost", f"{timers_left} timer row(s) still pending")

    timers_fired = escalations = early = 0
    for instance in instances:
        name, evs = instance.business_key, by_instance[instance.id]
        kinds = Counter((e.kind, e.bpmn_id) for e in evs)
        if not evs or evs[0].kind != "instance_started":
            problems.add("wrong", f"{name}: the audit trail does not open with instance_started")
        end = next((n for n, e in enumerate(evs) if e.kind == "instance_completed"), len(evs))
        after_end = [e.kind for e in evs[end + 1:] if not e.kind.startswith("notification_")]
        if after_end:
            problems.add("wrong", f"{name}: engine events after instance_completed: {after_end}")
        for needed in [("instance_started", None), ("instance_completed", None), ("timer_fired", "settle"),
                       ("task_ready", "acknowledge"), ("task_completed", "acknowledge"),
                       ("task_completed", "notify_declared"), ("task_completed", "notify_resolved"),
                       ("notification_queued", "notify_declared"), ("notification_queued", "notify_resolved")]:
            if kinds[needed] != 1:
                problems.add("lost" if kinds[needed] < 1 else "duplicated",
                             f"{name}: {kinds[needed]} x {needed[0]} {needed[1] or ''} (expected 1)")
        for timer in ("settle", "sla"):          # each timer: waited once, then fired or cancelled once
            outcomes = kinds[("event_completed", timer)] + kinds[("event_cancelled", timer)]
            if kinds[("event_waiting", timer)] != 1 or outcomes != 1:
                problems.add("lost" if outcomes < 1 else "duplicated",
                             f"{name}: timer {timer} waited {kinds[('event_waiting', timer)]} time(s), ended "
                             f"{outcomes} time(s)")
            if kinds[("event_completed", timer)] != kinds[("timer_fired", timer)]:
                problems.add("wrong", f"{name}: timer {timer} completed without its timer_fired event, or fired "
                                      f"without completing")
        fired = [e for e in evs if e.kind == "timer_fired"]
        timers_fired += len(fired)
        for event in fired:
            if datetime.fromisoformat(event.detail["due_at"]) > event.wall_at:
                early += 1
                problems.add("wrong", f"{name}: timer {event.bpmn_id} fired before it was due")
        sla_fired = kinds[("timer_fired", "sla")]
        escalations += sla_fired
        if sla_fired > 1:
            problems.add("duplicated", f"{name}: the SLA timer fired {sla_fired} times")
        ready = next((e for e in evs if e.kind == "task_ready" and e.bpmn_id == "acknowledge"), None)
        acked = next((e for e in evs if e.kind == "task_completed" and e.bpmn_id == "acknowledge"), None)
        if ready is not None and acked is not None and "due_at" in ready.detail:
            sla_due = datetime.fromisoformat(ready.detail["due_at"])
            if acked.wall_at > sla_due and not sla_fired:
                problems.add("lost", f"{name}: SLA timer due {sla_due.isoformat()} never fired; the task was "
                                     f"acknowledged later, at {acked.wall_at.isoformat()}")
        if sla_fired and kinds[("notification_queued", "notify_escalated")] != 1:
            problems.add("lost", f"{name}: the SLA fired but its escalation was not queued once")
        expected_steps = {"notify_declared", "notify_resolved"} | ({"notify_escalated"} if sla_fired else set())
        got = Counter((r.bpmn_id, r.channel) for r in rows_by_instance[instance.id])
        want = Counter((step, channel) for step in expected_steps for channel in CHANNELS)
        if got != want:
            problems.add("lost" if sum(got.values()) < sum(want.values()) else "duplicated",
                         f"{name}: outbox rows {dict(got)}, expected {dict(want)}")
        sent_events = Counter(e.detail.get("notification_id") for e in evs if e.kind == "notification_sent")
        for row in rows_by_instance[instance.id]:
            if row.status != "sent":
                problems.add("lost", f"{name}: notification {row.id} ({row.bpmn_id}/{row.channel}) is {row.status}")
            if sent_events[row.id] != 1:
                problems.add("lost" if not sent_events[row.id] else "duplicated",
                             f"{name}: notification {row.id} has {sent_events[row.id]} notification_sent events")

    # receivers: raw receipts, and distinct by idempotency key (webhook Idempotency-Key, mail
    # X-Contiflow-Notification: both the outbox row's key)
    keys = {r.key: r for r in rows}
    received: dict[str, Counter[str]] = {
        "webhook": Counter(h.get("Idempotency-Key", "") for h in hook.headers),
        "email": Counter(_header(m["X-Contiflow-Notification"]) for m in smtp.messages)}
    # a mail sent twice is only recognisable as one by mail clients if its Message-ID repeats
    message_ids: dict[str, set[str]] = defaultdict(set)
    for message in smtp.messages:
        message_ids[_header(message["X-Contiflow-Notification"])].add(str(message["Message-ID"]))
    duplicates: dict[str, int] = {}
    for channel, counts in received.items():
        expected = {k for k, r in keys.items() if r.channel == channel}
        for key in sorted(set(counts) - expected):
            problems.add("wrong", f"{channel}: received under a key the outbox does not hold: {key!r}")
        for key in sorted(expected - set(counts)):
            problems.add("lost", f"{channel}: {key} marked {keys[key].status} but never received")
        duplicates[channel] = sum(n - 1 for n in counts.values() if n > 1)
        for key, n in counts.items():
            if n > 1 and key in keys and keys[key].attempts < 2:
                problems.add("duplicated", f"{channel}: {key} received {n} times without a stale-claim takeover")
    if sum(duplicates.values()) > stale_claims:
        problems.add("duplicated", f"{sum(duplicates.values())} raw duplicates from only {stale_claims} stale claim(s)")

    ids = [e.id for e in events]
    return {
        "instances": len(instances), "completed": sum(i.status == "completed" for i in instances),
        "kills": len(chaos.kills), "kills_by_kind": dict(Counter(k["kind"] for k in chaos.kills)),
        "process_starts": {p.name: p.starts for p in cluster.procs},
        "timers_fired": timers_fired, "escalations": escalations, "timers_fired_early": early,
        "timer_late_seconds": _spread([float(e.detail.get("late_seconds") or 0) for e in events
                                       if e.kind == "timer_fired"]),
        "notifications": len(rows), "notifications_sent": sum(r.status == "sent" for r in rows),
        "received_raw": {c: sum(v.values()) for c, v in received.items()},
        "received_distinct": {c: len(v) for c, v in received.items()},
        "raw_duplicates": duplicates,
        "email_duplicates_with_one_message_id": sum(1 for k, n in received["email"].items()
                                                    if n > 1 and len(message_ids[k]) == 1),
        "stale_claims": stale_claims, "stale_claims_taken_over": taken_over,
        "audit_events": len(events),
        # every command bumps lock_version: more than start + settle + acknowledge (+ SLA) means
        # commands that changed nothing, e.g. a second worker firing a timer already fired
        "commands_per_instance": _spread([float(i.lock_version + 1) for i in instances]),
        # audit ids come from a sequence: a command rolled back by a kill leaves a gap, by design
        "audit_id_gaps": (ids[-1] - ids[0] + 1 - len(ids)) if ids else 0,
        "lost": problems.count("lost"), "duplicated": problems.count("duplicated"),
        "incidents": len(incidents), "problems": problems.messages(),
    }


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values) or [0.0]
    return {"p50": round(ordered[len(ordered) // 2], 2), "p95": round(ordered[int(len(ordered) * 0.95)], 2),
            "max": round(ordered[-1], 2)}


def _header(raw: Any) -> str:
    """A header as text: long ones arrive folded as RFC 2047 encoded words."""
    return str(make_header(decode_header(str(raw or "")))).replace("\r\n", "").replace("\n", "")


def _paragraph(s: dict[str, Any]) -> str:
    return (f"Soak ({s['web_layout']}, seed {s['seed']}): {s['instances']} instances, {s['completed']} completed, "
            f"in {s['seconds_total']}s (started in {s['seconds_starting']}s, {s['seconds_chaos']}s of kills, "
            f"drained in {s['seconds_drain']}s); "
            f"{s['kills']} SIGKILLs {s['kills_by_kind']}; {s['timers_fired']} timers fired "
            f"({s['escalations']} SLA escalations, {s['timers_fired_early']} early, late {s['timer_late_seconds']}); "
            f"{s['notifications']} "
            f"notifications, {s['notifications_sent']} sent, received raw {s['received_raw']} / distinct "
            f"{s['received_distinct']}, raw duplicates {s['raw_duplicates']} from {s['stale_claims']} stale "
            f"claim(s) ({s['stale_claims_taken_over']} taken over); {s['audit_events']} audit events "
            f"({s['audit_id_gaps']} sequence gaps from rolled-back commands); API: {s['start_retries']} start "
            f"retries, {s['ack_conflicts']} acks already done, {s['api_unavailable']} calls without answer, "
            f"{s['api_server_errors']} 5xx; incidents {s['incidents']}; lost {s['lost']}, duplicated "
            f"{s['duplicated']}, problems {len(s['problems'])}.")


def test_overdue_sla_timer_fires_before_a_late_acknowledgement(engine: Engine, clock: Any) -> None:
    """What the soak test saw as lost escalations, made deterministic: the SLA (PT4S) fell due
    while no worker ran; the responder acknowledges at 10 s.  The timer's time came first, so
    it must fire (late, once) and escalate — not be cancelled by the acknowledgement."""
    engine.load_people(_people("http://127.0.0.1:9/unused"))
    engine.import_paths([MODEL])
    instance_id = engine.start(KEY)
    clock.advance(timedelta(seconds=2))
    assert engine.fire_due_timers() == 1                       # the settle timer: a worker was there
    [task] = engine.tasks(instance_id=instance_id)
    clock.advance(timedelta(seconds=10))                       # no worker since: the SLA is 8 s overdue
    engine.complete(task.task_id, {})
    kinds = [(e.kind, e.bpmn_id) for e in engine.show(instance_id).timeline]
    assert kinds.count(("timer_fired", "sla")) == 1
    assert ("notification_queued", "notify_escalated") in kinds
