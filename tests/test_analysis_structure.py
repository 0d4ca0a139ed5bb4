"""Structural analysis (engine.analysis): steps, hand-offs, decisions, parallelism and the
critical path, on the bundled pair, a hand-computed descriptive pair, the MIWG reference
models and the edge cases (no start event, loops, empty process, subprocesses, handlers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.analysis import analyse_bytes
from engine.analysis.durations import iso, seconds_of
from engine.errors import InvalidInput
from tests.conftest import CORPUS, FIXTURES, ROOT
from tests.fixtures.analysis.snippets import doc, flows, process, task

ANALYSIS = FIXTURES / "analysis"
MIWG = CORPUS / "miwg" / "Reference"
KEYS = ("tasks", "human_tasks", "automated_tasks", "handoffs", "decision_points",
        "parallel_sections", "critical_path_hours")


def figures(path: Path) -> dict:
    return analyse_bytes(path.read_bytes(), str(path)).figures()


def pick(fig: dict) -> tuple:
    return tuple(fig[k] for k in KEYS)


def test_bundled_order_pair() -> None:
    as_is = figures(ROOT / "bpmn" / "order_handling_as_is.bpmn")
    to_be = figures(ROOT / "bpmn" / "order_handling_to_be.bpmn")
    assert pick(as_is) == (5, 5, 0, 4, 0, 0, 48.0)
    assert pick(to_be) == (3, 3, 1, 2, 0, 1, 24.0)
    assert (as_is["critical_path"], to_be["critical_path"]) == ("PT48H", "PT24H")
    assert to_be["critical_path_tasks"] == ["Register order automatically", "Finance review",
                                            "Schedule and ship"]


def test_descriptive_pair_hand_computed() -> None:
    as_is = figures(ANALYSIS / "claims_as_is.bpmn")
    to_be = figures(ANALYSIS / "claims_to_be.bpmn")
    assert pick(as_is) == (7, 6, 1, 5, 1, 0, 19.5)
    assert as_is["critical_path"] == "PT19H30M"
    main = next(p for p in as_is["processes"] if p["key"] == "claims_as_is")
    assert pick(main) == (6, 5, 1, 5, 1, 0, 19.5)
    assert {(h["from"], h["to"]) for h in main["handoff_pairs"]} == {
        ("Register claim", "Check documents"), ("Check documents", "Request missing documents"),
        ("Request missing documents", "Check documents"), ("Assess claim", "Approve payment"),
        ("Approve payment", "Inform customer")}
    assert any("loop" in note for note in main["assumptions"])
    assert any("worst case" in note for note in main["assumptions"])
    assert pick(to_be) == (5, 5, 2, 3, 1, 1, 14.0)
    assert to_be["critical_path_tasks"] == ["Register claim", "Check documents", "Assess claim",
                                            "Approve payment", "Pay out and inform customer"]


@pytest.mark.skipif(not MIWG.is_dir(), reason="MIWG corpus not present")
@pytest.mark.parametrize("path", sorted(MIWG.glob("*.bpmn")) if MIWG.is_dir() else [],
                         ids=lambda p: p.name)
def test_every_miwg_reference_model_is_analysed(path: Path) -> None:
    fig = figures(path)
    assert fig["processes"], "every reference model has at least one process"
    assert fig["tasks"] + fig["automated_tasks"] > 0
    assert fig["critical_path_hours"] >= 0 and fig["handoffs"] >= 0


def test_no_start_event_starts_where_nothing_flows_in() -> None:
    body = task("a", 2) + task("b", 3) + task("c", 1) + flows("a>b>c")
    fig = analyse_bytes(doc(process(body))).figures()
    assert (fig["tasks"], fig["critical_path_hours"]) == (3, 6.0)


def test_loop_is_broken_at_its_back_edge() -> None:
    body = ('<startEvent id="s"/>' + task("a", 1) + task("b", 2) + '<exclusiveGateway id="g"/>'
            + '<endEvent id="e"/>' + flows("s>a>b>g>e", "g>a"))
    fig = analyse_bytes(doc(process(body))).figures()
    assert (fig["tasks"], fig["decision_points"], fig["critical_path_hours"]) == (2, 1, 3.0)
    assert any("loop" in n for n in fig["processes"][0]["assumptions"])


def test_cycle_without_any_entry_still_has_a_path() -> None:
    body = task("a", 1) + task("b", 2) + flows("a>b>a")
    fig = analyse_bytes(doc(process(body))).figures()
    assert fig["critical_path_hours"] == 3.0


def test_empty_process_and_document_without_process() -> None:
    fig = analyse_bytes(doc(process(""))).figures()
    assert pick(fig) == (0, 0, 0, 0, 0, 0, 0.0) and fig["critical_path"] == "PT0S"
    assert analyse_bytes(doc()).figures()["processes"] == []


def test_tasks_inside_subprocesses_are_counted_and_on_the_path() -> None:
    inner = ('<startEvent id="is"/>' + task("x", 2) + task("y", 3, kind="userTask") + '<endEvent id="ie"/>'
             + flows("is>x>y>ie", prefix="i"))
    body = ('<startEvent id="s"/>' + task("a", 1) + f'<subProcess id="sub" name="Sub">{inner}</subProcess>'
            + '<subProcess id="collapsed" name="Collapsed"/>' + task("z", 4) + '<endEvent id="e"/>'
            + flows("s>a>sub>collapsed>z>e"))
    lanes = {"L1": ["s", "a", "sub", "e"], "L2": ["collapsed", "z"]}
    fig = analyse_bytes(doc(process(body, lanes=lanes))).figures()
    # a, x, y, collapsed, z; the expanded subprocess itself is not a step
    assert (fig["tasks"], fig["human_tasks"], fig["critical_path_hours"]) == (5, 4, 10.0)
    # x, y inherit L1 from their subprocess: y (L1) -> collapsed (L2) is the only hand-off
    assert [(h["from"], h["to"]) for h in fig["processes"][0]["handoff_pairs"]] == [("y", "Collapsed")]
    assert fig["critical_path_tasks"] == ["a", "x", "y", "Collapsed", "z"]


def test_duration_on_an_expanded_subprocess() -> None:
    def sub(inner_hours: float | None) -> bytes:
        inner = '<startEvent id="is"/>' + task("x", inner_hours) + flows("is>x", prefix="i")
        props = ('<extensionElements><camunda:properties><camunda:property name="Duration" value="PT5H"/>'
                 '</camunda:properties></extensionElements>')
        body = (f'<startEvent id="s"/><subProcess id="sub" name="Sub">{props}{inner}</subProcess>'
                + task("z", 1) + flows("s>sub>z"))
        return doc(process(body))

    declared = analyse_bytes(sub(None)).figures()          # content without durations: 5 h + 1 h
    assert declared["critical_path_hours"] == 6.0 and declared["critical_path_tasks"] == ["x", "Sub", "z"]
    detailed = analyse_bytes(sub(2)).figures()             # content with durations wins: 2 h + 1 h
    assert detailed["critical_path_hours"] == 3.0
    assert any("ignored" in w for w in detailed["processes"][0]["warnings"])


def test_handlers_count_but_stay_off_the_critical_path() -> None:
    body = ('<startEvent id="s"/>' + task("a", 1, kind="userTask") + task("esc", 50)
            + '<boundaryEvent id="t" attachedToRef="a"><timerEventDefinition/></boundaryEvent>'
            + '<subProcess id="ev" triggeredByEvent="true"><startEvent id="es"/>' + task("h", 99)
            + flows("es>h", prefix="x") + "</subProcess>" + '<endEvent id="e"/><endEvent id="e2"/>'
            + flows("s>a>e", "t>esc>e2"))
    lanes = {"Ops": ["s", "a", "e"], "Management": ["esc", "e2", "ev"]}
    fig = analyse_bytes(doc(process(body, lanes=lanes))).figures()
    assert fig["tasks"] == 3 and fig["critical_path_hours"] == 1.0
    assert [(h["from"], h["to"]) for h in fig["processes"][0]["handoff_pairs"]] == [("a", "esc")]


def test_implicit_splits_and_parallel_longest_branch() -> None:
    body = ('<startEvent id="s"/>' + task("a", 1) + task("b", 5) + task("c", 2)
            + '<parallelGateway id="j"/><endEvent id="e"/>' + flows("s>a", "a>b>j", "a>c>j", "j>e"))
    fig = analyse_bytes(doc(process(body))).figures()
    assert (fig["parallel_sections"], fig["decision_points"], fig["critical_path_hours"]) == (1, 0, 6.0)


def test_several_pools_are_analysed_each() -> None:
    p1 = process('<startEvent id="s1"/>' + task("a", 3) + flows("s1>a"), pid="p1")
    p2 = process('<startEvent id="s2"/>' + task("b", 7) + task("c", 1) + flows("s2>b>c"), pid="p2")
    fig = analyse_bytes(doc(p1, p2)).figures()
    assert (fig["tasks"], fig["critical_path_hours"], fig["critical_path_process"]) == (3, 8.0, "p2")
    only = analyse_bytes(doc(p1, p2), only="p1").figures()
    assert (only["tasks"], only["critical_path_hours"]) == (1, 3.0)
    with pytest.raises(InvalidInput):
        analyse_bytes(doc(p1), only="nope")


def test_a_long_chain_does_not_recurse() -> None:
    n = 3000
    body = "".join(task(f"t{i}", 1) for i in range(n)) + flows(">".join(f"t{i}" for i in range(n)))
    fig = analyse_bytes(doc(process(body))).figures()
    assert (fig["tasks"], fig["critical_path_hours"]) == (n, float(n))


def test_unreadable_duration_counts_zero_with_a_warning() -> None:
    body = ('<task id="a"><documentation>duration: soon</documentation></task>'
            '<task id="b"><documentation>duration: 1.5 days</documentation></task>' + flows("a>b"))
    fig = analyse_bytes(doc(process(body))).figures()
    assert fig["critical_path_hours"] == 36.0
    assert any("'soon'" in w for w in fig["processes"][0]["warnings"])


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT8H", 28800), ("P1D", 86400), ("pt30m", 1800), ("8h", 28800), ("8 h", 28800),
    ("30 min", 1800), ("1,5 hours", 5400), ("2 days", 172800), ("4", 14400), ("soon", None), ("", None)])
def test_lenient_durations(text: str, seconds: float | None) -> None:
    assert seconds_of(text) == seconds


def test_iso_output() -> None:
    assert [iso(s) for s in (0, 172800, 5400, -86400, 1.5)] == ["PT0S", "PT48H", "PT1H30M", "-PT24H", "PT1.5S"]


@pytest.mark.parametrize("data", [
    b"<definitions", b"", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>',
    b'<x xmlns="urn:other"/>'])
def test_bad_input_is_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        analyse_bytes(data, "bad.bpmn")
