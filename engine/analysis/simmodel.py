"""A process graph compiled for simulation: per node its routing, join, resource and duration.

Routing follows BPMN: a parallel split takes every branch; exclusive, event-based and complex
gateways (and activities with conditional flows) take one, by weight (equal by default); an
inclusive gateway takes each branch with its probability (0.5 by default), at least one.
Joins are parallel/inclusive/complex gateways with several incoming flows; a token arriving
over a loop's back edge passes through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.analysis.graph import Graph
from engine.analysis.structure import ProcessAnalysis


@dataclass
class Branch:
    target: str
    weight: float
    back: bool


@dataclass
class Spec:
    id: str
    hours: float
    resource: str | None          # lane (else the pool) whose people do it; None: automated
    route: str                    # all | one | some | none
    branches: list[Branch] = field(default_factory=list)
    join: frozenset[str] = frozenset()   # incoming sources a join waits for
    entries: list[str] = field(default_factory=list)   # enter node: inner entries
    exit: str | None = None       # enter node: its exit node
    terminate: bool = False


@dataclass
class SimModel:
    key: str
    name: str
    specs: dict[str, Spec]
    starts: list[str]            # alternative start events (one per case)
    entries: list[str]           # all started together when there is no start event
    order: dict[str, int]        # topological index: which stuck join to release first


def _route(graph: Graph, nid: str) -> str:
    node = graph.nodes[nid]
    out = graph.normal_out(nid)
    if not out:
        return "none"
    if node.category == "gateway":
        return {"parallelGateway": "all", "inclusiveGateway": "some"}.get(node.kind, "one")
    if len(out) > 1 and any(e.conditional for e in out):
        return "one"
    return "all"


def compile_model(analysis: ProcessAnalysis, probabilities: dict[str, float] | None = None) -> SimModel:
    """Routing specs of the normal flow; ``probabilities`` weights branches by flow or target id."""
    graph, paths = analysis.graph, analysis.paths
    weights = probabilities or {}
    specs: dict[str, Spec] = {}
    for nid, node in graph.nodes.items():
        if nid in paths.handlers or node.handler:
            continue
        route = _route(graph, nid)
        default = 0.5 if route == "some" else 1.0
        branches = [Branch(e.target, float(weights.get(e.flow_id or "", weights.get(e.target, default))),
                           paths.is_back(e))
                    for e in graph.normal_out(nid) if node.category != "enter"]
        sources = frozenset(e.source for e in graph.normal_in(nid) if not paths.is_back(e))
        is_join = node.kind in ("parallelGateway", "inclusiveGateway", "complexGateway") and len(sources) > 1
        resource = (node.lane or graph.name) if node.category == "step" else None
        spec = Spec(nid, node.seconds / 3600, resource, route if node.category != "enter" else "none",
                    branches, sources if is_join else frozenset(), terminate=node.terminate)
        if node.category == "enter":
            spec.entries = [e.target for e in graph.normal_out(nid)]
            spec.exit = f"{nid}#end"
        specs[nid] = spec
    for spec in specs.values():        # inner dead ends feed the exit only to end their scope
        source = graph.nodes[spec.id]
        spec.branches = [b for b in spec.branches if b.target in specs and not (
            graph.nodes[b.target].category == "exit" and graph.nodes[b.target].bpmn_id == source.scope)]
        if not spec.branches and spec.route != "none" and not spec.exit:
            spec.route = "none"
    order = {nid: i for i, nid in enumerate(paths.order)}
    starts = [s for s in graph.starts if s in specs]
    entries = [e for e in (graph.entries or paths.roots[:1]) if e in specs]
    return SimModel(graph.key, graph.name, specs, starts, entries, order)
