"""Compile every piece of model code in the sandbox before anything is stored.

After translation all conditions, scripts, timer values, loop and multi-instance
expressions, service parameters, pre/post scripts and payload expressions are Python; each
is handed to ``engine.sandbox.check`` and a refusal is reported at the element's line (plus
the script's own line, when the sandbox names one).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any, Literal

from engine.errors import EngineError
from engine.importer.ns import SPIFF, b, local, q
from engine.importer.problems import Report, line_of
from engine.sandbox import check

_EVAL_CHILDREN = {
    "conditionExpression": "condition", "loopCardinality": "multi-instance cardinality",
    "completionCondition": "completion condition", "loopCondition": "loop condition",
    "condition": "event condition", "timeDate": "timer", "timeDuration": "timer",
    "timeCycle": "timer",
}
_SPIFF_EXEC = {"preScript": "pre-script", "postScript": "post-script"}
_SPIFF_EVAL = {"messagePayload": "message payload", "payloadExpression": "payload expression",
               "expression": "correlation expression"}


def _owner(el: Any) -> Any:
    """The element a problem should point at: the nearest ancestor with an id."""
    node = el
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node if node is not None else el


_Code = tuple[Any, str, str, Literal["eval", "exec"]]     # (element, what, source, mode)


def _code(process: Any) -> Iterator[_Code]:
    """(element, what, source, mode) for every piece of code in the process."""
    for el in process.iter():
        if not isinstance(el.tag, str):
            continue
        name = local(el.tag)
        if el.tag == b(name) and name in _EVAL_CHILDREN and (el.text or "").strip():
            yield el, _EVAL_CHILDREN[name], el.text.strip(), "eval"
        elif el.tag == b("script") and local(el.getparent().tag) == "scriptTask":
            yield el, "script", el.text or "", "exec"
        elif el.tag == q(SPIFF, name) and name in _SPIFF_EXEC and (el.text or "").strip():
            yield el, _SPIFF_EXEC[name], el.text or "", "exec"
        elif el.tag == q(SPIFF, name) and name in _SPIFF_EVAL and (el.text or "").strip():
            yield el, _SPIFF_EVAL[name], el.text.strip(), "eval"
        elif el.tag == q(SPIFF, "parameter") and el.get("value") is not None:
            yield el, f"service parameter {el.get('id')!r}", el.get("value") or "None", "eval"


def _correlations(root: Any) -> Iterator[_Code]:
    for expr in root.iter(b("correlationPropertyRetrievalExpression")):
        for fe in expr:
            if (fe.text or "").strip():
                yield fe, "correlation expression", fe.text.strip(), "eval"


def sandbox_checks(process: Any, root: Any, report: Report, *, with_document: bool) -> None:
    items = list(_code(process))
    if with_document:
        items += list(_correlations(root))
    for el, what, source, mode in items:
        if any(el is f for f in report.failed):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)
                check(source, mode)
        except EngineError as exc:
            owner = _owner(el)
            line = line_of(el) or line_of(owner)
            inner = getattr(exc, "line", None)
            where = ""
            if isinstance(inner, int) and inner > 0 and mode == "exec":
                where = f" (line {inner} of the {what})"
                line = (line_of(el) or 1) + inner - 1
            report.problem(f"{what} refused by the sandbox{where}: {exc}", owner, line=line)
        except Exception as exc:  # noqa: BLE001 - the sandbox must never crash an import
            report.problem(f"{what} could not be checked: {type(exc).__name__}: {exc}",
                           _owner(el))
