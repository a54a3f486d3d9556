"""METRIC's prediction against a simulation of the same system (issue 10).

Why a dedicated SimPy model and not the scenario simulation: the scenario's stock follows
the demo world's reorder points (order up to twice the point when below it), not one-for-one
base stock, and which shelf serves a ticket is the dispatch optimiser's choice (a van, a
pickup, a shipment); so its fill rate answers another question than METRIC's. Here the
system is exactly METRIC's: Poisson demand per depot (and the central warehouse's own
customers), one-for-one replenishment, the central warehouse resupplied after a fixed
supplier lead time and shipping to a regional depot in a fixed (or exponential) transport
time, backorders served first come first served. Seeds are fixed, so the test is
deterministic; replications give a Student t interval.

Single echelon (the supplier always has stock): Palm's theorem makes METRIC exact, so the
prediction must lie inside the simulated 99 % interval. Two echelons: METRIC treats the
regional pipeline as Poisson, which it is not (the central delay adds variance): with the
central warehouse holding about its pipeline, the fill rates agree within a point while
the expected backorders come out too low (the documented approximation; VARI-METRIC
refines it).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
import simpy
from scipy import stats  # type: ignore[import-untyped]

from inventory.metric import evaluate, problem_from_rows

WARM_UP_DAYS = 200.0


@dataclass
class _Depot:
    rate: float
    transfer_days: float
    on_hand: int
    backlog: int = 0
    demands: int = 0
    filled: int = 0
    backlog_area: float = 0.0  # integral of backorders over time, after the warm-up
    last_t: float = WARM_UP_DAYS


class _System:
    """One central warehouse (index -1 for its own customers) and regional depots."""

    def __init__(
        self,
        *,
        s0: int,
        lead_days: float,
        central_rate: float,
        depots: list[tuple[float, float, int]],  # (rate, transfer days, base stock)
        exponential_transfer: bool,
        rng: np.random.Generator,
    ) -> None:
        self.env = simpy.Environment()
        self.rng = rng
        self.lead = lead_days
        self.exponential = exponential_transfer
        self.central_on_hand = s0
        self.central_queue: deque[int] = deque()  # depot index, or -1 for a customer
        self.central = _Depot(central_rate, 0.0, 0)
        self.depots = [_Depot(rate, days, s) for rate, days, s in depots]

    def _mark(self, d: _Depot) -> None:
        now = self.env.now
        if now > WARM_UP_DAYS:
            d.backlog_area += d.backlog * (now - max(d.last_t, WARM_UP_DAYS))
            d.last_t = now

    def _counted(self) -> bool:
        return self.env.now > WARM_UP_DAYS

    def demands(self, i: int) -> Generator[Any, Any, None]:
        d = self.central if i < 0 else self.depots[i]
        while True:
            yield self.env.timeout(self.rng.exponential(1.0 / d.rate))
            if self._counted():
                d.demands += 1
            if i < 0:
                self._central_request(-1, counted=self._counted())
                continue
            self._mark(d)
            if d.on_hand > 0:
                d.on_hand -= 1
                d.filled += self._counted()
            else:
                d.backlog += 1
            self._central_request(i, counted=False)  # one for one: reorder at once

    def _central_request(self, who: int, *, counted: bool) -> None:
        self.env.process(self._supplier())  # the central warehouse reorders at once too
        if self.central_on_hand > 0:
            self.central_on_hand -= 1
            if who < 0:
                self.central.filled += counted
            else:
                self.env.process(self._ship(who))
        else:
            self.central_queue.append(who)
            if who < 0:
                self._mark(self.central)
                self.central.backlog += 1

    def _supplier(self) -> Generator[Any, Any, None]:
        yield self.env.timeout(self.lead)
        if self.central_queue:
            who = self.central_queue.popleft()
            if who < 0:
                self._mark(self.central)
                self.central.backlog -= 1
            else:
                self.env.process(self._ship(who))
        else:
            self.central_on_hand += 1

    def _ship(self, i: int) -> Generator[Any, Any, None]:
        d = self.depots[i]
        days = self.rng.exponential(d.transfer_days) if self.exponential else d.transfer_days
        yield self.env.timeout(days)
        self._mark(d)
        if d.backlog > 0:
            d.backlog -= 1
        else:
            d.on_hand += 1

    def run(self, days: float) -> None:
        for i in range(-1 if self.central.rate > 0 else 0, len(self.depots)):
            self.env.process(self.demands(i))
        self.env.run(until=days)
        for d in (*self.depots, self.central):
            self._mark(d)


def _simulate(case: dict[str, Any], reps: int, days: float) -> tuple[np.ndarray, np.ndarray]:
    """Per replication: each regional depot's fill rate and time-average backorders."""
    fills, backorders = [], []
    for rep in range(reps):
        system = _System(**case, rng=np.random.default_rng([20_261_122, rep]))
        system.run(days)
        fills.append([d.filled / d.demands for d in system.depots])
        span = days - WARM_UP_DAYS
        backorders.append([d.backlog_area / span for d in system.depots])
    return np.array(fills), np.array(backorders)


