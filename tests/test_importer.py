"""Importer: dialect translation, metadata, validation — and that imported specs run."""

from __future__ import annotations

import hashlib
import json
from itertools import count
from typing import Any

import pytest
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

from engine.errors import ImportRejected
from engine.importer import parse_deployment
from engine.importer.model import Deployment, ProcessDraft
from engine.spiff.serializer import new_workflow

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
      'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
      'xmlns:signavio="http://www.signavio.com" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
_keys = count()


def doc(body: str, *, pid: str = "p", extra: str = "", attrs: str = 'isExecutable="true"',
        exporter: str = "Camunda Modeler") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="defs" '
            f'targetNamespace="http://example.com" exporter="{exporter}">\n'
            f'<bpmn:process id="{pid}" {attrs}>\n{body}\n</bpmn:process>\n{extra}'
            f'</bpmn:definitions>\n').encode()


def flow(fid: str, src: str, tgt: str, cond: str | None = None) -> str:
    if cond is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{tgt}"/>'
    cond = cond.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{tgt}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{cond}'
            f'</bpmn:conditionExpression></bpmn:sequenceFlow>')


class Engine(PythonScriptEngine):
    """Stock engine plus a recording service call (the sandboxed engine lives elsewhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call_service(self, task: Any, operation_name: str, operation_params: dict[str, Any],
                     **kwargs: Any) -> str:
        self.calls.append((operation_name, {k: v["value"] for k, v in operation_params.items()}))
        return json.dumps({"sent": True})


def one(files: list[tuple[str, bytes]] | bytes, **kw: Any) -> tuple[Deployment, ProcessDraft]:
    if isinstance(files, bytes):
        files = [("model.bpmn", files)]
    dep = parse_deployment(files, **kw)
    executable = [p for p in dep.processes if p.executable]
    return dep, (executable or dep.processes)[0]


def start(draft: ProcessDraft, engine: Engine | None = None, data: dict[str, Any] | None = None):
    assert draft.spec is not None
    wf = new_workflow(("test", next(_keys)), draft.spec, engine or Engine())
    if data:
        wf.get_tasks(state=TaskState.READY)[0].data.update(data)
    wf.do_engine_steps()
    return wf


def complete(wf: Any, bpmn_id: str, data: dict[str, Any] | None = None) -> None:
    ready = [t for t in wf.get_tasks(state=TaskState.READY, manual=True)
             if t.task_spec.bpmn_id == bpmn_id]
    assert ready, f"{bpmn_id} is not ready"
    ready[0].data.update(data or {})
    ready[0].run()
    wf.do_engine_steps()


def done_ids(wf: Any) -> set[str]:
    return {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
            if t.task_spec.bpmn_id}


def rejected(files: list[tuple[str, bytes]] | bytes, **kw: Any) -> ImportRejected:
    if isinstance(files, bytes):
        files = [("model.bpmn", files)]
    with pytest.raises(ImportRejected) as info:
        parse_deployment(files, **kw)
    return info.value


# -- conditions -----------------------------------------------------------------------

DECIDE = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "decide")
          + '<bpmn:userTask id="decide"/>' + flow("f1", "decide", "gw")
          + '<bpmn:exclusiveGateway id="gw"/>'
          + '<bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>')


@pytest.mark.parametrize("cond_yes,cond_no,data,expected", [
    ("${approved}", "${!approved}", {"approved": True}, "yes"),
    ("${approved}", "${not approved}", {"approved": False}, "no"),
    ("${level == 'high'}", "${level != 'high'}", {"level": "high"}, "yes"),
    ("${level eq 'low'}", "${level ne 'low'}", {"level": "high"}, "no"),
    ("${x > 5 &amp;&amp; y}", "${x &lt;= 5 || !y}", {"x": 7, "y": True}, "yes"),
    ("#{x gt 5}", "#{x le 5}", {"x": 1}, "no"),
    ("${execution.getVariable('ok')}", "${!ok}", {"ok": True}, "yes"),
    ("${order.total > 100}", "${order.total &lt;= 100}", {"order": {"total": 150}}, "yes"),
    ("=approved = true", "=approved = false", {"approved": True}, "yes"),
    ("=x > 5", "=not(x > 5)", {"x": 3}, "no"),
    ('=level = "high"', '=level != "high"', {"level": "high"}, "yes"),
    ("=a and b", "=not(a) or not(b)", {"a": True, "b": False}, "no"),
    ("=count != 1", "=count = 1", {"count": 1}, "no"),
    ("total > 100", "total <= 100", {"total": 101}, "yes"),
])
def test_conditions_translate_and_route(cond_yes: str, cond_no: str, data: dict[str, Any],
                                        expected: str) -> None:
    body = DECIDE + flow("fy", "gw", "yes", cond_yes.replace("&amp;", "&").replace("&lt;", "<")) \
        + flow("fn", "gw", "no", cond_no.replace("&amp;", "&").replace("&lt;", "<"))
    _, draft = one(doc(body))
    wf = start(draft)
    complete(wf, "decide", data)
    assert wf.is_completed()
    assert expected in done_ids(wf) and ({"yes", "no"} - {expected}).isdisjoint(done_ids(wf))


def test_single_unconditioned_flow_becomes_default() -> None:
    body = DECIDE + flow("fy", "gw", "yes", "${approved}") + flow("fn", "gw", "no")
    _, draft = one(doc(body))
    wf = start(draft)
    complete(wf, "decide", {"approved": False})
    assert "no" in done_ids(wf)


def test_two_unconditioned_flows_are_a_problem() -> None:
    body = DECIDE + flow("fy", "gw", "yes") + flow("fn", "gw", "no")
    err = rejected(doc(body))
    assert err.problems[0].element_id == "gw" and err.problems[0].line
    assert "without a condition" in err.problems[0].message


def test_untranslatable_condition_names_flow_and_line() -> None:
    body = DECIDE + flow("fy", "gw", "yes", "${mailer.send(x)}") + flow("fn", "gw", "no")
    err = rejected(doc(body))
    [problem] = err.problems
    assert problem.element_id == "fy" and problem.line and problem.file == "model.bpmn"
    assert "mailer.send" in problem.message


# -- implicit split and join, conditional flows out of a task ---------------------------

def test_implicit_split_and_join_run() -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "a")
            + '<bpmn:task id="a"/><bpmn:task id="b"/><bpmn:task id="c"/><bpmn:task id="d"/>'
            + flow("f1", "a", "b") + flow("f2", "a", "c") + flow("f3", "b", "d")
            + flow("f4", "c", "d") + '<bpmn:endEvent id="end"/>' + flow("f5", "d", "end"))
    _, draft = one(doc(body))
    wf = start(draft)
    for tid in ("a", "b", "c", "d", "d"):
        complete(wf, tid)
    assert wf.is_completed()


def test_conditional_flows_out_of_a_task() -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "a")
            + '<bpmn:userTask id="a"/><bpmn:endEvent id="x"/><bpmn:endEvent id="y"/>'
            + flow("f1", "a", "x", "${go}") + flow("f2", "a", "y"))
    _, draft = one(doc(body))
    wf = start(draft)
    complete(wf, "a", {"go": False})
    assert "y" in done_ids(wf) and "x" not in done_ids(wf)


# -- timers -----------------------------------------------------------------------------

def _timer_process(kind: str, value: str) -> bytes:
    return doc('<bpmn:startEvent id="start"/>' + flow("f0", "start", "wait")
               + f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
               f'<bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>'
               '</bpmn:intermediateCatchEvent>' + flow("f1", "wait", "end")
               + '<bpmn:endEvent id="end"/>')


def _expression(draft: ProcessDraft, bpmn_id: str) -> str:
    spec = draft.spec["spec"]["task_specs"][bpmn_id]
    return spec["event_definition"]["expression"]


@pytest.mark.parametrize("kind,value,expected", [
    ("timeDuration", "PT0S", "'PT0S'"),
    ("timeDuration", '"PT0S"', "'PT0S'"),
    ("timeDuration", '=duration("PT0S")', "'PT0S'"),
    ("timeDuration", '="PT0S"', "'PT0S'"),
    ("timeDate", "2020-01-01T10:00:00", "'2020-01-01T10:00:00+00:00'"),
    ("timeDate", "2020-01-01T10:00:00Z", "'2020-01-01T10:00:00+00:00'"),
    ("timeDate", "${'2020-01-01T10:00:00'}", "'2020-01-01T10:00:00+00:00'"),
])
def test_timer_values_translate_and_fire(kind: str, value: str, expected: str) -> None:
    _, draft = one(_timer_process(kind, value))
    assert _expression(draft, "wait") == expected
    wf = start(draft)
    wf.refresh_timers()
    wf.do_engine_steps()
    assert wf.is_completed()


@pytest.mark.parametrize("value,expected", [
    ("R2/PT30M", "'R2/PT30M'"), ("R/PT1H", "'R/PT1H'"), ("R/P1H", "'R/PT1H'"),
    ("R3/2026-01-01T10:00:00/PT1H", "'R3/2026-01-01T10:00:00+00:00/PT1H'"),
    ("0 0/15 * * * ?", "'R/PT15M'"),
])
def test_timer_cycles_translate(value: str, expected: str) -> None:
    body = (f'<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeCycle>{value}'
            '</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>'
            + flow("f0", "start", "end") + '<bpmn:endEvent id="end"/>')
    _, draft = one(doc(body))
    assert _expression(draft, "start") == expected


def test_timer_expression_variable() -> None:
    _, draft = one(_timer_process("timeDuration", "${wait_for}"))
    assert _expression(draft, "wait") == "wait_for"


@pytest.mark.parametrize("definition", [
    "<bpmn:timerEventDefinition/>",
    "<bpmn:timerEventDefinition><bpmn:timeDate/></bpmn:timerEventDefinition>",
    "<bpmn:timerEventDefinition><bpmn:timeDuration>  </bpmn:timeDuration>"
    "</bpmn:timerEventDefinition>",
])
def test_empty_timer_is_rejected(definition: str) -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "wait")
            + f'<bpmn:intermediateCatchEvent id="wait">{definition}</bpmn:intermediateCatchEvent>'
            + flow("f1", "wait", "end") + '<bpmn:endEvent id="end"/>')
    [problem] = rejected(doc(body)).problems
    assert problem.element_id == "wait" and problem.line and "no time" in problem.message


def test_invalid_iso_value_is_rejected() -> None:
    [problem] = rejected(_timer_process("timeCycle", "R2/PT30X")).problems
    assert problem.element_id == "wait"


# -- service tasks ----------------------------------------------------------------------

def _service(task: str) -> bytes:
    return doc('<bpmn:startEvent id="start"/>' + flow("f0", "start", "svc") + task
               + flow("f1", "svc", "end") + '<bpmn:endEvent id="end"/>')


def test_camunda_external_task_becomes_operator_with_parameters() -> None:
    task = ('<bpmn:serviceTask id="svc" name="Mail" camunda:type="external" camunda:topic="notify">'
            '<bpmn:extensionElements><camunda:inputOutput>'
            '<camunda:inputParameter name="subject">Outage in ${region}</camunda:inputParameter>'
            '<camunda:inputParameter name="to">${recipient}</camunda:inputParameter>'
            '<camunda:inputParameter name="text">Please call</camunda:inputParameter>'
            '</camunda:inputOutput></bpmn:extensionElements></bpmn:serviceTask>')
    _, draft = one(_service(task))
    assert draft.tasks["svc"].service == "notify"
    engine = Engine()
    wf = start(draft, engine, {"recipient": "ops@example.com", "region": "EU"})
    assert wf.is_completed()
    assert engine.calls == [("notify", {"subject": "Outage in EU", "to": "ops@example.com",
                                        "text": "Please call"})]


@pytest.mark.parametrize("attrs,service", [
    ('camunda:class="com.acme.SendMailDelegate"', "com.acme.SendMailDelegate"),
    ('camunda:delegateExpression="${mailer}"', "${mailer}"),
    ('camunda:expression="${mail.send(x)}"', "${mail.send(x)}"),
])
def test_camunda_delegates_name_the_service(attrs: str, service: str) -> None:
    _, draft = one(_service(f'<bpmn:serviceTask id="svc" {attrs}/>'))
    assert draft.tasks["svc"].service == service
    engine = Engine()
    assert start(draft, engine).is_completed()
    assert engine.calls == [(service, {})]


def test_zeebe_task_definition_and_io_mapping() -> None:
    task = ('<bpmn:serviceTask id="svc"><bpmn:extensionElements>'
            '<zeebe:taskDefinition type="notify"/><zeebe:ioMapping>'
            '<zeebe:input source="=&quot;Your request&quot;" target="subject"/>'
            '<zeebe:input source="=requester" target="to"/>'
            '</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>')
    dep, draft = one(_service(task))
    assert dep.files[0].dialect == "camunda8" and draft.tasks["svc"].service == "notify"
    engine = Engine()
    assert start(draft, engine, {"requester": "ann"}).is_completed()
    assert engine.calls == [("notify", {"subject": "Your request", "to": "ann"})]


def test_spiff_operator_is_kept() -> None:
    task = ('<bpmn:serviceTask id="svc"><bpmn:extensionElements>'
            '<spiffworkflow:serviceTaskOperator id="log"><spiffworkflow:parameters>'
            '<spiffworkflow:parameter id="message" type="str" value="\'hi\'"/>'
            '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
            '</bpmn:extensionElements></bpmn:serviceTask>')
    dep, draft = one(_service(task))
    assert dep.files[0].dialect == "spiffarena" and draft.tasks["svc"].service == "log"
    engine = Engine()
    assert start(draft, engine).is_completed()
    assert engine.calls == [("log", {"message": "hi"})]


def test_camunda_send_task_runs_as_service() -> None:
    _, draft = one(_service('<bpmn:sendTask id="svc" camunda:type="external" camunda:topic="notify"/>'))
    engine = Engine()
    assert start(draft, engine).is_completed() and engine.calls[0][0] == "notify"


# -- scripts ----------------------------------------------------------------------------

def test_javascript_is_rejected_with_line() -> None:
    task = ('<bpmn:scriptTask id="svc" scriptFormat="javascript">'
            '<bpmn:script>x = 1;</bpmn:script></bpmn:scriptTask>')
    [problem] = rejected(_service(task)).problems
    assert problem.element_id == "svc" and problem.line == 4
    assert "javascript" in problem.message


def test_zeebe_feel_script_becomes_python() -> None:
    task = ('<bpmn:scriptTask id="svc"><bpmn:extensionElements>'
            '<zeebe:script expression="=amount > 100" resultVariable="big"/>'
            '</bpmn:extensionElements></bpmn:scriptTask>')
    _, draft = one(_service(task))
    wf = start(draft, data={"amount": 150})
    assert wf.is_completed() and wf.data["big"] is True


def test_python_script_runs() -> None:
    task = ('<bpmn:scriptTask id="svc" scriptFormat="python">'
            '<bpmn:script>total = price * quantity</bpmn:script></bpmn:scriptTask>')
    _, draft = one(_service(task))
    wf = start(draft, data={"price": 3, "quantity": 4})
    assert wf.data["total"] == 12


# -- business rules and multi-instance ---------------------------------------------------

DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="other" name="Other"><decisionTable id="t0">
    <input id="i0" label="a">
      <inputExpression id="e0" typeRef="string"><text>a</text></inputExpression></input>
    <output id="o0" name="b" typeRef="string"/>
    <rule id="r0"><inputEntry id="ie0"><text></text></inputEntry>
      <outputEntry id="oe0"><text>"x"</text></outputEntry></rule>
  </decisionTable></decision>
  <decision id="severity" name="Severity"><decisionTable id="t1">
    <input id="i1" label="minutes">
      <inputExpression id="e1" typeRef="integer"><text>minutes</text></inputExpression></input>
    <output id="o1" name="level" typeRef="string"/>
    <rule id="r1"><inputEntry id="ie1"><text>&gt; 60</text></inputEntry>
      <outputEntry id="oe1"><text>"high"</text></outputEntry></rule>
    <rule id="r2"><inputEntry id="ie2"><text>&lt;= 60</text></inputEntry>
      <outputEntry id="oe2"><text>"low"</text></outputEntry></rule>
  </decisionTable></decision>
</definitions>"""


