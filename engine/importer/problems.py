"""Collects problems and warnings while one deployment is imported.

Every step appends here instead of raising, so a rejection lists *all* problems at once,
each located by file, line (lxml ``sourceline``) and element id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.errors import ImportProblem

_PROCESS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}process"


def line_of(element: Any) -> int | None:
    """The source line of an lxml element, when lxml knows it."""
    line = getattr(element, "sourceline", None)
    return line if isinstance(line, int) and line > 0 else None


@dataclass
class Report:
    """Problems (the deployment is rejected) and warnings (it imports) for one file."""

    file: str
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    by_process: dict[str, list[str]] = field(default_factory=dict)
    failed: list[Any] = field(default_factory=list)  # elements whose translation failed

    def failed_at(self, element: Any, message: str, owner: Any = None) -> None:
        """A translation failed: report it once and keep the sandbox off that element."""
        self.failed.append(element)     # holding the proxy keeps lxml identity stable
        self.problem(message, owner if owner is not None else element)

    def problem(self, message: str, element: Any = None, *, element_id: str | None = None,
                line: int | None = None) -> None:
        if element is not None:
            element_id = element_id or element.get("id")
            line = line or line_of(element)
        self.problems.append(ImportProblem(self.file, message, line, element_id))

    def warn_task(self, process_id: str, bpmn_id: str, line: int | None, message: str) -> None:
        """A warning about a task known by id and line (no XML element at hand)."""
        text = f"{self.file}{f':{line}' if line else ''} [{bpmn_id}]: {message}"
        self.warnings.append(text)
        self.by_process.setdefault(process_id, []).append(text)

    def warn(self, message: str, element: Any = None) -> None:
        where = self.file
        if element is not None:
            line = line_of(element)
            if line:
                where += f":{line}"
            if element.get("id"):
                where += f" [{element.get('id')}]"
        text = f"{where}: {message}"
        self.warnings.append(text)
        node = element
        while node is not None and getattr(node, "tag", None) != _PROCESS:
            node = node.getparent()
        if node is not None and node.get("id"):
            self.by_process.setdefault(node.get("id"), []).append(text)
