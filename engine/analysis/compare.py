"""As-is versus to-be: the DESIGN §3 ``compare`` report (figures, deltas) and its one-line summary."""

from __future__ import annotations

from typing import Any

from engine.analysis.durations import hours, iso
from engine.analysis.matching import changes
from engine.analysis.model import ModelAnalysis

COUNTS = ("tasks", "human_tasks", "automated_tasks", "handoffs", "decision_points", "parallel_sections")


def _h(value: float) -> str:
    return f"{value:g} h"


def summary(as_is: dict[str, Any], to_be: dict[str, Any]) -> str:
    """'steps 5 → 3, critical path 48 h → 24 h, hand-offs 4 → 2'."""
    return (f"steps {as_is['tasks']} → {to_be['tasks']}, "
            f"critical path {_h(as_is['critical_path_hours'])} → {_h(to_be['critical_path_hours'])}, "
            f"hand-offs {as_is['handoffs']} → {to_be['handoffs']}")


def compare(as_is: ModelAnalysis, to_be: ModelAnalysis) -> dict[str, Any]:
    """``as_is``, ``to_be``, ``deltas`` (to-be minus as-is), ``changes`` and ``summary``."""
    a, t = as_is.figures(), to_be.figures()
    deltas: dict[str, Any] = {key: t[key] - a[key] for key in COUNTS}
    seconds = to_be.critical_seconds - as_is.critical_seconds
    deltas["critical_path"] = iso(seconds)
    deltas["critical_path_hours"] = hours(seconds)
    return {"as_is": a, "to_be": t, "deltas": deltas, "changes": changes(as_is, to_be),
            "summary": summary(a, t)}


def _names(items: list[Any]) -> str:
    parts = []
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        elif "into" in item:
            parts.append(" + ".join(item["from"]) + " → " + item["into"])
        else:
            parts.append(f"{item['from']} → {item['to']}")
    return "; ".join(parts)


def report_text(report: dict[str, Any]) -> str:
    """The human-readable comparison: summary line, a figures table, changes, assumptions."""
    a, t, d = report["as_is"], report["to_be"], report["deltas"]
    lines = [report["summary"], "", f"{'':<20}{'as-is':>10}{'to-be':>10}{'delta':>10}"]
    for key in COUNTS:
        lines.append(f"{key.replace('_', ' '):<20}{a[key]:>10}{t[key]:>10}{d[key]:>+10}")
    lines.append(f"{'critical path (h)':<20}{a['critical_path_hours']:>10g}{t['critical_path_hours']:>10g}"
                 f"{d['critical_path_hours']:>+10g}")
    lines.append("")
    lines.append("as-is critical path: " + " → ".join(a["critical_path_tasks"]))
    lines.append("to-be critical path: " + " → ".join(t["critical_path_tasks"]))
    for key, items in report["changes"].items():
        if items and key != "kept":
            lines.append(f"{key}: {_names(items)}")
    for side, fig in (("as-is", a), ("to-be", t)):
        for process in fig["processes"]:
            for note in process["assumptions"]:
                lines.append(f"note ({side} {process['key']}): {note}")
    return "\n".join(lines)
