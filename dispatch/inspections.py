"""Preventive inspections: the month's inspection tickets of contracts that include them.

A contract whose policy says ``monthly`` inspects each of its sites every month; a
``quarterly`` one in January, April, July and October (`optimizer.InspectionSite.due_in`
with the cycle starting in January). For each such site and each product line installed
there (its assets), one ticket of the line's inspection type (fault class "inspection")
is opened:

- severity: the policy's lowest level (the highest rank number), so that a full day drops
  inspections first; but none of that level's clocks: preventive work has no respond or
  depart clock (nobody called), only its window;
- window: it may start at ``max(now, period start)`` (the agreed arrival, the solver's
  ``not_before``) and should start within the policy's ``inspection_window_days`` of it
  (policy data, 7 days by default; `optimizer.InspectionPolicy.window_s` in the solver):
  ``arrive_by`` is the window's end and ``fix_by`` that plus the standard service time.

Generating is idempotent per site, line and period: a ticket of the inspection type whose
agreed arrival falls in the period exists already (whatever its status; a cancelled one
was cancelled on purpose) means nothing is created. A plan that drops an inspection leaves
it an open ticket, so the next plan picks it up again: that is the carry-over, and an
inspection is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.errors import InvalidTicketError
from dispatch.intake import SkillNeed, TicketIntake, create_ticket
from dispatch.models import (
    Channel,
    Contract,
    InspectionFrequency,
    PolicySeverity,
    PromisePolicy,
    Site,
    Ticket,
    TicketType,
)
from inventory.models import Asset, ProductModel

INSPECTION = "inspection"  # the fault class of inspection ticket types


@dataclass(frozen=True, slots=True)
class Generated:
    """What one run created, and the (site, line) pairs it found done already."""

    created: tuple[int, ...]  # ticket ids
    existing: tuple[tuple[int, int], ...]  # (site id, product line id)


def period_of(month: date, frequency: InspectionFrequency) -> tuple[datetime, datetime] | None:
    """The inspection period starting in ``month`` (UTC), or None when none is due then."""
    due = opt.InspectionSite(0, opt.Location(0.0, 0.0), opt.Frequency(frequency.value))
    if not due.due_in(month.month):
        return None
    span = 1 if frequency is InspectionFrequency.MONTHLY else 3
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    months = month.year * 12 + month.month - 1 + span
    return start, datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)


def window_of(policy: PromisePolicy) -> opt.InspectionPolicy:
    """The solver's inspection policy from the contract's (its window width in seconds)."""
    return opt.InspectionPolicy(window_s=policy.inspection_window_days * 86_400)


def generate_inspections(session: Session, *, month: date, user: User, now: datetime) -> Generated:
    """Open the inspection tickets due in ``month`` that do not exist yet; flush only.

    Each ticket's window is as wide as its contract's policy says (``inspection_window_days``).
    """
    if datetime(month.year, month.month, 1, tzinfo=UTC) > now + timedelta(days=31):
        raise InvalidTicketError("month", "inspections are generated at most a month ahead")
    created: list[int] = []
    existing: list[tuple[int, int]] = []
    for site, pol, frequency in _inspected_sites(session):
        period = period_of(month, frequency)
        if period is None or now >= period[1]:
            continue  # not due this month, or the period is over
        opens, level = max(now, period[0]), _lowest(session, pol)
        if level is None or not _contract_runs(session, site, min(now, opens)):
            continue  # no severity to open it at, or the contract does not run
        for line_id, asset_id in _lines_of(session, site.id):
            ticket_type = _inspection_type(session, line_id)
            if ticket_type is None:
                continue  # the catalogue has no inspection for this line
            if _exists(session, site.id, ticket_type.id, period):
                existing.append((site.id, line_id))
                continue
            ticket = _open(
                session, site, ticket_type, asset_id, level, opens,
                policy=window_of(pol), user=user, now=now, label=f"{frequency} {month:%Y-%m}",
            )  # fmt: skip
            created.append(ticket.id)
    return Generated(tuple(created), tuple(existing))


def _inspected_sites(session: Session) -> list[tuple[Site, PromisePolicy, InspectionFrequency]]:
    stmt = (
        select(Site, PromisePolicy)
        .join(Contract, Contract.id == Site.contract_id)
        .join(PromisePolicy, PromisePolicy.id == Contract.policy_id)
        .where(PromisePolicy.inspection_frequency != InspectionFrequency.NONE)
        .order_by(Site.id)
    )
    return [(s, p, p.inspection_frequency) for s, p in session.execute(stmt)]


def _contract_runs(session: Session, site: Site, at: datetime) -> bool:
    contract = session.get(Contract, site.contract_id)
    assert contract is not None  # foreign key
    day = at.date()
    return contract.starts_on <= day and (contract.ends_on is None or day < contract.ends_on)


def _lines_of(session: Session, site_id: int) -> list[tuple[int, int]]:
    """Each product line installed at the site, with its first asset (what is inspected)."""
    stmt = (
        select(ProductModel.product_line_id, func.min(Asset.id))
        .join(Asset, Asset.product_model_id == ProductModel.id)
        .where(Asset.site_id == site_id)
        .group_by(ProductModel.product_line_id)
        .order_by(ProductModel.product_line_id)
    )
    return [(line, asset) for line, asset in session.execute(stmt)]


def _inspection_type(session: Session, line_id: int) -> TicketType | None:
    stmt = select(TicketType).where(
        TicketType.product_line_id == line_id, TicketType.fault_class == INSPECTION
    )
    return session.scalars(stmt.order_by(TicketType.id)).first()


def _exists(
    session: Session, site_id: int, type_id: int, period: tuple[datetime, datetime]
) -> bool:
    stmt = select(Ticket.id).where(
        Ticket.site_id == site_id,
        Ticket.ticket_type_id == type_id,
        Ticket.agreed_arrival_at >= period[0],
        Ticket.agreed_arrival_at < period[1],
    )
    return session.scalars(stmt.limit(1)).first() is not None


def _lowest(session: Session, policy: PromisePolicy) -> PolicySeverity | None:
    """The policy's least urgent level (rank 1 is the most urgent); None if it has none."""
    stmt = select(PolicySeverity).where(PolicySeverity.policy_id == policy.id)
    return session.scalars(stmt.order_by(PolicySeverity.rank.desc())).first()


def _open(
    session: Session, site: Site, ticket_type: TicketType, asset_id: int,
    level: PolicySeverity, opens: datetime, *, policy: opt.InspectionPolicy, user: User,
    now: datetime, label: str,
) -> Ticket:  # fmt: skip
    intake = TicketIntake(
        site_id=site.id, ticket_type_id=ticket_type.id, severity=level.code,
        channel=Channel.WEB, description=f"Preventive inspection ({label})",
        asset_id=asset_id, reported_at=min(now, opens), agreed_arrival_at=opens,
        skills=[SkillNeed(ticket_type.product_line_id, ticket_type.required_level)],
    )  # fmt: skip
    ticket = create_ticket(session, intake, user=user, now=now)
    # The window, not the severity's clocks: start within window_s of the agreed arrival.
    # Nobody called, so there is nobody to answer in 2 h and no departure to make at once:
    # a fault's respond and depart clocks would put every inspection on the at-risk list.
    ticket.respond_by = ticket.depart_by = None
    ticket.arrive_by = opens + timedelta(seconds=policy.window_s)
    ticket.fix_by = ticket.arrive_by + timedelta(minutes=ticket_type.service_min)
    session.flush()
    return ticket
