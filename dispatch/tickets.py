"""The ticket lifecycle: the only place a ticket's status changes.

Every change writes a service-log line with user, time and reason. Functions take the
session keyword-only and only flush: the caller's transaction commits or rolls back.
Intake lives in `dispatch.intake` and the log in `dispatch.servicelog`; their public names
are re-exported here, the module callers know.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db import User
from dispatch.errors import (
    IllegalTransitionError,
    InvalidTicketError,
    StaleTicketError,
    VersionMismatch,
)
from dispatch.inspections import INSPECTION
from dispatch.intake import (
    PartNeed,
    SkillNeed,
    TicketIntake,
    create_ticket,
    get_ticket,
    offsets_of,
    policy_of_site,
    severity_of,
)
from dispatch.lifecycle import allowed_next
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    LogKind,
    Ticket,
    TicketType,
)
from dispatch.models import TicketStatus as S
from dispatch.promises import compute_deadlines
from dispatch.quotes import final_price
from dispatch.servicelog import jsonable, log_entry, service_log
from dispatch.underway import backing_holds, stop_shipments
from dispatch.warranty_service import swap_parts_on_fix
from inventory.models import Reservation, ReservationStatus
from inventory.reservations import release
from inventory.stock import Who

__all__ = [
    "PartNeed",
    "SkillNeed",
    "TicketIntake",
    "change_severity",
    "check_version",
    "create_ticket",
    "get_ticket",
    "log_entry",
    "service_log",
    "transition",
]

# The event time each status records (the clocks read them).
_EVENT_FIELD: dict[S, str] = {
    S.RESPONDED: "responded_at",
    S.EN_ROUTE: "departed_at",
    S.ON_SITE: "arrived_at",
    S.FIXED: "fixed_at",
    S.RESOLVED_REMOTELY: "fixed_at",
    S.CLOSED: "closed_at",
}


def transition(
    session: Session,
    *,
    ticket_id: int,
    target: S,
    user: User,
    now: datetime,
    reason: str | None = None,
    satisfaction: int | None = None,
    comment: str | None = None,
    via_dispatch: bool = False,
    if_version: Collection[int] | None = None,
) -> Ticket:
    """Move a ticket to `target` if the lifecycle allows it; record the event time and log.

    `if_version`: the versions the caller read (HTTP `If-Match`); another is `VersionMismatch`.
    """
    ticket = get_ticket(session, ticket_id, lock=True)
    check_version(ticket, if_version)
    current = ticket.status
    allowed = allowed_next(current, via_dispatch=via_dispatch)
    if target not in allowed:
        raise IllegalTransitionError(
            ticket.id, current.value, target.value, sorted(s.value for s in allowed)
        )
    if target is S.CANCELLED and not (reason and reason.strip()):
        raise InvalidTicketError("reason", "a cancellation needs a reason")
    if target is S.CALLBACK_DONE:
        if satisfaction is None or not 1 <= satisfaction <= 5:
            raise InvalidTicketError("satisfaction", "the callback needs a satisfaction of 1-5")
        ticket.satisfaction = satisfaction
        ticket.callback_comment = comment
    if target is S.CANCELLED:
        ticket.cancel_reason = reason
    if target is S.RESOLVED_REMOTELY and ticket.responded_at is None:
        ticket.responded_at = now  # solving it remotely answers the customer too
    event_field = _EVENT_FIELD.get(target)
    if event_field is not None and getattr(ticket, event_field) is None:
        setattr(ticket, event_field, now)
    ticket.status = target
    details: dict[str, Any] | None = (
        {"satisfaction": satisfaction, "comment": comment} if satisfaction else None
    )
    if target is S.FIXED:
        details = _on_fix(session, ticket, user=user, now=now)
    _follow_assignment(session, ticket, target, user=user, now=now, reason=reason)
    log_entry(
        session,
        ticket,
        user=user,
        at=now,
        kind=LogKind.TRANSITION,
        from_status=current,
        to_status=target,
        reason=reason,
        details=details,
    )
    _flush(session, ticket)
    return ticket


def _on_fix(session: Session, ticket: Ticket, *, user: User, now: datetime) -> dict[str, Any]:
    """A fix prices the work from the parts used, then records the swapped parts."""
    final = final_price(session, ticket, user=user, now=now)
    swaps = swap_parts_on_fix(session, ticket, user=user, now=now)
    return {
        "final_price": None if final is None else f"{final.total} {final.currency}",
        "swaps": swaps,
    }


# An assignment ends with the work, or is withdrawn (its holds released) when the ticket is
# cancelled or handed back to dispatch. A ticket without one may still hold parts shipped at
# intake (`dispatch.underway`): released when it needs no visit any more.
_ASSIGNMENT_DONE = frozenset({S.FIXED, S.RESOLVED_REMOTELY, S.CLOSED})
_ASSIGNMENT_WITHDRAWN = frozenset({S.CANCELLED, S.RESPONDED})
_NO_VISIT = frozenset({S.CANCELLED, S.RESOLVED_REMOTELY})


# The visit's own events, on its active assignment (the ticket's record the first ones).
_VISIT_EVENT: dict[S, str] = {S.EN_ROUTE: "departed_at", S.ON_SITE: "arrived_at"}


def _follow_assignment(
    session: Session, ticket: Ticket, target: S, *, user: User, now: datetime, reason: str | None
) -> None:
    visit_event = _VISIT_EVENT.get(target)
    if visit_event is not None:
        _stamp_visit(session, ticket, visit_event, now)
        return
    if target not in _ASSIGNMENT_DONE | _ASSIGNMENT_WITHDRAWN:
        return
    active = session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.status == AssignmentStatus.ACTIVE
        )
    ).one_or_none()
    if active is None and target not in _NO_VISIT:
        return
    if active is not None:
        active.closed_at = now
        if target in _ASSIGNMENT_DONE:
            active.status = AssignmentStatus.DONE
            return
        active.status = AssignmentStatus.WITHDRAWN
        active.close_reason = reason or f"ticket {target}"
        ticket.engineer_id = None
    if target in _NO_VISIT:
        _stop_shipments(session, ticket, target, user=user, now=now)
    # handed back to dispatch, the parts under way stay the ticket's for its next engineer
    keep = backing_holds(session, ticket.id) if target is S.RESPONDED else set()
    holds = select(Reservation.id).where(  # expired holds are the sweeper's
        Reservation.ticket_id == ticket.id,
        Reservation.status == ReservationStatus.RESERVED,
        Reservation.expires_at > now,
    )
    for hold_id in session.scalars(holds.order_by(Reservation.id)):
        if hold_id not in keep:
            release(session=session, reservation_id=hold_id, user_id=user.id, now=now,
                    reason=f"ticket {ticket.id} {target}")  # fmt: skip


def _stamp_visit(session: Session, ticket: Ticket, field: str, now: datetime) -> None:
    """The active assignment records its engineer's departure / arrival: the projections
    of the visit read these, not the ticket's first ones (a visit handed back and assigned
    again is another engineer's drive). A ticket without one (moved outside dispatch) has
    none to stamp."""
    active = session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.status == AssignmentStatus.ACTIVE
        )
    ).one_or_none()
    if active is not None and getattr(active, field) is None:
        setattr(active, field, now)


def _stop_shipments(
    session: Session, ticket: Ticket, target: S, *, user: User, now: datetime
) -> None:
    """No visit any more: its shipments still waiting are cancelled, on the ticket's log."""
    stopped = stop_shipments(session, ticket.id, who=Who(user.id, now),
                             reason=f"ticket {ticket.id} {target}")  # fmt: skip
    if not stopped.cancelled and not stopped.under_way:
        return
    log_entry(
        session, ticket, user=user, at=now, kind=LogKind.DECISION,
        reason=f"ticket {target}: {len(stopped.cancelled)} shipment(s) cancelled, their"
        f" holds released; {len(stopped.under_way)} already picked or on its way, left to arrive",
        details={"cancelled_shipment_ids": list(stopped.cancelled),
                 "shipments_under_way": list(stopped.under_way)},
    )  # fmt: skip


