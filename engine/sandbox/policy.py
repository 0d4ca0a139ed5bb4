"""Compile-time policy: RestrictedPython's rules plus ours, and the compile cache.

Why: RestrictedPython alone allows imports (through a guarded ``__import__``), classes,
endless loops and size-blind operators.  On top of its rewriting this policy refuses imports,
classes and calls to dangerous builtins at compile time (so ``check()`` rejects a model at
import); injects ``_tick_()`` into every loop body and comprehension and ``_enter_()`` into
every function and lambda (time limit and call depth, no signals); and routes ``* ** << + %``,
f-strings, starred displays/calls, tuple displays and container comparisons through the
runtime guards (guards.py, text.py, nesting.py).
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from types import CodeType
from typing import TypeAlias, TypeVar

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)

from engine.errors import ScriptError
from engine.sandbox.guards import blocked_attribute
from engine.sandbox.runtime import FILENAME

MAX_SOURCE = 100_000
MAX_AST_DEPTH = 150
_BINOPS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Add: "_add_",
           ast.Mod: "_mod_"}
FORBIDDEN_CALLS = frozenset({
    "open", "eval", "exec", "compile", "globals", "locals", "vars", "dir", "input",
    "breakpoint", "help", "exit", "quit", "memoryview", "bytearray", "bytes", "super",
    "setattr", "delattr", "classmethod", "staticmethod", "property", "object",
})
_LINE = re.compile(r"^Line (\d+): (.*)$", re.S)

_N = TypeVar("_N", bound=ast.AST)
#: what a NodeTransformer's visit_* may return (RestrictedPython's ``_T_visit_return``)
Visited: TypeAlias = ast.AST | Iterable[ast.AST] | None


def _name(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _locate(node: _N, like: ast.AST) -> _N:
    """Copy ``like``'s position to ``node`` only (RestrictedPython's ``copy_locations`` also
    walks the whole subtree, which is quadratic on long chains)."""
    for field in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        setattr(node, field, getattr(like, field, None))
    return node


def _call(func: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    return _locate(ast.Call(func=_locate(_name(func), like), args=args, keywords=[]), like)


def _literal(node: ast.AST) -> bool:
    """Constants and displays of constants: comparing with them recurses only as deep as they go."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_literal(e) for e in node.elts)
    return False


def _tick(like: ast.AST) -> ast.stmt:
    return _locate(ast.Expr(_call("_tick_", [], like)), like)


