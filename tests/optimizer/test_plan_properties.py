"""Properties of route planning on random small worlds (hypothesis).

Every plan `plan` returns passes the independent validator (it would say so in
``violations``, and we call it again here); the greedy plan alone is feasible too, and the
search never returns a plan worse than it.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import DispatchWorld, PlanParams, PlanQuality, Ticket, plan, validate
from tests.optimizer.builders import grid_travel
from tests.optimizer.strategies import nows, tickets, worlds

TRAVEL = grid_travel()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEARCH = PlanParams(time_limit_ms=None, solution_limit=20, failure_limit=500)


@st.composite
def ticket_lists(draw: st.DrawFn) -> list[Ticket]:
    drawn = draw(st.lists(tickets(), min_size=1, max_size=6))
    hard = draw(st.lists(st.booleans(), min_size=len(drawn), max_size=len(drawn)))
    return [
        replace(t, id=i, severity_rank=i % 3, hard_arrival=h and t.arrive_by is not None)
        for i, (t, h) in enumerate(zip(drawn, hard, strict=True), 1)
    ]


@SETTINGS
@given(world=worlds(), todo=ticket_lists(), now=nows)
def test_every_plan_passes_the_validator(
    world: DispatchWorld, todo: list[Ticket], now: int
) -> None:
    result = plan(world, todo, now=now, travel=TRAVEL, params=SEARCH)
    assert result.violations == ()
    assert validate(world, todo, result, travel=TRAVEL) == []
    assert result.kpis.served + result.kpis.dropped == len(todo)
    assert result.stats.objective <= result.stats.greedy_objective


@SETTINGS
@given(world=worlds(), todo=ticket_lists(), now=nows)
def test_the_greedy_plan_alone_is_feasible(
    world: DispatchWorld, todo: list[Ticket], now: int
) -> None:
    greedy = plan(world, todo, now=now, travel=TRAVEL, params=replace(SEARCH, time_limit_ms=0))
    # nothing_placed: every ticket was dropped before routing (e.g. nobody on shift)
    assert greedy.quality in (PlanQuality.FALLBACK, PlanQuality.OPTIMAL, PlanQuality.NOTHING_PLACED)
    assert greedy.violations == ()
    searched = plan(world, todo, now=now, travel=TRAVEL, params=SEARCH)
    assert searched.kpis.served >= greedy.kpis.served or (
        searched.stats.objective <= greedy.stats.objective
    )
