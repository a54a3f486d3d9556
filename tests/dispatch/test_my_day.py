"""The engineer's day (`dispatch.my_day`): his open tickets in the order he drives them (on
site, en route, then by expected departure, without an active assignment last), each with
his visit as the board projects it (pushed behind his overrunning job) and the part to pick
up where; in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role, User
from dispatch.assign import confirm_assignment
from dispatch.board import read_board
from dispatch.models import Assignment, AssignmentStatus, Ticket, TicketStatus
from dispatch.my_day import PickupPart, my_day
from dispatch.tickets import transition
from tests.builders import make_user
from tests.dispatch.overrun_world import (
    PAST,
    WITHIN,
    Behind,
    another_visit_behind,
    behind_an_overrun,
    statements,
)
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session)


def _haizhu_user(session: Session, dw: DispatchWorld) -> User:
    user = make_user(session, Role.ENGINEER, key=f"spk_test_haizhu_{dw.haizhu.id}")
    dw.haizhu.user_id = user.id
    session.flush()
    return user


def _his_day(session: Session, dw: DispatchWorld) -> tuple[User, Behind, Ticket, Ticket]:
    """On site since T0, his next visit behind it, the part ticket (a pickup at Baiyun) and a
    ticket of his whose assignment was withdrawn (no active visit)."""
    user = _haizhu_user(session, dw)
    behind = behind_an_overrun(session, dw)
    confirm_assignment(
        session, ticket_id=dw.ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=T0, travel=opt.GeodesicTravelTimes(),
    )  # fmt: skip
    loose = another_visit_behind(session, dw)
    session.execute(
        update(Assignment)
        .where(Assignment.ticket_id == loose.id)
        .values(status=AssignmentStatus.WITHDRAWN)
    )
    session.expire_all()
    return user, behind, dw.ticket, loose


def test_his_day_is_in_route_order_with_his_visits(session: Session, dw: DispatchWorld) -> None:
    user, behind, part_ticket, loose = _his_day(session, dw)
    day = my_day(session, user=user, now=PAST, durations=behind.log)
    ids = [i.view.ticket.id for i in day]
    on_site = day[0]
    assert on_site.view.ticket.status is TicketStatus.ON_SITE
    assert ids[-1] == loose.id  # no active assignment: last
    assert day[-1].visit is None
    middle = day[1:-1]
    assert {i.view.ticket.id for i in middle} == {behind.ticket.id, part_ticket.id}
    departs = [i.visit.expected_departs_at for i in middle if i.visit is not None]
    assert departs == sorted(departs)

    # on site: set off and arrived at T0, expected done when his overrunning job is, as
    # the board reads it; not pushed behind other work
    v = on_site.visit
    assert v is not None
    assert (v.expected_departs_at, v.expected_arrives_at, v.pushed_min) == (T0, T0, 0)
    assert v.expected_fixes_at == T0 + timedelta(minutes=270)

    # the visit behind his overrun: the board's projection, 240 min later
    (nxt,) = [i for i in day if i.view.ticket.id == behind.ticket.id]
    assert nxt.visit is not None
    board = read_board(session, region_id=dw.base.region.id, now=PAST, durations=behind.log)
    seen = board.expected[behind.ticket.id]
    assert nxt.visit.departs_at == behind.nxt.departs_at
    assert nxt.visit.arrives_at == behind.nxt.arrives_at
    assert nxt.visit.expected_arrives_at == seen.arrives_at
    assert nxt.visit.expected_arrives_at == behind.nxt.arrives_at + timedelta(minutes=240)
    assert nxt.visit.expected_departs_at == seen.departs_at
    assert nxt.visit.expected_fixes_at == seen.fixes_at
    assert nxt.visit.pushed_min == 240
    (board_ticket,) = [t for t in board.tickets if t.ticket.id == behind.ticket.id]
    assert nxt.view.clocks == board_ticket.clocks  # the clocks read the same projection

    # his part, confirmed behind the overrun, is shipped to site
    (ship,) = [i for i in day if i.view.ticket.id == part_ticket.id]
    assert ship.visit is not None
    assert ship.visit.parts_source == "shipment"
    assert ship.visit.shipment_id is not None
    assert ship.visit.pickup == []


def test_a_pickup_names_the_part_and_the_depot(session: Session, dw: DispatchWorld) -> None:
    user = _haizhu_user(session, dw)
    confirm_assignment(
        session, ticket_id=dw.ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=T0, travel=opt.GeodesicTravelTimes(),
    )  # fmt: skip
    (pick,) = my_day(session, user=user, now=T0)
    assert pick.visit is not None
    assert (pick.visit.parts_source, pick.visit.depot_id, pick.visit.depot_name) == (
        "pickup", dw.depot.id, "Baiyun depot",
    )  # fmt: skip
    assert pick.visit.pickup == [PickupPart(dw.part.id, dw.part.sku, dw.part.name, 1)]
    assert pick.visit.expected_departs_at == pick.visit.departs_at  # the plan holds


def test_while_the_plan_holds_expected_is_planned(session: Session, dw: DispatchWorld) -> None:
    user, behind, _, _ = _his_day(session, dw)
    day = my_day(session, user=user, now=WITHIN, durations=behind.log)
    for item in day:
        if item.visit is not None and item.view.ticket.status is TicketStatus.ASSIGNED:
            v = item.visit
            assert v.pushed_min == 0
            assert (v.expected_departs_at, v.expected_arrives_at, v.expected_fixes_at) == (
                v.departs_at, v.arrives_at, v.fixes_at,
            )  # fmt: skip


def test_en_route_comes_before_the_visits_still_to_leave(
    session: Session, dw: DispatchWorld
) -> None:
    user, behind, part_ticket, _ = _his_day(session, dw)
    (first,) = [
        t for t in session.scalars(select(Ticket).where(Ticket.status == TicketStatus.ON_SITE))
    ]
    transition(session, ticket_id=first.id, target=TicketStatus.FIXED, user=user, now=PAST)
    transition(session, ticket_id=part_ticket.id, target=TicketStatus.EN_ROUTE, user=user, now=PAST)
    day = my_day(session, user=user, now=PAST, durations=behind.log)
    assert [i.view.ticket.status for i in day][:2] == [
        TicketStatus.EN_ROUTE, TicketStatus.ASSIGNED,
    ]  # fmt: skip
    assert day[0].view.ticket.id == part_ticket.id


def test_queries_do_not_grow_with_his_visits(session: Session, dw: DispatchWorld) -> None:
    user, behind, _, _ = _his_day(session, dw)
    my_day(session, user=user, now=PAST, durations=behind.log)  # what the session loads once
    with statements(session) as before:
        my_day(session, user=user, now=PAST, durations=behind.log)
    another_visit_behind(session, dw)
    another_visit_behind(session, dw)
    my_day(session, user=user, now=PAST, durations=behind.log)
    with statements(session) as after:
        day = my_day(session, user=user, now=PAST, durations=behind.log)
    assert len(day) == 6
    assert len(after) == len(before)
