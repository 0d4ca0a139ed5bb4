"""The full comparison a page or the CLI shows: figures, deltas, changes and — on request —
both models simulated under one arrival scenario, with SVG plots of their cycle times."""

from __future__ import annotations

from typing import Any

from engine.analysis.compare import compare
from engine.analysis.model import ModelAnalysis
from engine.analysis.simmodel import compile_model
from engine.analysis.simulate import Scenario, SimulationResult, default_rate, simulate
from engine.analysis.sources import Fetch, load_model
from engine.analysis.svg import box_plot_svg, histogram_svg
from engine.errors import InvalidInput


def simulate_pair(as_is: ModelAnalysis, to_be: ModelAnalysis, scenario: Scenario
                  ) -> tuple[SimulationResult, SimulationResult]:
    """Both main processes under the same arrivals (rate: given, else 80% on the busiest lane)."""
    models = []
    for side in (as_is, to_be):
        if side.main is None:
            raise InvalidInput(f"{side.source}: no process to simulate")
        models.append(compile_model(side.main, scenario.probabilities))
    rate = scenario.rate_per_hour or default_rate(models, scenario)
    return simulate(models[0], scenario, rate), simulate(models[1], scenario, rate)


def plots(as_is: SimulationResult, to_be: SimulationResult) -> dict[str, Any]:
    """SVG text: a cycle-time histogram per model and one box plot of both."""
    return {"histogram": {"as_is": histogram_svg(as_is.cycle_times, title="as-is cycle time (h)"),
                          "to_be": histogram_svg(to_be.cycle_times, title="to-be cycle time (h)")},
            "box_plot": box_plot_svg({"as-is": as_is.cycle_times, "to-be": to_be.cycle_times})}


def comparison(as_is_spec: str, to_be_spec: str, fetch: Fetch | None = None,
               scenario: Scenario | None = None, with_plots: bool = False,
               max_bytes: int | None = None) -> dict[str, Any]:
    """``compare`` of two files or definition keys, plus ``simulation`` (and ``plots``) when a
    scenario is given.  What the comparison page renders; the diagrams come from
    ``Engine.diagram`` or the files themselves."""
    kwargs = {"max_bytes": max_bytes} if max_bytes else {}
    as_is, to_be = load_model(as_is_spec, fetch, **kwargs), load_model(to_be_spec, fetch, **kwargs)
    report = compare(as_is, to_be)
    if scenario is not None:
        a, t = simulate_pair(as_is, to_be, scenario)
        report["simulation"] = {"as_is": a.to_json(), "to_be": t.to_json()}
        if with_plots:
            report["plots"] = plots(a, t)
    return report
