"""Timing loops shared by every driver (time.perf_counter; gc collected before each run)."""

from __future__ import annotations

import gc
import time
from typing import Any

from bench.drivers import Driver
from bench.stats import step_summary

START_DATA: dict[str, Any] = {"incident": "bench"}


def _run_instance(driver: Driver, steps: list[float]) -> Any:
    handle = driver.start(START_DATA)
    while not driver.done(handle):
        t0 = time.perf_counter()
        driver.step(handle)
        steps.append(time.perf_counter() - t0)
    return handle


def throughput(driver: Driver, instances: int, warmup: int) -> dict[str, Any]:
    """Complete ``instances`` instances one after another.

    instances/s = instances / wall time of the whole loop (start + every step + the final
    check); step latency = each ``step`` call alone.
    """
    for _ in range(warmup):
        driver.verify(_run_instance(driver, []))
    gc.collect()
    steps: list[float] = []
    handles = []
    t0 = time.perf_counter()
    for _ in range(instances):
        handles.append(_run_instance(driver, steps))
    elapsed = time.perf_counter() - t0
    for handle in handles[-3:]:          # untimed: they really completed
        driver.verify(handle)
    return {"driver": driver.name, "instances": instances, "seconds": elapsed,
            "instances_per_s": instances / elapsed, "steps_per_instance": len(steps) / instances,
            **step_summary(steps)}


def growth(driver: Driver, steps: int, size: int) -> dict[str, Any]:
    """Per-step cost in one instance of a ``size``-task chain: one untimed step, then ``steps``.

    SpiffWorkflow 3 builds the whole predicted chain when the instance starts, so the instance
    holds ``size`` tasks from its first step: per-step cost is flat along the chain.
    """
    handle = driver.start(START_DATA)
    driver.step(handle)
    gc.collect()
    samples: list[float] = []
    for _ in range(min(steps, size - 1)):
        t0 = time.perf_counter()
        driver.step(handle)
        samples.append(time.perf_counter() - t0)
    return {"driver": driver.name, "size": size, **step_summary(samples)}
