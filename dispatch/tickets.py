"""Ticket intake and the lifecycle: the only place a ticket's status changes.

Every change writes a service-log line with user, time and reason. Functions take the
session keyword-only and only flush: the caller's transaction commits or rolls back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db import User
from dispatch.errors import (
    IllegalTransitionError,
    InvalidTicketError,
    NotFoundError,
    StaleTicketError,
)
from dispatch.lifecycle import allowed_next
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Channel,
    Contract,
    LogKind,
    PolicySeverity,
    PromisePolicy,
    ServiceLogEntry,
    Site,
    Ticket,
    TicketPart,
    TicketSkill,
    TicketType,
)
from dispatch.models import TicketStatus as S
from dispatch.promises import SeverityOffsets, compute_deadlines
from dispatch.quotes import final_price
from dispatch.warranty_service import swap_parts_on_fix
from inventory.models import Asset, Part, ProductLine, Reservation, ReservationStatus
from inventory.reservations import release

# How far in the future a reported time may lie (clock skew of the reporting system).
REPORTED_AT_TOLERANCE = timedelta(minutes=5)

# The event time each status records (the clocks read them).
_EVENT_FIELD: dict[S, str] = {
    S.RESPONDED: "responded_at",
    S.EN_ROUTE: "departed_at",
    S.ON_SITE: "arrived_at",
    S.FIXED: "fixed_at",
    S.RESOLVED_REMOTELY: "fixed_at",
    S.CLOSED: "closed_at",
}


@dataclass(frozen=True, slots=True)
class SkillNeed:
    product_line_id: int
    min_level: int = 1


@dataclass(frozen=True, slots=True)
class PartNeed:
    part_id: int
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class TicketIntake:
    """What a dispatcher (or remote monitoring) reports; skills default from the ticket type."""

    site_id: int
    ticket_type_id: int
    severity: str
    channel: Channel
    description: str = ""
    asset_id: int | None = None
    reported_at: datetime | None = None
    agreed_arrival_at: datetime | None = None
    skills: Sequence[SkillNeed] | None = None
    parts: Sequence[PartNeed] = field(default_factory=tuple)


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """Load a ticket or raise NotFoundError."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFoundError("ticket", ticket_id)
    return ticket


def policy_of_site(session: Session, site_id: int) -> PromisePolicy:
    """The promise policy of a site's contract."""
    stmt = (
        select(PromisePolicy)
        .join(Contract, Contract.policy_id == PromisePolicy.id)
        .join(Site, Site.contract_id == Contract.id)
        .where(Site.id == site_id)
    )
    policy = session.scalars(stmt).one_or_none()
    if policy is None:
        raise NotFoundError("site", site_id)
    return policy


def severity_of(session: Session, policy: PromisePolicy, code: str) -> PolicySeverity:
    """The policy's level for `code`, or a field error listing the codes it has."""
    levels = list(
        session.scalars(
            select(PolicySeverity)
            .where(PolicySeverity.policy_id == policy.id)
            .order_by(PolicySeverity.rank)
        )
    )
    for level in levels:
        if level.code == code:
            return level
    codes = ", ".join(level.code for level in levels)
    raise InvalidTicketError(
        "severity", f"{code!r} is not a level of policy {policy.code} (one of: {codes})"
    )


def offsets_of(level: PolicySeverity) -> SeverityOffsets:
    """The pure clock offsets of a stored severity level."""
    return SeverityOffsets(
        respond_min=level.respond_min,
        depart_min=level.depart_min,
        arrive_min=level.arrive_min,
        fix_min=level.fix_min,
    )


def create_ticket(session: Session, intake: TicketIntake, *, user: User, now: datetime) -> Ticket:
    """Take a ticket in: validate it, start its clocks from `reported_at`, log it."""
    reported_at = intake.reported_at or now
    if reported_at > now + REPORTED_AT_TOLERANCE:
        raise InvalidTicketError("reported_at", f"{reported_at.isoformat()} is in the future")
    site = session.get(Site, intake.site_id)
    if site is None:
        raise InvalidTicketError("site_id", f"site {intake.site_id} does not exist")
    ticket_type = session.get(TicketType, intake.ticket_type_id)
    if ticket_type is None:
        raise InvalidTicketError(
            "ticket_type_id", f"ticket type {intake.ticket_type_id} does not exist"
        )
    _check_asset(session, intake.asset_id, site.id)
    _check_contract_runs(session, site, reported_at)
    policy = policy_of_site(session, site.id)
    level = severity_of(session, policy, intake.severity)
    deadlines = compute_deadlines(
        reported_at, offsets_of(level), agreed_arrival=intake.agreed_arrival_at
    )
    ticket = Ticket(
        code=f"T-{uuid.uuid4().hex[:10].upper()}",
        site_id=site.id,
        asset_id=intake.asset_id,
        ticket_type_id=ticket_type.id,
        severity=level.code,
        channel=intake.channel,
        status=S.NEW,
        description=intake.description,
        reported_at=reported_at,
        agreed_arrival_at=intake.agreed_arrival_at,
        respond_by=deadlines.respond_by,
        depart_by=deadlines.depart_by,
        arrive_by=deadlines.arrive_by,
        fix_by=deadlines.fix_by,
        created_by_id=user.id,
    )
    session.add(ticket)
    session.flush()
    skills = intake.skills
    if skills is None:
        skills = [SkillNeed(ticket_type.product_line_id, ticket_type.required_level)]
    _add_needs(session, ticket, skills, intake.parts)
    log_entry(session, ticket, user=user, at=now, kind=LogKind.CREATED, to_status=S.NEW)
    return ticket


