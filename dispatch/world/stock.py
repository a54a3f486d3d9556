"""Opening stock, as a planner would set it: METRIC base stock from the installed base.

Demand per depot and part is the installed base's failure rate (`inventory.demand_estimate`:
every asset fails `failures_per_asset_year` times a year and needs one of the parts that fit
its model), counted at the depot nearest to each asset's site, the depot that serves it
(the scenarios count a request's fill there too). The levels are the greedy METRIC
allocation `spares stock recommend` makes (`inventory.metric_allocate.allocate`, target
fill rate `TARGET_FILL`): regional depots hold the parts their installed base fails most for
their cost; the central warehouse keeps its pool (most SKUs, a few units each, as before)
and holds at least its METRIC level and every part no regional depot holds. Vans carry a
few cheap parts of their engineer's lines.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from dispatch.world.catalogue import Catalogue
from dispatch.world.model import Row
from dispatch.world.places import haversine_km
from inventory.demand_estimate import DemandParams, installed_base_rates
from inventory.metric import problem_from_rows
from inventory.metric_allocate import AllocationParams, allocate

# The central pool: (share of SKUs held, mean on hand, reorder point) for (non-key, key)
# parts. Key parts are dear, so fewer units are held.
CENTRAL = ((0.9, 15.0, 5), (0.9, 4.0, 2))
EMPTY_SHARE = 0.08  # central SKUs that happen to be out of stock (and reordered) today
TARGET_FILL = 0.95  # the fill rate the opening levels are allocated for (the CLI's default)
VAN_SKUS = (4, 10)  # a van carries this many SKUs (inclusive) of its engineer's lines
VAN_MAX_EACH = 3


def stock_rows(
    depots: list[Row],
    vans: list[tuple[int, list[int]]],
    catalogue: Catalogue,
    tables: dict[str, list[Row]],
    rng: np.random.Generator,
) -> list[Row]:
    """Stock levels by (depot, part); `vans` gives (van depot id, the engineer's line ids).

    `tables` must hold the sites and assets (the installed base the levels are set for).
    """
    central, regional = _base_stock(depots, catalogue, tables)
    key = catalogue.part_key
    pooled = ~np.any([levels > 0 for levels in regional.values()], axis=0)
    rows: list[Row] = []
    for depot in depots:
        if depot["kind"] == "central":
            rows += _central_rows(len(rows), depot["id"], key, central, pooled, rng)
        else:
            for part, level in enumerate(regional.get(depot["id"], np.zeros(0)).tolist()):
                if level > 0:
                    rows.append(_row(len(rows) + 1, depot["id"], part + 1, level, level, 0))
    for depot_id, lines in vans:
        rows += _van_rows(len(rows), depot_id, lines, catalogue.part_line, key, rng)
    return rows


def _base_stock(
    depots: list[Row], catalogue: Catalogue, tables: dict[str, list[Row]]
) -> tuple[npt.NDArray[np.int64], dict[int, npt.NDArray[np.int64]]]:
    """METRIC levels: the central warehouse's per part, each regional depot's per part."""
    params = DemandParams()
    fixed = [d for d in depots if d["kind"] in ("central", "regional")]
    central = next(d for d in fixed if d["kind"] == "central")
    regional = [d for d in fixed if d["kind"] == "regional"]
    serving = _nearest_depot(fixed, tables["sites"])
    assets = ((serving[a["site_id"]], a["product_model_id"]) for a in tables["assets"])
    fits = ((f["part_id"], f["product_model_id"]) for f in tables["part_fits"])
    rates = installed_base_rates(assets, fits, params)
    code = {d["id"]: d["code"] for d in fixed}
    parts = tables["parts"]
    lead_hours = {s["id"]: s["lead_time_hours"] for s in tables["suppliers"]}
    problem = problem_from_rows(
        central=central["code"],
        depots=[(d["code"], params.transfer_hours / 24) for d in regional],
        parts=[
            (
                p["sku"],
                Decimal(p["cost_price"]),
                lead_hours.get(p["supplier_id"], params.supplier_lead_hours) / 24,
            )
            for p in parts
        ],
        demand={(code[d], parts[p - 1]["sku"]): rate for (d, p), rate in rates.items()},
    )
    chosen = allocate(problem, AllocationParams(target=TARGET_FILL))
    levels = np.asarray(chosen.levels, dtype=np.int64)
    return np.asarray(chosen.central_levels, dtype=np.int64), {
        d["id"]: levels[i] for i, d in enumerate(regional)
    }


def _nearest_depot(depots: list[Row], sites: list[Row]) -> dict[int, int]:
    """The depot (central or regional) nearest to each site, by great-circle distance."""
    lat = np.array([d["lat"] for d in depots])
    lon = np.array([d["lon"] for d in depots])
    s_lat = np.array([s["lat"] for s in sites])
    s_lon = np.array([s["lon"] for s in sites])
    km = haversine_km(s_lat[:, None], s_lon[:, None], lat[None, :], lon[None, :])
    nearest = km.argmin(axis=1).tolist()
    return {s["id"]: depots[k]["id"] for s, k in zip(sites, nearest, strict=True)}


def _central_rows(
    offset: int,
    depot_id: int,
    key: npt.NDArray[np.bool_],
    metric_level: npt.NDArray[np.int64],
    pooled: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> list[Row]:
    """The central pool: most SKUs and every part no regional depot holds, at least the
    METRIC level; below its reorder point, reordered."""
    held = (rng.random(key.size) < np.where(key, CENTRAL[1][0], CENTRAL[0][0])) | pooled
    mean = np.where(key, CENTRAL[1][1], CENTRAL[0][1])
    on_hand = rng.poisson(mean) * (rng.random(key.size) >= EMPTY_SHARE)
    reorder = np.maximum(np.where(key, CENTRAL[1][2], CENTRAL[0][2]), metric_level)
    on_hand = np.where(held, np.maximum(on_hand, metric_level), metric_level)
    on_order = np.where(on_hand < reorder, 2 * reorder, 0)
    parts = np.flatnonzero(held | (metric_level > 0))
    return [
        _row(offset + i + 1, depot_id, part + 1, have, point, ordered)
        for i, (part, have, point, ordered) in enumerate(
            zip(
                parts.tolist(),
                on_hand[parts].tolist(),
                reorder[parts].tolist(),
                on_order[parts].tolist(),
                strict=True,
            )
        )
    ]


def _van_rows(
    offset: int,
    depot_id: int,
    lines: list[int],
    part_line: npt.NDArray[np.int64],
    key: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> list[Row]:
    """A few cheap (non-key) parts of the engineer's product lines, 1-3 of each."""
    candidates = np.flatnonzero(np.isin(part_line, np.array(lines) - 1) & ~key)
    take = min(candidates.size, int(rng.integers(VAN_SKUS[0], VAN_SKUS[1] + 1)))
    parts = np.sort(rng.choice(candidates, size=take, replace=False))
    counts = rng.integers(1, VAN_MAX_EACH + 1, size=take)
    return [
        _row(offset + i + 1, depot_id, int(p) + 1, int(c), 1, 0)
        for i, (p, c) in enumerate(zip(parts.tolist(), counts.tolist(), strict=True))
    ]


def _row(row_id: int, depot: int, part: int, on_hand: int, reorder: int, on_order: int) -> Row:
    return {
        "id": row_id,
        "depot_id": depot,
        "part_id": part,
        "on_hand": int(on_hand),
        "reserved": 0,
        "in_transit": 0,
        "on_order": int(on_order),
        "reorder_point": int(reorder),
    }
