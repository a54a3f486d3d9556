"""Stock recommendations from a scenario's own demand (issue 10: "or the scenario's demand").

`inventory.stock_recommend` estimates rates from the database (history, open tickets,
installed base). A planner asking "which stock would keep this scenario's promises?" wants
the rates the scenario itself will simulate: here they are counted from ticket streams drawn
from the scenario's demand model, then fed to the same METRIC problem and greedy
(`inventory.metric`, `inventory.metric_allocate`). The answer has the database
recommendation's shape (`inventory.stock_levels.StockRecommendation`), so its
`scenario_changes` run as a variant (`spares scenario run --stock-recommendation`).

The streams use seeds other than the ones the scenario measures: a recommendation fitted to
the very tickets it is then evaluated on would peek at them and look better than it is.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.world import World
from inventory.demand_estimate import DemandParams, spread_to_depots
from inventory.metric import Metric, MetricProblem, evaluate, problem_from_rows
from inventory.metric_allocate import allocate
from inventory.stock_levels import StockRecommendation, pooling_params, recommendation_lines
from scenarios.base import build_sim_world, load_world_rows
from scenarios.demand import DAY_S, history_rates, ticket_stream
from scenarios.spec import Scenario
from scenarios.stock_defaults import RATE_SEED as RATE_SEED
from scenarios.stock_defaults import RATE_STREAMS as RATE_STREAMS


def rate_seed(scenario: Scenario, seed: int | None = None) -> int:
    """The seed for the rate streams: `seed`, else RATE_SEED, never the measured seed.

    The scenario's replications draw their tickets with `scenario.seed`; rates counted from
    those streams would fit the stock to the very tickets it is measured on.
    """
    if seed is None:
        return RATE_SEED if scenario.seed != RATE_SEED else RATE_SEED + 1
    if seed == scenario.seed:
        raise ValueError(f"seed: {seed} is the scenario's own seed (its measured streams)")
    return seed


def scenario_demand(
    scenario: Scenario,
    *,
    streams: int = RATE_STREAMS,
    seed: int | None = None,
    region: str | None = None,
    rows: World | None = None,
    exported: Path | None = None,
) -> dict[tuple[str, str], float]:
    """Part demands per day per (depot code, sku) in the scenario's demand model.

    `streams` replications of the base demand (no variant's changes) are drawn over the
    scenario's horizon and every part a ticket needs is counted per region x part, then
    spread alike over the region's regional depots, or given to the central warehouse when
    the region has none (as `inventory.demand_estimate` does with history). Vans are not
    modeled: they are an engineer's kit, resupplied from the region's depots. `region`
    (a code) counts only that region's tickets.
    """
    if streams < 1:
        raise ValueError(f"streams: must be >= 1, got {streams}")
    rows = rows if rows is not None else load_world_rows(scenario.base, exported=exported)
    t = rows.tables
    world = build_sim_world(rows, scenario.start)
    region_id = _region_id(rows, region)
    history = history_rates(t) if scenario.demand.from_history else {}
    horizon = round(scenario.horizon_days * DAY_S)
    seed = rate_seed(scenario, seed)
    by_region: dict[tuple[int, int], float] = defaultdict(float)
    for rep in range(streams):
        stream = ticket_stream(
            world, scenario.demand, horizon_s=horizon, seed=seed, replication=rep, history=history
        )
        for ticket in stream:
            if region_id is not None and ticket.region_id != region_id:
                continue
            for part in ticket.parts:
                by_region[(ticket.region_id, part)] += 1.0
    days = streams * scenario.horizon_days
    central, regional = _network(rows, None)
    depots_of: dict[int, list[int]] = defaultdict(list)
    for d in regional:
        depots_of[d["region_id"]].append(d["id"])
    per_day = {key: count / days for key, count in by_region.items()}
    code = {d["id"]: d["code"] for d in t["depots"]}
    sku = {p["id"]: p["sku"] for p in t["parts"]}
    return {
        (code[d], sku[p]): rate
        for (d, p), rate in spread_to_depots(per_day, depots_of, central["id"]).items()
    }


def recommend_for_scenario(
    scenario: Scenario,
    *,
    target: float,
    metric: Metric | str = Metric.FILL_RATE,
    region: str | None = None,
    streams: int = RATE_STREAMS,
    seed: int | None = None,
    exported: Path | None = None,
    central_fill: float | None = None,
) -> StockRecommendation:
    """METRIC base-stock levels for the scenario's demand, against the base world's stock.

    The central warehouse keeps the pooled demand's base stock at `central_fill` (default:
    the target), as the database recommendation does.

    The network, costs and lead times are the base world's rows: each part's supplier lead
    time (a week without one), the default central -> regional transfer time
    (`DemandParams.transfer_hours`). Today's level is the world's on-hand stock, what the
    scenario's `base` variant starts with. `region` limits the depots to that region's
    regional depots and the central warehouse, and the demand to that region's tickets.
    """
    allocation = pooling_params(target, metric, central_fill)
    rows = load_world_rows(scenario.base, exported=exported)
    rates = scenario_demand(scenario, streams=streams, seed=seed, region=region, rows=rows)
    problem = _problem(rows, region, rates)
    current = _current_levels(rows, problem)
    today = evaluate(problem, current[0], current[1:])
    result = allocate(problem, allocation)
    currencies = {str(p.get("currency") or "") for p in rows.tables["parts"]} - {""}
    currency = currencies.pop() if len(currencies) == 1 else ("mixed" if currencies else "")
    return StockRecommendation(
        recommendation_lines(result, current), today, result, currency=currency
    )


Row = dict[str, Any]


def _region_id(rows: World, region: str | None) -> int | None:
    if region is None:
        return None
    found = next((r["id"] for r in rows.tables["regions"] if r["code"] == region), None)
    if found is None:
        raise ValueError(f"region: no region with code {region!r} in the base world")
    return int(found)


def _network(rows: World, region: str | None) -> tuple[Row, list[Row]]:
    """The central warehouse (the first) and the regional depots (of one region), in order."""
    depots = rows.tables["depots"]
    central = next((d for d in depots if d["kind"] == "central"), None)
    if central is None:
        raise ValueError("base: the world has no central warehouse")
    region_id = _region_id(rows, region)
    regional = [
        d
        for d in depots
        if d["kind"] == "regional" and (region_id is None or d["region_id"] == region_id)
    ]
    return central, regional


def _problem(rows: World, region: str | None, rates: dict[tuple[str, str], float]) -> MetricProblem:
    t = rows.tables
    params = DemandParams()
    lead = {s["id"]: s["lead_time_hours"] / 24 for s in t["suppliers"]}
    central, regional = _network(rows, region)
    return problem_from_rows(
        central=str(central["code"]),
        depots=[(str(d["code"]), params.transfer_hours / 24) for d in regional],
        parts=[
            (
                p["sku"],
                Decimal(str(p["cost_price"])),
                lead.get(p["supplier_id"], params.supplier_lead_hours / 24),
            )
            for p in t["parts"]
        ],  # fmt: skip
        demand=rates,
    )


def _current_levels(rows: World, problem: MetricProblem) -> npt.NDArray[np.int64]:
    """On-hand stock per modeled depot x part: the central row first, then the regional."""
    t = rows.tables
    code = {d["id"]: d["code"] for d in t["depots"]}
    sku = {p["id"]: p["sku"] for p in t["parts"]}
    row = {c: i for i, c in enumerate([problem.central, *problem.depots])}
    col = {s: j for j, s in enumerate(problem.parts)}
    levels = np.zeros((len(row), len(col)), dtype=np.int64)
    for r in t["stock_levels"]:
        i = row.get(code[r["depot_id"]])
        if i is not None:
            levels[i, col[sku[r["part_id"]]]] = int(r["on_hand"])
    return levels
