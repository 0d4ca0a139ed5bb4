"""One function per CLI command; each returns the process exit code."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from engine import people, safe_json
from engine.api import Engine, read_model_files
from engine.cli.output import emit_json, fail, instance_text, task_line
from engine.clock import isoformat
from engine.timers import TimerService


def _import(engine: Engine, args: argparse.Namespace) -> int:
    files = read_model_files(args.paths)
    imported, rejected = engine.import_report(files, each=args.each)
    if args.json:
        emit_json({"imported": imported, "rejected": rejected})
    else:
        for item in imported:
            kind = "executable" if item["executable"] else "model-only"
            note = "" if item["new_version"] else " (unchanged)"
            print(f"imported {item['file']}: {item['key']} v{item['version']} {kind}{note}")
            for warning in item["warnings"]:
                print(f"  warning: {warning}")
        for item in rejected:
            where = item["file"] + (f":{item['line']}" if item["line"] else "")
            elem = f" [{item['element_id']}]" if item["element_id"] else ""
            print(f"rejected {where}{elem}: {item['message']}", file=sys.stderr)
    return 1 if rejected else 0


def _definitions(engine: Engine, args: argparse.Namespace) -> int:
    views = engine.definitions(all_versions=args.all_versions)
    if args.json:
        emit_json([v.to_json() for v in views])
    else:
        for v in views:
            kind = "executable" if v.executable else "model-only"
            print(f"{v.key}  v{v.version}  {kind}  {v.name}")
    return 0


def _instances(engine: Engine, args: argparse.Namespace) -> int:
    views = engine.instances(status=args.status, key=args.key)
    if args.json:
        emit_json([v.summary_json() for v in views])
    else:
        for v in views:
            print(f"{v.instance_id}  {v.key} v{v.version}  {v.status}  started {isoformat(v.started_at)}"
                  + (f"  business_key={v.business_key}" if v.business_key else ""))
    return 0


def _show(engine: Engine, args: argparse.Namespace) -> int:
    view = engine.show(args.instance_id)
    if args.json:
        emit_json(view.to_json())
    else:
        print(instance_text(view))
    return 0


def _start(engine: Engine, args: argparse.Namespace) -> int:
    instance_id = engine.start(args.key, args.data, business_key=args.business_key, speed=args.speed)
    if args.json:
        view = engine.show(instance_id)
        emit_json({"instance_id": instance_id, "status": view.status})
    else:
        print(instance_id)
    return 0


def _tasks(engine: Engine, args: argparse.Namespace) -> int:
    views = engine.tasks(instance_id=args.instance, role=args.role)
    if args.json:
        emit_json([t.to_json() for t in views])
    else:
        for t in views:
            print(task_line(t))
    return 0


def _complete(engine: Engine, args: argparse.Namespace) -> int:
    instance_id = engine.complete(args.task_id, args.data, actor=args.actor)
    view = engine.show(instance_id)
    if args.json:
        emit_json({"task_id": args.task_id, "instance_id": instance_id, "status": view.status,
                   "tasks": [t.to_json() for t in view.tasks]})
    else:
        print(f"completed {args.task_id}; instance {instance_id} is {view.status}")
    return 0


def _cancel(engine: Engine, args: argparse.Namespace) -> int:
    engine.cancel(args.instance_id, actor=args.actor)
    if args.json:
        emit_json({"instance_id": args.instance_id, "status": "cancelled"})
    else:
        print(f"cancelled {args.instance_id}")
    return 0


def _retry(engine: Engine, args: argparse.Namespace) -> int:
    retried = engine.retry(args.instance_id, args.data, actor=args.actor)
    view = engine.show(args.instance_id)
    if args.json:
        emit_json({"instance_id": args.instance_id, "retried": retried, "status": view.status})
    else:
        print(f"retried {', '.join(retried) or 'nothing'}; instance {args.instance_id} is {view.status}")
    return 0 if view.status != "incident" else fail(
        f"instance {args.instance_id} is still in incident: "
        + (view.incidents[-1].message if view.incidents else "see `contiflow show`"))


def _alert(engine: Engine, args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.payload == "-" else Path(args.payload).read_text()
    try:
        payload = safe_json.loads(text)
    except json.JSONDecodeError as exc:
        return fail(f"{args.payload}: malformed JSON ({exc.msg}, line {exc.lineno})")
    except safe_json.TooDeep as exc:
        return fail(f"{args.payload}: {exc}")
    outcomes = engine.declare_from_alertmanager(payload)
    if args.json:
        emit_json([o.to_json() for o in outcomes])
    else:
        for o in outcomes:
            print(f"{o.fingerprint}  {o.incident_type or '-'}  {o.action}  {o.instance_id or ''}")
    return 0


def _people(engine: Engine, args: argparse.Namespace) -> int:
    if args.hash_password:         # on stdin, so the password stays out of shell history
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            return fail("no password on stdin")
        hashed = people.hash_password(password)
        if args.json:
            emit_json({"password_hash": hashed})
        else:
            print(hashed)
        return 0
    if args.load:
        path = Path(args.load)
        if not path.is_file():
            return fail(f"{path}: no such file")
        users, roles = engine.load_people(path.read_text(), source=str(path))
        if not args.json:
            print(f"loaded {users} user(s) and {roles} role(s) from {path}")
    roles_list, people_list = engine.roles(), engine.people()
    if args.json:
        emit_json({"users": [p.to_json() for p in people_list], "roles": [r.to_json() for r in roles_list]})
    elif not args.load:
        for role in roles_list:
            print(f"{role.name}: primary {', '.join(role.primary) or '-'}; backup {', '.join(role.backup) or '-'}")
    return 0


def _worker(engine: Engine, args: argparse.Namespace) -> int:
    if args.once:
        drills = engine.run_due_drills()        # and scheduled processes (the plan review)
        fired = engine.fire_due_timers()
        sent = engine.deliver_notifications()
        if args.json:
            emit_json({"instances_run": fired, "notifications_sent": sent, "drills_run": len(drills)})
        else:
            print(f"ran {fired} instance(s) with due timers; sent {sent} notification(s); "
                  f"ran {len(drills)} scheduled drill(s)")
        return 0
    service = TimerService(engine, sweep_seconds=args.interval)
    caught_up = service.start()
    print(f"contiflow worker: {caught_up} overdue instance(s) caught up; waiting for timers "
          f"(Ctrl-C to stop)", file=sys.stderr)
    stopping = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (systemd, Kubernetes, the soak test) stops like Ctrl-C: the running sweep
        # finishes (no claimed notification left half-sent) before the process exits
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stopping.wait()
    finally:
        service.stop()
    return 0


COMMANDS: dict[str, Callable[[Engine, argparse.Namespace], int]] = {
    "import": _import, "definitions": _definitions, "instances": _instances, "show": _show,
    "start": _start, "tasks": _tasks, "complete": _complete, "cancel": _cancel, "retry": _retry,
    "alert": _alert, "people": _people, "worker": _worker,
}


def dispatch(args: argparse.Namespace) -> int:
    if getattr(args, "run_without_engine", None):   # `db …`: must see the schema before any upgrade
        return int(args.run_without_engine(args))
    from engine.cli import analysis_commands, drill_commands

    handlers = {**COMMANDS, **analysis_commands.HANDLERS, **drill_commands.HANDLERS}
    engine = Engine()
    try:
        return handlers[args.command](engine, args)
    finally:
        engine.close()
