"""Quotes and final prices: facts from the database, rules from `inventory.pricing`.

A quote prices a repair before the work (a ticket's expected parts, or an asset with a list
of parts and a cause); the final price of a fixed ticket is computed by the same function
from the parts actually used. Both are stored with their lines and the rule behind each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import User
from dispatch.errors import InvalidTicketError, NotFoundError
from dispatch.models import Ticket, TicketPart, TicketPartUsed, TicketType
from dispatch.warranty_service import asset_facts, local_date, part_facts, policy_of_asset
from inventory.models import Asset, InstalledPart, Part, PartSubstitute, Quote, QuoteKind
from inventory.pricing import PartToPrice, Rates, price_repair
from inventory.pricing import Quote as PricedQuote
from inventory.warranty import Cause, Coverage, asset_coverage, part_coverage


@dataclass(frozen=True, slots=True)
class QuotePart:
    part_id: int
    quantity: int = 1
    replaces_part_id: int | None = None  # set when a substitute of similar function is fitted


def quote_repair(
    session: Session,
    *,
    user: User | None,
    now: datetime,
    ticket_id: int | None = None,
    asset_id: int | None = None,
    parts: Sequence[QuotePart] | None = None,
    cause: Cause = Cause.NORMAL_FAULT,
    on: date | None = None,
    labour_hours: Decimal | None = None,
    travel_km: Decimal | None = None,
    kind: QuoteKind = QuoteKind.QUOTE,
) -> Quote:
    """Price a repair for a ticket (its expected parts by default) or an asset; store it."""
    ticket = _ticket(session, ticket_id)
    asset = _asset(session, ticket, asset_id)
    if parts is None:
        parts = _expected_parts(session, ticket) if ticket is not None else []
    if labour_hours is None:
        labour_hours = _standard_hours(session, ticket)
    policy = policy_of_asset(session, asset)
    day = on if on is not None else local_date(now, policy.timezone)
    facts = asset_facts(asset)
    years = policy.warranty_years
    priced = price_repair(
        asset=asset_coverage(facts, on=day, years=years),
        parts=[_to_price(session, asset, p, day, years) for p in parts],
        cause=cause,
        rates=Rates(
            policy.currency,
            policy.labour_rate_per_hour,
            policy.travel_rate_per_km,
            policy.service_fee,
        ),
        labour_hours=labour_hours,
        travel_km=travel_km or Decimal(0),
    )
    row = Quote(
        ticket_id=ticket.id if ticket else None,
        asset_id=asset.id,
        kind=kind,
        cause=cause.value,
        on_date=day,
        currency=priced.total.currency,
        total=priced.total.amount,
        warranty_job=priced.warranty_job,
        lines=_lines(priced),
        created_at=now,
        created_by_id=user.id if user else None,
    )
    session.add(row)
    session.flush()
    return row


def _ticket(session: Session, ticket_id: int | None) -> Ticket | None:
    if ticket_id is None:
        return None
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFoundError("ticket", ticket_id)
    return ticket


def _asset(session: Session, ticket: Ticket | None, asset_id: int | None) -> Asset:
    if ticket is not None and asset_id is not None and ticket.asset_id != asset_id:
        raise InvalidTicketError("asset_id", f"ticket {ticket.id} is about another asset")
    wanted = asset_id if asset_id is not None else (ticket.asset_id if ticket else None)
    if wanted is None:
        raise InvalidTicketError("asset_id", "name an asset, or a ticket about an asset")
    asset = session.get(Asset, wanted)
    if asset is None:
        raise NotFoundError("asset", wanted)
    return asset


def _expected_parts(session: Session, ticket: Ticket) -> list[QuotePart]:
    stmt = select(TicketPart).where(TicketPart.ticket_id == ticket.id).order_by(TicketPart.part_id)
    return [QuotePart(tp.part_id, tp.quantity) for tp in session.scalars(stmt)]


def _standard_hours(session: Session, ticket: Ticket | None) -> Decimal:
    """Labour defaults to the ticket type's standard service duration."""
    if ticket is None:
        return Decimal(0)
    ticket_type = session.get(TicketType, ticket.ticket_type_id)
    assert ticket_type is not None  # foreign key
    return (Decimal(ticket_type.service_min) / 60).quantize(Decimal("0.01"))


