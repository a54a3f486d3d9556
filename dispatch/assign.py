"""Confirming who goes: the one path to "assigned" (the plan issues reuse it).

In one transaction: the ticket answers (if it had not yet) and becomes assigned through the
lifecycle, the engineer's schedule gets an active assignment, the parts are reserved at the
van or depot of the chosen option (or a shipment is opened), and the decision is logged with
the alternatives of that moment. If anything fails (the part was taken meanwhile), the error
carries the next best option and the caller's rollback leaves nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.errors import AssignmentConflict, NotFoundError
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Contract,
    Engineer,
    LogKind,
    PromisePolicy,
    Site,
    Ticket,
    TicketStatus,
)
from dispatch.names import engineer_label
from dispatch.recommend import MAX_OPTIONS, TicketRecommendation, recommend_ticket
from dispatch.snapshot import Snapshot
from dispatch.tickets import log_entry, transition
from dispatch.underway import open_shipments
from inventory.reservations import ReserveLine, reserve
from inventory.shipments import ship_to_site
from inventory.stock import Who
from inventory.stock_errors import InsufficientStock

ASSIGNABLE = frozenset({TicketStatus.NEW, TicketStatus.RESPONDED})


@dataclass(frozen=True, eq=False)
class Confirmed:
    """The assignment written, with the option it realises."""

    assignment: Assignment
    option: opt.Option
    result: TicketRecommendation
    reservation_ids: tuple[int, ...]
    shipment_id: int | None


@dataclass(frozen=True, slots=True)
class PartsChoice:
    """Where a job's parts come from: the engineer's van, a depot pickup, or a shipment.

    `lines` are (part id, quantity, the part it substitutes or None); `depot_id` is the van's
    depot for a van, the pickup or shipping depot otherwise; a supplier's shipment holds
    nothing of ours.
    """

    source: str  # none, van, pickup, shipment
    lines: tuple[tuple[int, int, int | None], ...] = ()
    depot_id: int | None = None
    supplier_id: int | None = None
    transit_min: int = 0


@dataclass(frozen=True, slots=True)
class Planned:
    """An engineer's planned job: when he leaves, arrives and is done, and its parts."""

    engineer_id: int
    departs_at: datetime
    arrives_at: datetime
    fixes_at: datetime
    parts: PartsChoice
    pinned: bool = False


def assign(
    session: Session,
    *,
    ticket: Ticket,
    planned: Planned,
    user: User,
    now: datetime,
    reason: str,
    details: dict[str, Any],
) -> tuple[Assignment, tuple[int, ...]]:
    """The one path to "assigned": parts held, schedule written, lifecycle step, decision log.

    Raises InsufficientStock when a part is gone; the caller's rollback undoes everything.
    """
    if ticket.status not in ASSIGNABLE:
        raise AssignmentConflict(ticket.id, f"the ticket is {ticket.status}, not new or responded")
    policy = _policy(session, ticket.site_id)
    holds, shipment_id = _secure_parts(
        session, ticket, planned.parts, user=user, now=now, policy=policy
    )
    if ticket.status is TicketStatus.NEW:
        transition(
            session,
            ticket_id=ticket.id,
            target=TicketStatus.RESPONDED,
            user=user,
            now=now,
            reason="answered with an assignment",
        )
    assignment = Assignment(
        ticket_id=ticket.id,
        engineer_id=planned.engineer_id,
        status=AssignmentStatus.ACTIVE,
        departs_at=planned.departs_at,
        arrives_at=planned.arrives_at,
        fixes_at=max(planned.fixes_at, planned.arrives_at),
        parts_source=planned.parts.source,
        depot_id=None if planned.parts.source == "van" else planned.parts.depot_id,
        supplier_id=planned.parts.supplier_id,
        shipment_id=shipment_id,
        pinned=planned.pinned,
        created_at=now,
        created_by_id=user.id,
    )
    session.add(assignment)
    session.flush()
    ticket.engineer_id = planned.engineer_id
    transition(
        session,
        ticket_id=ticket.id,
        target=TicketStatus.ASSIGNED,
        user=user,
        now=now,
        reason=f"assigned to {engineer_label(session, planned.engineer_id)}",
        via_dispatch=True,
    )
    log_entry(
        session, ticket, user=user, at=now, kind=LogKind.DECISION, reason=reason, details=details
    )
    session.flush()
    return assignment, holds


