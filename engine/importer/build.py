"""Hand the translated trees to SpiffBpmnParser and turn each executable process into a spec.

SpiffWorkflow's parser recurses once per sequence flow, so the parse runs in a worker
thread with a large stack and a raised recursion limit (restored afterwards); its
ValidationException carries no line, so lines are recovered from the element id.  Any
exception becomes an ImportProblem — a raw traceback never leaves the importer.
"""

from __future__ import annotations

import copy
import sys
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.importer.ns import local
from engine.importer.problems import Report, line_of
from engine.spiff.serializer import spec_to_dict

MAX_FLOW_NODES = 20_000
_STACK_BYTES = 512 * 1024 * 1024
_FRAMES_PER_NODE = 60
_deep_lock = threading.Lock()


@dataclass
class BuildInput:
    bpmn: list[tuple[Report, Any]] = field(default_factory=list)     # translated trees
    dmn: list[tuple[Report, Any]] = field(default_factory=list)      # one tree per decision
    processes: dict[str, Report] = field(default_factory=dict)       # executable pid → file
    flow_nodes: int = 0


def _find(trees: list[tuple[Report, Any]], file: str, ident: str) -> Any:
    for report, tree in trees:
        if report.file == file or not file:
            for el in tree.iter():
                if isinstance(el.tag, str) and el.get("id") == ident:
                    return el
    return None


def _message(exc: BaseException) -> str:
    text = str(exc.args[0]) if getattr(exc, "args", None) else str(exc)
    return text.strip() or type(exc).__name__


def _report_exc(exc: BaseException, report: Report, inp: BuildInput, what: str) -> None:
    if isinstance(exc, ValidationException):
        ident = getattr(exc, "id", "") or None
        el = _find(inp.bpmn, getattr(exc, "file_name", "") or "", ident) if ident else None
        target = next((r for r, _ in inp.bpmn if r.file == getattr(exc, "file_name", "")), report)
        msg = _message(exc)
        if el is not None and line_of(el) is None:
            msg += f" (at {local(el.tag)} inserted by the importer)"
        target.problem(f"{what}: {msg}", element_id=ident, line=line_of(el) if el is not None
                       else None)
    elif isinstance(exc, RecursionError):
        report.problem(f"model too deep to build ({inp.flow_nodes} flow nodes): {what}")
    else:
        report.problem(f"{what}: SpiffWorkflow failed with {type(exc).__name__}: {_message(exc)}")


def _subprocess_specs(parser: SpiffBpmnParser, pid: str) -> dict[str, Any]:
    """Like get_subprocess_specs, but call targets stored earlier may be absent."""
    found: dict[str, Any] = {}
    pending = [parser.get_spec(pid)]
    while pending:
        spec = pending.pop()
        for ts in spec.task_specs.values():
            if isinstance(ts, SubWorkflowTask) and ts.spec not in found:
                sub = parser.get_spec(ts.spec, required=False)
                found[ts.spec] = sub
                if sub is not None:
                    pending.append(sub)
    return {k: v for k, v in found.items() if v is not None}


def _build(inp: BuildInput) -> dict[str, dict[str, Any]]:
    parser = SpiffBpmnParser()
    specs: dict[str, dict[str, Any]] = {}
    for report, tree in inp.dmn:
        try:
            parser.add_dmn_xml(tree, filename=report.file)
        except Exception as exc:  # noqa: BLE001
            _report_exc(exc, report, inp, "DMN could not be loaded")
    for report, tree in inp.bpmn:
        try:
            parser.add_bpmn_xml(tree, filename=report.file)
        except Exception as exc:  # noqa: BLE001
            _report_exc(exc, report, inp, "BPMN could not be loaded")
    if any(r.problems for r, _ in inp.bpmn + inp.dmn):
        return specs
    for pid, report in inp.processes.items():
        try:
            spec = parser.get_spec(pid)
            subs = _subprocess_specs(parser, pid)
            BpmnWorkflow(spec, subs)
            specs[pid] = spec_to_dict(spec, subs)
        except Exception as exc:  # noqa: BLE001
            _report_exc(exc, report, inp, f"process {pid!r} cannot be executed")
    return specs


def _run(inp: BuildInput, box: dict[str, Any]) -> None:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            box["specs"] = _build(inp)
        box["warnings"] = [str(w.message) for w in caught]
    except BaseException as exc:  # noqa: BLE001 - reported by the caller
        box["error"] = exc


def build_specs(inp: BuildInput, fallback: Report) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Spec dicts per executable process id; problems land in the inputs' reports."""
    if inp.flow_nodes > MAX_FLOW_NODES:
        fallback.problem(f"model too large: {inp.flow_nodes} flow nodes, limit {MAX_FLOW_NODES}")
        return {}, []
    box: dict[str, Any] = {}
    with _deep_lock:
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, 2_000 + inp.flow_nodes * _FRAMES_PER_NODE))
        try:
            old_size = threading.stack_size(_STACK_BYTES)
            try:
                worker = threading.Thread(target=_run, args=(inp, box), name="bpmn-import")
                worker.start()
            finally:
                threading.stack_size(old_size)
            worker.join()
        finally:
            sys.setrecursionlimit(old_limit)
    if "error" in box:
        _report_exc(box["error"], fallback, inp, "import failed")
        return {}, []
    return box.get("specs", {}), box.get("warnings", [])


def split_decisions(root: Any, decision_tag: str) -> list[tuple[str, Any]]:
    """One copy of a DMN document per decision table: Spiff reads only the first decision."""
    decisions = [d for d in root if d.tag == decision_tag]
    out = []
    for keep in decisions:
        if not any(local(c.tag) == "decisionTable" for c in keep):
            continue
        clone = copy.deepcopy(root)
        for d in [d for d in clone if d.tag == decision_tag]:
            if d.get("id") != keep.get("id"):
                clone.remove(d)
        out.append((keep.get("id") or "", clone))
    return out
