"""The names model code can see: a curated set of builtins plus the guard hooks.

Why curated: every builtin is a way out or a way to allocate.  Left out on purpose: open,
eval/exec/compile, __import__, globals/locals/vars/dir, input, setattr/delattr, bytes and
bytearray (``bytes(10**10)``), iter with a sentinel (an endless loop in C), object/super and
type() with three arguments.  Guarded versions: ``str tuple set frozenset dict range sum pow
round min max sorted zip enumerate repr ascii format getattr hasattr type iter``.  (The dict
itself is shared but unreachable: scripts cannot name ``__builtins__``.)
Date and time classes are the real ones, but nothing that reads the wall clock or the server's
time zone (``now``, ``today``, ``fromtimestamp`` without a zone, ``astimezone()``).
"""

from __future__ import annotations

import math as _math
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from engine.sandbox import guards, hashing, nesting, text
from engine.sandbox.guards import ProxyMeta, bind, check_size, guarded_getattr, special
from engine.sandbox.nesting import check_tuple
from engine.sandbox.runtime import enter, refuse, tick


class StrProxy(metaclass=ProxyMeta):
    _real = str
    _make = staticmethod(text.safe_str)


class TupleProxy(metaclass=ProxyMeta):
    _real = tuple
    _make = staticmethod(lambda iterable=(): check_tuple(tuple(iterable)))


class SetProxy(metaclass=ProxyMeta):
    _real = set
    _make = staticmethod(hashing.build_set)


class FrozensetProxy(metaclass=ProxyMeta):
    _real = frozenset
    _make = staticmethod(hashing.build_frozenset)


class DictProxy(metaclass=ProxyMeta):
    _real = dict
    _make = staticmethod(hashing.build_dict)


_TYPES: dict[type, type] = {str: StrProxy, tuple: TupleProxy, set: SetProxy, frozenset: FrozensetProxy,
                            dict: DictProxy}
for _t in (int, float, bool, complex, list, type(None), date, datetime, time, timedelta,
           timezone):
    _TYPES[_t] = _t


def type_(obj: Any, *more: Any) -> Any:
    """``type(x)`` for plain data only (no classes, no three-argument form)."""
    if more:
        refuse("type() with three arguments (creating classes) is not allowed")
    t = _TYPES.get(type(obj))
    if t is None:
        refuse(f"type() of {type(obj).__name__} objects is not available in scripts")
    return t


def range_(*args: Any) -> range:
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = 1 << 64
    check_size(n, "range()")
    return r


def round_(number: Any, ndigits: Any = None) -> Any:
    """``round(12345, -10**7)`` computes ``10**10**7`` in C first: answer 0 directly."""
    if ndigits is None:
        return round(number)
    if isinstance(number, int) and isinstance(ndigits, int) and \
            -ndigits > number.bit_length() * 0.302 + 2:
        return 0
    return round(number, ndigits)


def sum_(iterable: Any, /, start: Any = 0) -> Any:
    if not isinstance(start, (int, float, timedelta)):
        refuse("sum() adds numbers and timedeltas only; build lists and strings with join()"
               " or a loop")
    return sum(iterable, start)


def iter_(obj: Any, *sentinel: Any) -> Any:
    if sentinel:
        refuse("iter() with a sentinel is not allowed")
    return iter(obj)


def hasattr_(obj: Any, name: Any) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


class PrintSink:
    """``print`` compiles to ``_print._call_print(...)``; output is discarded."""

    def __init__(self, _getattr_: Any = None):
        pass

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        return None

    def __call__(self) -> str:        # the ``printed`` name
        return ""


# --- date and time: no wall clock, no server time zone ------------------------------------

_CLOCK_READERS = frozenset({"now", "utcnow", "today", "utcfromtimestamp"})


def _fromtimestamp(cls: Any, timestamp: Any, tz: Any = None) -> Any:
    if tz is None or not issubclass(cls, datetime):
        refuse("fromtimestamp() needs a time zone (e.g. timezone.utc) in scripts")
    return cls.fromtimestamp(timestamp, tz)


def _astimezone(self: datetime, tz: Any = None) -> datetime:
    if tz is None:
        refuse("astimezone() needs a time zone argument in scripts")
    return datetime.astimezone(self, tz)


