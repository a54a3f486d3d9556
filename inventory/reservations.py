"""Reserve, release, pick and expire: holds on stock that never oversell and never outlive expiry.

The guard is the database's (inventory.ledger): `reserved = reserved + n WHERE
on_hand - reserved >= n`. An expired hold never blocks stock: before reserving on a
row, the reserve path releases that row's expired holds into the ledger (as the
sweeper would), and `stock.list_stock` subtracts only live holds. Multi-line requests
touch stock rows in primary-key order, so two of them can never deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Select,
    Table,
    bindparam,
    delete,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session, make_transient_to_detached

from db.direct import Direct
from inventory import ledger
from inventory.ledger import Delta, Posting, Refs
from inventory.models import (
    Depot,
    LedgerEntry,
    LedgerKind,
    Part,
    PartSubstitute,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from inventory.stock_errors import (
    InsufficientStock,
    InvalidMovement,
    ReservationExpired,
    ReservationNotActive,
    ShortLine,
    SubstituteOffer,
    UnknownDepot,
    UnknownPart,
    UnknownReservation,
)
from inventory.stock_rules import DEFAULT_LIFETIME_MIN as DEFAULT_LIFETIME_MIN

_HOLDS = cast(Table, Reservation.__table__)
_STOCK = cast(Table, StockLevel.__table__)
_LEDGER = cast(Table, LedgerEntry.__table__)
_AVAILABLE = select(_STOCK.c.on_hand - _STOCK.c.reserved).where(
    _STOCK.c.depot_id == bindparam("depot_id"), _STOCK.c.part_id == bindparam("part_id")
)
_ROWS = select(_STOCK.c.part_id, _STOCK.c.id).where(
    _STOCK.c.depot_id == bindparam("depot_id"),
    _STOCK.c.part_id.in_(bindparam("part_ids", expanding=True)),
)


@dataclass(frozen=True, slots=True)
class ReserveLine:
    """Reserve `quantity` of `part_id`; `substitute_for` names the part asked for, if another."""

    part_id: int
    quantity: int
    substitute_for: int | None = None


def _check_lines(session: Session, lines: Sequence[ReserveLine], lifetime_min: int) -> None:
    """Rules that need no stock row; depots and parts are checked only when a row is missing."""
    if not lines:
        raise InvalidMovement("lines", "reserve at least one part")
    if lifetime_min < 1:
        raise InvalidMovement("expires_in_min", "must be at least 1 minute")
    for i, line in enumerate(lines):
        if line.quantity < 1:
            raise InvalidMovement(f"lines.{i}.quantity", "must be at least 1")
        if line.substitute_for is not None and not _is_substitute(
            session, line.substitute_for, line.part_id
        ):
            reason = f"part {line.part_id} is not a substitute of part {line.substitute_for}"
            raise InvalidMovement(f"lines.{i}.substitute_for", reason)
    if len({line.part_id for line in lines}) != len(lines):
        raise InvalidMovement("lines", "name each part once")


def _missing_row(session: Session, depot_id: int, part_id: int) -> None:
    """A depot without a row for the part: unknown depot or part, or simply none in stock."""
    if session.get(Depot, depot_id) is None:
        raise UnknownDepot(depot_id)
    if session.get(Part, part_id) is None:
        raise UnknownPart(part_id)


def _is_substitute(session: Session, part_id: int, substitute_id: int) -> bool:
    stmt = select(PartSubstitute.part_id).where(
        PartSubstitute.part_id == part_id, PartSubstitute.substitute_id == substitute_id
    )
    return session.execute(stmt).first() is not None


def expire_row(session: Session, *, depot_id: int, part_id: int, now: datetime) -> int:
    """Release the expired holds of one stock row into the ledger; returns how many."""
    r = Reservation
    expired = session.execute(
        update(r)
        .where(
            r.depot_id == depot_id,
            r.part_id == part_id,
            r.status == ReservationStatus.RESERVED,
            r.expires_at <= now,
        )
        .values(status=ReservationStatus.EXPIRED, closed_at=now)
        .returning(r.id, r.quantity, r.ticket_id)
        .execution_options(synchronize_session=False)
    ).all()
    total = sum(q for _, q, _ in expired)
    if total:
        postings = [
            Posting(LedgerKind.EXPIRY, depot_id, part_id, Delta(reserved=-q), None, now,
                    "hold expired", Refs(reservation_id=rid, ticket_id=tid))
            for rid, q, tid in expired
        ]  # fmt: skip
        if not ledger.apply(
            session, depot_id=depot_id, part_id=part_id, delta=Delta(reserved=-total)
        ):  # the holds were counted in `reserved`: this cannot be refused
            raise AssertionError(f"stock row {depot_id}/{part_id} disagrees with its holds")
        ledger.append(session, postings)
    return len(expired)


def _stock_rows(session: Session, depot_id: int, lines: Sequence[ReserveLine]) -> dict[int, int]:
    """Stock row id per part at the depot (rows that exist only)."""
    params = {"depot_id": depot_id, "part_ids": [ln.part_id for ln in lines]}
    return dict(session.connection().execute(_ROWS, params).all())


def substitutes_available(
    session: Session, *, depot_id: int, part_id: int
) -> list[SubstituteOffer]:
    """Parts of similar function that could replace `part_id`, with their availability here."""
    p, ps, s = Part, PartSubstitute, StockLevel
    stmt = (
        select(p.id, p.sku, p.name, s.on_hand - s.reserved)
        .join(ps, ps.substitute_id == p.id)
        .outerjoin(s, (s.part_id == p.id) & (s.depot_id == depot_id))
        .where(ps.part_id == part_id)
        .order_by(p.id)
    )
    return [
        SubstituteOffer(pid, sku, name, depot_id, int(avail or 0))
        for pid, sku, name, avail in session.execute(stmt)
    ]


def reserve(
    *,
    session: Session,
    depot_id: int,
    lines: Sequence[ReserveLine],
    user_id: int | None,
    now: datetime,
    ticket_id: int | None = None,
    lifetime_min: int = DEFAULT_LIFETIME_MIN,
) -> list[Reservation]:
    """Hold stock for a ticket until `now + lifetime_min`; all lines or none.

    Each line is one guarded UPDATE of its stock row with its hold and ledger entry: on
    PostgreSQL a single statement (`_HOLD`), so a one-line request (the usual one) costs
    one round trip besides its key and commit, and its row stays locked from that
    statement to the commit. Several lines take their rows in primary-key order, so two
    requests never deadlock. A refused line undoes the lines already held and raises.
    """
    _check_lines(session, lines, lifetime_min)
    if len(lines) == 1:
        order = list(lines)  # a missing row shows as a refusal, checked then (`_refused`)
    else:
        rows = _stock_rows(session, depot_id, lines)
        for line in lines:
            if line.part_id not in rows:
                _missing_row(session, depot_id, line.part_id)
        order = sorted(lines, key=lambda ln: rows.get(ln.part_id, 2**63))
    hold = _Hold(depot_id, user_id, now, ticket_id, now + timedelta(minutes=lifetime_min))
    held: dict[int, Reservation] = {}
    short: list[ShortLine] = []
    for line in order:
        got = _hold(session, hold, line)
        if got is None:
            short.append(_refused(session, depot_id, line, single=len(lines) == 1))
        else:
            held[line.part_id] = got
    if short:
        _undo(session, depot_id, list(held.values()))
        offers = [
            offer
            for line in short
            for offer in substitutes_available(session, depot_id=depot_id, part_id=line.part_id)
        ]
        raise InsufficientStock(short, offers)
    return [held[line.part_id] for line in lines]


@dataclass(frozen=True, slots=True)
class _Hold:
    """What every line of one request's holds shares."""

    depot_id: int
    user_id: int | None
    now: datetime
    ticket_id: int | None
    expires_at: datetime