@pytest.mark.parametrize("task", [
    '<bpmn:businessRuleTask id="svc" camunda:decisionRef="severity"/>',
    '<bpmn:businessRuleTask id="svc"><bpmn:extensionElements><zeebe:calledDecision '
    'decisionId="severity" resultVariable="r"/></bpmn:extensionElements></bpmn:businessRuleTask>',
])
def test_business_rule_task_uses_second_decision_of_dmn(task: str) -> None:
    _, draft = one([("model.bpmn", _service(task)), ("rules.dmn", DMN)])
    wf = start(draft, data={"minutes": 90})
    assert wf.is_completed() and wf.data["level"] == "high"


def test_business_rule_task_problems() -> None:
    err = rejected([("model.bpmn", _service('<bpmn:businessRuleTask id="svc"/>'))])
    assert err.problems[0].element_id == "svc" and "no decision" in err.problems[0].message
    err = rejected(_service('<bpmn:businessRuleTask id="svc" camunda:decisionRef="nope"/>'))
    assert "'nope'" in err.problems[0].message


@pytest.mark.parametrize("mi", [
    '<bpmn:multiInstanceLoopCharacteristics camunda:collection="${items}" '
    'camunda:elementVariable="item"/>',
    '<bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:extensionElements>'
    '<zeebe:loopCharacteristics inputCollection="=items" inputElement="item"/>'
    '</bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>',
])
def test_multi_instance_collections(mi: str) -> None:
    task = f'<bpmn:userTask id="svc">{mi}</bpmn:userTask>'
    _, draft = one(_service(task))
    wf = start(draft, data={"items": ["a", "b", "c"]})
    seen = []
    for _ in range(3):
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        seen.append(ready[0].data["item"])
        ready[0].run()
        wf.do_engine_steps()
    assert wf.is_completed() and sorted(seen) == ["a", "b", "c"]


