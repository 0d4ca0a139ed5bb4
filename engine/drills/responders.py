"""What simulated responders type into forms: the scenario's answers, and for required fields
it leaves out a plausible value of the field's type (so a drill never stalls on a form)."""

from __future__ import annotations

from typing import Any


def answers(form: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
    data = dict(given)
    for field in form:
        if field["id"] in data:
            continue
        if field.get("default") not in (None, ""):
            data[field["id"]] = field["default"]
        elif field.get("required"):
            data[field["id"]] = _plausible(field)
    return data


def _plausible(field: dict[str, Any]) -> Any:
    kind = field.get("type") or "string"
    if kind == "boolean":
        return True
    if kind in ("long", "number"):
        return 0
    if kind == "enum":
        options = field.get("options") or []
        return options[0]["value"] if options else "drill"
    if kind == "date":
        return "2000-01-01"
    return "drill"
