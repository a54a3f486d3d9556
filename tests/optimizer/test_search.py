"""Ruin and recreate on the whole dispatch model (`optimizer.search`).

The search prices routes with the greedy's `route_cost` only; the validator judges every plan
and OR-Tools is the independent cross-check on the same objective.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import (
    DispatchWorld,
    DropReason,
    PlanParams,
    PlanQuality,
    Ticket,
    allocate,
    insertion,
    plan,
    validate,
)
from optimizer.greedy import construct, objective
from optimizer.insertion import load
from optimizer.problem import VISIT, RoutingProblem, build_problem, vehicles_of
from optimizer.screening import screen
from optimizer.search import improve
from tests.optimizer.builders import (
    HOUR,
    grid_travel,
    make_depot,
    make_engineer,
    make_ticket,
    make_world,
)
from tests.optimizer.strategies import nows, tickets, worlds

TRAVEL = grid_travel()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RUIN = PlanParams(time_limit_ms=None, failure_limit=500, ruin_iterations=60)
ORTOOLS = PlanParams(time_limit_ms=None, solution_limit=30, failure_limit=500, ruin_recreate=False)


def _problem(world: DispatchWorld, todo: list[Ticket], now: int = 0) -> RoutingProblem:
    vehicles = vehicles_of(world, now, RUIN)
    supplies = allocate(world, todo, now=now, travel=TRAVEL, params=RUIN)
    keep, allowed, _ = screen(world, todo, supplies, vehicles, now=now, travel=TRAVEL, params=RUIN)
    return build_problem(
        world, keep, supplies, vehicles, allowed, now=now, travel=TRAVEL, params=RUIN
    )


@st.composite
def ticket_lists(draw: st.DrawFn) -> list[Ticket]:
    drawn = draw(st.lists(tickets(), min_size=1, max_size=8))
    return [replace(t, id=i, severity_rank=i % 3) for i, t in enumerate(drawn, 1)]


def _spread(n: int) -> list[Ticket]:
    """``n`` tickets over the grid, every third with a depot part, mixed promises."""
    return [
        make_ticket(
            ((3 * i) % 12, (5 * i) % 12),
            ticket_id=i,
            severity_rank=i % 3,
            service_s=1_200,
            arrive_by=(1 + i % 4) * HOUR,
            fix_by=(3 + i % 4) * HOUR,
            parts=[(10, 1)] if i % 3 == 0 else [],
            skills={"server": 1 + i % 2},
            dedicated_engineer=1 + i % 4 if i % 5 == 0 else None,
        )  # fmt: skip
        for i in range(1, n + 1)
    ]


def _crew() -> DispatchWorld:
    engineers = [
        make_engineer(
            k,
            (k * 3 % 12, k * 7 % 12),
            skills={"server": 1 + k % 2},
            shifts=((0, 4 * HOUR),),
            overtime_s=HOUR,
            capacity=2,
            cost_per_hour=3_000,
        )  # fmt: skip
        for k in range(1, 5)
    ]
    return make_world(engineers, [make_depot(1, (6, 6), stock={10: 20})])


@contextmanager
def _python_only() -> Iterator[None]:
    """The planner as in a process where the compiled kernels are not loaded."""
    was = insertion._loaded[0]
    insertion._loaded[0] = False
    try:
        yield
    finally:
        insertion._loaded[0] = was


@pytest.fixture(params=["python", "compiled"])
def kernels(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each search test twice: stepping in Python, and with the compiled step."""
    if request.param == "compiled":
        load()
        yield request.param
        return
    with _python_only():
        yield request.param


