"""The one place stock balances change: a guarded UPDATE of the row plus an immutable entry.

Every movement is a `Delta` on one stock row (depot x part). `post` applies it with a
conditional UPDATE whose WHERE clause refuses any result the CHECK constraints would
refuse (negative counters, more reserved than on hand), so concurrent requests can
never oversell: the database decides, row by row, and a refused change reports what
is available instead. The CHECK constraints stay as the last line of defence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import Table, Update, and_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from inventory.models import LedgerEntry, LedgerKind, Part, StockLevel, Supplier, SupplierOrder
from inventory.stock_errors import InsufficientStock, ShortLine


@dataclass(frozen=True, slots=True)
class Delta:
    """Changes to one stock row's counters."""

    on_hand: int = 0
    reserved: int = 0
    in_transit: int = 0
    on_order: int = 0
    returns: int = 0

    def is_increase_only(self) -> bool:
        """True when no counter goes down (such a change may create the row)."""
        return min(self.on_hand, self.reserved, self.in_transit, self.on_order, self.returns) >= 0


@dataclass(frozen=True, slots=True)
class Refs:
    """What a ledger entry points at besides its stock row."""

    reservation_id: int | None = None
    shipment_id: int | None = None
    order_id: int | None = None
    ticket_id: int | None = None


@dataclass(frozen=True, slots=True)
class Posting:
    """One movement on one stock row: kind, delta, who, when and why."""

    kind: LedgerKind
    depot_id: int
    part_id: int
    delta: Delta
    user_id: int | None
    at: datetime
    reason: str = ""
    refs: Refs = Refs()


_STOCK = cast(Table, StockLevel.__table__)
_LEDGER = cast(Table, LedgerEntry.__table__)
COUNTERS = ("on_hand", "reserved", "in_transit", "on_order", "returns")
Shape = tuple[tuple[str, int], ...]

_AVAILABLE = select(_STOCK.c.on_hand - _STOCK.c.reserved).where(
    _STOCK.c.depot_id == bindparam("depot_id"), _STOCK.c.part_id == bindparam("part_id")
)


def available(session: Session, *, depot_id: int, part_id: int) -> int:
    """On hand minus reserved as stored (0 when the depot holds no row for the part)."""
    params = {"depot_id": depot_id, "part_id": part_id}
    row = session.connection().execute(_AVAILABLE, params).scalar_one_or_none()
    return int(row or 0)


@cache
def _guarded(shape: Shape) -> Update:
    """The conditional UPDATE for one shape of delta (which counters move, which way).

    Built once per shape with bound parameters: the reservation path runs it per
    request, and building SQL expressions costs more than sending them.
    """
    c = _STOCK.c
    values = {name: c[name] + bindparam(f"d_{name}") for name, _ in shape}
    guards = [c.depot_id == bindparam("b_depot"), c.part_id == bindparam("b_part")]
    moving = dict(shape)
    # Only counters that go down need a guard; increases can never break a CHECK.
    if moving.get("reserved", 0) > 0 or moving.get("on_hand", 0) < 0:
        guards.append(c.on_hand - c.reserved >= bindparam("need"))
    guards += [c[name] >= -bindparam(f"d_{name}") for name, sign in shape if sign < 0]
    return update(_STOCK).where(and_(*guards)).values(values)


def guarded_update(delta: Delta) -> Update:
    """The guarded UPDATE that applies deltas shaped like `delta` (which counters move,
    which way), by depot and part; its parameters are `guard_params`'. `apply` runs it;
    a statement that writes more than the row (a hold, `inventory.reservations`) embeds it."""
    return _guarded(_shape(delta))


def _shape(delta: Delta) -> Shape:
    return tuple((name, 1 if n > 0 else -1) for name in COUNTERS if (n := getattr(delta, name)))


def guard_params(*, depot_id: int, part_id: int, delta: Delta) -> dict[str, int]:
    """The parameters of `guarded_update(delta)` for one row."""
    params = {f"d_{name}": n for name in COUNTERS if (n := getattr(delta, name))}
    params |= {"b_depot": depot_id, "b_part": part_id}
    params["need"] = delta.reserved - delta.on_hand
    return params


def apply(session: Session, *, depot_id: int, part_id: int, delta: Delta) -> bool:
    """Apply `delta` only if every counter stays valid; False when refused (or no row).

    Callers that apply one delta for several entries write those entries with `append`.
    """
    shape = _shape(delta)
    if not shape:
        return True
    params = guard_params(depot_id=depot_id, part_id=part_id, delta=delta)
    result = session.connection().execute(_guarded(shape), params)
    return bool(result.rowcount)


