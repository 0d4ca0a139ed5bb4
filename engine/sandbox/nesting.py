"""Bounded nesting: what keeps C-level recursion in CPython from overflowing the C stack.

Why: CPython recurses in C to hash tuples (with no guard at all), and to compare, sort and
print containers (guarded only by the recursion limit, which the engine raises to 200,000 for
SpiffWorkflow, far beyond what the C stack holds).  A script could crash the whole process
with ``t = (t,)`` in a loop and ``hash(t)``, or with two self-containing lists and ``a == b``.
So every way a script makes a tuple keeps tuples at most MAX_TUPLE_DEPTH deep, and comparing,
sorting or searching containers first checks they are at most MAX_NESTING deep and acyclic.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from engine.sandbox.guards import bind, check_size, special
from engine.sandbox.hashing import build_set
from engine.sandbox.runtime import current, refuse

MAX_TUPLE_DEPTH = 100
MAX_NESTING = 100
_LEAVES = frozenset({int, float, bool, complex, str, bytes, type(None),
                     date, datetime, time, timedelta, timezone})
_VIEWS = frozenset({type({}.keys()), type({}.values()), type({}.items())})


# --- tuples -------------------------------------------------------------------------------

def _tuple_depth(t: tuple, memo: dict) -> int:
    hit = memo.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    best = 0
    for child in t:
        if type(child) is tuple:
            d = _tuple_depth(child, memo)
            if d > best:
                best = d
    depth = best + 1
    if depth > 2 or len(t) > 32:          # worth remembering (ids stay valid: we hold t)
        if len(memo) > 10_000:
            memo.clear()
        memo[id(t)] = (t, depth)
    return depth


def check_tuple(t: tuple) -> tuple:
    """Every tuple a script can make passes here (displays, tuple(), *args, zip, items...)."""
    if tuple in map(type, t):
        run = current()
        if run.memo is None:
            run.memo = {}
        if _tuple_depth(t, run.memo) > MAX_TUPLE_DEPTH:
            refuse(f"tuples may not be nested more than {MAX_TUPLE_DEPTH} deep")
    return t


def make_tuple(*items: Any) -> tuple:
    """``(a, b)`` displays compile to ``_tuple_(a, b)``."""
    return check_tuple(items)


def varargs(args: tuple) -> bool:
    """Called at the start of script functions and lambdas that take ``*args``."""
    check_tuple(args)
    return True


def stars(kind: str, flags: tuple, *values: Any) -> Any:
    """``[*a, b]``, ``(*a, b)``, ``{*a, b}`` and ``f(*a, *b)``: bound the total first."""
    limit = current().limits.max_size
    out: list = []
    for starred, value in zip(flags, values, strict=False):
        if starred:
            items = value if type(value) in (list, tuple) else list(value)
            if len(out) + len(items) > limit:
                check_size(len(out) + len(items), "unpacking")
            out.extend(items)
        else:
            out.append(value)
    if kind == "l":
        return out
    if kind == "s":
        return build_set(out)
    return check_tuple(tuple(out)) if kind == "t" else tuple(out)


def zip_(*iterables: Any, strict: bool = False) -> Any:
    return map(check_tuple, zip(*iterables, strict=strict))


def enumerate_(iterable: Any, start: int = 0) -> Any:
    return map(check_tuple, enumerate(iterable, start))


@special("items")
def _items_resolver(obj: Any, name: str) -> Any:
    if isinstance(obj, dict) or obj is dict:
        return bind(_items, obj)
    return None


def _items(self: dict) -> list:
    """A checked list instead of the live view (whose pairs could nest one level deeper)."""
    return list(map(check_tuple, dict.items(self)))


@special("popitem")
def _popitem_resolver(obj: Any, name: str) -> Any:
    if isinstance(obj, dict) or obj is dict:
        return bind(lambda self: check_tuple(dict.popitem(self)), obj)
    return None


@special("args")
def _args_resolver(obj: Any, name: str) -> Any:
    if isinstance(obj, BaseException):
        return check_tuple(obj.args)
    return None


# --- comparing, sorting, searching --------------------------------------------------------

def _children(node: Any) -> Any:
    t = type(node)
    if t is list or t is tuple or t is set or t is frozenset:
        return node
    if t is dict:
        return node.values()
    if t in _VIEWS:
        return list(node)
    return ()


def comparable(value: Any) -> Any:
    """Refuse containers nested deeper than MAX_NESTING or containing themselves."""
    if type(value) in _LEAVES:
        return value
    kids = _children(value)
    if not kids or _LEAVES.issuperset(map(type, kids)):
        return value
    for child in kids:                    # fast path: rows of plain values (two levels)
        if type(child) not in _LEAVES:
            grandchildren = _children(child)
            if grandchildren and not _LEAVES.issuperset(map(type, grandchildren)):
                break
    else:
        return value
    heights: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(value, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_.discard(key)
            height = 1 + max((heights.get(id(c), 0) for c in _children(node)), default=0)
            if height > MAX_NESTING:
                refuse(f"values nested more than {MAX_NESTING} deep cannot be compared")
            heights[key] = height
        elif key not in heights:
            if key in open_:
                refuse("a value that contains itself cannot be compared or sorted")
            open_.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in _children(node) if type(c) not in _LEAVES)
    return value


def _checked_key(key: Any) -> Any:
    return None if key is None else (lambda item: comparable(key(item)))


def sorted_(iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list:
    items = list(iterable)
    comparable(items)
    return sorted(items, key=_checked_key(key), reverse=reverse)


def _extreme(function: Any) -> Any:
    def extreme(*args: Any, key: Any = None, **kwargs: Any) -> Any:
        items = list(args[0]) if len(args) == 1 else list(args)
        comparable(items)
        return function(items, key=_checked_key(key), **kwargs)
    extreme.__name__ = function.__name__
    return extreme


min_ = _extreme(min)
max_ = _extreme(max)


def _sort(self: list, *, key: Any = None, reverse: bool = False) -> None:
    comparable(self)
    list.sort(self, key=_checked_key(key), reverse=reverse)


def _searching(name: str) -> Any:
    def search(self: Any, value: Any, *args: Any) -> Any:
        comparable(self)
        comparable(value)
        return getattr(list if isinstance(self, list) else tuple, name)(self, value, *args)
    return search


_SEARCHES = {name: _searching(name) for name in ("index", "count", "remove")}


@special("sort", "index", "count", "remove")
def _sequence_resolver(obj: Any, name: str) -> Any:
    cls = obj if isinstance(obj, type) else type(obj)
    if issubclass(cls, list):
        return bind(_sort if name == "sort" else _SEARCHES[name], obj)
    if issubclass(cls, tuple) and name in ("index", "count"):
        return bind(_SEARCHES[name], obj)
    return None
