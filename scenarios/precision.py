"""Replications until the estimates are precise enough to act on (issue 17).

Two replications give a 95 % interval of +- 12.7 standard deviations / sqrt(2): a planner
cannot tell a real difference from noise. With `precision:` in the scenario, the run adds
replications (on the same seeds, so the first ones are the runs a plain run would make)
until every headline KPI's half-width, for every variant x policy, is at most the target,
or `max_replications` ran. Each round adds half as many again as ran (at least one): the
half-width shrinks as 1 / sqrt(n), so a few rounds reach the target or the cap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scenarios.kpis import Estimate, summarise
from scenarios.run import ScenarioRun
from scenarios.spec import Precision, Scenario

RunFrom = Callable[[Scenario, int], ScenarioRun]  # (scenario, first replication) -> runs


@dataclass(frozen=True, slots=True)
class PrecisionOutcome:
    """How precise the headline KPIs ended: the widest half-width, and where it is."""

    target_points: float
    widest_points: float
    where: str  # "variant (policy) kpi" of the widest
    replications: int
    reached: bool

    def describe(self) -> str:
        state = "reached" if self.reached else "NOT reached (max_replications)"
        return (
            f"precision: widest 95 % half-width {self.widest_points:.1f} points "
            f"({self.where}) after {self.replications} replications; target "
            f"{self.target_points:g} points {state}"
        )


def widest(estimates: Sequence[Estimate], kpis: Sequence[str]) -> tuple[float, str]:
    """The widest half-width in percentage points among the headline estimates (scope all).

    One replication has no interval: infinitely wide. A KPI no run had is skipped.
    """
    worst, where = 0.0, ""
    for e in estimates:
        if e.scope != "all" or e.kpi not in kpis:
            continue
        half = float("inf") if e.n < 2 else 100 * max(e.high - e.mean, e.mean - e.low)
        if half > worst or not where:
            worst, where = half, f"{e.variant} ({e.policy}) {e.kpi}"
    return worst, where


def more_replications(done: int, half: float, precision: Precision) -> int:
    """How many replications to add: 0 when precise enough or at the cap."""
    if half <= precision.half_width_points or done >= precision.max_replications:
        return 0
    return min(precision.max_replications - done, max(1, done // 2))


def run_until_precise(scenario: Scenario, run_from: RunFrom) -> ScenarioRun:
    """`run_from(scenario, 0)`, then more replications while the precision asks for them."""
    run = run_from(scenario, 0)
    precision = scenario.precision
    if precision is None:
        return run
    while not run.partial:
        done = run.scenario.replications
        half, where = widest(run.estimates, precision.kpis)
        add = more_replications(done, half, precision)
        if add == 0:
            run.precision = PrecisionOutcome(
                precision.half_width_points, half, where, done,
                half <= precision.half_width_points,
            )  # fmt: skip
            return run
        grown = run.scenario.model_copy(update={"replications": done + add})
        more = run_from(grown, done)
        merged = ScenarioRun(
            grown, [*run.results, *more.results], [], {**run.tickets, **more.tickets}
        )
        merged.estimates = summarise(merged.results, grown.replications)
        run = merged
    return run


__all__ = ["PrecisionOutcome", "more_replications", "run_until_precise", "widest"]
