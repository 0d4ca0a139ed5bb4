"""Structural figures of a BPMN model: steps, hand-offs, decisions, parallelism, critical path.

What counts (documented in the README, "Process analysis"):
- ``tasks`` (steps): activities a person or another party performs — task, userTask,
  manualTask, sendTask, receiveTask, callActivity and collapsed subprocesses.  Automated
  activities (serviceTask, scriptTask, businessRuleTask) are ``automated_tasks``; an expanded
  subprocess is not a step itself, its content is counted.  Event-subprocess and compensation
  steps are counted too (they are drawn work), but are never on the critical path.
- ``human_tasks``: task, userTask, manualTask (what the engine puts in an inbox).
- ``handoffs``: distinct step → next-step pairs (through gateways, events and automated
  activities, into and out of subprocesses, along boundary-event flows) whose lanes differ.
- ``decision_points``: splitting exclusive, inclusive, event-based and complex gateways, plus
  activities whose several outgoing flows carry conditions; ``parallel_sections``: splitting
  parallel gateways, plus activities with several unconditional outgoing flows.
- ``critical_path``: the longest normal-flow path by the ``duration`` convention (back edges
  of loops ignored; exclusive branches at their worst case; boundary and event-subprocess
  flows left out).  Several pools: each process is analysed; message flows are ignored and the
  model's critical path is the longest of its processes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from engine.analysis.durations import hours, iso
from engine.analysis.graph import Graph, Node
from engine.analysis.paths import Paths, analyse_paths, dag_reach

_PASS = ("gateway", "event", "automated", "enter", "exit")


@dataclass
class ProcessAnalysis:
    key: str
    name: str
    graph: Graph
    paths: Paths
    tasks: int = 0
    human_tasks: int = 0
    automated_tasks: int = 0
    handoff_pairs: list[tuple[str, str]] = field(default_factory=list)
    decision_points: int = 0
    parallel_sections: int = 0
    exclusive_on_path: int = 0

    @property
    def handoffs(self) -> int:
        return len(self.handoff_pairs)

    @property
    def critical_seconds(self) -> float:
        return self.paths.seconds

    def critical_steps(self) -> list[Node]:
        nodes = [self.graph.nodes[n] for n in self.paths.path]
        return [n for n in nodes if n.is_activity or (n.category == "exit" and n.seconds)]

    def steps(self) -> list[Node]:
        return [n for n in self.graph.nodes.values() if n.category == "step"]

    def assumptions(self) -> list[str]:
        notes = []
        if self.decision_points:
            notes.append(f"{self.decision_points} decision point(s): every branch is analysed and "
                         "the critical path takes the longest one (worst case)")
        if self.paths.back:
            notes.append(f"{len(self.paths.back)} loop(s): back edges ignored, each loop counted once")
        missing = sum(1 for n in self.graph.nodes.values()
                      if n.is_activity and n.seconds == 0 and not n.handler)
        if missing:
            notes.append(f"{missing} activit(y/ies) with no or zero duration count 0 hours")
        return notes

    def to_json(self) -> dict[str, Any]:
        nodes = self.graph.nodes
        return {
            "key": self.key, "name": self.name, "tasks": self.tasks, "human_tasks": self.human_tasks,
            "automated_tasks": self.automated_tasks, "handoffs": self.handoffs,
            "decision_points": self.decision_points, "parallel_sections": self.parallel_sections,
            "critical_path": iso(self.critical_seconds),
            "critical_path_hours": hours(self.critical_seconds),
            "critical_path_tasks": [n.name for n in self.critical_steps()],
            "handoff_pairs": [{"from": nodes[a].name, "to": nodes[b].name, "from_lane": nodes[a].lane,
                               "to_lane": nodes[b].lane} for a, b in self.handoff_pairs],
            "lanes": sorted({n.lane for n in nodes.values() if n.lane}),
            "assumptions": self.assumptions(), "warnings": list(self.graph.warnings),
        }


def _next_steps(graph: Graph, start: str) -> list[str]:
    """Steps reached from ``start`` through non-step nodes only (gateways, events, automation)."""
    found: list[str] = []
    seen = {start}
    queue = deque(e.target for e in graph.out[start])
    while queue:
        nid = queue.popleft()
        if nid in seen:
            continue
        seen.add(nid)
        if graph.nodes[nid].category == "step":
            found.append(nid)
        elif graph.nodes[nid].category in _PASS:
            queue.extend(e.target for e in graph.out[nid])
    return found


def _handoffs(graph: Graph) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for node in graph.nodes.values():
        if node.category != "step" or not node.lane:
            continue
        for nxt in _next_steps(graph, node.id):
            lane = graph.nodes[nxt].lane
            if lane and lane != node.lane and (node.id, nxt) not in pairs:
                pairs.append((node.id, nxt))
    return pairs


def split_kind(graph: Graph, node: Node) -> str | None:
    """'decision', 'parallel' or None: what a node with several outgoing flows does."""
    outgoing = graph.normal_out(node.id)
    if len(outgoing) < 2 or node.category == "enter":
        return None
    if node.category == "gateway":
        return "parallel" if node.kind == "parallelGateway" else "decision"
    return "decision" if any(e.conditional for e in outgoing) else "parallel"


def analyse_graph(graph: Graph) -> ProcessAnalysis:
    paths = analyse_paths(graph)
    result = ProcessAnalysis(graph.key, graph.name, graph, paths)
    for node in graph.nodes.values():
        if node.category == "step":
            result.tasks += 1
            result.human_tasks += node.human
        elif node.category == "automated":
            result.automated_tasks += 1
        kind = split_kind(graph, node)
        if kind == "decision":
            result.decision_points += 1
        elif kind == "parallel":
            result.parallel_sections += 1
    result.handoff_pairs = _handoffs(graph)
    return result


def parallel_steps(analysis: ProcessAnalysis) -> set[str]:
    """Steps that run alongside another step: on one branch of a parallel split, before its join."""
    graph, paths = analysis.graph, analysis.paths
    members: set[str] = set()
    for node in graph.nodes.values():
        if split_kind(graph, node) != "parallel":
            continue
        branches = [dag_reach(graph, paths, e.target) for e in graph.normal_out(node.id)
                    if not paths.is_back(e)]
        counts: dict[str, int] = {}
        for reach in branches:
            for nid in reach:
                counts[nid] = counts.get(nid, 0) + 1
        own = [{n for n in reach if counts[n] == 1 and graph.nodes[n].category == "step"}
               for reach in branches]
        if sum(1 for steps in own if steps) >= 2:
            members.update(*own)
    return members