def _refused(session: Session, depot_id: int, line: ReserveLine, *, single: bool) -> ShortLine:
    """Why a line was refused: an unknown depot or part raises, else what is available."""
    have = (
        session.connection()
        .execute(_AVAILABLE, {"depot_id": depot_id, "part_id": line.part_id})
        .scalar_one_or_none()
    )
    if have is None and single:  # no stock row: unknown depot or part, or simply none here
        _missing_row(session, depot_id, line.part_id)
    return ShortLine(depot_id, line.part_id, line.quantity, int(have or 0))


def _undo(session: Session, depot_id: int, held: list[Reservation]) -> None:
    """Take back a refused request's holds, so the service itself writes nothing on refusal.

    (Released expired holds stay released: that is the sweeper's work done early.)
    """
    for h in held:
        ledger.apply(session, depot_id=depot_id, part_id=h.part_id,
                     delta=Delta(reserved=-h.quantity))  # fmt: skip
    ids = [h.id for h in held]
    if ids:
        session.execute(delete(LedgerEntry).where(LedgerEntry.reservation_id.in_(ids)))
        session.execute(delete(Reservation).where(Reservation.id.in_(ids)))
    for h in held:
        session.expunge(h)


def _hold(session: Session, hold: _Hold, line: ReserveLine) -> Reservation | None:
    """Reserve on one row; refused, release its expired holds (they never block) and retry."""
    got = _take(session, hold, line)
    if got is None and expire_row(
        session, depot_id=hold.depot_id, part_id=line.part_id, now=hold.now
    ):
        got = _take(session, hold, line)
    return got


