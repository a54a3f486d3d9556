"""A visit handed back under way and assigned again runs from its own events: the new
engineer's departure and arrival, recorded on his assignment, are what the board, the
expected visits, his day, the divert's drivers and the overrun rule read; the promise
clocks keep the ticket's first departure and arrival (the customer's promise was kept by
the first engineer)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.board import read_board
from dispatch.clocks import read_clocks
from dispatch.expected import expected_visits
from dispatch.models import Assignment, AssignmentStatus, Engineer, Ticket, TicketStatus
from dispatch.moves import overrunning
from dispatch.my_day import my_day
from dispatch.pinning import withdraw_assignment
from dispatch.promises import Clock
from dispatch.room import driving_now
from dispatch.snapshot import load_snapshot
from dispatch.tickets import transition
from tests.builders import make_user
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()
FIRST_OFF = T0 + timedelta(minutes=10)  # the first engineer sets off
BROKE_DOWN = T0 + timedelta(minutes=30)  # dispatch hands the visit back


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


def _active(session: Session, ticket_id: int) -> Assignment:
    return session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
        )
    ).one()


def _step(
    session: Session, dw: DispatchWorld, ticket: Ticket, to: TicketStatus, at: datetime
) -> None:
    transition(session, ticket_id=ticket.id, target=to, user=dw.base.dispatcher, now=at)


def _handed_to(
    session: Session, dw: DispatchWorld, ticket: Ticket, engineer: Engineer
) -> Assignment:
    """The ticket's visit withdrawn from its engineer (his van broke down) and assigned to
    ``engineer``: his new assignment."""
    withdraw_assignment(
        session, assignment_id=_active(session, ticket.id).id, user=dw.base.dispatcher,
        now=BROKE_DOWN, reason="van broke down",
    )  # fmt: skip
    confirm_assignment(
        session, ticket_id=ticket.id, engineer_id=engineer.id, user=dw.base.dispatcher,
        now=BROKE_DOWN, travel=TRAVEL, pinned=False,
    )  # fmt: skip
    return _active(session, ticket.id)


def _first_visit(session: Session, dw: DispatchWorld, *, arrive: datetime | None) -> Ticket:
    """A serious ticket (it has a depart clock) Haizhu set off for at `FIRST_OFF` (and
    reached at ``arrive``)."""
    ticket = open_ticket(session, dw.base, severity="serious")
    confirm_assignment(
        session, ticket_id=ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=T0, travel=TRAVEL,
    )  # fmt: skip
    _step(session, dw, ticket, TicketStatus.EN_ROUTE, FIRST_OFF)
    if arrive is not None:
        _step(session, dw, ticket, TicketStatus.ON_SITE, arrive)
    return ticket


def _event(ticket: Ticket, clock: Clock, now: datetime) -> datetime | None:
    (reading,) = [c for c in read_clocks(ticket, margin=timedelta(0), now=now) if c.clock is clock]
    return reading.event_at


def test_the_new_engineer_en_route_is_expected_his_drive_after_he_set_off(
    session: Session, dw: DispatchWorld
) -> None:
    ticket = _first_visit(session, dw, arrive=None)
    first = session.scalars(select(Assignment).where(Assignment.ticket_id == ticket.id)).one()
    assert first.departed_at == FIRST_OFF
    second = _handed_to(session, dw, ticket, dw.panyu)
    assert second.departed_at is None  # his visit has not set off yet
    off = FIRST_OFF + timedelta(hours=2)  # Panyu sets off 2 h after Haizhu did
    _step(session, dw, ticket, TicketStatus.EN_ROUTE, off)
    now = off + timedelta(minutes=5)
    drive = second.arrives_at - second.departs_at
    assert drive > timedelta(minutes=5)  # he is still on the road at `now`

    seen = expected_visits(session, [ticket], now=now)[ticket.id]
    assert (seen.departs_at, seen.arrives_at) == (off, off + drive)
    assert seen.overdue == ()  # not "arriving now": his own drive has just begun
    board = read_board(session, region_id=dw.base.region.id, now=now)
    assert board.expected[ticket.id].arrives_at == off + drive
    snap = load_snapshot(session, now=now)
    driving, _ = driving_now(session, snap, now=now)[ticket.id]
    assert (driving.departed_at, driving.arrives_at) == (snap.offset(off), snap.offset(off + drive))

    user = make_user(session, Role.ENGINEER, key=f"spk_test_panyu_{dw.panyu.id}")
    dw.panyu.user_id = user.id
    session.flush()
    (item,) = [i for i in my_day(session, user=user, now=now) if i.view.ticket.id == ticket.id]
    assert item.visit is not None
    assert item.visit.expected_arrives_at == off + drive

    # the depart clock was kept by the first departure, the ticket's
    assert ticket.departed_at == FIRST_OFF
    assert _event(ticket, Clock.DEPART, now) == FIRST_OFF


def test_the_new_engineer_on_site_runs_from_his_own_arrival(
    session: Session, dw: DispatchWorld
) -> None:
    arrived = FIRST_OFF + timedelta(minutes=15)
    ticket = _first_visit(session, dw, arrive=arrived)
    second = _handed_to(session, dw, ticket, dw.panyu)
    off = FIRST_OFF + timedelta(hours=2)
    there = off + (second.arrives_at - second.departs_at)
    _step(session, dw, ticket, TicketStatus.EN_ROUTE, off)
    _step(session, dw, ticket, TicketStatus.ON_SITE, there)
    assert (second.departed_at, second.arrived_at) == (off, there)
    now = there + timedelta(minutes=10)
    planned = second.fixes_at - second.arrives_at  # the log is empty: the standard duration

    seen = expected_visits(session, [ticket], now=now)[ticket.id]
    assert (seen.departs_at, seen.arrives_at, seen.fixes_at) == (off, there, there + planned)
    board = read_board(session, region_id=dw.base.region.id, now=now)
    assert board.expected[ticket.id].fixes_at == there + planned
    # 10 min into his job he is not overrunning, though the first arrival was > 2 h ago
    assert now - arrived > planned + timedelta(minutes=15)  # past the policy's threshold
    assert overrunning(session, now=now) == {}

    # the clocks keep the first departure and arrival
    assert (ticket.departed_at, ticket.arrived_at) == (FIRST_OFF, arrived)
    assert _event(ticket, Clock.DEPART, now) == FIRST_OFF
    assert _event(ticket, Clock.ARRIVE, now) == arrived
