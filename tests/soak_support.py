"""Helpers for the crash-safety soak test (tests/test_soak.py): a small cluster of real
``contiflow worker`` and web processes, each in its own process group so SIGKILL takes all of
it (gunicorn's master and workers alike), a chaos loop that kills and restarts them at random,
and a bearer-token JSON client that spreads calls over the web processes still alive."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def has_wsgi_entry() -> bool:
    """``gunicorn web.wsgi:app`` is the production web layout once web/wsgi.py exists;
    until then ``contiflow serve`` (waitress, in-process scheduler) stands in."""
    return (ROOT / "web" / "wsgi.py").is_file() and (BIN / "gunicorn").is_file()


@dataclass
class Proc:
    name: str
    kind: str                       # worker | web
    argv: list[str]
    log: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    starts: int = 0
    kills: int = 0
    _log_handle: Any = None

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Cluster:
    """Processes sharing one environment (database, SMTP, API tokens); never more than these."""

    env: dict[str, str]
    cwd: Path
    logdir: Path
    procs: list[Proc] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    watchdog: subprocess.Popen[bytes] | None = None

    def add_worker(self, name: str, interval: float = 1.0) -> Proc:
        proc = Proc(name, "worker", [str(BIN / "contiflow"), "worker", "--interval", str(interval)],
                    self.logdir / f"{name}.log")
        self.procs.append(proc)
        return proc

    def add_web(self, name: str, port: int) -> Proc:
        if has_wsgi_entry():
            argv = [str(BIN / "gunicorn"), "web.wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                    "--threads", "4", "--graceful-timeout", "2", "--log-level", "warning"]
        else:
            argv = [str(BIN / "contiflow"), "serve", "--port", str(port), "--threads", "4"]
        proc = Proc(name, "web", argv, self.logdir / f"{name}.log", port=port)
        self.procs.append(proc)
        return proc

    @property
    def webs(self) -> list[Proc]:
        return [p for p in self.procs if p.kind == "web"]

    def start(self, proc: Proc) -> None:
        with self.lock:
            if proc.alive:
                return
            if self.watchdog is None:
                self.watchdog = subprocess.Popen([str(BIN / "python"), "-c", WATCHDOG, str(os.getpid()),
                                                  str(self._groups_file)], stdin=subprocess.DEVNULL)
            self._close_log(proc)
            proc._log_handle = open(proc.log, "ab")  # noqa: SIM115 - closed when the process is reaped
            proc._log_handle.write(f"\n--- start {proc.starts + 1} at {time.time():.3f}\n".encode())
            proc._log_handle.flush()
            proc.popen = subprocess.Popen(proc.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                          stdout=proc._log_handle, stderr=subprocess.STDOUT,
                                          start_new_session=True)      # its own process group
            proc.started_at = time.monotonic()
            proc.starts += 1
            self._write_groups()

    def kill(self, proc: Proc) -> bool:
        """SIGKILL the whole process group; no clean-up runs in it.  True if it was alive."""
        with self.lock:
            if not proc.alive:
                return False
            assert proc.popen is not None
            _signal_group(proc.popen, signal.SIGKILL)
            proc.popen.wait()
            proc.kills += 1
            self._write_groups()
            return True

    def stop_all(self, grace: float = 5.0) -> None:
        """SIGTERM every group, then SIGKILL what is left; always reaps and closes logs."""
        with self.lock:
            running = [p for p in self.procs if p.alive]
            for proc in running:
                assert proc.popen is not None
                _signal_group(proc.popen, signal.SIGTERM)
            end = time.monotonic() + grace
            for proc in running:
                assert proc.popen is not None
                try:
                    proc.popen.wait(timeout=max(0.1, end - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            for proc in running:
                assert proc.popen is not None
                _signal_group(proc.popen, signal.SIGKILL)   # stragglers and orphans of the group
                proc.popen.wait()
            for proc in self.procs:
                self._close_log(proc)
            if self.watchdog is not None:
                self.watchdog.kill()
                self.watchdog.wait()
                self.watchdog = None

    @property
    def _groups_file(self) -> Path:
        return self.logdir / "process-groups"

    def _write_groups(self) -> None:
        """For the watchdog: the process groups alive now."""
        groups = [str(p.popen.pid) for p in self.procs if p.popen is not None and p.alive]
        self._groups_file.write_text("\n".join(groups))

    def ready(self, proc: Proc) -> bool:
        if not proc.alive:
            return False
        if proc.kind == "worker":       # prints this after its first (catch-up) sweep
            return b"contiflow worker:" in _last_start(proc.log)
        return _http_ready(proc.port)

    def wait_ready(self, procs: list[Proc], timeout: float) -> None:
        end = time.monotonic() + timeout
        pending = list(procs)
        while pending:
            pending = [p for p in pending if not self.ready(p)]
            if not pending:
                return
            if time.monotonic() > end:
                names = ", ".join(f"{p.name} (alive={p.alive}, log {p.log})" for p in pending)
                raise TimeoutError(f"not ready after {timeout:.0f}s: {names}")
            time.sleep(0.2)

    @staticmethod
    def _close_log(proc: Proc) -> None:
        if proc._log_handle is not None:
            proc._log_handle.close()
            proc._log_handle = None


def _signal_group(popen: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(popen.pid, sig)
    except ProcessLookupError:
        pass


def _last_start(log: Path) -> bytes:
    try:
        return log.read_bytes().rsplit(b"--- start ", 1)[-1]
    except FileNotFoundError:
        return b""


def _http_ready(port: int | None) -> bool:
    for path in ("/readyz", "/login"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                if response.status == 200:
                    return True
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code != 404:          # /readyz answers 503 until the database is ready
                return False
        except (OSError, http.client.HTTPException):
            return False
    return False


#: Runs beside the test: if the test process dies (even by SIGKILL, e.g. a CI timeout), it
#: SIGKILLs the process groups the cluster had running, so nothing outlives the test.
WATCHDOG = """
import os, signal, sys, time
parent, groups = int(sys.argv[1]), sys.argv[2]
while os.getppid() == parent:
    time.sleep(0.5)
