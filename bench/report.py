"""Tables for the terminal and for the README (Markdown)."""

from __future__ import annotations

import math
from typing import Any

VARIANT_LABELS = {
    "a_spiff_memory": "(a) raw Spiff, in memory",
    "b_floor_sqlite": "(b) floor, SQLite",
    "b_floor_postgresql": "(b) floor, PostgreSQL",
    "c_contiflow_sqlite": "(c) contiflow, SQLite",
    "c_contiflow_postgresql": "(c) contiflow, PostgreSQL",
}
ORDER = list(VARIANT_LABELS)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def table(headers: list[str], rows: list[list[str]], markdown: bool, right_from: int = 1,
          right: set[int] | None = None) -> str:
    """Columns from ``right_from`` on are right-aligned, or exactly the columns in ``right``."""
    def is_right(i: int) -> bool:
        return i in right if right is not None else i >= right_from
    if markdown:
        align = ["---:" if is_right(i) else "---" for i in range(len(headers))]
        lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if is_right(i) else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def throughput_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for model in results["throughput"]:
        runs = model["runs"]
        base = runs.get("a_spiff_memory", {}).get("instances_per_s")
        for name in ORDER:
            run = runs.get(name)
            if run is None:
                continue
            backend = name.rsplit("_", 1)[-1]
            floor = (runs.get(f"b_floor_{backend}", {}).get("instances_per_s")
                     if name.startswith("c_") else None)
            vs_a = run["instances_per_s"] / base if base and name != "a_spiff_memory" else None
            vs_floor = run["instances_per_s"] / floor if floor else None
            rows.append([model["short"], VARIANT_LABELS[name], _num(run["instances_per_s"]),
                         _num(run["p50_ms"], 2), _num(run["p99_ms"], 2), _ratio(vs_a), _ratio(vs_floor)])
    return rows


THROUGHPUT_HEADERS = ["model", "variant", "inst/s", "step p50 ms", "step p99 ms", "÷ (a)",
                      "(c) ÷ (b) same DB"]


def growth_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    growth = results["growth"]
    sizes = growth["sizes"]
    headers = (["variant"] + [f"{n} tasks" for n in sizes]
               + [f"{sizes[-1]} ÷ {sizes[0]}", f"ms added {sizes[0]} → {sizes[-1]}"])
    rows = []
    for name in ORDER:
        per_size = growth["runs"].get(name)
        if not per_size:
            continue
        cells = [_num(per_size.get(str(n), {}).get("p50_ms"), 2) for n in sizes]
        rows.append([VARIANT_LABELS[name]] + cells + [_ratio(growth["growth_factor"].get(name)),
                                                      _num(growth["added_ms"].get(name), 1)])
    return headers, rows


def ratio_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for model in results["throughput"]:
        r = model["ratios"]
        parts = [f"(b)/(a) = {_ratio(r.get('b_sqlite_over_a'))}",
                 f"(c)/(b) SQLite = {_ratio(r.get('c_sqlite_over_b_sqlite'))}"]
        if r.get("c_postgresql_over_b_postgresql") is not None:
            parts.append(f"(c)/(b) PostgreSQL = {_ratio(r.get('c_postgresql_over_b_postgresql'))}")
            parts.append(f"(c) PostgreSQL / (b) SQLite = {_ratio(r.get('c_postgresql_over_b_sqlite'))}")
        lines.append(f"{model['short']}: " + ", ".join(parts) + "  (goal (c)/(b) >= 0.67)")
    return lines


def render(results: dict[str, Any], markdown: bool) -> str:
    g_headers, g_rows = growth_rows(results)
    meta = results["meta"]
    note = (f"SpiffWorkflow {meta['spiffworkflow']}, Python {meta['python']}, {meta['cpus']} CPUs, "
            f"SQLite {meta['sqlite']}, PostgreSQL {meta.get('postgresql') or 'skipped'}"
            f"{' — QUICK run, small counts' if results['settings']['quick'] else ''}")
    t_rows = throughput_rows(results)
    growth_title = "per-step p50 ms in one instance of a chain of N user tasks"
    if markdown:
        out = ["**Throughput** (" + note + ")", "", table(THROUGHPUT_HEADERS, t_rows, True, 2), "",
               *[f"- {line}" for line in ratio_lines(results)], "",
               f"**Growth**: {growth_title}", "", table(g_headers, g_rows, True)]
    else:
        out = ["Throughput — " + note, table(THROUGHPUT_HEADERS, t_rows, False, 2), "",
               *ratio_lines(results), "", f"Growth — {growth_title}", table(g_headers, g_rows, False)]
    return "\n".join(out)
