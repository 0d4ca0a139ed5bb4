"""Durable timers: the database is the truth, APScheduler only wakes us up."""

from engine.timers.scheduler import TimerService

__all__ = ["TimerService"]