def confirm_assignment(
    session: Session,
    *,
    ticket_id: int,
    engineer_id: int,
    user: User,
    now: datetime,
    travel: opt.TravelTimes,
    pinned: bool = True,
) -> Confirmed:
    """Assign `engineer_id` to the ticket with his current best option, or refuse with why.

    A dispatcher's own choice is pinned unless he says otherwise: the next region plan
    keeps it with its engineer (and plans around his time) instead of re-planning, and
    maybe dropping, a ticket just promised. A published plan's assignments stay unpinned.

    The ticket, then the engineer, are locked first (`FOR UPDATE` on PostgreSQL): racing
    assignments of one ticket, or of one engineer, decide one after the other.
    """
    ticket = session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if ticket is None:
        raise NotFoundError("ticket", ticket_id)
    session.get(Engineer, engineer_id, with_for_update=True, populate_existing=True)
    if ticket.status not in ASSIGNABLE:
        raise AssignmentConflict(ticket_id, f"the ticket is {ticket.status}, not new or responded")
    checked = check_assignment(
        session, ticket_id=ticket_id, engineer_id=engineer_id, now=now, travel=travel
    )
    option, result = checked.option, checked.result
    if option is None or result is None:
        raise AssignmentConflict(ticket_id, checked.refusal or "not an option", checked.next_best)
    planned = _planned_from(option, result, pinned)
    try:
        assignment, holds = assign(
            session,
            ticket=ticket,
            planned=planned,
            user=user,
            now=now,
            reason=option.reason,
            details=_decision(result, option),
        )
    except InsufficientStock as exc:
        fresh = recommend_ticket(session, ticket_id=ticket_id, now=now, travel=travel)
        raise AssignmentConflict(
            ticket_id, f"the part was taken meanwhile: {exc}", _next_best(fresh)
        ) from exc
    return Confirmed(assignment, option, result, holds, assignment.shipment_id)


@dataclass(frozen=True, eq=False)
class AssignmentCheck:
    """What confirming this engineer would do, by the confirm's own rule; nothing written.

    `refusal` is why the confirm would be refused (skill, shift, parts, promises, the
    ticket's status), or None with the `option` it would realise.
    """

    ticket_id: int
    engineer_id: int
    option: opt.Option | None
    result: TicketRecommendation | None
    refusal: str | None
    next_best: dict[str, Any] | None


