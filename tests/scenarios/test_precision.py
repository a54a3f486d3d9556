"""Replications until the headline KPIs are precise enough (issue 17: estimates to act on)."""

from __future__ import annotations

import pytest

from scenarios.kpis import Estimate, run_kpis
from scenarios.precision import more_replications, run_until_precise, widest
from scenarios.run import ScenarioRun, run_scenario
from scenarios.spec import Precision, Scenario, ScenarioError, parse_scenario
from tests.scenarios.conftest import tiny_scenario


def _estimate(kpi: str, mean: float, half: float, n: int = 3, variant: str = "base") -> Estimate:
    return Estimate(variant, "optimised", kpi, "all", mean, mean - half, mean + half, n, "share")


def test_the_widest_half_width_is_in_points_and_says_where() -> None:
    estimates = [
        _estimate("arrival_attainment", 0.8, 0.05),
        _estimate("fix_attainment", 0.9, 0.01, variant="new-depot"),
        _estimate("eta_p90_min", 100, 50),  # not a headline share
    ]
    half, where = widest(estimates, ("arrival_attainment", "fix_attainment"))
    assert half == pytest.approx(5.0)
    assert where == "base (optimised) arrival_attainment"


def test_one_replication_has_no_interval_so_it_is_never_precise() -> None:
    half, _ = widest([_estimate("fix_attainment", 0.9, 0.0, n=1)], ("fix_attainment",))
    assert half == float("inf")


def test_rounds_grow_by_half_and_stop_at_the_target_or_the_cap() -> None:
    p = Precision(half_width_points=2, max_replications=10)
    assert more_replications(2, 1.5, p) == 0  # precise enough
    assert more_replications(2, 6.0, p) == 1
    assert more_replications(6, 6.0, p) == 3
    assert more_replications(9, 6.0, p) == 1  # the cap
    assert more_replications(10, 6.0, p) == 0


def test_the_setting_is_validated() -> None:
    with pytest.raises(ScenarioError, match="precision.half_width_points"):
        parse_scenario({"name": "x", "precision": {"half_width_points": 0}})
    with pytest.raises(ScenarioError, match="precision.kpis"):
        parse_scenario({"name": "x", "precision": {"kpis": ["eta_p90_min"]}})


def _run(scenario: Scenario) -> ScenarioRun:
    return run_until_precise(scenario, lambda sc, first: run_scenario(sc, first=first))


def test_an_unreachable_target_runs_up_to_the_cap_on_the_same_streams() -> None:
    plain = run_scenario(tiny_scenario(policies=["optimised"]))
    precise = _run(
        tiny_scenario(
            policies=["optimised"],
            precision={"half_width_points": 0.001, "max_replications": 4},
        )
    )
    assert precise.scenario.replications == 4
    assert not precise.partial
    assert {r.replication for r in precise.results} == {0, 1, 2, 3}
    assert all(e.n == 4 for e in precise.estimates if e.kpi == "tickets")
    assert precise.precision is not None
    assert not precise.precision.reached
    assert "NOT reached" in precise.precision.describe()
    # the first replications are exactly the plain run's (seed, replication) streams
    for a, b in zip(plain.results, precise.results[:2], strict=True):
        assert run_kpis(a) == run_kpis(b)


def test_a_loose_target_adds_nothing() -> None:
    # promise_attainment: two 1-day runs of the small world put the swaps (a dozen part
    # tickets) 85 points apart at 95 % (issue 17's restaffed world), the pooled clocks 15
    loose = {"half_width_points": 50, "kpis": ["promise_attainment"]}
    run = _run(tiny_scenario(policies=["optimised"], precision=loose))
    assert run.scenario.replications == 2
    assert run.precision is not None
    assert run.precision.reached
    assert run.precision.widest_points <= 50
