"""What changed between two models, by activity name: kept, removed, added, merged, renamed,
automated and parallelised steps.

Names are the only link between an as-is and a to-be drawn separately, so matching is
deliberately simple and explainable: exact names first, then shared word stems.
"""

from __future__ import annotations

import re
from typing import Any

from engine.analysis.graph import Node
from engine.analysis.model import ModelAnalysis
from engine.analysis.structure import parallel_steps

_STOP = {"and", "or", "the", "a", "an", "of", "to", "for", "with", "in", "on", "by", "at", "from",
         "per", "via", "und", "der", "die", "das"}
_SUFFIXES = ("ings", "ing", "ations", "ation", "ed", "es", "s", "al", "ly", "e")


def normalise(name: str) -> str:
    return " ".join(re.findall(r"\w+", name.lower()))


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


def stems(name: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"\w+", name.lower()) if w not in _STOP}


def similarity(a: str, b: str) -> float:
    sa, sb = stems(a), stems(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def _activities(model: ModelAnalysis) -> list[tuple[Node, bool]]:
    """(node, runs in parallel with another step) for every activity of the model."""
    out: list[tuple[Node, bool]] = []
    for process in model.processes:
        parallel = parallel_steps(process)
        out.extend((n, n.id in parallel) for n in process.graph.nodes.values() if n.is_activity)
    return out


def changes(as_is: ModelAnalysis, to_be: ModelAnalysis) -> dict[str, Any]:
    before, after = _activities(as_is), _activities(to_be)
    pairs: list[tuple[int, int]] = []
    free_a, free_b = set(range(len(before))), set(range(len(after)))
    for i, (a, _) in enumerate(before):          # 1. the same name
        for j in sorted(free_b):
            if normalise(after[j][0].name) == normalise(a.name):
                pairs.append((i, j))
                free_a.discard(i)
                free_b.discard(j)
                break
    groups: dict[int, list[int]] = {}
    for i in sorted(free_a):                     # 2. shared word stems (merges, renames)
        scored = [(similarity(before[i][0].name, after[j][0].name), -j) for j in free_b]
        best = max(scored, default=(0.0, 0))
        if best[0] >= 0.5:
            groups.setdefault(-best[1], []).append(i)
    result: dict[str, Any] = {"kept": [], "renamed": [], "merged": [], "automated": [],
                              "parallelised": [], "removed": [], "added": []}
    for j, members in groups.items():
        free_b.discard(j)
        free_a.difference_update(members)
        if len(members) > 1:
            result["merged"].append({"into": after[j][0].name, "from": [before[i][0].name for i in members]})
        else:
            pairs.append((members[0], j))
    for j in sorted(free_b):                     # 3. a new automated step replacing a human one
        if after[j][0].category != "automated":
            continue
        scored = [(len(stems(before[i][0].name) & stems(after[j][0].name)), -i) for i in free_a
                  if before[i][0].category == "step"]
        best = max(scored, default=(0, 0))
        if best[0] >= 1:
            i = -best[1]
            free_a.discard(i)
            free_b.discard(j)
            result["automated"].append({"from": before[i][0].name, "to": after[j][0].name})
    for i, j in sorted(pairs):
        (a, a_par), (b, b_par) = before[i], after[j]
        if a.category == "step" and b.category == "automated":
            result["automated"].append({"from": a.name, "to": b.name})
        elif normalise(a.name) == normalise(b.name):
            result["kept"].append(b.name)
        else:
            result["renamed"].append({"from": a.name, "to": b.name})
        if b_par and not a_par:
            result["parallelised"].append(b.name)
    result["removed"] = [before[i][0].name for i in sorted(free_a)]
    result["added"] = [after[j][0].name for j in sorted(free_b)]
    return result
