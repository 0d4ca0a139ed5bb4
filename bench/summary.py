"""The combined report of ``python -m bench``: one row per target — what was measured, the
baseline measured in the same run, their ratio (always measured ÷ baseline), the goal from the
issue that set the target, and whether it was met.  ``met`` is ``yes``/``NO``, or ``–`` where
no goal was set (comparisons reported for information)."""

from __future__ import annotations

import math
from typing import Any

HEADERS = ["suite", "target", "measured", "baseline (same run)", "ratio", "goal", "met"]


def _ok(flag: bool | None) -> str:
    return "–" if flag is None else ("yes" if flag else "NO")


def _row(suite: str, target: str, measured: str, baseline: str, ratio: float | None, goal: str,
         met: bool | None) -> dict[str, Any]:
    return {"suite": suite, "target": target, "measured": measured, "baseline": baseline,
            "ratio": None if ratio is None or math.isnan(ratio) else round(ratio, 3), "goal": goal,
            "met": met}


def engine_rows(engine: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for entry in engine["throughput"]:
        runs = entry["runs"]
        for backend in ("sqlite", "postgresql"):
            c, b = runs.get(f"c_contiflow_{backend}"), runs.get(f"b_floor_{backend}")
            if not (c and b):
                continue
            r = c["instances_per_s"] / b["instances_per_s"]
            rows.append(_row("engine", f"throughput `{entry['short']}`, {backend}",
                             f"contiflow {c['instances_per_s']:.1f} inst/s",
                             f"persisted Spiff floor {b['instances_per_s']:.1f} inst/s", r, "≥ 0.67", r >= 0.67))
    g = engine["growth"]
    first, last = g["sizes"][0], g["sizes"][-1]
    spiff = g["growth_factor"].get("a_spiff_memory")
    for backend in ("sqlite", "postgresql"):
        mine = g["growth_factor"].get(f"c_contiflow_{backend}")
        if mine is None or spiff is None:
            continue
        r = mine / spiff
        rows.append(_row("engine", f"per-step growth {first}→{last} tasks, {backend}",
                         f"contiflow ×{mine:.1f} (p50 step)", f"raw SpiffWorkflow ×{spiff:.1f}", r,
                         "≤ 1 (no worse than Spiff)", r <= 1.0))
    return rows


def timer_rows(timers: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for backend, r in timers["lateness"].items():
        p99, aps = r["lateness"]["p99_ms"], r["apscheduler"]["p99_ms"]
        clean = not r["unfired"] and not r["fired_more_than_once"]
        rows.append(_row("timers", f"timer lateness p99, {r['timers']:,} pending, {backend}", f"{p99:,.0f} ms",
                         f"APScheduler alone p99 {aps:.1f} ms", r.get("p99_over_apscheduler"),
                         "p99 < 1 s, all fired once", p99 < 1000 and clean))
    for backend, r in timers["catchup"].items():
        rows.append(_row("timers", f"catch-up of {r['timers']:,} overdue timers, {backend}",
                         f"{r['seconds']:.2f} s ({r['timers_per_s']:.0f}/s)",
                         f"Spiff load-fire-save floor {r['floor_seconds']:.2f} s", r["over_floor"],
                         "each fired exactly once", bool(r["exactly_once"])))
    return rows


def inbox_rows(inbox: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in inbox["backends"]:
        tasks = r["data"]["tasks"]
        for name, who in (("api", "token, every role"), ("api_user", "a responder's role")):
            if name not in r:                  # results saved before the responder's API was measured
                continue
            within = r[name]["p95_ms"] < 50 and (r[f"{name}_over_static_p95"] or 99) <= 3
            rows.append(_row("inbox", f"inbox API p95 ({who}), {tasks:,} open tasks, {r['backend']}",
                             f"{r[name]['p95_ms']:.1f} ms", f"static file p95 {r['static']['p95_ms']:.1f} ms",
                             r[f"{name}_over_static_p95"], "< 50 ms and ≤ 3× static", within))
        rows.append(_row("inbox", f"inbox page p95, {tasks:,} open tasks, {r['backend']}",
                         f"{r['page']['p95_ms']:.1f} ms", f"static file p95 {r['static']['p95_ms']:.1f} ms",
                         r["page_over_static_p95"], "–", None))
    return rows


def analysis_rows(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    a = analysis.get("analysis")
    if a:
        rows.append(_row("analysis", f"analyse the largest corpus model ({a['bytes'] / 1024:,.0f} KiB, "
                         f"{a['tasks']} steps)", f"{a['analyse_ms']:,.1f} ms",
                         f"read + parse {a['read_parse_ms']:,.1f} ms", a["ratio"], "–", None))
    s = analysis["simulation"]
    rows.append(_row("analysis", f"simulate {s['cases']:,} cases of `{s['model']}`", f"{s['simulate_s']:.2f} s",
                     f"bare SimPy loop {s['bare_simpy_s']:.2f} s", s["ratio"], "–", None))
    return rows


def worker_rows(workers: dict[str, Any]) -> list[dict[str, Any]]:
    one, two = workers["runs"].get("1"), workers["runs"].get("2")
    if not (one and two):
        return []
    r = workers.get("ratio_firing")
    runs = f", mean of {workers['repeat']} runs each" if workers.get("repeat", 1) > 1 else ""
    return [_row("workers", f"2 worker processes vs 1, {workers['instances']:,} due timers, {workers['backend']}",
                 f"2 processes {two['per_s_firing']:.0f} inst/s (firing span{runs})",
                 f"1 process {one['per_s_firing']:.0f} inst/s",
                 r, "> 1× (< 2× on 2 cores), each once",
                 bool(r is not None and r > 1.0 and workers.get("all_exactly_once")))]


def peer_rows(peer: dict[str, Any]) -> list[dict[str, Any]]:
    from bench.peer import LABELS
    if peer.get("skipped"):
        return [_row("peer", "contiflow vs bpmn-engine", "skipped", peer["skipped"], None, "–", None)]
    rows = []
    for p in peer["pairs"]:
        mine = peer["runs"][p["contiflow_side"]]
        theirs = peer["runs"][f"bpmn_engine_{p['bpmn_engine']}"]
        rows.append(_row("peer", f"{peer['steps']}-task chain: {LABELS[p['contiflow_side']]}",
                         f"{mine['instances_per_s']:.1f} inst/s",
                         f"{LABELS['bpmn_engine_' + p['bpmn_engine']]} {theirs['instances_per_s']:.1f} inst/s",
                         p["ratio"], "–", None))
    return rows


BUILDERS = {"engine": engine_rows, "timers": timer_rows, "inbox": inbox_rows, "analysis": analysis_rows,
            "workers": worker_rows, "peer": peer_rows}


def build(suites: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, builder in BUILDERS.items():
        if name in errors:
            rows.append(_row(name, "suite failed", "–", errors[name].splitlines()[-1][:120], None, "–", False))
        elif name in suites:
            rows.extend(builder(suites[name]))
    return rows


def render(rows: list[dict[str, Any]], markdown: bool) -> str:
    from bench.report import table
    cells = [[r["suite"], r["target"], r["measured"], r["baseline"],
              "–" if r["ratio"] is None else f"{r['ratio']:.2f}", r["goal"], _ok(r["met"])] for r in rows]
    return table(HEADERS, cells, markdown, right={4}) if cells else "(no results)"
