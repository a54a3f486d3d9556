"""Export a database's world to a bundle, and import a bundle into an empty database.

Functions take the session and only flush: the caller's transaction (the CLI's
`session.begin()`, the API's request dependency) commits or rolls back, so an
import either lands whole or not at all.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from db.base import Base
from dispatch.world.bundle.archive import ArchiveLimits, pack_bundle, unpack_bundle
from dispatch.world.bundle.columns import bundle_tables
from dispatch.world.bundle.errors import BundleConflict, Problem
from dispatch.world.bundle.manifest import Manifest
from dispatch.world.bundle.read import read_bundle
from dispatch.world.bundle.write import write_bundle
from dispatch.world.load import ensure_empty, load_world
from dispatch.world.model import World

_BATCH = 5_000


def export_world(
    session: Session, directory: Path | str, *, created_at: datetime | None = None
) -> Manifest:
    """Write every table of the database to a new bundle in `directory` (rows in key order).

    Users go out with their key hashes, never keys. `created_at` defaults to now; pass
    one to make two exports of the same data byte-identical.
    """
    tables = {spec.name: _rows(session, spec.name) for spec in bundle_tables()}
    return write_bundle(
        tables,
        directory,
        created_at=created_at or datetime.now(UTC),
        schema_revision=MigrationContext.configure(session.connection()).get_current_revision(),
    )


def _rows(session: Session, name: str) -> Iterator[RowMapping]:
    """A table's rows in primary-key order, fetched lazily when the writer reaches it."""
    table = Base.metadata.tables[name]
    stmt = select(table).order_by(*table.primary_key.columns)
    yield from session.execute(stmt.execution_options(yield_per=_BATCH)).mappings()


def import_world(session: Session, directory: Path | str) -> World:
    """Validate the bundle in `directory` as a whole, then load it into an empty database.

    "Empty" means no rows except users, so an admin created with `spares user add` can
    import over the API: a bundle user with the same id, name, role and key hash as a
    stored one is that user; any other clash is a BundleConflict. Raises BundleInvalid
    (nothing written), WorldNotEmptyError or BundleConflict.
    """
    ensure_empty(session, may_hold_rows=("users",))  # before the (longer) validation
    world = read_bundle(directory)
    new_users = _new_users(session, world.tables["users"])
    tables = world.tables | {"users": new_users}
    load_world(session, _with_tables(world, tables), may_hold_rows=("users",))
    return world


def _with_tables(world: World, tables: dict[str, list[Any]]) -> World:
    return World(
        seed=world.seed,
        size=world.size,
        reference_date=world.reference_date,
        tables=tables,
        demo_keys=world.demo_keys,
        counts={name: len(rows) for name, rows in tables.items()},
    )


def _new_users(session: Session, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bundle's users not yet stored; a clash with a stored user is a BundleConflict."""
    table = Base.metadata.tables["users"]
    stored = [dict(r) for r in session.execute(select(table)).mappings()]
    if not stored:
        return users
    same = ("id", "name", "role", "api_key_hash")
    by_field = {f: {str(row[f]): row for row in stored} for f in same}
    problems, new = [], []
    for number, user in enumerate(users, start=1):
        held = by_field["id"].get(str(user["id"]))
        if held is not None and all(str(held[f]) == str(user[f]) for f in same):
            continue  # the same user: keep the stored row
        clash = next(
            (f for f in ("id", "name", "api_key_hash") if str(user[f]) in by_field[f]), None
        )
        if clash is None:
            new.append(user)
            continue
        owner = by_field[clash][str(user[clash])]
        reason = (
            f"the database already has user {owner['name']!r} (id {owner['id']}) with this "
            f"{clash}; a bundle user matches a stored one only with the same id, name, role "
            "and api_key_hash"
        )
        problems.append(Problem("users.csv", number, clash, reason))
    if problems:
        raise BundleConflict(problems)
    return new


def export_world_zip(session: Session, *, created_at: datetime | None = None) -> bytes:
    """The database's world as one zip (a bundle folder, flattened)."""
    with tempfile.TemporaryDirectory(prefix="spares-export-") as scratch:
        folder = Path(scratch) / "bundle"
        export_world(session, folder, created_at=created_at)
        return pack_bundle(folder)


def import_world_zip(
    session: Session, data: bytes, *, limits: ArchiveLimits | None = None
) -> World:
    """Unpack an uploaded zip within `limits` into a scratch folder and import it."""
    with tempfile.TemporaryDirectory(prefix="spares-import-") as scratch:
        unpack_bundle(data, scratch, limits or ArchiveLimits())
        return import_world(session, scratch)