def _create_row(session: Session, depot_id: int, part_id: int) -> None:
    """Insert an empty stock row unless a concurrent writer just did."""
    dialect = session.get_bind().dialect.name
    values = {"depot_id": depot_id, "part_id": part_id}
    if dialect == "postgresql":
        session.execute(postgresql.insert(StockLevel).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(StockLevel).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(dialect)


def post(session: Session, posting: Posting) -> None:
    """Apply `posting` to its stock row and append it to the ledger, or raise InsufficientStock.

    A change that only adds creates the row when the depot has none for the part.
    """
    depot_id, part_id, delta = posting.depot_id, posting.part_id, posting.delta
    done = apply(session, depot_id=depot_id, part_id=part_id, delta=delta)
    if not done and delta.is_increase_only():
        _create_row(session, depot_id, part_id)
        done = apply(session, depot_id=depot_id, part_id=part_id, delta=delta)
    if not done:
        have = available(session, depot_id=posting.depot_id, part_id=posting.part_id)
        wanted = posting.delta.reserved - posting.delta.on_hand
        line = ShortLine(posting.depot_id, posting.part_id, max(wanted, 0), have)
        raise InsufficientStock([line])
    append(session, [posting])


def append(session: Session, postings: list[Posting]) -> None:
    """Write ledger entries without touching balances (the caller has applied them)."""
    rows = [
        {
            "kind": p.kind,
            "depot_id": p.depot_id,
            "part_id": p.part_id,
            "d_on_hand": p.delta.on_hand,
            "d_reserved": p.delta.reserved,
            "d_in_transit": p.delta.in_transit,
            "d_on_order": p.delta.on_order,
            "d_returns": p.delta.returns,
            "user_id": p.user_id,
            "at": p.at,
            "reason": p.reason,
            "reservation_id": p.refs.reservation_id,
            "shipment_id": p.refs.shipment_id,
            "order_id": p.refs.order_id,
            "ticket_id": p.refs.ticket_id,
        }
        for p in postings
    ]
    if rows:
        # Core, not the ORM's bulk path: the entries are never loaded back as objects.
        session.connection().execute(insert(_LEDGER), rows)


def open_balances(session: Session, *, at: datetime, user_id: int | None = None) -> int:
    """Write opening entries for every stock row that has no ledger entry yet.

    Stock loaded directly (a demo world, an import without a ledger) then agrees with
    the ledger. Units on order become open supplier orders (from the part's supplier,
    else the first one), so the orders account agrees too. Returns the rows opened.
    """
    has_entry = (
        select(LedgerEntry.id)
        .where(
            LedgerEntry.depot_id == StockLevel.depot_id, LedgerEntry.part_id == StockLevel.part_id
        )
        .exists()
    )
    rows = list(session.scalars(select(StockLevel).where(~has_entry).order_by(StockLevel.id)))
    postings = []
    for row in rows:
        on_order = _open_order(session, row, at, user_id) if row.on_order else None
        delta = Delta(row.on_hand, row.reserved, row.in_transit, 0 if on_order else row.on_order,
                      row.returns)  # fmt: skip
        postings.append(Posting(LedgerKind.OPENING, row.depot_id, row.part_id, delta, user_id, at,
                                "opening balance"))  # fmt: skip
        if on_order is not None:
            postings.append(on_order)
    append(session, postings)
    return len(rows)


def _open_order(
    session: Session, row: StockLevel, at: datetime, user_id: int | None
) -> Posting | None:
    """An open supplier order for a row's opening `on_order`, and its ledger posting."""
    supplier = session.scalar(
        select(Supplier)
        .outerjoin(Part, (Part.supplier_id == Supplier.id) & (Part.id == row.part_id))
        .order_by(Part.id.is_(None), Supplier.id)
        .limit(1)
    )
    if supplier is None:
        return None
    placed = SupplierOrder(
        supplier_id=supplier.id, depot_id=row.depot_id, part_id=row.part_id,
        quantity=row.on_order, ordered_at=at,
        expected_at=at + timedelta(hours=supplier.lead_time_hours), created_by_id=user_id,
    )  # fmt: skip
    session.add(placed)
    session.flush()
    return Posting(LedgerKind.ORDER, row.depot_id, row.part_id, Delta(on_order=row.on_order),
                   user_id, at, "opening order", Refs(order_id=placed.id))  # fmt: skip
