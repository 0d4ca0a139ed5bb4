"""Which tool wrote a document: decides how it is translated and whether it can run.

Vendor namespaces actually *used* (in tags or attributes) count; a namespace that is only
declared does not.  Descriptive tools (Signavio, Bizagi, ARIS…) produce model-only processes.
"""

from __future__ import annotations

from typing import Any

from engine.importer.ns import CAMUNDA, DMN_PREFIX, SPIFF, ZEEBE, ns_of

SPIFFARENA, CAMUNDA7, CAMUNDA8, BPMNIO, DESCRIPTIVE, DMN = (
    "spiffarena", "camunda7", "camunda8", "bpmn.io", "descriptive", "dmn")

_DESCRIPTIVE_EXPORTERS = (
    "signavio", "bizagi", "aris", "adonis", "trisotech", "workflow modeler", "yaoqiang",
    "visual paradigm", "enterprise architect", "cardanit", "beepmn", "open-bpmn", "activiti",
    "bpmn2 modeler", "itp commerce", "process modeler",
)
_DESCRIPTIVE_NS = (
    "signavio.com", "bizagi.com", "softwareag.com/aris", "boc-group.com", "trisotech.com",
    "bpmn.sourceforge.net", "visual-paradigm.com", "sparxsystems.com", "esteco.com",
    "activiti.org", "open-bpmn.org", "imixs.org",
)


def used_namespaces(root: Any) -> set[str]:
    found: set[str] = set()
    for el in root.iter():
        ns = ns_of(el.tag)
        if ns:
            found.add(ns)
        for name in el.attrib:
            ans = ns_of(name)
            if ans:
                found.add(ans)
    return found


def is_dmn(root: Any) -> bool:
    return ns_of(root.tag).startswith(DMN_PREFIX)


def detect(root: Any) -> str:
    """spiffarena | camunda7 | camunda8 | bpmn.io | descriptive | dmn."""
    if is_dmn(root):
        return DMN
    used = used_namespaces(root)
    exporter = (root.get("exporter") or "").lower()
    platform = ""
    for name, value in root.attrib.items():
        if name.endswith("}executionPlatform"):
            platform = value.lower()
    if any(key in exporter for key in _DESCRIPTIVE_EXPORTERS):
        return DESCRIPTIVE      # last written by a drawing tool, whatever it carried along
    if SPIFF in used:
        return SPIFFARENA
    if ZEEBE in used or "camunda cloud" in platform:
        return CAMUNDA8
    if CAMUNDA in used or "camunda platform" in platform:
        return CAMUNDA7
    is_bpmnio = "bpmn-js" in exporter or "camunda modeler" in exporter or "bpmn.io" in exporter
    if not is_bpmnio and any(key in uri for uri in used for key in _DESCRIPTIVE_NS):
        return DESCRIPTIVE
    return BPMNIO
