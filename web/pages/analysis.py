"""The as-is / to-be comparison page: two stored definitions side by side — figures and deltas,
the two diagrams (bpmn-js), the tasks removed, merged, parallelised or automated, and both
simulated under one arrival scenario with their cycle-time plots (same seed, same plot).

Only stored definition keys are accepted (never file paths: the engine's ``load_model`` also
reads files, which a web caller must not reach).  The plots are SVG produced by
``engine.analysis.svg``; before they are inlined they are re-parsed and rebuilt from a small
allow-list of elements and attributes, so whatever text a model contributed stays text.
"""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from flask import Blueprint, render_template, request
from lxml import etree
from markupsafe import Markup

from engine.analysis.report import comparison
from engine.analysis.simulate import Scenario
from engine.api import Engine
from engine.errors import InvalidInput, NotFound
from web.auth import engine, login_required

bp = Blueprint("analysis", __name__)

DEFAULT_PAIR = ("order_handling_as_is", "order_handling_to_be")
PAGE_CASES, MAX_CASES, MAX_REPLICATIONS, MAX_SIMULATED = 500, 10_000, 20, 50_000
SVG_NS = "http://www.w3.org/2000/svg"
_ELEMENTS = {"svg", "g", "text", "line", "rect", "circle", "title", "path", "polyline"}
_ATTRIBUTES = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "viewBox", "fill",
               "stroke", "stroke-width", "text-anchor", "font-family", "font-size", "role", "aria-label",
               "points", "d", "opacity", "transform"}
_SAFE_VALUE = re.compile(r"^[\w .,#%()+\-/:;]*$")
CACHE_SIZE = 16
_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
_LOCK = threading.Lock()


def _keys(eng: Engine) -> list[Any]:
    return sorted(eng.definitions(), key=lambda d: d.key)


def pick(eng: Engine, as_is: str | None, to_be: str | None) -> tuple[str | None, str | None]:
    """The requested keys (which must be stored definitions), else the bundled order pair."""
    known = {d.key for d in eng.definitions()}
    for given in (as_is, to_be):
        if given and given not in known:
            raise NotFound(f"no definition with key '{given}' (see the Runbooks page)")
    if as_is and to_be:
        return as_is, to_be
    default = DEFAULT_PAIR if set(DEFAULT_PAIR) <= known else (None, None)
    return as_is or default[0], to_be or default[1]


def scenario_from(cases: int | None, seed: int | None, replications: int | None = None) -> Scenario | None:
    """``cases`` 0 or None: no simulation; bounded so one request cannot hold a worker for long."""
    if not cases:
        return None
    if cases > MAX_CASES:
        raise InvalidInput(f"simulate: at most {MAX_CASES} cases")
    if replications is not None and not 1 <= replications <= MAX_REPLICATIONS:
        raise InvalidInput(f"replications: from 1 to {MAX_REPLICATIONS}")
    if cases * (replications or 5) > MAX_SIMULATED:
        raise InvalidInput(f"simulate × replications: at most {MAX_SIMULATED} cases in all")
    return Scenario(cases=cases, seed=1 if seed is None else seed, replications=replications or 5)


def run(eng: Engine, as_is: str, to_be: str, scenario: Scenario | None, plots: bool) -> dict[str, Any]:
    """The comparison report of two stored definitions (the CLI's ``compare --json`` shape).
    Reports are deterministic (same models, same seed, same figures), so the last few are kept
    per content hash: reloading the page does not simulate again."""
    hashes = {d.key: d.sha256 for d in eng.definitions()}
    cache_key = (hashes.get(as_is), hashes.get(to_be), as_is, to_be, plots,
                 None if scenario is None else (scenario.cases, scenario.seed, scenario.replications))
    with _LOCK:
        cached = _CACHE.get(cache_key)
    if cached is None:
        cached = comparison(as_is, to_be, eng.diagram, scenario, with_plots=plots,
                            max_bytes=eng.config.max_model_bytes)
        cached["keys"] = {"as_is": as_is, "to_be": to_be}
        with _LOCK:
            _CACHE[cache_key] = cached
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
    return copy.deepcopy(cached)


def safe_svg(text: str) -> Markup:
    """Rebuild an SVG plot from allowed elements and attributes only; anything else is dropped."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return Markup('<p class="empty">The plot could not be shown.</p>')
    return Markup(etree.tostring(_clean(root), encoding="unicode"))


def _clean(node: Any) -> Any:
    tag = etree.QName(node).localname if isinstance(node.tag, str) else ""
    out = etree.Element(f"{{{SVG_NS}}}{tag}", nsmap={None: SVG_NS}) if tag == "svg" else etree.Element(
        f"{{{SVG_NS}}}{tag}")
    for name, value in node.attrib.items():
        if name in _ATTRIBUTES and _SAFE_VALUE.match(value) and "url(" not in value.lower():
            out.set(name, value)
    out.text = node.text
    for child in node:
        if isinstance(child.tag, str) and etree.QName(child).localname in _ELEMENTS:
            cleaned = _clean(child)
            cleaned.tail = child.tail
            out.append(cleaned)
    return out


def markers(changes: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Activity name -> change, per side, for compare.js to colour the two diagrams."""
    as_is: dict[str, str] = {}
    to_be: dict[str, str] = {}
    for name in changes.get("removed", []):
        as_is[name] = "removed"
    for name in changes.get("added", []):
        to_be[name] = "added"
    for item in changes.get("merged", []):
        as_is.update(dict.fromkeys(item["from"], "merged"))
        to_be[item["into"]] = "merged"
    for kind in ("automated", "renamed"):
        for item in changes.get(kind, []):
            as_is[item["from"]], to_be[item["to"]] = kind, kind
    for name in changes.get("parallelised", []):
        as_is.setdefault(name, "parallelised")
        to_be.setdefault(name, "parallelised")
    return {"as_is": as_is, "to_be": to_be}


def _int(name: str, default: int | None) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise InvalidInput(f"'{name}' must be a whole number")
    return int(raw)


@bp.route("/compare")
@login_required
def compare_page() -> Any:
    eng = engine()
    definitions = _keys(eng)
    asked_as_is, asked_to_be = request.args.get("as_is") or "", request.args.get("to_be") or ""
    form: dict[str, Any] = {"as_is": asked_as_is, "to_be": asked_to_be, "simulate": PAGE_CASES, "seed": 1}
    try:
        as_is, to_be = pick(eng, asked_as_is or None, asked_to_be or None)
        simulate, seed = _int("simulate", PAGE_CASES), _int("seed", 1)
        form["simulate"], form["seed"] = simulate, seed
        scenario = scenario_from(simulate, seed)
        report = run(eng, as_is, to_be, scenario, plots=True) if as_is and to_be else None
    except (InvalidInput, NotFound) as exc:
        return render_template("compare.html", definitions=definitions, form=form, report=None,
                               error=str(exc)), 404 if isinstance(exc, NotFound) else 400
    plots = {}
    if report and "plots" in report:
        p = report["plots"]
        plots = {"box_plot": safe_svg(p["box_plot"]), "as_is": safe_svg(p["histogram"]["as_is"]),
                 "to_be": safe_svg(p["histogram"]["to_be"])}
    versions = {d.key: d.version for d in definitions}
    form.update(as_is=as_is or "", to_be=to_be or "")
    return render_template("compare.html", definitions=definitions, form=form, report=report, plots=plots,
                           versions=versions, error=None,
                           markers=markers(report["changes"]) if report else {"as_is": {}, "to_be": {}})
