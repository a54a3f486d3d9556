"""Prove the balances: recompute every stock row from the ledger and from the open documents.

Three independent accounts must agree with each stored row (depot x part):
the ledger's sums of deltas (every counter), the live reservations (`reserved`),
the transfers on their way (`in_transit`) and the open supplier orders (`on_order`).
`spares stock verify` and the tests call `verify`; an empty list means consistent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.models import (
    LedgerEntry,
    Reservation,
    ReservationStatus,
    Shipment,
    ShipmentStatus,
    StockLevel,
    SupplierOrder,
)

COUNTERS = ("on_hand", "reserved", "in_transit", "on_order", "returns")
Key = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A stored counter that disagrees with an account of it."""

    depot_id: int
    part_id: int
    counter: str
    stored: int
    expected: int
    source: str  # "ledger", "reservations", "shipments" or "orders"


def _stored(session: Session) -> dict[Key, dict[str, int]]:
    s = StockLevel
    rows = session.execute(
        select(s.depot_id, s.part_id, s.on_hand, s.reserved, s.in_transit, s.on_order, s.returns)
    )
    return {(r[0], r[1]): dict(zip(COUNTERS, r[2:], strict=True)) for r in rows}


def _ledger(session: Session) -> dict[Key, dict[str, int]]:
    e = LedgerEntry
    sums = [
        func.sum(c) for c in (e.d_on_hand, e.d_reserved, e.d_in_transit, e.d_on_order, e.d_returns)
    ]
    rows = session.execute(select(e.depot_id, e.part_id, *sums).group_by(e.depot_id, e.part_id))
    return {(r[0], r[1]): dict(zip(COUNTERS, map(int, r[2:]), strict=True)) for r in rows}


def _documents(session: Session) -> dict[str, tuple[str, dict[Key, int]]]:
    """Per counter: the account's name and its expected value per stock row."""
    r, sh, o = Reservation, Shipment, SupplierOrder
    held = select(r.depot_id, r.part_id, func.sum(r.quantity)).where(
        r.status == ReservationStatus.RESERVED
    )
    moving = select(sh.to_depot_id, sh.part_id, func.sum(sh.quantity)).where(
        sh.status == ShipmentStatus.IN_TRANSIT, sh.to_depot_id.is_not(None)
    )
    ordered = select(o.depot_id, o.part_id, func.sum(o.quantity)).where(o.received_at.is_(None))

    def sums(stmt: object) -> dict[Key, int]:
        grouped = stmt.group_by(*stmt.selected_columns[:2])  # type: ignore[attr-defined]
        return {(a, b): int(n) for a, b, n in session.execute(grouped)}

    return {
        "reserved": ("reservations", sums(held)),
        "in_transit": ("shipments", sums(moving)),
        "on_order": ("orders", sums(ordered)),
    }


def verify(*, session: Session) -> list[Mismatch]:
    """Every disagreement between stored balances and their accounts; empty when consistent."""
    stored, ledger = _stored(session), _ledger(session)
    zero = dict.fromkeys(COUNTERS, 0)
    found: list[Mismatch] = []
    for key in sorted(stored.keys() | ledger.keys()):
        have, expected = stored.get(key, zero), ledger.get(key, zero)
        for counter in COUNTERS:
            if have[counter] != expected[counter]:
                found.append(Mismatch(*key, counter, have[counter], expected[counter], "ledger"))
    for counter, (source, expected_by_key) in _documents(session).items():
        by_key: dict[Key, int] = defaultdict(int, expected_by_key)
        for key in sorted(stored.keys() | expected_by_key.keys()):
            have_n = stored.get(key, zero)[counter]
            if have_n != by_key[key]:
                found.append(Mismatch(*key, counter, have_n, by_key[key], source))
    return found
