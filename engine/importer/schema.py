"""The BPMN 2.0 XML Schema check of DESIGN §4, as warnings.

Modelers write files the schema does not quite allow (elements out of order, a Signavio
extension in the wrong place: 43 of the 456 corpus files) and that still run correctly, so a
deviation is reported — file, line and the schema's own message — but does not refuse the
file; what cannot run is refused by the importer's other checks.  The schema is the OMG one
SpiffWorkflow ships, read from the installed package, never from anything a model names.
"""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH

from engine.importer.ns import BPMN
from engine.importer.problems import Report

#: schema messages reported per file; the rest are counted
SHOWN = 3

_local = threading.local()      # an XMLSchema keeps its error log: one per thread

_PREFIXES = {BPMN: "bpmn", "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
             "http://www.omg.org/spec/DD/20100524/DI": "di", "http://www.omg.org/spec/DD/20100524/DC": "dc"}


def _schema() -> Any:
    schema = getattr(_local, "schema", None)
    if schema is None:
        schema = _local.schema = etree.XMLSchema(etree.parse(XSD_PATH))
    return schema


def schema_warnings(root: Any, report: Report) -> None:
    """Warn about each way the BPMN document ``root`` deviates from the schema (the first
    ``SHOWN``, then how many more)."""
    schema = _schema()
    if schema.validate(etree.ElementTree(root)):
        return
    # bpmn-js writes a correlation property's retrieval expression as formalExpression where the
    # schema wants messagePath; SpiffWorkflow reads it either way (its own validator rewrites it)
    errors = [e for e in schema.error_log if "correlationPropertyRetrievalExpression" not in (e.path or "")]
    for error in errors[:SHOWN]:
        report.warnings.append(f"{report.file}:{error.line}: not valid against the BPMN 2.0 schema: "
                               f"{_readable(error.message)}")
    more = len(errors) - SHOWN
    if more > 0:
        report.warnings.append(f"{report.file}: {more} more deviation{'s' if more > 1 else ''} from the "
                               "BPMN 2.0 schema")


def _readable(message: str) -> str:
    for namespace, prefix in _PREFIXES.items():
        message = message.replace(f"{{{namespace}}}", f"{prefix}:")
    return message
