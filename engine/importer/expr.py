"""Translate modeler expression languages into the Python SpiffWorkflow evaluates.

JUEL (``${…}``/``#{…}``, Camunda 7), FEEL (``=…``, Camunda 8) and bare ISO-8601 timer values
are rewritten token by token into small Python expressions.  Only what maps cleanly is
accepted (comparisons, boolean logic, literals, variables and dotted paths); anything else
raises ``Untranslatable`` so the importer can point at the element instead of guessing.
"""

from __future__ import annotations

import ast
import re

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


class Untranslatable(ValueError):
    """The expression cannot be turned into Python safely; the message says why."""


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!=()\[\],.+\-*/%])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)

_JUEL_WORDS = {"and": "and", "or": "or", "not": "not", "eq": "==", "ne": "!=", "lt": "<",
               "gt": ">", "le": "<=", "ge": ">=", "true": "True", "false": "False",
               "null": "None", "empty": "not", "div": "/", "mod": "%"}
_FEEL_WORDS = {"and": "and", "or": "or", "not": "not", "true": "True", "false": "False",
               "null": "None"}
_JUEL_OPS = {"&&": "and", "||": "or", "!": "not"}
_ISO_DURATION = re.compile(r"^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                           r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+([.,]\d+)?S)?)?$", re.I)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                       r"(Z|[+-]\d{2}:?\d{2})?$", re.I)
_CYCLE = re.compile(r"^R\d*/", re.I)


