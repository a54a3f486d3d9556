"""The batch planner fills an engineer's gap before a committed visit (`Engineer.gap`).

A route planned into the gap leaves from where his back-to-back work ends and reaches the
committed visit's site by its planned arrival; a route that does not fit is planned after
all his committed work. Every path honours it (the greedy start in Python and compiled, the
search in Python and compiled, OR-Tools), the validator is the judge, and it rejects a plan
that breaks a gap. Grid fake: one step = 1 min and 1 km.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import replace
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import (
    DispatchWorld,
    Engineer,
    Gap,
    PartLine,
    Plan,
    PlanParams,
    StopKind,
    Ticket,
    insertion,
    plan,
)
from optimizer import validate as validate_plan
from optimizer.insertion import load
from tests.optimizer.builders import HOUR, grid, grid_travel, make_engineer, make_ticket, make_world
from tests.optimizer.strategies import nows, points, tickets, worlds

TRAVEL = grid_travel()
GREEDY = PlanParams(time_limit_ms=0)
SEARCH = PlanParams(time_limit_ms=None, failure_limit=500, ruin_iterations=60)
ORTOOLS = replace(SEARCH, ruin_recreate=False, solution_limit=20)
PATHS = {"greedy": GREEDY, "search": SEARCH, "ortools": ORTOOLS}


def _kernels(compiled: bool) -> AbstractContextManager[object]:
    """The planner with the compiled kernels loaded, or as in a process without them."""
    if compiled:
        load()
    return mock.patch.object(insertion, "_loaded", [compiled])


def _committed(gap: Gap | None, *, at: tuple[int, int] = (2, 2)) -> Engineer:
    """An engineer at ``at`` committed to a visit at (5, 5), planned to arrive at 3 h and end
    at 5 h; ``gap``: the time before it is free (``None``: the old rule, busy until 5 h)."""
    return make_engineer(1, at, busy_until=5 * HOUR, busy_location=grid(5, 5), gap=gap)


FREE_NOW = Gap(0, None, grid(5, 5), 3 * HOUR)
URGENT = make_ticket((3, 3), service_s=1_800, arrive_by=HOUR, fix_by=2 * HOUR)


def _gap_kept(world: DispatchWorld, result: Plan) -> list[str]:
    """The rule, checked apart from the validator: a route leaving before all his committed
    work ends is a gap route, leaves when the gap opens, and reaches the committed site by
    its planned arrival (the last stop's end plus the drive there)."""
    out = []
    for route in result.routes:
        e = world.engineers[world.engineer_row[route.engineer_id]]
        if e.busy_until is None or route.departs_at >= e.busy_until:
            continue
        gap = e.gap
        if gap is None or not route.fills_gap:
            out.append(f"engineer {e.id} leaves at {route.departs_at}, before {e.busy_until}")
            continue
        last = route.stops[-1].location if route.stops else gap.origin or e.location
        end = route.stops[-1].departs_at if route.stops else route.departs_at
        back, _ = TRAVEL.matrix(
            np.array([(last.lat, last.lon)]), np.array([(gap.back_to.lat, gap.back_to.lon)])
        )
        if route.departs_at < gap.ready or end + int(back[0, 0]) > gap.back_by:
            out.append(f"engineer {e.id} misses his committed visit: {route}")
    return out


class TestTheGapKeepsAPromise:
    @pytest.mark.parametrize("compiled", [False, True])
    @pytest.mark.parametrize("path", sorted(PATHS))
    def test_a_free_gap_takes_the_urgent_ticket_in_time(self, path: str, compiled: bool) -> None:
        world = make_world([_committed(FREE_NOW)])
        with _kernels(compiled):
            result = plan(world, [URGENT], now=0, travel=TRAVEL, params=PATHS[path])
        assert result.violations == ()
        (route,) = result.routes
        assert route.fills_gap
        assert route.departs_at == 0
        (stop,) = route.visits
        assert (stop.arrives_at, stop.arrival_late_s, stop.fix_late_s) == (120, 0, 0)
        assert route.returns_at == 120 + 1_800 + 4 * 60  # at the committed site by 3 h
        assert _gap_kept(world, result) == []

    @pytest.mark.parametrize("path", sorted(PATHS))
    def test_without_the_gap_the_promise_breaks(self, path: str) -> None:
        world = make_world([_committed(None)])
        result = plan(world, [URGENT], now=0, travel=TRAVEL, params=PATHS[path])
        assert result.violations == ()
        (route,) = result.routes
        assert not route.fills_gap
        assert route.departs_at == 5 * HOUR
        assert route.visits[0].arrival_late_s == 5 * HOUR + 4 * 60 - HOUR  # from (5, 5)

    @pytest.mark.parametrize("path", sorted(PATHS))
    def test_a_gap_too_short_is_not_used(self, path: str) -> None:
        short = replace(FREE_NOW, back_by=30 * 60)  # 2 + 30 + 4 min do not fit in 30
        world = make_world([_committed(short)])
        result = plan(world, [URGENT], now=0, travel=TRAVEL, params=PATHS[path])
        assert result.violations == ()
        (route,) = result.routes
        assert not route.fills_gap
        assert route.departs_at == 5 * HOUR

    @pytest.mark.parametrize("path", sorted(PATHS))
    def test_the_part_in_his_van_goes_with_him_into_the_gap(self, path: str) -> None:
        engineer = replace(_committed(FREE_NOW), van_stock={10: 1})
        needs = replace(URGENT, parts=(PartLine(10, 1),))
        result = plan(make_world([engineer]), [needs], now=0, travel=TRAVEL, params=PATHS[path])
        assert result.violations == ()
        (route,) = result.routes
        assert route.fills_gap
        assert [(s.kind, s.location) for s in route.stops] == [
            (StopKind.PICKUP, grid(2, 2)), (StopKind.VISIT, grid(3, 3)),
        ]  # fmt: skip
        assert route.visits[0].arrival_late_s == 0

    def test_he_leaves_when_and_where_his_work_before_the_gap_ends(self) -> None:
        later = Gap(600, grid(0, 0), grid(5, 5), 3 * HOUR)  # free at 0:10, at (0, 0)
        world = make_world([_committed(later)])
        result = plan(world, [URGENT], now=0, travel=TRAVEL, params=SEARCH)
        assert result.violations == ()
        (route,) = result.routes
        assert route.fills_gap
        assert route.departs_at == 600
        assert route.visits[0].arrives_at == 600 + 6 * 60  # (0, 0) -> (3, 3)

    def test_one_route_per_engineer_the_gap_or_after(self) -> None:
        """Two tickets: one fits the gap, the other only after; he takes one of them (a
        second engineer, free, takes the other) and never has two routes."""
        other = make_engineer(2, (11, 11))
        late = make_ticket((4, 4), ticket_id=2, service_s=4 * HOUR, arrive_by=8 * HOUR,
                           fix_by=None)  # fmt: skip
        world = make_world([_committed(FREE_NOW), other])
        for params in PATHS.values():
            result = plan(world, [URGENT, late], now=0, travel=TRAVEL, params=params)
            assert result.violations == ()
            assert len({r.engineer_id for r in result.routes}) == len(result.routes)


class TestTheValidatorJudgesTheGap:
    def _planned(self) -> tuple[DispatchWorld, Plan]:
        world = make_world([_committed(FREE_NOW)])
        return world, plan(world, [URGENT], now=0, travel=TRAVEL, params=SEARCH)

    def test_back_too_late_for_the_committed_visit(self) -> None:
        world, result = self._planned()
        returns = result.routes[0].returns_at
        tight = make_world([_committed(replace(FREE_NOW, back_by=returns - 1))])
        found = validate_plan(tight, [URGENT], result, travel=TRAVEL)
        assert found == [
            f"engineer 1 reaches his committed visit at {returns}, after its planned arrival "
            f"{returns - 1}"
        ]

    def test_a_gap_route_without_a_gap(self) -> None:
        _, result = self._planned()
        found = validate_plan(make_world([_committed(None)]), [URGENT], result, travel=TRAVEL)
        assert "engineer 1's route fills a gap before committed work, and he has none" in found

    def test_an_ordinary_route_may_not_leave_in_the_gap(self) -> None:
        world, result = self._planned()
        route = replace(result.routes[0], fills_gap=False)
        found = validate_plan(world, [URGENT], replace(result, routes=(route,)), travel=TRAVEL)
        assert "engineer 1 leaves at 0, before he is free at 18000" in found


# -- invariants on random worlds ------------------------------------------------------------


@st.composite
def gap_worlds(draw: st.DrawFn) -> DispatchWorld:
    """`worlds` where some engineers are committed to a later visit with a gap before it."""
    world = draw(worlds())
    people = []
    for e in world.engineers:
        if draw(st.booleans()):
            ready = draw(st.integers(-HOUR, 3 * HOUR))
            back_by = ready + draw(st.integers(0, 5 * HOUR))
            site = draw(points)
            gap = Gap(ready, draw(st.none() | points), site, back_by)
            ends = back_by + draw(st.integers(0, 2 * HOUR))
            e = replace(e, busy_until=ends, busy_location=site, gap=gap)
            if draw(st.booleans()):  # one who can take most tickets: the gap gets used
                e = replace(e, skills={"server": 3}, shifts=((-HOUR, 9 * HOUR),))
        people.append(e)
    return DispatchWorld(world.epoch, tuple(people), world.depots, world.suppliers)


@st.composite
def ticket_lists(draw: st.DrawFn) -> list[Ticket]:
    drawn = draw(st.lists(tickets(), min_size=1, max_size=6))
    return [replace(t, id=i, severity_rank=i % 3) for i, t in enumerate(drawn, 1)]


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    world=gap_worlds(), todo=ticket_lists(), now=nows, path=st.sampled_from(sorted(PATHS)),
    compiled=st.booleans(),
)  # fmt: skip
def test_no_path_plans_past_a_gap(
    world: DispatchWorld, todo: list[Ticket], now: int, path: str, compiled: bool
) -> None:
    with _kernels(compiled):
        result = plan(world, todo, now=now, travel=TRAVEL, params=PATHS[path])
    assert result.violations == ()
    assert validate_plan(world, todo, result, travel=TRAVEL) == []
    assert _gap_kept(world, result) == []
    assert len({r.engineer_id for r in result.routes}) == len(result.routes)


@SETTINGS
@given(world=gap_worlds(), todo=ticket_lists(), now=nows, late=st.integers(1, HOUR))
def test_the_validator_rejects_a_route_past_its_gap(
    world: DispatchWorld, todo: list[Ticket], now: int, late: int
) -> None:
    result = plan(world, todo, now=now, travel=TRAVEL, params=SEARCH)
    for route in result.routes:
        if not route.fills_gap:
            continue
        row = world.engineer_row[route.engineer_id]
        e = world.engineers[row]
        assert e.gap is not None
        moved = replace(e, gap=replace(e.gap, back_by=route.returns_at - late))
        people = list(world.engineers)
        people[row] = moved
        tight = DispatchWorld(world.epoch, tuple(people), world.depots, world.suppliers)
        found = validate_plan(tight, todo, result, travel=TRAVEL)
        assert any("after its planned arrival" in f for f in found)
