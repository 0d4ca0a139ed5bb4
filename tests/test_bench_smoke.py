"""Smoke test of the benchmark code at its tiniest sizes, SQLite only: the worker-scaling run
(real ``contiflow worker --once`` processes), the combined report, and the peer comparison when
Node.js and ``bench/peer/node_modules`` are present (it is never installed from here)."""

from __future__ import annotations

import shutil

import pytest

from bench import summary
from bench.peer import PEER_DIR, run_peer
from bench.workers import markdown as workers_markdown
from bench.workers import run_workers


def _quiet(_message: str) -> None:
    pass


def test_workers_on_sqlite_advance_each_instance_exactly_once() -> None:
    result = run_workers(4, None, None, log=_quiet)
    assert result["backend"] == "sqlite"
    assert set(result["runs"]) == {"1", "2"}
    for agg in result["runs"].values():
        assert agg["exactly_once"] and len(agg["runs"]) == 1
        for run in agg["runs"]:
            assert run["exactly_once"], run
            assert run["instances_run_total"] == 4
            assert run["exit_codes"] == [0] * run["processes"]
    assert result["all_exactly_once"] and result["ratio_firing"] is not None
    assert "2 ÷ 1 processes" in workers_markdown(result)
    rows = summary.worker_rows(result)
    assert len(rows) == 1 and rows[0]["suite"] == "workers"


def test_combined_report_renders_every_suite_and_failures() -> None:
    suites = {
        "timers": {"lateness": {"sqlite": {
            "timers": 10, "lateness": {"p99_ms": 120.0}, "apscheduler": {"p99_ms": 10.0},
            "p99_over_apscheduler": 12.0, "unfired": 0, "fired_more_than_once": 0}},
            "catchup": {"sqlite": {"timers": 5, "seconds": 1.0, "timers_per_s": 5.0, "floor_seconds": 0.5,
                                   "over_floor": 2.0, "exactly_once": True}}},
        "analysis": {"simulation": {"cases": 10, "model": "m.bpmn", "simulate_s": 0.2, "bare_simpy_s": 0.1,
                                    "ratio": 2.0}},
        "peer": {"skipped": "node not found on PATH"},
    }
    rows = summary.build(suites, {"inbox": "Traceback…\nRuntimeError: boom"})
    met = {r["target"]: r["met"] for r in rows}
    assert met["timer lateness p99, 10 pending, sqlite"] is True
    assert met["catch-up of 5 overdue timers, sqlite"] is True
    assert any(r["suite"] == "inbox" and r["met"] is False and "boom" in r["baseline"] for r in rows)
    text = summary.render(rows, markdown=True)
    assert text.startswith("| suite | target |") and "| 12.00 |" in text
    assert "node not found" in summary.render(rows, markdown=False)


@pytest.mark.skipif(shutil.which("node") is None or not (PEER_DIR / "node_modules" / "bpmn-engine").is_dir(),
                    reason="Node.js or bench/peer/node_modules absent (python -m bench --only peer installs it)")
def test_peer_runs_both_engines_on_the_same_chain() -> None:
    result = run_peer(1, _quiet, steps=2, warmup=0, js_warmup=0)
    assert {"bpmn_engine_memory", "bpmn_engine_reload", "contiflow_sqlite_file"} <= set(result["runs"])
    assert all(run["steps_per_instance"] == 2 for run in result["runs"].values())
    assert all(pair["ratio"] for pair in result["pairs"])


def test_inbox_bench_measures_both_apis_and_the_page_on_sqlite() -> None:
    from bench import inbox

    result = inbox.run(quick=True, pg_url=None)
    [sqlite] = result["backends"]
    assert sqlite["data"]["tasks"] == 10_001
    for name in ("static", "api", "api_user", "page"):
        assert sqlite[name]["n"] == 50 and sqlite[name]["p95_ms"] > 0, name
    assert "alice's API" in inbox.markdown(result)
    rows = [r for r in summary.inbox_rows(result) if "API" in r["target"]]
    assert [r["target"].split(" (")[1].split(")")[0] for r in rows] == ["token, every role", "a responder's role"]
