"""Simulation (SimPy): reproducible with a seed, waits only when people are busy, joins and
subprocesses behave, loops end, and ``compare --simulate`` reports both models."""

from __future__ import annotations

import json

import pytest

from engine.analysis import analyse_bytes
from engine.analysis.simmodel import compile_model
from engine.analysis.simulate import Scenario, default_rate, simulate
from engine.analysis.sources import load_model
from engine.analysis.svg import box_plot_svg, histogram_svg
from engine.cli.main import main
from tests.conftest import FIXTURES, ROOT
from tests.fixtures.analysis.snippets import doc, flows, process, task

AS_IS = ROOT / "bpmn" / "order_handling_as_is.bpmn"
TO_BE = ROOT / "bpmn" / "order_handling_to_be.bpmn"
CLAIMS = FIXTURES / "analysis"


def sim_model(path=None, data: bytes | None = None):
    analysis = load_model(str(path)) if path else analyse_bytes(data)
    return compile_model(analysis.main)


def test_same_seed_same_result_other_seed_other_result() -> None:
    model = sim_model(AS_IS)
    runs = [simulate(model, Scenario(cases=300, replications=3, seed=s)).to_json() for s in (42, 42, 43)]
    assert json.dumps(runs[0]) == json.dumps(runs[1])
    assert runs[0]["cycle_time_hours"] != runs[2]["cycle_time_hours"]


def test_without_queues_fixed_durations_give_the_critical_path() -> None:
    quiet = Scenario(cases=20, replications=1, distribution="fixed", rate_per_hour=1e-7)
    for path, hours in ((AS_IS, 48.0), (TO_BE, 24.0)):
        result = simulate(sim_model(path), quiet).to_json()
        assert result["cycle_time_hours"]["mean"] == pytest.approx(hours)
        assert result["waiting_hours"]["mean"] == 0


def test_to_be_is_faster_under_the_same_arrivals() -> None:
    models = [sim_model(AS_IS), sim_model(TO_BE)]
    scenario = Scenario(cases=500, replications=3, seed=5)
    rate = default_rate(models, scenario)
    as_is, to_be = (simulate(m, scenario, rate).to_json() for m in models)
    assert as_is["scenario"]["arrival_rate_per_hour"] == to_be["scenario"]["arrival_rate_per_hour"]
    assert to_be["cycle_time_hours"]["mean"] < as_is["cycle_time_hours"]["mean"]
    assert to_be["cycle_time_hours"]["p90"] >= to_be["cycle_time_hours"]["mean"]
    low, high = as_is["cycle_time_hours"]["mean_ci95"]
    assert low <= as_is["cycle_time_hours"]["mean"] <= high
    assert max(as_is["utilisation"].values()) == pytest.approx(0.8, abs=0.08)   # busiest lane at ~80%
    assert sum(as_is["histogram"]["counts"]) == 1500


def test_more_people_less_waiting() -> None:
    model = sim_model(AS_IS)
    base = Scenario(cases=400, replications=2, seed=9, rate_per_hour=0.05)
    staffed = Scenario(cases=400, replications=2, seed=9, rate_per_hour=0.05,
                       capacity={"Warehouse": 3, "Finance": 3, "Production": 3, "Sales": 3})
    assert (simulate(model, staffed).to_json()["waiting_hours"]["mean"]
            < simulate(model, base).to_json()["waiting_hours"]["mean"])


def test_exclusive_branches_follow_probabilities() -> None:
    body = ('<startEvent id="s"/><exclusiveGateway id="g"/>' + task("long", 10) + task("short", 2)
            + '<exclusiveGateway id="m"/><endEvent id="e"/>' + flows("s>g>long>m>e", "g>short>m"))
    analysis = analyse_bytes(doc(process(body)))
    quiet = Scenario(cases=400, replications=1, distribution="fixed", rate_per_hour=1e-7)
    equal = simulate(compile_model(analysis.main), quiet).to_json()["cycle_time_hours"]["mean"]
    assert 5 < equal < 7
    skewed = compile_model(analysis.main, {"f_g_long": 0.0, "f_g_short": 1.0})
    assert simulate(skewed, quiet).to_json()["cycle_time_hours"]["mean"] == pytest.approx(2.0)


def test_loop_ends_and_unstructured_join_does_not_deadlock() -> None:
    body = ('<startEvent id="s"/>' + task("a", 1) + '<exclusiveGateway id="g"/>' + task("b", 1)
            + '<parallelGateway id="j"/><endEvent id="e"/>'
            + flows("s>a>g", "g>a", "g>b>j", "g>j", "j>e"))
    model = compile_model(analyse_bytes(doc(process(body))).main)
    result = simulate(model, Scenario(cases=200, replications=1, distribution="fixed", rate_per_hour=1e-7))
    assert result.to_json()["replications"][0]["cases"] == 200
    assert min(result.cycle_times) >= 1.0


