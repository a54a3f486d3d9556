"""Stock on the shelf: what is available, and movements that do not travel.

Receipts, cycle-count adjustments, returns of faulty parts, scrap and use on a
ticket; each writes its ledger entry through `inventory.ledger.post`, which refuses
any change that would oversell. Movements that travel are in `inventory.shipments`.

Returned faulty parts go to the depot's returns bin: the `returns` counter of the
stock row, with its own ledger delta. It is never in `on_hand`, so never sellable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from inventory import ledger
from inventory.ledger import Delta, Posting, Refs
from inventory.models import (
    Depot,
    LedgerEntry,
    LedgerKind,
    Part,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from inventory.pagination import Page, fetch_page
from inventory.stock_errors import InvalidMovement, UnknownDepot, UnknownPart


@dataclass(slots=True)  # not frozen: a Page item's `id` is a plain attribute
class StockView:
    """One stock row as staff see it: available excludes live holds only."""

    id: int
    depot_id: int
    part_id: int
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    on_order: int
    returns: int
    reorder_point: int
    part_sku: str = ""  # the part's code and name, so a reader needs no second lookup
    part_name: str = ""


@dataclass(frozen=True, slots=True)
class StockFilter:
    depot_id: int | None = None
    part_id: int | None = None
    region_id: int | None = None
    below_reorder_point: bool | None = None
    q: str | None = None  # part SKU (the part's code) or name contains this, any case


def list_stock(
    *, session: Session, now: datetime, filters: StockFilter, after: int | None, limit: int
) -> Page[StockView]:
    """Stock rows, one keyset page; `available` counts expired holds as free (rule 10)."""
    s, r = StockLevel, Reservation
    stale = (
        select(func.coalesce(func.sum(r.quantity), 0))
        .where(
            r.depot_id == s.depot_id,
            r.part_id == s.part_id,
            r.status == ReservationStatus.RESERVED,
            r.expires_at <= now,
        )
        .scalar_subquery()
    )
    conditions: list[ColumnElement[bool]] = []
    if filters.depot_id is not None:
        conditions.append(s.depot_id == filters.depot_id)
    if filters.part_id is not None:
        conditions.append(s.part_id == filters.part_id)
    if filters.region_id is not None:
        in_region = select(Depot.id).where(Depot.region_id == filters.region_id)
        conditions.append(s.depot_id.in_(in_region))
    if filters.q:
        pattern = "%" + _escape_like(filters.q) + "%"
        found = select(Part.id).where(
            or_(Part.sku.ilike(pattern, escape="\\"), Part.name.ilike(pattern, escape="\\"))
        )
        conditions.append(s.part_id.in_(found))
    if filters.below_reorder_point is True:
        conditions.append(s.on_hand - s.reserved + stale < s.reorder_point)
    elif filters.below_reorder_point is False:
        conditions.append(s.on_hand - s.reserved + stale >= s.reorder_point)
    stmt = select(s, stale, Part.sku, Part.name).join(Part, Part.id == s.part_id).where(*conditions)
    if after is not None:
        stmt = stmt.where(s.id > after)
    rows = session.execute(stmt.order_by(s.id).limit(limit + 1)).all()
    views = [_view(row[0], int(row[1]), row[2], row[3]) for row in rows[:limit]]
    return Page(items=views, next_after=views[-1].id if len(rows) > limit else None)


def _escape_like(text: str) -> str:
    """`text` matched literally inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _view(row: StockLevel, expired: int, sku: str, name: str) -> StockView:
    live = row.reserved - expired
    return StockView(
        row.id, row.depot_id, row.part_id, row.on_hand, live, row.on_hand - live,
        row.in_transit, row.on_order, row.returns, row.reorder_point, sku, name,
    )  # fmt: skip


def check_row(session: Session, depot_id: int, part_id: int) -> None:
    """Raise UnknownDepot / UnknownPart before a movement names a row that cannot exist."""
    if session.get(Depot, depot_id) is None:
        raise UnknownDepot(depot_id)
    if session.get(Part, part_id) is None:
        raise UnknownPart(part_id)


def _positive(quantity: int, field: str = "quantity") -> None:
    if quantity < 1:
        raise InvalidMovement(field, "must be at least 1")


@dataclass(frozen=True, slots=True)
class Who:
    """Who moves stock and when: every ledger entry records both."""

    user_id: int | None
    now: datetime


