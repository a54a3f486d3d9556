"""Every read of a ticket's clocks reads an assigned visit as the board does
(`dispatch.expected`): pushed behind its engineer's job on site past its planned end, a
visit that will miss its arrival is on the at-risk worklist at once, keyed and paged by
that reading, and the ticket list, the ticket page and the engineer's own tickets
(`dispatch.ticket_views`) show the board's clocks; while the plan holds every read is as
before. One rule, so no page disagrees with the board."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dispatch.board import read_board
from dispatch.clocks import at_risk_worklist, read_clocks
from dispatch.promises import Clock, ClockState
from dispatch.ticket_views import (
    TicketFilter,
    list_at_risk,
    list_tickets,
    view_ticket,
)
from tests.dispatch.overrun_world import (
    PAST,
    WITHIN,
    another_visit_behind,
    behind_an_overrun,
    every_read,
    statements,
)
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


def test_a_pushed_visit_is_on_the_worklist_as_on_the_board(
    session: Session, dw: DispatchWorld
) -> None:
    nxt, ticket, log = behind_an_overrun(session, dw)
    board = read_board(session, region_id=dw.base.region.id, now=PAST, durations=log)
    (seen,) = [t for t in board.tickets if t.ticket.id == ticket.id]
    margin = timedelta(minutes=seen.ticket.at_risk_margin_min)  # one policy for both tickets

    # within his job's plan: the worklist as without any projection (only the new ticket)
    within = at_risk_worklist(session, now=WITHIN, durations=log)
    assert [i.ticket.id for i in within] == [dw.ticket.id]
    assert within[0].clocks == read_clocks(dw.ticket, margin=margin, now=WITHIN)

    # past it: his next visit departs at 12:30 and misses its arrival, on the worklist now
    items = at_risk_worklist(session, now=PAST, durations=log)
    assert [i.ticket.id for i in items] == [dw.ticket.id, ticket.id]  # 08:10 before 10:00
    pushed = items[1]
    assert pushed.clocks == seen.clocks  # the board's reading, clock for clock
    assert pushed.clocks != read_clocks(ticket, margin=margin, now=PAST)
    urgent = pushed.urgent_clock
    expected = board.expected[ticket.id].arrives_at
    assert expected == nxt.arrives_at + timedelta(minutes=240)
    assert ticket.arrive_by is not None
    assert (urgent.clock, urgent.state) == (Clock.ARRIVE, ClockState.AT_RISK)
    assert urgent.slack_min == (ticket.arrive_by - expected).total_seconds() // 60 < 0
    assert pushed.key == (ticket.arrive_by, pushed.rank, ticket.id)


def test_pages_walk_the_projected_order(session: Session, dw: DispatchWorld) -> None:
    _, ticket, log = behind_an_overrun(session, dw)
    (first,) = at_risk_worklist(session, now=PAST, durations=log, limit=1)
    assert first.ticket.id == dw.ticket.id
    (second,) = at_risk_worklist(session, now=PAST, durations=log, limit=1, after=first.ticket.id)
    assert second.ticket.id == ticket.id
    assert at_risk_worklist(session, now=PAST, durations=log, after=ticket.id) == []


def test_the_worklist_page_shows_the_projected_clocks(session: Session, dw: DispatchWorld) -> None:
    """The at-risk tickets API's page (`list_at_risk`) shows the clocks it was ordered by."""
    _, ticket, log = behind_an_overrun(session, dw)
    page = list_at_risk(
        session, filters=TicketFilter(), now=PAST, after=None, limit=10, durations=log
    )
    (item,) = at_risk_worklist(session, now=PAST, durations=log, after=dw.ticket.id)
    assert [v.id for v in page.items] == [dw.ticket.id, ticket.id]
    assert page.items[1].at_risk
    assert page.items[1].clocks == item.clocks
    assert page.next_after is None


def test_more_pushed_visits_cost_no_more_queries(session: Session, dw: DispatchWorld) -> None:
    _, _, log = behind_an_overrun(session, dw)
    with statements(session) as one:
        assert len(at_risk_worklist(session, now=PAST, durations=log)) == 2
    # a second visit behind the same overrun: pushed too, read in the same queries
    another_visit_behind(session, dw)
    with statements(session) as two:
        assert len(at_risk_worklist(session, now=PAST, durations=log)) == 3
    assert len(two) == len(one)


def test_without_an_assigned_visit_the_worklist_reads_as_before(
    session: Session, dw: DispatchWorld
) -> None:
    """Nothing assigned: one query, as before (no assignment, log or engineer read)."""
    with statements(session) as read:
        (item,) = at_risk_worklist(session, now=PAST)
    assert item.ticket.id == dw.ticket.id
    assert len(read) == 1