# -- metadata: roles, forms, properties ---------------------------------------------------

LANES = ('<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Crisis Team">'
         '<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>a</bpmn:flowNodeRef>'
         '<bpmn:flowNodeRef>b</bpmn:flowNodeRef><bpmn:flowNodeRef>c</bpmn:flowNodeRef>'
         '<bpmn:flowNodeRef>d</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>'
         '</bpmn:lane></bpmn:laneSet>')


def test_roles_from_groups_assignees_and_lanes() -> None:
    body = (LANES + '<bpmn:startEvent id="start"/>'
            '<bpmn:userTask id="a" camunda:candidateGroups="it_supervisor, management"/>'
            '<bpmn:userTask id="b"><bpmn:extensionElements><zeebe:assignmentDefinition '
            'candidateGroups="finance"/></bpmn:extensionElements></bpmn:userTask>'
            '<bpmn:userTask id="c" camunda:assignee="alice"/>'
            '<bpmn:userTask id="d"/><bpmn:endEvent id="end"/>'
            + flow("f0", "start", "a") + flow("f1", "a", "b") + flow("f2", "b", "c")
            + flow("f3", "c", "d") + flow("f4", "d", "end"))
    _, draft = one(doc(body))
    roles = {k: t.role for k, t in draft.tasks.items()}
    assert roles["a"] == "it_supervisor" and roles["b"] == "finance"
    assert roles["c"] == "alice" and roles["d"] == "crisis_team"
    assert draft.tasks["d"].lane == "Crisis Team" and draft.tasks["a"].kind == "userTask"


