"""What a person or the engine needs to know about each flow node, read from the XML itself.

SpiffWorkflow drops most vendor extensions, so roles (candidate groups, assignees, lanes),
form fields, runbook properties (target, rto, priority, duration, incident_type) and service
names are read here, from the original tree, for every dialect — executable or not.
"""

from __future__ import annotations

import re
from typing import Any

from engine.importer.model import FormField, TaskInfo
from engine.importer.ns import BPMN, CAMUNDA, SIGNAVIO, SPIFF, ZEEBE, b, child, ext, local, text
from engine.importer.problems import line_of

FLOW_NODES = frozenset({
    "task", "userTask", "manualTask", "serviceTask", "sendTask", "receiveTask", "scriptTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway",
    "eventBasedGateway", "complexGateway",
})
DOC_KEYS = ("target", "rto", "priority", "duration", "incident_type")
#: ``name: value`` on one line; no lazy group before trailing blanks (quadratic on long lines):
#: the value is stripped in Python
_DOC_LINE = re.compile(r"^[ \t]*(" + "|".join(DOC_KEYS) + r")[ \t]*[:=][ \t]*(\S[^\n]*)$", re.I | re.M)
_SIGNAVIO_NOISE = {"bgcolor", "bordercolor", "fontcolor", "risklevel", "externaldocuments"}
_FIELD_TYPES = {"string": "string", "long": "long", "integer": "long", "int": "long",
                "double": "number", "number": "number", "boolean": "boolean", "date": "date",
                "enum": "enum"}


def slug(name: str) -> str:
    """A lane or group name as a role key: lowercase, spaces to underscores."""
    return re.sub(r"\s+", "_", name.strip().lower())


def _is_expression(value: str) -> bool:
    return value.startswith("=") or "${" in value or "#{" in value


