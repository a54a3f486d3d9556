"""Warranty over stored facts: an asset's coverage and its parts', and swaps on a fix.

The rules are inventory's pure functions (`inventory.warranty`); this module reads the facts
they need (the asset, its installed parts, the contract's warranty years and time zone) and
records what a repair changes: a part fitted on a fixed ticket becomes a new installed part
(a key part with its own warranty from the fix date), the part it replaces is removed, and
the faulty unit goes to a returns bin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import User
from dispatch.errors import InvalidTicketError, NotFoundError
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Contract,
    Engineer,
    PromisePolicy,
    Site,
    Ticket,
    TicketPartUsed,
)
from inventory.models import Asset, InstalledPart, Part, PartSubstitute
from inventory.stock import Who, return_faulty
from inventory.warranty import (
    AssetFacts,
    Coverage,
    PartFacts,
    asset_coverage,
    doa_replacement_warranty_start,
    part_coverage,
    swapped_part_warranty_start,
)


@dataclass(frozen=True, slots=True)
class PartWarranty:
    installed: InstalledPart
    part: Part
    coverage: Coverage


@dataclass(frozen=True, slots=True)
class AssetWarranty:
    """Coverage of an asset and of each part installed in it on one date."""

    asset: Asset
    on: date
    years: int
    timezone: str
    coverage: Coverage
    parts: list[PartWarranty]


def policy_of_asset(session: Session, asset: Asset) -> PromisePolicy:
    """The promise policy of the contract of the asset's site (warranty years, time zone)."""
    stmt = (
        select(PromisePolicy)
        .join(Contract, Contract.policy_id == PromisePolicy.id)
        .join(Site, Site.contract_id == Contract.id)
        .where(Site.id == asset.site_id)
    )
    return session.scalars(stmt).one()


def local_date(at: datetime, timezone: str) -> date:
    """The calendar date of an instant in the contract's time zone (warranty dates are local)."""
    return at.astimezone(ZoneInfo(timezone)).date()


def asset_facts(asset: Asset) -> AssetFacts:
    return AssetFacts(asset.installed_on, asset.accepted_on, asset.has_warranty_record)


def part_facts(installed: InstalledPart, part: Part) -> PartFacts:
    return PartFacts(installed.installed_on, part.key_part, installed.warranty_starts_on)