def _to_price(session: Session, asset: Asset, qp: QuotePart, day: date, years: int) -> PartToPrice:
    if qp.quantity < 1:
        raise InvalidTicketError("parts", f"quantity {qp.quantity} must be at least 1")
    part = session.get(Part, qp.part_id)
    if part is None:
        raise InvalidTicketError("parts", f"part {qp.part_id} does not exist")
    replaced = None
    if qp.replaces_part_id is not None:
        replaced = session.get(Part, qp.replaces_part_id)
        if replaced is None or not _is_substitute(session, qp.replaces_part_id, part.id):
            raise InvalidTicketError(
                "parts", f"part {part.id} is not a substitute of part {qp.replaces_part_id}"
            )
    coverage = _coverage_of_replaced(session, asset, replaced or part, day, years)
    return PartToPrice(
        sku=part.sku,
        quantity=qp.quantity,
        cost_price=part.cost_price,
        coverage=coverage,
        replaces_sku=replaced.sku if replaced else None,
        replaces_cost_price=replaced.cost_price if replaced else None,
    )


def _coverage_of_replaced(
    session: Session, asset: Asset, part: Part, day: date, years: int
) -> Coverage:
    """The coverage of the installed unit being replaced; the asset's when none is recorded."""
    installed = session.scalars(
        select(InstalledPart)
        .where(
            InstalledPart.asset_id == asset.id,
            InstalledPart.part_id == part.id,
            InstalledPart.installed_on <= day,
            (InstalledPart.removed_on.is_(None)) | (InstalledPart.removed_on > day),
        )
        .order_by(InstalledPart.id)
        .limit(1)
    ).first()
    facts = asset_facts(asset)
    if installed is None:
        return asset_coverage(facts, on=day, years=years)
    return part_coverage(facts, part_facts(installed, part), on=day, years=years)


def _is_substitute(session: Session, part_id: int, substitute_id: int) -> bool:
    stmt = select(PartSubstitute).where(
        PartSubstitute.part_id == part_id, PartSubstitute.substitute_id == substitute_id
    )
    return session.scalars(stmt).first() is not None


def _lines(priced: PricedQuote) -> list[dict[str, Any]]:
    return [
        {
            "kind": line.kind.value,
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_amount": str(line.unit_amount.amount),
            "amount": str(line.amount.amount),
            "rule": line.rule.value,
            "reason": line.reason,
        }
        for line in priced.lines
    ]


def final_price(session: Session, ticket: Ticket, *, user: User, now: datetime) -> Quote | None:
    """Price a fixed ticket from the parts used, by its quote's cause (else a normal fault)."""
    if ticket.asset_id is None:
        return None
    last = session.scalars(
        select(Quote.cause)
        .where(Quote.ticket_id == ticket.id, Quote.kind == QuoteKind.QUOTE)
        .order_by(Quote.id.desc())
        .limit(1)
    ).first()
    expected = {p.part_id for p in _expected_parts(session, ticket)}
    used = []
    for row in session.scalars(
        select(TicketPartUsed)
        .where(TicketPartUsed.ticket_id == ticket.id)
        .order_by(TicketPartUsed.id)
    ):
        replaces = None
        if row.part_id not in expected:
            replaces = next(
                (p for p in sorted(expected) if _is_substitute(session, p, row.part_id)), None
            )
        used.append(QuotePart(row.part_id, row.quantity, replaces))
    return quote_repair(
        session,
        user=user,
        now=now,
        ticket_id=ticket.id,
        parts=used,
        cause=Cause(last) if last else Cause.NORMAL_FAULT,
        kind=QuoteKind.FINAL,
    )


def quotes_of_ticket(session: Session, ticket_id: int) -> list[Quote]:
    """A ticket's quotes and final price, oldest first."""
    _ticket(session, ticket_id)
    stmt = select(Quote).where(Quote.ticket_id == ticket_id).order_by(Quote.id)
    return list(session.scalars(stmt))
