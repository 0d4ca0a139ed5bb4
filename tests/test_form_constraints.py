"""Form validation beyond required: Camunda's min/max/minlength/maxlength/readonly constraints
(and JSON Schema's minimum/maximum/minLength/maxLength/readOnly) are read at import, checked by
the engine on completion with the field named, and drawn on the task page."""

from __future__ import annotations

import pytest

from engine.api import Engine
from engine.errors import InvalidInput
from engine.importer.json_forms import schema_form

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"')
FIELDS = """
<camunda:formField id="people" label="People affected" type="long" defaultValue="1">
  <camunda:validation><camunda:constraint name="min" config="0"/><camunda:constraint name="max" config="10000"/>
  </camunda:validation></camunda:formField>
<camunda:formField id="summary" label="Summary" type="string">
  <camunda:validation><camunda:constraint name="required"/><camunda:constraint name="minlength" config="5"/>
  <camunda:constraint name="maxlength" config="40"/></camunda:validation></camunda:formField>
<camunda:formField id="since" label="Since" type="date">
  <camunda:validation><camunda:constraint name="min" config="2020-01-01"/></camunda:validation></camunda:formField>
<camunda:formField id="ticket" label="Ticket" type="string" defaultValue="INC-1">
  <camunda:validation><camunda:constraint name="readonly"/></camunda:validation></camunda:formField>
"""
MODEL = (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="d" targetNamespace="x" '
         'exporter="Camunda Modeler"><bpmn:process id="assess" isExecutable="true">'
         '<bpmn:startEvent id="start"/><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="t"/>'
         '<bpmn:userTask id="t" name="Assess" camunda:candidateGroups="it_team"><bpmn:extensionElements>'
         f'<camunda:formData>{FIELDS}</camunda:formData></bpmn:extensionElements></bpmn:userTask>'
         '<bpmn:sequenceFlow id="f1" sourceRef="t" targetRef="end"/><bpmn:endEvent id="end"/>'
         '</bpmn:process></bpmn:definitions>').encode()


def _task(engine: Engine) -> tuple[str, str]:
    engine.import_files([("assess.bpmn", MODEL)])
    instance = engine.start("assess", {"ticket": "INC-7"})
    [task] = engine.tasks(instance_id=instance)
    return instance, task.task_id


def test_constraints_are_read_from_the_model(engine: Engine) -> None:
    _, task_id = _task(engine)
    form = {f["id"]: f.get("constraints") for f in engine.task(task_id).form}
    assert form == {"people": {"max": 10000, "min": 0}, "summary": {"maxlength": 40, "minlength": 5},
                    "since": {"min": "2020-01-01"}, "ticket": {"readonly": True}}


@pytest.mark.parametrize(("data", "message"), [
    ({"summary": "Payments down", "people": -1}, "field 'people': must be at least 0"),
    ({"summary": "Payments down", "people": 10001}, "field 'people': must be at most 10000"),
    ({"summary": "Down"}, "field 'summary': must be at least 5 characters long"),
    ({"summary": "x" * 41}, "field 'summary': must be at most 40 characters long"),
    ({"summary": "Payments down", "since": "2019-12-31"}, "field 'since': must be at least 2020-01-01"),
])
def test_a_value_outside_its_constraints_is_refused_by_field(engine: Engine, data: dict[str, object],
                                                             message: str) -> None:
    _, task_id = _task(engine)
    with pytest.raises(InvalidInput, match=message):
        engine.complete(task_id, data)


def test_within_constraints_completes_and_a_read_only_field_keeps_its_value(engine: Engine) -> None:
    instance, task_id = _task(engine)
    engine.complete(task_id, {"summary": "Payments down", "people": "10000", "since": "2020-01-01",
                              "ticket": "HACKED"})
    view = engine.show(instance)
    assert view.status == "completed" and view.data is not None
    assert view.data["ticket"] == "INC-7" and view.data["people"] == 10000


def test_json_schema_keywords_map_to_the_same_constraints() -> None:
    form = schema_form({"properties": {
        "n": {"type": "integer", "minimum": 1, "maximum": 5},
        "s": {"type": "string", "minLength": 2, "maxLength": 9, "readOnly": True},
        "d": {"type": "string", "format": "date", "formatMinimum": "2026-01-01"},
        "w": {"type": "string", "readOnly": False},
    }})
    assert {f.id: dict(f.constraints) for f in form.fields} == {
        "n": {"min": 1, "max": 5}, "s": {"minlength": 2, "maxlength": 9, "readonly": True},
        "d": {"min": "2026-01-01"}, "w": {}}
