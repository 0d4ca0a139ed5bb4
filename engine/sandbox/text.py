"""Building text under the size limit: str()/repr()/format(), f-strings, ``%`` and
``str.format``, and the str/bytes methods whose result size an argument decides.

Why: a 1 MB string referenced a thousand times costs 8 KB inside a list but 1 GB as text, and
``'{:>9999999999}'`` asks for 10 GB outright.  Everything here estimates the text first and
refuses before it is allocated.  ``str.format`` also resolves ``{0.attr}`` through the guarded
getattr, so ``'{0.__class__}'.format(x)`` is refused like ``x.__class__``.
"""

from __future__ import annotations

import _string  # type: ignore[import-not-found]  # the parser behind str.format
import codecs
import re
import string
from collections.abc import Callable
from typing import Any

from engine.sandbox.guards import bind, check_size, getitem, guarded_getattr, special
from engine.sandbox.nesting import MAX_NESTING
from engine.sandbox.runtime import current, refuse

_CHEAP = frozenset({int, float, bool, type(None)})
_DIGITS = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"[#0\- +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?")
_MISSING: Any = object()


def approx_len(obj: Any, limit: int) -> int:
    """Rough length of ``str(obj)``; stops counting as soon as it passes ``limit``.
    Nesting deeper than MAX_NESTING counts as too long (printing recurses in C)."""
    total = 0
    stack = [(obj, 0)]
    while stack:
        o, depth = stack.pop()
        if depth > MAX_NESTING:
            return max(total, limit + 1)
        t = type(o)
        if t is str or t is bytes:
            total += len(o) + 3
        elif t is int or t is bool:
            total += o.bit_length() // 3 + 2
        elif t is list or t is tuple or t is set or t is frozenset:
            total += 2 * len(o) + 2
            if total <= limit:
                stack.extend((child, depth + 1) for child in o)
        elif t is dict:
            total += 4 * len(o) + 2
            if total <= limit:
                stack.extend((child, depth + 1) for child in o.keys())
                stack.extend((child, depth + 1) for child in o.values())
        else:
            total += 40
        if total > limit:
            break
    return total


def check_text(obj: Any, what: str = "text") -> None:
    limit = current().limits.max_size
    n = approx_len(obj, limit)
    if n > limit:
        refuse(f"size limit: {what} would be longer than {limit} characters"
               f" (or nested more than {MAX_NESTING} deep)")


# Linear-time codecs only: punycode/idna are quadratic in C (20,000 characters: a minute).
_CODECS = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1", "cp1252", "utf-16", "utf-16-le",
                     "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


def check_codec(encoding: Any) -> None:
    if isinstance(encoding, str) and len(encoding) < 100:
        try:
            if codecs.lookup(encoding).name in _CODECS:
                return
        except LookupError:
            pass
    refuse(f"encoding {str(encoding)[:40]!r} is not available in scripts"
           f" (use one of {', '.join(sorted(_CODECS))})")