def _metric(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """METRIC's fill rate and expected backorders per regional depot for the same case."""
    from inventory.metric import expected_backorders, regional_pipeline

    depots = case["depots"]
    problem = problem_from_rows(
        central="CW",
        depots=[(f"D{i}", days) for i, (_, days, _) in enumerate(depots)],
        parts=[("P", Decimal("1"), case["lead_days"])],
        demand={
            **{(f"D{i}", "P"): rate for i, (rate, _, _) in enumerate(depots)},
            **({("CW", "P"): case["central_rate"]} if case["central_rate"] else {}),
        },
    )
    levels = np.array([[s] for _, _, s in depots])
    found = evaluate(problem, np.array([case["s0"]]), levels)
    mu = regional_pipeline(
        problem.demand[:, 0], problem.transfer_days, found.central_ebo[0], problem.central_rate[0]
    )
    return found.regional_fill[:, 0], expected_backorders(levels[:, 0], mu)


def _interval(values: np.ndarray, level: float = 0.99) -> tuple[np.ndarray, np.ndarray]:
    n = values.shape[0]
    half = stats.t.ppf((1 + level) / 2, n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)
    mean = values.mean(axis=0)
    return mean - half, mean + half


# Single echelon: the central warehouse never runs out (s0 far above its pipeline), so each
# depot is an M/G/inf pipeline of mean rate x transfer: METRIC is exact (Palm).
SINGLE = {
    "s0": 10_000, "lead_days": 1.0, "central_rate": 0.0,
    "depots": [(0.5, 4.0, 3), (1.2, 2.5, 4), (0.2, 6.0, 1)],
}  # fmt: skip
# Two echelons, the central warehouse holding about its pipeline (lambda0 x L0 = 4.5):
# its delay matters and METRIC's Poisson approximation is tested.
TWO = {
    "s0": 6, "lead_days": 5.0, "central_rate": 0.1,
    "depots": [(0.4, 1.0, 2), (0.3, 2.0, 2), (0.1, 1.5, 1)],
}  # fmt: skip


@pytest.mark.parametrize("exponential", [False, True], ids=["fixed-transfer", "exp-transfer"])
def test_single_echelon_prediction_inside_the_simulated_interval(exponential: bool) -> None:
    fills, backorders = _simulate({**SINGLE, "exponential_transfer": exponential}, 20, 4_200.0)
    fill, ebo = _metric(SINGLE)
    low, high = _interval(fills)
    assert np.all((low <= fill) & (fill <= high)), (fill, low, high)
    assert np.all(high - low < 0.04)  # tight enough to mean something (measured <= 0.033)
    low, high = _interval(backorders)
    assert np.all((low <= ebo) & (ebo <= high)), (ebo, low, high)


def test_two_echelon_metric_within_its_approximation() -> None:
    # Measured (seeds fixed): METRIC fill 0.896 / 0.842 / 0.830 against simulated 0.888 /
    # 0.838 / 0.833 (99 % CIs +-0.008 .. 0.014); backorders 0.021 / 0.042 / 0.016 against
    # 0.036 / 0.051 / 0.019. The fill rates agree within a point; the backorders are
    # underestimated, METRIC's known bias (the pipeline's variance is larger than Poisson).
    fills, backorders = _simulate({**TWO, "exponential_transfer": False}, 20, 4_200.0)
    fill, ebo = _metric(TWO)
    low, high = _interval(fills)
    assert np.all(np.abs(fill - fills.mean(axis=0)) < 0.015), (fill, fills.mean(axis=0))
    assert np.all((low - 0.01 <= fill) & (fill <= high + 0.01))
    assert np.all(ebo < backorders.mean(axis=0))  # the bias's direction, documented
