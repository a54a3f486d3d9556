"""Benchmarks of `optimizer.plan`: whole-region route planning on the demo world.

Guards (issue 7): 200 tickets x 50 engineers with skills and pickups: a feasible (greedy)
plan in <= 1 s and the improved plan within a 10 s limit, greedy vs optimised promises kept
and travel time; a 50 ms limit returns a validated plan in < 0.5 s wall time; and the growth
of solve time from 50 to 1,000 tickets (a printed table). Fixed seed, bounded work; run with
``pytest benchmarks/test_plan.py --benchmark-only -s``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from dispatch.world import SolverView as DemoWorld
from optimizer import (
    DispatchWorld,
    GeodesicTravelTimes,
    Plan,
    PlanParams,
    Ticket,
    plan,
    warm_up,
)
from spares.bench_scaling import demo_world
from spares.bench_scaling import tickets as scaling_tickets

ENGINEERS = 50
TRAVEL = GeodesicTravelTimes()


def _world() -> tuple[DispatchWorld, list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The same demo world as `spares bench scaling` (one builder for both)."""
    d = demo_world(ENGINEERS)
    return d.world, d.sites, d.tables


def _tickets(
    world: DispatchWorld, sites: list[dict[str, Any]], t: dict[str, Any], n: int
) -> list[Ticket]:
    """``n`` tickets at random sites of the engineers' regions; a third need a part."""
    return scaling_tickets(DemoWorld(world, sites, t), n)


@pytest.fixture(scope="module")
def demo() -> tuple[DispatchWorld, list[dict[str, Any]], dict[str, Any]]:
    warm_up()
    return _world()


def _summary(p: Plan) -> str:
    k = p.kpis
    kept = "/".join(f"{t.kept}of{t.total}" for t in k.promises)
    return (
        f"served {k.served}, dropped {k.dropped}, promises kept {k.promises_kept} ({kept} by "
        f"severity), travel {k.travel_s / 3_600:.1f} h, overtime {k.overtime_s / 60:.0f} min, "
        f"quality {p.quality.value}, objective {p.stats.objective} "
        f"(greedy {p.stats.greedy_objective})"
    )


def test_plan_greedy_200(benchmark: Any, demo: Any) -> None:
    world, sites, t = demo
    tickets = _tickets(world, sites, t, 200)
    params = PlanParams(time_limit_ms=0)
    result = benchmark.pedantic(
        lambda: plan(world, tickets, now=0, travel=TRAVEL, params=params), rounds=3, iterations=1
    )
    print(f"\ngreedy 200x{len(world.engineers)}: {_summary(result)}")  # noqa: T201
    assert result.is_feasible()


def test_plan_improved_10s(benchmark: Any, demo: Any) -> None:
    world, sites, t = demo
    tickets = _tickets(world, sites, t, 200)
    params = PlanParams(time_limit_ms=10_000)
    result = benchmark.pedantic(
        lambda: plan(world, tickets, now=0, travel=TRAVEL, params=params), rounds=1, iterations=1
    )
    greedy = plan(world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=0))
    print(f"\ngreedy   : {_summary(greedy)}\noptimised: {_summary(result)}")  # noqa: T201
    assert result.is_feasible()
    assert result.stats.objective <= greedy.stats.objective


def test_plan_50ms_limit(benchmark: Any, demo: Any) -> None:
    world, sites, t = demo
    tickets = _tickets(world, sites, t, 200)
    params = PlanParams(time_limit_ms=50)
    result = benchmark.pedantic(
        lambda: plan(world, tickets, now=0, travel=TRAVEL, params=params), rounds=5, iterations=1
    )
    print(f"\n50 ms limit: {_summary(result)}")  # noqa: T201
    assert result.is_feasible()


def test_plan_growth(benchmark: Any, demo: Any) -> None:
    """Greedy and 2 s-limited plans from 50 to 1,000 tickets (printed table, one run each)."""
    benchmark.pedantic(lambda: _growth(demo), rounds=1, iterations=1)


def _growth(demo: Any) -> None:
    world, sites, t = demo
    rows = ["| tickets | greedy plan (s) | plan, 2 s limit (s) | served | promises kept |"]
    rows.append("|---|---|---|---|---|")
    for n in (50, 100, 200, 500, 1_000):
        tickets = _tickets(world, sites, t, n)
        start = time.perf_counter()
        plan(world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=0))
        greedy_s = time.perf_counter() - start
        start = time.perf_counter()
        result = plan(world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=2_000))
        limited_s = time.perf_counter() - start
        rows.append(
            f"| {n} | {greedy_s:.2f} | {limited_s:.2f} | {result.kpis.served} | "
            f"{result.kpis.promises_kept} |"
        )
        assert result.is_feasible()
    print("\n" + "\n".join(rows))  # noqa: T201