def _first_group(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("="):       # FEEL list literal: =["a","b"]
        names = re.findall(r'"([^"]+)"', value)
        return names[0].strip() if names else None
    if _is_expression(value):
        return None
    first = value.split(",")[0].strip()
    return first or None


def service_name(el: Any) -> str | None:
    """The service a service/send task calls, whichever vendor extension names it."""
    for op in ext(el, SPIFF, "serviceTaskOperator"):
        if op.get("id"):
            return op.get("id")
    for td in ext(el, ZEEBE, "taskDefinition"):
        kind = td.get("type") or ""
        if kind:
            return kind[1:].strip().strip('"') if kind.startswith("=") else kind
    cam = {name: el.get(f"{{{CAMUNDA}}}{name}") for name in
           ("type", "topic", "class", "delegateExpression", "expression")}
    if cam["type"] == "external" and cam["topic"]:
        return cam["topic"]
    for key in ("class", "delegateExpression", "expression"):
        if cam[key]:
            return cam[key]
    for conn in ext(el, CAMUNDA, "connectorId"):
        if text(conn):
            return text(conn)
    return None


def properties_of(el: Any) -> dict[str, str]:
    """Extension properties of all dialects plus documentation lines ``key: value``."""
    props: dict[str, str] = {}
    for ns in (CAMUNDA, ZEEBE, SPIFF):
        for prop in ext(el, ns, "property"):
            name, value = prop.get("name"), prop.get("value")
            if name and value is not None:
                props[name] = value
    for meta in ext(el, SIGNAVIO, "signavioMetaData"):
        key, value = meta.get("metaKey"), meta.get("metaValue")
        if key and value and key.lower() not in _SIGNAVIO_NOISE:
            props.setdefault(key, value)
    for name in ("formJsonSchemaFilename", "formUiSchemaFilename"):
        for node in ext(el, SPIFF, "properties"):
            for prop in node:
                if prop.get("name") == name and prop.get("value"):
                    props[name] = prop.get("value")
    for match in _DOC_LINE.finditer(documentation(el) or ""):
        props.setdefault(match.group(1).lower(), match.group(2).strip())
    return props


def documentation(el: Any) -> str | None:
    doc = child(el, BPMN, "documentation")
    value = text(doc)
    return value or None


def form_fields(el: Any) -> list[FormField]:
    fields: list[FormField] = []
    for ff in ext(el, CAMUNDA, "formField"):
        fid = ff.get("id")
        if not fid:
            continue
        ftype = _FIELD_TYPES.get((ff.get("type") or "string").lower(), "string")
        options = tuple((v.get("id") or "", v.get("name") or v.get("id") or "")
                        for v in ff.iter(f"{{{CAMUNDA}}}value"))
        named = [(c.get("name") or "", c.get("config")) for c in ff.iter(f"{{{CAMUNDA}}}constraint")]
        required = any(name == "required" for name, _ in named)
        fields.append(FormField(id=fid, label=ff.get("label") or fid, type=ftype,
                                required=required, options=options,
                                default=ff.get("defaultValue"), constraints=form_constraints(named)))
    return fields


def form_constraints(named: list[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    """Camunda's validation constraints we check (min, max, minlength, maxlength, readonly), in
    a stable order; a bound that is not a number (or, for dates, an ISO date) is left out."""
    out: dict[str, Any] = {}
    for name, config in named:
        name = name.lower()
        if name == "readonly":
            out["readonly"] = True
        elif name in ("minlength", "maxlength") and str(config or "").strip().isdigit():
            out[name] = int(str(config).strip())
        elif name in ("min", "max") and config is not None:
            bound = str(config).strip()
            try:
                out[name] = int(bound) if bound.lstrip("-").isdigit() else float(bound)
            except ValueError:
                if len(bound) == 10 and bound[4] == "-" and bound[7] == "-":
                    out[name] = bound                      # a date bound, e.g. 2026-01-01
    return tuple(sorted(out.items()))


def role_of(el: Any, lane: str | None) -> str | None:
    group = _first_group(el.get(f"{{{CAMUNDA}}}candidateGroups"))
    if group is None:
        for ad in ext(el, ZEEBE, "assignmentDefinition"):
            group = _first_group(ad.get("candidateGroups"))
            if group is None:
                assignee = (ad.get("assignee") or "").strip()
                group = assignee if assignee and not _is_expression(assignee) else None
            if group:
                break
    if group is None:
        assignee = (el.get(f"{{{CAMUNDA}}}assignee") or "").strip()
        group = assignee if assignee and not _is_expression(assignee) else None
    if group is None and lane:
        return slug(lane)
    return group


def lanes_of(process: Any) -> dict[str, str]:
    """flow node id → name of the innermost lane listing it."""
    lanes: dict[str, str] = {}
    for lane in process.iter(b("lane")):
        name = lane.get("name") or lane.get("id") or ""
        for ref in lane.iterchildren(b("flowNodeRef")):
            if ref.text and name:
                lanes[ref.text.strip()] = name.strip()   # deeper lanes come later: they win
    return lanes


def read_process(process: Any) -> tuple[dict[str, str], dict[str, TaskInfo]]:
    """Process-level properties and a TaskInfo per flow node (nested subprocesses included)."""
    pid = process.get("id") or ""
    lanes = lanes_of(process)
    tasks: dict[str, TaskInfo] = {}
    for el in process.iter():
        kind = local(el.tag)
        if kind not in FLOW_NODES or el.tag != b(kind) or not el.get("id"):
            continue
        nid = el.get("id")
        lane = lanes.get(nid)
        tasks[nid] = TaskInfo(
            bpmn_id=nid, name=(el.get("name") or "").strip() or nid, kind=kind, process_id=pid,
            lane=lane, role=role_of(el, lane), form=form_fields(el),
            properties=properties_of(el),
            service=service_name(el) if kind in ("serviceTask", "sendTask", "businessRuleTask")
            else None,
            documentation=documentation(el), line=line_of(el))
    return properties_of(process), tasks
