"""HTML forms generated from a task's form fields (types string/long/number/boolean/date/enum,
required, min/max, minlength/maxlength, read-only), and the submission turned back into the
data the engine validates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from engine import forms as engine_forms

INPUT_TYPES = {"string": "text", "long": "number", "number": "number", "date": "date"}


@dataclass
class FieldView:
    id: str
    label: str
    type: str
    required: bool
    options: list[dict[str, str]] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    constraints: dict[str, Any] = field(default_factory=dict)

    @property
    def input_type(self) -> str:
        return INPUT_TYPES.get(self.type, "text")

    @property
    def step(self) -> str | None:
        return {"long": "1", "number": "any"}.get(self.type)

    @property
    def html_id(self) -> str:
        return "f-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in self.id)

    @property
    def checked(self) -> bool:
        return str(self.value).lower() in ("true", "on", "1", "yes")


def field_views(form: list[dict[str, Any]], submitted: MultiDict[str, str] | None = None,
                errors: dict[str, str] | None = None) -> list[FieldView]:
    """One FieldView per form field, holding the submitted value (or the model's default)."""
    views = []
    for spec in form:
        name = str(spec["id"])
        kind = str(spec.get("type") or "string")
        value: Any = spec.get("default")
        if submitted is not None:
            value = ("true" if submitted.get(name) else "false") if kind == "boolean" else submitted.get(name, "")
        views.append(FieldView(name, str(spec.get("label") or name), kind, bool(spec.get("required")),
                               [{"value": str(o.get("value")), "label": str(o.get("label") or o.get("value"))}
                                for o in spec.get("options") or []],
                               "" if value is None else value, (errors or {}).get(name),
                               dict(spec.get("constraints") or {})))
    return views


def submission(form: list[dict[str, Any]], submitted: MultiDict[str, str]) -> dict[str, Any]:
    """Form fields only; an unchecked checkbox is false; an empty input is left out (a
    required one is then reported missing by the engine, with its name); read-only fields are
    not submitted."""
    data: dict[str, Any] = {}
    for spec in form:
        name, kind = str(spec["id"]), str(spec.get("type") or "string")
        if engine_forms.read_only(spec):
            continue
        if kind == "boolean":
            data[name] = submitted.get(name, "").lower() in ("true", "on", "1", "yes")
            continue
        raw = submitted.get(name, "")
        if raw.strip() != "":
            data[name] = raw.strip() if kind != "string" else raw
    return data


def start_form(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The start event's form fields (Camunda ``formData`` on the start event), from a
    definition's task metadata -- the same fields whose defaults seed a new instance."""
    fields: list[dict[str, Any]] = []
    for meta in metadata.values():
        if isinstance(meta, dict) and meta.get("kind") == "startEvent":
            fields.extend(f for f in meta.get("form") or [] if f.get("id") not in {g["id"] for g in fields})
    return fields


def check(form: list[dict[str, Any]], data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(typed data, errors per field): every field is checked -- type, enum value, constraints,
    required -- by the engine's own rules, so all mistakes are reported at once, not the first."""
    cleaned, wrong, missing = engine_forms.check_fields(form, data)
    errors = {}
    for spec in form:                          # in the form's order
        name = spec["id"]
        if name in wrong:
            errors[name] = wrong[name].split(": ", 1)[-1]
        elif name in missing:
            errors[name] = "this field is required"
    return cleaned, errors