def test_subprocess_scope_and_terminate() -> None:
    inner = ('<startEvent id="is"/><parallelGateway id="ps"/>' + task("x", 2) + task("y", 5)
             + '<endEvent id="ie1"/><endEvent id="ie2"/>' + flows("is>ps>x>ie1", "ps>y>ie2", prefix="i"))
    body = ('<startEvent id="s"/>' + f'<subProcess id="sub">{inner}</subProcess>' + task("z", 1)
            + '<endEvent id="e"><terminateEventDefinition/></endEvent>' + flows("s>sub>z>e"))
    model = compile_model(analyse_bytes(doc(process(body))).main)
    quiet = Scenario(cases=10, replications=1, distribution="fixed", rate_per_hour=1e-7)
    # no lanes: the pool is one performer, so the parallel x and y run one after the other
    assert simulate(model, quiet).to_json()["cycle_time_hours"]["mean"] == pytest.approx(8.0)
    quiet.capacity = {"p": 2}
    assert simulate(model, quiet).to_json()["cycle_time_hours"]["mean"] == pytest.approx(6.0)


def test_model_without_start_event_or_tasks() -> None:
    data = doc(process(task("a", 1) + task("b", 2) + flows("a>b")))
    res = simulate(compile_model(analyse_bytes(data).main), Scenario(cases=5, replications=2, distribution="fixed"))
    assert res.to_json()["cycle_time_hours"]["mean"] == pytest.approx(3.0, abs=1e-6) or \
        res.to_json()["waiting_hours"]["mean"] > 0
    empty = simulate(compile_model(analyse_bytes(doc(process(""))).main), Scenario(cases=3, replications=1))
    assert empty.to_json()["cycle_time_hours"]["mean"] == 0


def test_compare_simulate_cli(database_url: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)
    args = ["compare", str(CLAIMS / "claims_as_is.bpmn"), str(CLAIMS / "claims_to_be.bpmn"), "--json",
            "--simulate", "--cases", "200", "--replications", "2", "--seed", "11"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["simulation"] == first["simulation"]
    sim = first["simulation"]
    for side in ("as_is", "to_be"):
        s = sim[side]
        assert {"cycle_time_hours", "working_hours", "waiting_hours", "utilisation", "replications"} <= set(s)
        assert s["scenario"]["seed"] == 11 and len(s["replications"]) == 2
    assert sim["to_be"]["cycle_time_hours"]["mean"] < sim["as_is"]["cycle_time_hours"]["mean"]
    assert main(args[:3] + ["--simulate", "--cases", "50", "--replications", "1"]) == 0
    assert "simulation: 50 cases" in capsys.readouterr().out


def test_svg_plots_are_plain_text() -> None:
    result = simulate(sim_model(TO_BE), Scenario(cases=100, replications=1))
    svg = histogram_svg(result.cycle_times, title="to-be")
    assert svg.startswith("<svg") and svg.count("<rect") >= 10 and "to-be" in svg
    box = box_plot_svg({"as-is": [1, 2, 3, 10], "to-be & <x>": [1, 1, 2]})
    assert box.startswith("<svg") and "&amp;" in box and "<x>" not in box
    assert histogram_svg([]).startswith("<svg")


def test_comparison_page_data_with_plots() -> None:
    from engine.analysis.report import comparison

    report = comparison(str(AS_IS), str(TO_BE), scenario=Scenario(cases=100, replications=2, seed=3),
                        with_plots=True)
    assert report["summary"].startswith("steps 5 → 3")
    assert report["simulation"]["as_is"]["scenario"]["arrival_rate_per_hour"] == \
        report["simulation"]["to_be"]["scenario"]["arrival_rate_per_hour"]
    assert report["plots"]["box_plot"].startswith("<svg")
    assert set(report["plots"]["histogram"]) == {"as_is", "to_be"}


def test_endless_loop_is_ended_by_a_terminate_end_on_another_branch() -> None:
    def run(bake_hours: float | None) -> dict:
        body = ('<startEvent id="s"/><parallelGateway id="p"/><intermediateCatchEvent id="ask"/>'
                + task("calm", None) + task("bake", bake_hours)
                + '<endEvent id="e"><terminateEventDefinition/></endEvent>' + flows("s>p>ask>calm>ask", "p>bake>e"))
        model = compile_model(analyse_bytes(doc(process(body))).main)
        return simulate(model, Scenario(cases=5, replications=1, distribution="fixed", rate_per_hour=1e-7)).to_json()

    instant = run(None)          # the terminate end wins before the loop guard is needed
    assert instant["loop_guard_hits"] == 0 and instant["cycle_time_hours"]["mean"] == 0
    slow = run(1)                # a zero-time loop for an hour: the guard stops it, the case still ends
    assert slow["loop_guard_hits"] == 5 and slow["cycle_time_hours"]["mean"] == pytest.approx(1.0)


def test_subprocess_declared_duration_is_simulated() -> None:
    inner = '<startEvent id="is"/>' + task("x") + flows("is>x", prefix="i")
    props = ('<extensionElements><camunda:properties><camunda:property name="duration" value="PT5H"/>'
             '</camunda:properties></extensionElements>')
    body = f'<startEvent id="s"/><subProcess id="sub">{props}{inner}</subProcess>' + task("z", 1) + flows("s>sub>z")
    model = compile_model(analyse_bytes(doc(process(body))).main)
    quiet = Scenario(cases=3, replications=1, distribution="fixed", rate_per_hour=1e-7)
    assert simulate(model, quiet).to_json()["cycle_time_hours"]["mean"] == pytest.approx(6.0)