def check_assignment(
    session: Session,
    *,
    ticket_id: int,
    engineer_id: int,
    now: datetime,
    travel: opt.TravelTimes,
    snapshot: Snapshot | None = None,
) -> AssignmentCheck:
    """Check an engineer for a ticket the way `confirm_assignment` would, before any write.

    The board calls it when a ticket is dropped on an engineer's lane.
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFoundError("ticket", ticket_id)
    if ticket.status not in ASSIGNABLE:
        reason = f"the ticket is {ticket.status}, not new or responded"
        return AssignmentCheck(ticket_id, engineer_id, None, None, reason, None)
    result = recommend_ticket(
        session, ticket_id=ticket_id, now=now, travel=travel, limit=MAX_OPTIONS, snapshot=snapshot
    )
    option = next((o for o in result.recommendation.options if o.engineer_id == engineer_id), None)
    refusal = None if option is not None else _why_not(result, engineer_id)
    return AssignmentCheck(ticket_id, engineer_id, option, result, refusal, _next_best(result))


def _planned_from(option: opt.Option, result: TicketRecommendation, pinned: bool) -> Planned:
    plan, at = option.parts, result.snapshot.at
    depot_id = plan.depot_id
    if plan.source is opt.PartsSource.VAN:
        depot_id = result.snapshot.van_depot_of.get(option.engineer_id)
    transit = 0
    if plan.part_arrives_at is not None:
        ships = plan.ships_at if plan.ships_at is not None else 0
        transit = max(0, (plan.part_arrives_at - ships) // 60)
    lines = tuple((u.part_id, u.qty, u.line_part_id if u.substitute else None) for u in plan.uses)
    choice = PartsChoice(str(plan.source), lines, depot_id, plan.supplier_id, transit)
    return Planned(
        option.engineer_id,
        at(option.departs_at),
        at(option.arrives_at),
        at(option.fixes_at),
        choice,
        pinned,
    )


def _policy(session: Session, site_id: int) -> PromisePolicy:
    stmt = (
        select(PromisePolicy)
        .join(Contract, Contract.policy_id == PromisePolicy.id)
        .join(Site, Site.contract_id == Contract.id)
        .where(Site.id == site_id)
    )
    return session.scalars(stmt).one()


def _secure_parts(
    session: Session,
    ticket: Ticket,
    parts: PartsChoice,
    *,
    user: User,
    now: datetime,
    policy: PromisePolicy,
) -> tuple[tuple[int, ...], int | None]:
    """Reserve what the job uses where it takes it from; open a shipment if it ships.

    Parts already under way to the site (shipped at intake, `dispatch.underway`) are the
    job's: nothing is held or shipped a second time. A shipment opened here must leave by
    `reported_at` + the ship promise, as at intake: the clock did not wait for dispatch.
    """
    underway = open_shipments(session, ticket.id)
    if underway:
        holds = tuple(s.reservation_id for s in underway if s.reservation_id is not None)
        return holds, underway[0].id
    if not parts.lines or parts.depot_id is None:
        return (), None  # nothing needed, or a supplier's stock: not ours to hold
    lines = [ReserveLine(part, qty, substitute_for=sub) for part, qty, sub in parts.lines]
    held = reserve(
        session=session,
        depot_id=parts.depot_id,
        lines=lines,
        user_id=user.id,
        now=now,
        ticket_id=ticket.id,
        lifetime_min=policy.reservation_lifetime_min,
    )
    shipment_id = None
    if parts.source == "shipment":
        for hold in held:
            shipment = ship_to_site(
                session=session,
                from_depot_id=parts.depot_id,
                site_id=ticket.site_id,
                part_id=hold.part_id,
                quantity=hold.quantity,
                requested_at=ticket.reported_at,  # the ship promise runs from the report
                transit_min=parts.transit_min,
                who=Who(user.id, now),
                reservation_id=hold.id,
                ticket_id=ticket.id,
                ship_within_min=policy.ship_within_min,
            )
            shipment_id = shipment_id or shipment.id
    return tuple(h.id for h in held), shipment_id


def _brief(result: TicketRecommendation, o: opt.Option) -> dict[str, Any]:
    return {
        "engineer_id": o.engineer_id,
        "engineer": result.snapshot.engineer_names.get(o.engineer_id, ""),
        "arrives_at": result.snapshot.at(o.arrives_at).isoformat(),
        "keeps_all_promises": o.keeps_all,
        "parts": str(o.parts.source),
        "callout_cost": o.callout_cost / 100 if o.callout else None,
        "reason": o.reason,
    }


def _decision(result: TicketRecommendation, chosen: opt.Option) -> dict[str, Any]:
    """What was chosen and what else was on the table, so a dispute can be answered later."""
    rec = result.recommendation
    return {
        "chosen": _brief(result, chosen),
        "alternatives": [_brief(result, o) for o in rec.options if o is not chosen],
        "excluded": [
            {"engineer_id": x.engineer_id, "reason": str(x.reason), "detail": x.detail}
            for x in rec.excluded
        ],
        "unreached": _unreached(rec.unreached),
    }


def _unreached(found: opt.Unreached | None) -> dict[str, Any] | None:
    """Those the search never priced, as the decision saw them (one entry for all)."""
    if found is None:
        return None
    return {"engineer_ids": list(found.engineer_ids), "detail": found.detail}


def _why_not(result: TicketRecommendation, engineer_id: int) -> str:
    name = result.snapshot.engineer_names.get(engineer_id)
    who = f"engineer {name} ({engineer_id})" if name else f"engineer {engineer_id}"
    x = result.recommendation.priced(engineer_id)  # priced even if the search never got to him
    if isinstance(x, opt.Exclusion):
        return f"{who} is not an option: {x.reason} ({x.detail})"
    return f"{who} is not an option for this ticket"


def _next_best(result: TicketRecommendation) -> dict[str, Any] | None:
    best = result.recommendation.best
    return None if best is None else _brief(result, best)