def test_every_read_of_a_pushed_visit_agrees_with_the_board(
    session: Session, dw: DispatchWorld
) -> None:
    nxt, ticket, log = behind_an_overrun(session, dw)
    region = dw.base.region.id

    # within his job's plan: every read as without any projection, as the board reads it
    board = read_board(session, region_id=region, now=WITHIN, durations=log)
    (seen,) = [t for t in board.tickets if t.ticket.id == ticket.id]
    margin = timedelta(minutes=seen.ticket.at_risk_margin_min)
    planned = read_clocks(ticket, margin=margin, now=WITHIN)
    assert seen.clocks == planned
    assert every_read(session, ticket.id, WITHIN, log) == [planned] * 4

    # past it: the visit departs when his job is expected to end; every read shows the
    # board's clocks (and the worklist's), the arrival at risk with its expected slack
    board = read_board(session, region_id=region, now=PAST, durations=log)
    (seen,) = [t for t in board.tickets if t.ticket.id == ticket.id]
    assert seen.clocks != read_clocks(ticket, margin=margin, now=PAST)
    assert every_read(session, ticket.id, PAST, log) == [seen.clocks] * 4
    (item,) = [i for i in at_risk_worklist(session, now=PAST, durations=log)
               if i.ticket.id == ticket.id]  # fmt: skip
    assert item.clocks == seen.clocks
    arrive = next(c for c in seen.clocks if c.clock is Clock.ARRIVE)
    expected = board.expected[ticket.id].arrives_at
    assert expected == nxt.arrives_at + timedelta(minutes=240)
    assert ticket.arrive_by is not None
    assert arrive.state is ClockState.AT_RISK
    assert arrive.slack_min == (ticket.arrive_by - expected).total_seconds() // 60 < 0
    assert view_ticket(session, ticket_id=ticket.id, now=PAST, durations=log).at_risk


def test_a_ticket_page_costs_no_more_for_more_pushed_visits(
    session: Session, dw: DispatchWorld
) -> None:
    _, _, log = behind_an_overrun(session, dw)

    def page() -> int:
        return len(list_tickets(
            session, filters=TicketFilter(), now=PAST, after=None, limit=50, durations=log
        ).items)  # fmt: skip

    with statements(session) as one:
        assert page() == 3
    assert [s for s in one if "FROM assignments" in s]  # what the test below looks for
    # a second visit behind the same overrun: pushed too, read in the same queries
    another_visit_behind(session, dw)
    with statements(session) as two:
        assert page() == 4
    assert len(two) == len(one)


def test_without_an_assigned_visit_no_visit_is_read(session: Session, dw: DispatchWorld) -> None:
    """No listed ticket assigned: the page and the ticket read no assignment, no log and no
    engineer's work (the same queries as before the projection)."""
    with statements(session) as listed:
        page = list_tickets(session, filters=TicketFilter(), now=PAST, after=None, limit=50)
    with statements(session) as one:
        view = view_ticket(session, ticket_id=dw.ticket.id, now=PAST)
    assert [v.id for v in page.items] == [dw.ticket.id]
    (item,) = at_risk_worklist(session, now=PAST)  # at risk by now, read without a visit
    assert view.clocks == page.items[0].clocks == item.clocks
    for read in (listed, one):  # the visits are read first: nothing after them either
        assert not [s for s in read if "FROM assignments" in s or "plan_log_jobs" in s]


def test_a_plan_that_already_misses_a_promise_reads_at_risk_before_it_is_late(
    session: Session, dw: DispatchWorld
) -> None:
    # nothing pushed (his job within its plan), but the plan arrives 10 min after the
    # promise: every read says so now, not once the deadline has passed
    nxt, ticket, log = behind_an_overrun(session, dw)
    ticket.arrive_by = nxt.arrives_at - timedelta(minutes=10)
    session.flush()
    now = T0 + timedelta(minutes=5)  # his job within its plan
    assert now < ticket.arrive_by
    board = read_board(session, region_id=dw.base.region.id, now=now, durations=log)
    (seen,) = [t for t in board.tickets if t.ticket.id == ticket.id]
    arrive = next(c for c in seen.clocks if c.clock is Clock.ARRIVE)
    assert (arrive.state, arrive.slack_min) == (ClockState.AT_RISK, -10)
    # the clocks the plan keeps read as without a projection
    margin = timedelta(minutes=seen.ticket.at_risk_margin_min)
    planned = read_clocks(ticket, margin=margin, now=now)
    for mine, plain in zip(seen.clocks, planned, strict=True):
        if mine.clock is not Clock.ARRIVE:
            assert mine == plain
    (item,) = [i for i in at_risk_worklist(session, now=now, durations=log)
               if i.ticket.id == ticket.id]  # fmt: skip
    assert list(item.clocks) == list(seen.clocks)
