"""Publishing a draft plan: every planned visit becomes an assignment, or nothing changes.

Publishing goes through the one assignment path (`dispatch.assign.assign`) for each visit,
in the caller's single transaction. Tickets whose engineer or times change have their old
assignment withdrawn first (its holds released). Every conflict (a ticket closed meanwhile,
a part taken) is collected; if there is any, `PublishConflict` lists them all and the
caller's rollback leaves the database as it was. The published plan supersedes the
region's previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.assign import PartsChoice, Planned, assign
from dispatch.errors import AssignmentConflict, NotFoundError, PublishConflict
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Engineer,
    Plan,
    PlanStage,
    Ticket,
    TicketStatus,
)
from dispatch.tickets import transition
from inventory.stock_errors import InsufficientStock


@dataclass(frozen=True, slots=True)
class Published:
    plan: Plan
    assigned: tuple[int, ...]  # ticket ids (re)assigned
    kept: tuple[int, ...]  # ticket ids whose active assignment already matched the plan
    superseded: int | None


def planned_visits(result: dict[str, Any], vans: dict[int, int]) -> dict[int, Planned]:
    """Each visited ticket's engineer, times and parts, read from a stored plan result."""
    out: dict[int, Planned] = {}
    for route in result.get("routes", []):
        engineer = int(route["engineer_id"])
        leave = route["departs_at"]
        pickups: dict[int, dict[str, Any]] = {}
        for stop in route["stops"]:
            if stop["kind"] == "pickup":
                pickups[int(stop["ticket_id"])] = stop
            else:
                ticket = int(stop["ticket_id"])
                out[ticket] = Planned(
                    engineer,
                    datetime.fromisoformat(leave),
                    datetime.fromisoformat(stop["starts_at"] or stop["arrives_at"]),
                    datetime.fromisoformat(stop["departs_at"]),
                    _choice(pickups.get(ticket), stop, vans.get(engineer)),
                )
            leave = stop["departs_at"]
    for woken in result.get("callouts", []):  # an on-call engineer woken for one ticket
        out[int(woken["ticket_id"])] = _callout(woken, vans)
    return out


