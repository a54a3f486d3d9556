"""Demand rates per depot x part for stock planning: history first, the installed base as prior.

Pure: plain rows in, rates (demands per day) out, so the service (`inventory.stock_recommend`)
and the benchmarks feed it the same way. The estimator is the Gamma-Poisson posterior
mean: with `units` observed over `window_days` and a prior rate `r0` held as strongly as
`prior_days` of observation,

    rate = (units + r0 * prior_days) / (window_days + prior_days).

Rich history dominates; a part never used yet keeps the installed-base rate, so a young
system does not recommend empty shelves. Units observed are parts used on tickets (ledger
`use`) plus parts that open tickets still need (demand seen but not yet consumed). The
prior: every installed asset fails `failures_per_asset_year` times a year and needs one
of the parts that fit its model, each alike (as the scenarios' demand draws them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True, slots=True)
class DemandParams:
    """How rates and lead times are estimated; every number is a documented default."""

    window_days: float = 90.0  # history looked at
    # Fewer days of records than this and a recommendation says its history is short.
    min_history_days: float = 28.0
    prior_days: float = 30.0  # how many days of observation the installed-base prior weighs
    failures_per_asset_year: float = 0.1  # part swaps per installed asset and year
    supplier_lead_hours: float = 168.0  # a part without a supplier: a week
    transfer_hours: float = 24.0  # central -> regional, without past transfers to learn from

    def __post_init__(self) -> None:
        for name in ("window_days", "supplier_lead_hours", "transfer_hours"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)}")
        for name in ("prior_days", "failures_per_asset_year", "min_history_days"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")


Key = tuple[int, int]  # (depot id, part id)


def installed_base_rates(
    assets: Iterable[tuple[int, int]],
    fits: Iterable[tuple[int, int]],
    params: DemandParams,
) -> dict[tuple[int, int], float]:
    """Prior demands per day per (region id, part id) from (region, model) and (part, model)."""
    parts_of: dict[int, list[int]] = defaultdict(list)
    for part_id, model_id in fits:
        parts_of[model_id].append(part_id)
    per_asset_day = params.failures_per_asset_year / DAYS_PER_YEAR
    rates: dict[tuple[int, int], float] = defaultdict(float)
    for region_id, model_id in assets:
        parts = parts_of.get(model_id, [])
        for part_id in parts:
            rates[(region_id, part_id)] += per_asset_day / len(parts)
    return dict(rates)


def spread_to_depots(
    by_region: Mapping[tuple[int, int], float],
    depots_of_region: Mapping[int, list[int]],
    central_id: int,
) -> dict[Key, float]:
    """Region amounts over its stocking depots alike; a region without one: the central."""
    out: dict[Key, float] = defaultdict(float)
    for (region_id, part_id), amount in by_region.items():
        depots = depots_of_region.get(region_id) or [central_id]
        for depot_id in depots:
            out[(depot_id, part_id)] += amount / len(depots)
    return dict(out)


def blend_rates(
    observed: Mapping[Key, float],
    prior: Mapping[Key, float],
    params: DemandParams,
    history_days: float | None = None,
) -> dict[Key, float]:
    """The Gamma-Poisson posterior mean per (depot, part): history and prior together.

    `history_days`: how much of the window the records cover (a young system has a few
    days); the units seen are divided by that, not by the whole window, which would
    understate demand (and recommend emptying shelves) by window / history.
    """
    window = params.window_days if history_days is None else min(history_days, params.window_days)
    weight = params.prior_days
    if window + weight <= 0:
        return {}
    keys = set(observed) | set(prior)
    rates = {
        key: (observed.get(key, 0.0) + prior.get(key, 0.0) * weight) / (window + weight)
        for key in keys
    }
    return {key: rate for key, rate in rates.items() if rate > 0}
