"""One flow graph per ``bpmn:process``, read from the XML tree (never from SpiffWorkflow).

Analysis must work on descriptive exports that could never run, so the graph is built from
the elements themselves.  Expanded subprocesses are flattened: the subprocess becomes an
*enter* node (id = the subprocess id) wired to its inner entries, and an *exit* node
(``id#end``) fed by its inner dead ends and carrying its outgoing flows.  Boundary events hang
off their activity by an *exceptional* edge; event subprocesses and compensation activities
are *handlers*: counted, but not on the normal path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.analysis.durations import seconds_of
from engine.importer.model import TaskInfo
from engine.importer.ns import BPMN, b, local, ns_of

CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
ACTIVITIES = frozenset({"task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask",
                        "receiveTask", "businessRuleTask", "callActivity"}) | CONTAINERS
AUTOMATED = frozenset({"serviceTask", "scriptTask", "businessRuleTask"})
HUMAN = frozenset({"task", "userTask", "manualTask"})
GATEWAYS = {"exclusiveGateway": "exclusive", "inclusiveGateway": "inclusive",
            "parallelGateway": "parallel", "eventBasedGateway": "event", "complexGateway": "complex"}
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                    "boundaryEvent", "implicitThrowEvent"})
FLOW = ACTIVITIES | EVENTS | frozenset(GATEWAYS)


@dataclass
class Node:
    id: str
    bpmn_id: str
    name: str
    kind: str                 # BPMN local tag; 'exit' for the end of an expanded subprocess
    category: str             # step | automated | gateway | event | enter | exit
    lane: str | None = None
    seconds: float = 0.0      # from the `duration` convention; 0 when absent
    scope: str | None = None  # enclosing expanded subprocess id (None: process level)
    handler: bool = False     # event subprocess content or compensation activity
    terminate: bool = False   # terminate end event
    line: int | None = None

    @property
    def human(self) -> bool:
        return self.category == "step" and self.kind in HUMAN

    @property
    def is_activity(self) -> bool:
        return self.category in ("step", "automated")


@dataclass
class Edge:
    source: str
    target: str
    flow_id: str | None = None
    conditional: bool = False
    exceptional: bool = False     # from an activity to its boundary event


@dataclass
class Graph:
    key: str
    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    out: dict[str, list[Edge]] = field(default_factory=dict)
    inc: dict[str, list[Edge]] = field(default_factory=dict)
    entries: list[str] = field(default_factory=list)       # process-level entries
    starts: list[str] = field(default_factory=list)        # process-level start events
    handler_roots: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)    # expanded subprocess ids, document order
    warnings: list[str] = field(default_factory=list)

    def add(self, node: Node) -> None:
        if node.id in self.nodes:
            self.warnings.append(f"duplicate id {node.id!r}: the later element is used")
        self.nodes[node.id] = node
        self.out.setdefault(node.id, [])
        self.inc.setdefault(node.id, [])

    def connect(self, edge: Edge) -> None:
        self.out[edge.source].append(edge)
        self.inc[edge.target].append(edge)

    def normal_out(self, nid: str) -> list[Edge]:
        return [e for e in self.out[nid] if not e.exceptional]

    def normal_in(self, nid: str) -> list[Edge]:
        return [e for e in self.inc[nid] if not e.exceptional]


def _is_flow(el: Any) -> bool:
    return isinstance(el.tag, str) and ns_of(el.tag) == BPMN and local(el.tag) in FLOW


class _Builder:
    def __init__(self, graph: Graph, infos: dict[str, TaskInfo]):
        self.g, self.infos = graph, infos
        self.flows: list[Any] = []
        self.boundaries: list[tuple[str, str]] = []
        self.exit_of: dict[str, str] = {}

    def node(self, el: Any, kind: str, category: str, scope: str | None, handler: bool) -> Node:
        nid = el.get("id")
        info = self.infos.get(nid)
        lane = info.lane if info else None
        if lane is None and scope is not None and scope in self.g.nodes:
            lane = self.g.nodes[scope].lane
        seconds = self.duration(nid)
        name = (el.get("name") or "").strip() or nid
        terminate = kind == "endEvent" and el.find(b("terminateEventDefinition")) is not None
        node = Node(nid, nid, " ".join(name.split()), kind, category, lane, seconds, scope, handler,
                    terminate, el.sourceline if isinstance(el.sourceline, int) else None)
        self.g.add(node)
        return node

    def duration(self, nid: str) -> float:
        """Seconds of the node's ``duration`` property (any case); 0 when absent or unreadable."""
        info = self.infos.get(nid)
        raw = next((v for k, v in info.properties.items() if k.lower() == "duration"), None) if info else None
        if raw is None:
            return 0.0
        parsed = seconds_of(raw)
        if parsed is None:
            self.g.warnings.append(f"{nid}: duration {raw!r} is not a duration; counted as 0")
        return max(parsed or 0.0, 0.0)

    def container(self, parent: Any, scope: str | None, handler: bool) -> None:
        for el in parent:
            if not isinstance(el.tag, str) or ns_of(el.tag) != BPMN:
                continue
            kind = local(el.tag)
            if kind == "sequenceFlow":
                self.flows.append(el)
                continue
            if kind not in FLOW or not el.get("id"):
                continue
            nid = el.get("id")
            inner_handler = handler or el.get("isForCompensation") == "true"
            if kind in CONTAINERS and any(_is_flow(c) for c in el):
                is_event_sub = el.get("triggeredByEvent") == "true"
                enter = self.node(el, kind, "enter", scope, inner_handler or is_event_sub)
                exit_id = f"{nid}#end"
                self.g.add(Node(exit_id, nid, enter.name, "exit", "exit", enter.lane, 0.0, scope,
                                enter.handler))
                self.exit_of[nid] = exit_id
                self.g.containers.append(nid)
                if enter.handler and not handler:
                    self.g.handler_roots.append(nid)
                before = len(self.g.nodes)
                self.container(el, nid, enter.handler)
                self._declared(enter, exit_id, list(self.g.nodes.values())[before:])
                continue
            if kind in ACTIVITIES:
                category = "automated" if kind in AUTOMATED else "step"
            elif kind in GATEWAYS:
                category = "gateway"
            else:
                category = "event"
            node = self.node(el, kind, category, scope, inner_handler)
            if inner_handler and not handler:
                self.g.handler_roots.append(nid)
            if kind == "boundaryEvent":
                self.boundaries.append((nid, el.get("attachedToRef") or ""))
                self.g.handler_roots.append(nid)
            elif kind == "startEvent" and scope is None and not handler:
                self.g.starts.append(node.id)

    def _declared(self, enter: Node, exit_id: str, content: list[Node]) -> None:
        """An expanded subprocess's own duration counts only when its content has none."""
        if not enter.seconds:
            return
        if any(n.seconds for n in content):
            self.g.warnings.append(f"{enter.id}: duration on an expanded subprocess is ignored; "
                                   "its content's durations are used")
        else:
            self.g.nodes[exit_id].seconds = enter.seconds
        enter.seconds = 0.0

    def wire(self) -> None:
        g = self.g
        for flow in self.flows:
            src, tgt = flow.get("sourceRef") or "", flow.get("targetRef") or ""
            src = self.exit_of.get(src, src)
            if src not in g.nodes or tgt not in g.nodes:
                g.warnings.append(f"sequence flow {flow.get('id')!r} refers to a missing element "
                                  f"({flow.get('sourceRef')!r} -> {tgt!r}); ignored")
                continue
            conditional = flow.find(b("conditionExpression")) is not None
            g.connect(Edge(src, tgt, flow.get("id"), conditional))
        for bid, attached in self.boundaries:
            src = self.exit_of.get(attached, attached)
            if src in g.nodes:
                g.connect(Edge(src, bid, None, exceptional=True))
            else:
                g.warnings.append(f"boundary event {bid!r} is attached to missing {attached!r}")
        for sub in g.containers:
            exit_id = self.exit_of[sub]
            members = [n for n in g.nodes.values() if n.scope == sub]
            for entry in self._entries(members, g.nodes[sub].handler):
                g.connect(Edge(sub, entry))
            for n in members:
                if n.kind != "boundaryEvent" and not g.normal_out(n.id):
                    g.connect(Edge(n.id, exit_id))
        g.entries = self._entries([n for n in g.nodes.values() if n.scope is None], False)

    def _entries(self, members: list[Node], handler_scope: bool) -> list[str]:
        """Start events of a scope; without any, its nodes that nothing flows into."""
        normal = [n for n in members if (handler_scope or not n.handler) and n.kind != "boundaryEvent"]
        starts = [n.id for n in normal if n.kind == "startEvent"]
        if starts:
            return starts
        return [n.id for n in normal if n.category != "exit" and not self.g.inc[n.id]]


def build_graph(process: Any, infos: dict[str, TaskInfo], name: str | None = None) -> Graph:
    """The flattened flow graph of one ``bpmn:process`` element."""
    key = process.get("id") or ""
    graph = Graph(key=key, name=name or (process.get("name") or "").strip() or key)
    builder = _Builder(graph, infos)
    builder.container(process, None, False)
    builder.wire()
    return graph