def test_form_fields_and_properties() -> None:
    task = ('<bpmn:userTask id="svc" name="Assess">'
            '<bpmn:documentation>Assess the impact.\ntarget: PT30M\nRTO: PT4H</bpmn:documentation>'
            '<bpmn:extensionElements><camunda:formData>'
            '<camunda:formField id="severity" label="Severity" type="enum" defaultValue="low">'
            '<camunda:validation><camunda:constraint name="required"/></camunda:validation>'
            '<camunda:value id="low" name="Low"/><camunda:value id="high" name="High"/>'
            '</camunda:formField>'
            '<camunda:formField id="minutes" label="Minutes" type="long"/>'
            '</camunda:formData><camunda:properties>'
            '<camunda:property name="priority" value="1"/>'
            '<camunda:property name="duration" value="PT1H"/>'
            '</camunda:properties></bpmn:extensionElements></bpmn:userTask>')
    extra = ('<bpmn:extensionElements><camunda:properties><camunda:property name="incident_type" '
             'value="outage"/></camunda:properties></bpmn:extensionElements>')
    marker = b'isExecutable="true">'
    _, draft = one(_service(task).replace(marker, marker + extra.encode()))
    info = draft.tasks["svc"]
    sev, minutes = info.form
    assert (sev.id, sev.type, sev.required, sev.default) == ("severity", "enum", True, "low")
    assert sev.options == (("low", "Low"), ("high", "High"))
    assert (minutes.type, minutes.required) == ("long", False)
    assert info.properties == {"priority": "1", "duration": "PT1H", "target": "PT30M",
                               "rto": "PT4H"}
    assert info.documentation.startswith("Assess") and info.line
    assert draft.properties == {"incident_type": "outage"}


