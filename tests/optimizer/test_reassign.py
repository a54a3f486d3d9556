"""The re-dispatch rules over a fresh recommendation (`optimizer.reassign`, issue 16)."""

from __future__ import annotations

from optimizer import (
    Recommendation,
    RecommendParams,
    better_elsewhere,
    clock_cost,
    keeps_what_was_planned,
    planned_cost,
    recommend,
)
from tests.optimizer.builders import grid, grid_travel, make_engineer, make_ticket, make_world

M = 60
TRAVEL = grid_travel()
# site (2, 2), urgent-like: depart by 0:15, arrive by 2 h, fix by 4 h; engineer 1 holds the
# visit, engineer 2 is idle 4 steps away (departs now, arrives at 0:04)
TICKET = make_ticket(at=(2, 2), depart_by=15 * M)
WORLD = make_world(
    [
        make_engineer(1, (2, 2), busy_until=60 * M, busy_location=grid(2, 2)),
        make_engineer(2, (4, 4)),
    ]
)


def _rec() -> Recommendation:
    return recommend(WORLD, TICKET, now=0, travel=TRAVEL, params=RecommendParams())


def test_the_plan_is_priced_by_the_one_clock_rule() -> None:
    p = TICKET.prices
    late = planned_cost(TICKET, departs_at=45 * M, arrives_at=45 * M)
    assert late == clock_cost(p.depart, TICKET.depart_by, 45 * M, p)
    assert planned_cost(TICKET, departs_at=0, arrives_at=5 * M) == 0


def test_a_plan_that_leaves_late_moves_to_who_departs_in_time() -> None:
    option = better_elsewhere(_rec(), TICKET, engineer_id=1, departs_at=45 * M, arrives_at=45 * M)
    assert option is not None
    assert option.engineer_id == 2
    assert not option.departs_late


def test_a_plan_that_keeps_its_clocks_stays() -> None:
    assert better_elsewhere(_rec(), TICKET, engineer_id=1, departs_at=0, arrives_at=0) is None


def test_a_move_must_pay_for_its_driving() -> None:
    # the plan only puts the depart clock at risk (leaves at 0:14 of 0:15): keeping costs the
    # at-risk share; a colleague who drives 4 km moves it only when his km cost less
    keep = planned_cost(TICKET, departs_at=14 * M, arrives_at=14 * M)
    assert keep > 0
    for per_km, moves in ((0, True), (keep, False)):
        world = make_world(
            [
                make_engineer(1, (2, 2), busy_until=60 * M, busy_location=grid(2, 2)),
                make_engineer(2, (4, 4), cost_per_km=per_km),
            ]
        )
        rec = recommend(world, TICKET, now=0, travel=TRAVEL, params=RecommendParams())
        option = better_elsewhere(rec, TICKET, engineer_id=1, departs_at=14 * M, arrives_at=14 * M)
        assert (option is not None) is moves


def test_behind_an_overrun_the_move_keeps_what_the_plan_kept() -> None:
    option = keeps_what_was_planned(
        _rec(), TICKET, engineer_id=1, departs_at=10 * M, arrives_at=10 * M
    )
    assert option is not None
    assert option.engineer_id == 2
    assert option.departs_at <= 15 * M
    assert option.arrives_at <= 2 * 3_600


def test_behind_an_overrun_nothing_kept_nothing_to_protect() -> None:
    # the plan already broke depart and arrival: the protective rule has nothing to keep
    late = 3 * 3_600
    assert keeps_what_was_planned(_rec(), TICKET, engineer_id=1, departs_at=late,
                                  arrives_at=late) is None  # fmt: skip
