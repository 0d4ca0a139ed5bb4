"""Decision tables: FEEL unary tests that Python would misread are rewritten, and every DMN
expression is checked in the sandbox at import (refused with its line), using Camunda's own
invoice example from the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.api import Engine
from engine.errors import ImportRejected
from engine.importer.dmn import unary_tests
from engine.importer.expr import Untranslatable

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
INVOICE_DMN = CORPUS / "executable" / "camunda7-platform" / "invoice" / "invoiceBusinessDecisions.dmn"

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"')


def _process(decision: str, key: str = "classify") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="defs" '
            f'targetNamespace="http://example.com" exporter="Camunda Modeler">\n'
            f'<bpmn:process id="{key}" isExecutable="true">'
            '<bpmn:startEvent id="start"/>'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="rule"/>'
            f'<bpmn:businessRuleTask id="rule" camunda:decisionRef="{decision}"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="rule" targetRef="end"/>'
            '<bpmn:endEvent id="end"/></bpmn:process></bpmn:definitions>\n').encode()


@pytest.mark.parametrize(("cell", "python"), [
    ('"Travel Expenses","Misc"', "(? == ('Travel Expenses')) or (? == ('Misc'))"),
    ("[250..1000]", "(250 <= ? <= 1000)"),
    ("]0..10[", "(0 < ? < 10)"),
    ("(1..5]", "(1 < ? <= 5)"),
    ('not("Misc")', "not ((? == ('Misc')))"),
    ("< 250, > 1000", "(? < 250) or (? > 1000)"),
    ("]0..10], 5", "(0 < ? <= 10) or (? == (5))"),          # a range's brackets may face either way
    ('[1..5[, "x"', "(1 <= ? < 5) or (? == ('x'))"),
])
def test_feel_only_unary_tests_are_rewritten(cell: str, python: str) -> None:
    assert unary_tests(cell) == python


@pytest.mark.parametrize("cell", ['"Misc"', ">= 6", "3", "item['x']", "-", "", "? > 3", "in [1, 2]",
                                  '"a, b"', "True"])
def test_cells_that_already_mean_the_same_in_python_are_kept(cell: str) -> None:
    assert unary_tests(cell) is None


def test_untranslatable_cell_is_refused() -> None:
    with pytest.raises(Untranslatable):
        unary_tests('date("2026-01-01"), "x"')


@pytest.mark.parametrize(("amount", "category", "expected"), [
    (100, "Misc", "day-to-day expense"),
    (250, "Misc", "budget"),            # a range's ends are inside it: [250..1000]
    (1000, "Misc", "budget"),
    (1000.5, "Misc", "exceptional"),
    (5000, "Travel Expenses", "day-to-day expense"),
    (5000, "Software License Costs", "budget"),
])
def test_camundas_invoice_decision_runs_with_its_feel_cells(engine: Engine, amount: float, category: str,
                                                            expected: str) -> None:
    engine.import_files([("classify.bpmn", _process("invoiceClassification")),
                         (INVOICE_DMN.name, INVOICE_DMN.read_bytes())])
    instance = engine.show(engine.start("classify", {"amount": amount, "invoiceCategory": category}))
    assert instance.status == "completed", instance
    assert instance.data is not None and instance.data["invoiceClassification"] == expected


@pytest.mark.parametrize("classification, approvers", [
    ("budget", ["management"]), ("exceptional", ["management"]), ("day-to-day expense", ["accounting", "sales"]),
])
def test_a_list_of_alternatives_matches_any_of_them(engine: Engine, classification: str,
                                                    approvers: list[str]) -> None:
    engine.import_files([("approve.bpmn", _process("invoice-assign-approver", "approve")),
                         (INVOICE_DMN.name, INVOICE_DMN.read_bytes())])
    instance = engine.show(engine.start("approve", {"invoiceClassification": classification}))
    assert instance.data is not None and instance.data["result"] == approvers


HOSTILE_DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="severity" name="Severity"><decisionTable id="t1">
    <input id="i1" label="minutes">
      <inputExpression id="e1" typeRef="integer"><text>minutes</text></inputExpression></input>
    <output id="o1" name="level" typeRef="string"/>
    <rule id="r1"><inputEntry id="ie1"><text>&gt; 60</text></inputEntry>
      <outputEntry id="oe1"><text>"high"</text></outputEntry></rule>
    <rule id="r2"><inputEntry id="ie2"><text>().__class__.__base__</text></inputEntry>
      <outputEntry id="oe2"><text>"low"</text></outputEntry></rule>
    <rule id="r3"><inputEntry id="ie3"><text>-</text></inputEntry>
      <outputEntry id="oe3"><text>__import__("os").system("id")</text></outputEntry></rule>
  </decisionTable></decision>
</definitions>"""


def test_hostile_cells_are_refused_at_import_with_their_lines(engine: Engine) -> None:
    with pytest.raises(ImportRejected) as caught:
        engine.import_files([("severity.bpmn", _process("severity")), ("severity.dmn", HOSTILE_DMN)])
    problems = {p.line: p for p in caught.value.problems if p.file == "severity.dmn"}
    assert set(problems) == {9, 12}, caught.value.problems
    assert "rule 2 (r2), input 'minutes'" in problems[9].message and "sandbox" in problems[9].message
    assert problems[9].element_id == "ie2" and problems[12].element_id == "oe3"
    assert "rule 3 (r3): output" in problems[12].message
    assert engine.definitions() == []                      # nothing stored


def test_an_overlong_cell_is_refused_quickly(engine: Engine) -> None:
    """SpiffWorkflow's placeholder search takes time growing with the square of a cell's
    length; a cell of thousands of characters is no unary test anyone writes."""
    cell = "?" * 100_000
    dmn = HOSTILE_DMN.replace(b"().__class__.__base__", cell.encode()).replace(
        b'__import__("os").system("id")', b'"low"')
    with pytest.raises(ImportRejected) as caught:
        engine.import_files([("severity.bpmn", _process("severity")), ("severity.dmn", dmn)])
    [problem] = caught.value.problems
    assert problem.line == 9 and "the cell is 100,000 characters long; the limit is 2,000" in problem.message
