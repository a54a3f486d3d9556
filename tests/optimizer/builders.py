"""Plain builders of optimizer data for tests: sensible defaults, override what matters.

Places sit on a small grid near Shenzhen (`grid(x, y)`); `grid_travel` is a metric fake in
which one grid step (Manhattan) takes one minute and 1 km.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from optimizer import (
    Depot,
    DispatchWorld,
    Engineer,
    Location,
    MatrixTravelTimes,
    PartLine,
    Supplier,
    Ticket,
)

EPOCH = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shenzhen
HOUR = 3_600
DAY_SHIFT = ((0, 8 * HOUR),)
GRID = 12
STEP_S = 60


def grid(x: int, y: int) -> Location:
    """The grid point ``(x, y)``: 0.01 degree apart."""
    return Location(22.5 + 0.01 * y, 113.9 + 0.01 * x)


def grid_travel() -> MatrixTravelTimes:
    """A metric fake over every grid point: Manhattan steps of one minute and 1 km."""
    xy = np.array([(x, y) for x in range(GRID) for y in range(GRID)])
    points = np.array([(grid(x, y).lat, grid(x, y).lon) for x, y in xy])
    steps = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)
    return MatrixTravelTimes(points, steps * STEP_S, steps * 1_000)


def make_engineer(engineer_id: int = 1, at: tuple[int, int] = (0, 0), **kw: Any) -> Engineer:
    """An engineer with skill ``server`` level 2 on a day shift, unless overridden."""
    kw.setdefault("skills", {"server": 2})
    kw.setdefault("shifts", DAY_SHIFT)
    return Engineer(engineer_id, grid(*at), **kw)


def make_depot(depot_id: int = 1, at: tuple[int, int] = (5, 5), **kw: Any) -> Depot:
    """A 24x7 depot without stock, unless overridden."""
    kw.setdefault("stock", {})
    return Depot(depot_id, grid(*at), **kw)


def make_supplier(supplier_id: int = 1, **kw: Any) -> Supplier:
    """A supplier of nothing with a 1 h lead and 2 h transit, unless overridden."""
    kw.setdefault("parts", {})
    kw.setdefault("lead_s", HOUR)
    kw.setdefault("transit_s", 2 * HOUR)
    return Supplier(supplier_id, **kw)


def make_ticket(at: tuple[int, int] = (3, 3), **kw: Any) -> Ticket:
    """A server ticket (level 2, 1 h service) with 2 h arrival and 4 h fix promises."""
    kw.setdefault("skills", {"server": 2})
    kw.setdefault("service_s", HOUR)
    kw.setdefault("arrive_by", 2 * HOUR)
    kw.setdefault("fix_by", 4 * HOUR)
    kw.setdefault("site_id", 100)
    parts = kw.pop("parts", ())
    kw["parts"] = tuple(p if isinstance(p, PartLine) else PartLine(*p) for p in parts)
    return Ticket(kw.pop("ticket_id", 1), grid(*at), **kw)


def make_world(
    engineers: list[Engineer], depots: list[Depot] | None = None,
    suppliers: list[Supplier] | None = None,
) -> DispatchWorld:  # fmt: skip
    """A world at `EPOCH`."""
    return DispatchWorld(EPOCH, tuple(engineers), tuple(depots or ()), tuple(suppliers or ()))
