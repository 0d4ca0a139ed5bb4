"""Runtime guards called by compiled model code: attribute/item access, writes, operators.

Why: RestrictedPython rewrites ``a.b``, ``a[b]``, ``a[b] = c`` and ``x += y`` into calls to
functions it leaves to us.  Here they refuse private and frame attributes, refuse operations
whose *result* would be too large before computing it (``'a' * 10**10``, ``2 ** 10**10``), and
guard the str/bytes/list/int methods that take a size argument (see also text.py).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from types import MethodType
from typing import Any

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from engine.sandbox.runtime import current, refuse

_SEQ = (str, bytes, list, tuple)
_FAST_NUMBERS = frozenset({int, float, bool})
_BLOCKED_ATTRS = INSPECT_ATTRIBUTES | {
    "mro", "func_globals", "func_code", "func_closure", "func_defaults", "gi_running",
    "gi_suspended", "cr_running", "ag_running", "f_lasti", "f_lineno", "tb_lasti", "tb_lineno",
}
_BLOCKED_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_", "im_")


def blocked_attribute(name: str) -> bool:
    """Private, dunder and frame/code/generator-internal attribute names."""
    return (name.startswith("_") or name in _BLOCKED_ATTRS
            or name.startswith(_BLOCKED_PREFIXES))


def check_size(n: int, what: str) -> None:
    limit = current().limits.max_size
    if n > limit:
        refuse(f"size limit: {what} would have {n} items (limit {limit})")


def check_bits(bits: float, what: str) -> None:
    limit = current().limits.max_int_bits
    if bits > limit:
        refuse(f"size limit: {what} would have about {int(bits)} bits (limit {limit})")


# --- operators ----------------------------------------------------------------------------

def mul(a: Any, b: Any) -> Any:
    if type(a) in _FAST_NUMBERS and type(b) in _FAST_NUMBERS:
        if type(a) is not float and type(b) is not float and a.bit_length() + b.bit_length() > 64:
            check_bits(a.bit_length() + b.bit_length(), "a product")
    elif isinstance(b, int) and isinstance(a, _SEQ):
        check_size(len(a) * b, "a repeated sequence")
    elif isinstance(a, int) and isinstance(b, _SEQ):
        check_size(len(b) * a, "a repeated sequence")
    return a * b


def power(a: Any, b: Any, mod: Any = None) -> Any:
    """``a ** b`` and ``pow()``: estimate the result's bits first."""
    ints = isinstance(a, int) and isinstance(b, int)
    if mod is not None:
        if ints and isinstance(mod, int) and b.bit_length() * mod.bit_length() > 1 << 22:
            refuse("size limit: pow() with a modulus this large is too slow")
        return pow(a, b, mod)
    if ints and b > 0 and abs(a) > 1 and b * a.bit_length() > 64:
        check_bits(b * math.log2(abs(a)), "a power")
    return a ** b


