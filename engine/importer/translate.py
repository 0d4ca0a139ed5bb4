"""Rewrite a parsed BPMN document (a copy) into what SpiffBpmnParser accepts and runs.

Only executable processes are translated and validated for execution; model-only ones are
removed from the copy so SpiffWorkflow never sees them.  The original tree stays untouched
for metadata and line numbers (copies keep lxml's ``sourceline``).
"""

from __future__ import annotations

import copy
from typing import Any

from engine.importer import document, flows, tasks
from engine.importer.checks import sandbox_checks
from engine.importer.interrupting import fix_interrupting
from engine.importer.ns import b, local
from engine.importer.problems import Report

_TIMER = b("timerEventDefinition")
_CONDITIONAL = b("conditionalEventDefinition")


def _elements(process: Any) -> list[Any]:
    return [el for el in process.iter() if isinstance(el.tag, str)]


def _translate_elements(process: Any, decisions: set[str], callable_ids: set[str],
                        report: Report) -> None:
    for el in _elements(process):
        kind = local(el.tag)
        if el.tag != b(kind):
            continue
        if kind == "serviceTask":
            tasks.service_operator(el, report)
        elif kind == "sendTask":
            tasks.send_task(el, report)
        elif kind == "scriptTask":
            tasks.script_task(el, report)
        elif kind == "businessRuleTask":
            tasks.business_rule_task(el, decisions, report)
        elif kind == "callActivity":
            tasks.call_activity(el, callable_ids, report)
        elif kind == "multiInstanceLoopCharacteristics":
            tasks.multi_instance(el.getparent(), report)
        elif kind == "standardLoopCharacteristics":
            tasks.standard_loop(el.getparent(), report)
        elif el.tag == _TIMER:
            tasks.timer(el.getparent(), el, report)
        elif el.tag == _CONDITIONAL:
            tasks.conditional_event(el.getparent(), el, report)


def translate(root: Any, executable: set[str], decisions: set[str], callable_ids: set[str],
              report: Report) -> Any:
    """A translated copy of ``root`` holding only the executable processes."""
    tree = copy.deepcopy(root)
    for process in list(tree.iter(b("process"))):
        if process.get("id") not in executable:
            process.getparent().remove(process)
        else:
            process.set("isExecutable", "true")
    document.name_items(tree)
    document.drop_data_stores(tree, report)
    ids = flows.IdMaker(tree)
    first = True
    for process in tree.iter(b("process")):
        document.check_event_refs(process, tree, report)
        document.unsupported(process, report)
        fix_interrupting(process, ids, report)
        document.fix_data_associations(process, tree, report)
        _translate_elements(process, decisions, callable_ids, report)
        flows.fix_flows(process, ids, report)
        sandbox_checks(process, tree, report, with_document=first)
        first = False
    return tree
