"""What may leave the sandbox: plain data of bounded size.

Why: results become task data, are stored as JSON and shown in the audit trail.  Functions,
generators or namespaces must not escape a run, and a list holding one large string a
thousand times is small in memory but huge once serialised — so the size is counted the way
a serialiser would see it, shared references included.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from engine.errors import ScriptError
from engine.sandbox.nesting import MAX_NESTING

_SCALARS = frozenset({type(None), bool, int, float, str, bytes, Decimal,
                      date, datetime, time, timedelta, timezone})
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict})


def copy_data(obj: Any) -> Any:
    """Deep copy of task data, fast for JSON-like values (``copy.deepcopy`` for the rest)."""
    t = type(obj)
    if t in _SCALARS:
        return obj
    if t is list:
        return [x if type(x) in _SCALARS else copy_data(x) for x in obj]
    if t is dict:
        return {k: x if type(x) in _SCALARS else copy_data(x) for k, x in obj.items()}
    if t is tuple:
        return tuple([copy_data(x) for x in obj])
    if t is set:
        return set(obj)
    return copy.deepcopy(obj)


def is_code(value: Any) -> bool:
    """Functions, classes and namespaces a script defined or referenced: never copied back."""
    return callable(value) or isinstance(value, SimpleNamespace)


def check_data(value: Any, what: str, limit: int, source: str) -> None:
    """Raise ScriptError unless ``value`` is plain data of at most ``limit`` (approx.) chars."""
    t = type(value)
    if t in _SCALARS and t is not str and t is not bytes:
        return
    total = 0
    stack = [(value, 0)]
    while stack:
        obj, depth = stack.pop()
        t = type(obj)
        if t is str or t is bytes:
            total += len(obj) + 2
        elif t in _CONTAINERS:
            if depth >= MAX_NESTING:
                raise ScriptError(f"{what} is nested more than {MAX_NESTING} levels deep",
                                  expression=source)
            total += 2 * len(obj) + 2
            if total > limit:
                break
            items = obj.items() if t is dict else obj
            for item in items:
                if t is dict:
                    stack.append((item[0], depth + 1))
                    stack.append((item[1], depth + 1))
                else:
                    stack.append((item, depth + 1))
        elif t is int or t is bool:
            total += obj.bit_length() // 3 + 1
        elif t in _SCALARS:
            total += 24
        else:
            raise ScriptError(f"{what} holds a {t.__name__} object, which is not plain data",
                              expression=source)
        if total > limit:
            break
    if total > limit:
        raise ScriptError(f"{what} is too large (about {total} characters, limit {limit})",
                          expression=source)
