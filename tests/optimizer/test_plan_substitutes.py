"""Plans for a ticket whose lines compete for substitute parts pass the validator.

The shape seen failing once in ``test_every_plan_passes_the_validator``: one ticket needing
part 10 (substitutes 12, then 11) and 2 x part 11 (substitute 12), with stock spread so the
lines come from different sources and land on crossed parts (10 <- 11, 11 <- 12 x2).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer import PlanParams, plan, validate
from tests.optimizer.builders import (
    grid_travel,
    make_depot,
    make_engineer,
    make_ticket,
    make_world,
)

TRAVEL = grid_travel()
SUBSTITUTES = {10: (12, 11), 11: (12,)}
SEARCH = PlanParams(time_limit_ms=None, solution_limit=20, failure_limit=500)
GREEDY = replace(SEARCH, time_limit_ms=0)

STOCKS = {
    # line 10 can only get an 11 here, line 11 x2 only 12s there: crossed substitutes
    "crossed": ({11: 1}, {12: 2}, {}),
    # the brief's spread: a mixed depot, a depot of 11s, a van with some
    "mixed": ({11: 1, 12: 1}, {11: 2}, {11: 1, 12: 1}),
    "mixed, van of 12s": ({11: 1, 12: 1}, {11: 2}, {12: 2}),
    "crossed, van of 11s": ({11: 1}, {12: 2}, {11: 2}),
}


@pytest.mark.parametrize("params", [GREEDY, SEARCH], ids=["greedy", "search"])
@pytest.mark.parametrize("stocks", STOCKS.values(), ids=STOCKS.keys())
def test_crossed_substitute_lines_pass_the_validator(
    stocks: tuple[dict[int, int], dict[int, int], dict[int, int]], params: PlanParams
) -> None:
    first, second, van = stocks
    world = make_world(
        [make_engineer(1, at=(0, 0), van_stock=van)],
        [make_depot(1, at=(1, 1), stock=first), make_depot(2, at=(2, 2), stock=second)],
    )
    ticket = make_ticket(
        at=(3, 3), arrive_by=None, fix_by=None, parts=[(10, 1), (11, 2)], substitutes=SUBSTITUTES
    )
    result = plan(world, [ticket], now=0, travel=TRAVEL, params=params)
    assert validate(world, [ticket], result, travel=TRAVEL) == []
    assert result.violations == ()
    assert result.kpis.served == 1


def test_the_validator_still_catches_a_short_supply_of_crossed_lines() -> None:
    world = make_world(
        [make_engineer(1, at=(0, 0))],
        [make_depot(1, at=(1, 1), stock={11: 1}), make_depot(2, at=(2, 2), stock={12: 2})],
    )
    ticket = make_ticket(
        at=(3, 3), arrive_by=None, fix_by=None, parts=[(10, 1), (11, 2)], substitutes=SUBSTITUTES
    )
    result = plan(world, [ticket], now=0, travel=TRAVEL, params=GREEDY)
    route = result.routes[0]
    # without the courier's 11 only two 12s reach the site: one line goes short
    stops = tuple(replace(s, shipped=()) for s in route.stops)
    bad = replace(result, routes=(replace(route, stops=stops),))
    found = validate(world, [ticket], bad, travel=TRAVEL)
    assert any("neither picked up before nor shipped" in v for v in found), found
