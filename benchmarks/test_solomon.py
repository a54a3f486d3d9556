"""Benchmarks of `optimizer.plan` on Solomon VRPTW instances (issue 11), with bounded work.

Guards: on C101, R101 and RC101 (one of each family) the planner with ruin and recreate
(``ruin_recreate``, a fixed number of iterations, seed 0: deterministic) returns a plan that
the validator and the exact floating-point checker accept, in a time that stays put. The gap
to the distance-only BKS is printed (``-s``), not asserted; the full 56-instance table at
10 s per instance is ``spares bench solomon --time-limit 10`` (see BENCHMARKS.md).
Skips when the shared Solomon folder is missing (``SPARES_SOLOMON_DIR``).
"""

from __future__ import annotations

from typing import Any

import pytest

from optimizer import PlanParams, plan
from optimizer.solomon import (
    check_routes,
    dimacs_distance,
    distance_params,
    gap,
    parse_instance,
    to_model,
)
from spares.bench_solomon import read_bks, routes_of, solomon_dir

DIR = solomon_dir()
pytestmark = pytest.mark.skipif(
    not (DIR / "instances").is_dir(), reason=f"Solomon data not found at {DIR}"
)


@pytest.mark.parametrize("name", ["C101", "R101", "RC101"])
def test_solomon_ruin_recreate_1000_iterations(benchmark: Any, name: str) -> None:
    inst = parse_instance((DIR / "instances" / f"{name}.vrp").read_text())
    model = to_model(inst)
    params = distance_params(
        PlanParams(time_limit_ms=None, failure_limit=1, ruin_recreate=True, ruin_iterations=1_000),
        vehicles=inst.vehicles,
    )
    result = benchmark.pedantic(
        lambda: plan(model.world, model.tickets, now=0, travel=model.travel, params=params),
        rounds=1, iterations=1,
    )  # fmt: skip
    routes = routes_of(result)
    assert not result.violations
    assert check_routes(inst, routes) == []
    bks = read_bks(DIR)[name][1]
    distance = dimacs_distance(inst, routes)
    print(f"\n{name}: {distance:.1f} vs BKS {bks}, gap {100 * gap(distance, bks):.2f} %")  # noqa: T201
