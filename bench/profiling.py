"""cProfile of contiflow (c) on the runbook model: where an engine step spends its time."""

from __future__ import annotations

import cProfile
import io
import pstats
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.backends import sqlite_backend
from bench.contiflow_driver import ContiflowDriver, import_model, open_engine
from bench.harness import throughput
from bench.modelgen import REPO_DIR, THROUGHPUT_MODELS

ENGINE_DIR = str(REPO_DIR / "engine") + "/"


def _package(filename: str) -> str:
    if filename.startswith(ENGINE_DIR):
        return "engine." + filename[len(ENGINE_DIR):].split("/")[0].removesuffix(".py")
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/")[0].removesuffix(".py")
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    if "/lib/python3" in filename:
        return "stdlib:" + filename.rsplit("/", 1)[-1].removesuffix(".py")
    return filename.rsplit("/", 1)[-1]


def analyse(stats: pstats.Stats, top: int = 25) -> dict[str, Any]:
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in raw.values()) or 1.0
    engine_rows, packages = [], defaultdict(float)
    for (filename, line, func), (_cc, ncalls, tt, ct, _callers) in raw.items():
        packages[_package(filename)] += tt
        if filename.startswith(ENGINE_DIR):
            engine_rows.append({"function": f"{filename[len(str(REPO_DIR)) + 1:]}:{line}:{func}",
                                "calls": ncalls, "cum_pct": 100 * ct / total, "self_pct": 100 * tt / total})
    engine_rows.sort(key=lambda r: r["cum_pct"], reverse=True)
    by_package = sorted(({"package": k, "self_pct": 100 * v / total} for k, v in packages.items()),
                        key=lambda r: r["self_pct"], reverse=True)
    return {"total_s": total, "engine_cumulative": engine_rows[:top], "self_time_by_package": by_package[:15]}


def count_statements(engine: Any, driver: ContiflowDriver, instances: int) -> dict[str, Any]:
    """SQL statements per command, by verb (start, and one step = complete + tasks())."""
    from sqlalchemy import event
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper())
    event.listen(engine.db, "before_cursor_execute", listener)
    try:
        starts, steps = Counter[str](), Counter[str]()
        n_steps = 0
        for _ in range(instances):
            seen.clear()
            handle = driver.start({"incident": "bench"})
            starts.update(seen)
            while not driver.done(handle):
                seen.clear()
                driver.step(handle)
                steps.update(seen)
                n_steps += 1
    finally:
        event.remove(engine.db, "before_cursor_execute", listener)
    return {"per_start": {k: v / instances for k, v in starts.most_common()},
            "per_step": {k: v / max(n_steps, 1) for k, v in steps.most_common()}}


def profile_runbook(instances: int, out_dir: Path) -> dict[str, Any]:
    model = next(m for m in THROUGHPUT_MODELS if m.short == "runbook_shaped")
    with sqlite_backend() as backend:
        engine = open_engine(backend.database_url)
        try:
            driver = ContiflowDriver(engine, import_model(engine, model), model.step_data, backend.name)
            throughput(driver, 3, warmup=2)            # warm caches outside the profile
            statements = count_statements(engine, driver, 5)
            profiler = cProfile.Profile()
            profiler.enable()
            run = throughput(driver, instances, warmup=0)
            profiler.disable()
        finally:
            engine.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(out_dir / "profile_runbook.prof"))
    stats = pstats.Stats(profiler)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(60)
    (out_dir / "profile_runbook.txt").write_text(text.getvalue())
    return {"instances": instances, "run_under_profiler": run, "sql_statements": statements, **analyse(stats)}


def render(profile: dict[str, Any]) -> str:
    lines = [f"cProfile, contiflow on SQLite, runbook model, {profile['instances']} instances "
             f"({profile['total_s']:.2f} s profiled)", "", "engine/ functions by cumulative time:"]
    for row in profile["engine_cumulative"]:
        lines.append(f"  {row['cum_pct']:5.1f}%  (self {row['self_pct']:4.1f}%)  "
                     f"{row['function']}  x{row['calls']}")
    sql = profile["sql_statements"]

    def verbs(counts: dict[str, float]) -> str:
        return ", ".join(f"{k} {v:.1f}" for k, v in counts.items())
    lines += ["", "SQL statements per start:  " + verbs(sql["per_start"]),
              "SQL statements per step (complete + tasks()):  " + verbs(sql["per_step"])]
    lines += ["", "self time by package:"]
    for row in profile["self_time_by_package"]:
        lines.append(f"  {row['self_pct']:5.1f}%  {row['package']}")
    return "\n".join(lines)
