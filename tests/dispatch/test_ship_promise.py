"""The contract's ship promise reaches plans: each ticket carries its own, never the default."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.parts import pick_for_ticket, reserve_for_ticket
from dispatch.planning import PlanRequest, plan_region
from dispatch.recommend import recommend_ticket
from dispatch.snapshot import job_for, load_snapshot
from dispatch.tickets import PartNeed
from inventory.models import Shipment
from inventory.reservations import ReserveLine
from inventory.stock import Who, receive
from tests.builders import make_depot, make_part, make_user
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()
SHANTOU = (23.354, 116.682)  # about 350 km from the Tianhe site: past the 3 h pickup radius


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


def _shipped_ticket(session: Session, dw: DispatchWorld, ship_within_min: int) -> int:
    """A ticket whose part only a depot in Shantou has: too far to fetch, it is shipped."""
    dw.base.policy.ship_within_min = ship_within_min
    part = make_part(session, dw.base.line)
    far = make_depot(session, dw.base.region, lat=SHANTOU[0], lon=SHANTOU[1], name="Shantou")
    who = Who(make_user(session, Role.WAREHOUSE, key=f"spk_test_far_{far.id}").id, T0)
    receive(session=session, depot_id=far.id, part_id=part.id, quantity=1, who=who)
    return int(open_ticket(session, dw.base, parts=[PartNeed(part.id)]).id)


class TestShipPromiseInPlans:
    def test_the_solver_ticket_carries_its_contracts_promise(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        ticket_id = _shipped_ticket(session, dw, 240)
        snap = load_snapshot(session, now=T0, region_id=dw.base.region.id)
        assert job_for(session, snap, ticket_id).ship_within_s == 4 * 3_600

    @pytest.mark.parametrize("within_min", [240, 600])
    def test_a_plan_ships_by_the_contracts_promise(
        self, session: Session, dw: DispatchWorld, within_min: int
    ) -> None:
        ticket_id = _shipped_ticket(session, dw, within_min)
        request = PlanRequest(
            ticket_ids=(ticket_id,), time_limit_s=None, failure_limit=200, as_of=T0
        )
        row = plan_region(session, request=request, now=T0, travel=TRAVEL)
        assert row.result is not None
        visits = [
            s for r in row.result["routes"] for s in r["stops"] if s["ticket_id"] == ticket_id
            and s["kind"] == "visit"
        ]  # fmt: skip
        assert visits, row.result["dropped"]
        (shipped,) = visits[0]["shipped"]
        assert datetime.fromisoformat(shipped["ship_by"]) == T0 + timedelta(minutes=within_min)


class TestShipPromiseAtAssignment:
    def test_a_shipment_opened_on_assigning_counts_from_the_report(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        """The ship clock runs from `reported_at`, not from when a dispatcher got to it."""
        ticket_id = _shipped_ticket(session, dw, 480)
        later = T0 + timedelta(hours=3)  # the ticket waited three hours for an engineer
        found = recommend_ticket(session, ticket_id=ticket_id, now=later, travel=TRAVEL)
        best = found.recommendation.best
        assert best is not None
        assert best.parts.source is opt.PartsSource.SHIPMENT
        done = confirm_assignment(
            session, ticket_id=ticket_id, engineer_id=best.engineer_id,
            user=dw.base.dispatcher, now=later, travel=TRAVEL,
        )  # fmt: skip
        shipped = session.get(Shipment, done.assignment.shipment_id)
        assert shipped is not None
        assert shipped.requested_at == T0
        assert shipped.ship_by == T0 + timedelta(minutes=480)

    def test_a_ticket_hold_picked_for_the_site_ships_by_the_report_too(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        """The warehouse's pick-and-ship of a ticket's hold keeps the same clock."""
        part = make_part(session, dw.base.line)
        depot = make_depot(session, dw.base.region, name="Pick depot")
        who = Who(make_user(session, Role.WAREHOUSE, key="spk_test_pick_ship").id, T0)
        receive(session=session, depot_id=depot.id, part_id=part.id, quantity=1, who=who)
        ticket = open_ticket(session, dw.base, parts=[PartNeed(part.id)])
        later = Who(who.user_id, T0 + timedelta(hours=3))
        [held] = reserve_for_ticket(session, depot_id=depot.id, lines=[ReserveLine(part.id, 1)],
                                    ticket_id=ticket.id, who=later)  # fmt: skip
        _, shipped = pick_for_ticket(session, reservation_id=held.id, who=later,
                                     ship_to_site_id=ticket.site_id, transit_min=60)  # fmt: skip
        assert shipped is not None
        assert shipped.ship_by == T0 + timedelta(minutes=dw.base.policy.ship_within_min)
