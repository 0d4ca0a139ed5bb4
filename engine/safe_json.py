"""JSON from outside — API bodies, pasted drill scenarios, form schema files — with a nesting limit.

The engine raises Python's recursion limit for SpiffWorkflow's deep task trees
(``engine.spiff.limits``).  The json module's C decoder counts its nesting against that same
limit, so input nested some 100,000 deep (a 200 KB body of ``[``) would overrun the C stack and
kill the whole process.  Such input is refused here, before it is decoded.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

#: deeper than any real payload, far below what the C decoder survives
MAX_DEPTH = 512

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_OTHER_BYTES = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
for _open, _close in (b"[]", b"{}"):
    _STEP[_open], _STEP[_close] = 1, -1


class TooDeep(ValueError):
    """The JSON nests deeper than ``MAX_DEPTH``."""


def nesting(data: bytes) -> int:
    """How deep the brackets of ``data`` nest (strings skipped), counted at C speed."""
    brackets = _STRING.sub(b"", data).translate(None, _OTHER_BYTES)
    if not brackets:
        return 0
    return max(accumulate(map(_STEP.__getitem__, brackets)))


def check_depth(data: str | bytes, max_depth: int = MAX_DEPTH) -> None:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") > max_depth and nesting(raw) > max_depth:
        raise TooDeep(f"JSON nested more than {max_depth} levels deep")


def loads(data: str | bytes, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """``json.loads`` for untrusted text: TooDeep (a ValueError) beyond ``max_depth``."""
    check_depth(data, max_depth)
    return json.loads(data, **kwargs)
