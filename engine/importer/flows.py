"""Sequence-flow surgery so SpiffWorkflow accepts what modelers legitimately draw.

Per flow-element container (process or subprocess): conditions are translated to Python,
a gateway's single unconditioned flow becomes its default, implicit splits get a parallel
gateway, conditional flows out of an activity get an inclusive gateway, implicit joins get
an exclusive merge gateway, link events become plain connections, and a subprocess without
a start event gets one.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.importer.expr import Untranslatable, to_python
from engine.importer.metadata import FLOW_NODES
from engine.importer.ns import BPMN, b, child, local
from engine.importer.problems import Report

CONTAINERS = ("process", "subProcess", "transaction", "adHocSubProcess")
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
            "complexGateway"}
_NO_INCOMING = {"startEvent", "boundaryEvent"}


class Container:
    """The flow nodes and sequence flows directly inside one process or subprocess."""

    def __init__(self, node: Any):
        self.node = node
        self.nodes: dict[str, Any] = {}
        self.flows: list[Any] = []
        for c in node:
            kind = local(c.tag)
            if c.tag == b("sequenceFlow"):
                self.flows.append(c)
            elif kind in FLOW_NODES and c.tag == b(kind) and c.get("id"):
                self.nodes[c.get("id")] = c

        self._ends: dict[str, dict[str, list[Any]]] = {"sourceRef": {}, "targetRef": {}}
        for f in self.flows:
            self._index(f)

    def _index(self, flow: Any) -> None:
        for end, index in self._ends.items():
            index.setdefault(flow.get(end) or "", []).append(flow)

    def add_flow(self, flow: Any) -> None:
        self.flows.append(flow)
        self._index(flow)

    def move(self, flow: Any, end: str, node_id: str) -> None:
        """Point one end of a flow elsewhere, keeping the indexes right."""
        old = self._ends[end].get(flow.get(end) or "", [])
        if flow in old:
            old.remove(flow)
        flow.set(end, node_id)
        self._ends[end].setdefault(node_id, []).append(flow)

    def outgoing(self, nid: str) -> list[Any]:
        return list(self._ends["sourceRef"].get(nid, ()))

    def incoming(self, nid: str) -> list[Any]:
        return list(self._ends["targetRef"].get(nid, ()))


class IdMaker:
    """Fresh ids for inserted elements, never clashing with the document's."""

    def __init__(self, root: Any):
        self.used = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}

    def __call__(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}_{n}"
        self.used.add(candidate)
        return candidate


def _new(parent: Any, kind: str, new_id: str, before: Any = None, **attrs: str) -> Any:
    el = etree.Element(b(kind), id=new_id, **attrs)
    if before is not None:
        before.addprevious(el)
    else:
        parent.append(el)
    return el


def _flow(c: Container, ids: IdMaker, src: str, tgt: str) -> Any:
    f = _new(c.node, "sequenceFlow", ids(f"Flow_{src}_{tgt}"), sourceRef=src, targetRef=tgt)
    c.add_flow(f)
    return f


def _condition(flow: Any) -> Any:
    return child(flow, BPMN, "conditionExpression")


def translate_conditions(c: Container, report: Report) -> None:
    for flow in c.flows:
        cond = _condition(flow)
        if cond is None:
            continue
        if not (cond.text or "").strip():
            flow.remove(cond)           # an empty condition is no condition
            continue
        try:
            cond.text = to_python(cond.text, cond.get("language"))
        except Untranslatable as exc:
            report.failed_at(cond, f"condition: {exc}", flow)


def fix_gateways(c: Container, report: Report) -> None:
    for nid, node in c.nodes.items():
        kind = local(node.tag)
        if kind == "complexGateway":
            report.problem("complex gateways are not supported; use an inclusive or "
                           "exclusive gateway", node)
            continue
        if kind not in ("exclusiveGateway", "inclusiveGateway"):
            continue
        out = c.outgoing(nid)
        if len(out) <= 1:
            continue
        default = node.get("default")
        bare = [f for f in out if f.get("id") != default and _condition(f) is None]
        if not bare:
            continue
        if kind == "inclusiveGateway":
            for f in bare:                  # Camunda: an inclusive flow without condition is taken
                etree.SubElement(f, b("conditionExpression")).text = "True"
        elif len(bare) == 1 and not default:
            node.set("default", bare[0].get("id"))
        else:
            names = ", ".join(f.get("id") or "?" for f in bare)
            report.problem(f"{kind} has {len(bare)} outgoing flows without a condition "
                           f"({names}); give each a condition or mark one as the default", node)


