"""Ship at intake: production's side of the shared rule `optimizer.ship_at_intake`.

A new ticket whose parts no van or depot in reach can swap within the swap promise gets its
shipment at once, in the intake's transaction (`dispatch.underway` says why and how later
visits use it). Flush only: the caller's transaction commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.models import LogKind, PromisePolicy, Ticket
from dispatch.servicelog import log_entry
from dispatch.snapshot import Snapshot, job_for, load_snapshot
from dispatch.underway import open_shipments
from inventory.models import Shipment
from inventory.reservations import ReserveLine, reserve
from inventory.shipments import ship_to_site
from inventory.stock import Who
from inventory.stock_errors import InsufficientStock


def ship_at_intake(
    session: Session,
    *,
    ticket: Ticket,
    policy: PromisePolicy,
    user: User,
    now: datetime,
    travel: opt.TravelTimes,
) -> list[Shipment]:
    """Open the shipment of a new ticket's parts when the rule says so; flush only.

    Idempotent per ticket: parts already under way are returned, not shipped again. A
    depot's units are held until the shipment must have left (at least the policy's hold
    lifetime); a hold refused meanwhile (the stock went) leaves the ticket to dispatch,
    inside a savepoint so the ticket itself is kept.
    """
    existing = open_shipments(session, ticket.id)
    if existing:
        return existing
    snapshot = load_snapshot(session, now=now)
    job = job_for(session, snapshot, ticket.id)
    within_s = policy.ship_within_min * 60
    plan = opt.ship_at_intake(
        snapshot.world, job, now=snapshot.offset(now), travel=travel, ship_within_s=within_s
    )
    if plan is None or plan.depot_id is None or plan.ships_at is None:
        return []
    try:
        with session.begin_nested():
            shipped = _open(session, ticket, plan, snapshot, policy=policy, user=user, now=now)
    except InsufficientStock:
        return []
    log_entry(
        session, ticket, user=user, at=now, kind=LogKind.DECISION,
        reason=f"parts shipped at intake from {snapshot.depot_names.get(plan.depot_id, '')}"
        f" (depot {plan.depot_id}): no stock in reach could be swapped within the promise",
        details={"shipment_ids": [s.id for s in shipped], "depot_id": plan.depot_id,
                 "ship_by": snapshot.at(plan.ship_by or 0).isoformat()},
    )  # fmt: skip
    return shipped


def _open(
    session: Session, ticket: Ticket, plan: opt.PartsPlan, snapshot: Snapshot, *,
    policy: PromisePolicy, user: User, now: datetime,
) -> list[Shipment]:  # fmt: skip
    """Hold the plan's units at its depot and open one site shipment per hold."""
    assert plan.depot_id is not None  # the caller ships from depots only
    ship_by = ticket.reported_at + timedelta(minutes=policy.ship_within_min)
    until_ship_min = int((ship_by - now).total_seconds() // 60) + 1
    lines = [
        ReserveLine(u.part_id, u.qty, substitute_for=u.line_part_id if u.substitute else None)
        for u in plan.uses
    ]
    held = reserve(
        session=session, depot_id=plan.depot_id, lines=lines, user_id=user.id, now=now,
        ticket_id=ticket.id, lifetime_min=max(policy.reservation_lifetime_min, until_ship_min),
    )  # fmt: skip
    transit_min = 0
    if plan.part_arrives_at is not None and plan.ships_at is not None:
        transit_min = max(0, (plan.part_arrives_at - plan.ships_at) // 60)
    return [
        ship_to_site(
            session=session,
            from_depot_id=plan.depot_id,
            site_id=ticket.site_id,
            part_id=hold.part_id,
            quantity=hold.quantity,
            requested_at=ticket.reported_at,
            transit_min=transit_min,
            who=Who(user.id, now),
            reservation_id=hold.id,
            ticket_id=ticket.id,
            ship_within_min=policy.ship_within_min,
        )  # fmt: skip
        for hold in held
    ]
