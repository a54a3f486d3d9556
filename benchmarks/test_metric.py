"""Benchmark of the METRIC greedy allocation on the large demo world (issue 10).

Guards: `inventory.metric_allocate.allocate` stays a lazy-heap greedy whose steps cost
microseconds, on 59 regional depots + the central warehouse x 1,000 SKUs. The world is
generated (seed 7, large) and turned into the pure model straight from its rows with the
same estimator the service uses (installed-base prior, no history: a fresh system). Fixed
seed and fixed work (target 0.95); run with `pytest benchmarks --benchmark-only`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from dispatch.world import generate_world
from inventory.demand_estimate import (
    DemandParams,
    blend_rates,
    installed_base_rates,
    spread_to_depots,
)
from inventory.metric import Metric, MetricProblem, problem_from_rows
from inventory.metric_allocate import AllocationParams, allocate


def build_large_problem() -> MetricProblem:
    """The large demo world's METRIC problem (also used to compare greedy versions)."""
    tables: dict[str, list[dict[str, Any]]] = generate_world(7, "large").tables
    params = DemandParams()
    region_of_site = {s["id"]: s["region_id"] for s in tables["sites"]}
    assets = [(region_of_site[a["site_id"]], a["product_model_id"]) for a in tables["assets"]]
    fits = [(f["part_id"], f["product_model_id"]) for f in tables["part_fits"]]
    depots = [d for d in tables["depots"] if d["kind"] != "van"]
    central = next(d for d in depots if d["kind"] == "central")
    regional = [d for d in depots if d["kind"] == "regional"]
    depots_of: dict[int, list[int]] = defaultdict(list)
    for d in regional:
        depots_of[d["region_id"]].append(d["id"])
    prior = spread_to_depots(installed_base_rates(assets, fits, params), depots_of, central["id"])
    rates = blend_rates({}, prior, params)
    lead = {s["id"]: s["lead_time_hours"] / 24 for s in tables["suppliers"]}
    code = {d["id"]: d["code"] for d in depots}
    sku = {p["id"]: p["sku"] for p in tables["parts"]}
    return problem_from_rows(
        central=central["code"],
        depots=[(d["code"], params.transfer_hours / 24) for d in regional],
        parts=[(p["sku"], p["cost_price"], lead[p["supplier_id"]]) for p in tables["parts"]],
        demand={(code[d], sku[p]): r for (d, p), r in rates.items()},
    )


@pytest.fixture(scope="module")
def large_problem() -> MetricProblem:
    return build_large_problem()


@pytest.mark.parametrize("metric", list(Metric))
def test_allocate_large_world(benchmark: Any, large_problem: MetricProblem, metric: Metric) -> None:
    params = AllocationParams(0.95, metric)
    found = benchmark.pedantic(allocate, args=(large_problem, params), rounds=3, iterations=1)
    assert found.reached
    units = int(found.central_levels.sum() + found.levels.sum())
    print(  # noqa: T201 (the figures for benchmarks/README.md)
        f"\n{metric.value}: {len(found.curve_cents)} steps, {units} units, "
        f"value {found.evaluation.value}, achieved {found.achieved:.4f}"
    )
