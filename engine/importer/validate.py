"""Structural checks SpiffWorkflow skips or reports badly: ids, references, start events.

Which processes are executable is decided here too: ``isExecutable="false"`` and
descriptive exports are model-only; a process without the attribute counts as executable
only if it has a start event and flow nodes (Bizagi's empty "Main Process" does not).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.importer.flows import Container, containers
from engine.importer.metadata import FLOW_NODES
from engine.importer.ns import BPMN, ZEEBE, b, local, ns_of, q
from engine.importer.problems import Report, line_of


def is_executable(process: Any, descriptive: bool, report: Report) -> bool:
    flag = (process.get("isExecutable") or "").strip().lower()
    has_nodes = any(local(c.tag) in FLOW_NODES for c in process)
    has_start = any(c.tag == b("startEvent") for c in process)
    if descriptive or flag == "false":
        return False
    if flag == "true":
        if not has_nodes:
            report.warn("executable process has no flow nodes; imported as model-only", process)
            return False
        return True
    return has_nodes and has_start


def _canonical(el: Any) -> bytes:
    clone = etree.fromstring(etree.tostring(el))
    clone.tail = None
    return etree.tostring(clone, method="c14n")


#: widths of the store's columns (engine/store/models.py): a longer key, id, name or role is
#: refused here, located, instead of failing on PostgreSQL when it is stored or started
MAX_ID, MAX_NAME = 255, 500


def _short(text: str) -> str:
    return text[:40] + "…"


def store_limits(processes: list[Any], exec_roots: list[Any], roles: dict[str, tuple[str, int | None]],
                 report: Report) -> None:
    """Process keys and names of every process; ids, names and roles inside executable ones
    (``roles``: flow node id -> (role, line))."""
    for process in processes:
        ident, name = process.get("id") or "", (process.get("name") or "").strip()
        if len(ident) > MAX_ID:
            report.problem(f"process id is {len(ident)} characters long; the limit is {MAX_ID}",
                           process, element_id=_short(ident))
        if len(name) > MAX_NAME:
            report.problem(f"process name is {len(name)} characters long; the limit is {MAX_NAME}",
                           process, element_id=_short(ident) if len(ident) > MAX_ID else None)
    for process in exec_roots:
        for el in process.iter():
            if not isinstance(el.tag, str) or ns_of(el.tag) != BPMN or el is process:
                continue
            ident, name = el.get("id") or "", (el.get("name") or "").strip()
            if len(ident) > MAX_ID:
                report.problem(f"{local(el.tag)} id is {len(ident)} characters long; the limit is "
                               f"{MAX_ID}", el, element_id=_short(ident))
            elif local(el.tag) in FLOW_NODES and len(name) > MAX_NAME:
                report.problem(f"{local(el.tag)} name is {len(name)} characters long; the limit is "
                               f"{MAX_NAME}", el)
    for node_id, (role, line) in roles.items():
        if len(role) > MAX_ID and len(node_id) <= MAX_ID:
            report.problem(f"role {_short(role)!r} is {len(role)} characters long; the limit is {MAX_ID}",
                           element_id=node_id, line=line)


DC = "http://www.omg.org/spec/DD/20100524/DC"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"


def diagram_positions(root: Any, report: Report) -> None:
    """SpiffWorkflow reads every shape's x and y as floats (to order parallel branches) and
    fails without a location on anything else: such a position is warned about and read as 0
    (the stored file, which the diagram shows, is unchanged)."""
    for shape in root.iter(q(BPMNDI, "BPMNShape")):
        for bounds in shape.iter(q(DC, "Bounds")):
            for axis in ("x", "y"):
                value = bounds.get(axis)
                if value is None:
                    continue
                try:
                    float(value)
                except ValueError:
                    report.warn(f"diagram position of {shape.get('bpmnElement')!r} is not a number "
                                f"({axis}={value!r}); read as 0", bounds)
                    bounds.set(axis, "0")


def called_process(el: Any) -> str:
    """The process id a call activity names (bpmn ``calledElement`` or zeebe:calledElement)."""
    called = (el.get("calledElement") or "").strip()
    for zc in el.iter(q(ZEEBE, "calledElement")):
        called = called or (zc.get("processId") or "").strip()
    return called


def call_cycles(processes: list[tuple[Any, Report]]) -> None:
    """A process that calls itself, directly or through others of the deployment, would nest
    instances without end: refused at the call activity that closes the circle."""
    calls: dict[str, list[tuple[Any, str]]] = {}
    for process, _ in processes:
        calls[process.get("id")] = [(el, called_process(el)) for el in process.iter(b("callActivity"))]
    owner = {process.get("id"): report for process, report in processes}
    done: set[str] = set()

    def visit(pid: str, path: list[str]) -> None:
        for el, called in calls.get(pid, []):
            if called in path:
                circle = " → ".join(path[path.index(called):] + [called])
                owner[pid].problem(f"call activity calls {called!r} recursively ({circle}); "
                                   "recursive calls never end", el)
            elif called in calls and called not in done:
                visit(called, path + [called])
        done.add(pid)

    for pid in calls:
        if pid not in done:
            visit(pid, [pid])


def duplicate_ids(root: Any, exec_roots: list[Any], report: Report) -> None:
    seen: dict[str, list[Any]] = {}
    for el in root.iter():
        if isinstance(el.tag, str) and ns_of(el.tag) == BPMN and el.get("id"):
            seen.setdefault(el.get("id"), []).append(el)
    inside = {id(e) for p in exec_roots for e in p.iter()}
    for ident, els in seen.items():
        if len(els) < 2:
            continue
        lines = ", ".join(str(line_of(e) or "?") for e in els)
        flow_like = any(local(e.tag) in FLOW_NODES or local(e.tag) == "sequenceFlow" for e in els)
        identical = not flow_like and len({_canonical(e) for e in els}) == 1
        if identical or not any(id(e) in inside for e in els):
            report.warn(f"id {ident!r} is used {len(els)} times (lines {lines})", els[1])
        else:
            report.problem(f"duplicate id {ident!r} (lines {lines})", els[1])


def flow_references(process: Any, report: Report) -> None:
    for node in containers(process):
        c = Container(node)
        for flow in c.flows:
            for end in ("sourceRef", "targetRef"):
                ref = flow.get(end)
                if not ref:
                    report.problem(f"sequence flow has no {end}", flow)
                elif ref not in c.nodes:
                    report.problem(f"sequence flow {end} {ref!r} does not name a flow node in "
                                   "the same process or subprocess", flow)
                elif end == "targetRef" and c.nodes[ref].tag == b("startEvent"):
                    report.problem(f"sequence flow leads into start event {ref!r}; a start event "
                                   "cannot have incoming flows", flow)


def start_event(process: Any, report: Report) -> None:
    if not any(c.tag == b("startEvent") for c in process):
        report.problem("executable process has no start event", process)


def boundary_refs(process: Any, report: Report) -> None:
    ids = {e.get("id") for e in process.iter() if isinstance(e.tag, str)}
    for ev in process.iter(b("boundaryEvent")):
        if ev.get("attachedToRef") not in ids:
            report.problem(f"boundary event is attached to unknown element "
                           f"{ev.get('attachedToRef')!r}", ev)
