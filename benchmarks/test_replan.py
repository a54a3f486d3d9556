"""Benchmarks of re-planning with stability: one urgent ticket into a published plan.

Guards (issue 8): inserting one urgent ticket into a published 200-ticket plan (demo world
of `test_plan.py`, 50 engineers, greedy plan published with a 30 min frozen horizon and a
30 min ETA tolerance) takes a median <= 100 ms; the change budget holds in every case; the
urgent ticket's promise is kept, late or dropped per budget (0 to 3); promises kept are
compared with re-solving from scratch (greedy, same tickets) and the margin is printed.

Two paths are timed: ``insert_urgent`` (cold: the locked problem of the published plan is
built for each ticket) and ``insert_prepared`` (the published plan prepared once with
`prepare_insertion`, then one ticket at a time). Run with
``pytest benchmarks/test_replan.py --benchmark-only -s -p no:xdist``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
from test_plan import TRAVEL, _tickets, _world  # benchmarks/ is on sys.path (rootdir mode)

from optimizer import (
    Baseline,
    DispatchWorld,
    Insertion,
    Location,
    Plan,
    PlanParams,
    PreparedInsertion,
    Ticket,
    insert_prepared,
    insert_urgent,
    plan,
    prepare_insertion,
)

GREEDY = PlanParams(time_limit_ms=0)
NOW = 0
URGENT = 20


@dataclass(frozen=True, eq=False)
class Published:
    world: DispatchWorld
    tickets: list[Ticket]
    base: Baseline
    urgent: list[Ticket]
    prep: PreparedInsertion
    scratch: list[Plan]  # greedy re-solve from scratch with each urgent ticket


@pytest.fixture(scope="module")
def published() -> Published:
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
    prep = prepare_insertion(world, tickets, base, now=NOW, travel=TRAVEL, params=GREEDY)
    scratch = [plan(world, [*tickets, u], now=NOW, travel=TRAVEL, params=GREEDY) for u in urgent]
    return Published(world, tickets, base, urgent, prep, scratch)


def _report(case: Published, budget: int, results: list[Insertion]) -> None:
    kept_fast = kept_scratch = moved = deferred = 0
    for r, scratch in zip(results, case.scratch, strict=True):
        assert r.plan.is_feasible(), r.plan.violations
        assert r.moved <= budget
        moved += r.moved
        deferred += len(r.deferred)
        kept_fast += r.plan.kpis.promises_kept
        kept_scratch += scratch.kpis.promises_kept
    states = [r.promise.value for r in results]
    margin = (kept_scratch - kept_fast) / URGENT
    print(  # noqa: T201
        f"\nbudget {budget}: urgent promise kept {states.count('kept')}, late "
        f"{states.count('late')}, dropped {states.count('dropped')} of {len(states)}; "
        f"announced visits changed {moved} (relocated {moved - deferred}, deferred "
        f"{deferred}); promises kept per plan: insertion {kept_fast / URGENT:.1f} vs re-solve "
        f"from scratch {kept_scratch / URGENT:.1f} (margin {margin:+.1f})"
    )


@pytest.mark.parametrize("budget", [0, 2])
def test_insert_urgent_200(benchmark: Any, published: Published, budget: int) -> None:
    """The cold path: everything of the published plan rebuilt for each urgent ticket."""
    case = published
    cycle = iter(range(10**6))

    def one() -> Insertion:
        u = case.urgent[next(cycle) % URGENT]
        return insert_urgent(
            case.world, case.tickets, case.base, u, now=NOW, travel=TRAVEL, params=GREEDY,
            change_budget=budget,
        )  # fmt: skip

    benchmark.pedantic(one, rounds=URGENT, iterations=1)


@pytest.mark.parametrize("budget", [0, 1, 2, 3])
def test_insert_prepared_200(benchmark: Any, published: Published, budget: int) -> None:
    """The fast path: the published plan prepared once, each urgent ticket inserted into it."""
    case = published
    cycle = iter(range(10**6))

    def one() -> Insertion:
        return insert_prepared(case.prep, case.urgent[next(cycle) % URGENT], change_budget=budget)

    benchmark.pedantic(one, rounds=URGENT, iterations=1)
    _report(
        case, budget, [insert_prepared(case.prep, u, change_budget=budget) for u in case.urgent]
    )


def test_prepare_200(benchmark: Any, published: Published) -> None:
    """What the fast path pays once per published plan (and the cold path per ticket)."""
    case = published
    benchmark.pedantic(
        lambda: prepare_insertion(
            case.world, case.tickets, case.base, now=NOW, travel=TRAVEL, params=GREEDY
        ),
        rounds=5, iterations=1,
    )  # fmt: skip
