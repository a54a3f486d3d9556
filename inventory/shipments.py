"""Stock that travels: transfers between depots, picked parts sent to sites, supplier orders.

A transfer leaves now (on hand at the source goes down, in transit at the
destination goes up) and arrives later (in transit becomes on hand). A part picked
for a site gets a shipment that must leave by `ship_by` (the request + the policy's
`ship_within_min`, 8 h by default) and then takes the courier's transit time.
Supplier and partner orders are on order until received after their lead time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from inventory import ledger
from inventory.errors import NotFoundError
from inventory.ledger import Delta, Posting, Refs
from inventory.models import (
    LedgerKind,
    Reservation,
    ReservationStatus,
    Shipment,
    ShipmentStatus,
    Supplier,
    SupplierOrder,
)
from inventory.reservations import release
from inventory.stock import Who, check_row, receive
from inventory.stock_errors import (
    InvalidMovement,
    OrderAlreadyReceived,
    ShipmentNotOpen,
    UnknownOrder,
    UnknownShipment,
)

# The default policy's promise (PromisePolicy.ship_within_min): shipped within 8 hours.
DEFAULT_SHIP_WITHIN_MIN = 480


def transfer(
    *,
    session: Session,
    from_depot_id: int,
    to_depot_id: int,
    part_id: int,
    quantity: int,
    transit_min: int,
    who: Who,
    ship_within_min: int = DEFAULT_SHIP_WITHIN_MIN,
    reason: str = "",
) -> Shipment:
    """Send units to another depot now; they are in transit there until received."""
    if from_depot_id == to_depot_id:
        raise InvalidMovement("to_depot_id", "must differ from from_depot_id")
    if quantity < 1 or transit_min < 0:
        field = "quantity" if quantity < 1 else "transit_min"
        raise InvalidMovement(field, "must be at least 1" if quantity < 1 else "must be >= 0")
    check_row(session, from_depot_id, part_id)
    check_row(session, to_depot_id, part_id)
    now = who.now
    shipment = Shipment(
        from_depot_id=from_depot_id, to_depot_id=to_depot_id, part_id=part_id, quantity=quantity,
        status=ShipmentStatus.IN_TRANSIT, requested_at=now,
        ship_by=now + timedelta(minutes=ship_within_min), shipped_at=now,
        transit_min=transit_min, expected_at=now + timedelta(minutes=transit_min),
        created_by_id=who.user_id,
    )  # fmt: skip
    session.add(shipment)
    session.flush()
    refs = Refs(shipment_id=shipment.id)
    why = reason or f"transfer to depot {to_depot_id}"
    # Rows in primary-key order is not needed here: the source is guarded first and the
    # destination only grows, so two transfers in opposite directions cannot deadlock on it.
    ledger.post(
        session,
        Posting(
            LedgerKind.TRANSFER_OUT,
            from_depot_id,
            part_id,
            Delta(on_hand=-quantity),
            who.user_id,
            now,
            why,
            refs,
        ),
    )
    incoming = Delta(in_transit=quantity)
    ledger.post(
        session,
        Posting(
            LedgerKind.TRANSFER_OUT, to_depot_id, part_id, incoming, who.user_id, now, why, refs
        ),
    )
    return shipment


def ship_to_site(
    *,
    session: Session,
    from_depot_id: int,
    site_id: int,
    part_id: int,
    quantity: int,
    requested_at: datetime,
    transit_min: int,
    who: Who,
    reservation_id: int | None = None,
    ticket_id: int | None = None,
    ship_within_min: int = DEFAULT_SHIP_WITHIN_MIN,
) -> Shipment:
    """Open a shipment of picked units to a customer site; it must leave by `ship_by`."""
    shipment = Shipment(
        from_depot_id=from_depot_id, to_site_id=site_id, part_id=part_id, quantity=quantity,
        status=ShipmentStatus.PENDING, reservation_id=reservation_id, ticket_id=ticket_id,
        requested_at=requested_at, ship_by=requested_at + timedelta(minutes=ship_within_min),
        transit_min=transit_min, created_by_id=who.user_id,
    )  # fmt: skip
    session.add(shipment)
    session.flush()
    return shipment


def _open_shipment(session: Session, shipment_id: int, status: ShipmentStatus) -> Shipment:
    shipment = session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None:
        raise UnknownShipment(shipment_id)
    if shipment.status != status:
        raise ShipmentNotOpen(shipment_id, shipment.status.value)
    return shipment


def dispatch_shipment(*, session: Session, shipment_id: int, who: Who) -> Shipment:
    """A pending site shipment leaves its depot now (the courier's clock starts)."""
    shipment = _open_shipment(session, shipment_id, ShipmentStatus.PENDING)
    shipment.status, shipment.shipped_at = ShipmentStatus.IN_TRANSIT, who.now
    shipment.expected_at = who.now + timedelta(minutes=shipment.transit_min)
    refs = Refs(shipment_id=shipment.id, reservation_id=shipment.reservation_id,
                ticket_id=shipment.ticket_id)  # fmt: skip
    # The units left on hand when picked; the entry records the hand-over to the courier.
    ledger.append(session, [Posting(LedgerKind.SHIPMENT, shipment.from_depot_id,
                                    shipment.part_id, Delta(), who.user_id, who.now,
                                    f"shipped to site {shipment.to_site_id}", refs)])  # fmt: skip
    session.flush()
    return shipment


def cancel_shipment(*, session: Session, shipment_id: int, who: Who, reason: str) -> Shipment:
    """A pending site shipment will not leave: its live hold goes back to available stock.

    Only a shipment still waiting with its units on the shelf is cancelled; one picked or
    under way is `ShipmentNotOpen` (units off the shelf: a warehouse matter, no return
    flow here). The ledger records the cancellation beside the hold's release.
    """
    shipment = _open_shipment(session, shipment_id, ShipmentStatus.PENDING)
    hold = (
        None
        if shipment.reservation_id is None
        else session.get(Reservation, shipment.reservation_id)
    )
    if hold is not None and hold.status in (ReservationStatus.PICKED, ReservationStatus.USED):
        raise ShipmentNotOpen(shipment_id, f"picked ({hold.status.value})")
    why = f"shipment {shipment.id} cancelled: {reason}"
    if hold is not None and hold.status is ReservationStatus.RESERVED and hold.expires_at > who.now:
        release(session=session, reservation_id=hold.id, user_id=who.user_id, now=who.now,
                reason=why)  # fmt: skip
    shipment.status = ShipmentStatus.CANCELLED
    refs = Refs(shipment_id=shipment.id, reservation_id=shipment.reservation_id,
                ticket_id=shipment.ticket_id)  # fmt: skip
    ledger.append(session, [Posting(LedgerKind.SHIPMENT, shipment.from_depot_id,
                                    shipment.part_id, Delta(), who.user_id, who.now, why,
                                    refs)])  # fmt: skip
    session.flush()
    return shipment


def receive_shipment(*, session: Session, shipment_id: int, who: Who) -> Shipment:
    """A shipment arrived: at a depot its units go on hand; at a site it is delivered."""
    shipment = _open_shipment(session, shipment_id, ShipmentStatus.IN_TRANSIT)
    shipment.status, shipment.received_at = ShipmentStatus.RECEIVED, who.now
    if shipment.to_depot_id is not None:
        delta = Delta(on_hand=shipment.quantity, in_transit=-shipment.quantity)
        ledger.post(session, Posting(LedgerKind.TRANSFER_IN, shipment.to_depot_id,
                                     shipment.part_id, delta, who.user_id, who.now,
                                     f"transfer from depot {shipment.from_depot_id}",
                                     Refs(shipment_id=shipment.id)))  # fmt: skip
    session.flush()
    return shipment


def order(
    *,
    session: Session,
    supplier_id: int,
    depot_id: int,
    part_id: int,
    quantity: int,
    who: Who,
) -> SupplierOrder:
    """Order units from a supplier or partner; due after its lead time, on order meanwhile."""
    if quantity < 1:
        raise InvalidMovement("quantity", "must be at least 1")
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFoundError("Supplier", supplier_id)
    check_row(session, depot_id, part_id)
    placed = SupplierOrder(
        supplier_id=supplier_id, depot_id=depot_id, part_id=part_id, quantity=quantity,
        ordered_at=who.now, expected_at=who.now + timedelta(hours=supplier.lead_time_hours),
        created_by_id=who.user_id,
    )  # fmt: skip
    session.add(placed)
    session.flush()
    ledger.post(session, Posting(LedgerKind.ORDER, depot_id, part_id, Delta(on_order=quantity),
                                 who.user_id, who.now, f"ordered from {supplier.code}",
                                 Refs(order_id=placed.id)))  # fmt: skip
    return placed


def receive_order(*, session: Session, order_id: int, who: Who) -> SupplierOrder:
    """A supplier order arrived: on order becomes on hand."""
    placed = session.get(SupplierOrder, order_id, with_for_update=True)
    if placed is None:
        raise UnknownOrder(order_id)
    if placed.received_at is not None:
        raise OrderAlreadyReceived(order_id)
    placed.received_at = who.now
    delta = Delta(on_hand=placed.quantity, on_order=-placed.quantity)
    ledger.post(session, Posting(LedgerKind.RECEIPT, placed.depot_id, placed.part_id, delta,
                                 who.user_id, who.now, "supplier order received",
                                 Refs(order_id=placed.id)))  # fmt: skip
    session.flush()
    return placed


@dataclass(frozen=True, slots=True)
class ShipmentFilter:
    late: bool | None = None
    status: ShipmentStatus | None = None
    from_depot_id: int | None = None
    ticket_id: int | None = None


def shipments_query(
    *, filters: ShipmentFilter, now: datetime, margin_min: int = 0
) -> Select[Shipment]:
    """The filtered shipments, unordered; `late=true`: those that left after `ship_by`, or will.

    A shipment still waiting "will miss" its time when `now + margin_min` is past `ship_by`.
    Dispatch pages it with part and ticket codes (`dispatch.board.list_shipments`).
    """
    s = Shipment
    stmt = select(s)
    late = or_(
        s.shipped_at > s.ship_by,
        (s.status == ShipmentStatus.PENDING) & (s.ship_by < now + timedelta(minutes=margin_min)),
    )
    if filters.late is True:
        stmt = stmt.where(late)
    elif filters.late is False:
        stmt = stmt.where(~late)
    for column, value in (
        (s.status, filters.status),
        (s.from_depot_id, filters.from_depot_id),
        (s.ticket_id, filters.ticket_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


@dataclass(frozen=True, slots=True)
class Receipt:
    """What arrived at a depot, and the order or shipment it closed (if any)."""

    depot_id: int
    part_id: int
    quantity: int
    order: SupplierOrder | None = None
    shipment: Shipment | None = None


def receive_any(
    *,
    session: Session,
    who: Who,
    order_id: int | None = None,
    shipment_id: int | None = None,
    depot_id: int | None = None,
    part_id: int | None = None,
    quantity: int | None = None,
    reason: str = "",
) -> Receipt:
    """Receive a supplier order, an arriving transfer, or a plain delivery (exactly one)."""
    if order_id is not None:
        placed = receive_order(session=session, order_id=order_id, who=who)
        return Receipt(placed.depot_id, placed.part_id, placed.quantity, order=placed)
    if shipment_id is not None:
        moved = session.get(Shipment, shipment_id)
        if moved is not None and moved.to_depot_id is None:
            raise InvalidMovement("shipment_id", "a shipment to a site is not received at a depot")
        moved = receive_shipment(session=session, shipment_id=shipment_id, who=who)
        assert moved.to_depot_id is not None
        return Receipt(moved.to_depot_id, moved.part_id, moved.quantity, shipment=moved)
    if depot_id is None or part_id is None or quantity is None:
        raise InvalidMovement("depot_id", "give order_id, shipment_id, or depot, part and quantity")
    receive(session=session, depot_id=depot_id, part_id=part_id, quantity=quantity, who=who,
            reason=reason)  # fmt: skip
    return Receipt(depot_id, part_id, quantity)
