"""Analyse a whole BPMN document (bytes): every process in it, figures summed per model.

The bytes go through the importer's hardened parser — never any other XML parser — and the
per-node metadata (lanes, ``duration`` from any dialect) comes from the importer's reader, so
analysis sees exactly what an import would store, for executable and descriptive models alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.analysis.durations import hours, iso
from engine.analysis.graph import build_graph
from engine.analysis.structure import ProcessAnalysis, analyse_graph
from engine.errors import InvalidInput
from engine.importer import metadata
from engine.importer.ns import b, local
from engine.importer.safe_xml import DEFAULT_MAX_BYTES, UnsafeXml, parse_xml


@dataclass
class ModelAnalysis:
    source: str
    processes: list[ProcessAnalysis] = field(default_factory=list)

    def _sum(self, attr: str) -> int:
        return sum(getattr(p, attr) for p in self.processes)

    @property
    def main(self) -> ProcessAnalysis | None:
        """The process with the longest critical path (then the most steps): the one simulated."""
        if not self.processes:
            return None
        return max(self.processes, key=lambda p: (p.critical_seconds, p.tasks))

    @property
    def critical_seconds(self) -> float:
        return max((p.critical_seconds for p in self.processes), default=0.0)

    def figures(self) -> dict[str, Any]:
        """The DESIGN §3 ``compare`` figures of this model, plus our additions."""
        main = self.main
        return {
            "source": self.source,
            "tasks": self._sum("tasks"), "human_tasks": self._sum("human_tasks"),
            "automated_tasks": self._sum("automated_tasks"), "handoffs": self._sum("handoffs"),
            "decision_points": self._sum("decision_points"),
            "parallel_sections": self._sum("parallel_sections"),
            "critical_path": iso(self.critical_seconds),
            "critical_path_hours": hours(self.critical_seconds),
            "critical_path_tasks": [n.name for n in main.critical_steps()] if main else [],
            "critical_path_process": main.key if main else None,
            "processes": [p.to_json() for p in self.processes],
        }


def _participants(root: Any) -> dict[str, str]:
    names = {}
    for part in root.iter(b("participant")):
        ref, name = part.get("processRef"), (part.get("name") or "").strip()
        if ref and name:
            names[ref] = name
    return names


def parse_model(data: bytes, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The root ``bpmn:definitions`` element of ``data``, or InvalidInput with a one-line reason."""
    try:
        root = parse_xml(data, max_bytes)
    except UnsafeXml as exc:
        where = f"{source}:{exc.line}" if exc.line else source
        raise InvalidInput(f"{where}: {exc.message}") from None
    if root.tag != b("definitions"):
        raise InvalidInput(f"{source}: not a BPMN document (root element {local(root.tag)!r})")
    return root


def analyse_tree(root: Any, source: str, only: str | None = None) -> ModelAnalysis:
    """Every ``bpmn:process`` under ``root`` (just ``only`` when given, a process id)."""
    names = _participants(root)
    model = ModelAnalysis(source)
    for process in root.iter(b("process")):
        pid = process.get("id") or ""
        if only is not None and pid != only:
            continue
        _props, infos = metadata.read_process(process)
        name = (process.get("name") or "").strip() or names.get(pid) or pid
        model.processes.append(analyse_graph(build_graph(process, infos, name)))
    if only is not None and not model.processes:
        raise InvalidInput(f"{source}: no process with id {only!r}")
    return model


def analyse_bytes(data: bytes, source: str = "<model>", only: str | None = None,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> ModelAnalysis:
    """Parse safely and analyse; raises InvalidInput for unsafe, malformed or non-BPMN input."""
    return analyse_tree(parse_model(data, source, max_bytes), source, only)