def _callout(woken: dict[str, Any], vans: dict[int, int]) -> Planned:
    """A call-out of a stored plan as the engineer's planned job."""
    engineer, parts = int(woken["engineer_id"]), woken["parts"]
    source, lines = parts["source"], _lines(parts["uses"])
    transit = 0
    if parts["ships_at"] and parts["part_arrives_at"]:
        gap = datetime.fromisoformat(parts["part_arrives_at"]) - datetime.fromisoformat(
            parts["ships_at"]
        )
        transit = int(gap.total_seconds() // 60)
    depot = vans.get(engineer) if source == "van" else parts["depot_id"]
    choice = PartsChoice(source, lines, depot, parts["supplier_id"], transit)
    return Planned(
        engineer,
        datetime.fromisoformat(woken["departs_at"]),
        datetime.fromisoformat(woken["arrives_at"]),
        datetime.fromisoformat(woken["fixes_at"]),
        choice,
    )


def _lines(uses: list[dict[str, Any]]) -> tuple[tuple[int, int, int | None], ...]:
    return tuple(
        (
            int(u["part_id"]),
            int(u["qty"]),
            None if u["part_id"] == u["line_part_id"] else int(u["line_part_id"]),
        )
        for u in uses
    )


def _choice(pickup: dict[str, Any] | None, visit: dict[str, Any], van: int | None) -> PartsChoice:
    if pickup is not None and pickup["parts"]:
        depot = pickup["depot_id"]
        if depot is None:  # taken from the engineer's own van
            return PartsChoice("van", _lines(pickup["parts"]), van)
        return PartsChoice("pickup", _lines(pickup["parts"]), int(depot))
    for shipped in visit.get("shipped") or []:
        depot, supplier = shipped["depot_id"], shipped["supplier_id"]
        transit = 0
        if shipped["ships_at"] and shipped["arrives_at"]:
            gap = datetime.fromisoformat(shipped["arrives_at"]) - datetime.fromisoformat(
                shipped["ships_at"]
            )
            transit = int(gap.total_seconds() // 60)
        return PartsChoice("shipment", _lines(shipped["parts"]), depot, supplier, transit)
    return PartsChoice("none")


def publish_plan(session: Session, *, plan_id: int, user: User, now: datetime) -> Published:
    """Turn a feasible draft into assignments and holds, all or nothing.

    The plan, then its tickets, then the engineers it sends, each in id order, are locked
    first (`FOR UPDATE` on PostgreSQL; the order a confirmation takes too: ticket, then
    engineer): of racing publishes one goes through, the others then find no draft; a
    confirmation that booked one of the plan's engineers meanwhile, on a ticket outside the
    plan and at a time one of his planned visits takes, makes the publish a conflict (the
    plan never saw it), so no engineer is ever booked twice at once.
    """
    plan = session.get(Plan, plan_id, with_for_update=True, populate_existing=True)
    if plan is None:
        raise NotFoundError("plan", plan_id)
    if plan.stage is not PlanStage.DRAFT:
        raise PublishConflict(plan_id, [f"the plan is {plan.stage}, not a draft"])
    result = plan.result or {}
    if not result.get("feasible", False):
        raise PublishConflict(plan_id, ["the plan did not pass the validator"])
    vans = {
        e: v
        for e, v in session.execute(
            select(Engineer.id, Engineer.van_depot_id).where(Engineer.van_depot_id.is_not(None))
        )
        if v is not None
    }
    visits = planned_visits(result, vans)
    for ticket_id in sorted(visits):
        session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    for engineer_id in sorted({p.engineer_id for p in visits.values()}):
        session.get(Engineer, engineer_id, with_for_update=True, populate_existing=True)
    conflicts = _double_bookings(session, visits, outside_of=plan.ticket_ids)
    assigned, kept = [], []
    for ticket_id, planned in sorted(visits.items()):
        outcome = _publish_one(session, plan, ticket_id, planned, user, now)
        if outcome == "kept":
            kept.append(ticket_id)
        elif outcome == "assigned":
            assigned.append(ticket_id)
        else:
            conflicts.append(outcome)
    if conflicts:
        raise PublishConflict(plan_id, conflicts)
    superseded = _supersede(session, plan, user, now)
    return Published(plan, tuple(assigned), tuple(kept), superseded)


def _double_bookings(
    session: Session, visits: dict[int, Planned], *, outside_of: list[int]
) -> list[str]:
    """A planned visit overlapping an engineer's active assignment outside the plan.

    The plan was solved around the assignments it knew; one made since (a dispatcher's
    confirmation racing this publish) may take the same hours.
    """
    engineers = {p.engineer_id for p in visits.values()}
    booked = session.scalars(
        select(Assignment).where(
            Assignment.engineer_id.in_(engineers),
            Assignment.status == AssignmentStatus.ACTIVE,
            Assignment.ticket_id.not_in([int(t) for t in outside_of]),
        )
    ).all()
    found = []
    for ticket_id, planned in sorted(visits.items()):
        for other in booked:
            overlaps = other.departs_at < planned.fixes_at and planned.departs_at < other.fixes_at
            if other.engineer_id == planned.engineer_id and overlaps:
                found.append(
                    f"ticket {ticket_id}: engineer {planned.engineer_id} was booked for ticket"
                    f" {other.ticket_id} from {other.departs_at:%H:%M} to {other.fixes_at:%H:%M}"
                    " UTC meanwhile; plan again"
                )
    return found


def _publish_one(
    session: Session, plan: Plan, ticket_id: int, planned: Planned, user: User, now: datetime
) -> str:
    ticket = session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if ticket is None:
        return f"ticket {ticket_id} no longer exists"
    active = session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
        )
    ).one_or_none()
    if active is not None and active.engineer_id == planned.engineer_id and active.pinned:
        return "kept"
    if ticket.status is TicketStatus.ASSIGNED and active is not None:
        transition(
            session,
            ticket_id=ticket_id,
            target=TicketStatus.RESPONDED,
            user=user,
            now=now,
            reason=f"re-planned by plan {plan.id}",
            via_dispatch=True,
        )
    try:
        assign(
            session,
            ticket=ticket,
            planned=planned,
            user=user,
            now=now,
            reason=f"published plan {plan.id}",
            details={
                "plan_id": plan.id,
                "engineer_id": planned.engineer_id,
                "arrives_at": planned.arrives_at.isoformat(),
            },
        )
    except (AssignmentConflict, InsufficientStock) as exc:
        return f"ticket {ticket_id}: {exc}"
    return "assigned"


def _published_before(session: Session, plan: Plan) -> list[Plan]:
    """Published plans this one replaces: same region, or sharing a ticket; newest first."""
    mine = set(plan.ticket_ids)
    published = session.scalars(
        select(Plan)
        .where(Plan.stage == PlanStage.PUBLISHED, Plan.id != plan.id)
        .order_by(Plan.id.desc())
    ).all()
    return [
        old
        for old in published
        if (plan.region_id is not None and old.region_id == plan.region_id)
        or mine & set(old.ticket_ids)
    ]


def diff_against_published(session: Session, *, plan_id: int) -> dict[str, Any]:
    """What publishing this plan would change against the published one it replaces.

    Who moves, whose ETA changes by how much, which promises change state, which parts
    sources (reservations) change; against nothing when no plan is published yet.
    """
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError("plan", plan_id)
    before = _published_before(session, plan)
    old = before[0].result if before and before[0].result else {"routes": [], "dropped": []}
    changes = opt.diff(old, plan.result or {"routes": [], "dropped": []}).to_dict()
    return {"plan_id": plan.id, "against_plan_id": before[0].id if before else None} | changes


def _supersede(session: Session, plan: Plan, user: User, now: datetime) -> int | None:
    """Older published plans of the same region, or sharing a ticket, become superseded."""
    previous = _published_before(session, plan)
    for old in previous:
        old.stage = PlanStage.SUPERSEDED
    plan.stage = PlanStage.PUBLISHED
    plan.published_at, plan.published_by_id = now, user.id
    plan.supersedes_id = previous[0].id if previous else None
    session.flush()
    return plan.supersedes_id
