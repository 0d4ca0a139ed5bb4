"""The one exception tree of the engine; ``web`` maps it to HTTP status codes in one place.

    EngineError                      base: every failure a user can cause or see
    ├── ImportRejected               a model was refused; carries a list of ImportProblem
    │                                (file, line, element id, message) — nothing was stored
    ├── NotFound                     unknown definition key, instance or task
    ├── Conflict                     someone else changed it first (task already completed,
    │                                instance moved on, concurrent update)
    ├── InvalidTransition            the command does not fit the current state
    │                                (start a model-only definition, retry a running instance)
    ├── InvalidInput                 malformed data supplied to a command (bad JSON, form data)
    ├── ScriptError                  a sandboxed script/expression failed or was refused;
    │                                carries task id, line and expression
    └── ServiceError                 a service task call failed (missing service, delivery error)
"""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True)
class ImportProblem:
    """One reason a model cannot be imported, located as precisely as we can."""

    file: str
    message: str
    line: int | None = None
    element_id: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.message}"


class ImportRejected(EngineError):
    """A deployment was refused; ``problems`` says where and why."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class NotFound(EngineError):
    """The named definition, instance or task does not exist."""


class Conflict(EngineError):
    """The object changed under us (another responder was first)."""


class InvalidTransition(EngineError):
    """The command is not allowed in the object's current state."""


class InvalidInput(EngineError):
    """Malformed input to a command."""


class ScriptError(EngineError):
    """A script, condition or expression failed or was refused by the sandbox."""

    def __init__(self, message: str, *, line: int | None = None, task: str | None = None,
                 expression: str | None = None):
        self.line = line
        self.task = task
        self.expression = expression
        super().__init__(message)


class ServiceError(EngineError):
    """A service task could not be carried out."""
