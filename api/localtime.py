"""Local time on the wire: each request's display zone, stated in a `Time-Zone` header.

Storage stays UTC. A v1 request reads its zone from the `tz` query parameter, else the
`Time-Zone` request header, else `Settings.timezone`, else the zone every region shares
(Asia/Shanghai in the demo), else UTC; `api.schemas.common.Timestamp` then writes every
timestamp with that zone's offset, and the response names the zone it used.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session, sessionmaker

from api.schemas.common import DISPLAY_ZONE
from inventory.errors import ValidationFailed
from inventory.localtime import shared_region_zone, zone_label, zone_named

ZONE_HEADER = "Time-Zone"
# Regions rarely change zone; a minute bounds how long an admin's change goes unseen.
_SHARED_TTL_S = 60.0


@dataclass
class SharedZoneCache:
    """The regions' shared zone, looked up at most once a minute (None: not looked up yet)."""

    zone: tzinfo | None = None
    looked_up_at: float | None = None

    def clear(self) -> None:
        self.zone, self.looked_up_at = None, None


def _lookup(factory: sessionmaker[Session]) -> tzinfo | None:
    with factory() as session:
        return shared_region_zone(session)


async def _shared_zone(request: Request) -> tzinfo | None:
    state = request.app.state
    cache: SharedZoneCache = state.shared_zone
    now = time.monotonic()
    if cache.looked_up_at is None or now - cache.looked_up_at > _SHARED_TTL_S:
        cache.zone = await asyncio.to_thread(_lookup, state.sessionmaker)
        cache.looked_up_at = now
    return cache.zone


async def use_display_zone(
    request: Request,
    response: Response,
    tz: Annotated[
        str | None,
        Query(max_length=64, description="show times in this IANA zone (e.g. Asia/Shanghai, UTC)"),
    ] = None,
    time_zone: Annotated[str | None, Header(alias=ZONE_HEADER, max_length=64)] = None,
) -> tzinfo:
    """Set the zone this request's timestamps are written in; name it in `Time-Zone`."""
    chosen = tz or time_zone or request.app.state.settings.timezone
    try:
        zone = zone_named(chosen) if chosen else (await _shared_zone(request)) or UTC
    except ValidationFailed as exc:
        where = ("query", "tz") if tz else ("header", ZONE_HEADER)
        raise RequestValidationError(
            [{"type": "value_error", "loc": where, "msg": exc.errors[0].reason, "input": chosen}]
        ) from exc
    DISPLAY_ZONE.set(zone)
    response.headers[ZONE_HEADER] = zone_label(zone)
    return zone


DisplayZoneDep = Annotated[tzinfo, Depends(use_display_zone)]