def receive(
    *, session: Session, depot_id: int, part_id: int, quantity: int, who: Who, reason: str = ""
) -> None:
    """Put delivered units on the shelf (a delivery without a supplier order)."""
    _positive(quantity)
    check_row(session, depot_id, part_id)
    ledger.post(session, Posting(LedgerKind.RECEIPT, depot_id, part_id, Delta(on_hand=quantity),
                                 who.user_id, who.now, reason or "received"))  # fmt: skip


def adjust(
    *,
    session: Session,
    depot_id: int,
    part_id: int,
    reason: str,
    who: Who,
    delta: int | None = None,
    counted: int | None = None,
) -> int:
    """Correct on-hand stock after a cycle count (`counted`) or by `delta`; returns the delta.

    An adjustment cannot take away units that are reserved: release the holds first.
    """
    if not reason.strip():
        raise InvalidMovement("reason", "say why the stock is adjusted")
    if (delta is None) == (counted is None):
        raise InvalidMovement("delta", "give either delta or counted")
    check_row(session, depot_id, part_id)
    if counted is not None:
        if counted < 0:
            raise InvalidMovement("counted", "must not be negative")
        stmt = select(StockLevel.on_hand).where(
            StockLevel.depot_id == depot_id, StockLevel.part_id == part_id
        )
        delta = counted - int(session.execute(stmt.with_for_update()).scalar_one_or_none() or 0)
    assert delta is not None
    if delta == 0:
        return 0
    ledger.post(session, Posting(LedgerKind.ADJUSTMENT, depot_id, part_id, Delta(on_hand=delta),
                                 who.user_id, who.now, reason))  # fmt: skip
    return delta


def return_faulty(
    *,
    session: Session,
    depot_id: int,
    part_id: int,
    quantity: int,
    who: Who,
    ticket_id: int | None = None,
    reason: str = "",
) -> None:
    """Take a faulty part back into the depot's returns bin (not sellable stock)."""
    _positive(quantity)
    check_row(session, depot_id, part_id)
    ledger.post(session, Posting(LedgerKind.RETURN, depot_id, part_id, Delta(returns=quantity),
                                 who.user_id, who.now, reason or "faulty part returned",
                                 Refs(ticket_id=ticket_id)))  # fmt: skip


def scrap(
    *, session: Session, depot_id: int, part_id: int, quantity: int, who: Who, reason: str
) -> None:
    """Scrap inspected parts from the returns bin."""
    _positive(quantity)
    check_row(session, depot_id, part_id)
    ledger.post(session, Posting(LedgerKind.SCRAP, depot_id, part_id, Delta(returns=-quantity),
                                 who.user_id, who.now, reason or "scrapped"))  # fmt: skip


def use_on_ticket(
    *, session: Session, depot_id: int, part_id: int, quantity: int, ticket_id: int, who: Who
) -> None:
    """Consume unreserved units (e.g. from an engineer's van) on a ticket."""
    _positive(quantity)
    ledger.post(session, Posting(LedgerKind.USE, depot_id, part_id, Delta(on_hand=-quantity),
                                 who.user_id, who.now, "used on ticket",
                                 Refs(ticket_id=ticket_id)))  # fmt: skip


@dataclass(frozen=True, slots=True)
class LedgerFilter:
    depot_id: int | None = None
    part_id: int | None = None
    kind: LedgerKind | None = None
    reservation_id: int | None = None
    ticket_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_ledger(
    *, session: Session, filters: LedgerFilter, after: int | None, limit: int
) -> Page[LedgerEntry]:
    """Ledger entries in id (= posting) order, one keyset page."""
    e = LedgerEntry
    conditions = [
        column == value
        for column, value in (
            (e.depot_id, filters.depot_id),
            (e.part_id, filters.part_id),
            (e.kind, filters.kind),
            (e.reservation_id, filters.reservation_id),
            (e.ticket_id, filters.ticket_id),
        )
        if value is not None
    ]
    if filters.since is not None:
        conditions.append(e.at >= filters.since)
    if filters.until is not None:
        conditions.append(e.at < filters.until)
    stmt = select(e).where(and_(*conditions)) if conditions else select(e)
    return fetch_page(stmt, e.id, session=session, after=after, limit=limit)
