"""Who changed which master data, when, from what to what: recorded by the ORM itself.

Every model that inherits `Audited` gets an `audit_entries` row for each insert, update and
delete made through a session, with the changed columns as {column: [old, new]}. The user
and the time come from `session.info` (`ACTOR` and `NOW`), which the API's request
dependency and the CLI set; services need not remember to log. Bulk Core inserts (loading a
whole world) are not ORM changes and are not audited row by row.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Select, String, event, insert, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from db.base import Base, IdMixin
from db.types import UTCDateTime

ACTOR = "actor_id"  # session.info key: the id of the user making the change
NOW = "now"  # session.info key: the time of the change (aware); default: the wall clock


class Audited:
    """Mixin: changes of this model are written to the audit trail."""


class AuditEntry(IdMixin, Base):
    """One change of one audited row. Never updated."""

    __tablename__ = "audit_entries"

    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_key: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))  # insert, update, delete
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _key(obj: object) -> str:
    """The row's primary key (composite keys joined by '/'); set once the flush ran."""
    state = inspect(obj)
    return "/".join(str(part) for part in state.mapper.primary_key_from_instance(obj))


def _changes(obj: object, action: str) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if action == "insert":
            value = getattr(obj, attr.key)
            if value is not None:
                out[attr.key] = [None, _plain(value)]
        elif action == "delete":
            out[attr.key] = [_plain(getattr(obj, attr.key)), None]
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            out[attr.key] = [_plain(old), _plain(new)]
    if "api_key_hash" in out:  # never copy a credential into the trail
        out["api_key_hash"] = ["***", "***"]
    return out


def _after_flush(session: Session, _context: object) -> None:
    rows = []
    at = session.info.get(NOW) or datetime.now(UTC)
    actor = session.info.get(ACTOR)
    for action, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if not isinstance(obj, Audited):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue  # touched, not changed
            entity = type(obj).__tablename__  # type: ignore[attr-defined]
            rows.append(
                {"at": at, "user_id": actor, "entity": entity, "entity_key": _key(obj),
                 "action": action, "changes": changes}
            )  # fmt: skip
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def install_audit() -> None:
    """Listen to every session's flushes (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


install_audit()  # the trail is part of the data model: on as soon as the model is imported


def audit_query(
    *, entity: str | None = None, entity_key: str | None = None, user_id: int | None = None
) -> Select[AuditEntry]:
    """The trail, filtered; the caller pages it (oldest first, by id)."""
    stmt = select(AuditEntry)
    if entity is not None:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_key is not None:
        stmt = stmt.where(AuditEntry.entity_key == entity_key)
    if user_id is not None:
        stmt = stmt.where(AuditEntry.user_id == user_id)
    return stmt
