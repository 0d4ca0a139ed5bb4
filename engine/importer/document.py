"""Document-level repairs for SpiffWorkflow 3.2.0 parser bugs (see corpus FINDINGS).

Data stores without an implementation stop every load, unresolvable data associations
(and ones that would send the parser into an endless lookup) are dropped, and nameless
message/signal/error/escalation definitions get their id as name (else a TypeError).
"""

from __future__ import annotations

from typing import Any

from engine.importer.ns import BPMN, CAMUNDA, b, child, local, ns_of, text
from engine.importer.problems import Report

_ITEMS = ("message", "signal", "error", "escalation")
_REFS = {"messageEventDefinition": ("messageRef", "message"),
         "signalEventDefinition": ("signalRef", "signal"),
         "errorEventDefinition": ("errorRef", "error"),
         "escalationEventDefinition": ("escalationRef", "escalation")}


def name_items(root: Any) -> None:
    for kind in _ITEMS:
        for item in root.iter(b(kind)):
            if not item.get("name") and item.get("id"):
                item.set("name", item.get("id"))


def check_event_refs(process: Any, root: Any, report: Report) -> None:
    """An event definition pointing at an undefined message/signal/error/escalation."""
    defined = {kind: {e.get("id") for e in root.iter(b(kind))} for kind in _ITEMS}
    for el in process.iter():
        kind = local(el.tag)
        if kind in _REFS and el.tag == b(kind):
            attr, target = _REFS[kind]
            ref = el.get(attr)
            if ref and ref not in defined[target]:
                owner = el.getparent()
                report.problem(f"{kind} refers to undefined {target} {ref!r}", owner)
    for task in process.iter(b("sendTask"), b("receiveTask")):
        ref = task.get("messageRef")
        if ref and ref not in defined["message"]:
            report.problem(f"{local(task.tag)} refers to undefined message {ref!r}", task)


def _remove(el: Any) -> None:
    parent = el.getparent()
    if parent is not None:
        parent.remove(el)


def drop_data_stores(root: Any, report: Report) -> None:
    stores = list(root.iter(b("dataStore"))) + list(root.iter(b("dataStoreReference")))
    if not stores:
        return
    ids = {s.get("id") for s in stores}
    for s in stores:
        _remove(s)
    for assoc in list(root.iter(b("dataInputAssociation"), b("dataOutputAssociation"))):
        refs = {text(r) for r in assoc if local(r.tag) in ("sourceRef", "targetRef")}
        if refs & ids:
            _remove(assoc)
    report.warnings.append(f"{report.file}: {len(stores)} data store element(s) ignored: data "
                           "stores are not supported, so their associations were dropped")


def _container_chain(el: Any) -> list[Any]:
    """The task's enclosing container, then that container's parent container."""
    chain: list[Any] = []
    node = el.getparent()
    while node is not None and len(chain) < 2:
        if local(node.tag) in ("process", "subProcess", "transaction", "adHocSubProcess"):
            chain.append(node)
        node = node.getparent()
    return chain


def fix_data_associations(process: Any, root: Any, report: Report) -> None:
    """Keep only associations SpiffWorkflow can resolve to a data object without looping."""
    refs = {r.get("id"): r for r in root.iter(b("dataObjectReference"))}
    for assoc in list(process.iter(b("dataInputAssociation"), b("dataOutputAssociation"))):
        task = assoc.getparent()
        end = "sourceRef" if local(assoc.tag) == "dataInputAssociation" else "targetRef"
        ok = True
        for r in assoc.iterchildren(b(end)):
            ref = refs.get(text(r))
            obj_id = ref.get("dataObjectRef") if ref is not None else None
            visible = {o.get("id") for c in _container_chain(task)
                       for o in c.iterchildren(b("dataObject"))}
            if not obj_id or obj_id not in visible:
                ok = False
        if not ok:
            _remove(assoc)
            report.warn(f"{local(assoc.tag)} to {', '.join(text(r) for r in assoc)} cannot "
                        "be resolved to a data object in scope and was ignored", task)


def unsupported(process: Any, report: Report) -> None:
    for el in process.iter():
        kind = local(el.tag)
        if kind == "compensateEventDefinition" and el.tag == b(kind):
            owner = el.getparent()
            report.problem(f"compensation events are not supported ({local(owner.tag)})", owner)
        elif el.tag == b(kind) and el.get("isForCompensation") == "true":
            report.problem("compensation handlers are not supported", el)
        elif kind == "boundaryEvent" and el.tag == b(kind):
            if not any(local(c.tag).endswith("EventDefinition") for c in el):
                report.problem("boundary event has no event definition", el)
        elif kind in ("choreographyTask", "subChoreography", "callChoreography"):
            report.problem(f"{kind} is not supported in an executable process", el)
        elif kind in ("executionListener", "taskListener") and ns_of(el.tag) == CAMUNDA:
            owner = el.getparent().getparent()
            report.warn(f"camunda:{kind} ({el.get('event') or 'any event'}) is ignored: "
                        "listeners do not run here; model the step as a task", owner)
        elif kind == "multiInstanceLoopCharacteristics" and child(el, BPMN,
                                                                  "complexBehaviorDefinition"):
            report.problem("complex multi-instance behaviour is not supported", el.getparent())
