"""The domain gauges /metrics reports: clocks of open tickets, holds, stock-outs, job queue."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy.orm import Session

from db import jobs
from dispatch.board import read_board
from dispatch.gauges import read_gauges
from dispatch.promises import ClockState
from inventory.reservations import ReserveLine, reserve
from tests.dispatch.overrun_world import PAST, WITHIN, behind_an_overrun
from tests.dispatch_world import make_dispatch_world
from tests.inventory.stock_builders import make_shop
from tests.ticket_builders import T0, make_ticket_world, open_ticket


def test_open_tickets_are_counted_per_clock_and_state(session: Session) -> None:
    world = make_ticket_world(session)
    open_ticket(session, world, severity="urgent")  # respond within 10 min, margin 15
    open_ticket(session, world, severity="general")  # respond within 120 min
    session.flush()
    g = read_gauges(session, now=T0 + timedelta(minutes=20))
    assert g.clocks[("respond", "breached")] == 1  # the urgent one, 10 minutes over
    assert g.clocks[("respond", "on_time")] == 1  # the general one, 100 minutes left
    assert sum(n for (clock, _), n in g.clocks.items() if clock == "respond") == 2


def test_live_holds_expired_holds_and_stock_outs(session: Session) -> None:
    shop = make_shop(session, on_hand=2, sub_on_hand=1)
    now = T0
    reserve(session=session, depot_id=shop.depot, lines=[ReserveLine(shop.part, 2)],
            user_id=shop.user, now=now, lifetime_min=30)  # fmt: skip
    reserve(session=session, depot_id=shop.depot, lines=[ReserveLine(shop.sub, 1)],
            user_id=shop.user, now=now, lifetime_min=5)  # fmt: skip
    session.flush()
    g = read_gauges(session, now=now + timedelta(minutes=10))
    assert (g.reservations_live, g.reserved_units, g.reservations_expired) == (1, 2, 1)
    # Both rows have nothing left to give: the part's 2 are held, the substitute's 1 too
    # (an expired hold blocks the row until the sweeper releases it).
    assert sum(g.stock_outs.values()) == 2


def test_the_job_queue_depth_and_the_age_of_its_oldest(session: Session) -> None:
    for minutes in (0, 5):
        jobs.enqueue(session, kind="plan", payload={}, user_id=None,
                     now=T0 + timedelta(minutes=minutes))  # fmt: skip
    jobs.enqueue(session, kind="scenario", payload={}, user_id=None, now=T0)
    claimed = jobs.claim(session, worker="w", now=T0, stale_after=timedelta(minutes=1))
    assert claimed is not None
    g = read_gauges(session, now=T0 + timedelta(minutes=15))
    assert g.jobs[("plan", "running")] + g.jobs[("scenario", "running")] == 1
    assert g.jobs[("plan", "queued")] + g.jobs[("scenario", "queued")] == 2
    assert max(g.oldest_queued_seconds.values()) == 15 * 60


def test_a_pushed_visit_is_counted_as_the_board_reads_it(session: Session) -> None:
    """The clock gauges read an assigned visit through the board's projection: a visit pushed
    behind an overrun counts at risk once the board shows it at risk, on time before."""
    dw = make_dispatch_world(session, with_part=False)
    _, ticket, log = behind_an_overrun(session, dw)
    for now in (WITHIN, PAST):
        board = read_board(session, region_id=dw.base.region.id, now=now, durations=log)
        shown = Counter(
            (c.clock.value, c.state.value) for t in board.tickets for c in t.clocks
            if c.state is not ClockState.VOID
        )  # fmt: skip
        assert read_gauges(session, now=now, durations=log).clocks == shown
    (row,) = [t for t in board.tickets if t.ticket.id == ticket.id]
    assert ("arrive", "at_risk") in {(c.clock.value, c.state.value) for c in row.clocks}
