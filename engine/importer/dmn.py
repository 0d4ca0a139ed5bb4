"""Decision tables made ready for SpiffWorkflow, and checked, before anything is stored.

Modelers (Camunda 7 and 8, bpmn.io) write input cells as FEEL unary tests.  Those that are
plain Python already mean the same to SpiffWorkflow (``"gold"``, ``>= 6``); three forms do not
and are rewritten with Spiff's ``?`` placeholder for the input's value: a list of alternatives
(``"Travel","Misc"``, which Python would read as one tuple and never match), ranges
(``[1..5]``, ``]0..10[``) and ``not(…)``.  Then every expression (input expressions, each cell
as Spiff will evaluate it, output entries) is compiled in the sandbox, so a hostile or broken
table is refused at import with its line, rule and column, not at run time.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Any

from engine.errors import EngineError
from engine.importer.expr import Untranslatable, to_python
from engine.importer.ns import local
from engine.importer.problems import Report, line_of
from engine.sandbox import check

_COMPARISON = re.compile(r"^(<=|>=|!=|<|>|=)\s*(.+)$", re.S)
_NOT = re.compile(r"^not\s*\((.*)\)$", re.S)
#: Spiff's own test for a ``?`` outside quotes (DMNEngine.evaluate)
_PLACEHOLDER = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
#: a cell longer than this is refused: real unary tests are short, and SpiffWorkflow's own
#: placeholder search (above) takes time growing with the square of the cell's length
MAX_CELL = 2_000


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str) and local(c.tag) == name]


def _text_of(el: Any) -> Any:
    found = _children(el, "text")
    return found[0] if found else None


def _split_alternatives(tests: str) -> list[str]:
    """Top-level comma-separated parts.  Commas inside quotes, brackets or parentheses stay; a
    part that opens with a range bracket (``[``, ``]`` or ``(`` followed by ``..`` before the
    next comma) runs to its closing bracket whichever way that bracket faces."""
    parts: list[str] = []
    depth, quote, start, in_range, dots = 0, "", 0, False, False
    for i, ch in enumerate(tests):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif in_range:
            if ch == "." and tests.startswith("..", i):
                dots = True
            elif dots and ch in "[])":
                in_range = dots = False
        elif ch in "[](" and not tests[start:i].strip() and ".." in tests[i:].split(",", 1)[0]:
            in_range = True
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(tests[start:i].strip())
            start = i + 1
    parts.append(tests[start:].strip())
    return parts


def _value(text: str) -> str:
    return to_python(text, "feel")


def _range(test: str) -> tuple[str, str, str, str] | None:
    """``[a..b]``, ``(a..b]``, ``]a..b[`` … as (opening, a, b, closing); None if not a range.
    Split by hand at the first ``..``: a regex with two lazy groups takes quadratic time."""
    if len(test) < 5 or test[0] not in "[(]" or test[-1] not in "])[":
        return None
    low, dots, high = test[1:-1].partition("..")
    if not dots or not low.strip() or not high.strip():
        return None
    return test[0], low.strip(), high.strip(), test[-1]


def _one_test(test: str) -> str:
    """One FEEL unary test as a Python condition on ``?``."""
    rng = _range(test)
    if rng:
        opening, low_value, high_value, closing = rng
        low = "<=" if opening == "[" else "<"
        high = "<=" if closing == "]" else "<"
        return f"{_value(low_value)} {low} ? {high} {_value(high_value)}"
    comparison = _COMPARISON.match(test)
    if comparison:
        op = "==" if comparison.group(1) == "=" else comparison.group(1)
        return f"? {op} {_value(comparison.group(2))}"
    return f"? == ({_value(test)})"


def unary_tests(cell: str) -> str | None:
    """The cell rewritten for SpiffWorkflow, or None when it already means the same there."""
    tests = cell.strip()
    if not tests or tests == "-" or _PLACEHOLDER.search(tests):
        return None
    negated = _NOT.match(tests)
    if negated:
        tests = negated.group(1).strip()
    parts = _split_alternatives(tests)
    if not negated and len(parts) == 1 and not _range(parts[0]):
        return None
    if any(not p for p in parts):
        raise Untranslatable(f"empty test in {cell.strip()!r}")
    condition = " or ".join(f"({_one_test(p)})" for p in parts)
    return f"not ({condition})" if negated else condition


def _spiff_expression(input_expression: str, cell: str) -> list[str]:
    """The expressions SpiffWorkflow's DMNEngine evaluates for this cell."""
    if _PLACEHOLDER.search(cell):
        return [input_expression, _PLACEHOLDER.sub("dmninputexpr", cell)]
    try:
        ast.parse(cell)
    except SyntaxError:
        return [input_expression + cell]           # an operator first: ``minutes`` + ``> 60``
    return [f"({input_expression}) == ({cell})"]


def _check(report: Report, element: Any, text: Any, what: str, source: str) -> None:
    """``source`` compiled in the sandbox; a refusal names ``element`` (it has the id) at the
    line of its ``text``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            check(source, "eval")
    except EngineError as exc:
        report.problem(f"{what} refused by the sandbox: {exc}", element, line=line_of(text) or line_of(element))


def prepare_decision(root: Any, report: Report) -> None:
    """Rewrite FEEL-only cells of every decision table under ``root`` in place, then check
    every expression; problems go to ``report`` (the deployment is then refused)."""
    for table in root.iter():
        if not isinstance(table.tag, str) or local(table.tag) != "decisionTable":
            continue
        inputs = []
        for column, inp in enumerate(_children(table, "input"), start=1):
            label = inp.get("label") or inp.get("id") or f"#{column}"
            found = _children(inp, "inputExpression")
            node = _text_of(found[0]) if found else None
            source = (node.text or "").strip() if node is not None else ""
            if node is not None and source:
                try:
                    source = node.text = to_python(source, found[0].get("expressionLanguage"))
                except Untranslatable as exc:
                    report.problem(f"input {label!r}: {exc}", found[0], line=line_of(node))
                    source = ""
                else:
                    _check(report, found[0], node, f"input expression {label!r}", source)
            inputs.append((label, source))
        for row, rule in enumerate(_children(table, "rule"), start=1):
            where = f"rule {row} ({rule.get('id')})"
            for column, entry in enumerate(_children(rule, "inputEntry")):
                _prepare_cell(report, entry, where, inputs[column] if column < len(inputs) else ("?", ""))
            for entry in _children(rule, "outputEntry"):
                node = _text_of(entry)
                if node is not None and (node.text or "").strip():
                    _check(report, entry, node, f"{where}: output", node.text.strip())


def _prepare_cell(report: Report, entry: Any, where: str, column: tuple[str, str]) -> None:
    label, input_expression = column
    node = _text_of(entry)
    if node is None or not (node.text or "").strip() or node.text.strip() == "-":
        return
    what = f"{where}, input {label!r}"
    if len(node.text) > MAX_CELL:
        report.problem(f"{what}: the cell is {len(node.text):,} characters long; the limit is {MAX_CELL:,}",
                       entry, line=line_of(node))
        return
    try:
        rewritten = unary_tests(node.text)
    except Untranslatable as exc:
        report.problem(f"{what}: {exc}", entry, line=line_of(node))
        return
    if rewritten is not None:
        node.text = rewritten
    if input_expression:
        for source in _spiff_expression(input_expression, node.text.strip()):
            _check(report, entry, node, what, source)
