"""``contiflow risks``, ``targets`` and ``schedule``: the plan registers and scheduled processes.

``risks FILE`` / ``targets FILE`` read a CSV file and change nothing (as before); without a
file they show the registers stored in the database, ``--import FILE`` loads a CSV into them
(risks upserted by id; targets added, or ``--replace``d) and ``--export`` prints them as CSV.
``schedule start KEY --every P3M`` starts a process on a schedule (the quarterly plan review).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import schedules
from engine.analysis import register_store, registers
from engine.analysis.history import load_history
from engine.analysis.kpis import process_kpis
from engine.api import Engine
from engine.cli.output import emit_json
from engine.errors import InvalidInput

Add = Callable[[str, str], argparse.ArgumentParser]


def register(add: Add) -> None:
    p = add("risks", "the risk register: levels and heat map (stored; or a CSV FILE); --import, --export")
    p.add_argument("csv", metavar="FILE", nargs="?", help="read this CSV file instead of the stored register")
    p.add_argument("--import", dest="import_", metavar="CSV", help="load a CSV register (upsert by id)")
    p.add_argument("--export", action="store_true", help="print the register as CSV")
    p = add("targets", "optimisation targets with their metric read from observed KPIs (stored; or a CSV FILE)")
    p.add_argument("csv", metavar="FILE", nargs="?", help="read this CSV file instead of the stored targets")
    p.add_argument("--import", dest="import_", metavar="CSV", help="add the targets of a CSV file")
    p.add_argument("--replace", action="store_true", help="with --import: replace the stored targets")
    p.add_argument("--export", action="store_true", help="print the targets as CSV")
    p = add("schedule", "processes started on a schedule (e.g. the quarterly plan review)")
    p.add_argument("action", choices=["start", "list", "stop"])
    p.add_argument("target", nargs="?", help="start: definition key; stop: schedule id")
    p.add_argument("--every", help="ISO-8601 interval (default P3M: quarterly)")
    p.add_argument("--cron", help="crontab expression, e.g. '0 9 1 */3 *'")
    p.add_argument("--data", help="start data (JSON object)")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror or 'cannot read'}") from None


def _print_risks(risks: list[registers.Risk], heat: dict[str, Any]) -> None:
    for r in sorted(risks, key=lambda r: -r.score):
        print(f"{r.id}  {r.level:<6} {r.likelihood}x{r.impact}={r.score:<3} {r.risk}"
              + (f"  (runbook {r.runbook})" if r.runbook else ""))
    print("impact →  1 2 3 4 5")
    for li in range(5, 0, -1):
        print(f"likelihood {li}  " + " ".join(str(c["count"] or ".") for c in heat["cells"][li - 1]))


def _show_risks(risks: list[registers.Risk], as_json: bool) -> None:
    heat = registers.heat_map(risks)
    if as_json:
        emit_json({"risks": [registers.risk_json(r) for r in risks], "heat_map": heat})
    else:
        _print_risks(risks, heat)


def _show_stored_risks(engine: Engine, as_json: bool) -> None:
    register = register_store.risk_register(engine)
    if as_json:
        emit_json(register)
    else:
        _print_risks([r for _, r in register_store.list_risks(engine)], register["heat_map"])


def _print_targets(progress: list[dict[str, Any]]) -> None:
    for t in progress:
        state = {True: "met", False: "not met", None: "no data"}[t["met"]]
        print(f"{t['goal']}: {t['metric']} of {t['key'] or '-'} = {t['current']} (target {t['direction']} "
              f"{t['target']}): {state}" + (" OVERDUE" if t["overdue"] else ""))


def _show_targets(progress: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json(progress)
    else:
        _print_targets(progress)


def _targets_progress(engine: Engine, targets: list[registers.Target], as_json: bool) -> None:
    kpis = process_kpis(*load_history(engine.sessions))
    _show_targets(registers.target_progress(targets, kpis, engine.clock.now().date()), as_json)


@dataclass(frozen=True)
class _Register:
    """What differs between the risk register and the optimisation targets; the command's flow
    (FILE read only, --import, --export, or show what is stored) is the same for both."""
    row: type
    read: Callable[[str], list[Any]]
    show_file: Callable[[Engine, list[Any], bool], None]
    import_csv: Callable[[Engine, str, argparse.Namespace], dict[str, int]]
    imported: Callable[[dict[str, int]], str]
    export: Callable[[Engine], str]
    show_stored: Callable[[Engine, bool], None]


_RISKS = _Register(
    registers.Risk, registers.read_risks, lambda _engine, risks, as_json: _show_risks(risks, as_json),
    lambda engine, text, _args: register_store.import_risks(engine, text),
    lambda counts: f"risk register: {counts['added']} added, {counts['updated']} updated",
    register_store.export_risks, _show_stored_risks)

_TARGETS = _Register(
    registers.Target, registers.read_targets, _targets_progress,
    lambda engine, text, args: register_store.import_targets(engine, text, replace=args.replace),
    lambda counts: f"optimisation targets: {counts['added']} added, {counts['removed']} replaced",
    register_store.export_targets,
    lambda engine, as_json: _show_targets(register_store.target_register(engine), as_json))


def _register_command(register: _Register, engine: Engine, args: argparse.Namespace) -> int:
    if args.csv:
        if args.import_:
            raise InvalidInput("give FILE (read only) or --import CSV (store), not both")
        items = register.read(_read(args.csv))
        if args.export:
            print(registers.write_csv(items, register.row), end="")
        else:
            register.show_file(engine, items, args.json)
        return 0
    if args.import_:
        counts = register.import_csv(engine, _read(args.import_), args)
        if args.export:
            pass                                    # the CSV below is the whole output
        elif args.json:
            emit_json(counts)
        else:
            print(register.imported(counts))
    if args.export:
        print(register.export(engine), end="")
    elif not args.import_:
        register.show_stored(engine, args.json)
    return 0


def _schedule(engine: Engine, args: argparse.Namespace) -> int:
    if args.action == "start":
        if not args.target:
            raise InvalidInput("schedule start needs the definition key, e.g. plan_review")
        try:
            data = json.loads(args.data) if args.data else {}
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--data: malformed JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InvalidInput("--data must be a JSON object")
        every = args.every or (None if args.cron else "P3M")
        row = schedules.schedule(engine, args.target, every, args.cron, data)
        if args.json:
            emit_json(row)
        else:
            print(f"schedule {row['id']}: {row['key']} every {row['every'] or row['cron']}; "
                  f"next run {row['next_run_at']}")
        return 0
    if args.action == "stop":
        if not args.target or not args.target.isdigit():
            raise InvalidInput("schedule stop needs the schedule id (see `contiflow schedule list`)")
        schedules.unschedule(engine, int(args.target))
        if args.json:
            emit_json({"id": int(args.target), "enabled": False})
        else:
            print(f"schedule {args.target} stopped")
        return 0
    rows = schedules.list_schedules(engine)
    if args.json:
        emit_json(rows)
    if not args.json and not rows:
        print("no process is scheduled (contiflow schedule start plan_review)")
    for row in [] if args.json else rows:
        print(f"{row['id']}  {row['key']}  every {row['every'] or row['cron']}  next {row['next_run_at']}  "
              f"last {row['last_run_at'] or '-'}" + (f"  error: {row['last_error']}" if row["last_error"] else ""))
    return 0


HANDLERS: dict[str, Callable[[Engine, Any], int]] = {
    "risks": lambda engine, args: _register_command(_RISKS, engine, args),
    "targets": lambda engine, args: _register_command(_TARGETS, engine, args),
    "schedule": _schedule}
