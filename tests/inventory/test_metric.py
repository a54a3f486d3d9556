"""METRIC checks: closed forms, scipy, stockpyl, a hand-computed two-echelon case, brute force."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal

import numpy as np
import pytest
from scipy import stats
from stockpyl.loss_functions import poisson_loss
from stockpyl.newsvendor import newsvendor_poisson

from inventory.metric import (
    Metric,
    MetricProblem,
    evaluate,
    expected_backorders,
    fill_rate,
    optimal_base_stock,
    pipeline_mean,
    problem_from_rows,
    regional_pipeline,
)
from inventory.metric_allocate import AllocationParams, Rank, allocate


class TestSingleSite:
    def test_ebo_and_fill_by_hand(self) -> None:
        # mu = 1: EBO(0) = 1; EBO(1) = mu - 1 + P(0) = 1/e; EBO(2) = EBO(1) - P(X > 1)
        # = 1/e - (1 - 2/e) = 3/e - 1. Fill: P(X < 1) = 1/e, P(X < 2) = 2/e, P(X < 3) = 2.5/e.
        e = math.exp(-1)
        assert expected_backorders([0, 1, 2], 1.0) == pytest.approx([1, e, 3 * e - 1])
        assert fill_rate([0, 1, 2, 3], 1.0) == pytest.approx([0, e, 2 * e, 2.5 * e])

    @pytest.mark.parametrize("mu", [0.01, 0.3, 1.0, 4.5, 20.0, 75.0])
    def test_against_scipy_poisson_sums(self, mu: float) -> None:
        s = np.arange(0, int(mu * 2 + 15))
        k = np.arange(0, int(mu * 4 + 80))
        pmf = stats.poisson.pmf(k, mu)
        direct = [(np.maximum(k - level, 0) * pmf).sum() for level in s]
        assert expected_backorders(s, mu) == pytest.approx(direct, abs=1e-10)
        assert fill_rate(s, mu) == pytest.approx(
            np.where(s > 0, stats.poisson.cdf(s - 1, mu), 0.0), abs=1e-12
        )

    @pytest.mark.parametrize(("s", "mu"), [(18, 15.0), (0, 2.0), (3, 0.4), (60, 50.0)])
    def test_ebo_is_stockpyls_poisson_loss(self, s: int, mu: float) -> None:
        n, _ = poisson_loss(s, mu)
        assert float(expected_backorders(s, mu)) == pytest.approx(float(n), abs=1e-9)

    @pytest.mark.parametrize(
        ("h", "p", "mu"), [(0.18, 0.70, 50.0), (1.0, 9.0, 3.0), (2.0, 1.0, 0.8), (0.5, 40.0, 12.0)]
    )
    def test_optimal_base_stock_matches_stockpyl(self, h: float, p: float, mu: float) -> None:
        # stockpyl: the critical fractile. Ours: marginal analysis on EBO; costs agree too.
        s_star, cost = newsvendor_poisson(h, p, mu)
        ours = optimal_base_stock(mu, h, p)
        assert ours == int(s_star)
        ebo = float(expected_backorders(ours, mu))
        assert h * (ours - mu + ebo) + p * ebo == pytest.approx(float(cost))

    def test_optimal_base_stock_refuses_bad_costs(self) -> None:
        with pytest.raises(ValueError, match="holding"):
            optimal_base_stock(1.0, 0.0, 1.0)


class TestPalm:
    def test_pipeline_is_rate_times_lead_time(self) -> None:
        assert pipeline_mean(0.5, 4.0) == pytest.approx(2.0)
        assert pipeline_mean([0.1, 2.0], [10.0, 0.25]) == pytest.approx([1.0, 0.5])

    def test_outstanding_orders_are_poisson_whatever_the_lead_time(self) -> None:
        # M/G/inf: arrivals 2/day, lognormal lead times of mean 3 days -> Poisson(6).
        rng = np.random.default_rng(11)
        horizon, rate, reps = 40.0, 2.0, 20_000
        counts = rng.poisson(rate * horizon, reps)
        arrivals = rng.uniform(0, horizon, counts.sum())
        sigma = 0.8
        leads = rng.lognormal(np.log(3.0) - sigma**2 / 2, sigma, counts.sum())
        open_ = arrivals + leads > horizon
        outstanding = np.add.reduceat(open_, np.r_[0, np.cumsum(counts)[:-1]])
        assert outstanding.mean() == pytest.approx(float(pipeline_mean(rate, 3.0)), rel=0.02)
        assert outstanding.var() / outstanding.mean() == pytest.approx(1.0, abs=0.04)


def _one_part(s0: int, levels: list[int]) -> tuple[MetricProblem, np.ndarray, np.ndarray]:
    problem = problem_from_rows(
        central="CW",
        depots=[("A", 2.0), ("B", 2.0)],
        parts=[("P", Decimal("10.00"), 10.0)],
        demand={("A", "P"): 0.2, ("B", "P"): 0.3},
    )
    return problem, np.array([s0]), np.array([[levels[0]], [levels[1]]])


class TestTwoEchelon:
    def test_by_hand(self) -> None:
        # Central: lambda0 = 0.5/day, lead 10 days -> mu0 = 5. With s0 = 3:
        # EBO0 = mu0 - s0 + sum_{k<3} (3 - k) P(k) = 2 + 3e^-5 + 2*5e^-5 + 12.5e^-5.
        e5 = math.exp(-5)
        ebo0 = 2 + (3 + 10 + 12.5) * e5  # 2.17182
        delay = ebo0 / 0.5  # Little: mean wait at the central warehouse, 4.344 days
        mu_a, mu_b = 0.2 * (2 + delay), 0.3 * (2 + delay)  # 1.2687, 1.9031
        problem, s0, s = _one_part(3, [2, 1])
        found = evaluate(problem, s0, s)
        assert found.central_ebo[0] == pytest.approx(ebo0)
        assert float(regional_pipeline(0.2, 2.0, ebo0, 0.5)) == pytest.approx(mu_a)
        fill_a = math.exp(-mu_a) * (1 + mu_a)  # P(X <= 1)
        fill_b = math.exp(-mu_b)  # P(X <= 0)
        assert found.attainment == pytest.approx({"A": fill_a, "B": fill_b})
        assert found.fill_rate == pytest.approx((0.2 * fill_a + 0.3 * fill_b) / 0.5)
        ebo_a = mu_a - 2 + 2 * math.exp(-mu_a) + mu_a * math.exp(-mu_a)
        ebo_b = mu_b - 1 + math.exp(-mu_b)
        assert found.backorders == pytest.approx(ebo_a + ebo_b)
        assert found.value == Decimal("60.00")

    def test_central_stock_shortens_regional_pipelines(self) -> None:
        problem, _, s = _one_part(0, [1, 1])
        fills = [evaluate(problem, np.array([k]), s).fill_rate for k in range(8)]
        assert fills == sorted(fills)
        assert fills[0] == pytest.approx((0.2 * math.exp(-2.4) + 0.3 * math.exp(-3.6)) / 0.5)


def _small(seed: int) -> MetricProblem:
    """2 depots x 2 parts, no central stock to place (lead 0): separable, brute-forceable."""
    rng = np.random.default_rng(seed)
    return MetricProblem(
        central="CW",
        depots=("A", "B"),
        parts=("X", "Y"),
        unit_costs=tuple(Decimal(int(c)) for c in rng.integers(10, 200, 2)),
        demand=rng.uniform(0.05, 1.0, (2, 2)),
        central_demand=np.zeros(2),
        central_lead_days=np.zeros(2),
        transfer_days=rng.uniform(0.5, 3.0, 2),
    )


def _every_allocation(
    problem: MetricProblem, top: int = 8
) -> list[tuple[int, float, float, float]]:
    """(cost in cents, fill rate, backorders, worst depot's attainment) of every allocation."""
    out = []
    for flat in itertools.product(range(top), repeat=4):
        s = np.array(flat).reshape(2, 2)
        found = evaluate(problem, np.zeros(2, dtype=int), s)
        cost = int(s.sum(axis=0) @ problem.cost_cents)
        out.append((cost, found.fill_rate, found.backorders, min(found.attainment.values())))
    return out


class TestGreedy:
    def test_curve_is_monotone_and_the_levels_are_what_it_says(self) -> None:
        problem = problem_from_rows(
            central="CW",
            depots=[("A", 1.0), ("B", 2.0)],
            parts=[("X", Decimal("100"), 7.0), ("Y", Decimal("30.50"), 14.0)],
            demand={("A", "X"): 0.2, ("B", "X"): 0.1, ("A", "Y"): 0.5, ("CW", "Y"): 0.3},
        )
        for metric in Metric:
            found = allocate(problem, AllocationParams(0.95, metric))
            assert found.reached
            assert found.achieved >= 0.95
            assert np.all(np.diff(found.curve_cents) > 0)
            assert np.all(np.diff(found.curve_backorders) <= 1e-12)
            again = evaluate(problem, found.central_levels, found.levels)
            assert again.value == found.evaluation.value
            assert found.curve_cents[-1] / 100 - float(found.trimmed) == float(again.value)

    @pytest.mark.parametrize("seed", range(6))
    def test_backorder_ranking_is_optimal_at_every_curve_point(self, seed: int) -> None:
        # Fox: EBO is convex in each level, so each greedy point is the least EBO for its cost.
        problem = _small(seed)
        found = allocate(problem, AllocationParams(0.9, rank=Rank.BACKORDERS))
        assert found.levels.max() < 8
        every = _every_allocation(problem)
        for cents, backorders in zip(found.curve_cents, found.curve_backorders, strict=True):
            best = min(b for c, _, b, _ in every if c <= cents)
            assert backorders <= best + 1e-9

    @pytest.mark.parametrize("seed", range(10))
    @pytest.mark.parametrize("metric", list(Metric))
    def test_reaches_the_target_near_the_least_cost(self, seed: int, metric: Metric) -> None:
        # Measured on these 20 cases: 19 at the least cost exactly, the other 2.0 % above.
        problem = _small(seed)
        found = allocate(problem, AllocationParams(0.9, metric))
        assert found.reached
        assert found.levels.max() < 8  # inside the brute force's range
        column = 1 if metric is Metric.FILL_RATE else 3
        least = min(row[0] for row in _every_allocation(problem) if row[column] >= 0.9)
        assert least <= int(problem.value(found.central_levels, found.levels) * 100)
        assert int(found.evaluation.value * 100) <= least * 1.03


class TestValidation:
    @pytest.mark.parametrize("target", [0.0, 1.0, -0.5, 1.2])
    def test_target_strictly_inside(self, target: float) -> None:
        with pytest.raises(ValueError, match="target"):
            AllocationParams(target)

    def test_unknown_metric(self) -> None:
        with pytest.raises(ValueError, match="metric"):
            AllocationParams(0.9, "uptime")  # type: ignore[arg-type]

    def test_negative_demand_names_the_field(self) -> None:
        with pytest.raises(ValueError, match="demand"):
            problem_from_rows(
                central="C", depots=[("A", 1.0)], parts=[("X", Decimal("1"), 1.0)],
                demand={("A", "X"): -1.0},
            )  # fmt: skip

    def test_cost_with_fractions_of_a_cent(self) -> None:
        with pytest.raises(ValueError, match=r"unit_costs\.0"):
            problem_from_rows(central="C", depots=[("A", 1.0)],
                              parts=[("X", Decimal("1.005"), 1.0)], demand={})  # fmt: skip

    def test_mapping_holds_every_level_above_zero(self) -> None:
        problem, _, _ = _one_part(0, [0, 0])
        found = allocate(problem, AllocationParams(0.8))
        mapping = found.as_mapping()
        assert all(v > 0 for v in mapping.values())
        assert sum(mapping.values()) == found.central_levels.sum() + found.levels.sum()
