"""Random two-echelon METRIC problems for the greedy's regression test (fixed seeds)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from inventory.metric import MetricProblem

# (seed, depots, parts): small to mid-sized, with central demand, sparse regional demand,
# cheap and dear parts, short and long leads (pipelines from ~0.01 to ~30 units)
CASES = [(0, 2, 3), (1, 4, 12), (2, 6, 25), (3, 9, 40), (4, 12, 60), (5, 3, 80)]


def random_problem(seed: int, depots: int, parts: int) -> MetricProblem:
    """A problem drawn from `seed`: every draw is fixed, so the greedy's answer is too."""
    rng = np.random.default_rng(seed)
    demand = rng.gamma(0.6, 0.4, (depots, parts)) * (rng.random((depots, parts)) < 0.7)
    central = rng.gamma(0.5, 0.3, parts) * (rng.random(parts) < 0.4)
    return MetricProblem(
        central="CW",
        depots=tuple(f"D{i}" for i in range(depots)),
        parts=tuple(f"P{j}" for j in range(parts)),
        unit_costs=tuple(Decimal(int(c)).scaleb(-2) for c in rng.integers(100, 500_000, parts)),
        demand=demand,
        central_demand=central,
        central_lead_days=rng.uniform(2.0, 30.0, parts),
        transfer_days=rng.uniform(0.5, 3.0, depots),
    )