def _same(kind: type[_N], visited: Visited) -> _N:
    """RestrictedPython's visitors for loops, functions, lambdas and comprehensions return the
    node they were given, but are annotated with the general ``Visited``."""
    if not isinstance(visited, kind):   # pragma: no cover - would be a RestrictedPython change
        raise TypeError(f"RestrictedPython returned {type(visited).__name__} for a {kind.__name__}")
    return visited


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's transformer with our refusals and injected guards."""

    def visit_Import(self, node: ast.AST) -> ast.AST:
        self.error(node, "import statements are not allowed")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "class definitions are not allowed")
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Visited:
        """``x: int = 5`` runs as ``x = 5`` (annotations are not evaluated)."""
        if not isinstance(node.target, ast.Name):
            self.error(node, "annotated assignment is only allowed to simple names")
            return node
        replacement = ast.Pass() if node.value is None else ast.Assign([node.target], node.value)
        return self.visit(_locate(replacement, node))

    def visit_Attribute(self, node: ast.Attribute) -> Visited:
        name = node.attr
        if blocked_attribute(name) and not name.startswith("_") and name not in INSPECT_ATTRIBUTES:
            self.error(node, f'"{name}" is a restricted attribute name')
        return super().visit_Attribute(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        if isinstance(func, ast.Name):
            self._check_call(node, func.id)
        node = self.node_contents_visit(node)
        if any(isinstance(a, ast.Starred) for a in node.args):
            node.args = [_locate(ast.Starred(self._stars("c", node.args, node), ast.Load()), node)]
        return node

    def _check_call(self, node: ast.Call, name: str) -> None:
        args = node.args
        if name in FORBIDDEN_CALLS:
            self.error(node, f"{name}() is not allowed")
        elif name in ("getattr", "hasattr") and len(args) > 1 and isinstance(args[1], ast.Constant) \
                and isinstance(args[1].value, str) and blocked_attribute(args[1].value):
            self.error(node, f'{name}() of the restricted attribute "{args[1].value}"')
        elif name == "type" and (len(args) > 1 or node.keywords):
            self.error(node, "type() with three arguments (creating classes) is not allowed")
        elif name == "iter" and len(args) > 1:
            self.error(node, "iter() with a sentinel is not allowed")

    # time limit and call depth: a tick in every loop and comprehension, enter() in every call

    def visit_While(self, node: ast.While) -> ast.AST:
        node = _same(ast.While, super().visit_While(node))
        node.body.insert(0, _tick(node))
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        node = _same(ast.For, super().visit_For(node))
        node.body.insert(0, _tick(node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node = _same(ast.FunctionDef, super().visit_FunctionDef(node))
        prologue = [_locate(ast.Expr(_call("_enter_", [], node)), node)]
        if node.args.vararg:
            check = _call("_varargs_", [_locate(_name(node.args.vararg.arg), node)], node)
            prologue.append(_locate(ast.Expr(check), node))
        node.body[0:0] = prologue
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = _same(ast.Lambda, super().visit_Lambda(node))
        values = [_call("_enter_", [], node)]
        if node.args.vararg:
            values.append(_call("_varargs_", [_locate(_name(node.args.vararg.arg), node)], node))
        node.body = _locate(ast.BoolOp(ast.And(), values + [node.body]), node.body)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        node = _same(ast.comprehension, super().visit_comprehension(node))
        node.ifs.insert(0, _call("_tick_", [], node.iter))
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        """Containers compared with containers are checked first (C recursion, see nesting)."""
        node = self.node_contents_visit(node)
        operands = [node.left, *node.comparators]
        wrap = [False] * len(operands)
        for i, op in enumerate(node.ops):
            if not isinstance(op, (ast.Is, ast.IsNot)) and not _literal(operands[i]) \
                    and not _literal(operands[i + 1]):
                wrap[i] = wrap[i + 1] = True
        operands = [_call("_cmp_", [o], o) if w else o for o, w in zip(operands, wrap, strict=False)]
        node.left, node.comparators = operands[0], operands[1:]
        return node

    # size limits: operators, f-strings, starred displays, tuples

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        helper = _BINOPS.get(type(node.op))
        return node if helper is None else _call(helper, [node.left, node.right], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Visited:
        """``d[k] += v`` (RestrictedPython refuses it) becomes a guarded read-modify-write."""
        target = node.target
        if not isinstance(target, ast.Subscript):
            return super().visit_AugAssign(node)
        if isinstance(target.slice, ast.Slice):
            self.error(node, "augmented assignment to a slice is not allowed")
            return node
        obj, key, value = self.visit(target.value), self.visit(target.slice), self.visit(node.value)
        o, k = self.gen_tmp_name(), self.gen_tmp_name()
        current = _call("_getitem_", [_name(o), _name(k)], node)
        new = _call("_inplacevar_", [ast.Constant(IOPERATOR_TO_STR[type(node.op)]), current, value],
                    node)
        store = ast.Subscript(_call("_write_", [_name(o)], node), _name(k), ast.Store())
        stmts = [ast.Assign([ast.Name(o, ast.Store())], obj),
                 ast.Assign([ast.Name(k, ast.Store())], key),
                 ast.Assign([store], new)]
        for stmt in stmts:
            copy_locations(stmt, node)    # small new subtrees: fills their names and constants
        return stmts

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        node = self.node_contents_visit(node)
        if not any(isinstance(v, ast.FormattedValue) for v in node.values):
            return node
        parts: list[ast.expr] = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                spec = v.format_spec if v.format_spec is not None else _locate(ast.Constant(""), v)
                parts.append(_locate(ast.Tuple([v.value, _locate(ast.Constant(v.conversion), v), spec],
                                               ast.Load()), v))
            else:
                parts.append(v)
        return _call("_fstr_", parts, node)

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        node = self.node_contents_visit(node)
        if not isinstance(node.ctx, ast.Load) or any(isinstance(e, ast.Slice) for e in node.elts):
            return node
        if any(isinstance(e, ast.Starred) for e in node.elts):
            return self._stars("t", node.elts, node)
        if all(isinstance(e, ast.Constant) for e in node.elts):
            return node
        return _call("_tuple_", node.elts, node)

    def visit_List(self, node: ast.List) -> ast.AST:
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts):
            return self._stars("l", node.elts, node)
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        node = self.node_contents_visit(node)
        if any(isinstance(e, ast.Starred) for e in node.elts):
            return self._stars("s", node.elts, node)
        return node

    def _stars(self, kind: str, elts: list[ast.expr], like: ast.AST) -> ast.Call:
        flags = tuple(isinstance(e, ast.Starred) for e in elts)
        values = [e.value if isinstance(e, ast.Starred) else e for e in elts]
        # a Constant may hold a tuple of constants (compile() accepts it, and folds constant
        # tuple displays to one itself); typeshed's Constant lists only scalar values
        constants = [_locate(ast.Constant(kind), like),
                     _locate(ast.Constant(flags), like)]  # type: ignore[arg-type]
        return _call("_stars_", [*constants, *values], like)


def _refusal(errors: Sequence[str], source: str) -> ScriptError:
    messages, line = [], None
    for error in errors:
        m = _LINE.match(error)
        text = error
        if m:
            line = line or (int(m.group(1)) if m.group(1).isdigit() else None)
            text = f"{m.group(2)} (line {m.group(1)})"
        messages.append(text)
    return ScriptError("; ".join(messages), line=line, expression=source)


def _check_depth(tree: ast.AST, source: str) -> None:
    """Refuse syntax trees deeper than MAX_AST_DEPTH: transforming and compiling recurse."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_AST_DEPTH:
            raise ScriptError(f"script is nested more than {MAX_AST_DEPTH} levels deep",
                              line=getattr(node, "lineno", None), expression=source)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


@lru_cache(maxsize=4096)
def compile_source(source: str, mode: str) -> CodeType:
    """Compile model code once per (source, mode); raises ScriptError if it is refused."""
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    if not isinstance(source, str):
        raise ScriptError("script must be a string", expression=repr(source)[:200])
    if len(source) > MAX_SOURCE:
        raise ScriptError(f"script longer than {MAX_SOURCE} characters", expression=source[:200])
    text = source.strip() if mode == "eval" else textwrap.dedent(source)
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        with warnings.catch_warnings():   # "\d" or "x is 1" in a model: not our log's concern
            warnings.simplefilter("ignore")
            tree: ast.Module | ast.Expression = (
                ast.parse(text, FILENAME, "eval") if mode == "eval" else ast.parse(text, FILENAME, "exec"))
            _check_depth(tree, source)
            result = compiler(tree, filename=FILENAME, policy=SandboxPolicy)
    except SyntaxError as exc:        # from the parser, or the final compile ('return' outside def)
        message = f"SyntaxError: {exc.msg}"
        raise ScriptError(f"{message} (line {exc.lineno})" if exc.lineno else message,
                          line=exc.lineno, expression=source) from None
    except (RecursionError, MemoryError):
        raise ScriptError("script is nested too deeply", expression=source) from None
    except ValueError as exc:         # e.g. NUL bytes in the source
        raise ScriptError(f"cannot compile: {exc}", expression=source) from None
    if result.errors:
        raise _refusal(result.errors, source)
    if result.code is None:           # pragma: no cover - empty errors but no code
        raise ScriptError("cannot compile script", expression=source)
    return result.code