def _take(session: Session, hold: _Hold, line: ReserveLine) -> Reservation | None:
    """The guarded UPDATE of the line's row, its hold and its ledger entry; None if refused."""
    params = {"depot_id": hold.depot_id, "part_id": line.part_id,
              "requested_part_id": line.substitute_for, "quantity": line.quantity,
              "ticket_id": hold.ticket_id, "status": ReservationStatus.RESERVED,
              "expires_at": hold.expires_at, "created_at": hold.now,
              "created_by_id": hold.user_id}  # fmt: skip
    delta = Delta(reserved=line.quantity)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Prefixed: a parameter named like a column of the UPDATE's table would be SET.
        given = {f"h_{name}": value for name, value in params.items()}
        given |= ledger.guard_params(depot_id=hold.depot_id, part_id=line.part_id, delta=delta)
        found = _HOLD.rows(connection, given)
        row = found[0] if found else None
    else:  # no data-modifying CTEs: the same three writes, one statement each
        if not ledger.apply(session, depot_id=hold.depot_id, part_id=line.part_id, delta=delta):
            return None
        row = connection.execute(insert(_HOLDS).returning(*_HOLDS.c), params).one()
        ledger.append(session, [Posting(
            LedgerKind.RESERVATION, hold.depot_id, line.part_id, delta, hold.user_id, hold.now,
            HELD_REASON, Refs(reservation_id=row.id, ticket_id=hold.ticket_id))])  # fmt: skip
    if row is None:
        return None
    # The row as a persistent object, without an ORM flush.
    held = Reservation(**row._mapping)
    make_transient_to_detached(held)
    session.add(held)
    return held


HELD_REASON = "reserved"  # the ledger's reason for a new hold


def _hold_statement() -> Select[Any]:
    """One statement for a line (PostgreSQL): the guarded UPDATE of its stock row, the hold
    and its ledger entry. Refused (no row, too few units), it writes nothing and returns none.
    The guard is `ledger.guarded`'s, the one every reservation applies."""
    col = _HOLDS.c
    row = (
        ledger.guarded_update(Delta(reserved=1))
        .returning(_STOCK.c.depot_id, _STOCK.c.part_id)
        .cte("stock_row")
    )

    def param(name: str) -> Any:
        # Typed: a NULL parameter has no type of its own. (A foreign key's type can be
        # unresolved before its table is imported: every id is an Integer.)
        kind = Integer() if name.endswith("_id") else col[name].type
        return cast_(bindparam(f"h_{name}"), kind)

    made = (
        insert(_HOLDS)
        .from_select(
            ["depot_id", "part_id", "requested_part_id", "quantity", "ticket_id", "status",
             "expires_at", "created_at", "created_by_id"],
            select(row.c.depot_id, row.c.part_id, param("requested_part_id"), param("quantity"),
                   param("ticket_id"), param("status"), param("expires_at"),
                   param("created_at"), param("created_by_id")),
        )
        .returning(*col)
        .cte("hold")
    )  # fmt: skip
    zero: Any = literal_column("0")
    entry = insert(_LEDGER).from_select(
        ["kind", "depot_id", "part_id", "d_on_hand", "d_reserved", "d_in_transit", "d_on_order",
         "d_returns", "user_id", "at", "reason", "reservation_id", "ticket_id"],
        select(_constant(LedgerKind.RESERVATION.value), made.c.depot_id, made.c.part_id, zero,
               made.c.quantity, zero, zero, zero, made.c.created_by_id, made.c.created_at,
               _constant(HELD_REASON), made.c.id, made.c.ticket_id),
    ).cte("entry")  # fmt: skip
    return select(made).add_cte(entry)


