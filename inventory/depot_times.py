"""How long a depot's counter and a supplier's courier take: data per depot and supplier.

Issue 16, "policy is data": the pick time at a depot counter and a supplier's courier
transit are columns (`depots.pick_min`, `suppliers.transit_hours`) with these documented
defaults (docs/world-format.md, docs/scenarios.md), read alike by production
(`dispatch.snapshot`), the benchmarks' view of the demo world and the simulator
(`scenarios.base`). Pure: a row (ORM object or dict) in, seconds out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_PICK_MIN = 10  # picking a ticket's parts at the counter (was RecommendParams' 600 s)
DEFAULT_TRANSIT_HOURS = 24  # a supplier's courier to a site, once the parts left


def _get(row: Mapping[str, Any] | Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def pick_s(depot: Mapping[str, Any] | Any) -> int:
    """A depot's pick time in seconds; a row without one (an older bundle): the default."""
    minutes = _get(depot, "pick_min")
    return 60 * (DEFAULT_PICK_MIN if minutes is None else int(minutes))


def transit_s(supplier: Mapping[str, Any] | Any) -> int:
    """A supplier's courier transit to a site in seconds; none given: the default."""
    hours = _get(supplier, "transit_hours")
    return 3_600 * (DEFAULT_TRANSIT_HOURS if hours is None else int(hours))
