"""Available stock in bulk, for planning: on hand less live (unexpired) holds, rule 10.

A reservation whose `expires_at` has passed never blocks stock, even before the sweeper has
released it, so its quantity counts as available here exactly as in `inventory.stock`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.models import Reservation, ReservationStatus, StockLevel

StockKey = tuple[int, int]  # (depot_id, part_id)


def available_stock(
    *, session: Session, now: datetime, depot_ids: Collection[int] | None = None
) -> dict[StockKey, int]:
    """Units available per (depot, part), only where some are; two queries for any size."""
    s, r = StockLevel, Reservation
    rows = select(s.depot_id, s.part_id, s.on_hand - s.reserved).where(s.on_hand > 0)
    stale = (
        select(r.depot_id, r.part_id, func.sum(r.quantity))
        .where(r.status == ReservationStatus.RESERVED, r.expires_at <= now)
        .group_by(r.depot_id, r.part_id)
    )
    if depot_ids is not None:
        rows = rows.where(s.depot_id.in_(list(depot_ids)))
        stale = stale.where(r.depot_id.in_(list(depot_ids)))
    expired = {(d, p): int(q) for d, p, q in session.execute(stale)}
    out: dict[StockKey, int] = {}
    for depot_id, part_id, free in session.execute(rows):
        available = int(free) + expired.get((depot_id, part_id), 0)
        if available > 0:
            out[(depot_id, part_id)] = available
    return out
