"""Definition versions never change once stored, so a command reads one from memory instead
of decoding its JSON columns from the database every time."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.store.models import DefinitionRow


@dataclass(frozen=True)
class DefinitionInfo:
    id: int
    key: str
    version: int
    sha256: str                     # content fingerprint: the spec cache key
    executable: bool
    spec: dict[str, Any] | None
    tasks: dict[str, Any]


class DefinitionCache:
    def __init__(self) -> None:
        self._items: dict[int, DefinitionInfo] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, definition_id: int) -> DefinitionInfo:
        with self._lock:
            hit = self._items.get(definition_id)
        if hit is not None:
            return hit
        row = session.get(DefinitionRow, definition_id)
        if row is None:
            raise LookupError(f"definition {definition_id} vanished")
        info = from_row(row)
        with self._lock:
            self._items[definition_id] = info
        return info


def from_row(row: DefinitionRow) -> DefinitionInfo:
    return DefinitionInfo(row.id, row.key, row.version, row.sha256, row.executable, row.spec,
                          dict(row.tasks or {}))
