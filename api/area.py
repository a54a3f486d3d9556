"""The service area: coordinates a request sends must lie within the regions' box plus a margin.

A site, depot, engineer's home or reported position far outside every region is a typo (a
swapped lat/lon, a missing minus sign) that would send the solver on a 10,000 km trip. The
area is data, not a constant: the bounding box of the regions' centres, widened by
`Settings.service_area_margin_deg` on every side (None: no check). It is read at most once a
minute (`AREA_TTL_S`) and at once after a commit that changed a region through this app.
With no region stored there is no area yet, and nothing is refused.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from inventory.models import Region

AREA_TTL_S = 60.0
_REGIONS_CHANGED = "spares_regions_changed"


@dataclass(frozen=True, slots=True)
class Box:
    """Inclusive latitude and longitude ranges, in degrees."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def widened(self, margin: float) -> Box:
        """The box with `margin` degrees on every side, within the globe."""
        lat = max(-90.0, self.lat_min - margin), min(90.0, self.lat_max + margin)
        lon = max(-180.0, self.lon_min - margin), min(180.0, self.lon_max + margin)
        return Box(*lat, *lon)

    def bounds(self, axis: str) -> tuple[float, float]:
        """(low, high) of "lat" or "lon"."""
        return (self.lat_min, self.lat_max) if axis == "lat" else (self.lon_min, self.lon_max)


# The area this request's coordinates are validated against (api.schemas.common's Lat and
# Lon); set per request by `api.deps.refuse_bad_input`; None: no check (the CLI, no regions).
SERVICE_AREA: ContextVar[Box | None] = ContextVar("spares_service_area", default=None)


@dataclass
class AreaCache:
    """The regions' box, looked up at most once per `AREA_TTL_S` (None: not looked up yet)."""

    box: Box | None = None
    looked_up_at: float | None = None
    generation: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def clear(self) -> None:
        """Forget the box (a region changed)."""
        self.generation += 1
        self.box, self.looked_up_at = None, None

    async def get(self, factory: sessionmaker[Session]) -> Box | None:
        """The regions' box (no margin), from the cache or one query in a worker thread."""
        now = time.monotonic()
        if self.looked_up_at is not None and now - self.looked_up_at <= AREA_TTL_S:
            return self.box
        generation = self.generation
        box = await asyncio.to_thread(regions_box, factory)
        if generation == self.generation:  # no region changed while we read
            self.box, self.looked_up_at = box, now
        return box


def regions_box(factory: sessionmaker[Session]) -> Box | None:
    """The bounding box of the regions' centres; None when there is no region."""
    stmt = select(func.min(Region.lat), func.max(Region.lat), func.min(Region.lon),
                  func.max(Region.lon))  # fmt: skip
    with factory() as session:
        row = session.execute(stmt).one()
    if row[0] is None:
        return None
    return Box(float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def regions_changed(session: Session) -> None:
    """Mark `session`: its commit changes regions by statements the flush hook cannot see
    (a world import's Core inserts), so the area is looked up again after it."""
    session.info[_REGIONS_CHANGED] = True


def clear_on_region_changes(factory: sessionmaker[Session], cache: AreaCache) -> None:
    """Empty `cache` whenever a session of `factory` commits a change to a region."""

    def before_flush(session: Session, _context: object, _instances: object) -> None:
        changed = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(o, Region) for o in changed):
            session.info[_REGIONS_CHANGED] = True

    def after_commit(session: Session) -> None:
        if session.info.pop(_REGIONS_CHANGED, False):
            cache.clear()

    event.listen(factory, "before_flush", before_flush)
    event.listen(factory, "after_commit", after_commit)