class TestImprove:
    @SETTINGS
    @given(world=worlds(), todo=ticket_lists(), now=nows, seed=st.integers(0, 3))
    def test_its_routes_are_feasible_and_never_worse_than_the_start(
        self, world: DispatchWorld, todo: list[Ticket], now: int, seed: int
    ) -> None:
        with _python_only():
            p = _problem(world, todo, now)
            start = construct(p)
            found = improve(p, start.routes, seed=seed, iterations=30)
        # its objective is the greedy's own pricing (route costs plus drop penalties)
        assert found.objective == objective(p, found.routes) <= start.objective

    def test_the_same_seed_gives_the_same_routes(self, kernels: str) -> None:
        p = _problem(_crew(), _spread(14))
        start = construct(p).routes
        one = improve(p, start, seed=5, iterations=40)
        two = improve(p, start, seed=5, iterations=40)
        assert one.routes == two.routes
        assert one.steps == 40
        assert one.stopped_by == "iteration limit"

    def test_a_visit_left_out_by_the_start_is_placed_when_room_exists(self, kernels: str) -> None:
        p = _problem(_crew(), _spread(6))
        start = construct(p)
        out = [list(r) for r in start.routes]
        visit = next(n for r in out for n in r if p.kind[n] == VISIT)
        gone = {visit, *p.pickups.get(visit, ())}
        out = [[n for n in r if n not in gone] for r in out]
        assert objective(p, out) > start.objective  # its drop penalty
        found = improve(p, out, seed=0, iterations=20)
        assert visit in {n for r in found.routes for n in r}

    def test_locked_visits_keep_their_engineer_and_order(self, kernels: str) -> None:
        p = _problem(_crew(), _spread(14))
        start = construct(p).routes
        v = max(range(len(start)), key=lambda k: len(start[k]))
        locked = frozenset(n for n in start[v] if p.kind[n] == VISIT)
        found = improve(p, start, seed=1, iterations=60, locked=locked)
        assert [n for n in found.routes[v] if n in locked] == [n for n in start[v] if n in locked]

    def test_patience_stops_a_search_that_finds_nothing(self, kernels: str) -> None:
        p = _problem(_crew(), _spread(3))
        found = improve(p, construct(p).routes, seed=0, iterations=10_000, patience=25)
        assert found.stopped_by == "no improvement"
        assert found.steps < 10_000

    def test_patience_waits_for_its_share_of_an_iteration_limit(self, kernels: str) -> None:
        p = _problem(_crew(), _spread(3))
        found = improve(
            p, construct(p).routes, seed=0, iterations=2_000, patience=25, patience_after=0.5
        )
        assert found.stopped_by == "no improvement"
        assert 1_000 <= found.steps < 2_000

    def test_at_the_default_share_only_the_count_per_visit_stops_a_search(
        self, kernels: str
    ) -> None:
        # `PlanParams.ruin_patience_after` defaults to 1: the flat patience never stops the
        # search, the per-visit count does (a 200-ticket plan searched its whole limit)
        p = _problem(_crew(), _spread(3))
        share = PlanParams().ruin_patience_after
        start = construct(p).routes
        on = improve(p, start, seed=0, iterations=2_000, patience=25, patience_after=share)
        assert (on.stopped_by, on.steps) == ("iteration limit", 2_000)
        early = improve(
            p, start, seed=0, iterations=2_000, patience=25, patience_after=share,
            patience_early=100,
        )  # fmt: skip
        assert early.stopped_by == "no improvement"
        assert early.steps < 2_000

    def test_patience_does_not_stop_a_timed_search_before_its_share(self, kernels: str) -> None:
        # the temperature falls with the share of the time used: patience counts only once
        # the search is past ``patience_after`` of it, then stops it well before the limit
        p = _problem(_crew(), _spread(3))
        limit = 0.4
        started = time.monotonic()
        found = improve(
            p, construct(p).routes, seed=0, deadline=started + limit, patience=25,
            patience_after=0.5,
        )  # fmt: skip
        spent = time.monotonic() - started
        assert found.stopped_by == "no improvement"
        assert spent >= 0.4 * limit  # the compiled batches estimate their share of the time
        # counted from the start (patience_after 0, the rule before) it stops at once
        quick = improve(p, construct(p).routes, seed=0, deadline=time.monotonic() + 60, patience=25)
        assert quick.stopped_by == "no improvement"
        assert quick.steps < found.steps

    def test_early_patience_stops_a_search_with_little_to_search_before_its_share(
        self, kernels: str
    ) -> None:
        # before the share, only ``patience_early`` steps without a new best stop it: three
        # visits converge at once, so it returns long before half of a minute
        p = _problem(_crew(), _spread(3))
        found = improve(
            p, construct(p).routes, seed=0, deadline=time.monotonic() + 60, patience=25,
            patience_after=0.5, patience_early=500,
        )  # fmt: skip
        assert found.stopped_by == "no improvement"
        assert 500 <= found.steps < 5_000  # a batch may run a little past the count

    def test_a_stalled_search_cools_before_patience_stops_it(self, kernels: str) -> None:
        # three visits stall at once; with ``cooling`` the search runs that many steps more,
        # its temperature falling to the final one, before the patience stops it (cold)
        p = _problem(_crew(), _spread(3))
        start = construct(p).routes
        deadline = time.monotonic() + 60
        hot = improve(
            p, start, seed=0, deadline=deadline, patience=25, patience_after=0.5,
            patience_early=500,
        )  # fmt: skip
        cooled = improve(
            p, start, seed=0, deadline=deadline, patience=25, patience_after=0.5,
            patience_early=500, cooling=3_000,
        )  # fmt: skip
        assert hot.stopped_by == cooled.stopped_by == "no improvement"
        assert hot.steps < 3_000
        assert 3_500 <= cooled.steps < 10_000  # a batch may run a little past the count

    def test_infeasible_start_routes_are_refused(self, kernels: str) -> None:
        p = _problem(_crew(), _spread(4))
        visits = [int(n) for n in p.visits]
        with pytest.raises(ValueError, match="routes"):
            improve(p, [visits * 3, [], [], []], seed=0, iterations=1)


