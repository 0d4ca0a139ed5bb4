"""Suite ``engine`` (issue 2): throughput of (a) raw SpiffWorkflow in memory, (b) the persisted
floor and (c) contiflow on two models, and per-step growth from 50 to 800 tasks.

(a) and (b) run before contiflow is imported (``run_raw`` first), so contiflow's patches to
SpiffWorkflow (clock bridge, iterator depth limit) cannot touch their figures.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.backends import Backend, postgres_backend, sqlite_backend
from bench.drivers import Driver, FloorDriver, MemoryDriver, PostgresStateStore, SqliteStateStore, parse_spec
from bench.harness import growth, throughput
from bench.modelgen import BENCH_DIR, THROUGHPUT_MODELS, Model, chain_model
from bench.stats import ratio

Log = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    quick: bool
    instances: int
    warmup: int
    sizes: tuple[int, ...]
    growth_steps: int
    profile_instances: int


FULL = Settings(False, instances=200, warmup=5, sizes=(50, 200, 800), growth_steps=30, profile_instances=150)
QUICK = Settings(True, instances=12, warmup=2, sizes=(50, 200, 800), growth_steps=4, profile_instances=20)


def floor_store(backend: Backend) -> SqliteStateStore | PostgresStateStore:
    if backend.name == "sqlite":
        return SqliteStateStore(backend.floor_target)
    return PostgresStateStore(backend.floor_target)


def raw_drivers(model: Model, stores: dict[str, Any]) -> list[Driver]:
    spec, subs = parse_spec(model)
    floors: list[Driver] = [FloorDriver(spec, subs, model.step_data, store) for store in stores.values()]
    return [MemoryDriver(spec, subs, model.step_data), *floors]


def run_raw(settings: Settings, backends: list[Backend], results: dict[str, Any], log: Log) -> None:
    """(a) and (b) for every model — before contiflow is imported."""
    stores = {b.name: floor_store(b) for b in backends}
    try:
        for entry in results["throughput"]:
            model: Model = entry["_model"]
            for driver in raw_drivers(model, stores):
                log(f"throughput {model.short}: {driver.name}")
                entry["runs"][driver.name] = throughput(driver, settings.instances, settings.warmup)
        for size in settings.sizes:
            model = chain_model(size)
            for driver in raw_drivers(model, stores):
                log(f"growth {size}: {driver.name}")
                run = growth(driver, settings.growth_steps, size)
                if isinstance(driver, FloorDriver):
                    run["state_kb"] = driver.state_bytes / 1024
                results["growth"]["runs"].setdefault(driver.name, {})[str(size)] = run
    finally:
        for store in stores.values():
            store.close()


def run_contiflow(settings: Settings, backend: Backend, results: dict[str, Any], log: Log) -> None:
    from bench.contiflow_driver import ContiflowDriver, import_model, open_engine
    engine = open_engine(backend.database_url)
    try:
        for entry in results["throughput"]:
            model = entry["_model"]
            driver = ContiflowDriver(engine, import_model(engine, model), model.step_data, backend.name)
            log(f"throughput {model.short}: {driver.name}")
            entry["runs"][driver.name] = throughput(driver, settings.instances, settings.warmup)
        for size in settings.sizes:
            model = chain_model(size)
            t0 = time.perf_counter()
            key = import_model(engine, model)
            import_s = time.perf_counter() - t0
            driver = ContiflowDriver(engine, key, model.step_data, backend.name)
            log(f"growth {size}: {driver.name}")
            run = growth(driver, settings.growth_steps, size)
            run["import_s"] = import_s
            results["growth"]["runs"].setdefault(driver.name, {})[str(size)] = run
    finally:
        engine.close()


def derive(results: dict[str, Any]) -> None:
    for entry in results["throughput"]:
        ips = {name: run["instances_per_s"] for name, run in entry["runs"].items()}
        entry["ratios"] = {k: v for k, v in {
            "b_sqlite_over_a": ratio(ips.get("b_floor_sqlite"), ips.get("a_spiff_memory")),
            "b_postgresql_over_a": ratio(ips.get("b_floor_postgresql"), ips.get("a_spiff_memory")),
            "c_sqlite_over_b_sqlite": ratio(ips.get("c_contiflow_sqlite"), ips.get("b_floor_sqlite")),
            "c_postgresql_over_b_postgresql": ratio(ips.get("c_contiflow_postgresql"),
                                                    ips.get("b_floor_postgresql")),
            "c_postgresql_over_b_sqlite": ratio(ips.get("c_contiflow_postgresql"), ips.get("b_floor_sqlite")),
            "c_sqlite_over_a": ratio(ips.get("c_contiflow_sqlite"), ips.get("a_spiff_memory")),
        }.items() if v is not None}
    g = results["growth"]
    first, last = str(g["sizes"][0]), str(g["sizes"][-1])
    g["growth_factor"] = {name: ratio(per.get(last, {}).get("p50_ms"), per.get(first, {}).get("p50_ms"))
                          for name, per in g["runs"].items()}
    g["added_ms"] = {name: per[last]["p50_ms"] - per[first]["p50_ms"]
                     for name, per in g["runs"].items() if first in per and last in per}


def run_engine(settings: Settings, pg_url: str | None, pg_version: str | None, log: Log) -> dict[str, Any]:
    """The whole engine suite on SQLite (and PostgreSQL when given); JSON-ready."""
    results: dict[str, Any] = {
        "settings": {"quick": settings.quick, "instances": settings.instances, "warmup": settings.warmup,
                     "growth_sizes": list(settings.sizes), "growth_steps": settings.growth_steps,
                     "step_data": {m.short: m.step_data for m in THROUGHPUT_MODELS}},
        "throughput": [{"model": str(m.path.relative_to(BENCH_DIR.parent)), "short": m.short,
                        "about": m.about, "runs": {}, "_model": m} for m in THROUGHPUT_MODELS],
        "growth": {"sizes": list(settings.sizes), "runs": {}},
    }
    t0 = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            backends = [stack.enter_context(sqlite_backend())]
            if pg_url and pg_version:
                backends.append(stack.enter_context(postgres_backend(pg_url, pg_version)))
            run_raw(settings, backends, results, log)
            for backend in backends:
                run_contiflow(settings, backend, results, log)
    finally:
        for entry in results["throughput"]:
            entry.pop("_model", None)
    results["total_s"] = time.perf_counter() - t0
    derive(results)
    return results
