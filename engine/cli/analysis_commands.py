"""``contiflow compare``, ``analyse``, ``kpis``, ``kpi-check``: process analysis (``risks``, ``targets``
and ``schedule`` are in ``plan_commands``, registered from here).

Arguments are model files or stored definition keys (``Engine.diagram``); the figures come
from ``engine.analysis``.  Errors surface as EngineError, which ``main`` prints on one line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from engine.analysis import kpi_alerts
from engine.analysis.compare import report_text
from engine.analysis.history import load_history
from engine.analysis.kpis import process_kpis
from engine.analysis.model import ModelAnalysis
from engine.analysis.report import comparison
from engine.analysis.simulate import DISTRIBUTIONS, Scenario
from engine.analysis.sources import load_model
from engine.api import Engine
from engine.cli import plan_commands
from engine.cli.output import emit_json
from engine.errors import InvalidInput

Add = Callable[[str, str], argparse.ArgumentParser]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def _capacity(text: str) -> tuple[str, int]:
    lane, sep, count = text.rpartition("=")
    if not sep or not lane.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected LANE=N, e.g. Warehouse=2")
    return lane.strip(), _positive_int(count)


def register(add: Add) -> None:
    """Add this group's sub-commands to the ``contiflow`` parser."""
    p = add("compare", "compare an as-is and a to-be model (files or definition keys)")
    p.add_argument("as_is", metavar="AS_IS")
    p.add_argument("to_be", metavar="TO_BE")
    sim = p.add_argument_group("simulation")
    sim.add_argument("--simulate", action="store_true", help="also simulate both models (SimPy)")
    sim.add_argument("--cases", type=_positive_int, default=1000, help="cases per replication (1000)")
    sim.add_argument("--replications", type=_positive_int, default=5, help="replications (5)")
    sim.add_argument("--seed", type=int, default=1, help="random seed: same seed, same figures (1)")
    sim.add_argument("--rate", type=_positive_float,
                     help="arrivals per hour (default: busiest lane of either model at 80%%)")
    sim.add_argument("--distribution", choices=DISTRIBUTIONS, default="triangular",
                     help="task durations around `duration` (triangular ±50%%)")
    sim.add_argument("--capacity", type=_capacity, action="append", default=[], metavar="LANE=N",
                     help="people in a lane (default 1); repeatable")
    p = add("analyse", "structural analysis of one model (file or definition key)")
    p.add_argument("model", metavar="MODEL")
    p = add("kpis", "observed KPIs from executions: cycle times, SLA timeout rate, MTTA/MTTR")
    p.add_argument("--key", help="one process key")
    p.add_argument("--window-hours", type=_positive_float, help="only instances started this recently")
    p.add_argument("--drills", action="store_true", help="include drill instances")
    p = add("kpi-check", "check KPI thresholds (YAML/JSON file); --raise starts their runbooks")
    p.add_argument("thresholds", metavar="FILE")
    p.add_argument("--raise", dest="raise_", action="store_true",
                   help="declare firing alerts: an incident_type starts its runbook, notify: ROLE messages it")
    plan_commands.register(add)


def _load(engine: Engine, spec: str) -> ModelAnalysis:
    return load_model(spec, engine.diagram, engine.config.max_model_bytes)


def _scenario(args: argparse.Namespace) -> Scenario:
    return Scenario(cases=args.cases, replications=args.replications, seed=args.seed,
                    rate_per_hour=args.rate, distribution=args.distribution,
                    capacity=dict(args.capacity))


