"""Per-element rewrites of vendor extensions into the SpiffWorkflow (spiffworkflow:) form.

Service tasks get a ``spiffworkflow:serviceTaskOperator`` built from Camunda/Zeebe
definitions, scripts in other languages are refused, Zeebe FEEL scripts and timer values
become Python, decision references become ``spiffworkflow:calledDecisionId`` and vendor
multi-instance attributes become standard loop data references.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.importer.expr import Untranslatable, template_to_python, timer_to_python, to_python
from engine.importer.metadata import service_name
from engine.importer.ns import BPMN, CAMUNDA, SPIFF, ZEEBE, b, child, ext, local, q, text
from engine.importer.problems import Report

_PYTHON = {"python", "py", "python3", ""}


def _spiff_ext(el: Any) -> Any:
    ee = child(el, BPMN, "extensionElements")
    if ee is None:
        ee = etree.Element(b("extensionElements"))
        el.insert(_after_documentation(el), ee)
    return ee


def _after_documentation(el: Any) -> int:
    return sum(1 for c in el if c.tag == b("documentation"))


def _param_value(raw: str) -> str:
    """An input mapping's value as a Python expression (text with ``${…}`` is a template)."""
    s = raw.strip()
    if s.startswith("=") or (s.startswith(("${", "#{")) and s.endswith("}")
                             and s.count("{") == 1):
        return to_python(s)
    if "${" in s or "#{" in s:
        return template_to_python(s)
    return repr(raw)


def _camunda_params(el: Any, report: Report) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    for io in ext(el, CAMUNDA, "inputOutput"):
        for p in io.iterchildren(q(CAMUNDA, "inputParameter")):
            name = p.get("name")
            if not name:
                continue
            if len(p):
                report.warn(f"input parameter {name!r} uses a map, list or script and was not "
                            "translated", el)
                continue
            try:
                params.append((name, _param_value(p.text or "")))
            except Untranslatable as exc:
                report.problem(f"input parameter {name!r}: {exc}", el)
    return params


def _zeebe_params(el: Any, report: Report) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    for inp in ext(el, ZEEBE, "input"):
        target, source = inp.get("target"), inp.get("source") or ""
        if not target:
            continue
        try:
            params.append((target, _param_value(source)))
        except Untranslatable as exc:
            report.problem(f"input mapping {target!r}: {exc}", el)
    return params


def service_operator(el: Any, report: Report) -> None:
    """Give a service task the operator SpiffWorkflow requires, named after its service."""
    if ext(el, SPIFF, "serviceTaskOperator"):
        return
    name = service_name(el) or ""
    if not name:
        report.warn("service task names no service (no topic, class, expression or task "
                    "type)", el)
    op = etree.SubElement(_spiff_ext(el), q(SPIFF, "serviceTaskOperator"), id=name)
    result = el.get(q(CAMUNDA, "resultVariable"))
    if result:
        op.set("resultVariable", result)
    params = _camunda_params(el, report) + _zeebe_params(el, report)
    if params:
        holder = etree.SubElement(op, q(SPIFF, "parameters"))
        for pname, value in params:
            etree.SubElement(holder, q(SPIFF, "parameter"), id=pname, type="any", value=value)


def send_task(el: Any, report: Report) -> None:
    """A send task that calls a service (no message) runs as a service task."""
    has_message = el.get("messageRef") or child(el, BPMN, "messageEventDefinition") is not None
    if not has_message and service_name(el):
        el.tag = b("serviceTask")
        service_operator(el, report)


def script_task(el: Any, report: Report) -> None:
    fmt = (el.get("scriptFormat") or "").strip().lower()
    zeebe = ext(el, ZEEBE, "script")
    script = child(el, BPMN, "script")
    if zeebe and script is None:
        z = zeebe[0]
        expression, result = z.get("expression") or "", z.get("resultVariable") or ""
        if not result.isidentifier():
            report.problem("Zeebe script task needs a resultVariable that is a plain name", el)
            return
        try:
            body = to_python(expression if expression.startswith("=") else "=" + expression)
        except Untranslatable as exc:
            report.problem(f"Zeebe script: {exc}", el)
            return
        script = etree.SubElement(el, b("script"))
        script.text = f"{result} = {body}"
        return
    if el.get(q(CAMUNDA, "resource")):
        report.problem("external script resources (camunda:resource) are not supported; put "
                       "the Python script in the model", el)
        return
    if fmt not in _PYTHON:
        if script is not None:
            report.failed.append(script)
        report.problem(f"script language {el.get('scriptFormat')!r} is not supported; only "
                       "Python scripts run", el)
        return
    if script is None or not (script.text or "").strip():
        report.problem("script task has no script", el)


def business_rule_task(el: Any, decisions: set[str], report: Report) -> None:
    spiff = ext(el, SPIFF, "calledDecisionId")
    ref = text(spiff[0]) if spiff else ""
    if not ref:
        ref = (el.get(q(CAMUNDA, "decisionRef")) or "").strip()
        for cd in ext(el, ZEEBE, "calledDecision"):
            ref = ref or (cd.get("decisionId") or "").strip()
        if not ref and service_name(el):
            el.tag = b("serviceTask")       # Camunda: a business rule task with a delegate
            service_operator(el, report)
            return
        if ref:
            etree.SubElement(_spiff_ext(el), q(SPIFF, "calledDecisionId")).text = ref
    if not ref:
        report.problem("business rule task has no decision reference (camunda:decisionRef, "
                       "zeebe:calledDecision or spiffworkflow:calledDecisionId)", el)
    elif ref.startswith(("${", "#{", "=")):
        report.problem(f"decision reference {ref!r} is an expression; name the decision id", el)
    elif ref not in decisions:
        report.problem(f"decision {ref!r} is not defined in any DMN file of this deployment", el)


