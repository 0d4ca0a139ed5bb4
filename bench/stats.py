"""Summaries of timing samples (seconds in, milliseconds out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default; NaN when empty.

    Kept here rather than imported from ``engine.analysis.stats``: importing that package loads
    contiflow's importer and SpiffWorkflow glue, and the raw SpiffWorkflow variants must run
    before any contiflow module is imported."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def step_summary(step_seconds: Sequence[float]) -> dict[str, Any]:
    if not step_seconds:
        return {"steps": 0, "p50_ms": math.nan, "p99_ms": math.nan, "mean_ms": math.nan}
    return {
        "steps": len(step_seconds),
        "p50_ms": percentile(step_seconds, 50) * 1000,
        "p99_ms": percentile(step_seconds, 99) * 1000,
        "mean_ms": sum(step_seconds) / len(step_seconds) * 1000,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or not denominator or math.isnan(denominator):
        return None
    return numerator / denominator
