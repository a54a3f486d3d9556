"""Structured errors of stock movements, reservations and idempotency keys.

They sit beside `inventory.errors` (whose bases they extend) in a module of their
own, so that the stock work and the master-data work change separate files.

InventoryError
├── NotFoundError
│   ├── UnknownPart(part_id)                     404
│   ├── UnknownDepot(depot_id)                   404
│   └── UnknownReservation / UnknownShipment / UnknownOrder
├── StockError                                   409 unless said otherwise
│   ├── InsufficientStock(lines, substitutes)    409, says what is available instead
│   ├── ReservationExpired(reservation_id, expired_at)
│   ├── ReservationNotActive(reservation_id, status)
│   ├── ShipmentNotOpen(shipment_id, status)
│   ├── OrderAlreadyReceived(order_id)
│   └── InvalidMovement(field, reason)           422
└── IdempotencyError
    ├── IdempotencyKeyMissing                    400
    ├── IdempotencyKeyReused(key)                422 (same key, another request body)
    └── IdempotencyKeyInFlight(key)              409 (its twin is still running)
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory.errors import InventoryError, NotFoundError


class UnknownPart(NotFoundError):
    def __init__(self, part_id: int) -> None:
        super().__init__("Part", part_id)


class UnknownDepot(NotFoundError):
    def __init__(self, depot_id: int) -> None:
        super().__init__("Depot", depot_id)


class UnknownReservation(NotFoundError):
    def __init__(self, reservation_id: int) -> None:
        super().__init__("Reservation", reservation_id)


class UnknownShipment(NotFoundError):
    def __init__(self, shipment_id: int) -> None:
        super().__init__("Shipment", shipment_id)


class UnknownOrder(NotFoundError):
    def __init__(self, order_id: int) -> None:
        super().__init__("SupplierOrder", order_id)


class StockError(InventoryError):
    """A stock request that cannot be met as asked; nothing was written."""


@dataclass(frozen=True, slots=True)
class ShortLine:
    """One requested line that could not be met: what was asked and what is available."""

    depot_id: int
    part_id: int
    requested: int
    available: int


@dataclass(frozen=True, slots=True)
class SubstituteOffer:
    """A part of similar function (a free upgrade) and how many are available at the depot."""

    part_id: int
    sku: str
    name: str
    depot_id: int
    available: int


class InsufficientStock(StockError):
    """Not enough available units; lists each short line and substitutes that could serve."""

    def __init__(
        self, lines: list[ShortLine], substitutes: list[SubstituteOffer] | None = None
    ) -> None:
        said = "; ".join(
            f"part {ln.part_id} at depot {ln.depot_id}: {ln.requested} requested,"
            f" {ln.available} available"
            for ln in lines
        )
        super().__init__(f"not enough stock: {said}")
        self.lines = list(lines)
        self.substitutes = list(substitutes or [])


class ReservationExpired(StockError):
    """The reservation's hold ran out; its units are free again."""

    def __init__(self, reservation_id: int, expired_at: object) -> None:
        super().__init__(f"reservation {reservation_id} expired at {expired_at}; reserve again")
        self.reservation_id = reservation_id
        self.expired_at = expired_at


class ReservationNotActive(StockError):
    """The reservation was released, picked or used already."""

    def __init__(self, reservation_id: int, status: str) -> None:
        super().__init__(f"reservation {reservation_id} is {status}, not reserved")
        self.reservation_id = reservation_id
        self.status = status


class ShipmentNotOpen(StockError):
    """The shipment cannot take this step (e.g. received twice)."""

    def __init__(self, shipment_id: int, status: str) -> None:
        super().__init__(f"shipment {shipment_id} is {status}")
        self.shipment_id = shipment_id
        self.status = status


class OrderAlreadyReceived(StockError):
    def __init__(self, order_id: int) -> None:
        super().__init__(f"supplier order {order_id} was received already")
        self.order_id = order_id


class InvalidMovement(StockError):
    """A movement's data breaks a rule (zero quantity, same depot twice, no reason)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class IdempotencyError(InventoryError):
    """A stock-changing request broke the Idempotency-Key rules."""


class IdempotencyKeyMissing(IdempotencyError):
    def __init__(self) -> None:
        super().__init__("a request that changes stock needs an Idempotency-Key header")


class IdempotencyKeyReused(IdempotencyError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was used for another request; use a new key for new work"
        )
        self.key = key


class IdempotencyKeyInFlight(IdempotencyError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"a request with Idempotency-Key {key!r} is still being processed; retry shortly"
        )
        self.key = key
