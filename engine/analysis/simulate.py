"""Discrete-event simulation (SimPy) of a process under an arrival scenario.

Cases arrive as a Poisson stream; each token walks the compiled graph (``simmodel``); a step
queues for a person of its lane (a ``simpy.Resource`` per lane, capacity 1 unless set) and
works for a time drawn around its ``duration`` (triangular ±50% by default, exponential or
fixed).  Subprocesses run as scopes that end when their last token does; a join waits for
all its incoming branches, or — when nothing else in its scope is moving (a skipped branch) —
for what has arrived.  Every random stream is seeded from (seed, replication, purpose), so the
same seed gives the same figures, and two models compared get the same arrivals.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

import simpy

from engine.analysis import stats
from engine.analysis.simmodel import SimModel, Spec

DISTRIBUTIONS = ("triangular", "exponential", "fixed")


@dataclass
class Scenario:
    cases: int = 1000
    replications: int = 5
    seed: int = 1
    rate_per_hour: float | None = None      # None: see default_rate()
    distribution: str = "triangular"
    spread: float = 0.5                      # triangular: duration × (1 ± spread)
    capacity: dict[str, int] = field(default_factory=dict)
    default_capacity: int = 1
    probabilities: dict[str, float] = field(default_factory=dict)
    target_utilisation: float = 0.8
    max_loops: int = 10_000                  # loop passes per case: stops a loop that never exits

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "replications": self.replications, "seed": self.seed,
                "arrival_rate_per_hour": self.rate_per_hour, "distribution": self.distribution,
                "spread": self.spread, "capacity": dict(self.capacity),
                "default_capacity": self.default_capacity}


def default_rate(models: list[SimModel], scenario: Scenario, pilot_cases: int = 500) -> float:
    """Arrivals per hour that keep the busiest lane of any model at the target utilisation.

    The work per case and lane is measured by a pilot run with unlimited people (no queues),
    so rework loops and branch probabilities count as they will in the real run.
    """
    busiest = 0.0
    for model in models:
        pilot = _Run(model, replace(scenario, cases=pilot_cases, distribution="fixed"), 1.0, -1,
                     unlimited=True)
        pilot.run()
        for lane, busy in pilot.busy.items():
            per_case = busy / pilot_cases / scenario.capacity.get(lane, scenario.default_capacity)
            busiest = max(busiest, per_case)
    return scenario.target_utilisation / busiest if busiest > 0 else 1.0


class _Scope:
    __slots__ = ("live", "waiting", "done", "dead")

    def __init__(self, env: simpy.Environment, live: int):
        self.live = live
        self.waiting: dict[str, dict[str | None, int]] = {}
        self.done = env.event()
        self.dead = False


class _Case:
    __slots__ = ("arrived", "work", "wait", "loops")

    def __init__(self, arrived: float):
        self.arrived, self.work, self.wait, self.loops = arrived, 0.0, 0.0, 0


class _Run:
    """One replication."""

    def __init__(self, model: SimModel, scenario: Scenario, rate: float, replication: int,
                 unlimited: bool = False):
        self.model, self.sc, self.rate, self.unlimited = model, scenario, rate, unlimited
        base = f"{scenario.seed}/{replication}"
        self.arrivals = random.Random(base + "/arrivals")
        self.service = random.Random(base + "/service")
        self.routing = random.Random(base + "/routing")
        self.env = simpy.Environment()
        lanes = {s.resource for s in model.specs.values() if s.resource}
        self.capacity = {lane: max(1, scenario.capacity.get(lane, scenario.default_capacity)) for lane in lanes}
        self.resources = {lane: simpy.Resource(self.env, cap) for lane, cap in self.capacity.items()}
        self.busy = dict.fromkeys(lanes, 0.0)
        self.cycle: list[float] = []
        self.work: list[float] = []
        self.wait: list[float] = []
        self.guard_hits = 0

    def run(self) -> None:
        self.env.process(self._source())
        self.env.run()

    def _source(self) -> Any:
        for i in range(self.sc.cases):
            if i:
                yield self.env.timeout(self.arrivals.expovariate(self.rate))
            self.env.process(self._case())

    def _case(self) -> Any:
        case = _Case(self.env.now)
        m = self.model
        roots = [self.routing.choice(m.starts)] if m.starts else list(m.entries)
        scope = _Scope(self.env, len(roots))
        for nid in roots:
            self.env.process(self._token(case, scope, nid, None, False))
        if not roots:
            scope.done.succeed()
        yield scope.done
        self.cycle.append(self.env.now - case.arrived)
        self.work.append(case.work)
        self.wait.append(case.wait)

    def _sample(self, hours: float) -> float:
        if hours <= 0:
            return 0.0
        if self.sc.distribution == "exponential":
            return self.service.expovariate(1 / hours)
        if self.sc.distribution == "fixed":
            return hours
        spread = min(max(self.sc.spread, 0.0), 1.0)
        return self.service.triangular(hours * (1 - spread), hours * (1 + spread), hours)

    def _token(self, case: _Case, scope: _Scope, nid: str, prev: str | None, through: bool) -> Any:
        specs = self.model.specs
        while True:
            if scope.dead:
                return
            spec = specs[nid]
            if spec.join and not through:
                self._arrive(case, scope, spec, prev)
                return
            through = False
            if spec.exit is not None:
                child = _Scope(self.env, len(spec.entries))
                for entry in spec.entries:
                    self.env.process(self._token(case, child, entry, nid, False))
                if not spec.entries:
                    child.done.succeed()
                yield child.done
                if scope.dead:
                    return
                nid, spec = spec.exit, specs[spec.exit]
                if spec.hours > 0:     # the subprocess's own duration, its content having none
                    yield from self._work(case, spec)
            elif spec.hours > 0:
                yield from self._work(case, spec)
                if scope.dead:
                    return
            if spec.terminate:
                self._finish(scope, dead=True)
                return
            targets = self._route(spec)
            if not targets:
                self._end(case, scope)
                return
            for target, back in targets[1:]:
                scope.live += 1
                self.env.process(self._token(case, scope, target, nid, back))
            prev, (nid, through) = nid, targets[0]
            if through:       # a loop closes: let other tokens (a terminate end) run first
                case.loops += 1
                if case.loops > self.sc.max_loops:
                    self.guard_hits += 1
                    self._end(case, scope)
                    return
                yield self.env.timeout(0)

    def _work(self, case: _Case, spec: Spec) -> Any:
        duration = self._sample(spec.hours)
        case.work += duration
        if spec.resource is None or self.unlimited:
            if spec.resource is not None:
                self.busy[spec.resource] += duration
            yield self.env.timeout(duration)
            return
        asked = self.env.now
        with self.resources[spec.resource].request() as request:
            yield request
            case.wait += self.env.now - asked
            self.busy[spec.resource] += duration
            yield self.env.timeout(duration)

    def _route(self, spec: Spec) -> list[tuple[str, bool]]:
        branches = spec.branches
        if spec.route == "all":
            return [(b.target, b.back) for b in branches]
        if spec.route == "some":
            chosen = [(b.target, b.back) for b in branches if self.routing.random() < b.weight]
            if chosen:
                return chosen
        if spec.route in ("one", "some") and branches:
            weights = [max(b.weight, 0.0) for b in branches]
            pick = self.routing.choices(branches, weights=weights if sum(weights) > 0 else None)[0]
            return [(pick.target, pick.back)]
        return []

    def _arrive(self, case: _Case, scope: _Scope, spec: Spec, prev: str | None) -> None:
        arrived = scope.waiting.setdefault(spec.id, {})
        arrived[prev] = arrived.get(prev, 0) + 1
        scope.live -= 1
        if all(arrived.get(src, 0) > 0 for src in spec.join):
            for src in spec.join:
                arrived[src] -= 1
            self._resume(case, scope, spec.id)
        elif scope.live == 0:
            self._release(case, scope)

    def _resume(self, case: _Case, scope: _Scope, nid: str) -> None:
        scope.live += 1
        self.env.process(self._token(case, scope, nid, None, True))

    def _release(self, case: _Case, scope: _Scope) -> None:
        """Nothing moves in the scope: fire the first join holding tokens, or end the scope."""
        waiting = [nid for nid, arrived in scope.waiting.items() if any(arrived.values())]
        if not waiting:
            self._finish(scope)
            return
        nid = min(waiting, key=lambda n: self.model.order.get(n, 1 << 30))
        scope.waiting[nid] = {}
        self._resume(case, scope, nid)

    def _end(self, case: _Case, scope: _Scope) -> None:
        scope.live -= 1
        if scope.live <= 0:
            self._release(case, scope)

    def _finish(self, scope: _Scope, dead: bool = False) -> None:
        scope.dead = scope.dead or dead
        if not scope.done.triggered:
            scope.done.succeed()


@dataclass
class SimulationResult:
    model: SimModel
    scenario: Scenario
    rate: float
    runs: list[_Run]

    @property
    def cycle_times(self) -> list[float]:
        """Every case's cycle time in hours, all replications pooled (for plots)."""
        return [c for run in self.runs for c in run.cycle]

    def to_json(self) -> dict[str, Any]:
        means = [stats.mean(r.cycle) for r in self.runs]
        p90s = [stats.percentile(r.cycle, 90) for r in self.runs]
        work = [stats.mean(r.work) for r in self.runs]
        wait = [stats.mean(r.wait) for r in self.runs]
        util: dict[str, list[float]] = {}
        for r in self.runs:
            horizon = r.env.now or 1.0
            for lane, busy in r.busy.items():
                util.setdefault(lane, []).append(busy / (r.capacity[lane] * horizon))
        scenario = self.scenario.to_json() | {"arrival_rate_per_hour": _r(self.rate)}

        def figure(values: list[float]) -> dict[str, Any]:
            low, high = stats.ci95(values)
            return {"mean": _r(stats.mean(values)), "ci95": [_r(low), _r(high)]}

        return {
            "process": self.model.key, "scenario": scenario,
            "cycle_time_hours": {"mean": _r(stats.mean(means)), "mean_ci95": figure(means)["ci95"],
                                 "p90": _r(stats.mean(p90s)), "p90_ci95": figure(p90s)["ci95"]},
            "working_hours": figure(work), "waiting_hours": figure(wait),
            "utilisation": {lane: _r(stats.mean(v)) for lane, v in sorted(util.items())},
            "replications": [{"mean_hours": _r(m), "p90_hours": _r(p), "working_hours": _r(w),
                              "waiting_hours": _r(q), "cases": len(r.cycle)}
                             for m, p, w, q, r in zip(means, p90s, work, wait, self.runs, strict=True)],
            "histogram": stats.histogram(self.cycle_times),
            "loop_guard_hits": sum(r.guard_hits for r in self.runs),
        }


def _r(value: float) -> float:
    return round(value, 4) + 0.0


def simulate(model: SimModel, scenario: Scenario, rate: float | None = None) -> SimulationResult:
    """Run ``scenario.replications`` independent replications of ``scenario.cases`` cases."""
    if scenario.distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}")
    if scenario.cases < 1 or scenario.replications < 1:
        raise ValueError("cases and replications must be at least 1")
    rate = rate or scenario.rate_per_hour or default_rate([model], scenario)
    runs = []
    for replication in range(scenario.replications):
        run = _Run(model, scenario, rate, replication)
        run.run()
        runs.append(run)
    return SimulationResult(model, scenario, rate, runs)
