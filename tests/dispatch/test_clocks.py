"""Reading a ticket's clocks, and the at-risk worklist ordered by urgency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dispatch.clocks import at_risk_worklist, read_clocks
from dispatch.models import TicketStatus
from dispatch.promises import Clock, ClockState
from dispatch.tickets import transition
from tests.ticket_builders import T0, TicketWorld, make_ticket_world, open_ticket

MARGIN = timedelta(minutes=15)


@pytest.fixture
def world(session: Session) -> TicketWorld:
    return make_ticket_world(session)


def states(readings: list) -> dict[Clock, ClockState]:  # type: ignore[type-arg]
    return {r.clock: r.state for r in readings}


def test_fresh_urgent_ticket(session: Session, world: TicketWorld) -> None:
    ticket = open_ticket(session, world)
    readings = read_clocks(ticket, margin=MARGIN, now=T0)
    # respond by 08:10 with a 15 min margin is already inside the margin at 08:00
    assert states(readings) == {
        Clock.RESPOND: ClockState.AT_RISK,
        Clock.DEPART: ClockState.ON_TIME,
        Clock.ARRIVE: ClockState.ON_TIME,
        Clock.FIX: ClockState.ON_TIME,
    }
    assert [r.slack_min for r in readings] == [10, 15, 120, 240]


def test_depart_at_margin_edge(session: Session, world: TicketWorld) -> None:
    ticket = open_ticket(session, world)
    # depart by 08:15, margin 15 min: on time up to 08:00 exactly, at risk one second later
    [depart] = [r for r in read_clocks(ticket, margin=MARGIN, now=T0) if r.clock is Clock.DEPART]
    assert depart.state is ClockState.ON_TIME
    later = T0 + timedelta(seconds=1)
    [depart] = [r for r in read_clocks(ticket, margin=MARGIN, now=later) if r.clock is Clock.DEPART]
    assert depart.state is ClockState.AT_RISK


def test_projection_moves_a_clock_to_at_risk(session: Session, world: TicketWorld) -> None:
    ticket = open_ticket(session, world)
    projections = {Clock.ARRIVE: T0 + timedelta(minutes=110)}
    readings = read_clocks(ticket, margin=MARGIN, now=T0, projections=projections)
    arrive = next(r for r in readings if r.clock is Clock.ARRIVE)
    assert arrive.state is ClockState.AT_RISK
    assert arrive.slack_min == 10


def test_met_and_breached_events(session: Session, world: TicketWorld) -> None:
    ticket = open_ticket(session, world)
    transition(
        session,
        ticket_id=ticket.id,
        target=TicketStatus.RESPONDED,
        user=world.dispatcher,
        now=T0 + timedelta(minutes=10),
    )
    now = T0 + timedelta(minutes=16)
    got = states(read_clocks(ticket, margin=MARGIN, now=now))
    assert got[Clock.RESPOND] is ClockState.MET
    assert got[Clock.DEPART] is ClockState.BREACHED  # 08:15 passed, nobody left


def test_cancelled_ticket_clocks_are_void(session: Session, world: TicketWorld) -> None:
    ticket = open_ticket(session, world)
    transition(
        session,
        ticket_id=ticket.id,
        target=TicketStatus.CANCELLED,
        user=world.dispatcher,
        now=T0,
        reason="duplicate",
    )
    assert set(states(read_clocks(ticket, margin=MARGIN, now=T0 + timedelta(days=1))).values()) == {
        ClockState.VOID
    }


def test_remote_resolution_voids_the_visit_clocks(session: Session, world: TicketWorld) -> None:
    ticket = open_ticket(session, world)
    transition(
        session,
        ticket_id=ticket.id,
        target=TicketStatus.RESOLVED_REMOTELY,
        user=world.dispatcher,
        now=T0 + timedelta(minutes=5),
    )
    got = states(read_clocks(ticket, margin=MARGIN, now=T0 + timedelta(days=1)))
    assert got == {
        Clock.RESPOND: ClockState.MET,
        Clock.DEPART: ClockState.VOID,
        Clock.ARRIVE: ClockState.VOID,
        Clock.FIX: ClockState.MET,
    }


class TestWorklist:
    def test_orders_by_earliest_pending_deadline_then_severity(
        self, session: Session, world: TicketWorld
    ) -> None:
        general = open_ticket(session, world, severity="general")  # respond by 10:00
        urgent = open_ticket(session, world, severity="urgent")  # respond by 08:10
        serious = open_ticket(session, world, severity="serious")  # respond by 08:15
        now = T0 + timedelta(minutes=5)
        items = at_risk_worklist(session, now=now)
        assert [i.ticket.id for i in items] == [urgent.id, serious.id]
        late = at_risk_worklist(session, now=T0 + timedelta(minutes=110))
        assert [i.ticket.id for i in late][:3] == [urgent.id, serious.id, general.id]

    def test_closed_and_calm_tickets_are_left_out(
        self, session: Session, world: TicketWorld
    ) -> None:
        calm = open_ticket(session, world, severity="general")
        assert calm.id not in [i.ticket.id for i in at_risk_worklist(session, now=T0)]
        done = open_ticket(session, world)
        transition(
            session,
            ticket_id=done.id,
            target=TicketStatus.RESOLVED_REMOTELY,
            user=world.dispatcher,
            now=T0,
        )
        later = T0 + timedelta(hours=10)
        assert done.id not in [i.ticket.id for i in at_risk_worklist(session, now=later)]

    def test_filters_by_region(self, session: Session, world: TicketWorld) -> None:
        open_ticket(session, world)
        now = T0 + timedelta(minutes=5)
        assert at_risk_worklist(session, now=now, region_id=world.region.id)
        assert at_risk_worklist(session, now=now, region_id=10**9) == []
