"""Longest (critical) path over a flow graph whose loops are broken by ignoring back edges.

Parallel and exclusive branches are treated alike: a join waits for its slowest branch and an
exclusive choice is taken at its worst case, so both reduce to the longest path in the DAG
that remains once a depth-first search from the entries drops the edges closing a loop.
Iterative throughout: models with thousands of chained nodes must not hit the recursion limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.analysis.graph import Edge, Graph


@dataclass
class Paths:
    order: list[str] = field(default_factory=list)        # normal-flow nodes, topological order
    roots: list[str] = field(default_factory=list)
    back: set[int] = field(default_factory=set)           # id() of back edges
    handlers: set[str] = field(default_factory=set)       # reached only by exception handling
    seconds: float = 0.0
    path: list[str] = field(default_factory=list)         # node ids of the critical path

    def is_back(self, edge: Edge) -> bool:
        return id(edge) in self.back


def _reach(graph: Graph, roots: Iterable[str], exceptional: bool) -> set[str]:
    seen = set(roots)
    queue = deque(seen)
    while queue:
        nid = queue.popleft()
        for edge in graph.out[nid]:
            if (exceptional or not edge.exceptional) and edge.target not in seen:
                seen.add(edge.target)
                queue.append(edge.target)
    return seen


def _dfs(graph: Graph, root: str, color: dict[str, int], back: set[int], post: list[str]) -> None:
    color[root] = 1
    stack = [(root, iter(graph.normal_out(root)))]
    while stack:
        nid, edges = stack[-1]
        for edge in edges:
            state = color.get(edge.target)
            if state is None:
                color[edge.target] = 1
                stack.append((edge.target, iter(graph.normal_out(edge.target))))
                break
            if state == 1:
                back.add(id(edge))
        else:
            color[nid] = 2
            post.append(nid)
            stack.pop()


def analyse_paths(graph: Graph) -> Paths:
    """Roots, back edges, topological order and the critical path of ``graph``."""
    result = Paths()
    color: dict[str, int] = {}
    post: list[str] = []
    roots = list(graph.entries)
    for root in roots:
        if root not in color:
            _dfs(graph, root, color, result.back, post)
    result.handlers = _reach(graph, graph.handler_roots, True) - set(color)
    # Nodes nothing normal reaches (floating tasks, a process without entries): their own roots.
    rest = [n for n in graph.nodes if n not in color and n not in result.handlers]
    for strict in (True, False):
        for nid in rest:
            if nid in color:
                continue
            if strict and any(e.source not in result.handlers for e in graph.normal_in(nid)):
                continue
            roots.append(nid)
            _dfs(graph, nid, color, result.back, post)
    result.roots = roots
    result.order = post[::-1]
    _longest(graph, result)
    return result


def _longest(graph: Graph, result: Paths) -> None:
    best: dict[str, tuple[float, int]] = {}
    pred: dict[str, str | None] = {}
    for nid in result.order:
        node = graph.nodes[nid]
        here = (node.seconds, 1 if node.is_activity else 0)
        choice: tuple[float, int] = (0.0, 0)
        chosen = None
        for edge in graph.normal_in(nid):
            if edge.source in best and not result.is_back(edge) and (
                    chosen is None or best[edge.source] > choice):
                choice, chosen = best[edge.source], edge.source
        best[nid] = (choice[0] + here[0], choice[1] + here[1])
        pred[nid] = chosen
    if not best:
        return
    end = max(result.order, key=lambda n: best[n])
    path = []
    cursor: str | None = end
    while cursor is not None:
        path.append(cursor)
        cursor = pred[cursor]
    result.path = path[::-1]
    result.seconds = best[end][0]


def dag_reach(graph: Graph, paths: Paths, start: str) -> set[str]:
    """Nodes reachable from ``start`` along normal, non-back edges (``start`` included)."""
    seen = {start}
    queue = deque([start])
    while queue:
        nid = queue.popleft()
        for edge in graph.normal_out(nid):
            if not paths.is_back(edge) and edge.target not in seen:
                seen.add(edge.target)
                queue.append(edge.target)
    return seen