def test_documentation_lines_are_read_in_linear_time() -> None:
    """``name: value`` lines with blanks around; a megabyte of blanks on one line (once a
    quadratic regex: hours) and thousands of empty lines import at once."""
    doc = ("Restore payments.\n  Target = PT30M  \nrto:PT2H\n" + "\n" * 100_000
           + "duration: x" + " " * 1_000_000 + "y\n")
    task = f'<bpmn:userTask id="svc" name="Restore"><bpmn:documentation>{doc}</bpmn:documentation></bpmn:userTask>'
    _, draft = one(_service(task))
    assert draft.tasks["svc"].properties == {"target": "PT30M", "rto": "PT2H", "duration": "x" + " " * 1_000_000 + "y"}


def test_signavio_and_zeebe_properties() -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "a")
            + '<bpmn:task id="a"><bpmn:extensionElements>'
            '<signavio:signavioMetaData metaKey="bgcolor" metaValue="#fff"/>'
            '<signavio:signavioMetaData metaKey="rto" metaValue="PT2H"/>'
            '<zeebe:properties><zeebe:property name="target" value="PT5M"/></zeebe:properties>'
            '</bpmn:extensionElements></bpmn:task>' + flow("f1", "a", "end")
            + '<bpmn:endEvent id="end"/>')
    _, draft = one(doc(body))
    assert draft.tasks["a"].properties == {"rto": "PT2H", "target": "PT5M"}


