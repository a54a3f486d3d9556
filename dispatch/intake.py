"""Ticket intake: validate a report, start its promise clocks from `reported_at`, log it.

Functions take the session keyword-only and only flush: the caller's transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.errors import (
    InvalidTicketError,
    NotFoundError,
)
from dispatch.intake_parts import ship_at_intake
from dispatch.models import (
    Channel,
    Contract,
    LogKind,
    PolicySeverity,
    PromisePolicy,
    Site,
    Ticket,
    TicketPart,
    TicketSkill,
    TicketType,
)
from dispatch.models import TicketStatus as S
from dispatch.promises import SeverityOffsets, compute_deadlines
from dispatch.servicelog import log_entry
from inventory.models import Asset, Part, ProductLine, ProductModel

# How far in the future a reported time may lie (clock skew of the reporting system).
REPORTED_AT_TOLERANCE = timedelta(minutes=5)


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


def get_ticket(session: Session, ticket_id: int, *, lock: bool = False) -> Ticket:
    """Load a ticket or raise NotFoundError.

    With ``lock`` (whoever will change it) the row is read `FOR UPDATE` on PostgreSQL and
    refreshed: concurrent writers of one ticket queue up and each sees the last one's
    change, instead of all reading one version and all but one failing its version check.
    """
    ticket = session.get(Ticket, ticket_id, with_for_update=lock, populate_existing=lock)
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


CODE_DIGITS = 10


def ticket_code(number: int) -> str:
    """The one style of ticket codes, intake's and the demo world's: "T-" and 10 hex digits.

    Random, not a running count: two intakes at once never race for the next number.
    """
    return f"T-{number % 16**CODE_DIGITS:0{CODE_DIGITS}X}"


def create_ticket(
    session: Session,
    intake: TicketIntake,
    *,
    user: User,
    now: datetime,
    travel: opt.TravelTimes | None = None,
) -> Ticket:
    """Take a ticket in: validate it, start its clocks from `reported_at`, log it.

    With ``travel``, parts no stock in reach can swap within the promise are shipped now, in
    the same transaction (`dispatch.intake_parts.ship_at_intake`, the simulator's rule).
    """
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
    _check_product_line(session, intake.asset_id, ticket_type)
    _check_contract_runs(session, site, reported_at)
    policy = policy_of_site(session, site.id)
    level = severity_of(session, policy, intake.severity)
    deadlines = compute_deadlines(
        reported_at, offsets_of(level), agreed_arrival=intake.agreed_arrival_at
    )
    ticket = Ticket(
        code=ticket_code(uuid.uuid4().int),
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
    if travel is not None and intake.parts:
        ship_at_intake(session, ticket=ticket, policy=policy, user=user, now=now, travel=travel)
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


def _check_product_line(session: Session, asset_id: int | None, ticket_type: TicketType) -> None:
    """A ticket type is a fault of one product line: it must be the asset's line.

    Otherwise the ticket would ask for the skill of another line (a CCTV fault on a rack
    server) and dispatch would send someone who cannot fix the asset.
    """
    if asset_id is None:
        return
    stmt = (
        select(Asset.serial, ProductLine.id, ProductLine.code)
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .join(ProductLine, ProductLine.id == ProductModel.product_line_id)
        .where(Asset.id == asset_id)
    )
    serial, line_id, line_code = session.execute(stmt).one()
    if line_id == ticket_type.product_line_id:
        return
    type_line = session.get(ProductLine, ticket_type.product_line_id)
    type_code = type_line.code if type_line is not None else str(ticket_type.product_line_id)
    raise InvalidTicketError(
        "ticket_type_id",
        f"ticket type {ticket_type.code} is a fault of product line {type_code}, but asset"
        f" {asset_id} ({serial}) is of product line {line_code}: choose a {line_code} type",
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