class TestPlanUsesIt:
    def test_a_real_plan_is_improved_by_ruin_and_recreate_and_validated(self) -> None:
        world, todo = _crew(), _spread(14)
        out = plan(world, todo, now=0, travel=TRAVEL, params=RUIN)
        assert out.violations == ()
        assert validate(world, todo, out, travel=TRAVEL) == []
        assert out.stats.status == "iteration limit"
        assert out.stats.objective <= out.stats.greedy_objective

    def test_it_is_no_worse_than_the_or_tools_cross_check(self) -> None:
        # same problem, same objective: OR-Tools' guided local search (30 solutions) against
        # 200 ruin-and-recreate steps
        world, todo = _crew(), _spread(14)
        ours = plan(world, todo, now=0, travel=TRAVEL, params=replace(RUIN, ruin_iterations=200))
        theirs = plan(world, todo, now=0, travel=TRAVEL, params=ORTOOLS)
        assert ours.violations == theirs.violations == ()
        assert ours.kpis.served >= theirs.kpis.served
        assert ours.stats.objective <= theirs.stats.objective

    def test_a_timed_plan_searches_for_its_share_before_patience_stops_it(self) -> None:
        world, todo = _crew(), _spread(14)
        params = PlanParams(
            time_limit_ms=600, ruin_patience=25, ruin_patience_after=0.5,
            ruin_patience_early=10**9, ruin_cooling=0,
        )  # fmt: skip
        started = time.monotonic()
        out = plan(world, todo, now=0, travel=TRAVEL, params=params)
        # half of the search's time (the plan keeps some of its limit for the rest)
        assert time.monotonic() - started >= 0.2
        assert out.stats.status == "no improvement"
        assert out.violations == ()
        assert validate(world, todo, out, travel=TRAVEL) == []

    def test_a_plan_of_one_ticket_does_not_wait_for_half_its_limit(self) -> None:
        # the defaults: nothing to search, so the early patience ends it (not the share)
        world, todo = _crew(), _spread(1)
        started = time.monotonic()
        out = plan(world, todo, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=20_000))
        assert out.stats.status == "no improvement"
        assert time.monotonic() - started < 10.0  # half the limit: the share alone would wait
        assert out.violations == ()

    def test_the_patience_share_is_checked(self) -> None:
        with pytest.raises(ValueError, match="ruin_patience_after"):
            PlanParams(ruin_patience_after=1.5)
        with pytest.raises(ValueError, match="ruin_cooling"):
            PlanParams(ruin_cooling=-1)

    def test_a_tiny_limit_still_gives_a_valid_flagged_plan(self) -> None:
        world, todo = _crew(), _spread(14)
        # a patience no 50 ms can exhaust: the search must be stopped by the limit (with the
        # default patience the compiled search may converge first and truly say "improved")
        params = PlanParams(time_limit_ms=50, ruin_patience=10**9)
        out = plan(world, todo, now=0, travel=TRAVEL, params=params)
        assert out.violations == ()
        assert out.quality in (
            PlanQuality.TIME_LIMITED,
            PlanQuality.FALLBACK,
            PlanQuality.NOTHING_PLACED,
        )
        assert out.kpis.served + out.kpis.dropped == len(todo)

    def test_a_limit_shorter_than_the_construction_drops_with_out_of_time(self) -> None:
        # 1 ms is less than the time kept for mapping and validating: nothing is tried
        world, todo = _crew(), _spread(6)
        out = plan(world, todo, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=1))
        assert out.violations == ()
        assert out.quality is PlanQuality.NOTHING_PLACED  # flagged: every ticket is dropped
        assert {d.reason for d in out.dropped} == {DropReason.OUT_OF_TIME}
        assert out.kpis.dropped == len(todo)


