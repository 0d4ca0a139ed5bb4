"""The WSGI application for production servers: ``gunicorn -w 4 web.wsgi:app``.

Built from the ``CONTIFLOW_*`` environment.  The timer scheduler does not run in these web
processes unless CONTIFLOW_WEB_SCHEDULER=1: timers, notifications and scheduled drills are the
job of ``contiflow worker`` processes (as many as you like, on one PostgreSQL database)."""

from __future__ import annotations

import os

from engine.api import Engine
from web.app import create_app
from web.settings import load_settings

settings = load_settings()
engine = Engine()
app = create_app(engine, config=settings,
                 start_scheduler=bool(settings.web_scheduler))    # unset means off here

# gunicorn --preload forks after this module ran: a child must not reuse the parent's
# database connections (SQLAlchemy's advice: drop the pool without closing the parent's).
os.register_at_fork(after_in_child=engine.forget_inherited_connections)

__all__ = ["app"]