def multi_instance(el: Any, report: Report) -> None:
    for mi in el.iterchildren(b("multiInstanceLoopCharacteristics")):
        collection = (mi.get(q(CAMUNDA, "collection")) or "").strip()
        element = (mi.get(q(CAMUNDA, "elementVariable")) or "").strip()
        zl = ext(mi, ZEEBE, "loopCharacteristics") or ext(el, ZEEBE, "loopCharacteristics")
        out_coll = out_elem = ""
        if zl:
            collection = (zl[0].get("inputCollection") or "").strip()
            element = (zl[0].get("inputElement") or "").strip()
            out_coll = (zl[0].get("outputCollection") or "").strip()
            out_elem = (zl[0].get("outputElement") or "").strip()
        for tag in ("loopCardinality", "completionCondition"):
            _translate_or_drop(mi, child(mi, BPMN, tag), f"multi-instance {tag}", report, el)
        if collection:
            try:
                name = to_python(collection)
            except Untranslatable as exc:
                report.problem(f"multi-instance collection: {exc}", el)
                continue
            if not name.isidentifier():
                report.problem(f"multi-instance collection {collection!r} must be a variable "
                               "name", el)
                continue
            _set_child(mi, "loopDataInputRef", name)
        if element:
            _data_item(mi, "inputDataItem", element)
        if out_coll and out_coll.isidentifier():
            _set_child(mi, "loopDataOutputRef", out_coll)
            item = out_elem.lstrip("=").strip()
            if item.isidentifier():
                _data_item(mi, "outputDataItem", item)
        elif collection and element and child(mi, BPMN, "loopDataOutputRef") is None:
            # Camunda/Zeebe keep the element variable local to each instance; without an
            # output, Spiff merges it back and the next instance fails ("already exists").
            _set_child(mi, "loopDataOutputRef", child(mi, BPMN, "loopDataInputRef").text)
            _data_item(mi, "outputDataItem", element)
        if child(mi, BPMN, "loopCardinality") is None and child(mi, BPMN, "loopDataInputRef") is None:
            report.problem("multi-instance activity needs a cardinality or an input collection",
                           el)


def _set_child(mi: Any, tag: str, value: str) -> None:
    node = child(mi, BPMN, tag)
    if node is None:
        node = etree.SubElement(mi, b(tag))
    node.text = value


def _data_item(mi: Any, tag: str, name: str) -> None:
    if child(mi, BPMN, tag) is None:
        etree.SubElement(mi, b(tag), id=name, name=name)


def _translate_or_drop(parent: Any, node: Any, what: str, report: Report, el: Any) -> None:
    """A loop expression (``node``, may be None) translated to Python in place; an empty one
    removed, as if the modeler had left it out."""
    if node is None:
        return
    if (node.text or "").strip():
        try:
            node.text = to_python(node.text)
        except Untranslatable as exc:
            report.failed_at(node, f"{what}: {exc}", el)
    else:
        parent.remove(node)


def standard_loop(el: Any, report: Report) -> None:
    for loop in el.iterchildren(b("standardLoopCharacteristics")):
        _translate_or_drop(loop, child(loop, BPMN, "loopCondition"), "loop condition", report, el)
        if child(loop, BPMN, "loopCondition") is None and not loop.get("loopMaximum"):
            report.problem("loop activity needs a loopCondition or loopMaximum", el)


def timer(el: Any, tdef: Any, report: Report) -> None:
    values = [c for c in tdef if local(c.tag) in ("timeDate", "timeDuration", "timeCycle")]
    filled = [c for c in values if (c.text or "").strip()]
    for c in values:
        if c not in filled:
            tdef.remove(c)
    if not filled:
        report.problem("timer has no time (timeDate, timeDuration or timeCycle is missing or "
                       "empty)", el)
        return
    value = filled[0]
    try:
        value.text = timer_to_python(value.text or "", local(value.tag))
    except Untranslatable as exc:
        report.failed_at(value, f"timer: {exc}", el)


def conditional_event(el: Any, cdef: Any, report: Report) -> None:
    cond = child(cdef, BPMN, "condition")
    if cond is None or not (cond.text or "").strip():
        report.problem("conditional event has no condition", el)
        return
    try:
        cond.text = to_python(cond.text, cond.get("language"))
    except Untranslatable as exc:
        report.failed_at(cond, f"conditional event: {exc}", el)


def call_activity(el: Any, callable_ids: set[str], report: Report) -> None:
    called = (el.get("calledElement") or "").strip()
    for zc in ext(el, ZEEBE, "calledElement"):
        called = called or (zc.get("processId") or "").strip()
    if not called and el.get(q(CAMUNDA, "caseRef")):
        report.problem("call activity calls a CMMN case (camunda:caseRef); only BPMN processes "
                       "can be called", el)
        return
    if not called:
        report.problem("call activity has no calledElement", el)
        return
    if called.startswith(("${", "#{", "=")):
        report.problem(f"calledElement {called!r} is an expression; name the process id", el)
        return
    el.set("calledElement", called)
    if called not in callable_ids:
        report.problem(f"call activity calls process {called!r}, which is neither in this "
                       "deployment nor already deployed as an executable process", el)
