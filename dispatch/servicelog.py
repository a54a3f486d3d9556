"""A ticket's service log: every transition and change with user, time and reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import User
from dispatch.errors import (
    NotFoundError,
)
from dispatch.models import (
    LogKind,
    ServiceLogEntry,
    Ticket,
)
from dispatch.models import TicketStatus as S


def jsonable(value: object) -> object:
    """A value as the log's JSON stores it (timestamps as ISO 8601)."""
    return value.isoformat() if isinstance(value, datetime) else value


def log_entry(
    session: Session,
    ticket: Ticket,
    *,
    user: User,
    at: datetime,
    kind: LogKind,
    from_status: S | None = None,
    to_status: S | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> ServiceLogEntry:
    """Append one line to a ticket's service log (who, when, what, why)."""
    entry = ServiceLogEntry(
        ticket_id=ticket.id,
        at=at,
        user_id=user.id,
        kind=kind,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        reason=reason,
        details=details,
    )
    session.add(entry)
    return entry


def service_log(session: Session, ticket_id: int) -> list[ServiceLogEntry]:
    """A ticket's service log, oldest first."""
    if session.get(Ticket, ticket_id) is None:
        raise NotFoundError("ticket", ticket_id)
    stmt = (
        select(ServiceLogEntry)
        .where(ServiceLogEntry.ticket_id == ticket_id)
        .order_by(ServiceLogEntry.at, ServiceLogEntry.id)
    )
    return list(session.scalars(stmt))