class TestWithTheKernel:
    @SETTINGS
    @given(world=worlds(), todo=ticket_lists(), now=nows, seed=st.integers(0, 3))
    def test_its_routes_are_feasible_and_never_worse_than_the_start(
        self, world: DispatchWorld, todo: list[Ticket], now: int, seed: int
    ) -> None:
        load()
        p = _problem(world, todo, now)
        start = construct(p)
        found = improve(p, start.routes, seed=seed, iterations=30)
        assert found.objective == objective(p, found.routes) <= start.objective


class TestCompiledStep:
    """The whole step compiled (`optimizer.step`): its plans are priced as `route_cost` does."""

    @SETTINGS
    @given(world=worlds(), todo=ticket_lists(), now=nows, seed=st.integers(0, 3))
    def test_every_best_plan_is_priced_by_route_cost_as_the_kernel_priced_it(
        self, world: DispatchWorld, todo: list[Ticket], now: int, seed: int
    ) -> None:
        load()
        p = _problem(world, todo, now)
        start = construct(p)
        seen: list[int] = []
        found = improve(
            p, start.routes, seed=seed, iterations=80,
            on_solution=lambda routes, cost: seen.append(cost - objective(p, routes)),
        )  # fmt: skip
        assert found.disagreed == 0
        assert set(seen) <= {0}
        assert found.objective == objective(p, found.routes) <= start.objective

    def test_it_finds_at_least_the_python_steps_plan_on_a_real_crew(self) -> None:
        # 300 compiled steps against 300 Python steps on the same problem and seed
        p = _problem(_crew(), _spread(14))
        start = construct(p).routes
        load()
        compiled = improve(p, start, seed=3, iterations=300)
        with _python_only():
            python = improve(p, start, seed=3, iterations=300)
        assert compiled.steps == python.steps == 300
        assert compiled.objective <= python.objective

    def test_a_deadline_stops_it(self) -> None:
        load()
        p = _problem(_crew(), _spread(14))
        found = improve(p, construct(p).routes, seed=0, deadline=time.monotonic() + 0.05)
        assert found.stopped_by == "time limit"
        assert found.objective == objective(p, found.routes)
