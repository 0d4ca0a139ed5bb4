"""Namespace URIs and tiny lxml helpers shared by the importer modules."""

from __future__ import annotations

from typing import Any

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
MODELER = "http://camunda.org/schema/modeler/1.0"
SIGNAVIO = "http://www.signavio.com"
DMN_PREFIX = ("http://www.omg.org/spec/DMN/", "https://www.omg.org/spec/DMN/")

NSMAP = {"bpmn": BPMN, "spiffworkflow": SPIFF, "camunda": CAMUNDA, "zeebe": ZEEBE,
         "signavio": SIGNAVIO, "bpmndi": BPMNDI}


def q(ns: str, local: str) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"


def b(local: str) -> str:
    return q(BPMN, local)


def local(tag: Any) -> str:
    """Local name of an element tag ('' for comments and other non-elements)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def ns_of(tag: Any) -> str:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def xp(node: Any, path: str) -> list[Any]:
    return node.xpath(path, namespaces=NSMAP)


def children(node: Any, ns: str, name: str) -> list[Any]:
    return [c for c in node if c.tag == q(ns, name)]


def child(node: Any, ns: str, name: str) -> Any:
    for c in node:
        if c.tag == q(ns, name):
            return c
    return None


def ext(node: Any, ns: str, name: str) -> list[Any]:
    """Vendor elements ``ns:name`` anywhere under the node's own extensionElements."""
    out: list[Any] = []
    for e in children(node, BPMN, "extensionElements"):
        out.extend(e.iter(q(ns, name)))
    return out


def text(node: Any) -> str:
    return (node.text or "").strip() if node is not None else ""
