"""Movements: transfers, receipts, returns, adjustments, and shipments leaving or arriving."""

from __future__ import annotations

from fastapi import status

from api.deps import CurrentUser, NowDep, SessionDep, requires
from api.idempotency import IDEMPOTENT, stock_router
from api.schemas.common import IdPath
from api.schemas.stock import (
    AdjustmentCreate,
    AdjustmentRead,
    OrderCreate,
    OrderRead,
    ReceiptCreate,
    ReceiptRead,
    ReturnCreate,
    ShipmentRead,
    TransferCreate,
)
from api.scoping import SCOPED
from db import Role
from inventory import shipments, stock
from inventory.stock import Who

router = stock_router("", ["movements"], [SCOPED])
WAREHOUSE = requires(Role.WAREHOUSE, Role.ADMIN)
CREATED = status.HTTP_201_CREATED


@router.post("/transfers", status_code=CREATED, dependencies=[WAREHOUSE, IDEMPOTENT])
def transfer(
    body: TransferCreate, session: SessionDep, user: CurrentUser, now: NowDep
) -> ShipmentRead:
    """Send units to another depot now; they are in transit there until received."""
    moved = shipments.transfer(session=session, who=Who(user.id, now), **body.model_dump())
    return ShipmentRead.model_validate(moved)


@router.post("/receipts", status_code=CREATED, dependencies=[WAREHOUSE, IDEMPOTENT])
def receive(
    body: ReceiptCreate, session: SessionDep, user: CurrentUser, now: NowDep
) -> ReceiptRead:
    """Receive a supplier order, an arriving transfer, or a plain delivery."""
    got = shipments.receive_any(session=session, who=Who(user.id, now), **body.model_dump())
    return ReceiptRead.model_validate(got, from_attributes=True)


@router.post("/returns", status_code=CREATED, dependencies=[WAREHOUSE, IDEMPOTENT])
def return_faulty(
    body: ReturnCreate, session: SessionDep, user: CurrentUser, now: NowDep
) -> ReturnCreate:
    """Take faulty parts into the depot's returns bin (never sellable stock)."""
    stock.return_faulty(session=session, who=Who(user.id, now), **body.model_dump())
    return body


@router.post("/adjustments", status_code=CREATED, dependencies=[WAREHOUSE, IDEMPOTENT])
def adjust(
    body: AdjustmentCreate, session: SessionDep, user: CurrentUser, now: NowDep
) -> AdjustmentRead:
    """Correct on hand after a cycle count (`counted`) or by a signed `delta`, with a reason."""
    delta = stock.adjust(session=session, who=Who(user.id, now), **body.model_dump())
    return AdjustmentRead(depot_id=body.depot_id, part_id=body.part_id, delta=delta)


@router.post("/shipments/{shipment_id}/ship", dependencies=[WAREHOUSE, IDEMPOTENT])
def ship(session: SessionDep, user: CurrentUser, now: NowDep, shipment_id: IdPath) -> ShipmentRead:
    """A pending shipment leaves its depot now."""
    sent = shipments.dispatch_shipment(session=session, shipment_id=shipment_id,
                                       who=Who(user.id, now))  # fmt: skip
    return ShipmentRead.model_validate(sent)


@router.post("/orders", status_code=CREATED, dependencies=[WAREHOUSE, IDEMPOTENT])
def order(body: OrderCreate, session: SessionDep, user: CurrentUser, now: NowDep) -> OrderRead:
    """Order from a supplier or partner: on order now, due after its lead time."""
    placed = shipments.order(session=session, who=Who(user.id, now), **body.model_dump())
    return OrderRead.model_validate(placed)
