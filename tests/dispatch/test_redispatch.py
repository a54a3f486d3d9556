"""Production asks the simulator's re-dispatch rule (`optimizer.better_elsewhere`, issue 16)
for visits not departed yet, and proposes the move to the dispatcher."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.assign import confirm_assignment
from dispatch.models import Assignment
from dispatch.redispatch import proposed_moves
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


def _assigned(session: Session, dw: DispatchWorld, late_by: timedelta) -> Assignment:
    """The general ticket confirmed to Haizhu, its plan moved ``late_by`` later."""
    ticket = open_ticket(session, dw.base, severity="general")
    confirm_assignment(
        session, ticket_id=ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=T0, travel=TRAVEL,
    )  # fmt: skip
    row = session.scalars(select(Assignment).where(Assignment.ticket_id == ticket.id)).one()
    row.departs_at += late_by
    row.arrives_at += late_by
    row.fixes_at += late_by
    session.flush()
    return row


def test_a_visit_planned_to_break_its_clocks_is_proposed_to_another_engineer(
    session: Session, dw: DispatchWorld
) -> None:
    row = _assigned(session, dw, timedelta(hours=6))  # past every deadline
    (move,) = proposed_moves(session, now=T0, travel=TRAVEL)
    assert (move.ticket_id, move.assignment_id) == (row.ticket_id, row.id)
    assert move.from_engineer_id == dw.haizhu.id
    assert move.to_engineer_id != dw.haizhu.id
    assert move.move_cost < move.keep_cost
    assert move.arrives_at < row.arrives_at


def test_a_visit_that_keeps_its_clocks_stays(session: Session, dw: DispatchWorld) -> None:
    _assigned(session, dw, timedelta(0))
    assert proposed_moves(session, now=T0, travel=TRAVEL) == []
    assert proposed_moves(session, now=T0, travel=TRAVEL, engineer_id=dw.panyu.id) == []
