"""Benchmarks of re-planning with stability: one urgent ticket into a published plan.

Guards (issue 8): inserting one urgent ticket into a published 200-ticket plan (demo world
of `test_plan.py`, 50 engineers, greedy plan published with a 30 min frozen horizon and a
30 min ETA tolerance) takes a median <= 100 ms with change budget 0 and 2; the budget holds
in every case; promises kept are compared with re-solving from scratch (greedy, same
tickets) and the margin is printed. Run with
``pytest benchmarks/test_replan.py --benchmark-only -s -p no:xdist``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from test_plan import TRAVEL, _tickets, _world  # benchmarks/ is on sys.path (rootdir mode)

from optimizer import Baseline, Location, PlanParams, Ticket, insert_urgent, plan

GREEDY = PlanParams(time_limit_ms=0)
NOW = 0
URGENT = 20


@pytest.fixture(scope="module")
def published() -> tuple[Any, list[Ticket], Baseline, list[Ticket]]:
    world, sites, t = _world()
    tickets = _tickets(world, sites, t, 200)
    first = plan(world, tickets, now=NOW, travel=TRAVEL, params=GREEDY)
    base = Baseline.from_plan(first, frozen_horizon_s=1_800, eta_tolerance_s=1_800)
    rng = np.random.default_rng(11)
    urgent = []
    for i in range(URGENT):
        like = tickets[int(rng.integers(len(tickets)))]
        site = sites[int(rng.integers(len(sites)))]
        urgent.append(
            replace(like, id=10_000 + i, site=Location(site["lat"], site["lon"]),
                    site_id=site["id"], severity_rank=0, arrive_by=2 * 3_600,
                    fix_by=4 * 3_600, parts=())
        )  # fmt: skip
    return world, tickets, base, urgent


def _insert_all(case: Any, budget: int) -> list[Any]:
    world, tickets, base, urgent = case
    return [
        insert_urgent(
            world, tickets, base, u, now=NOW, travel=TRAVEL, params=GREEDY, change_budget=budget
        )
        for u in urgent
    ]


@pytest.mark.parametrize("budget", [0, 2])
def test_insert_urgent_200(benchmark: Any, published: Any, budget: int) -> None:
    world, tickets, base, urgent = published
    cycle = iter(range(10**6))

    def one() -> Any:
        u = urgent[next(cycle) % len(urgent)]
        return insert_urgent(
            world, tickets, base, u, now=NOW, travel=TRAVEL, params=GREEDY, change_budget=budget
        )

    benchmark.pedantic(one, rounds=URGENT, iterations=1)
    results = _insert_all(published, budget)
    kept_fast = kept_scratch = moved = 0
    for u, r in zip(urgent, results, strict=True):
        assert r.plan.is_feasible(), r.plan.violations
        assert r.moved <= budget
        moved += r.moved
        scratch = plan(world, [*tickets, u], now=NOW, travel=TRAVEL, params=GREEDY)
        kept_fast += r.plan.kpis.promises_kept
        kept_scratch += scratch.kpis.promises_kept
    states = [r.promise.value for r in results]
    print(  # noqa: T201
        f"\nbudget {budget}: urgent promise {states.count('kept')}/{len(states)} kept; "
        f"announced visits moved {moved}; promises kept per plan: insertion "
        f"{kept_fast / URGENT:.1f} vs re-solve from scratch {kept_scratch / URGENT:.1f} "
        f"(margin {(kept_scratch - kept_fast) / URGENT:+.1f})"
    )