# -- model-only -------------------------------------------------------------------------

def test_not_executable_and_descriptive_are_model_only() -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "a")
            + '<bpmn:userTask id="a" name="A"/>' + flow("f1", "a", "gw")
            + '<bpmn:exclusiveGateway id="gw"/><bpmn:endEvent id="x"/><bpmn:endEvent id="y"/>'
            + flow("f2", "gw", "x") + flow("f3", "gw", "y"))     # would not run
    dep, draft = one(doc(body, attrs='isExecutable="false"'))
    assert not draft.executable and draft.spec is None and draft.tasks["a"].name == "A"
    dep, draft = one(doc(body, exporter="Signavio Process Editor, http://www.signavio.com"))
    assert dep.files[0].dialect == "descriptive" and not draft.executable
    dep, draft = one(doc(body, attrs=""))        # never claimed to be executable
    assert not draft.executable and any("model-only" in w for w in dep.warnings)


def test_empty_pool_without_is_executable_is_skipped() -> None:
    extra = '<bpmn:process id="main"/>'
    body = '<bpmn:startEvent id="start"/>' + flow("f0", "start", "end") + '<bpmn:endEvent id="end"/>'
    dep = parse_deployment([("m.bpmn", doc(body, extra=extra))])
    flags = {p.key: p.executable for p in dep.processes}
    assert flags == {"p": True, "main": False}