def _tokens(src: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if m is None:
            raise Untranslatable(f"unexpected character {src[pos]!r} in expression {src!r}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup or "", m.group()))
    return out


def _python_ok(expr: str, original: str) -> str:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise Untranslatable(f"cannot translate expression {original!r}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Call, ast.Lambda, ast.ListComp, ast.GeneratorExp, ast.DictComp,
                             ast.SetComp, ast.NamedExpr, ast.Await, ast.Yield)):
            raise Untranslatable(f"expression {original!r} calls functions; only comparisons, "
                                 "boolean logic, literals and variables are translated")
    return expr


def _convert(src: str, words: dict[str, str], feel: bool, original: str) -> str:
    toks = _tokens(src)
    out: list[str] = []
    i = 0
    while i < len(toks):
        kind, val = toks[i]
        if kind == "str":
            out.append(repr(ast.literal_eval(val)) if not feel else repr(val[1:-1]))
        elif kind == "num":
            out.append(val)
        elif kind == "op":
            if not feel and val in _JUEL_OPS:
                out.append(_JUEL_OPS[val])
            elif feel and val == "=":
                out.append("==")
            elif not feel and val == "=":
                raise Untranslatable(f"assignment in condition {original!r}")
            elif val in ("&&", "||", "!") and feel:
                raise Untranslatable(f"operator {val} is not FEEL in {original!r}")
            else:
                out.append(val)
        elif val in words and not (out and out[-1] == "."):
            out.append(words[val])
        else:
            # a variable, possibly a dotted path or execution.getVariable('x')
            path = [val]
            j = i + 1
            while j + 1 < len(toks) and toks[j][1] == "." and toks[j + 1][0] == "name":
                path.append(toks[j + 1][1])
                j += 2
            if j < len(toks) and toks[j][1] == "(":
                call = _getvariable(path, toks, j, original)
                out.append(call[0])
                i = call[1]
                continue
            out.append(path[0] + "".join(f"[{p!r}]" for p in path[1:]))
            i = j
            continue
        i += 1
    return _python_ok(" ".join(out), original)


def _getvariable(path: list[str], toks: list[tuple[str, str]], j: int, original: str
                 ) -> tuple[str, int]:
    """``execution.getVariable('x')`` → ``x``; any other call is refused."""
    if (path[-1] == "getVariable" and j + 2 < len(toks) and toks[j + 1][0] == "str"
            and toks[j + 2][1] == ")"):
        name = toks[j + 1][1][1:-1]
        if name.isidentifier():
            return name, j + 3
    raise Untranslatable(f"method call {'.'.join(path)}(…) in {original!r} cannot be translated")


def _strip_juel(src: str) -> str | None:
    s = src.strip()
    if (s.startswith("${") or s.startswith("#{")) and s.endswith("}"):
        inner = s[2:-1]
        if "${" in inner or "#{" in inner:
            raise Untranslatable(f"nested or mixed template expression {src!r}")
        return inner
    if "${" in s or "#{" in s:
        raise Untranslatable(f"text mixed with template expression in {src!r}")
    return None


def to_python(src: str, language: str | None = None) -> str:
    """A JUEL, FEEL or Python expression as Python (condition, MI collection, mapping)."""
    s = (src or "").strip()
    if not s:
        raise Untranslatable("empty expression")
    juel = _strip_juel(s)
    if juel is not None:
        return _convert(juel, _JUEL_WORDS, False, s)
    if s.startswith("="):
        return _convert(s[1:], _FEEL_WORDS, True, s)
    if language and "feel" in language.lower():
        return _convert(s, _FEEL_WORDS, True, s)
    if s in ("true", "false"):
        return s.capitalize()
    try:
        ast.parse(s, mode="eval")
    except SyntaxError:
        raise Untranslatable(f"expression {s!r} is not Python, JUEL (${{…}}) or FEEL (=…)") from None
    return s


_TEMPLATE_PART = re.compile(r"[$#]\{([^{}]*)\}")


def template_to_python(text: str) -> str:
    """``Outage in ${region}`` → ``'Outage in ' + str(region)``."""
    parts: list[str] = []
    pos = 0
    for m in _TEMPLATE_PART.finditer(text):
        if m.start() > pos:
            parts.append(repr(text[pos:m.start()]))
        parts.append(f"str({to_python('${' + m.group(1) + '}')})")
        pos = m.end()
    if pos < len(text):
        parts.append(repr(text[pos:]))
    result = " + ".join(parts) or "''"
    if "${" in _TEMPLATE_PART.sub("", text) or "#{" in _TEMPLATE_PART.sub("", text):
        raise Untranslatable(f"nested template expression in {text!r}")
    return result


def _utc(value: str) -> str:
    """Naive ISO dates are read as UTC, never as the server's zone."""
    if _ISO_DATE.match(value) and "T" in value.upper() and not re.search(r"(Z|[+-]\d{2}:?\d{2})$",
                                                                          value, re.I):
        return value + "+00:00"
    if value.upper().endswith("Z"):
        return value[:-1] + "+00:00"
    return value


def _check_literal(value: str, kind: str) -> None:
    try:
        if kind == "timeCycle" or _CYCLE.match(value):
            TimerEventDefinition.parse_iso_recurring_interval(value)
        else:
            TimerEventDefinition.parse_time_or_duration(value)
    except Exception:   # noqa: BLE001 - Spiff raises bare Exception / ValueError here
        raise Untranslatable(f"{kind} value {value!r} is not a valid ISO-8601 "
                             f"{'repeating interval' if kind == 'timeCycle' else 'date or duration'}"
                             ) from None


_MISSING_T = re.compile(r"^(P(?:\d+[YMWD])*)((?:\d+H)(?:\d+M)?(?:\d+(?:[.,]\d+)?S)?"
                        r"|\d+(?:[.,]\d+)?S)$", re.I)


def _fix_duration(v: str) -> str:
    """``P1H`` (a common slip) means ``PT1H``: hours and seconds only exist after the T."""
    m = _MISSING_T.match(v)
    return f"{m.group(1)}T{m.group(2)}" if m and "T" not in v.upper() else v


def _iso_literal(value: str, kind: str) -> str | None:
    v = _fix_duration(value.strip())
    if _CYCLE.match(v):
        parts = v.split("/")
        v = "/".join([parts[0]] + [_utc(_fix_duration(p)) for p in parts[1:]])
    elif _ISO_DURATION.match(v):
        pass
    elif _ISO_DATE.match(v):
        v = _utc(v.replace(" ", "T"))
    else:
        return None
    _check_literal(v, kind)
    return repr(v)


_CRON_UNITS = (("S", 60), ("M", 60), ("H", 24))
_ANY = {"*", "?", "0/1", "1/1", "*/1"}


def cron_interval(expr: str) -> str | None:
    """A Quartz cron that just repeats every N seconds/minutes/hours → ``R/PTnX``.

    Anything calendar-like (specific hours, weekdays…) is not a plain interval: None.
    """
    fields = expr.split()
    if len(fields) not in (6, 7):
        return None
    for pos, (unit, limit) in enumerate(_CRON_UNITS):
        m = re.fullmatch(r"(?:0|\*)/(\d+)", fields[pos])
        if m is None or m.group(0) in _ANY and pos < 2:
            continue
        step = int(m.group(1))
        finer_fixed = all(re.fullmatch(r"\d+", f) for f in fields[:pos])
        coarser_any = all(f in _ANY for f in fields[pos + 1:6]) and (
            len(fields) == 6 or fields[6] in _ANY)
        if finer_fixed and coarser_any and 0 < step < limit:
            return f"R/PT{step}{unit}"
        return None
    return None


_FEEL_TIMER_FN = re.compile(r'^(duration|date and time|date|cycle)\s*\(\s*"([^"]*)"\s*\)$')


def timer_to_python(src: str, kind: str) -> str:
    """A timer value (bare ISO, quoted, ``${…}`` or FEEL) as a Python expression for Spiff."""
    s = (src or "").strip()
    if not s:
        raise Untranslatable(f"empty {kind}")
    lit = _iso_literal(s, kind)
    if lit is not None:
        return lit
    if s.startswith("="):
        body = s[1:].strip()
        m = _FEEL_TIMER_FN.match(body)
        if m:
            body = m.group(2)
        elif body.startswith('"') and body.endswith('"') and len(body) >= 2:
            body = body[1:-1]
        else:
            return to_python(s)
        lit = _iso_literal(body, kind)
        if lit is None:
            raise Untranslatable(f"{kind} value {s!r} is not an ISO-8601 value")
        return lit
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        lit = _iso_literal(s[1:-1], kind)
        if lit is None:
            raise Untranslatable(f"{kind} value {s!r} is not an ISO-8601 value")
        return lit
    if re.match(r"^[0-9*?/,\-\s]+$|^[0-9*?/,\-\sA-Z#L]+\?", s) and " " in s:
        interval = cron_interval(s)
        if interval and kind == "timeCycle":
            return repr(interval)
        raise Untranslatable(f"cron expressions are not supported in {kind}: {s!r}; "
                             "use an ISO-8601 repeating interval such as R/PT1H")
    inner = _strip_juel(s)
    if inner is not None:
        inner = inner.strip()
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
            lit = _iso_literal(inner[1:-1], kind)
            if lit is not None:
                return lit
    return to_python(s)
