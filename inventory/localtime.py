"""Which time zone a person reads times in: storage is UTC, people read local time.

The zone comes, in order, from an explicit choice (the CLI's `--tz`, the API's `tz`
parameter or `Time-Zone` header), the configured default (`SPARES_TIMEZONE`), the one
zone every region of the world shares (Asia/Shanghai for the demo), else UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.errors import FieldError, ValidationFailed
from inventory.models import Region


def zone_named(name: str, *, field: str = "tz") -> tzinfo:
    """The IANA zone called `name` ("UTC" included); a 422-style error names the field."""
    try:
        return UTC if name.upper() == "UTC" else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        reason = f"{name!r} is not an IANA time zone, e.g. Asia/Shanghai or UTC"
        raise ValidationFailed([FieldError(field, reason)]) from exc


def shared_region_zone(session: Session) -> tzinfo | None:
    """The zone all regions share; None without regions or when they span several zones."""
    names = list(session.scalars(select(Region.timezone).distinct().limit(2)))
    if len(names) != 1:
        return None
    try:
        return zone_named(names[0])
    except ValidationFailed:  # a stored zone this machine's tz database does not know
        return None


def region_zone(session: Session, region_id: int) -> tzinfo:
    """The zone of a region's clocks (UTC for a zone this machine does not know)."""
    name = session.scalars(select(Region.timezone).where(Region.id == region_id)).one()
    try:
        return zone_named(name)
    except ValidationFailed:
        return UTC


def display_zone(session: Session | None, *, chosen: str | None, configured: str | None) -> tzinfo:
    """The zone to show times in: chosen, else configured, else the regions' zone, else UTC."""
    if chosen:
        return zone_named(chosen)
    if configured:
        return zone_named(configured, field="timezone")
    shared = shared_region_zone(session) if session is not None else None
    return shared if shared is not None else UTC


def zone_label(zone: tzinfo) -> str:
    """The name a person recognises: the IANA key (Asia/Shanghai), else UTC or the offset."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    return "UTC" if zone is UTC else str(zone)


def local(moment: datetime, zone: tzinfo) -> datetime:
    """The same instant on the clocks of `zone`."""
    return moment.astimezone(zone)
