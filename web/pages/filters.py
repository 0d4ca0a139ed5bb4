"""Jinja filters: times, offsets, countdowns and safe Markdown."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import nh3
from flask import Flask
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from engine.clock import isoformat

_TAGS = {"p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li", "a",
         "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td"}


#: CommonMark (markdown-it-py: linear time on hostile input, nesting bounded) with tables; raw
#: HTML in the text is shown as text.  Python-Markdown took 52 s on 20,000 "[" and every view of
#: the task page would have paid it again.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
#: documentation longer than this is shown as plain text (a runbook step is a few paragraphs)
MAX_MARKDOWN = 50_000


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML, then sanitised (allow-listed tags, http(s)/mailto links only): model
    documentation is written by whoever uploaded the model, so it is never trusted."""
    if not text:
        return Markup("")
    return _rendered(text)


@lru_cache(maxsize=512)
def _rendered(text: str) -> Markup:
    """Each definition's documentation renders once per process (it never changes)."""
    if len(text) > MAX_MARKDOWN:
        return Markup('<p class="plain-text">%s</p>') % escape(text)
    clean = nh3.clean(_MARKDOWN.render(text), tags=_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    return Markup(clean)  # noqa: S704 - sanitised just above


def short_duration(seconds: float | None) -> str:
    """3725 -> '1h 2m 5s'; negative values keep their sign."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs or not parts:
        parts.append(f"{secs}s")
    return sign + " ".join(parts[:2])


def offset(seconds: float | None) -> str:
    """Offset from the incident start: '+7m', '+1h 5m'."""
    if seconds is None:
        return ""
    return ("+" if seconds >= 0 else "") + short_duration(seconds)


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def register(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["iso"] = lambda v: isoformat(v) if v else ""
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["offset"] = offset
    app.jinja_env.filters["duration"] = short_duration
    app.jinja_env.filters["label"] = lambda s: str(s or "").replace("_", " ")
    app.jinja_env.globals["describe_event"] = describe_event


def describe_event(event: Any) -> str:
    """A one-line, human description of an audit event (plain text; Jinja escapes it)."""
    d = event.detail or {}
    name = d.get("name") or event.bpmn_id or ""
    kind = event.kind
    if kind == "instance_started":
        return f"Incident declared ({d.get('key')} v{d.get('version')})" + (
            f", business key {d['business_key']}" if d.get("business_key") else "")
    if kind.startswith("notification_"):
        what = {"notification_queued": "Notification queued", "notification_recorded": "Notification recorded",
                "notification_sent": "Notification sent", "notification_attempt_failed": "Notification failed"}
        target = d.get("to") or ", ".join(d.get("recipients") or [])
        extra = f" via {d['channel']}" if d.get("channel") else ""
        error = f": {d['error']}" if d.get("error") else ""
        return f"{what.get(kind, kind)} to {target}{extra} — {d.get('subject') or ''}{error}"
    if kind == "timer_fired":
        late = d.get("late_seconds") or 0
        return f"Timer {name} fired" + (f" ({short_duration(late)} late)" if late >= 1 else "")
    if kind in ("incident_raised", "incident_resolved"):
        return ("Incident raised: " if kind == "incident_raised" else "Incident resolved") + (d.get("message") or "")
    if kind == "instance_retried":
        return "Retried"
    if kind in ("instance_completed", "instance_cancelled"):
        return "Instance " + kind.split("_", 1)[1]
    word, _, state = kind.rpartition("_")
    if word in ("task", "event", "gateway"):
        return f"{name}: {state}"
    return kind.replace("_", " ") + (f" {name}" if name else "")