# -- structural problems, all listed -------------------------------------------------------

def test_all_structural_problems_are_listed() -> None:
    body = ('<bpmn:userTask id="a"/><bpmn:userTask id="a"/>' + flow("f1", "a", "ghost")
            + '<bpmn:callActivity id="call" calledElement="elsewhere"/>'
            + '<bpmn:scriptTask id="s" scriptFormat="groovy"><bpmn:script>x</bpmn:script>'
            '</bpmn:scriptTask>')
    err = rejected(doc(body))
    messages = " | ".join(str(p) for p in err.problems)
    for needle in ("duplicate id 'a' (lines 4, 4)", "no start event", "'ghost'", "'elsewhere'",
                   "groovy"):
        assert needle in messages
    assert all(p.file == "model.bpmn" and p.line for p in err.problems)


def test_call_activity_to_known_or_deployed_process() -> None:
    caller = doc('<bpmn:startEvent id="start"/>' + flow("f0", "start", "call")
                 + '<bpmn:callActivity id="call" calledElement="sub"/>' + flow("f1", "call", "end")
                 + '<bpmn:endEvent id="end"/>', pid="main")
    callee = doc('<bpmn:startEvent id="s"/>' + flow("g0", "s", "e") + '<bpmn:endEvent id="e"/>',
                 pid="sub")
    dep = parse_deployment([("main.bpmn", caller), ("sub.bpmn", callee)])
    main = next(p for p in dep.processes if p.key == "main")
    assert "sub" in main.spec["subprocess_specs"]
    assert start(main).is_completed()
    dep = parse_deployment([("main.bpmn", caller)], known_process_ids={"sub"})
    assert dep.processes[0].spec["subprocess_specs"] == {}


def test_non_xml_and_wrong_root() -> None:
    err = rejected([("a.bpmn", b"<definitions><unclosed></definitions>"),
                    ("b.bpmn", b"<html/>")])
    assert [p.file for p in err.problems] == ["a.bpmn", "b.bpmn"]
    assert err.problems[0].line == 1 and "well-formed" in err.problems[0].message


def test_source_files_have_sha_and_dialect() -> None:
    data = doc('<bpmn:startEvent id="s"/>' + flow("g0", "s", "e") + '<bpmn:endEvent id="e"/>')
    dep = parse_deployment([("m.bpmn", data), ("rules.dmn", DMN)])
    assert [(f.name, f.sha256, f.kind, f.dialect) for f in dep.files] == [
        ("m.bpmn", hashlib.sha256(data).hexdigest(), "bpmn", "bpmn.io"),
        ("rules.dmn", hashlib.sha256(DMN).hexdigest(), "dmn", "dmn")]


# -- SpiffWorkflow bugs worked around ------------------------------------------------------

def test_nameless_message_and_data_store_import() -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "recv")
            + '<bpmn:intermediateCatchEvent id="recv"><bpmn:messageEventDefinition '
            'messageRef="m1"/></bpmn:intermediateCatchEvent>' + flow("f1", "recv", "a")
            + '<bpmn:task id="a"><bpmn:dataOutputAssociation id="da"><bpmn:targetRef>dsr'
            '</bpmn:targetRef></bpmn:dataOutputAssociation></bpmn:task>'
            + '<bpmn:dataStoreReference id="dsr" dataStoreRef="ds"/>'
            + flow("f2", "a", "end") + '<bpmn:endEvent id="end"/>')
    dep, draft = one(doc(body, extra='<bpmn:message id="m1"/><bpmn:dataStore id="ds" name="DB"/>'))
    assert draft.executable and draft.spec
    assert any("data store" in w for w in dep.warnings)


