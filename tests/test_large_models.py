"""Large models: SpiffWorkflow's parser recurses per sequence flow and its task iterator used
to stop at depth 1000.  A 3,000-task chain and a 500-branch parallel split must import and
run to completion (never a RecursionError, never a silent stall)."""

from __future__ import annotations

import pytest

from engine.api import Engine

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
          'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="big" targetNamespace="x">\n')


def chain(n: int) -> bytes:
    parts = [HEADER, '<bpmn:process id="long_chain" isExecutable="true">',
             '<bpmn:startEvent id="start"/>']
    previous = "start"
    for i in range(n):
        parts.append(f'<bpmn:scriptTask id="s{i}"><bpmn:script>count = count + 1</bpmn:script></bpmn:scriptTask>')
        parts.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="s{i}"/>')
        previous = f"s{i}"
    parts += [f'<bpmn:userTask id="last" name="Last step"/><bpmn:sequenceFlow id="fl" sourceRef="{previous}" '
              'targetRef="last"/><bpmn:endEvent id="end"/><bpmn:sequenceFlow id="fe" sourceRef="last" '
              'targetRef="end"/></bpmn:process></bpmn:definitions>']
    return "\n".join(parts).encode()


def fan(n: int) -> bytes:
    parts = [HEADER, '<bpmn:process id="wide_split" isExecutable="true">', '<bpmn:startEvent id="start"/>',
             '<bpmn:parallelGateway id="split"/>', '<bpmn:parallelGateway id="join"/>',
             '<bpmn:endEvent id="end"/>', '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split"/>',
             '<bpmn:sequenceFlow id="fz" sourceRef="join" targetRef="end"/>']
    for i in range(n):
        parts.append(f'<bpmn:scriptTask id="b{i}"><bpmn:script>branch_{i} = True</bpmn:script></bpmn:scriptTask>')
        parts.append(f'<bpmn:sequenceFlow id="a{i}" sourceRef="split" targetRef="b{i}"/>')
        parts.append(f'<bpmn:sequenceFlow id="c{i}" sourceRef="b{i}" targetRef="join"/>')
    parts.append("</bpmn:process></bpmn:definitions>")
    return "\n".join(parts).encode()


@pytest.mark.slow
def test_chain_of_3000_tasks_imports_and_runs_to_the_end(engine: Engine) -> None:
    [imported] = engine.import_files([("chain.bpmn", chain(3000))])
    assert imported.executable
    iid = engine.start("long_chain", {"count": 0})
    [task] = engine.tasks(instance_id=iid)                  # reached past depth 1000
    assert task.bpmn_id == "last"
    engine.complete(task.task_id, {})
    view = engine.show(iid)
    assert view.status == "completed" and view.data["count"] == 3000


@pytest.mark.slow
def test_parallel_split_of_500_branches_imports_and_runs(engine: Engine) -> None:
    engine.import_files([("fan.bpmn", fan(500))])
    iid = engine.start("wide_split")
    view = engine.show(iid)
    assert view.status == "completed"
    assert sum(1 for k in view.data if k.startswith("branch_")) == 500


def endless_loop() -> bytes:
    return (HEADER + '<bpmn:process id="endless" isExecutable="true"><bpmn:startEvent id="start"/>'
            '<bpmn:exclusiveGateway id="merge"/><bpmn:scriptTask id="spin"><bpmn:script>n = n + 1'
            '</bpmn:script></bpmn:scriptTask><bpmn:exclusiveGateway id="again" default="back"/>'
            '<bpmn:endEvent id="end"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="merge" targetRef="spin"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="spin" targetRef="again"/>'
            '<bpmn:sequenceFlow id="back" sourceRef="again" targetRef="merge"/>'
            '<bpmn:sequenceFlow id="out" sourceRef="again" targetRef="end">'
            '<bpmn:conditionExpression>n &lt; 0</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '</bpmn:process></bpmn:definitions>').encode()


def test_endless_loop_between_tasks_becomes_an_incident(engine: Engine, monkeypatch) -> None:
    from engine.spiff import workflow_ops

    monkeypatch.setattr(workflow_ops.advance, "__defaults__", (300,))
    engine.import_files([("loop.bpmn", endless_loop())])
    iid = engine.start("endless", {"n": 0})
    view = engine.show(iid)
    assert view.status == "incident"
    assert "endless loop" in view.incidents[0].message
