"""Provisional sandbox surface (to be hardened): compile with RestrictedPython, run with guards."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from RestrictedPython import compile_restricted, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence

from engine.errors import ScriptError


@dataclass(frozen=True)
class Limits:
    seconds: float = 1.0


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> Any:
    try:
        return compile_restricted(source, filename="<script>", mode=mode)
    except SyntaxError as exc:
        raise ScriptError(f"{exc.msg}", line=exc.lineno, expression=source) from None


def check(source: str, mode: Literal["eval", "exec"] = "eval") -> None:
    _compile(source, mode)


def _globals(variables: dict[str, Any]) -> dict[str, Any]:
    g = {
        "__builtins__": dict(safe_builtins),
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_getattr_": getattr,
        "_write_": full_write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    }
    g.update(variables)
    return g


def evaluate(source: str, variables: dict[str, Any], *, limits: Limits | None = None) -> Any:
    code = _compile(source.strip(), "eval")
    return eval(code, _globals(variables))  # noqa: S307 - restricted code object


def execute(source: str, variables: dict[str, Any], *, limits: Limits | None = None) -> None:
    code = _compile(source, "exec")
    g = _globals(variables)
    exec(code, g)  # noqa: S102 - restricted code object
    for name, value in g.items():
        if name.startswith("_") or callable(value):
            continue
        variables[name] = value
