"""Wire schemas of stock: levels, reservations, movements, shipments and the ledger.

Write bodies refuse unknown fields, like the master-data bodies. Quantities are
positive integers; durations are minutes; timestamps carry an offset.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import Id, Instant, ReadModel, Timestamp
from inventory.models import LedgerKind, ReservationStatus, ShipmentStatus

Quantity = Annotated[int, Field(ge=1, le=1_000_000)]
Minutes = Annotated[int, Field(ge=0, le=60 * 24 * 60)]
Reason = Annotated[str, Field(max_length=500)]


class WriteModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StockRead(ReadModel):
    id: int
    depot_id: int
    part_id: int
    on_hand: int
    reserved: int = Field(description="held by live (unexpired) reservations")
    available: int = Field(description="on hand minus live reservations")
    in_transit: int = Field(description="transferred here, not yet arrived")
    on_order: int
    returns: int = Field(description="faulty parts in the returns bin (not sellable)")
    reorder_point: int
    part_sku: str = Field(description="the part's code")
    part_name: str


class StockFilterIn(BaseModel):
    depot_id: Id | None = None
    part_id: Id | None = None
    region_id: Id | None = None
    below_reorder_point: bool | None = None
    q: str | None = Field(
        None, min_length=1, max_length=100, description="part SKU (code) or name contains this"
    )


class ReserveLineIn(WriteModel):
    part_id: Id
    quantity: Quantity = 1
    substitute_for: Id | None = Field(
        None, description="the part asked for, when `part_id` is its substitute (free upgrade)"
    )


class ReservationCreate(WriteModel):
    depot_id: Id
    ticket_id: Id | None = None
    lines: list[ReserveLineIn] = Field(min_length=1, max_length=50)
    expires_in_min: Annotated[int, Field(ge=1, le=60 * 24 * 30)] | None = Field(
        None, description="default: the ticket's policy (reservation_lifetime_min), else 240"
    )


class ReservationRead(ReadModel):
    id: int
    depot_id: int
    part_id: int
    requested_part_id: int | None
    quantity: int
    ticket_id: int | None
    status: ReservationStatus
    expires_at: Timestamp
    created_at: Timestamp
    closed_at: Timestamp | None
    part_sku: str | None = Field(None, description="the part's code (in lists)")
    part_name: str | None = Field(None, description="the part's name (in lists)")
    ticket_code: str | None = Field(None, description="the ticket's code (in lists)")


class ReleaseIn(WriteModel):
    reason: Reason = ""


class PickIn(WriteModel):
    ship_to_site_id: Id | None = Field(None, description="open a shipment of the picked units")
    transit_min: Minutes = 0


class PickRead(BaseModel):
    reservation: ReservationRead
    shipment: ShipmentRead | None


class TransferCreate(WriteModel):
    from_depot_id: Id
    to_depot_id: Id
    part_id: Id
    quantity: Quantity
    transit_min: Minutes = Field(description="the courier's transit time")
    reason: Reason = ""


class ReceiptCreate(WriteModel):
    """A delivery: of a supplier order (`order_id`), of a transfer (`shipment_id`), or plain."""

    order_id: Id | None = None
    shipment_id: Id | None = None
    depot_id: Id | None = None
    part_id: Id | None = None
    quantity: Quantity | None = None
    reason: Reason = ""

    @model_validator(mode="after")
    def _one_source(self) -> ReceiptCreate:
        plain = (self.depot_id, self.part_id, self.quantity)
        given = [self.order_id is not None, self.shipment_id is not None, any(plain)]
        if sum(given) != 1 or (given[2] and not all(plain)):
            raise ValueError("give order_id, or shipment_id, or depot_id + part_id + quantity")
        return self


class ReturnCreate(WriteModel):
    depot_id: Id
    part_id: Id
    quantity: Quantity = 1
    ticket_id: Id | None = None
    reason: Reason = ""


class AdjustmentCreate(WriteModel):
    depot_id: Id
    part_id: Id
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    delta: int | None = Field(None, description="signed change of on hand")
    counted: Annotated[int, Field(ge=0)] | None = Field(None, description="a cycle count")


class AdjustmentRead(BaseModel):
    depot_id: int
    part_id: int
    delta: int


class ShipmentRead(ReadModel):
    id: int
    from_depot_id: int
    to_depot_id: int | None
    to_site_id: int | None
    part_id: int
    quantity: int
    status: ShipmentStatus
    reservation_id: int | None
    ticket_id: int | None
    requested_at: Timestamp
    ship_by: Timestamp
    shipped_at: Timestamp | None
    transit_min: int
    expected_at: Timestamp | None
    received_at: Timestamp | None
    part_sku: str | None = Field(None, description="the part's code (in lists)")
    part_name: str | None = Field(None, description="the part's name (in lists)")
    ticket_code: str | None = Field(None, description="the ticket's code (in lists)")


class ShipmentFilterIn(BaseModel):
    late: bool | None = Field(None, description="missed or will miss its ship-by time")
    status: ShipmentStatus | None = None
    from_depot_id: Id | None = None
    ticket_id: Id | None = None
    margin_min: Minutes = Field(0, description="'will miss': ship_by within this many minutes")


class OrderCreate(WriteModel):
    supplier_id: Id
    depot_id: Id
    part_id: Id
    quantity: Quantity


class OrderRead(ReadModel):
    id: int
    supplier_id: int
    depot_id: int
    part_id: int
    quantity: int
    ordered_at: Timestamp
    expected_at: Timestamp
    received_at: Timestamp | None


class ReceiptRead(BaseModel):
    """What arrived: the order or shipment received, or the plain delivery."""

    depot_id: int
    part_id: int
    quantity: int
    order: OrderRead | None = None
    shipment: ShipmentRead | None = None


class LedgerRead(ReadModel):
    id: int
    kind: LedgerKind
    depot_id: int
    part_id: int
    d_on_hand: int
    d_reserved: int
    d_in_transit: int
    d_on_order: int
    d_returns: int
    user_id: int | None
    at: Timestamp
    reason: str
    reservation_id: int | None
    shipment_id: int | None
    order_id: int | None
    ticket_id: int | None


class LedgerFilterIn(BaseModel):
    depot_id: Id | None = None
    part_id: Id | None = None
    kind: LedgerKind | None = None
    reservation_id: Id | None = None
    ticket_id: Id | None = None
    since: Instant | None = None
    until: Instant | None = None
