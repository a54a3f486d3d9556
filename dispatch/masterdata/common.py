"""The inventory validation blocks, raising dispatch's own errors."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dispatch.errors import (
    DuplicateError,
    IntegrityConflictError,
    NotFoundError,
    ValidationFailed,
)
from dispatch.models import Contract, Engineer, Site, Ticket
from inventory import checks
from inventory.checks import FieldErrors, check_currency, check_money, reference

__all__ = [
    "check_coordinates",
    "check_currency",
    "check_money",
    "check_unique",
    "engineer_row",
    "field_errors",
    "flush_or_conflict",
    "reference",
    "severity_codes_in_use",
    "sorted_codes",
]


def engineer_row(session: Session, engineer_id: int) -> Engineer:
    """The engineer, or `NotFoundError`."""
    engineer = session.get(Engineer, engineer_id)
    if engineer is None:
        raise NotFoundError("Engineer", engineer_id)
    return engineer


def field_errors() -> FieldErrors:
    """A collector that raises `dispatch.errors.ValidationFailed`."""
    return FieldErrors(raise_as=ValidationFailed)


check_unique = partial(checks.check_unique, raise_as=DuplicateError)
flush_or_conflict = partial(
    checks.flush_or_conflict, raise_as=IntegrityConflictError, duplicate_as=DuplicateError
)


def check_coordinates(errors: FieldErrors, lat_field: str, lat: float, lon: float) -> None:
    """Degrees in range; the longitude field is named like the latitude's (lat -> lon)."""
    if not -90 <= lat <= 90:
        errors.add(lat_field, "must be between -90 and 90")
    if not -180 <= lon <= 180:
        errors.add(lat_field.replace("lat", "lon"), "must be between -180 and 180")


def severity_codes_in_use(
    session: Session, *, column: InstrumentedAttribute[int], key: int
) -> set[str]:
    """The severity codes of tickets at sites where `column == key` (site, contract or policy).

    Tickets keep their severity as a code of their contract's policy; a change that
    makes a used code unknown would leave those tickets without deadlines.
    """
    stmt = (
        select(Ticket.severity)
        .join(Site, Site.id == Ticket.site_id)
        .join(Contract, Contract.id == Site.contract_id)
        .where(column == key)
        .distinct()
    )
    return set(session.scalars(stmt))


def sorted_codes(codes: Sequence[str] | set[str]) -> str:
    return ", ".join(sorted(codes))
