"""Reservations: hold parts for a ticket, release them, pick them (idempotent writes)."""

from __future__ import annotations

from fastapi import status

from api.deps import CurrentUser, NowDep, SessionDep, requires
from api.idempotency import IDEMPOTENT, stock_router
from api.schemas.common import IdPath
from api.schemas.stock import (
    PickIn,
    PickRead,
    ReleaseIn,
    ReservationCreate,
    ReservationRead,
    ShipmentRead,
)
from api.scoping import SCOPED
from db import Role
from dispatch import parts
from inventory.reservations import ReserveLine
from inventory.stock import Who

router = stock_router("/reservations", ["reservations"], [SCOPED])
# Dispatchers reserve and release for their tickets; picking is the warehouse's work.
RESERVERS = requires(Role.DISPATCHER, Role.WAREHOUSE, Role.ADMIN)
WAREHOUSE = requires(Role.WAREHOUSE, Role.ADMIN)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[RESERVERS, IDEMPOTENT])
def reserve(
    body: ReservationCreate, session: SessionDep, user: CurrentUser, now: NowDep
) -> list[ReservationRead]:
    """Reserve every line at one depot, or none (409 with what is available and substitutes)."""
    lines = [ReserveLine(**line.model_dump()) for line in body.lines]
    held = parts.reserve_for_ticket(session, depot_id=body.depot_id, lines=lines,
                                    ticket_id=body.ticket_id, who=Who(user.id, now),
                                    expires_in_min=body.expires_in_min)  # fmt: skip
    return [ReservationRead.model_validate(h) for h in held]


@router.post("/{reservation_id}/release", dependencies=[RESERVERS, IDEMPOTENT])
def release(
    body: ReleaseIn, session: SessionDep, user: CurrentUser, now: NowDep, reservation_id: IdPath
) -> ReservationRead:
    """Give a live reservation's units back."""
    held = parts.release(session, reservation_id=reservation_id, who=Who(user.id, now),
                         reason=body.reason)  # fmt: skip
    return ReservationRead.model_validate(held)


@router.post("/{reservation_id}/pick", dependencies=[WAREHOUSE, IDEMPOTENT])
def pick(
    body: PickIn, session: SessionDep, user: CurrentUser, now: NowDep, reservation_id: IdPath
) -> PickRead:
    """Take a live reservation's units off the shelf; optionally ship them to a site."""
    held, sent = parts.pick_for_ticket(session, reservation_id=reservation_id,
                                       who=Who(user.id, now), ship_to_site_id=body.ship_to_site_id,
                                       transit_min=body.transit_min)  # fmt: skip
    shipment = ShipmentRead.model_validate(sent) if sent is not None else None
    return PickRead(reservation=ReservationRead.model_validate(held), shipment=shipment)
