"""Sets and dicts built in chunks, with a tick between chunks.

Why: int, float and tuple hashes are not randomised, so a script can make many values with
the same hash (``range(0, n * (2**61 - 1), 2**61 - 1)``).  Inserting n of them costs about n²
probes, and ``set(values)`` does all of it in one C call the time limit cannot interrupt
(40,000 values: a minute).  Building from an arbitrary iterable therefore goes through here in
small chunks; copying an existing set or dict reuses its stored hashes and costs no more than
building it did, so those stay single calls.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from engine.sandbox.guards import bind, special
from engine.sandbox.runtime import tick

CHUNK = 256
_HASHED = (set, frozenset, dict)


def _chunks(iterable: Any) -> Any:
    iterator = iter(iterable)
    while True:
        chunk = list(islice(iterator, CHUNK))
        if not chunk:
            return
        yield chunk
        tick()


def build_set(iterable: Any = ()) -> set:
    if type(iterable) in _HASHED:
        return set(iterable)
    result: set = set()
    for chunk in _chunks(iterable):
        result.update(chunk)
    return result


def build_frozenset(iterable: Any = ()) -> frozenset:
    return frozenset(iterable if type(iterable) in _HASHED else build_set(iterable))


def _update_dict(target: dict, source: Any) -> None:
    if type(source) is dict:
        target.update(source)
    elif hasattr(source, "keys"):
        for chunk in _chunks(source.keys()):
            for key in chunk:
                target[key] = source[key]
    else:
        for chunk in _chunks(source):
            target.update(chunk)


def build_dict(*args: Any, **kwargs: Any) -> dict:
    if len(args) > 1:
        raise TypeError(f"dict expected at most 1 argument, got {len(args)}")
    result: dict = {}
    if args:
        _update_dict(result, args[0])
    result.update(kwargs)
    return result


def _fromkeys(cls: Any, iterable: Any, value: Any = None) -> dict:
    result: dict = {}
    for chunk in _chunks(iterable):
        result.update(dict.fromkeys(chunk, value))
    return result


def _dict_update(self: dict, *args: Any, **kwargs: Any) -> None:
    if len(args) > 1:
        raise TypeError(f"update expected at most 1 argument, got {len(args)}")
    if args:
        _update_dict(self, args[0])
    self.update(kwargs)


def inplace_or(a: Any, b: Any) -> Any:
    """``a |= b``: a dict merged with pairs from an iterable goes through the chunks."""
    if type(a) is dict and type(b) is not dict:
        _update_dict(a, b)
        return a
    a |= b
    return a


def _set_method(name: str) -> Any:
    def method(self: Any, *others: Any) -> Any:
        others = tuple(o if type(o) in _HASHED else build_set(o) for o in others)
        return getattr(type(self) if type(self) in (set, frozenset) else set, name)(self, *others)
    return method


_SET_METHODS = {name: _set_method(name) for name in (
    "update", "union", "intersection", "difference", "symmetric_difference",
    "intersection_update", "difference_update", "symmetric_difference_update",
    "issubset", "issuperset", "isdisjoint")}


@special(*_SET_METHODS, "fromkeys")
def _hashing_resolver(obj: Any, name: str) -> Any:
    cls = obj if isinstance(obj, type) else type(obj)
    if issubclass(cls, (set, frozenset)) and name in _SET_METHODS:
        return bind(_SET_METHODS[name], obj)
    if issubclass(cls, dict):
        if name == "fromkeys":
            return lambda iterable, value=None: _fromkeys(cls, iterable, value)
        if name == "update":
            return bind(_dict_update, obj)
    return None