def change_severity(
    session: Session,
    *,
    ticket_id: int,
    severity: str,
    user: User,
    now: datetime,
    reason: str | None = None,
    if_version: Collection[int] | None = None,
) -> Ticket:
    """Change a ticket's severity and recompute every deadline from its `reported_at`.

    `if_version`: the versions the caller read (HTTP `If-Match`); another is `VersionMismatch`.

    An inspection keeps its window (`dispatch.inspections`): the severity only ranks it in
    a plan, and a fault's clocks would put it on the at-risk list within hours.
    """
    ticket = get_ticket(session, ticket_id, lock=True)
    check_version(ticket, if_version)
    policy = policy_of_site(session, ticket.site_id)
    level = severity_of(session, policy, severity)
    deadlines = compute_deadlines(
        ticket.reported_at, offsets_of(level), agreed_arrival=ticket.agreed_arrival_at
    )
    changes: dict[str, Any] = {}
    updates: dict[str, Any] = {"severity": level.code}
    if not _is_inspection(session, ticket):
        updates |= {
            "respond_by": deadlines.respond_by,
            "depart_by": deadlines.depart_by,
            "arrive_by": deadlines.arrive_by,
            "fix_by": deadlines.fix_by,
        }
    for name, new in updates.items():
        old = getattr(ticket, name)
        if old != new:
            changes[name] = [jsonable(old), jsonable(new)]
            setattr(ticket, name, new)
    if changes:
        log_entry(
            session, ticket, user=user, at=now, kind=LogKind.CHANGE, reason=reason, details=changes
        )
        _flush(session, ticket)
    return ticket


def check_version(ticket: Ticket, if_version: Collection[int] | None) -> None:
    """Refuse a change made for other versions of the ticket than the one it has.

    Called on the ticket as locked for the change (`get_ticket(lock=True)`: `FOR UPDATE` on
    PostgreSQL, the write lock on SQLite), so two writers that read one version cannot
    both pass: the second sees the first one's version. None: any version (no `If-Match`).
    """
    if if_version is not None and ticket.version not in if_version:
        raise VersionMismatch(ticket.id, sorted(if_version), ticket.version)


def _is_inspection(session: Session, ticket: Ticket) -> bool:
    kind = session.get(TicketType, ticket.ticket_type_id)
    return kind is not None and kind.fault_class == INSPECTION


def _flush(session: Session, ticket: Ticket) -> None:
    """Flush, turning a lost race on the ticket's version into a clear, retryable error."""
    ticket_id = ticket.id  # the failed flush expires the object
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleTicketError(ticket_id, _committed_version(session, ticket_id)) from exc


def _committed_version(session: Session, ticket_id: int) -> int | None:
    """The ticket's committed version, read on a connection of its own: the session's
    transaction is spoiled by the failed flush."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with engine.connect() as conn:
        version: int | None = conn.scalar(select(Ticket.version).where(Ticket.id == ticket_id))
        return version