try:
    pgids = [int(g) for g in open(groups).read().split()]
except OSError:
    pgids = []
for pgid in pgids:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class Chaos(threading.Thread):
    """Every ``gap`` seconds (random within the range) SIGKILL one random process, then start
    it again after a short pause — until ``stop`` is set or ``until`` (monotonic) passes."""

    def __init__(self, cluster: Cluster, rng: random.Random, until: float, gap: tuple[float, float] = (2.0, 4.0),
                 restart_after: tuple[float, float] = (0.2, 1.5)):
        super().__init__(name="soak-chaos", daemon=True)
        self.cluster, self.rng, self.until, self.gap, self.restart_after = cluster, rng, until, gap, restart_after
        self.stop = threading.Event()
        self.kills: list[dict[str, Any]] = []
        self.ended_at: float | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.wait(self.rng.uniform(*self.gap)) and time.monotonic() < self.until:
                kind = self.rng.choice(("worker", "web"))          # webs as often as workers
                victim = self.rng.choice([p for p in self.cluster.procs if p.kind == kind])
                if self.cluster.kill(victim):
                    self.kills.append({"at": round(time.monotonic(), 3), "process": victim.name,
                                       "kind": victim.kind})
                if self.stop.wait(self.rng.uniform(*self.restart_after)):
                    break
                self.cluster.start(victim)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            self.ended_at = time.monotonic()


class Unavailable(Exception):
    """No answer from the web process (killed, restarting, refused, reset, timed out)."""


class ApiClient:
    """Bearer-token JSON calls to /api/v1, spread over the web processes that answer."""

    def __init__(self, cluster: Cluster, token: str, timeout: float = 15.0):
        self.cluster, self.token, self.timeout = cluster, token, timeout
        self._next = 0
        self.unavailable = 0            # calls that found no live web process
        self.server_errors = 0          # 5xx answers

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """One call; a refused connection (the request was never sent) moves on to the next
        web process.  Any other failure may have reached the server: the caller settles it."""
        webs = self.cluster.webs
        for _ in webs:
            self._next = (self._next + 1) % len(webs)
            try:
                return self._call(webs[self._next], method, path, body)
            except ConnectionRefusedError:
                continue
        self.unavailable += 1
        raise Unavailable("no web process accepts connections")

    def _call(self, web: Proc, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{web.port}/api/v1{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            with exc:
                status, raw = exc.code, exc.read()
            if status >= 500:
                self.server_errors += 1
            try:
                return status, json.loads(raw or b"null")
            except ValueError:
                return status, raw.decode(errors="replace")
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ConnectionRefusedError):
                raise exc.reason from None
            self.unavailable += 1
            raise Unavailable(f"{web.name}: {exc.reason!r}") from None
        except ConnectionRefusedError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self.unavailable += 1
            raise Unavailable(f"{web.name}: {exc.__class__.__name__}: {exc}") from None
