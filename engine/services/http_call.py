"""The ``http`` service task: call another system's HTTP API from a runbook — post to a status
page, flip a failover switch, open a ticket.

Parameters: ``url`` (required), ``method`` (POST by default; GET, PUT, PATCH, DELETE) and
``body`` (a mapping or list is sent as JSON, text as it is).  A model is untrusted input, so
only hosts the operator lists in ``CONTIFLOW_HTTP_ALLOWED_HOSTS`` may be called (``host`` for
any port, ``host:port`` for one); any other raises an incident naming the host, and nothing is
sent.  The call goes through the outbox like a notification: sent after the step commits, with
an ``Idempotency-Key`` per instance and task, retried with backoff, an incident after the
last failure.  So its answer does not come back into the process.  Simulated drills record the
call without making it; live drills send it marked ``X-Contiflow-Drill: yes``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from engine.errors import ServiceError
from engine.services.registry import Service, ServiceCall

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: longer URLs would not fit the outbox's idempotency key (instance, task, channel, URL)
MAX_URL = 400


def host_allowed(url: str, allowed: Iterable[str]) -> str:
    """The URL's ``host[:port]`` when the allow-list admits it; ServiceError (naming what is
    wrong) otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(f"http: '{url}' is not an http(s) URL")
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        raise ServiceError(f"http: '{url}' has an invalid port") from None
    where = f"{host}:{port}" if port else host
    entries = {a.strip().lower() for a in allowed if a.strip()}
    if host not in entries and where not in entries:
        raise ServiceError(f"http: host '{where}' is not in CONTIFLOW_HTTP_ALLOWED_HOSTS "
                           f"({', '.join(sorted(entries)) or 'empty'}); add it there, then retry the instance")
    return where


def http_service(allowed: Iterable[str]) -> Service:
    allowed = tuple(allowed)

    def http(call: ServiceCall) -> dict[str, Any]:
        url = str(call.params.get("url") or "").strip()
        if not url:
            raise ServiceError(f"http in task {call.bpmn_id} has no 'url' parameter")
        if len(url) > MAX_URL:
            raise ServiceError(f"http in task {call.bpmn_id}: the url is {len(url)} characters long; "
                               f"the limit is {MAX_URL}")
        method = str(call.params.get("method") or "POST").strip().upper()
        if method not in METHODS:
            raise ServiceError(f"http in task {call.bpmn_id}: method '{method}' is not one of {', '.join(METHODS)}")
        host = host_allowed(url, allowed)
        body = call.params.get("body")
        text = "" if body is None else body if isinstance(body, str) else json.dumps(body, default=str)
        call.outbox.append({"channel": "http", "target": url, "addressee": host, "subject": method,
                            "body": text, "drill": call.drill})
        call.record("http_call_queued", method=method, url=url, drill=call.drill)
        return {"queued": True, "method": method, "url": url}

    return http
