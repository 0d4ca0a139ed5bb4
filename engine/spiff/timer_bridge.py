"""Bridge our Clock into SpiffWorkflow's timer module — the one place that touches it.

SpiffWorkflow 3.2.0 asks ``datetime`` for the current UTC time inside
``SpiffWorkflow.bpmn.specs.event_definitions.timer`` and reads naive timer dates in the
server's zone (``LOCALTZ``).  ``install_clock_bridge`` swaps that module's ``datetime`` for a
subclass whose ``now`` asks the clock of the current context, and pins ``LOCALTZ`` to UTC.
``tests/test_clock_bridge.py`` is the contract test that fails if an upgrade moves either.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from engine.clock import Clock, SystemClock

_SYSTEM_CLOCK = SystemClock()
_current_clock: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("contiflow_clock", default=None)


class _ClockedDatetime(datetime):
    """``datetime`` whose ``now`` reads the context's Clock instead of the wall."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        moment = (_current_clock.get() or _SYSTEM_CLOCK).now()
        return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)


def install_clock_bridge() -> None:
    """Make SpiffWorkflow's timers read our clock and treat naive dates as UTC."""
    if not hasattr(spiff_timer, "datetime") or not hasattr(spiff_timer, "LOCALTZ"):
        raise RuntimeError("SpiffWorkflow timer module changed: clock bridge cannot be installed")
    spiff_timer.datetime = _ClockedDatetime
    spiff_timer.LOCALTZ = UTC


@contextlib.contextmanager
def clock_in_effect(clock: Clock) -> Iterator[None]:
    """Within this block SpiffWorkflow's timers see ``clock``."""
    token = _current_clock.set(clock)
    try:
        yield
    finally:
        _current_clock.reset(token)


install_clock_bridge()
