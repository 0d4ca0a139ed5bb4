"""The only place that reads wall time.

Everything timed asks a ``Clock``: ``SystemClock`` in production, ``ManualClock`` in tests,
``ScaledClock`` for drills and ``--speed`` (virtual time runs ``speed`` times faster than the
wall, from an anchor).  All times are timezone-aware UTC.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

UTC = UTC


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall time, UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: deterministic tests, no sleeping."""

    def __init__(self, start: datetime | None = None):
        self._now = as_utc(start) if start else datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = as_utc(moment)


class FixedClock:
    """One instant: a command reads the time once, so everything it records agrees."""

    def __init__(self, moment: datetime):
        self.moment = as_utc(moment)

    def now(self) -> datetime:
        return self.moment


class ScaledClock:
    """Virtual time running ``speed`` times faster than ``base``, from a fixed anchor.

    ``anchor_wall`` is the base clock's time when virtual time was ``anchor_virtual``; storing
    both lets a restarted process resume the same virtual timeline.
    """

    def __init__(self, speed: float, anchor_virtual: datetime, anchor_wall: datetime,
                 base: Clock | None = None):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        self.anchor_virtual = as_utc(anchor_virtual)
        self.anchor_wall = as_utc(anchor_wall)
        self.base = base or SystemClock()

    def now(self) -> datetime:
        elapsed = self.base.now() - self.anchor_wall
        return self.anchor_virtual + elapsed * self.speed

    def to_wall(self, virtual: datetime) -> datetime:
        """The base-clock moment at which virtual time reaches ``virtual``."""
        return self.anchor_wall + (as_utc(virtual) - self.anchor_virtual) / self.speed


def monotonic() -> float:
    """Seconds from an arbitrary origin, for measuring elapsed time (sandbox limits)."""
    return time.monotonic()


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is read as UTC, never as the server's zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def isoformat(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z, the one format the CLI and API print."""
    if moment is None:
        return None
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def format_duration(delta: timedelta) -> str:
    """ISO-8601 duration (PT1H2M3S) for offsets and targets in JSON output."""
    total = delta.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"{sign}P"
    if days:
        out += f"{int(days)}D"
    time_part = ""
    if hours:
        time_part += f"{int(hours)}H"
    if minutes:
        time_part += f"{int(minutes)}M"
    if seconds or not (days or hours or minutes):
        secs = round(seconds, 3)
        time_part += f"{int(secs) if secs == int(secs) else secs}S"
    if time_part:
        out += "T" + time_part
    return out
