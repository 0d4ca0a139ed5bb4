"""SpiffArena JSON-schema forms: the schema files that come with a deployment become the task's
form fields, checked on completion like Camunda form fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.api import Engine
from engine.errors import ImportRejected, InvalidInput
from engine.importer import parse_deployment
from engine.importer.json_forms import schema_form

MODELERS = Path(__file__).resolve().parent / "fixtures" / "modelers"
REVIEW = MODELERS / "spiffarena_review.bpmn"
SCHEMA, UI = MODELERS / "review-schema.json", MODELERS / "review-uischema.json"


def _files(*paths: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in paths]


def test_schema_properties_become_typed_fields_in_ui_order() -> None:
    schema = {"type": "object", "required": ["severity", "when"], "properties": {
        "note": {"type": "string", "title": "Note", "default": "none"},
        "severity": {"type": "string", "title": "Severity", "enum": ["low", "high"], "enumNames": ["Low", "High"]},
        "when": {"type": "string", "format": "date"},
        "count": {"type": "integer", "default": 10**30},
        "ratio": {"type": ["number", "null"]},
        "ok": {"type": "boolean", "default": False},
        "team": {"type": "string", "oneOf": [{"const": "a", "title": "Team A"}, {"const": "b"}]},
        "secret": {"type": "string"},
        "items": {"type": "array", "items": {"type": "string"}},
    }}
    ui = {"ui:order": ["severity", "*", "note"], "secret": {"ui:widget": "hidden"}}
    form = schema_form(schema, ui)
    assert [(f.id, f.type, f.required) for f in form.fields] == [
        ("severity", "enum", True), ("when", "date", True), ("count", "long", False), ("ratio", "number", False),
        ("ok", "boolean", False), ("team", "enum", False), ("note", "string", False)]
    by_id = {f.id: f for f in form.fields}
    assert by_id["severity"].options == (("low", "Low"), ("high", "High"))
    assert by_id["team"].options == (("a", "Team A"), ("b", "b"))
    assert by_id["note"].label == "Note" and by_id["note"].default == "none" and by_id["when"].label == "when"
    assert by_id["count"].default is None and by_id["ok"].default is False     # 10**30: no default
    assert form.warnings == ["field 'items' (type array) cannot be shown as a flat form field"]


def test_spiffarena_review_gets_its_form_and_checks_submissions(engine: Engine) -> None:
    imported = engine.import_files(_files(REVIEW, SCHEMA, UI))
    assert [p.key for p in imported] == ["spiffarena_review"] and not any(
        "form" in w for p in imported for w in p.warnings)
    instance = engine.start("spiffarena_review", {"price": 30, "quantity": 5})
    [review] = engine.tasks(instance_id=instance)
    assert [(f["id"], f["type"], f["required"], f["label"]) for f in review.form] == [
        ("confirmed", "boolean", True, "Order details are correct"), ("reviewComment", "string", False, "Comment")]
    with pytest.raises(InvalidInput, match="confirmed"):
        engine.complete(review.task_id, {"reviewComment": "fine"})
    engine.complete(review.task_id, {"confirmed": "yes", "reviewComment": "fine"})
    [approve] = engine.tasks(instance_id=instance)
    assert approve.bpmn_id == "approve"


def test_a_missing_schema_is_a_warning_naming_the_task(engine: Engine) -> None:
    [imported] = engine.import_files(_files(REVIEW))
    assert any("[review]" in w and "review-schema.json" in w and "not in this deployment" in w
               for w in imported.warnings)


def test_a_changed_form_is_a_new_version_the_same_one_is_not(engine: Engine, tmp_path: Path) -> None:
    assert [p.version for p in engine.import_files(_files(REVIEW, SCHEMA, UI))] == [1]
    assert [p.new_version for p in engine.import_files(_files(REVIEW, SCHEMA, UI))] == [False]
    changed = json.loads(SCHEMA.read_text())
    changed["properties"]["reviewComment"]["title"] = "Remarks"
    imported = engine.import_files([*_files(REVIEW, UI), (SCHEMA.name, json.dumps(changed).encode())])
    assert [(p.version, p.new_version) for p in imported] == [(2, True)]
    folder = tmp_path / "review"
    folder.mkdir()
    for path in (REVIEW, SCHEMA, UI):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "package.json").write_text("{ not json at all")                 # other JSON is left alone
    assert [p.version for p in engine.import_paths([folder])] == [3]          # a folder brings its forms


def test_broken_or_stray_json(engine: Engine) -> None:
    with pytest.raises(ImportRejected) as caught:
        engine.import_files([*_files(REVIEW, UI), (SCHEMA.name, b'{\n  "properties": {\n    "a": }\n}')])
    [problem] = caught.value.problems
    assert problem.file == SCHEMA.name and problem.line == 3 and "not JSON" in problem.message
    assert engine.definitions() == []
    with pytest.raises(ImportRejected, match="nested more than 512 levels"):
        engine.import_files([*_files(REVIEW, UI), (SCHEMA.name, b"[" * 200_000 + b"]" * 200_000)])
    [imported] = engine.import_files([*_files(REVIEW, SCHEMA, UI), ("notes.json", b'{"x": 1}'),
                                      ("broken.json", b"{ no")])          # named by no task: not even read
    assert any(w.startswith("notes.json: no task names this file") for w in imported.warnings)
    assert any(w.startswith("broken.json: no task names this file") for w in imported.warnings)
    deployment = parse_deployment([*_files(REVIEW, SCHEMA, UI), ("notes.json", b'{"x": 1}')])
    assert [(f.name, f.kind) for f in deployment.files] == [
        (REVIEW.name, "bpmn"), (SCHEMA.name, "form"), (UI.name, "form")]        # what would be stored


def test_a_deployment_without_a_process_is_refused_by_name(engine: Engine) -> None:
    with pytest.raises(ImportRejected) as caught:
        engine.import_files(_files(SCHEMA, UI))
    assert [p.file for p in caught.value.problems] == [SCHEMA.name, UI.name]
    assert all("no BPMN process in this deployment" in p.message for p in caught.value.problems)