def warranty_of_asset(
    session: Session, *, asset_id: int, on: date | None, now: datetime
) -> AssetWarranty:
    """Coverage on `on` (default: today in the contract's time zone) and which rule decided."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFoundError("asset", asset_id)
    policy = policy_of_asset(session, asset)
    day = on if on is not None else local_date(now, policy.timezone)
    years = policy.warranty_years
    facts = asset_facts(asset)
    stmt = (
        select(InstalledPart, Part)
        .join(Part, Part.id == InstalledPart.part_id)
        .where(
            InstalledPart.asset_id == asset.id,
            InstalledPart.installed_on <= day,
            (InstalledPart.removed_on.is_(None)) | (InstalledPart.removed_on > day),
        )
        .order_by(InstalledPart.id)
    )
    parts = [
        PartWarranty(ip, part, part_coverage(facts, part_facts(ip, part), on=day, years=years))
        for ip, part in session.execute(stmt)
    ]
    return AssetWarranty(
        asset, day, years, policy.timezone, asset_coverage(facts, on=day, years=years), parts
    )


def swap_parts_on_fix(
    session: Session, ticket: Ticket, *, user: User, now: datetime
) -> list[dict[str, Any]]:
    """Record the parts fitted on a fixed ticket in the asset's registry; returns what changed.

    Each part used becomes an installed part from the fix date (a key part with its own
    warranty from that date); the installed unit of the same SKU it replaces is removed and
    goes back as a faulty return to the engineer's van, or to the assignment's depot.
    """
    if ticket.asset_id is None:
        return []
    asset = session.get(Asset, ticket.asset_id)
    assert asset is not None  # foreign key
    fix_day = local_date(now, policy_of_asset(session, asset).timezone)
    swaps = []
    used = session.scalars(
        select(TicketPartUsed)
        .where(TicketPartUsed.ticket_id == ticket.id)
        .order_by(TicketPartUsed.id)
    )
    for use in used:
        part = session.get(Part, use.part_id)
        assert part is not None  # foreign key
        for _ in range(use.quantity):
            swaps.append(_swap_one(session, ticket, asset, part, use.serial, fix_day, user, now))
    session.flush()
    return swaps


def _swap_one(
    session: Session,
    ticket: Ticket,
    asset: Asset,
    part: Part,
    serial: str | None,
    fix_day: date,
    user: User,
    now: datetime,
) -> dict[str, Any]:
    old = session.scalars(
        select(InstalledPart)
        .where(
            InstalledPart.asset_id == asset.id,
            InstalledPart.part_id == part.id,
            InstalledPart.removed_on.is_(None),
        )
        .order_by(InstalledPart.id)
        .limit(1)
    ).first()
    returned_to = None
    if old is not None:
        old.removed_on = fix_day
        returned_to = _returns_depot(session, ticket)
        if returned_to is not None:
            return_faulty(
                session=session,
                depot_id=returned_to,
                part_id=part.id,
                quantity=1,
                who=Who(user.id, now),
                ticket_id=ticket.id,
                reason=f"faulty unit from asset {asset.serial}",
            )
    start = swapped_part_warranty_start(key_part=part.key_part, fixed_on=fix_day)
    new = InstalledPart(
        asset_id=asset.id,
        part_id=part.id,
        serial=serial,
        installed_on=fix_day,
        warranty_starts_on=start,
    )
    session.add(new)
    return {
        "part_id": part.id,
        "replaced_installed_part_id": old.id if old is not None else None,
        "warranty_starts_on": start.isoformat() if start else None,
        "faulty_returned_to_depot": returned_to,
    }


def _returns_depot(session: Session, ticket: Ticket) -> int | None:
    """Where the faulty unit goes: the engineer's van, else the assignment's pickup depot."""
    if ticket.engineer_id is not None:
        engineer = session.get(Engineer, ticket.engineer_id)
        if engineer is not None and engineer.van_depot_id is not None:
            return engineer.van_depot_id
    return session.scalars(
        select(Assignment.depot_id).where(
            Assignment.ticket_id == ticket.id,
            Assignment.status.in_([AssignmentStatus.ACTIVE, AssignmentStatus.DONE]),
        )
    ).first()


def swap_dead_on_arrival(
    session: Session,
    *,
    asset_id: int,
    installed_part_id: int,
    replacement_part_id: int,
    serial: str | None,
    user: User,
    now: datetime,
) -> InstalledPart:
    """Replace a unit found faulty on unpacking: same model or equal function, same coverage."""
    doa = session.get(InstalledPart, installed_part_id)
    if doa is None or doa.asset_id != asset_id:
        raise NotFoundError("installed part", installed_part_id)
    if doa.removed_on is not None:
        raise InvalidTicketError("installed_part_id", f"it was removed on {doa.removed_on}")
    if replacement_part_id != doa.part_id and not _equal_function(
        session, doa.part_id, replacement_part_id
    ):
        raise InvalidTicketError(
            "part_id", f"part {replacement_part_id} is neither part {doa.part_id} nor a substitute"
        )
    asset = session.get(Asset, doa.asset_id)
    assert asset is not None  # foreign key
    day = local_date(now, policy_of_asset(session, asset).timezone)
    old_part = session.get(Part, doa.part_id)
    assert old_part is not None  # foreign key
    doa.removed_on = day
    replacement = InstalledPart(
        asset_id=doa.asset_id,
        part_id=replacement_part_id,
        serial=serial,
        installed_on=day,
        warranty_starts_on=doa_replacement_warranty_start(part_facts(doa, old_part)),
    )
    session.add(replacement)
    session.flush()
    return replacement


def _equal_function(session: Session, part_id: int, other_id: int) -> bool:
    stmt = select(PartSubstitute).where(
        PartSubstitute.part_id == part_id, PartSubstitute.substitute_id == other_id
    )
    return session.scalars(stmt).first() is not None
