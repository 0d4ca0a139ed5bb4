"""Interrupting event subprocesses, which SpiffWorkflow 3.2.0 runs as non-interrupting.

The process body (everything but the event subprocesses) moves into an embedded
subprocess; each interrupting event subprocess becomes an interrupting boundary event on
that body (same id as its start event) followed by its own steps.  BPMN semantics are
kept: when the event fires the body is cancelled and the handler's steps run, and bpmn
ids of all steps stay what the modeler drew.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.importer.flows import IdMaker
from engine.importer.metadata import FLOW_NODES
from engine.importer.ns import BPMN, b, child, local
from engine.importer.problems import Report

_STAY = {"laneSet", "ioSpecification", "extensionElements", "documentation", "property",
         "ioBinding", "auditing", "monitoring", "supportedInterfaceRef"}


def _interrupting(c: Any) -> list[tuple[Any, Any]]:
    found = []
    for sub in c.iterchildren(b("subProcess"), b("transaction")):
        if sub.get("triggeredByEvent") != "true":
            continue
        starts = list(sub.iterchildren(b("startEvent")))
        if len(starts) == 1 and starts[0].get("isInterrupting", "true") != "false" and any(
                local(d.tag).endswith("EventDefinition") for d in starts[0]):
            found.append((sub, starts[0]))
    return found


def fix_interrupting(process: Any, ids: IdMaker, report: Report) -> None:
    handlers = _interrupting(process)
    if not handlers:
        return
    starts = list(process.iterchildren(b("startEvent")))
    if len(starts) != 1 or any(local(d.tag).endswith("EventDefinition") for d in starts[0]):
        for sub, _ in handlers:
            report.problem("an interrupting event subprocess needs a process with exactly one "
                           "plain start event", sub)
        return
    pid = process.get("id")
    body = etree.Element(b("subProcess"), id=ids(f"{pid}_body"), name=process.get("name") or pid)
    handler_ids = {id(sub) for sub, _ in handlers}
    for el in list(process):
        kind = local(el.tag)
        if el.tag != b(kind) or kind in _STAY or id(el) in handler_ids:
            continue
        if kind == "subProcess" and el.get("triggeredByEvent") == "true":
            continue                    # non-interrupting handlers keep running beside the body
        body.append(el)
    start = etree.SubElement(process, b("startEvent"), id=ids(f"{pid}_start"))
    process.append(body)
    end = etree.SubElement(process, b("endEvent"), id=ids(f"{pid}_end"))
    etree.SubElement(process, b("sequenceFlow"), id=ids(f"{pid}_to_body"),
                     sourceRef=start.get("id"), targetRef=body.get("id"))
    etree.SubElement(process, b("sequenceFlow"), id=ids(f"{pid}_from_body"),
                     sourceRef=body.get("id"), targetRef=end.get("id"))
    for sub, sub_start in handlers:
        boundary = etree.SubElement(process, b("boundaryEvent"), id=sub_start.get("id"),
                                    attachedToRef=body.get("id"), cancelActivity="true")
        if sub_start.get("name"):
            boundary.set("name", sub_start.get("name"))
        boundary.sourceline = sub_start.sourceline
        for d in list(sub_start):
            if local(d.tag).endswith("EventDefinition") or local(d.tag) == "extensionElements":
                boundary.append(d)
        for el in list(sub):
            kind = local(el.tag)
            if el is sub_start or el.tag != b(kind) or kind in _STAY:
                continue
            if kind in FLOW_NODES or kind in ("sequenceFlow", "dataObject", "dataObjectReference",
                                              "association", "textAnnotation"):
                process.append(el)
        process.remove(sub)
    if child(process, BPMN, "startEvent") is None:     # pragma: no cover - defensive
        report.problem("interrupting event subprocess could not be translated", process)
