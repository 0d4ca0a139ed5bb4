"""Summaries of timing samples (seconds in, milliseconds out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from engine.analysis import stats as analysis_stats


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), as numpy's default; NaN when empty."""
    return analysis_stats.percentile(values, q) if values else math.nan


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
