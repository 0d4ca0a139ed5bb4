"""``contiflow drill …``: simulated and live drills, schedules, exercise reports and trends."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.api import Engine
from engine.cli.output import emit_json, fail
from engine.drills import report as reports
from engine.drills.scenario import parse_scenario

Add = Callable[[str, str], argparse.ArgumentParser]


def register(add: Add) -> None:
    p = add("drill", "drills: run a simulated drill, start a live one, schedules and reports")
    p.add_argument("action", choices=["run", "start", "report", "reports", "trend", "schedule", "schedules",
                                      "unschedule"])
    p.add_argument("target", nargs="?", help="runbook key, drill id or instance id, depending on the action")
    p.add_argument("--scenario", help="scenario file (YAML or JSON)")
    p.add_argument("--speed", type=float, help="pace the virtual clock at this many times wall time")
    p.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    p.add_argument("--every", help="schedule: ISO-8601 interval, e.g. P3M (quarterly)")
    p.add_argument("--cron", help="schedule: crontab expression, e.g. '0 9 1 */3 *'")
    p.add_argument("--data", help="start data (JSON) for a live drill")


def _scenario(args: argparse.Namespace) -> Any:
    if not args.scenario:
        raise ValueError("--scenario FILE is required")
    path = Path(args.scenario)
    if not path.is_file():
        raise ValueError(f"{path}: no such scenario file")
    return parse_scenario(path.read_text(), source=str(path), runbook=args.target)


def _print_report(report: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        emit_json(report)
    elif args.markdown:
        print(reports.markdown(report), end="")
    else:
        print(f"drill {report.get('drill_id')}: {report['runbook']} v{report['version']} "
              f"{report['instance_status']} after {report['duration']} (virtual)")
        for step in report["steps"]:
            met = {True: "met", False: "MISSED", None: "-"}[step["met"]]
            print(f"  {step['bpmn_id']:<28} {step['status']:<10} ready +{step['ready_offset']:<8} "
                  f"done {('+' + step['done_offset']) if step['done_offset'] else '-':<9} "
                  f"target {step['target'] or '-':<8} {met}")
        for esc in report["escalations"]:
            print(f"  escalation: {esc['from']} at +{esc['at']} -> {', '.join(esc['to']) or '-'}")


def drill(engine: Engine, args: argparse.Namespace) -> int:
    try:
        return ACTIONS[args.action](engine, args)
    except ValueError as exc:
        return fail(str(exc), 2)


def _run(engine: Engine, args: argparse.Namespace) -> int:
    if not args.target:
        raise ValueError("drill run needs the runbook key")
    scenario = _scenario(args)
    _print_report(engine.run_drill(scenario, pace=args.speed, source=args.scenario), args)
    return 0


def _start(engine: Engine, args: argparse.Namespace) -> int:
    if not args.target:
        raise ValueError("drill start needs the runbook key")
    data = json.loads(args.data) if args.data else {}
    if not isinstance(data, dict):
        raise ValueError("--data must be a JSON object")
    instance_id = engine.start(args.target, data, speed=args.speed, drill=True, actor="drill")
    if args.json:
        emit_json({"instance_id": instance_id, "drill": True})
    else:
        print(instance_id)
    return 0


def _report(engine: Engine, args: argparse.Namespace) -> int:
    if not args.target:
        raise ValueError("drill report needs a drill id (or the instance id of a live drill)")
    if args.target.isdigit():
        report = engine.drill_report(int(args.target))
    else:
        report = engine.live_drill_report(args.target)
    _print_report(report, args)
    return 0


def _reports(engine: Engine, args: argparse.Namespace) -> int:
    rows = engine.drill_reports(args.target)
    if args.json:
        emit_json(rows)
    else:
        for r in rows:
            print(f"{r['drill_id']:>4}  {r['runbook']} v{r['version']}  {r['kind']:<9} {r['started_at']}  "
                  f"met {r['steps_met']}, missed {r['steps_missed']}, escalations {r['escalations']}")
    return 0


def _trend(engine: Engine, args: argparse.Namespace) -> int:
    if not args.target:
        raise ValueError("drill trend needs the runbook key")
    series = engine.drill_trend(args.target)
    if args.json:
        emit_json(series)
    else:
        for step in series:
            points = ", ".join(f"#{p['drill_id']} {p['achieved'] or '-'}/{p['target']}" for p in step["points"])
            print(f"{step['bpmn_id']}: {points}")
    return 0


def _schedule(engine: Engine, args: argparse.Namespace) -> int:
    if not args.target:
        raise ValueError("drill schedule needs the runbook key")
    scenario = _scenario(args)
    schedule = engine.schedule_drill(scenario, every=args.every, cron=args.cron)
    if args.json:
        emit_json(schedule)
    else:
        print(f"schedule {schedule['id']}: {schedule['key']} {schedule['every'] or schedule['cron']}, "
              f"next run {schedule['next_run_at']}")
    return 0


def _schedules(engine: Engine, args: argparse.Namespace) -> int:
    rows = engine.drill_schedules()
    if args.json:
        emit_json(rows)
    else:
        for s in rows:
            print(f"{s['id']:>4}  {s['key']}  {s['every'] or s['cron']}  next {s['next_run_at']}  "
                  f"last {s['last_run_at'] or '-'}")
    return 0


def _unschedule(engine: Engine, args: argparse.Namespace) -> int:
    if not args.target or not args.target.isdigit():
        raise ValueError("drill unschedule needs a schedule id")
    engine.unschedule_drill(int(args.target))
    if args.json:
        emit_json({"id": int(args.target), "enabled": False})
    return 0


ACTIONS: dict[str, Callable[[Engine, argparse.Namespace], int]] = {
    "run": _run, "start": _start, "report": _report, "reports": _reports, "trend": _trend,
    "schedule": _schedule, "schedules": _schedules, "unschedule": _unschedule,
}

HANDLERS: dict[str, Callable[[Engine, Any], int]] = {"drill": drill}
