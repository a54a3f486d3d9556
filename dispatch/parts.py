"""Parts for tickets: inventory's reservations and shipments, timed by the ticket's policy.

Inventory knows stock but not contracts; this is where a ticket's promise policy
supplies the numbers (how long a hold lasts, how soon a part must ship).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.errors import NotFoundError
from dispatch.models import Contract, PromisePolicy, Site, Ticket
from inventory import reservations, shipments
from inventory.models import Reservation, Shipment
from inventory.stock import Who


@dataclass(frozen=True, slots=True)
class Timing:
    """A policy's parts clocks, in minutes, and when the ticket's clocks started."""

    reservation_lifetime_min: int = reservations.DEFAULT_LIFETIME_MIN
    ship_within_min: int = shipments.DEFAULT_SHIP_WITHIN_MIN
    reported_at: datetime | None = None


def timing_for(session: Session, ticket_id: int | None) -> Timing:
    """The ticket's policy timing; the defaults when no ticket is named."""
    if ticket_id is None:
        return Timing()
    found = session.execute(
        select(
            PromisePolicy.reservation_lifetime_min,
            PromisePolicy.ship_within_min,
            Ticket.reported_at,
        )
        .join(Contract, Contract.policy_id == PromisePolicy.id)
        .join(Site, Site.contract_id == Contract.id)
        .join(Ticket, Ticket.site_id == Site.id)
        .where(Ticket.id == ticket_id)
    ).one_or_none()
    if found is None:
        raise NotFoundError("ticket", ticket_id)
    return Timing(int(found[0]), int(found[1]), found[2])


def reserve_for_ticket(
    session: Session,
    *,
    depot_id: int,
    lines: Sequence[reservations.ReserveLine],
    ticket_id: int | None,
    who: Who,
    expires_in_min: int | None = None,
) -> list[Reservation]:
    """Reserve parts for a ticket; the hold lasts as its policy says unless told otherwise."""
    lifetime = expires_in_min or timing_for(session, ticket_id).reservation_lifetime_min
    return reservations.reserve(
        session=session, depot_id=depot_id, lines=lines, user_id=who.user_id, now=who.now,
        ticket_id=ticket_id, lifetime_min=lifetime,
    )  # fmt: skip


def pick_for_ticket(
    session: Session,
    *,
    reservation_id: int,
    who: Who,
    ship_to_site_id: int | None = None,
    transit_min: int = 0,
) -> tuple[Reservation, Shipment | None]:
    """Pick a reservation; sent to a site, it must ship within the policy's time of the request.

    A ticket's request is its report (the ship promise runs from `reported_at`, as at intake
    and on assigning); a hold of no ticket's, its creation.
    """
    held = reservations.consume(session=session, reservation_id=reservation_id,
                                user_id=who.user_id, now=who.now)  # fmt: skip
    if ship_to_site_id is None:
        return held, None
    if session.get(Site, ship_to_site_id) is None:
        raise NotFoundError("site", ship_to_site_id)
    timing = timing_for(session, held.ticket_id)
    shipment = shipments.ship_to_site(
        session=session, from_depot_id=held.depot_id, site_id=ship_to_site_id,
        part_id=held.part_id, quantity=held.quantity,
        requested_at=timing.reported_at or held.created_at,
        transit_min=transit_min, who=who, reservation_id=held.id, ticket_id=held.ticket_id,
        ship_within_min=timing.ship_within_min,
    )  # fmt: skip
    return held, shipment


def release(session: Session, *, reservation_id: int, who: Who, reason: str = "") -> Reservation:
    """Release a hold (dispatchers may, for their tickets' needs change)."""
    return reservations.release(session=session, reservation_id=reservation_id,
                                user_id=who.user_id, now=who.now, reason=reason)  # fmt: skip