def fix_activity_splits(c: Container, ids: IdMaker) -> None:
    """Several flows out of a non-gateway: parallel split, or inclusive when conditional."""
    for nid, node in list(c.nodes.items()):
        kind = local(node.tag)
        out = c.outgoing(nid)
        if kind in GATEWAYS or len(out) < 2 and not any(_condition(f) is not None for f in out):
            continue
        default = node.get("default")
        conditional = any(_condition(f) is not None for f in out)
        gw_kind = "inclusiveGateway" if conditional else "parallelGateway"
        gw = _new(c.node, gw_kind, ids(f"{nid}_implicit_split"), before=node.getnext())
        c.nodes[gw.get("id")] = gw
        for f in out:
            c.move(f, "sourceRef", gw.get("id"))
            if conditional and _condition(f) is None and f.get("id") != default:
                cond = etree.SubElement(f, b("conditionExpression"))
                cond.text = "True"
        if default:
            gw.set("default", default)
            del node.attrib["default"]
        _flow(c, ids, nid, gw.get("id"))


def fix_joins(c: Container, ids: IdMaker) -> None:
    """Several flows into an activity or event: an explicit exclusive merge in front."""
    for nid, node in list(c.nodes.items()):
        kind = local(node.tag)
        inc = c.incoming(nid)
        if kind in GATEWAYS or kind in _NO_INCOMING or len(inc) < 2:
            continue
        gw = _new(c.node, "exclusiveGateway", ids(f"{nid}_implicit_join"), before=node)
        c.nodes[gw.get("id")] = gw
        for f in inc:
            c.move(f, "targetRef", gw.get("id"))
        _flow(c, ids, gw.get("id"), nid)


def fix_links(c: Container, report: Report) -> None:
    """Link throw → link catch of the same name becomes a direct connection."""
    catches: dict[str, Any] = {}
    throws: list[Any] = []
    for node in c.nodes.values():
        link = child(node, BPMN, "linkEventDefinition")
        if link is None:
            continue
        name = link.get("name") or node.get("name") or ""
        if local(node.tag) == "intermediateCatchEvent":
            catches[name] = node
        else:
            throws.append((node, name))
    for node, name in throws:
        target = catches.get(name)
        if target is None:
            report.problem(f"link event {name!r} has no matching catching link event", node)
            continue
        for f in c.incoming(node.get("id")):
            c.move(f, "targetRef", target.get("id"))
        node.getparent().remove(node)
        del c.nodes[node.get("id")]
    for node in catches.values():
        node.tag = b("intermediateThrowEvent")        # a none event: passes straight through
        node.remove(child(node, BPMN, "linkEventDefinition"))


def fix_subprocess_start(c: Container, ids: IdMaker, report: Report) -> None:
    """An embedded subprocess without a start event starts all its source activities."""
    if local(c.node.tag) == "process" or c.node.get("triggeredByEvent") == "true":
        return
    starts = [n for n in c.nodes.values() if local(n.tag) == "startEvent"]
    if len(starts) > 1:
        report.problem(f"subprocess has {len(starts)} start events; exactly one is supported",
                       c.node)
    if starts:
        return
    sources = [n for nid, n in c.nodes.items() if not c.incoming(nid)
               and local(n.tag) not in ("boundaryEvent",)
               and n.get("isForCompensation") != "true" and n.get("triggeredByEvent") != "true"]
    if not sources:
        report.problem("subprocess has no start event and no activity to start from", c.node)
        return
    start = _new(c.node, "startEvent", ids(f"{c.node.get('id')}_implicit_start"),
                 before=c.node[0] if len(c.node) else None)
    c.nodes[start.get("id")] = start
    for n in sources:
        _flow(c, ids, start.get("id"), n.get("id"))
    if not [n for n in c.nodes.values() if local(n.tag) == "endEvent"]:
        sinks = [nid for nid, n in c.nodes.items() if not c.outgoing(nid)
                 and local(n.tag) not in ("boundaryEvent",)]
        end = _new(c.node, "endEvent", ids(f"{c.node.get('id')}_implicit_end"))
        c.nodes[end.get("id")] = end
        for nid in sinks:
            _flow(c, ids, nid, end.get("id"))


def containers(process: Any) -> list[Any]:
    found = [process]
    for el in process.iter():
        if el is not process and local(el.tag) in CONTAINERS[1:] and el.tag == b(local(el.tag)):
            found.append(el)
    return found


def fix_flows(process: Any, ids: IdMaker, report: Report) -> None:
    for node in containers(process):
        c = Container(node)
        fix_links(c, report)
        fix_subprocess_start(c, ids, report)
        translate_conditions(c, report)
        fix_gateways(c, report)
        fix_activity_splits(c, ids)
        fix_joins(c, ids)
