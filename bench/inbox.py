"""Inbox benchmark (issue 4): latency of the inbox API and the inbox page with many open tasks.

For SQLite (a file) and PostgreSQL (a private schema, created and dropped), the data set is
built quickly: ``runbooks/system_outage.bpmn`` and ``runbooks/people.yaml`` go through the
Engine, ONE real instance is started to learn the row shapes, then 10,000 instances (copies of
that instance's state and definition) and 100,000 ``human_tasks`` rows (10 per instance, roles
spread over the runbook's roles, deadlines spread over a week) are bulk-inserted with
SQLAlchemy Core ``executemany`` in chunks (``--quick``: 1,000 / 10,000).

The app (``web.app.create_app``) is served by a real werkzeug server on 127.0.0.1 in a thread
and measured with ``http.client`` (one keep-alive connection per endpoint), N rounds after a
warm-up, each round one request to every endpoint in turn (so background load hits all three
alike): (i) static baseline ``GET /static/app.css``; (ii) inbox API
``GET /api/v1/tasks?limit=100`` with a bearer token (every role's tasks); (iii) the same API as
alice, signed in through the login form (CSRF token, session cookie): her role's tasks only;
(iv) inbox page ``GET /`` as alice.  Goal: both API p95 < 50 ms and within 3x of the static
page's p95.

    .venv/bin/python -m bench.inbox [--quick] [--no-postgres] [--postgres URL]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import random
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.backends import Backend, postgres_backend, redact, resolve_postgres, sqlite_backend
from bench.stats import percentile, ratio

ROOT = Path(__file__).resolve().parent.parent
OUTAGE = ROOT / "runbooks" / "system_outage.bpmn"
PEOPLE = ROOT / "runbooks" / "people.yaml"
TOKEN = "bench-inbox-token-0123456789abcdef"
USER, PASSWORD = "alice", "demo"
GOAL_P95_MS, GOAL_RATIO = 50.0, 3.0


def _log(message: str) -> None:
    print(f"[bench.inbox {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- data set -------------------------------------------------------------------------
def _build(eng: Any, instances: int, tasks_per_instance: int, chunk: int = 5_000) -> dict[str, Any]:
    from sqlalchemy import insert, select

    from engine.store.models import HumanTaskRow, InstanceRow

    eng.load_people(PEOPLE.read_text())
    eng.import_paths([OUTAGE])
    real = eng.start("system_outage", business_key="BENCH-REAL")
    roles = sorted({m.get("role") for m in eng.task_metadata("system_outage").values()
                    if isinstance(m, dict) and m.get("role")}) or sorted(r.name for r in eng.roles())
    started = time.perf_counter()
    with eng.sessions.begin() as session:
        conn = session.connection()
        inst = conn.execute(select(InstanceRow.__table__).where(InstanceRow.__table__.c.id == real)).mappings().one()
        shapes = list(conn.execute(select(HumanTaskRow.__table__)
                                   .where(HumanTaskRow.__table__.c.instance_id == real)).mappings())
    assert shapes, "the real instance has no open task to copy"
    rng = random.Random(4)
    base = inst["started_at"]
    n_tasks = 0
    for first in range(0, instances, chunk):
        inst_rows: list[dict[str, Any]] = []
        task_rows: list[dict[str, Any]] = []
        for i in range(first, min(first + chunk, instances)):
            iid = uuid.uuid4().hex
            inst_rows.append({**inst, "id": iid, "business_key": f"BENCH-{i:06d}", "lock_version": 0})
            for j in range(tasks_per_instance):
                shape = shapes[j % len(shapes)]
                task_rows.append({**shape, "id": str(uuid.uuid4()), "instance_id": iid,
                                  "role": roles[(i * tasks_per_instance + j) % len(roles)],
                                  "ready_at": base, "claimed_by": None, "drill": False,
                                  "due_at": base + timedelta(seconds=rng.randrange(7 * 86_400))})
        with eng.sessions.begin() as session:
            conn = session.connection()
            conn.execute(insert(InstanceRow.__table__), inst_rows)
            conn.execute(insert(HumanTaskRow.__table__), task_rows)
        n_tasks += len(task_rows)
    with eng.sessions.begin() as session:       # fresh planner statistics for both backends
        conn = session.connection()
        from sqlalchemy import text
        conn.execute(text("ANALYZE"))
    return {"instances": instances + 1, "tasks": n_tasks + len(shapes), "roles": roles,
            "build_s": round(time.perf_counter() - started, 2)}


# -- HTTP -----------------------------------------------------------------------------
@contextlib.contextmanager
def _serve(app: Any) -> Iterator[int]:
    import logging

    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.ERROR)      # no per-request log lines
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[int, bytes, Any]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read(), response


def _login(port: int) -> str:
    """Sign in through the form; returns the Cookie header to send."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, body, response = _get(conn, "/login", {})
    cookie = "; ".join(c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or [])
    token = re.search(rb'name="csrf_token" value="([^"]+)"', body)
    assert status == 200 and token, "no login form"
    form = urlencode({"username": USER, "password": PASSWORD, "csrf_token": token.group(1).decode()})
    conn.request("POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                       "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, f"login failed: {response.status}"
    cookies = dict(c.split(";", 1)[0].split("=", 1) for c in cookie.split("; ") if "=" in c)
    for c in response.headers.get_all("Set-Cookie") or []:
        name, _, value = c.split(";", 1)[0].partition("=")
        cookies[name] = value
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def _measure(port: int, endpoints: dict[str, tuple[str, dict[str, str]]], n: int,
             warmup: int) -> dict[str, dict[str, Any]]:
    """Round-robin over the endpoints (one keep-alive connection each), so that load from
    other processes on the machine falls on all of them alike and their ratios stay fair."""
    conns = {name: http.client.HTTPConnection("127.0.0.1", port, timeout=60) for name in endpoints}
    times: dict[str, list[float]] = {name: [] for name in endpoints}
    sizes: dict[str, int] = {}
    for k in range(warmup + n):
        for name, (path, headers) in endpoints.items():
            started = time.perf_counter()
            status, body, _ = _get(conns[name], path, headers)
            elapsed = (time.perf_counter() - started) * 1000.0
            if status != 200:
                raise RuntimeError(f"GET {path}: HTTP {status}: {body[:200]!r}")
            if k >= warmup:
                times[name].append(elapsed)
                sizes[name] = len(body)
    for conn in conns.values():
        conn.close()
    return {name: {"path": path, "n": n, "p50_ms": round(percentile(times[name], 50), 2),
                   "p95_ms": round(percentile(times[name], 95), 2), "bytes": sizes[name]}
            for name, (path, _) in endpoints.items()}


def _run_backend(backend: Backend, quick: bool) -> dict[str, Any]:
    from engine.api import Engine
    from engine.config import Config
    from web.app import create_app

    instances, per = (1_000, 10) if quick else (10_000, 10)
    n, warmup = (50, 10) if quick else (200, 20)
    eng = Engine(Config(database_url=backend.database_url))
    try:
        _log(f"{backend.name}: building {instances:,} instances / {instances * per:,} tasks")
        data = _build(eng, instances, per)
        _log(f"{backend.name}: built in {data['build_s']} s; serving")
        app = create_app(eng, start_scheduler=False, config={"api_tokens": {TOKEN: "bench"}})
        with _serve(app) as port:
            cookie = _login(port)
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            first = json.loads(_get(http.client.HTTPConnection("127.0.0.1", port, timeout=60),
                                    "/api/v1/tasks?limit=100", bearer)[1])
            if len(first) != 100:
                raise RuntimeError("the inbox API did not return 100 tasks")
            measured = _measure(port, {"static": ("/static/app.css", {}),
                                       "api": ("/api/v1/tasks?limit=100", bearer),
                                       "api_user": ("/api/v1/tasks?limit=100", {"Cookie": cookie}),
                                       "page": ("/", {"Cookie": cookie})}, n, warmup)
    finally:
        eng.close()
    static = measured["static"]
    out: dict[str, Any] = {"backend": backend.name, "version": backend.version,
                           "data": {k: v for k, v in data.items() if k != "roles"}, **measured}
    for name in ("api", "api_user", "page"):
        out[f"{name}_over_static_p50"] = ratio(measured[name]["p50_ms"], static["p50_ms"])
        out[f"{name}_over_static_p95"] = ratio(measured[name]["p95_ms"], static["p95_ms"])
    out["goal_met"] = all(measured[name]["p95_ms"] < GOAL_P95_MS and out[f"{name}_over_static_p95"] is not None
                          and out[f"{name}_over_static_p95"] <= GOAL_RATIO for name in ("api", "api_user"))
    return out


def run(quick: bool, pg_url: str | None) -> dict[str, Any]:
    """Measure SQLite, and PostgreSQL when ``pg_url`` is given; returns JSON-ready figures."""
    results = []
    with sqlite_backend() as backend:
        results.append(_run_backend(backend, quick))
    if pg_url:
        from bench.backends import postgres_version
        with postgres_backend(pg_url, postgres_version(pg_url) or "?") as backend:
            results.append(_run_backend(backend, quick))
    return {"quick": quick, "goal": {"api_p95_ms_below": GOAL_P95_MS, "api_over_static_at_most": GOAL_RATIO},
            "backends": results}


def _fmt(value: float | None, suffix: str = "") -> str:
    return "—" if value is None else f"{value:.2f}{suffix}"


def markdown(result: dict[str, Any]) -> str:
    lines = ["| backend | tasks / instances | static p50 / p95 ms | inbox API p50 / p95 ms "
             "| alice's API p50 / p95 ms | inbox page p50 / p95 ms "
             "| API ÷ static (p50 / p95) | alice's API ÷ static (p50 / p95) | page ÷ static (p50 / p95) "
             "| goal (API p95 < 50 ms, ≤ 3× static) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in result["backends"]:
        lines.append(
            f"| {r['backend']} {r['version']} | {r['data']['tasks']:,} / {r['data']['instances']:,} "
            f"| {_fmt(r['static']['p50_ms'])} / {_fmt(r['static']['p95_ms'])} "
            f"| {_fmt(r['api']['p50_ms'])} / {_fmt(r['api']['p95_ms'])} "
            f"| {_fmt(r['api_user']['p50_ms'])} / {_fmt(r['api_user']['p95_ms'])} "
            f"| {_fmt(r['page']['p50_ms'])} / {_fmt(r['page']['p95_ms'])} "
            f"| {_fmt(r['api_over_static_p50'], '×')} / {_fmt(r['api_over_static_p95'], '×')} "
            f"| {_fmt(r['api_user_over_static_p50'], '×')} / {_fmt(r['api_user_over_static_p95'], '×')} "
            f"| {_fmt(r['page_over_static_p50'], '×')} / {_fmt(r['page_over_static_p95'], '×')} "
            f"| {'met' if r['goal_met'] else 'NOT met'} |")
    n = result["backends"][0]["api"]["n"] if result["backends"] else 0
    lines.append("")
    lines.append(f"{n} requests per endpoint after a warm-up, interleaved round-robin, one keep-alive connection "
                 "each, werkzeug server in "
                 "the same process; API = `GET /api/v1/tasks?limit=100` (token: every role), alice's API = the same "
                 "signed in as alice (her role's tasks), page = `GET /` as alice, "
                 "static = `GET /static/app.css`." + (" Quick run: indicative only." if result["quick"] else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 instances / 10,000 tasks, 50 requests")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL to use (default: as bench)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "inbox.json"))
    args = parser.parse_args(argv)
    url, _version, why = resolve_postgres(args.postgres, args.no_postgres)
    if url is None:
        _log(f"PostgreSQL skipped: {why}")
    else:
        _log(f"PostgreSQL at {redact(url)}")
    result = run(args.quick, url)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
