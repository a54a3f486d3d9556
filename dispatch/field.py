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
from inventory import ledger, reservations, stock
from inventory.ledger import Delta, Posting, Refs
from inventory.models import LedgerKind, Part, Reservation, ReservationStatus
from inventory.stock import Who

# Parts are reported while on site or right after the fix, never before arriving.
PARTS_REPORTABLE = frozenset({TicketStatus.ON_SITE, TicketStatus.FIXED})


@dataclass(frozen=True, slots=True)
class PartUse:
    part_id: int
    quantity: int = 1
    serial: str | None = None
    depot_id: int | None = None  # where it came from; default: the van, else the ticket's hold


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
    """Record parts used on one's own ticket and take them out of stock (`consume_part`)."""
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
        consume_part(session, ticket=ticket, user=user, use=use, now=now)
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


def _live_hold(session: Session, ticket_id: int, use: PartUse, *, now: datetime) -> int | None:
    """The ticket's live reservation of exactly this part and quantity (at `use.depot_id`)."""
    r = Reservation
    stmt = select(r.id).where(
        r.ticket_id == ticket_id, r.part_id == use.part_id, r.quantity == use.quantity,
        r.status == ReservationStatus.RESERVED, r.expires_at > now,
    )  # fmt: skip
    if use.depot_id is not None:
        stmt = stmt.where(r.depot_id == use.depot_id)
    return session.scalars(stmt.order_by(r.id).limit(1)).first()


def _picked(session: Session, ticket_id: int, use: PartUse) -> int | None:
    r = Reservation
    stmt = select(r.id).where(
        r.ticket_id == ticket_id, r.part_id == use.part_id, r.status == ReservationStatus.PICKED
    )
    return session.scalars(stmt.order_by(r.id).limit(1)).first()


def consume_part(
    session: Session, *, ticket: Ticket, user: User, use: PartUse, now: datetime
) -> None:
    """Take a used part out of stock, in the ledger, in the caller's transaction.

    From the named depot if any, else the engineer's van when it holds the part, else
    the ticket's live reservation of it; a part picked for the ticket left stock at the
    pick, so only the use is recorded. Nothing to take it from: InsufficientStock.
    """
    who = Who(user.id, now)
    engineer = engineer_of(session, user)
    hold = _live_hold(session, ticket.id, use, now=now)
    if hold is not None:
        reservations.consume(session=session, reservation_id=hold, user_id=user.id, now=now,
                             kind=LedgerKind.USE)  # fmt: skip
        return
    depot = use.depot_id if use.depot_id is not None else engineer.van_depot_id
    picked = _picked(session, ticket.id, use) if use.depot_id is None else None
    if picked is not None and (depot is None or _available(session, depot, use) < use.quantity):
        held = session.get(Reservation, picked)
        assert held is not None
        refs = Refs(reservation_id=picked, ticket_id=ticket.id)
        entry = Posting(LedgerKind.USE, held.depot_id, use.part_id, Delta(), user.id, now,
                        "picked part used", refs)  # fmt: skip
        ledger.append(session, [entry])
        return
    if depot is None:
        reason = f"part {use.part_id}: no van or reservation holds it; name its depot_id"
        raise InvalidTicketError("parts", reason)
    stock.use_on_ticket(session=session, depot_id=depot, part_id=use.part_id,
                        quantity=use.quantity, ticket_id=ticket.id, who=who)  # fmt: skip


def _available(session: Session, depot_id: int, use: PartUse) -> int:
    return ledger.available(session, depot_id=depot_id, part_id=use.part_id)