def _check_asset(session: Session, asset_id: int | None, site_id: int) -> None:
    if asset_id is None:
        return
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise InvalidTicketError("asset_id", f"asset {asset_id} does not exist")
    if asset.site_id != site_id:
        raise InvalidTicketError(
            "asset_id", f"asset {asset_id} is installed at site {asset.site_id}, not {site_id}"
        )


def _check_contract_runs(session: Session, site: Site, reported_at: datetime) -> None:
    contract = session.get(Contract, site.contract_id)
    if contract is None:  # pragma: no cover - the foreign key forbids it
        raise NotFoundError("contract", site.contract_id)
    day = reported_at.date()
    if day < contract.starts_on or (contract.ends_on is not None and day >= contract.ends_on):
        raise InvalidTicketError(
            "site_id",
            f"contract {contract.code} of site {site.code} does not run on {day.isoformat()}"
            f" ({contract.starts_on.isoformat()} to {contract.ends_on or 'open end'})",
        )


def _add_needs(
    session: Session, ticket: Ticket, skills: Sequence[SkillNeed], parts: Sequence[PartNeed]
) -> None:
    seen_lines: set[int] = set()
    for skill in skills:
        if session.get(ProductLine, skill.product_line_id) is None:
            raise InvalidTicketError(
                "skills", f"product line {skill.product_line_id} does not exist"
            )
        if skill.product_line_id in seen_lines:
            raise InvalidTicketError("skills", f"product line {skill.product_line_id} twice")
        if not 1 <= skill.min_level <= 3:
            raise InvalidTicketError("skills", f"min_level {skill.min_level} is not in 1..3")
        seen_lines.add(skill.product_line_id)
        session.add(TicketSkill(ticket_id=ticket.id, **_fields(skill)))
    seen_parts: set[int] = set()
    for part in parts:
        if session.get(Part, part.part_id) is None:
            raise InvalidTicketError("parts", f"part {part.part_id} does not exist")
        if part.part_id in seen_parts:
            raise InvalidTicketError("parts", f"part {part.part_id} twice; sum the quantities")
        if part.quantity < 1:
            raise InvalidTicketError("parts", f"quantity {part.quantity} must be at least 1")
        seen_parts.add(part.part_id)
        session.add(TicketPart(ticket_id=ticket.id, **_fields(part)))
    session.flush()


def _fields(need: SkillNeed | PartNeed) -> dict[str, Any]:
    return {name: getattr(need, name) for name in need.__slots__}


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
) -> Ticket:
    """Move a ticket to `target` if the lifecycle allows it; record the event time and log."""
    ticket = get_ticket(session, ticket_id)
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
# cancelled or handed back to dispatch.
_ASSIGNMENT_DONE = frozenset({S.FIXED, S.RESOLVED_REMOTELY, S.CLOSED})
_ASSIGNMENT_WITHDRAWN = frozenset({S.CANCELLED, S.RESPONDED})


def _follow_assignment(
    session: Session, ticket: Ticket, target: S, *, user: User, now: datetime, reason: str | None
) -> None:
    if target not in _ASSIGNMENT_DONE | _ASSIGNMENT_WITHDRAWN:
        return
    active = session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.status == AssignmentStatus.ACTIVE
        )
    ).one_or_none()
    if active is None:
        return
    active.closed_at = now
    if target in _ASSIGNMENT_DONE:
        active.status = AssignmentStatus.DONE
        return
    active.status = AssignmentStatus.WITHDRAWN
    active.close_reason = reason or f"ticket {target}"
    ticket.engineer_id = None
    holds = select(Reservation.id).where(  # expired holds are the sweeper's
        Reservation.ticket_id == ticket.id,
        Reservation.status == ReservationStatus.RESERVED,
        Reservation.expires_at > now,
    )
    for hold_id in session.scalars(holds.order_by(Reservation.id)):
        release(session=session, reservation_id=hold_id, user_id=user.id, now=now,
                reason=f"ticket {ticket.id} {target}")  # fmt: skip


def change_severity(
    session: Session,
    *,
    ticket_id: int,
    severity: str,
    user: User,
    now: datetime,
    reason: str | None = None,
) -> Ticket:
    """Change a ticket's severity and recompute every deadline from its `reported_at`."""
    ticket = get_ticket(session, ticket_id)
    policy = policy_of_site(session, ticket.site_id)
    level = severity_of(session, policy, severity)
    deadlines = compute_deadlines(
        ticket.reported_at, offsets_of(level), agreed_arrival=ticket.agreed_arrival_at
    )
    changes: dict[str, Any] = {}
    updates = {
        "severity": level.code,
        "respond_by": deadlines.respond_by,
        "depart_by": deadlines.depart_by,
        "arrive_by": deadlines.arrive_by,
        "fix_by": deadlines.fix_by,
    }
    for name, new in updates.items():
        old = getattr(ticket, name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(ticket, name, new)
    if changes:
        log_entry(
            session, ticket, user=user, at=now, kind=LogKind.CHANGE, reason=reason, details=changes
        )
        _flush(session, ticket)
    return ticket


def _flush(session: Session, ticket: Ticket) -> None:
    """Flush, turning a lost race on the ticket's version into a clear, retryable error."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise StaleTicketError(ticket.id) from exc


def _jsonable(value: object) -> object:
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
    get_ticket(session, ticket_id)
    stmt = (
        select(ServiceLogEntry)
        .where(ServiceLogEntry.ticket_id == ticket_id)
        .order_by(ServiceLogEntry.at, ServiceLogEntry.id)
    )
    return list(session.scalars(stmt))