def _timestamp(self: datetime) -> float:
    if self.tzinfo is None:
        refuse("timestamp() of a naive datetime depends on the server's zone; add tzinfo")
    return datetime.timestamp(self)


def _strftime(self: Any, fmt: Any) -> str:
    if isinstance(fmt, str):
        text.check_spec(fmt)
    return type(self).strftime(self, fmt)


@special(*_CLOCK_READERS, "fromtimestamp", "astimezone", "timestamp", "strftime")
def _time_resolver(obj: Any, name: str) -> Any:
    cls = obj if isinstance(obj, type) else type(obj)
    if not issubclass(cls, (date, time)):
        return None
    if name in _CLOCK_READERS:
        refuse(f"{name}() reads the server clock; scripts get the time from process data")
    if name == "fromtimestamp":
        return lambda timestamp, tz=None: _fromtimestamp(cls, timestamp, tz)
    if name == "astimezone" and issubclass(cls, datetime):
        return bind(_astimezone, obj)
    if name == "timestamp" and issubclass(cls, datetime):
        return bind(_timestamp, obj)
    if name == "strftime":
        return bind(_strftime, obj)
    return None


math = SimpleNamespace(**{n: getattr(_math, n) for n in (
    "ceil", "floor", "trunc", "sqrt", "isqrt", "exp", "log", "log2", "log10", "fabs", "fsum",
    "copysign", "hypot", "isclose", "isfinite", "isinf", "isnan", "pi", "e", "inf", "nan")})

_EXCEPTIONS = (
    ArithmeticError, AssertionError, AttributeError, Exception, IndexError, KeyError,
    LookupError, NameError, NotImplementedError, OverflowError, RecursionError, RuntimeError,
    StopIteration, TypeError, UnboundLocalError, UnicodeError, ValueError, ZeroDivisionError,
)

BUILTINS: dict[str, Any] = {
    "None": None, "True": True, "False": False,
    "abs": abs, "all": all, "any": any, "ascii": text.safe_ascii, "bin": bin, "bool": bool,
    "callable": callable, "chr": chr, "dict": DictProxy, "divmod": divmod,
    "enumerate": nesting.enumerate_, "filter": filter, "float": float,
    "format": text.format_value, "frozenset": FrozensetProxy, "getattr": guarded_getattr,
    "hasattr": hasattr_, "hash": hash, "hex": hex, "int": int, "isinstance": isinstance,
    "issubclass": issubclass, "iter": iter_, "len": len, "list": list, "map": map,
    "max": nesting.max_, "min": nesting.min_, "next": next, "oct": oct, "ord": ord,
    "pow": guards.power, "range": range_, "repr": text.safe_repr, "reversed": reversed,
    "round": round_, "set": SetProxy, "sorted": nesting.sorted_, "str": StrProxy, "sum": sum_,
    "tuple": TupleProxy, "type": type_, "zip": nesting.zip_,
    "date": date, "datetime": datetime, "time": time, "timedelta": timedelta,
    "timezone": timezone, "math": math,
    **{e.__name__: e for e in _EXCEPTIONS},
}


def _no_unpack_guard(it: Any, spec: Any, _getiter_: Any) -> Any:
    """Unpacking needs no protection here (``_getiter_`` is plain ``iter``): let Python do it."""
    return it


# Hooks the compiled code calls.  They live with the builtins; the api drops task data that
# would shadow them (scripts themselves cannot bind names starting with "_").
HOOKS = {
    "_getattr_": guarded_getattr,
    "_getitem_": guards.getitem,
    "_getiter_": iter,
    "_write_": guards.write,
    "_inplacevar_": guards.inplacevar,
    "_iter_unpack_sequence_": _no_unpack_guard,
    "_unpack_sequence_": _no_unpack_guard,
    "_print_": PrintSink,
    "_tick_": tick,
    "_mul_": guards.mul,
    "_pow_": guards.power,
    "_lshift_": guards.lshift,
    "_add_": guards.add,
    "_mod_": text.percent,
    "_fstr_": text.fstr,
    "_stars_": nesting.stars,
    "_tuple_": nesting.make_tuple,
    "_varargs_": nesting.varargs,
    "_enter_": enter,
    "_cmp_": nesting.comparable,
}
BUILTINS.update(HOOKS)
HOOK_NAMES = frozenset(HOOKS) | {"__builtins__"}
