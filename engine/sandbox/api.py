"""The sandbox's public surface: ``check``, ``evaluate``, ``execute`` and ``Limits``.

Why here: every string a model asks us to run goes through these three functions, so this is
where failures become ``ScriptError`` with the script's line, and where data goes in (a copy of
the task data) and comes out (plain data only).  Code runs in the caller's thread; the time
limit is enforced by ticks compiled into the code, not by signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from engine.errors import ScriptError
from engine.sandbox import runtime
from engine.sandbox.builtins import BUILTINS, HOOK_NAMES
from engine.sandbox.data import check_data, copy_data, is_code
from engine.sandbox.policy import compile_source
from engine.sandbox.text import approx_len


@dataclass(frozen=True)
class Limits:
    """Per-call limits.

    seconds        wall time (monotonic) the code may run
    max_size       items/characters of one string, bytes, list or tuple an operation may build
    max_int_bits   bits of one integer an operation may build
    max_data       approximate serialised size of the result / of each variable written back
    max_memory_mb  growth of the process' resident memory during the run (0: not checked)
    """

    seconds: float = 1.0
    max_size: int = 1_000_000
    max_int_bits: int = 100_000
    max_data: int = 10_000_000
    max_memory_mb: int = 512

    def __post_init__(self) -> None:
        if not self.seconds > 0 or min(self.max_size, self.max_int_bits, self.max_data) <= 0:
            raise ValueError("sandbox limits must be positive")


DEFAULT_LIMITS = Limits()


def check(source: str, mode: Literal["eval", "exec"] = "eval") -> None:
    """Raise ScriptError if ``source`` would be refused (syntax, imports, dunders, ...)."""
    compile_source(source, mode)


def evaluate(source: str, variables: dict[str, Any], *, limits: Limits | None = None) -> Any:
    """Value of the expression ``source`` over ``variables`` (which it must not change)."""
    code = compile_source(source, "eval")
    namespace = _namespace(dict(variables))
    limits = limits or DEFAULT_LIMITS
    result = _run(code, namespace, source, limits)
    check_data(result, "the expression's value", limits.max_data, source)
    return result


def execute(source: str, variables: dict[str, Any], *, limits: Limits | None = None) -> None:
    """Run the script ``source``; afterwards ``variables`` holds its top-level data.

    The script works on a deep copy, so on failure ``variables`` is untouched.  New and changed
    names are written back, names removed with ``del`` are deleted; functions, namespaces and
    names starting with ``_`` are not copied back.
    """
    code = compile_source(source, "exec")
    limits = limits or DEFAULT_LIMITS
    inputs = {k: v for k, v in variables.items() if type(k) is str and not k.startswith("_")}
    try:
        namespace = _namespace(copy_data(inputs))
    except Exception as exc:
        raise ScriptError(f"task data cannot be copied for the script: {exc}",
                          expression=source) from None
    _run(code, namespace, source, limits)
    updates = {}
    for name, value in namespace.items():
        if name.startswith("_") or is_code(value):
            continue
        check_data(value, f"variable {name!r}", limits.max_data, source)
        updates[name] = value
    for name in inputs:
        if name not in namespace:
            del variables[name]
    variables.update(updates)


def _namespace(names: dict[str, Any]) -> dict[str, Any]:
    if not HOOK_NAMES.isdisjoint(names):
        for name in HOOK_NAMES.intersection(names):
            del names[name]
    names["__builtins__"] = BUILTINS
    return names


def _run(code: Any, namespace: dict[str, Any], source: str, limits: Limits) -> Any:
    run, token = runtime.start(limits)
    try:
        result = eval(code, namespace)  # noqa: S307 - restricted, guarded code object
    except (Exception, runtime.Refused) as exc:
        if run.failure is None:
            raise _script_error(exc, source) from None
        result = None
    finally:
        runtime.finish(token)
    if run.failure is not None:         # also when the script caught the refusal itself
        raise _located(run.failure, run.line, source)
    return result


def _located(message: str, line: int | None, source: str) -> ScriptError:
    return ScriptError(f"{message} (line {line})" if line else message, line=line,
                       expression=source)


def _script_error(exc: BaseException, source: str) -> ScriptError:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == runtime.FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    name = type(exc).__name__
    try:
        detail = str(exc) if approx_len(exc.args, 2000) <= 2000 else "(message too long)"
    except (Exception, runtime.Refused):
        detail = ""
    return _located(f"{name}: {detail}" if detail else name, line, source)
