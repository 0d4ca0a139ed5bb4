"""Per-run state of sandboxed code: deadline, limits, call depth and the first refusal.

Why this shape: limits must work in any thread and without signals, so compiled code calls
``tick()`` in every loop and comprehension and ``enter()`` in every function and lambda (the
policy injects the calls), and the guards find the current run in a context variable (per
thread, cheap to read).  A refusal is raised as ``Refused``, a ``BaseException``, and is also
remembered on the run: a script that swallows it with a bare ``except`` still fails when it
ends, and every later tick raises again.
"""

from __future__ import annotations

import os
import sys
from contextvars import ContextVar, Token
from types import FrameType
from typing import Any

from engine.clock import monotonic

FILENAME = "<sandbox>"          # co_filename of compiled model code: finds script lines
MAX_CALL_DEPTH = 500            # nested script calls (the engine's recursion limit is huge)
_MEMORY_EVERY = 0.005           # seconds between samples of the process' resident memory


class Refused(BaseException):
    """A sandbox rule or limit stopped the script (not catchable by ``except Exception``)."""


class Run:
    """One evaluate/execute call: its limits, deadline and first failure."""

    __slots__ = ("limits", "deadline", "failure", "line", "mem_next", "mem_base", "memo",
                 "calls", "frame_limit")

    def __init__(self, limits: Any):
        self.limits = limits
        started = monotonic()
        self.deadline = started + limits.seconds
        self.failure: str | None = None
        self.line: int | None = None
        self.mem_next = started + _MEMORY_EVERY   # first memory sample: the baseline
        self.mem_base: int | None = None
        self.memo: dict[int, tuple[tuple, int]] | None = None   # tuple depth cache (nesting)
        self.calls = 0
        self.frame_limit: int | None = None


_current: ContextVar[Run | None] = ContextVar("sandbox_run", default=None)
_get = _current.get


def start(limits: Any) -> tuple[Run, Token]:
    """Make a new run current (in this thread/context); ``finish`` restores the previous one."""
    run = Run(limits)
    return run, _current.set(run)


def finish(token: Token) -> None:
    _current.reset(token)


def current() -> Run:
    run = _get()
    if run is None:
        raise Refused("sandboxed code can only run inside evaluate() or execute()")
    return run


def refuse(message: str) -> None:
    """Stop the script: remember the first reason (and its line) and raise ``Refused``."""
    run = _get()
    if run is not None and run.failure is None:
        frame: FrameType | None = sys._getframe(1)   # inline walk: no extra call near the recursion limit
        while frame is not None and frame.f_code.co_filename != FILENAME:
            frame = frame.f_back
        run.failure = message
        run.line = frame.f_lineno if frame is not None else None
    raise Refused(message)


def tick() -> bool:
    """Injected into loops and comprehensions: enforce the deadline, sample memory."""
    run = _get()
    if run is None:
        raise Refused("sandboxed code can only run inside evaluate() or execute()")
    now = monotonic()
    if run.failure is not None:
        raise Refused(run.failure)
    if now > run.deadline:
        refuse(f"time limit of {run.limits.seconds:g} s exceeded")
    if now >= run.mem_next:
        _sample_memory(run, now)
    return True


def enter() -> bool:
    """Injected at the start of every script function and lambda: tick, and bound recursion.

    The engine raises Python's recursion limit to 200,000 for SpiffWorkflow; recursion that
    passes through C (``sorted(key=f)``, ``map(f, ...)``) would overflow the C stack long
    before that.  Measuring the stack costs a few microseconds, so it is sampled every 16th
    call (a runaway recursion overshoots by at most 16 frames).
    """
    tick()
    run = _get()
    assert run is not None              # tick() refused otherwise
    run.calls += 1
    if run.calls & 15 == 1:
        frame: FrameType | None = sys._getframe()
        if run.frame_limit is None:
            depth = 0
            while frame is not None:
                depth += 1
                frame = frame.f_back
            run.frame_limit = depth + MAX_CALL_DEPTH
        try:
            sys._getframe(run.frame_limit)
        except ValueError:
            return True
        refuse(f"calls nested more than {MAX_CALL_DEPTH} deep (runaway recursion?)")
    return True


_statm: tuple[int, int] | None = None    # (pid, fd) of /proc/<pid>/statm, kept open


def _resident_bytes() -> int | None:
    """Resident set size from /proc (Linux); None elsewhere.  One fd per process: no file
    objects to close (this runs inside sandboxed code, possibly at the recursion limit)."""
    global _statm
    pid = os.getpid()
    if _statm is None or _statm[0] != pid:        # first use, or we were forked
        try:
            _statm = (pid, os.open(f"/proc/{pid}/statm", os.O_RDONLY | os.O_CLOEXEC))
        except (OSError, AttributeError):
            return None
    try:
        return int(os.pread(_statm[1], 128, 0).split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


try:
    _PAGE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):  # pragma: no cover - not Linux
    _PAGE = 4096


def _sample_memory(run: Run, now: float) -> None:
    """Refuse when the process grew by more than ``max_memory_mb`` since the baseline, taken on
    the first tick after 5 ms (short runs never pay for reading /proc).

    Size guards stop single huge values before they are built; this catches the slow way
    (appending many modest values in a loop).  It is process-wide, so the limit is generous.
    """
    limit_mb = run.limits.max_memory_mb
    rss = _resident_bytes() if limit_mb else None
    if rss is None:
        run.mem_next = float("inf")
        return
    if run.mem_base is None:
        run.mem_base = rss
    elif rss - run.mem_base > limit_mb * 1024 * 1024:
        refuse(f"memory limit of {limit_mb} MB exceeded")
    run.mem_next = now + _MEMORY_EVERY