def test_compensation_is_a_clear_problem() -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "a") + '<bpmn:task id="a"/>'
            + '<bpmn:boundaryEvent id="comp" attachedToRef="a"><bpmn:compensateEventDefinition/>'
            '</bpmn:boundaryEvent>' + flow("f1", "a", "end") + '<bpmn:endEvent id="end"/>')
    [problem] = rejected(doc(body)).problems
    assert problem.element_id == "comp" and "compensation" in problem.message


def test_link_events_connect() -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "throw")
            + '<bpmn:intermediateThrowEvent id="throw"><bpmn:linkEventDefinition name="L"/>'
            '</bpmn:intermediateThrowEvent><bpmn:intermediateCatchEvent id="catch">'
            '<bpmn:linkEventDefinition name="L"/></bpmn:intermediateCatchEvent>'
            + flow("f1", "catch", "end") + '<bpmn:endEvent id="end"/>')
    _, draft = one(doc(body))
    assert start(draft).is_completed()


# -- size: the parser recurses per sequence flow --------------------------------------------

@pytest.mark.slow
def test_long_chain_and_wide_split_import() -> None:
    n = 3000
    tasks = "".join(f'<bpmn:task id="t{i}"/>' + flow(f"f{i}", f"t{i}", f"t{i + 1}")
                    for i in range(n))
    body = ('<bpmn:startEvent id="start"/>' + flow("fs", "start", "t0") + tasks
            + f'<bpmn:task id="t{n}"/>' + flow("fe", f"t{n}", "end") + '<bpmn:endEvent id="end"/>')
    _, draft = one(doc(body))
    assert draft.executable and len(draft.spec["spec"]["task_specs"]) > n
    width = 500
    branches = "".join(f'<bpmn:task id="b{i}"/>' + flow(f"o{i}", "split", f"b{i}")
                       + flow(f"i{i}", f"b{i}", "join") for i in range(width))
    body = ('<bpmn:startEvent id="start"/>' + flow("fs", "start", "split")
            + '<bpmn:parallelGateway id="split"/>' + branches
            + '<bpmn:parallelGateway id="join"/>' + flow("fe", "join", "end")
            + '<bpmn:endEvent id="end"/>')
    _, draft = one(doc(body))
    assert draft.executable


def test_model_too_large_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.importer import build
    monkeypatch.setattr(build, "MAX_FLOW_NODES", 5)
    body = "".join(f'<bpmn:task id="t{i}"/>' for i in range(6))
    body = '<bpmn:startEvent id="start"/>' + body + flow("f", "start", "t0")
    [problem] = rejected(doc(body)).problems
    assert "model too large" in problem.message


def test_interrupting_event_subprocess_cancels_the_body() -> None:
    body = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "work")
            + '<bpmn:userTask id="work"/>' + flow("f1", "work", "end") + '<bpmn:endEvent id="end"/>'
            + '<bpmn:subProcess id="watchdog" triggeredByEvent="true">'
            '<bpmn:startEvent id="watch"><bpmn:timerEventDefinition><bpmn:timeDuration>PT0S'
            '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>'
            '<bpmn:userTask id="escalate"/><bpmn:endEvent id="watch_end"/>'
            + flow("w1", "watch", "escalate") + flow("w2", "escalate", "watch_end")
            + '</bpmn:subProcess>')
    _, draft = one(doc(body))
    wf = start(draft)
    wf.refresh_timers()
    wf.do_engine_steps()
    ready = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True)}
    assert ready == {"escalate"}
    complete(wf, "escalate")
    assert wf.is_completed() and "work" not in done_ids(wf)
