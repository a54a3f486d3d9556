"""Slack before promise-critical visits: a visit after another job wants the policy's slack.

Grid fake: one step = 1 min; the site is at (3, 3); arrival promised within 2 h.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import (
    ClockPenalties,
    PlanParams,
    Promise,
    RecommendParams,
    allocate,
    clock_cost,
    plan,
    recommend,
    short_of_slack,
)
from optimizer.greedy import objective
from optimizer.problem import build_problem, vehicles_of
from optimizer.routing import improve
from optimizer.screening import screen
from tests.optimizer.builders import HOUR, grid, grid_travel, make_engineer, make_ticket, make_world

TRAVEL = grid_travel()
SLACK = ClockPenalties(arrive=100_000, fix=100_000, at_risk_pct=10, slack_s=1_800)


def _arrival(option):  # type: ignore[no-untyped-def]
    return next(c for c in option.promises if c.promise is Promise.ARRIVAL)


def test_after_another_job_the_slack_is_the_at_risk_margin() -> None:
    # 20 min to spare: fine for a free engineer (15 min margin), short of a 30 min slack
    assert clock_cost(100_000, 3_600, 3_600 - 1_200, SLACK) == 0
    assert clock_cost(100_000, 3_600, 3_600 - 1_200, SLACK, after_job=True) == 10_000


def test_a_busy_engineer_arriving_short_of_the_slack_is_priced_and_explained() -> None:
    # busy until 1 h 34 min at his place (0, 0): 6 min drive, on site 20 min before 2 h
    busy = make_engineer(1, busy_until=94 * 60, busy_location=grid(0, 0))
    ticket = make_ticket(penalties=SLACK)
    rec = recommend(make_world([busy]), ticket, now=0, travel=TRAVEL, params=RecommendParams())
    check = _arrival(rec.options[0])
    assert check.kept
    assert check.short_of_slack
    assert check.cost == 10_000
    assert "less than the 30 min slack wanted" in rec.options[0].reason


def test_a_free_engineer_needs_no_slack() -> None:
    free = make_engineer(1, shifts=((94 * 60, 8 * HOUR),))  # his shift starts then
    ticket = make_ticket(penalties=SLACK)
    rec = recommend(make_world([free]), ticket, now=0, travel=TRAVEL, params=RecommendParams())
    check = _arrival(rec.options[0])
    assert check.kept
    assert not check.short_of_slack
    assert check.cost == 0


@settings(max_examples=40, deadline=None)
@given(
    busy=st.lists(st.integers(0, 4 * HOUR), min_size=1, max_size=5),
    slack=st.integers(0, 3 * HOUR),
)
def test_slack_never_makes_an_option_infeasible(busy: list[int], slack: int) -> None:
    engineers = [
        make_engineer(
            i + 1, at=(i, 0), busy_until=b or None, busy_location=grid(i, 0) if b else None
        )
        for i, b in enumerate(busy)
    ]
    world = make_world(engineers)
    params = RecommendParams(max_options=len(busy))

    def options(slack_s: int) -> set[int]:
        ticket = make_ticket(penalties=ClockPenalties(arrive=100_000, slack_s=slack_s))
        rec = recommend(world, ticket, now=0, travel=TRAVEL, params=params)
        return {o.engineer_id for o in rec.options}

    assert options(slack) == options(0)


def _plan_visits(tickets: list) -> tuple[list[int], list[str]]:  # type: ignore[type-arg]
    world = make_world([make_engineer(1)])
    found = plan(world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=2_000))
    order = [s.ticket_id for r in found.routes for s in r.visits]
    return order, short_of_slack(world, tickets, found)


@pytest.mark.parametrize(("slack_s", "order"), [(0, [1, 2]), (1_800, [2, 1])])
def test_the_planner_keeps_the_slack_when_an_order_allows(slack_s: int, order: list[int]) -> None:
    # A (2 h) and B (arrival within 87 min): A then B leaves B 20 min to spare, enough for
    # the 15 min margin without slack, short of a 30 min slack
    prices = ClockPenalties(arrive=100_000, fix=100_000, slack_s=slack_s)
    a = make_ticket(at=(3, 3), ticket_id=1, penalties=prices)
    b = make_ticket(at=(3, 4), ticket_id=2, arrive_by=87 * 60, penalties=prices)
    found, short = _plan_visits([a, b])
    assert found == order
    assert short == []


def test_a_visit_that_must_follow_another_job_is_said_to_lack_slack() -> None:
    # B's appointment is at 70 min, its arrival promise 90 min: A (2 h) must come first
    a = make_ticket(at=(3, 3), ticket_id=1)
    b = make_ticket(at=(3, 4), ticket_id=2, not_before=70 * 60, arrive_by=90 * 60)
    order, short = _plan_visits([a, b])
    assert order == [1, 2]
    assert short == [
        "ticket 2 (engineer 1, after another job): arrival with 20 min to spare, less than "
        "the 30 min slack wanted"
    ]


@pytest.mark.parametrize(("slack_s", "order"), [(0, [1, 2]), (1_800, [2, 1])])
def test_the_or_tools_cross_check_searches_with_the_slack_too(
    slack_s: int, order: list[int]
) -> None:
    # One engineer at (0, 0); A at 6 min (arrival by 63 min, CNY 5,000), B at 7 min (by 87
    # min, CNY 100,000). A then B: B starts at 67 min, 20 min to spare (enough for the 15 min
    # margin, short of a 30 min slack: B's at-risk share, CNY 10,000). B then A: A starts at
    # 68 min, 5 min late (CNY 5,000 and a little). The route cost prefers B first only with
    # the slack; OR-Tools, searching alone from its own first solution, now agrees.
    cheap = ClockPenalties(arrive=500_000, fix=0, slack_s=slack_s)
    dear = ClockPenalties(arrive=10_000_000, fix=0, slack_s=slack_s)
    a = make_ticket(at=(3, 3), ticket_id=1, arrive_by=63 * 60, penalties=cheap)
    b = make_ticket(at=(3, 4), ticket_id=2, arrive_by=87 * 60, penalties=dear)
    world = make_world([make_engineer(1)])
    params = PlanParams(time_limit_ms=None, failure_limit=500)
    vehicles = vehicles_of(world, 0, params)
    supplies = allocate(world, [a, b], now=0, travel=TRAVEL, params=params)
    keep, allowed, _ = screen(
        world, [a, b], supplies, vehicles, now=0, travel=TRAVEL, params=params
    )
    p = build_problem(world, keep, supplies, vehicles, allowed, now=0, travel=TRAVEL, params=params)
    found = improve(p, None, time_limit_ms=None, solution_limit=50)
    assert found is not None
    assert [keep[int(p.ticket[n])].id for n in found.routes[0]] == order
    other = [tuple(reversed(found.routes[0]))]
    assert objective(p, found.routes) < objective(p, other)  # the order the route cost wants
