"""The board's clocks read an assigned visit as the re-dispatch review does: pushed behind
its engineer's job on site past its planned end (`dispatch.snapshot.projected_visit` on
`Snapshot.delay`), so the dispatcher sees it at risk, with the expected arrival, before
any move is stored; while the plan holds the board reads as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dispatch.board import Board, read_board
from dispatch.clocks import ClockReading, read_clocks
from dispatch.promises import Clock, ClockState
from dispatch.snapshot import load_snapshot
from tests.dispatch.overrun_world import behind_an_overrun
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


def _clock(board: Board, ticket_id: int, clock: Clock) -> ClockReading:
    (row,) = [t for t in board.tickets if t.ticket.id == ticket_id]
    return next(c for c in row.clocks if c.clock is clock)


def test_a_visit_behind_an_overrun_is_at_risk_with_its_pushed_arrival(
    session: Session, dw: DispatchWorld
) -> None:
    nxt, ticket, log = behind_an_overrun(session, dw)
    region = dw.base.region.id

    # within his job's plan: the visit as planned, the clocks as without any projection
    within = T0 + timedelta(minutes=25)
    board = read_board(session, region_id=region, now=within, durations=log)
    seen = board.expected[ticket.id]
    assert (seen.assignment_id, seen.pushed_s, seen.late_s) == (nxt.id, 0, 0)
    assert (seen.departs_at, seen.arrives_at, seen.fixes_at) == (
        nxt.departs_at, nxt.arrives_at, nxt.fixes_at,
    )  # fmt: skip
    (row,) = [t for t in board.tickets if t.ticket.id == ticket.id]
    margin = timedelta(minutes=row.ticket.at_risk_margin_min)
    assert row.clocks == read_clocks(ticket, margin=margin, now=within)  # unchanged
    assert _clock(board, ticket.id, Clock.ARRIVE).state is ClockState.ON_TIME

    # 10 min past it: the next visit departs when his job is expected to end (12:30), the
    # same push the re-dispatch review's snapshot reads; its arrival breaks the promise
    past = T0 + timedelta(minutes=40)
    pushed = load_snapshot(session, now=past, durations=log).delay(dw.haizhu.id, ticket.id)
    assert pushed > 0
    board = read_board(session, region_id=region, now=past, durations=log)
    seen = board.expected[ticket.id]
    assert seen.pushed_s == seen.late_s == pushed
    assert seen.departs_at == T0 + timedelta(minutes=270)  # the overrun's expected end
    assert seen.arrives_at == nxt.arrives_at + timedelta(seconds=pushed)
    assert seen.fixes_at == nxt.fixes_at + timedelta(seconds=pushed)
    arrive = _clock(board, ticket.id, Clock.ARRIVE)
    assert arrive.state in (ClockState.AT_RISK, ClockState.BREACHED)
    slack = (ticket.arrive_by - seen.arrives_at).total_seconds() // 60
    assert arrive.slack_min == int(slack) < 0
    assert any(t.at_risk for t in board.tickets if t.ticket.id == ticket.id)
