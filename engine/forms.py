"""Form submissions checked against the model's form fields (the engine's own rule, so the
CLI, the API and the web pages refuse the same bad input with the same field names)."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.errors import InvalidInput

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


def coerce(field: dict[str, Any], value: Any) -> Any:
    """The value in the field's type; InvalidInput names the field when it cannot be."""
    kind, name = field.get("type") or "string", field["id"]
    if value is None:
        return None
    try:
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError
        if kind == "long":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "date":
            return date.fromisoformat(str(value)[:10]).isoformat()
        if kind == "enum":
            allowed = [o["value"] for o in field.get("options") or []]
            if allowed and str(value) not in allowed:
                raise InvalidInput(f"field '{name}': '{value}' is not one of {', '.join(allowed)}")
            return str(value)
    except InvalidInput:
        raise
    except (TypeError, ValueError):
        raise InvalidInput(f"field '{name}': '{value}' is not a valid {kind}") from None
    return value if isinstance(value, (str, int, float, bool, list, dict)) else str(value)


def within_constraints(field: dict[str, Any], value: Any) -> None:
    """InvalidInput naming the field when a typed value breaks one of its constraints (min and
    max for numbers and dates, minlength and maxlength for text)."""
    rules, name = field.get("constraints") or {}, field["id"]
    if value is None or value == "":
        return
    if isinstance(value, str) and field.get("type") in ("string", "enum", None):
        if "minlength" in rules and len(value) < rules["minlength"]:
            raise InvalidInput(f"field '{name}': must be at least {rules['minlength']} characters long")
        if "maxlength" in rules and len(value) > rules["maxlength"]:
            raise InvalidInput(f"field '{name}': must be at most {rules['maxlength']} characters long")
        return
    for bound, fails, words in (("min", lambda v, b: v < b, "at least"), ("max", lambda v, b: v > b, "at most")):
        limit = rules.get(bound)
        if limit is None or isinstance(value, bool):
            continue
        comparable = isinstance(value, (int, float)) == isinstance(limit, (int, float))
        if comparable and fails(value, limit):
            raise InvalidInput(f"field '{name}': must be {words} {limit}")


def read_only(field: dict[str, Any]) -> bool:
    return bool((field.get("constraints") or {}).get("readonly"))


def check_fields(form: list[dict[str, Any]], data: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Every field checked, nothing raised: (typed copy of ``data``, the InvalidInput message per
    field whose value is wrong, the required fields missing).  A read-only field keeps its value
    (what was submitted for it is dropped).  Shared by ``validate_submission`` (first mistake)
    and the web forms (all of them at once)."""
    cleaned = dict(data)
    wrong: dict[str, str] = {}
    missing = []
    for field in form:
        name = field["id"]
        if read_only(field):
            cleaned.pop(name, None)
            continue
        if name in data:
            try:
                cleaned[name] = coerce(field, data[name])
                within_constraints(field, cleaned[name])
            except InvalidInput as exc:
                wrong[name] = str(exc)
                continue
        if field.get("required") and (cleaned.get(name) is None or cleaned.get(name) == ""):
            if field.get("type") == "boolean" and name in cleaned:
                continue
            missing.append(name)
    return cleaned, wrong, missing


def validate_submission(form: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """Typed copy of ``data``; required fields must be present and non-empty, and within their
    constraints (the first mistake is raised).  Keys that are not form fields pass through
    unchanged (models often carry extra process variables)."""
    cleaned, wrong, missing = check_fields(form, data)
    if wrong:
        raise InvalidInput(next(iter(wrong.values())))
    if missing:
        raise InvalidInput("required field(s) missing: " + ", ".join(missing))
    return cleaned


def defaults(form: list[dict[str, Any]]) -> dict[str, Any]:
    """Form-field default values (a start form's defaults seed the instance's data)."""
    out = {}
    for field in form:
        if field.get("default") not in (None, ""):
            out[field["id"]] = coerce(field, field["default"])
    return out
