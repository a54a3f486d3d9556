"""Put a generated world into a migrated, empty database with Core bulk inserts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, time

from sqlalchemy import Table, exists, func, insert, select, text
from sqlalchemy.orm import Session

import dispatch.models  # noqa: F401 (registers dispatch's tables in Base.metadata)
import inventory.models  # noqa: F401 (registers inventory's tables)
from db.base import Base
from db.identity import User  # noqa: F401 (registers users)
from dispatch.errors import WorldNotEmptyError
from dispatch.world.model import World, local_datetime
from inventory.ledger import open_balances


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _occupied_tables(session: Session) -> tuple[str, ...]:
    """Every table of ours that holds a row, not only the world's (e.g. parts used)."""
    return tuple(
        table.name
        for table in Base.metadata.sorted_tables
        if session.execute(select(exists().select_from(table))).scalar()
    )


def world_is_empty(session: Session) -> bool:
    """True when no table of ours holds a row (the world's explicit ids would collide)."""
    return not _occupied_tables(session)


def ensure_empty(session: Session, *, may_hold_rows: Collection[str] = ()) -> None:
    """Raise WorldNotEmptyError unless every table outside `may_hold_rows` is empty."""
    occupied = tuple(t for t in _occupied_tables(session) if t not in may_hold_rows)
    if occupied:
        raise WorldNotEmptyError(occupied)


def load_world(session: Session, world: World, *, may_hold_rows: Collection[str] = ()) -> None:
    """Insert every row of `world` in foreign-key order; the caller commits.

    Raises WorldNotEmptyError when any of the world's tables already holds rows: the world
    carries explicit ids, so it cannot be merged into existing data. `may_hold_rows`
    names tables that may (an import keeps the users already stored; their ids are
    checked against the world's by the caller).
    """
    ensure_empty(session, may_hold_rows=may_hold_rows)
    for name, rows in world.tables.items():
        if rows:
            session.execute(insert(_table(name)), rows)
    if session.get_bind().dialect.name == "postgresql":
        _reset_sequences(session, world)
    if world.tables.get("stock_levels") and not world.tables.get("ledger_entries"):
        # Stock loaded directly must also be in the ledger, so `spares stock verify` holds.
        open_balances(session, at=_opened_at(world))


def _opened_at(world: World) -> datetime:
    """Opening balances date from the start of the world's reference day (else now).

    The reference date is a local date (the demo's zone), so its day starts at local
    midnight: midnight UTC of that date would lie up to 8 hours after the world's "now"
    when it is loaded between 16:00 and 24:00 UTC, and `ledger?until=now` would miss it.
    """
    if world.reference_date is None:
        return datetime.now(UTC)
    return local_datetime(world.reference_date, time(0))


def _reset_sequences(session: Session, world: World) -> None:
    """Move each serial id sequence past the explicit ids, so later inserts don't collide."""
    for name, rows in world.tables.items():
        table = _table(name)
        if not rows or "id" not in table.c:
            continue
        highest = session.execute(select(func.max(table.c.id))).scalar_one()
        session.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :value)"),
            {"table": name, "value": highest},
        )
