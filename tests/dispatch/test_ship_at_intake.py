"""Parts no stock in reach can swap are shipped at intake; the visit later uses that shipment.

Issue 16, "shipped within 8 h": the shipment is opened with the ticket, in its transaction,
by the rule the simulator applies (`optimizer.ship_at_intake`); assigning the ticket later
neither holds nor ships a second time; cancelling it releases the hold.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.intake_parts import ship_at_intake
from dispatch.models import LogKind, Ticket, TicketStatus
from dispatch.pinning import withdraw_assignment
from dispatch.recommend import recommend_ticket
from dispatch.tickets import PartNeed, create_ticket, service_log, transition
from inventory.availability import available_stock
from inventory.models import (
    LedgerEntry,
    LedgerKind,
    Reservation,
    ReservationStatus,
    Shipment,
    ShipmentStatus,
)
from inventory.reservations import consume
from inventory.shipments import dispatch_shipment
from inventory.stock import Who, receive
from inventory.stock_errors import ShipmentNotOpen
from inventory.verify import verify
from tests.builders import make_depot, make_part, make_user
from tests.dispatch_world import BAIYUN, DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0

TRAVEL = opt.GeodesicTravelTimes()
SHANTOU = (23.354, 116.682)  # about 350 km from the Tianhe site: far past the 2 h swap reach


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


def _stocked(
    session: Session, dw: DispatchWorld, at: tuple[float, float], qty: int = 1
) -> tuple[int, int]:
    """A new part held only at a new depot at ``at``: (depot id, part id)."""
    part = make_part(session, dw.base.line)
    depot = make_depot(session, dw.base.region, lat=at[0], lon=at[1], name=f"Depot {at}")
    who = Who(make_user(session, Role.WAREHOUSE, key=f"spk_test_intake_{depot.id}").id, T0)
    receive(session=session, depot_id=depot.id, part_id=part.id, quantity=qty, who=who)
    return depot.id, part.id


def _take_in(session: Session, dw: DispatchWorld, part_id: int) -> Ticket:
    intake = dw.base.intake(parts=[PartNeed(part_id)])
    return create_ticket(session, intake, user=dw.base.dispatcher, now=T0, travel=TRAVEL)


def _shipments(session: Session, ticket_id: int) -> list[Shipment]:
    return list(session.scalars(select(Shipment).where(Shipment.ticket_id == ticket_id)))


class TestShipAtIntake:
    def test_a_part_out_of_reach_is_held_and_shipped_with_the_ticket(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        far, part = _stocked(session, dw, SHANTOU)
        ticket = _take_in(session, dw, part)
        [shipped] = _shipments(session, ticket.id)
        assert (shipped.from_depot_id, shipped.to_site_id, shipped.part_id) == (
            far, ticket.site_id, part,
        )  # fmt: skip
        assert shipped.status is ShipmentStatus.PENDING
        # the ship clock runs from the report, as the contract's policy says (8 h)
        assert shipped.ship_by == ticket.reported_at + timedelta(minutes=480)
        [hold] = session.scalars(select(Reservation).where(Reservation.ticket_id == ticket.id))
        assert (hold.id, hold.status) == (shipped.reservation_id, ReservationStatus.RESERVED)
        assert hold.expires_at >= shipped.ship_by  # held until the courier must have left
        assert (far, part) not in available_stock(session=session, now=T0)
        decision = [e for e in service_log(session, ticket.id) if e.kind is LogKind.DECISION]
        assert decision
        assert decision[0].details is not None
        assert decision[0].details["shipment_ids"] == [shipped.id]

    def test_a_part_in_reach_is_left_to_dispatch(self, session: Session, dw: DispatchWorld) -> None:
        _, part = _stocked(session, dw, BAIYUN)  # the next district: swapped within 2 h
        ticket = _take_in(session, dw, part)
        assert _shipments(session, ticket.id) == []
        assert (
            session.scalars(select(Reservation).where(Reservation.ticket_id == ticket.id)).all()
            == []
        )

    def test_it_is_idempotent_and_never_oversells(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        far, part = _stocked(session, dw, SHANTOU, qty=1)
        first = _take_in(session, dw, part)
        again = ship_at_intake(
            session, ticket=first, policy=dw.base.policy, user=dw.base.dispatcher, now=T0,
            travel=TRAVEL,
        )  # fmt: skip
        assert [s.id for s in again] == [s.id for s in _shipments(session, first.id)]
        assert len(_shipments(session, first.id)) == 1
        # the depot's only unit is on its way: the next ticket gets no shipment of it
        second = _take_in(session, dw, part)
        assert _shipments(session, second.id) == []
        assert (far, part) not in available_stock(session=session, now=T0)

    def test_the_visit_uses_the_shipment_under_way(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        far, part = _stocked(session, dw, SHANTOU)
        ticket = _take_in(session, dw, part)
        [shipped] = _shipments(session, ticket.id)
        found = recommend_ticket(session, ticket_id=ticket.id, now=T0, travel=TRAVEL)
        best = found.recommendation.best
        assert best is not None
        assert (best.parts.source, best.parts.depot_id) == (opt.PartsSource.SHIPMENT, far)
        assert best.fixes_at >= (best.parts.part_arrives_at or 0)
        done = confirm_assignment(
            session, ticket_id=ticket.id, engineer_id=best.engineer_id,
            user=dw.base.dispatcher, now=T0, travel=TRAVEL,
        )  # fmt: skip
        assert (done.assignment.parts_source, done.assignment.shipment_id) == (
            "shipment", shipped.id,
        )  # fmt: skip
        assert done.reservation_ids == (shipped.reservation_id,)
        assert len(_shipments(session, ticket.id)) == 1  # not shipped a second time
        holds = session.scalars(select(Reservation).where(Reservation.ticket_id == ticket.id))
        assert len(holds.all()) == 1

    def test_withdrawing_keeps_the_shipment_and_cancelling_releases_it(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        far, part = _stocked(session, dw, SHANTOU)
        ticket = _take_in(session, dw, part)
        [shipped] = _shipments(session, ticket.id)
        best = recommend_ticket(session, ticket_id=ticket.id, now=T0, travel=TRAVEL)
        assert best.recommendation.best is not None
        done = confirm_assignment(
            session, ticket_id=ticket.id, engineer_id=best.recommendation.best.engineer_id,
            user=dw.base.dispatcher, now=T0, travel=TRAVEL,
        )  # fmt: skip
        withdraw_assignment(
            session, assignment_id=done.assignment.id, user=dw.base.dispatcher, now=T0,
            reason="van broke down",
        )  # fmt: skip
        hold = session.get(Reservation, shipped.reservation_id)
        assert hold is not None
        assert hold.status is ReservationStatus.RESERVED  # still on its way for the next one
        transition(
            session, ticket_id=ticket.id, target=TicketStatus.CANCELLED, user=dw.base.dispatcher,
            now=T0, reason="customer fixed it",
        )  # fmt: skip
        session.refresh(hold)
        assert hold.status is ReservationStatus.RELEASED
        assert available_stock(session=session, now=T0)[(far, part)] == 1

    def test_cancelling_an_unassigned_ticket_releases_its_shipment_hold(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        far, part = _stocked(session, dw, SHANTOU)
        ticket = _take_in(session, dw, part)
        transition(
            session, ticket_id=ticket.id, target=TicketStatus.CANCELLED, user=dw.base.dispatcher,
            now=T0, reason="reported twice",
        )  # fmt: skip
        assert available_stock(session=session, now=T0)[(far, part)] == 1


class TestShipmentOfATicketNoLongerNeeded:
    """A ticket cancelled or resolved remotely cancels its shipment still waiting to leave."""

    @pytest.mark.parametrize("target", [TicketStatus.CANCELLED, TicketStatus.RESOLVED_REMOTELY])
    def test_a_pending_shipment_is_cancelled_its_hold_released_and_logged(
        self, session: Session, dw: DispatchWorld, target: TicketStatus
    ) -> None:
        far, part = _stocked(session, dw, SHANTOU)
        ticket = _take_in(session, dw, part)
        [shipped] = _shipments(session, ticket.id)
        transition(session, ticket_id=ticket.id, target=target, user=dw.base.dispatcher,
                   now=T0, reason="not needed")  # fmt: skip
        session.refresh(shipped)
        assert shipped.status is ShipmentStatus.CANCELLED
        hold = session.get(Reservation, shipped.reservation_id)
        assert hold is not None
        assert hold.status is ReservationStatus.RELEASED
        assert available_stock(session=session, now=T0)[(far, part)] == 1
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.shipment_id == shipped.id)
        ).all()
        assert [(e.kind, e.user_id) for e in entries] == [
            (LedgerKind.SHIPMENT, dw.base.dispatcher.id)
        ]
        assert "cancelled" in entries[0].reason
        logged = [e.details for e in service_log(session, ticket.id) if e.details]
        assert {"cancelled_shipment_ids": [shipped.id], "shipments_under_way": []} in logged
        assert verify(session=session) == []
        with pytest.raises(ShipmentNotOpen):  # a cancelled shipment never leaves
            dispatch_shipment(session=session, shipment_id=shipped.id, who=Who(None, T0))

    def test_a_shipment_already_on_its_way_is_left_to_arrive(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        _, part = _stocked(session, dw, SHANTOU)
        ticket = _take_in(session, dw, part)
        [shipped] = _shipments(session, ticket.id)
        assert shipped.reservation_id is not None
        consume(session=session, reservation_id=shipped.reservation_id, user_id=None, now=T0)
        dispatch_shipment(session=session, shipment_id=shipped.id, who=Who(None, T0))
        transition(session, ticket_id=ticket.id, target=TicketStatus.CANCELLED,
                   user=dw.base.dispatcher, now=T0, reason="customer fixed it")  # fmt: skip
        session.refresh(shipped)
        assert shipped.status is ShipmentStatus.IN_TRANSIT  # no return flow: it arrives
        logged = [e.details for e in service_log(session, ticket.id) if e.details]
        assert {"cancelled_shipment_ids": [], "shipments_under_way": [shipped.id]} in logged
        assert verify(session=session) == []
