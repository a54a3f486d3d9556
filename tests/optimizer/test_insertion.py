"""The compiled insertion kernel agrees with `route_cost`, its pure-Python reference."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import DispatchWorld, PlanParams, Ticket, allocate, insertion
from optimizer.greedy import construct
from optimizer.insertion import (
    DEPOT,
    NONE,
    VAN,
    KernelData,
    insertion_costs,
    load,
    ready,
    reference_costs,
)
from optimizer.problem import START, RoutingProblem, build_problem, vehicles_of
from optimizer.screening import screen
from tests.optimizer.builders import grid_travel
from tests.optimizer.strategies import nows, tickets, worlds

TRAVEL = grid_travel()
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _problem(
    world: DispatchWorld, todo: list[Ticket], now: int, params: PlanParams
) -> RoutingProblem:
    vehicles = vehicles_of(world, now, params)
    supplies = allocate(world, todo, now=now, travel=TRAVEL, params=params)
    keep, allowed, _ = screen(
        world, todo, supplies, vehicles, now=now, travel=TRAVEL, params=params
    )
    return build_problem(
        world, keep, supplies, vehicles, allowed, now=now, travel=TRAVEL, params=params
    )


def _mode(p: RoutingProblem, pick: int, v: int) -> int:
    start = int(p.starts[v])
    at_start = p.seconds[start, pick] == 0 and p.service[pick] == 0 and p.kind[start] == START
    return VAN if at_start else DEPOT


@SETTINGS
@given(
    world=worlds(),
    drawn=st.lists(tickets(), min_size=1, max_size=7),
    now=nows,
    cost_weight=st.sampled_from([0, 1]),
    distance_weight=st.sampled_from([0, 2]),
)
def test_the_kernel_prices_every_insertion_as_route_cost_does(
    world: DispatchWorld, drawn: list[Ticket], now: int, cost_weight: int, distance_weight: int
) -> None:
    todo = [replace(t, id=i, severity_rank=i % 3) for i, t in enumerate(drawn, 1)]
    params = PlanParams(cost_weight=cost_weight, distance_weight=distance_weight)
    p = _problem(world, todo, now, params)
    data = KernelData.of(p)
    routes = construct(p).routes
    for u in p.visits.tolist():
        for v in range(p.vehicles):
            route = [n for n in routes[v] if n != u and p.visit_of.get(n) != u]
            arr = np.array(route, dtype=np.int64)
            options = [(-1, NONE)] + [(k, _mode(p, k, v)) for k in p.pickups.get(u, ())]
            for pick, mode in options:
                got = insertion_costs(data, arr, v, u, pick, mode).tolist()
                assert got == reference_costs(p, route, v, u, pick, mode)


@SETTINGS
@given(world=worlds(), drawn=st.lists(tickets(), min_size=1, max_size=8), now=nows)
def test_the_greedy_makes_the_same_choices_with_and_without_the_kernel(
    world: DispatchWorld, drawn: list[Ticket], now: int
) -> None:
    todo = [replace(t, id=i, severity_rank=i % 3) for i, t in enumerate(drawn, 1)]
    p = _problem(world, todo, now, PlanParams())
    load()
    with_kernel = construct(p)
    without = _without_kernel(p)
    assert with_kernel == without


def _without_kernel(p: RoutingProblem) -> object:
    was = insertion._loaded[0]
    insertion._loaded[0] = False
    try:
        return construct(p)
    finally:
        insertion._loaded[0] = was


def test_loading_the_kernels_makes_them_ready() -> None:
    assert load() >= 0.0
    assert ready()
