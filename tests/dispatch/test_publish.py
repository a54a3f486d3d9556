"""Publishing a draft plan: assignments and holds through the one path, or nothing at all."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.errors import PublishConflict
from dispatch.models import Assignment, AssignmentStatus, Plan, PlanStage, TicketStatus
from dispatch.planning import PlanRequest, plan_region
from dispatch.publish import publish_plan
from dispatch.tickets import transition
from inventory.models import Reservation
from inventory.reservations import ReserveLine, reserve
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0

TRAVEL = opt.GeodesicTravelTimes()


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session)


def draft(session: Session, dw: DispatchWorld) -> int:
    request = PlanRequest(ticket_ids=(dw.ticket.id,), time_limit_s=None, failure_limit=50)
    plan = plan_region(
        session, request=request, now=T0, travel=TRAVEL, user_id=dw.base.dispatcher.id
    )
    assert plan.result is not None
    assert plan.result["feasible"]
    return plan.id


def test_publish_assigns_with_the_plans_times(session: Session, dw: DispatchWorld) -> None:
    plan_id = draft(session, dw)
    done = publish_plan(session, plan_id=plan_id, user=dw.base.dispatcher, now=T0)
    assert done.assigned == (dw.ticket.id,)
    assert done.plan.stage is PlanStage.PUBLISHED
    assert dw.ticket.status is TicketStatus.ASSIGNED
    a = session.scalars(select(Assignment)).one()
    visit = next(
        stop
        for route in done.plan.result["routes"]  # type: ignore[index]
        for stop in route["stops"]
        if stop["kind"] == "visit"
    )
    assert a.engineer_id == dw.ticket.engineer_id
    assert a.arrives_at.isoformat() == (visit["starts_at"] or visit["arrives_at"])
    holds = session.scalars(select(Reservation).where(Reservation.ticket_id == dw.ticket.id))
    assert len(list(holds)) == (1 if a.parts_source in ("pickup", "van", "shipment") else 0)


def test_a_newer_plan_supersedes_and_reassigns(session: Session, dw: DispatchWorld) -> None:
    first = draft(session, dw)
    publish_plan(session, plan_id=first, user=dw.base.dispatcher, now=T0)
    second = draft(session, dw)
    done = publish_plan(session, plan_id=second, user=dw.base.dispatcher, now=T0)
    assert done.superseded == first
    statuses = sorted(a.status for a in session.scalars(select(Assignment)))
    assert statuses == sorted([AssignmentStatus.ACTIVE, AssignmentStatus.WITHDRAWN])


def test_conflict_lists_the_problem_and_changes_nothing(
    session: Session, dw: DispatchWorld
) -> None:
    plan_id = draft(session, dw)
    transition(
        session,
        ticket_id=dw.ticket.id,
        target=TicketStatus.CANCELLED,
        user=dw.base.dispatcher,
        now=T0,
        reason="customer fixed it",
    )
    with pytest.raises(PublishConflict) as caught:
        publish_plan(session, plan_id=plan_id, user=dw.base.dispatcher, now=T0)
    assert any("cancelled" in c for c in caught.value.conflicts)


def test_only_drafts_publish(session: Session, dw: DispatchWorld) -> None:
    plan_id = draft(session, dw)
    publish_plan(session, plan_id=plan_id, user=dw.base.dispatcher, now=T0)
    with pytest.raises(PublishConflict, match="1 conflict"):
        publish_plan(session, plan_id=plan_id, user=dw.base.dispatcher, now=T0)


def test_diff_against_the_published_plan(session: Session, dw: DispatchWorld) -> None:
    from dispatch.publish import diff_against_published

    first = draft(session, dw)
    fresh = diff_against_published(session, plan_id=first)
    assert fresh["against_plan_id"] is None
    assert [t["ticket_id"] for t in fresh["tickets"]] == [dw.ticket.id]
    publish_plan(session, plan_id=first, user=dw.base.dispatcher, now=T0)
    second = draft(session, dw)
    same = diff_against_published(session, plan_id=second)
    assert same["against_plan_id"] == first
    assert same["tickets"] == []


def test_a_replan_counts_the_tickets_own_hold_as_its_supply(
    session: Session, dw: DispatchWorld
) -> None:
    # Issue 17 (README tour at 03:00): after a plan was published, the next plan (and a
    # disruption's re-plan) read the depot's stock without the units the published plan
    # had reserved for the very tickets it re-plans; a ticket holding the depot's last unit
    # lost its pickup (shipped, or dropped at night).
    first = draft(session, dw)
    publish_plan(session, plan_id=first, user=dw.base.dispatcher, now=T0)
    held = session.scalars(select(Reservation).where(Reservation.ticket_id == dw.ticket.id)).one()
    assert held.depot_id == dw.depot.id  # a pickup at the Baiyun depot
    reserve(
        session=session,
        depot_id=dw.depot.id,
        lines=[ReserveLine(dw.part.id, 1)],
        user_id=None,
        now=T0,
    )  # fmt: skip  (a walk-in takes the depot's other unit)
    second = draft(session, dw)
    plan = session.get(Plan, second)
    assert plan is not None
    assert plan.result is not None
    pickups = [
        stop["depot_id"]
        for route in plan.result["routes"]
        for stop in route["stops"]
        if stop["kind"] == "pickup" and stop["ticket_id"] == dw.ticket.id
    ]
    assert pickups == [dw.depot.id]
