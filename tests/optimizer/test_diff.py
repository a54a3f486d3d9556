"""`diff` between two plans: moves, ETA changes, promise states, drops, routes, reservations."""

from __future__ import annotations

import json

from optimizer import PlanParams, PromiseState, Ticket, diff, plan
from optimizer.world import DispatchWorld
from tests.optimizer.builders import HOUR, grid_travel, make_engineer, make_ticket, make_world

TRAVEL = grid_travel()
SEARCH = PlanParams(time_limit_ms=None, solution_limit=50, failure_limit=2_000)


def _plan(world: DispatchWorld, tickets: list[Ticket]):  # type: ignore[no-untyped-def]
    return plan(world, tickets, now=0, travel=TRAVEL, params=SEARCH)


def test_a_diff_of_a_plan_with_itself_is_empty() -> None:
    world = make_world([make_engineer(1)])
    p = _plan(world, [make_ticket((3, 3))])
    assert diff(p, p).to_dict() == {"tickets": [], "routes": [], "reservations": [], "at_risk": []}


def test_moves_eta_and_promise_changes_are_reported() -> None:
    # before: engineer 1 at (3, 2) serves in 1 min; after he is gone, engineer 2 from
    # (9, 9) takes 12 min (11 more) and a 10 min arrival promise turns late
    ticket = make_ticket((3, 3), arrive_by=600)
    before = _plan(make_world([make_engineer(1, (3, 2)), make_engineer(2, (9, 9))]), [ticket])
    after = _plan(make_world([make_engineer(2, (9, 9))]), [ticket])
    (t,) = diff(before, after).tickets
    assert (t.engineer_before, t.engineer_after, t.moved) == (1, 2, True)
    assert t.eta_change_min == 11.0
    assert (t.promise_before, t.promise_after) == (PromiseState.KEPT, PromiseState.LATE)
    assert diff(before, after).at_risk == (1,)
    routes = {r.engineer_id: (r.before, r.after) for r in diff(before, after).routes}
    assert routes == {1: ((1,), ()), 2: ((), (1,))}


def test_newly_dropped_and_newly_served() -> None:
    ticket = make_ticket((3, 3), arrive_by=None, fix_by=None)
    served = _plan(make_world([make_engineer(1)]), [ticket])
    dropped = _plan(make_world([make_engineer(1, shifts=((-2 * HOUR, -HOUR),))]), [ticket])
    (gone,) = diff(served, dropped).tickets
    assert gone.newly_dropped
    assert gone.at_risk
    (back,) = diff(dropped, served).tickets
    assert back.newly_served
    assert not back.at_risk


def test_plans_and_their_dicts_give_the_same_diff() -> None:
    ticket = make_ticket((3, 3))
    a = _plan(make_world([make_engineer(1, (3, 2))]), [ticket])
    b = _plan(make_world([make_engineer(2, (9, 9))]), [ticket])
    assert diff(a, b) == diff(a.to_dict(), json.loads(json.dumps(b.to_dict())))
    json.dumps(diff(a, b).to_dict())