def _sim_text(sim: dict[str, Any]) -> list[str]:
    lines = ["", f"simulation: {sim['as_is']['scenario']['cases']} cases × "
                 f"{sim['as_is']['scenario']['replications']} replications, "
                 f"{sim['as_is']['scenario']['arrival_rate_per_hour']:g} arrivals/h, "
                 f"seed {sim['as_is']['scenario']['seed']}"]
    for side in ("as_is", "to_be"):
        s = sim[side]
        c = s["cycle_time_hours"]
        util = ", ".join(f"{lane} {u:.0%}" for lane, u in s["utilisation"].items()) or "-"
        lines.append(f"  {side.replace('_', '-')}: cycle time mean {c['mean']:g} h "
                     f"(95% CI {c['mean_ci95'][0]:g}–{c['mean_ci95'][1]:g}), p90 {c['p90']:g} h; "
                     f"working {s['working_hours']['mean']:g} h, waiting {s['waiting_hours']['mean']:g} h; "
                     f"utilisation {util}")
    return lines


def _compare(engine: Engine, args: argparse.Namespace) -> int:
    report = comparison(args.as_is, args.to_be, engine.diagram, _scenario(args) if args.simulate else None,
                        max_bytes=engine.config.max_model_bytes)
    if args.json:
        emit_json(report)
    else:
        text = report_text(report)
        if args.simulate:
            text += "\n" + "\n".join(_sim_text(report["simulation"]))
        print(text)
    return 0


def _analyse(engine: Engine, args: argparse.Namespace) -> int:
    figures = _load(engine, args.model).figures()
    if args.json:
        emit_json(figures)
        return 0
    print(f"{figures['source']}: {figures['tasks']} steps ({figures['human_tasks']} human, "
          f"{figures['automated_tasks']} automated), {figures['handoffs']} hand-offs, "
          f"{figures['decision_points']} decision points, {figures['parallel_sections']} parallel "
          f"sections, critical path {figures['critical_path_hours']:g} h")
    for process in figures["processes"]:
        print(f"  {process['key']} ({process['name']}): {process['tasks']} steps, critical path "
              f"{process['critical_path_hours']:g} h: {' → '.join(process['critical_path_tasks']) or '-'}")
        for note in process["assumptions"] + process["warnings"]:
            print(f"    note: {note}")
    return 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror or 'cannot read'}") from None


def _kpis(engine: Engine, args: argparse.Namespace) -> int:
    since = engine.clock.now() - timedelta(hours=args.window_hours) if args.window_hours else None
    records = process_kpis(*load_history(engine.sessions, args.key, since, args.drills))
    if args.json:
        emit_json(records)
        return 0
    def h(value: float | None) -> str:
        return "-" if value is None else f"{value:g} h"

    for r in records:
        c = r["cycle_time_hours"]
        print(f"{r['key']}: {r['instances']} instance(s), {r['completed']} completed; cycle time mean "
              f"{h(c['mean'])}, p90 {h(c['p90'])}; timeout rate {r['timeout_rate']:.1%}; "
              f"MTTA {h(r['mtta_hours'])}, MTTR {h(r['mttr_hours'])}")
        for s in r["steps"]:
            print(f"  {s['name']}: {s['completed']}/{s['ready']} done, mean {h(s['mean_hours'])}, "
                  f"p90 {h(s['p90_hours'])}, timeouts {s['timeouts']}")
    return 0


def _kpi_check(engine: Engine, args: argparse.Namespace) -> int:
    try:
        data = yaml.safe_load(_read(args.thresholds))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{args.thresholds}: not YAML/JSON ({str(exc).splitlines()[0]})") from None
    results = kpi_alerts.check(engine, kpi_alerts.parse_thresholds(data))
    raised = kpi_alerts.raise_alerts(engine, results) if args.raise_ else []
    if args.json:
        emit_json({"alerts": results, "raised": raised})
    else:
        for r in results:
            print(("FIRING " if r["firing"] else "ok     ") + r["message"])
        for o in raised:
            print(f"raised {o['fingerprint']}: {o['action']} {o['instance_id'] or ''}")
    return 0


HANDLERS: dict[str, Callable[[Engine, Any], int]] = {
    "compare": _compare, "analyse": _analyse, "kpis": _kpis, "kpi-check": _kpi_check,
    **plan_commands.HANDLERS}
