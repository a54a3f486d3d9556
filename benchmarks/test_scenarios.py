"""Benchmarks of the what-if simulation (`scenarios.simulate`), fast path only and re-plans.

Guards: a 30-day run on the large demo world (2,000 engineers, ~10,000 tickets) with the
recommendation fast path (and the returns flow) stays within 60 s on 2 cores; a scaled-down
3-day run is timed here with pytest-benchmark (the full run is measured once and printed),
plus the extra cost of a 30-minute batch re-plan and a growth table. Fixed seeds, fixed
streams.
"""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.world import REFERENCE_DATE, generate_world
from scenarios.base import build_sim_world
from scenarios.demand import ticket_stream
from scenarios.model import SimWorld
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Demand

DAY = 86_400
RATE = 333  # tickets per day: ~10,000 in 30 days


@pytest.fixture(scope="module")
def large() -> SimWorld:
    return build_sim_world(generate_world(7, "large"), REFERENCE_DATE)


def _run(world: SimWorld, days: int, rate: float, replan: int | None = None) -> Any:
    stream = ticket_stream(world, Demand(tickets_per_day=rate), horizon_s=days * DAY, seed=1,
                           replication=0)  # fmt: skip
    return simulate(
        world, stream, RunParams("base", "optimised", 0, days * DAY, replan_every_s=replan)
    )


def test_large_world_3_days_fast_path(benchmark: Any, large: SimWorld) -> None:
    result = benchmark.pedantic(_run, args=(large, 3, RATE), rounds=3, iterations=1)
    assert len(result.jobs) > 900


def test_large_world_30_days_fast_path(benchmark: Any, large: SimWorld) -> None:
    """The issue's figure: one full 30-day run (~10,000 tickets), one round."""
    result = benchmark.pedantic(_run, args=(large, 30, RATE), rounds=1, iterations=1)
    assert len(result.jobs) > 9_000
    assert result.returns.repaired > 0  # the returns flow runs too (default policy)
    benchmark.extra_info["returns_produced"] = result.returns.produced


def test_large_world_3_days_with_replans(benchmark: Any, large: SimWorld) -> None:
    """The extra cost of a batch re-plan of the backlog every 30 simulated minutes."""
    result = benchmark.pedantic(_run, args=(large, 3, RATE, 1_800), rounds=3, iterations=1)
    benchmark.extra_info["replan_wall_s"] = result.replan_wall_s
    print(f"\nre-plans: {result.replan_wall_s:.2f} s of {result.wall_s:.1f} s")  # noqa: T201


GROWTH = [(2_000, 111), (2_000, 333), (2_000, 666), (1_000, 333), (500, 333)]


@pytest.mark.parametrize(("engineers", "rate"), GROWTH)
def test_growth_7_days(benchmark: Any, large: SimWorld, engineers: int, rate: int) -> None:
    """How run time grows with tickets (rate x 7 days) and engineers."""
    from dataclasses import replace

    world = replace(large, engineers=large.engineers[:engineers])
    result = benchmark.pedantic(_run, args=(world, 7, rate), rounds=1, iterations=1)
    benchmark.extra_info["tickets"] = len(result.jobs)
    print(f"\ngrowth: {engineers} engineers, {len(result.jobs)} tickets")  # noqa: T201