def _encode(self: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    check_codec(encoding)
    return str.encode(self, encoding, errors)


def _decode(self: bytes, encoding: str = "utf-8", errors: str = "strict") -> str:
    check_codec(encoding)
    return bytes.decode(self, encoding, errors)


@special("encode", "decode")
def _codec_resolver(obj: Any, name: str) -> Any:
    cls = obj if isinstance(obj, type) else type(obj)
    if name == "encode" and issubclass(cls, str):
        return bind(_encode, obj)
    if name == "decode" and issubclass(cls, bytes):
        return bind(_decode, obj)
    return None


def safe_str(object: Any = "", encoding: Any = _MISSING, errors: Any = _MISSING) -> str:  # noqa: A002
    if encoding is not _MISSING:
        check_codec(encoding)
    if encoding is not _MISSING or errors is not _MISSING:
        kwargs = {k: v for k, v in (("encoding", encoding), ("errors", errors)) if v is not _MISSING}
        return str(object, **kwargs)
    if type(object) is str:
        return object
    if type(object) not in _CHEAP:
        check_text(object)
    return str(object)


def safe_repr(obj: Any) -> str:
    if type(obj) not in _CHEAP:
        check_text(obj)
    return repr(obj)


def safe_ascii(obj: Any) -> str:
    if type(obj) not in _CHEAP:
        check_text(obj)
    return ascii(obj)


def check_spec(spec: str) -> None:
    """Widths and precisions in a format spec (or strftime pattern) add up to the text size."""
    total = 0
    for digits in _DIGITS.findall(spec):
        total += int(digits) if len(digits) <= 18 else 10**18
    if total > 4096:
        check_size(total, "a format width")


def format_value(value: Any, spec: Any = "") -> str:
    """The ``format`` builtin, f-string fields and ``str.format`` fields."""
    if type(spec) is not str:
        raise TypeError("format spec must be a string")
    if spec:
        check_spec(spec)
    t = type(value)
    if t is str and not spec:
        return value
    if t not in _CHEAP:
        check_text(value)
    return format(value, spec)


def fstr(*parts: Any) -> str:
    """f-strings compile to ``_fstr_('text', (value, conversion, spec), ...)``."""
    limit = current().limits.max_size
    out = []
    total = 0
    for part in parts:
        if type(part) is not str:
            value, conversion, spec = part
            if conversion == 115:
                value = safe_str(value)
            elif conversion == 114:
                value = safe_repr(value)
            elif conversion == 97:
                value = safe_ascii(value)
            part = format_value(value, spec)
        total += len(part)
        if total > limit:
            check_size(total, "an f-string")
        out.append(part)
    return "".join(out)


def _number(digits: str | None) -> int:
    if not digits:
        return 0
    return int(digits) if len(digits) <= 18 else 10**18


def percent(a: Any, b: Any) -> Any:
    """``a % b``: for strings, estimate the formatted size (widths and values) first."""
    if isinstance(a, (str, bytes)):
        _check_percent(a, b)
    return a % b


def _check_percent(fmt: str | bytes, args: Any) -> None:
    if isinstance(fmt, bytes):
        binary, text = True, fmt.decode("latin-1")
    else:
        binary, text = False, fmt
    limit = current().limits.max_size
    items = args if isinstance(args, tuple) else (args,)
    total, position = len(text), 0
    i = text.find("%")
    while i >= 0:
        i += 1
        if text.startswith("%", i):
            i = text.find("%", i + 1)
            continue
        key: str | None = None
        if text.startswith("(", i):
            depth, j = 1, i + 1
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            key, i = text[i + 1:j - 1], j
        m = _PERCENT_SPEC.match(text, i)
        assert m is not None            # every part of the pattern is optional: it always matches
        width, precision = m.group(1), m.group(2)
        if width == "*" or precision == "*":
            refuse("'*' widths in % formatting are not supported in scripts")
        if key is not None:
            try:
                value = args[key.encode("latin-1") if binary else key]
            except Exception:
                value = ""          # the real operation raises the proper error
        else:
            value = items[position] if position < len(items) else ""
            position += 1
        total += _number(width) + _number(precision) + approx_len(value, limit)
        if total > limit:
            check_size(total, "% formatting")
        i = text.find("%", m.end())


class _Formatter(string.Formatter):
    """``str.format`` with guarded field lookup and a running size total."""

    def __init__(self, limit: int):
        self.limit = limit
        self.total = 0

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        first, rest = _string.formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = guarded_getattr(obj, key) if is_attr else getitem(obj, key)
        return obj, first

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is None:
            return value
        converters: dict[str, Callable[[Any], str]] = {"s": safe_str, "r": safe_repr, "a": safe_ascii}
        convert = converters.get(conversion)
        if convert is None:
            raise ValueError(f"Unknown conversion specifier {conversion}")
        return convert(value)

    def format_field(self, value: Any, format_spec: str) -> str:
        text = format_value(value, format_spec)
        self.total += len(text)
        if self.total > self.limit:
            check_size(self.total, "str.format()")
        return text


def _format(self: str, *args: Any, **kwargs: Any) -> str:
    if not isinstance(self, str):
        raise TypeError("format() needs a str")
    return _Formatter(current().limits.max_size).vformat(self, args, kwargs)


def _format_map(self: str, mapping: Any) -> str:
    if not isinstance(self, str):
        raise TypeError("format_map() needs a str")
    return _Formatter(current().limits.max_size).vformat(self, (), mapping)


def _base(self: Any) -> type[str] | type[bytes]:
    if isinstance(self, str):
        return str
    if isinstance(self, bytes):
        return bytes
    raise TypeError(f"expected str or bytes, not {type(self).__name__}")


def _join(self: Any, iterable: Any) -> Any:
    base = _base(self)
    items = iterable if type(iterable) in (list, tuple) else list(iterable)
    if items:
        try:
            n = sum(map(len, items)) + len(self) * (len(items) - 1)
        except TypeError:
            n = 0                     # join() itself raises the proper error
        check_size(n, "join()")
    return base.join(self, items)


def _replace(self: Any, old: Any, new: Any, count: int = -1) -> Any:
    base = _base(self)
    if len(new) > len(old):
        n = self.count(old) if old else len(self) + 1
        if count >= 0:
            n = min(n, count)
        check_size(len(self) + n * (len(new) - len(old)), "replace()")
    return base.replace(self, old, new, count)


def _padding(name: str) -> Any:
    def pad(self: Any, width: Any, *args: Any) -> Any:
        if isinstance(width, int) and width > 4096:
            check_size(width, f"{name}()")
        return getattr(_base(self), name)(self, width, *args)
    return pad


def _expandtabs(self: Any, tabsize: Any = 8) -> Any:
    base = _base(self)
    if isinstance(tabsize, int) and tabsize > 0:
        check_size(len(self) + self.count("\t" if base is str else b"\t") * tabsize, "expandtabs()")
    return base.expandtabs(self, tabsize)


_TEXT_METHODS = {
    "join": _join, "replace": _replace, "expandtabs": _expandtabs,
    "ljust": _padding("ljust"), "rjust": _padding("rjust"), "center": _padding("center"),
    "zfill": _padding("zfill"), "format": _format, "format_map": _format_map,
}


@special(*_TEXT_METHODS, "translate")
def _text_resolver(obj: Any, name: str) -> Any:
    cls = obj if isinstance(obj, type) else type(obj)
    if not issubclass(cls, (str, bytes)):
        return None
    if name == "translate":
        refuse("translate() is not allowed in scripts")
    if name.startswith("format") and not issubclass(cls, str):
        return None
    return bind(_TEXT_METHODS[name], obj)
