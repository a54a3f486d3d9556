"""Engineers' own updates from the field: status of their tickets, position, parts used.

An engineer may touch only his own tickets and himself. Another engineer's ticket is
reported as not found, so the API never reveals that it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import User
from dispatch.errors import InvalidTicketError, NotFoundError
from dispatch.lifecycle import ENGINEER_STEPS, OPEN_STATUSES
from dispatch.models import Engineer, LogKind, Ticket, TicketPartUsed, TicketStatus
from dispatch.tickets import log_entry, transition
from inventory.models import Part

# Parts are reported while on site or right after the fix, never before arriving.
PARTS_REPORTABLE = frozenset({TicketStatus.ON_SITE, TicketStatus.FIXED})


@dataclass(frozen=True, slots=True)
class PartUse:
    part_id: int
    quantity: int = 1
    serial: str | None = None


def engineer_of(session: Session, user: User) -> Engineer:
    """The engineer record linked to `user` (role engineer)."""
    engineer = session.scalars(select(Engineer).where(Engineer.user_id == user.id)).one_or_none()
    if engineer is None:
        raise NotFoundError("engineer of user", user.name)
    return engineer


def own_ticket(session: Session, *, user: User, ticket_id: int) -> Ticket:
    """The ticket if it is assigned to the user's engineer; otherwise 'not found'."""
    engineer = engineer_of(session, user)
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.engineer_id != engineer.id:
        raise NotFoundError("ticket", ticket_id)
    return ticket


def own_tickets(session: Session, *, user: User, open_only: bool = True) -> list[Ticket]:
    """The tickets assigned to the user's engineer, by arrival deadline."""
    engineer = engineer_of(session, user)
    stmt = select(Ticket).where(Ticket.engineer_id == engineer.id)
    if open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    return list(session.scalars(stmt.order_by(Ticket.arrive_by, Ticket.id)))


def report_status(
    session: Session,
    *,
    user: User,
    ticket_id: int,
    target: TicketStatus,
    now: datetime,
    lat: float | None = None,
    lon: float | None = None,
) -> Ticket:
    """Report en route, on site or fixed on one's own ticket (through the lifecycle)."""
    ticket = own_ticket(session, user=user, ticket_id=ticket_id)
    if target not in ENGINEER_STEPS:
        steps = ", ".join(sorted(s.value for s in ENGINEER_STEPS))
        raise InvalidTicketError("status", f"an engineer reports only: {steps}")
    if lat is not None and lon is not None:
        update_position(session, user=user, lat=lat, lon=lon, now=now)
    return transition(session, ticket_id=ticket.id, target=target, user=user, now=now)


def update_position(
    session: Session, *, user: User, lat: float, lon: float, now: datetime
) -> Engineer:
    """Record where the engineer is now."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidTicketError("position", f"({lat}, {lon}) is not a coordinate")
    engineer = engineer_of(session, user)
    engineer.current_lat, engineer.current_lon, engineer.position_at = lat, lon, now
    session.flush()
    return engineer


def record_parts_used(
    session: Session, *, user: User, ticket_id: int, uses: Sequence[PartUse], now: datetime
) -> list[TicketPartUsed]:
    """Record parts used on one's own ticket; stock consumption follows with the ledger."""
    ticket = own_ticket(session, user=user, ticket_id=ticket_id)
    if ticket.status not in PARTS_REPORTABLE:
        raise InvalidTicketError(
            "status", f"parts are reported on site or after the fix; the ticket is {ticket.status}"
        )
    if not uses:
        raise InvalidTicketError("parts", "report at least one part")
    rows = []
    for use in uses:
        if use.quantity < 1:
            raise InvalidTicketError("parts", f"quantity {use.quantity} must be at least 1")
        if session.get(Part, use.part_id) is None:
            raise InvalidTicketError("parts", f"part {use.part_id} does not exist")
        row = TicketPartUsed(
            ticket_id=ticket.id,
            part_id=use.part_id,
            quantity=use.quantity,
            serial=use.serial,
            recorded_at=now,
            recorded_by_id=user.id,
        )
        session.add(row)
        rows.append(row)
    details = {"parts": [[u.part_id, u.quantity, u.serial] for u in uses]}
    log_entry(session, ticket, user=user, at=now, kind=LogKind.PARTS_USED, details=details)
    session.flush()
    return rows
