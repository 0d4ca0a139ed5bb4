"""ISO-8601 durations from models (``target``, ``rto``, ``duration`` properties) via isodate."""

from __future__ import annotations

from datetime import datetime, timedelta

import isodate

from engine.errors import InvalidInput


def parse_duration(text: str, *, field: str = "duration") -> timedelta:
    """``PT10M`` -> 10 minutes; months/years are taken as 30/365 days (targets, not calendars)."""
    try:
        value = isodate.parse_duration(text.strip())
    except (isodate.ISO8601Error, ValueError, AttributeError) as exc:
        raise InvalidInput(f"{field}: '{text}' is not an ISO-8601 duration (e.g. PT10M)") from exc
    if isinstance(value, isodate.Duration):
        return value.tdelta + timedelta(days=float(value.months) * 30 + float(value.years) * 365)
    return value


def add_duration(start: datetime, text: str, *, field: str = "duration") -> datetime:
    return start + parse_duration(text, field=field)