def _constant(word: str) -> Any:
    """A fixed word written into the statement (our own constants only: never input)."""
    if not word.replace("-", "").replace("_", "").isalnum():
        raise ValueError(word)
    return literal_column(f"'{word}'")


def _close(
    session: Session, reservation_id: int, now: datetime, status: ReservationStatus
) -> Reservation:
    """Move a live hold to `status`, or explain why it is not live (expired, closed, unknown)."""
    r = Reservation
    closed = session.scalars(
        update(r)
        .where(r.id == reservation_id, r.status == ReservationStatus.RESERVED, r.expires_at > now)
        .values(status=status, closed_at=now)
        .returning(r)
        .execution_options(synchronize_session=False, populate_existing=True)
    ).one_or_none()
    if closed is not None:
        return closed
    found = session.get(Reservation, reservation_id, populate_existing=True)
    if found is None:
        raise UnknownReservation(reservation_id)
    if found.status == ReservationStatus.RESERVED or found.status == ReservationStatus.EXPIRED:
        raise ReservationExpired(reservation_id, found.expires_at)
    raise ReservationNotActive(reservation_id, found.status.value)


def release(
    *, session: Session, reservation_id: int, user_id: int | None, now: datetime, reason: str = ""
) -> Reservation:
    """Give a live hold's units back to available stock."""
    held = _close(session, reservation_id, now, ReservationStatus.RELEASED)
    refs = Refs(reservation_id=held.id, ticket_id=held.ticket_id)
    ledger.post(session, Posting(LedgerKind.RELEASE, held.depot_id, held.part_id,
                                 Delta(reserved=-held.quantity), user_id, now,
                                 reason or "released", refs))  # fmt: skip
    return held


def consume(
    *,
    session: Session,
    reservation_id: int,
    user_id: int | None,
    now: datetime,
    kind: LedgerKind = LedgerKind.PICK,
) -> Reservation:
    """Take a live hold's units off the shelf (a pick, or a use on its ticket)."""
    status = ReservationStatus.PICKED if kind == LedgerKind.PICK else ReservationStatus.USED
    held = _close(session, reservation_id, now, status)
    refs = Refs(reservation_id=held.id, ticket_id=held.ticket_id)
    delta = Delta(on_hand=-held.quantity, reserved=-held.quantity)
    ledger.post(session, Posting(kind, held.depot_id, held.part_id, delta, user_id, now,
                                 kind.value, refs))  # fmt: skip
    return held


def sweep_expired(*, session: Session, now: datetime, limit: int = 1000) -> int:
    """Release up to `limit` rows' worth of expired holds (the sweeper; the worker runs it too)."""
    r, s = Reservation, StockLevel
    rows = session.execute(
        select(s.depot_id, s.part_id)
        .join(r, (r.depot_id == s.depot_id) & (r.part_id == s.part_id))
        .where(r.status == ReservationStatus.RESERVED, r.expires_at <= now)
        .group_by(s.id, s.depot_id, s.part_id)
        .order_by(s.id)  # stock rows in primary-key order, like every multi-row change
        .limit(limit)
    ).all()
    return sum(expire_row(session, depot_id=d, part_id=p, now=now) for d, p in rows)


_HOLD = Direct(_hold_statement())  # built once: every reservation runs it (db.direct)