def lshift(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0 and a.bit_length() + b > 64:
        check_bits(a.bit_length() + b, "a shifted number")
    return a << b


def add(a: Any, b: Any) -> Any:
    if type(a) not in _FAST_NUMBERS and isinstance(a, _SEQ) and isinstance(b, _SEQ):
        if len(a) + len(b) > 4096:
            check_size(len(a) + len(b), "a concatenation")
    return a + b


def _sized_iadd(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQ):
        try:
            n = len(a) + len(b)
        except TypeError:
            n = 0
        check_size(n, "a concatenation")
    return operator.iadd(a, b)


def _guarded_imul(a: Any, b: Any) -> Any:
    if isinstance(a, list) and isinstance(b, int):
        check_size(len(a) * b, "a repeated sequence")
        return operator.imul(a, b)
    return mul(a, b)


def _inplace_mod(a: Any, b: Any) -> Any:
    from engine.sandbox.text import percent  # late: text imports this module
    return percent(a, b)


def _inplace_or(a: Any, b: Any) -> Any:
    from engine.sandbox.hashing import inplace_or  # late: hashing imports this module
    return inplace_or(a, b)


_INPLACE = {
    "+=": _sized_iadd, "-=": operator.isub, "*=": _guarded_imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": _inplace_mod, "**=": power, "<<=": lshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": _inplace_or, "^=": operator.ixor,
    "@=": operator.imatmul,
}


def inplacevar(op: str, a: Any, b: Any) -> Any:
    """``x += y`` (and ``d[k] += y``) compile to ``_inplacevar_('+=', x, y)``."""
    return _INPLACE[op](a, b)


# --- access -------------------------------------------------------------------------------

def getitem(ob: Any, index: Any) -> Any:
    if isinstance(ob, type):
        refuse("subscripting types is not allowed")
    return ob[index]


class _ListWriter:
    """What ``_write_`` hands out for lists: slice assignment may not grow past the limit."""

    __slots__ = ("_ob",)

    def __init__(self, ob: list):
        self._ob = ob

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, slice):
            if type(value) not in (list, tuple):
                value = list(value)
            check_size(len(self._ob) + len(value), "a list")
        self._ob[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._ob[key]


def write(ob: Any) -> Any:
    """Target of ``x[k] = v``, ``del x[k]`` and ``x.a = v``: only dicts and lists change."""
    if type(ob) is dict:
        return ob
    if type(ob) is list:
        return _ListWriter(ob)
    raise TypeError(f"{type(ob).__name__} objects cannot be modified in scripts")


class ProxyMeta(type):
    """Metaclass of the ``str``, ``tuple``, ``set``, ``frozenset`` and ``dict`` builtins scripts
    see: calls are guarded, ``isinstance`` and attribute access behave like the real type."""

    _real: type                          # set by each proxy class: the type it stands for
    _make: Callable[..., Any]            # ... and the guarded constructor its calls go to

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub: Any) -> bool:
        return issubclass(sub._real if type(sub) is ProxyMeta else sub, cls._real)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._make(*args, **kwargs)

    def __repr__(cls) -> str:
        return repr(cls._real)


_SPECIAL: dict[str, Any] = {}      # attribute name -> resolver(obj, name), see @special users
_seen: dict[str, Any] = {}         # names already validated -> their resolver or None


def special(*names: str):
    """Register a resolver that may return a guarded replacement for ``obj.<name>``."""
    def register(resolver):
        for name in names:
            assert name not in _SPECIAL, f"two resolvers for attribute {name!r}"
            _SPECIAL[name] = resolver
        _seen.clear()
        return resolver
    return register


def guarded_getattr(obj: Any, name: Any, *default: Any) -> Any:
    """``a.b`` compiles to ``_getattr_(a, 'b')``; also the ``getattr`` builtin."""
    resolver: Any = _seen.get(name, False) if type(name) is str else False   # False: not seen yet
    if resolver is False:
        if type(name) is not str:
            raise TypeError("attribute name must be a string")
        if blocked_attribute(name):
            refuse(f"access to attribute {name!r} is not allowed")
        resolver = _SPECIAL.get(name)
        if len(_seen) < 4096:
            _seen[name] = resolver
    if type(obj) is ProxyMeta:
        obj = obj._real
    if resolver is not None:
        replacement = resolver(obj, name)
        if replacement is not None:
            return replacement
    return getattr(obj, name, *default)


def bind(function: Any, obj: Any) -> Any:
    """``str.join`` gives the guarded function itself, ``'x'.join`` binds it to the instance."""
    return function if isinstance(obj, type) else MethodType(function, obj)


@special("extend")
def _extend_resolver(obj: Any, name: str) -> Any:
    if isinstance(obj, list) or obj is list:
        return bind(_extend, obj)
    return None


def _extend(self: list, items: Any) -> None:
    try:
        n = len(items)
    except TypeError:
        n = 0
    check_size(len(self) + n, "a list")
    list.extend(self, items)


@special("to_bytes")
def _to_bytes_resolver(obj: Any, name: str) -> Any:
    if isinstance(obj, int) or obj is int:
        return bind(_to_bytes, obj)
    return None


def _to_bytes(self: int, length: int = 1, *args: Any, **kwargs: Any) -> bytes:
    if isinstance(length, int):
        check_size(length, "to_bytes()")
    return int.to_bytes(self, length, *args, **kwargs)
