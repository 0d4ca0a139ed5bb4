"""Named services a service task can call (``log``, ``notify``, ...).

Models reach a service by name — Camunda topic/type/delegate, Zeebe task type or SpiffArena
operator id all resolve to the same registry.  A service receives a ``ServiceCall`` and
returns JSON-able data that lands in the task's result variable.  What a service wants to
leave in the audit trail it appends to ``call.records``; the runtime writes them in the same
transaction as the instance state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import ServiceError


@dataclass
class ServiceCall:
    service: str
    params: dict[str, Any]
    instance_id: str
    task_id: str
    bpmn_id: str
    attempt: int
    at: datetime
    drill: bool = False
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: role or username -> people (primary first, then backup); set by the runtime
    #: a role or username -> (primary, backup) people (engine.people.addressees)
    directory: Callable[[str], tuple[list[Any], list[Any]]] | None = None
    #: messages to deliver after commit (the transactional outbox); written by the runtime
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def record(self, kind: str, **detail: Any) -> None:
        """Leave an audit event (kind, detail) for this call."""
        self.records.append((kind, detail))


Service = Callable[[ServiceCall], Any]


class ServiceRegistry:
    """Name -> callable.  Unknown names fail at call time with a message naming the service,
    so binding it later and retrying the instance recovers."""

    def __init__(self) -> None:
        self._services: dict[str, Service] = {}

    def register(self, name: str, service: Service) -> None:
        self._services[name] = service

    def unregister(self, name: str) -> None:
        self._services.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._services)

    def __contains__(self, name: object) -> bool:
        return name in self._services

    def call(self, call: ServiceCall) -> Any:
        service = self._services.get(call.service)
        if service is None:
            raise ServiceError(
                f"no service named '{call.service}' is registered "
                f"(task {call.bpmn_id}); bind it, then retry the instance")
        return service(call)


def log_service(call: ServiceCall) -> dict[str, Any]:
    message = call.params.get("message", "")
    call.record("service_log", message=str(message), params=_jsonable(call.params))
    return {"logged": True}


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        out[key] = value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
    return out

