"""Confirming an assignment: ticket, schedule and parts in one step, or a clear refusal."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.assign import confirm_assignment
from dispatch.errors import AssignmentConflict
from dispatch.models import Assignment, AssignmentStatus, LogKind, TicketStatus
from dispatch.tickets import service_log, transition
from inventory.availability import available_stock
from inventory.models import Reservation, ReservationStatus
from inventory.stock_errors import InsufficientStock, ShortLine
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0

TRAVEL = opt.GeodesicTravelTimes()


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session)


def confirm(session: Session, dw: DispatchWorld, engineer_id: int) -> Any:
    return confirm_assignment(
        session,
        ticket_id=dw.ticket.id,
        engineer_id=engineer_id,
        user=dw.base.dispatcher,
        now=T0,
        travel=TRAVEL,
    )


def test_confirm_assigns_schedules_and_reserves(session: Session, dw: DispatchWorld) -> None:
    done = confirm(session, dw, dw.haizhu.id)
    assert dw.ticket.status is TicketStatus.ASSIGNED
    assert dw.ticket.engineer_id == dw.haizhu.id
    a = done.assignment
    assert (a.status, a.parts_source, a.depot_id) == (
        AssignmentStatus.ACTIVE,
        "pickup",
        dw.depot.id,
    )
    assert a.arrives_at > T0
    [hold] = session.scalars(select(Reservation).where(Reservation.ticket_id == dw.ticket.id))
    assert (hold.depot_id, hold.part_id, hold.quantity) == (dw.depot.id, dw.part.id, 1)
    assert available_stock(session=session, now=T0)[(dw.depot.id, dw.part.id)] == 1
    log = service_log(session, dw.ticket.id)
    assert [e.to_status for e in log if e.kind is LogKind.TRANSITION] == ["responded", "assigned"]
    decision = log[-1]
    assert decision.kind is LogKind.DECISION
    assert decision.details is not None
    assert decision.details["chosen"]["engineer_id"] == dw.haizhu.id
    assert dw.panyu.id in [alt["engineer_id"] for alt in decision.details["alternatives"]]


def test_unqualified_engineer_is_refused_with_the_reason(
    session: Session, dw: DispatchWorld
) -> None:
    with pytest.raises(AssignmentConflict, match="skill") as caught:
        confirm(session, dw, dw.yuexiu.id)
    assert caught.value.next_best is not None
    assert caught.value.next_best["engineer_id"] == dw.haizhu.id


def test_part_taken_meanwhile_offers_the_next_best(
    session: Session, dw: DispatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def taken(**_: object) -> None:
        raise InsufficientStock([ShortLine(dw.depot.id, dw.part.id, 1, 0)])

    monkeypatch.setattr("dispatch.assign.reserve", taken)
    with pytest.raises(AssignmentConflict, match="taken meanwhile") as caught:
        confirm(session, dw, dw.haizhu.id)
    assert caught.value.next_best is not None


def test_assigned_ticket_cannot_be_assigned_again(session: Session, dw: DispatchWorld) -> None:
    confirm(session, dw, dw.haizhu.id)
    with pytest.raises(AssignmentConflict, match="is assigned"):
        confirm(session, dw, dw.panyu.id)


def test_cancel_withdraws_and_releases(session: Session, dw: DispatchWorld) -> None:
    done = confirm(session, dw, dw.haizhu.id)
    transition(
        session,
        ticket_id=dw.ticket.id,
        target=TicketStatus.CANCELLED,
        user=dw.base.dispatcher,
        now=T0,
        reason="customer fixed it",
    )
    assert done.assignment.status is AssignmentStatus.WITHDRAWN
    assert dw.ticket.engineer_id is None
    [hold] = session.scalars(select(Reservation).where(Reservation.ticket_id == dw.ticket.id))
    assert hold.status is ReservationStatus.RELEASED
    assert available_stock(session=session, now=T0)[(dw.depot.id, dw.part.id)] == 2


def test_fix_completes_the_assignment(session: Session, dw: DispatchWorld) -> None:
    done = confirm(session, dw, dw.haizhu.id)
    for step in (TicketStatus.EN_ROUTE, TicketStatus.ON_SITE, TicketStatus.FIXED):
        transition(session, ticket_id=dw.ticket.id, target=step, user=dw.base.dispatcher, now=T0)
    assert done.assignment.status is AssignmentStatus.DONE
    assert session.scalars(select(Assignment)).all() == [done.assignment]


def test_assigned_work_blocks_the_engineer_for_the_next_ticket(
    session: Session, dw: DispatchWorld
) -> None:
    from dispatch.recommend import recommend_ticket
    from tests.ticket_builders import open_ticket

    done = confirm(session, dw, dw.haizhu.id)
    second = open_ticket(session, dw.base)
    rec = recommend_ticket(session, ticket_id=second.id, now=T0, travel=TRAVEL)
    fixes = rec.snapshot.offset(done.assignment.fixes_at)
    for option in rec.recommendation.options:
        if option.engineer_id == dw.haizhu.id:
            assert option.departs_at >= fixes
    assert rec.recommendation.best is not None
    assert rec.recommendation.best.engineer_id != dw.haizhu.id
