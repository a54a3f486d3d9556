"""The engineer's own view and updates: his tickets, his position, parts he used.

Another engineer's ticket answers 404, so the API never reveals that it exists.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentUser, NowDep, SessionDep, requires
from api.idempotency import IDEMPOTENT, StockWriteRoute
from api.schemas.common import IdPath
from api.schemas.ticket import (
    FieldStatusIn,
    MyTicketRead,
    PartsUsedIn,
    PositionIn,
    PositionRead,
    TicketRead,
)
from db import Role
from dispatch import field, my_day, ticket_views
from dispatch.models import TicketStatus

# Parts used now take stock: that route is an idempotent stock write (api.idempotency).
router = APIRouter(prefix="/me", tags=["engineer"], route_class=StockWriteRoute)
ENGINEER = requires(Role.ENGINEER)


@router.get("/tickets", dependencies=[ENGINEER])
def my_tickets(session: SessionDep, user: CurrentUser, now: NowDep) -> list[MyTicketRead]:
    """My open tickets in route order (the one on site, en route, then by my visit's expected
    departure; without an active assignment last, by arrival deadline), each with my visit:
    when to leave, when I am expected, which part to pick up where."""
    return [MyTicketRead.from_item(i) for i in my_day.my_day(session, user=user, now=now)]


@router.get("/tickets/{ticket_id}", dependencies=[ENGINEER])
def my_ticket(session: SessionDep, user: CurrentUser, now: NowDep, ticket_id: IdPath) -> TicketRead:
    """One of my tickets."""
    ticket = field.own_ticket(session, user=user, ticket_id=ticket_id)
    return TicketRead.from_view(ticket_views.view_tickets(session, [ticket], now=now)[0])


@router.post("/tickets/{ticket_id}/status", dependencies=[ENGINEER])
def report_status(
    body: FieldStatusIn, session: SessionDep, user: CurrentUser, now: NowDep, ticket_id: IdPath
) -> TicketRead:
    """Report en route, on site or fixed (optionally with my position)."""
    ticket = field.report_status(
        session,
        user=user,
        ticket_id=ticket_id,
        target=TicketStatus(body.status),
        now=now,
        lat=body.lat,
        lon=body.lon,
    )
    return TicketRead.from_view(ticket_views.view_tickets(session, [ticket], now=now)[0])


@router.post(
    "/tickets/{ticket_id}/parts-used",
    status_code=status.HTTP_201_CREATED,
    dependencies=[ENGINEER, IDEMPOTENT],
)
def report_parts_used(
    body: PartsUsedIn, session: SessionDep, user: CurrentUser, now: NowDep, ticket_id: IdPath
) -> TicketRead:
    """Record the parts I used on my ticket; they leave my van's stock (or the ticket's hold)."""
    uses = [field.PartUse(**p.model_dump()) for p in body.parts]
    field.record_parts_used(session, user=user, ticket_id=ticket_id, uses=uses, now=now)
    ticket = field.own_ticket(session, user=user, ticket_id=ticket_id)
    return TicketRead.from_view(ticket_views.view_tickets(session, [ticket], now=now)[0])


@router.put("/position", dependencies=[ENGINEER])
def update_position(
    body: PositionIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> PositionRead:
    """Where I am now."""
    engineer = field.update_position(session, user=user, lat=body.lat, lon=body.lon, now=now)
    return PositionRead.model_validate(engineer)
