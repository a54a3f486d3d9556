"""The compiled SISR (`optimizer.sisr`) against a pure-Python reference, on random problems.

The kernel checks an insertion in O(1) from each route's departures and latest arrivals;
the reference simulates the whole route. They must choose the same position, and every plan
`run` returns must be complete, feasible by the simulation and priced right.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import sisr

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _problem(seed: int, visits: int, vehicles: int, tight: bool) -> sisr.Arrays:
    """Visits 0..m-1, vehicle starts m.., ends m+V..; Euclidean times (rounded up)."""
    rng = np.random.default_rng(seed)
    n = visits + 2 * vehicles
    xy = rng.integers(0, 50, size=(n, 2)).astype(np.float64)
    xy[visits:] = xy[visits]  # one depot
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2))
    sec = np.ceil(d).astype(np.int64)
    cost = np.floor(d * 10).astype(np.int64)
    horizon = 400
    width = 40 if tight else 400
    earliest = rng.integers(0, horizon - 60, size=n)
    latest = earliest + rng.integers(0, width, size=n)
    service = rng.integers(0, 15, size=n)
    demand = rng.integers(1, 10, size=n)
    earliest[visits:], latest[visits:], service[visits:], demand[visits:] = 0, horizon, 0, 0
    close = np.full(vehicles, horizon, dtype=np.int64)
    work_ends = close - rng.integers(0, 50, size=vehicles)
    ids = np.arange(visits, dtype=np.int64)
    near = np.zeros((n, max(1, visits)), dtype=np.int64)
    near[:visits] = ids[np.argsort(cost[:visits, :visits], axis=1, kind="stable")]
    return sisr.Arrays(
        cost, sec, earliest, latest, service, demand,
        np.arange(visits, visits + vehicles, dtype=np.int64),
        np.arange(visits + vehicles, n, dtype=np.int64), np.zeros(vehicles, dtype=np.int64),
        close, work_ends, rng.integers(15, 60, size=vehicles), near, ids,
    )  # fmt: skip


def _route_cost(a: sisr.Arrays, v: int, route: Sequence[int]) -> int | None:
    """The route's arc cost by simulating it; ``None`` when a hard rule breaks."""
    if sum(int(a.demand[x]) for x in route) > a.capacity[v]:
        return None
    prev, t, total = int(a.starts[v]), int(a.depart[v]), 0
    for x in route:
        t = max(t + int(a.sec[prev, x]), int(a.earliest[x]))
        if t > a.latest[x]:
            return None
        t += int(a.service[x])
        if t > a.work_ends[v]:
            return None
        total += int(a.cost[prev, x])
        prev = x
    if t + a.sec[prev, a.ends[v]] > a.close[v]:
        return None
    return total + int(a.cost[prev, a.ends[v]])


def _reference(
    a: sisr.Arrays, routes: Sequence[Sequence[int]], u: int, closed: int
) -> tuple[int, int, int]:
    """The cheapest feasible insertion, vehicles then positions in order, first strictly less."""
    best, bv, bk = math.inf, -1, -1
    for v, r in enumerate(routes):
        if v == closed:
            continue
        base = _route_cost(a, v, r)
        assert base is not None
        for k in range(len(r) + 1):
            new = _route_cost(a, v, [*r[:k], u, *r[k:]])
            if new is not None and new - base < best:
                best, bv, bk = new - base, v, k
    return bv, bk, int(best) if bv >= 0 else -1


def _greedy(a: sisr.Arrays) -> tuple[sisr.Arrays, list[list[int]]]:
    """Insert every visit where the reference puts it; drop from the problem those that fit
    nowhere (so the start plan is complete and feasible)."""
    routes: list[list[int]] = [[] for _ in a.starts]
    placed = []
    for u in a.visits.tolist():
        v, k, _ = _reference(a, routes, u, -1)
        if v >= 0:
            routes[v].insert(k, u)
            placed.append(u)
    kept = np.array(placed, dtype=np.int64)
    near = a.near.copy()
    if len(kept):
        near = np.zeros((len(a.earliest), len(kept)), dtype=np.int64)
        near[kept] = kept[np.argsort(a.cost[np.ix_(kept, kept)], axis=1, kind="stable")]
    return sisr.Arrays(**{**a.__dict__, "near": near, "visits": kept}), routes


problems = st.builds(
    _problem, st.integers(0, 10_000), st.integers(1, 14), st.integers(1, 4), st.booleans()
)


@SETTINGS
@given(a=problems, pick=st.integers(0, 100), closed=st.integers(-1, 3))
def test_the_compiled_insertion_chooses_what_the_reference_chooses(
    a: sisr.Arrays, pick: int, closed: int
) -> None:
    a, routes = _greedy(a)
    if not len(a.visits):
        return
    u = int(a.visits[pick % len(a.visits)])
    for r in routes:  # take u out again: it is the one to insert
        if u in r:
            r.remove(u)
    state = sisr.State(a, routes)
    got = sisr.best_position(
        u, closed, 0.0, a.cost, a.sec, a.earliest, a.latest, a.service, a.demand, a.starts,
        a.ends, a.work_ends, a.capacity, state.mat, state.lens, state.dep, state.late,
        state.load,
    )  # fmt: skip
    v, k, rise = _reference(a, routes, u, closed)
    assert (got[0], got[1]) == (v, k)
    if v >= 0:
        assert got[2] == rise


@SETTINGS
@given(
    a=problems,
    seed=st.integers(0, 1_000),
    removal=st.sampled_from([0.0, 0.3]),
    new_route=st.sampled_from([0.0, sisr.NEW_ROUTE, 1.0]),
)
def test_every_plan_it_returns_is_complete_feasible_and_priced_right(
    a: sisr.Arrays, seed: int, removal: float, new_route: float
) -> None:
    a, routes = _greedy(a)
    start = sum(_route_cost(a, v, r) or 0 for v, r in enumerate(routes))
    out = sisr.run(a, routes, seed=seed, iterations=300, route_removal=removal, new_route=new_route)
    assert sorted(x for r in out.routes for x in r) == sorted(a.visits.tolist())
    costs = [_route_cost(a, v, r) for v, r in enumerate(out.routes)]
    assert None not in costs
    assert sum(c or 0 for c in costs) == out.cost <= start


@SETTINGS
@given(a=problems, seed=st.integers(0, 1_000))
def test_restarts_from_the_best_keep_plans_complete_feasible_and_priced_right(
    a: sisr.Arrays, seed: int
) -> None:
    # a far deadline makes `run` work in chunks; a tiny restart share restarts often
    a, routes = _greedy(a)
    start = sum(_route_cost(a, v, r) or 0 for v, r in enumerate(routes))
    out = sisr.run(
        a, routes, seed=seed, iterations=400, deadline=time.monotonic() + 60, restart=0.001
    )
    assert sorted(x for r in out.routes for x in r) == sorted(a.visits.tolist())
    costs = [_route_cost(a, v, r) for v, r in enumerate(out.routes)]
    assert None not in costs
    assert sum(c or 0 for c in costs) == out.cost <= start


def test_same_seed_and_iterations_give_the_same_routes() -> None:
    a, routes = _greedy(_problem(7, 14, 4, True))
    first, second = (sisr.run(a, routes, seed=3, iterations=500) for _ in range(2))
    assert first.routes == second.routes
    assert first.steps == 500


def test_a_deadline_in_the_past_returns_the_start_plan() -> None:
    a, routes = _greedy(_problem(8, 10, 3, False))
    out = sisr.run(a, routes, seed=0, deadline=0.0)
    assert out.routes == routes
    assert out.steps == 0
