"""When a recurring thing runs next: an ISO-8601 interval ("P3M", calendar months by isodate)
or a crontab line (APScheduler's cron trigger).  Shared by drill schedules and process
schedules (the quarterly plan review)."""

from __future__ import annotations

from datetime import datetime

import isodate
from apscheduler.triggers.cron import CronTrigger

from engine.errors import InvalidInput


def next_time(after: datetime, every: str | None, cron: str | None) -> datetime:
    if every:
        try:
            step = isodate.parse_duration(every)
        except (isodate.ISO8601Error, ValueError):
            raise InvalidInput(f"--every: '{every}' is not an ISO-8601 duration (e.g. P3M)") from None
        moment = after + step
        if moment <= after:
            raise InvalidInput(f"--every: '{every}' must be a positive interval")
        return moment
    if cron:
        try:
            trigger = CronTrigger.from_crontab(cron, timezone="UTC")
        except ValueError as exc:
            raise InvalidInput(f"--cron: '{cron}' is not a crontab expression ({exc})") from None
        moment = trigger.get_next_fire_time(None, after)
        if moment is None:
            raise InvalidInput(f"--cron: '{cron}' never fires")
        return moment
    raise InvalidInput("a drill schedule needs --every (e.g. P3M) or --cron")
