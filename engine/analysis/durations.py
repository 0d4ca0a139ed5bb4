"""Durations for analysis: the `duration` property read leniently, and printed as ISO-8601.

Descriptive tools let people type "8h" or "1.5 days" where an engine would want ``PT8H``; we
accept both so an exported model is analysed as drawn.  Unreadable values count 0 with a warning.
"""

from __future__ import annotations

import re

from engine.durations import parse_duration
from engine.errors import InvalidInput

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hr": 3600,
          "hour": 3600, "d": 86400, "day": 86400, "w": 604800, "week": 604800}
_LOOSE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-z]*?)s?\s*$", re.I)


def seconds_of(text: str | None) -> float | None:
    """Seconds in ``text`` ('PT8H', 'P1D', '8h', '30 min', '1.5 days', '8' = hours); None if unreadable."""
    if text is None or not str(text).strip():
        return None
    value = str(text).strip()
    if value[:1] in "Pp" or value[:2] in ("-P", "-p"):
        try:
            return parse_duration(value.upper()).total_seconds()
        except InvalidInput:
            return None
    match = _LOOSE.match(value)
    if not match:
        return None
    number = float(match.group(1).replace(",", "."))
    unit = match.group(2).lower() or "h"
    if unit not in _UNITS:
        return None
    return number * _UNITS[unit]


def iso(seconds: float) -> str:
    """Seconds as an ISO-8601 duration in hours, minutes, seconds: 172800 -> 'PT48H', -3600 -> '-PT1H'."""
    sign = "-" if seconds < 0 else ""
    total = abs(round(seconds, 3))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = ""
    if hours:
        parts += f"{int(hours)}H"
    if minutes:
        parts += f"{int(minutes)}M"
    if secs:
        parts += f"{secs:g}S" if secs != int(secs) else f"{int(secs)}S"
    return f"{sign}PT{parts or '0S'}"


def hours(seconds: float) -> float:
    """Seconds as hours, rounded for display and JSON (4 decimals: under a second)."""
    value = round(seconds / 3600, 4)
    return value + 0.0   # no -0.0
