"""Times as a person reads them on the command line: in the region's zone, with the zone named.

The zone is `--tz`, else `SPARES_TIMEZONE`, else the zone every region shares (Asia/Shanghai
for the demo), else UTC; `inventory.localtime` decides, the API follows the same order.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def cli_zone(ctx_obj: Any, session: Session | None) -> tzinfo:
    """The zone of this command's output, looked up once per command (`ctx.obj.zone`)."""
    from inventory.localtime import display_zone

    zone: tzinfo | None = getattr(ctx_obj, "zone", None)
    if zone is None:
        zone = display_zone(session, chosen=ctx_obj.tz, configured=ctx_obj.settings.timezone)
        ctx_obj.zone = zone
    return zone


def label(zone: tzinfo) -> str:
    """The zone's name: Asia/Shanghai, UTC."""
    from inventory.localtime import zone_label

    return zone_label(zone)


def when(moment: datetime | str, zone: tzinfo) -> str:
    """Date, time and zone: '2026-12-02 10:53 Asia/Shanghai'."""
    at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M} {label(zone)}"


def clock(moment: datetime | str, zone: tzinfo) -> str:
    """Day and time for a table whose caption names the zone: '12-02 10:53'."""
    at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return f"{at.astimezone(zone):%m-%d %H:%M}"


def caption(zone: tzinfo) -> str:
    """The line under a table that says which clock its times are on."""
    return f"times in {label(zone)}"
