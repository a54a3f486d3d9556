"""An engineer on site past his job's planned end pushes his next committed visit: it
cannot depart before the job is expected to end (`optimizer.overrun_ends`), so it departs,
arrives and ends later (`optimizer.retimed`). A pushed arrival that breaks its promise is
what the re-dispatch rule sees (`dispatch.redispatch.review`): a move to an engineer who
keeps it is proposed at once, before the overrun's threshold (`redispatch_after_min`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.moves import RULE_BETTER, overrunning
from dispatch.redispatch import review
from dispatch.snapshot import load_snapshot
from tests.dispatch.overrun_world import MIN, behind_an_overrun
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0

TRAVEL = opt.GeodesicTravelTimes()


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


def test_the_next_visit_behind_an_overrun_is_pushed_and_moved(
    session: Session, dw: DispatchWorld
) -> None:
    nxt, ticket, log = behind_an_overrun(session, dw)
    assert nxt.arrives_at <= ticket.arrive_by  # the plan keeps the arrival

    # within his job's plan (30 min): nothing pushed, nothing to move
    within = T0 + timedelta(minutes=25)
    snap = load_snapshot(session, now=within, durations=log)
    assert snap.delay(dw.haizhu.id, ticket.id) == 0
    (asked,) = review(session, now=within, travel=TRAVEL, durations=lambda _: log)
    assert asked.move is None

    # 10 min past it, before the 15-minute threshold: not "overrunning" yet, but he is
    # expected on site until 12:30, so his next visit departs then and breaks its arrival
    past = T0 + timedelta(minutes=40)
    assert overrunning(session, now=past, durations=lambda _: log) == {}
    snap = load_snapshot(session, now=past, durations=log)
    ends = T0 + timedelta(minutes=270)
    pushed = snap.delay(dw.haizhu.id, ticket.id)
    assert nxt.departs_at + timedelta(seconds=pushed) == ends
    haizhu = snap.world.engineers[snap.world.engineer_row[dw.haizhu.id]]
    assert haizhu.busy_until is not None
    assert haizhu.busy_until >= snap.offset(ends) + 30 * MIN  # busy until the pushed visit ends
    (asked,) = review(session, now=past, travel=TRAVEL, durations=lambda _: log)
    move = asked.move
    assert move is not None
    assert (move.rule, move.from_engineer_id) == (RULE_BETTER, dw.haizhu.id)
    assert move.to_engineer_id != dw.haizhu.id
    assert move.arrives_at <= ticket.arrive_by  # the move keeps the promise
    late = nxt.arrives_at + timedelta(seconds=pushed) - ticket.arrive_by
    assert move.late_min == int(late.total_seconds()) // 60 > 0
