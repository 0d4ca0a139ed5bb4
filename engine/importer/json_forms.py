"""SpiffArena's task forms: a JSON Schema file (plus an optional UI schema) per user task.

SpiffArena keeps a task's form beside the BPMN file, named by the task's
``spiffworkflow:properties`` entry ``formJsonSchemaFilename`` (and ``formUiSchemaFilename``).
When those files come with the deployment, their flat properties become the task's form fields,
with the same types, choices, required flags and defaults as Camunda form fields, so the task
page, the API and the engine's submission check treat both alike.  What a flat form cannot show
(nested objects, arrays) is left out with a warning naming the field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from engine import safe_json
from engine.importer.metadata import form_constraints
from engine.importer.model import FormField, ProcessDraft, SourceFile
from engine.importer.problems import Report

SCHEMA_PROPERTY, UI_PROPERTY = "formJsonSchemaFilename", "formUiSchemaFilename"


class FormFileError(ValueError):
    """A form file that is not a JSON object; the message names the line."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


def read_json_object(data: bytes) -> dict[str, Any]:
    try:
        value = safe_json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise FormFileError("not UTF-8 text") from None
    except safe_json.TooDeep as exc:
        raise FormFileError(f"not a form schema: {exc}") from None
    except json.JSONDecodeError as exc:
        raise FormFileError(f"not JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    if not isinstance(value, dict):
        raise FormFileError("a form schema must be a JSON object")
    return value


@dataclass
class SchemaForm:
    fields: list[FormField]
    warnings: list[str] = field(default_factory=list)


#: JSON Schema keyword -> the constraint names Camunda uses (engine.forms checks them)
_CONSTRAINTS = {"minimum": "min", "maximum": "max", "formatMinimum": "min", "formatMaximum": "max",
                "minLength": "minlength", "maxLength": "maxlength", "readOnly": "readonly"}
#: the largest integer JavaScript (the task page) holds exactly
SAFE_INTEGER = 2**53 - 1
_TYPES = {"string": "string", "integer": "long", "number": "number", "boolean": "boolean"}


def _choices(spec: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """enum (+ enumNames) or oneOf/anyOf of ``{const, title}`` as (value, label) pairs."""
    if isinstance(spec.get("enum"), list):
        given = spec.get("enumNames")
        names: list[Any] = given if isinstance(given, list) else []
        return tuple((str(v), str(names[i]) if i < len(names) else str(v)) for i, v in enumerate(spec["enum"]))
    for key in ("oneOf", "anyOf"):
        options = spec.get(key)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            return tuple((str(o["const"]), str(o.get("title") or o["const"])) for o in options)
    return ()


def _field(name: str, spec: dict[str, Any], required: bool) -> FormField | str:
    """The form field, or why it cannot be one."""
    kind = spec.get("type")
    if isinstance(kind, list):                      # ["string", "null"]: optional string
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    choices = _choices(spec)
    if choices:
        ftype = "enum"
    elif kind == "string" and spec.get("format") == "date":
        ftype = "date"
    elif kind in _TYPES:
        ftype = _TYPES[kind]
    else:
        return f"field '{name}' (type {kind or 'unknown'}) cannot be shown as a flat form field"
    default = spec.get("default")
    if not isinstance(default, (str, int, float, bool)) or (
            isinstance(default, int) and not -SAFE_INTEGER <= default <= SAFE_INTEGER):
        default = None                    # no scalar a browser (and the JSON encoder) can hold
    named = [(ours, spec[theirs]) for theirs, ours in _CONSTRAINTS.items() if theirs in spec]
    return FormField(id=name, label=str(spec.get("title") or name), type=ftype, required=required,
                     options=choices, default=default,
                     constraints=form_constraints([(n, "" if v is True else v) for n, v in named
                                                   if v is not False]))


def schema_form(schema: dict[str, Any], ui: dict[str, Any] | None = None) -> SchemaForm:
    """Form fields from a JSON Schema's top-level properties, in the UI schema's ``ui:order``
    when it gives one (``*`` stands for the rest), else in the schema's order."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return SchemaForm([], ["the form schema has no 'properties' object"])
    required = set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
    names = list(properties)
    order = (ui or {}).get("ui:order")
    if isinstance(order, list):
        listed = [n for n in order if n in properties]
        rest = [n for n in names if n not in listed]
        at = order.index("*") if "*" in order else len(listed)
        names = listed[:at] + rest + listed[at:]
    form = SchemaForm([])
    for name in names:
        spec = properties[name]
        hidden = isinstance((ui or {}).get(name), dict) and (ui or {})[name].get("ui:widget") == "hidden"
        if not isinstance(spec, dict) or hidden:
            continue
        made = _field(name, spec, name in required)
        if isinstance(made, str):
            form.warnings.append(made)
        else:
            form.fields.append(made)
    return form


@dataclass
class FormFile:
    """A JSON file of the deployment.  It is read when a task names it (a stray JSON file in a
    model's folder never fails the import) and stored only then."""
    source: SourceFile
    report: Report
    _value: dict[str, Any] | None = None

    def value(self) -> dict[str, Any] | None:
        """The parsed object, or None after reporting why it is not one (file and line)."""
        if self._value is None:
            try:
                self._value = read_json_object(self.source.content)
            except FormFileError as exc:
                self.report.problem(exc.message, line=exc.line)
        return self._value


def load_form_file(name: str, data: Any, max_bytes: int, report: Report) -> FormFile | None:
    """The JSON file as a FormFile (not read yet), or None with the reason in ``report``."""
    if not isinstance(data, (bytes, bytearray)):
        report.problem("file content must be bytes")
        return None
    if len(data) > max_bytes:
        report.problem(f"file is {len(data):,} bytes; the limit is {max_bytes:,}")
        return None
    content = bytes(data)
    return FormFile(SourceFile(name, content, hashlib.sha256(content).hexdigest(), "json-schema", "form"), report)


def attach_forms(drafts: list[ProcessDraft], reports: dict[str, Report], files: list[FormFile]) -> None:
    """Give each task that names a form schema its fields (unless it has Camunda form fields),
    note which files were used (``draft.form_files``) and warn about the rest; JSON files no
    task names are warned about on their own report and not stored."""
    by_name = {PurePosixPath(f.source.name).name: f for f in files}
    used: set[str] = set()
    for draft in drafts:
        report = reports[draft.key]
        for task in draft.tasks.values():
            schema_name = task.properties.get(SCHEMA_PROPERTY)
            if not schema_name:
                continue
            schema = by_name.get(PurePosixPath(schema_name).name)
            if schema is None:
                report.warn_task(draft.key, task.bpmn_id, task.line,
                                 f"form schema '{schema_name}' is not in this deployment: the task "
                                 "shows no form fields (import it with the BPMN file)")
                continue
            ui_name = task.properties.get(UI_PROPERTY)
            ui = by_name.get(PurePosixPath(ui_name).name) if ui_name else None
            for f in (schema, ui):
                if f is not None and f.source not in draft.form_files:     # tasks may share a form
                    draft.form_files.append(f.source)
                    used.add(f.source.name)
            schema_value, ui_value = schema.value(), ui.value() if ui else None
            if task.form or schema_value is None:
                continue                          # Camunda form fields drawn on the task win
            made = schema_form(schema_value, ui_value)
            task.form = made.fields
            for warning in made.warnings:
                report.warn_task(draft.key, task.bpmn_id, task.line, f"form '{schema_name}': {warning}")
    for f in files:
        if f.source.name not in used:
            f.report.warn("no task names this file as its form (formJsonSchemaFilename or "
                          "formUiSchemaFilename); it is not stored")
