"""Recommended stock vs uniform rules, by simulation on common random numbers (issue 10 goal).

Not collected by pytest (a measurement, minutes of wall time): run it as

    .venv/bin/python benchmarks/stock_vs_uniform/measure.py [--replications N] [--workers N]

Why this shape: the earlier CLI measurement recommended from the installed-base prior
(0.1 failures per asset-year: ~0.15 part demands a day on the small world) and then
simulated ~7 part demands a day, and its 2-hour swap was bound by engineers' arrival. Here
the METRIC problem is fed the scenario's own demand (`scenarios.stock.recommend_for_scenario`,
as `spares stock recommend --scenario` does: ticket streams drawn with other seeds than the
measured ones, counted per region x part and spread over the region's depots), and the
scenario puts demand only where a stocking depot is, adds engineers working round the clock
and lowers the ticket rate, so that arrivals are mostly on time (~70 %, against ~29 %
before) and the stock moves the swap.

Swap attainment here is unconditional: part tickets whose part came from stock (van or
depot pickup) and was fitted within the swap promise, over **all** part tickets (the
report's `swap_2h_attainment` is conditional on the part being in stock, so a shipped part
would not count against it). Differences are paired per replication
(`scenarios.paired.paired_difference`).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from inventory.metric import Metric
from inventory.stock_levels import scenario_changes
from scenarios.base import build_sim_world, load_world_rows
from scenarios.executors import PoolExecutor, run_on
from scenarios.paired import paired_difference
from scenarios.records import RunResult
from scenarios.spec import Scenario
from scenarios.stock import recommend_for_scenario

HERE = Path(__file__).parent


def uniform_changes(scenario: Scenario, quantity: int) -> list[dict[str, Any]]:
    """Every non-van depot x every part at `quantity`, named one by one.

    A `stock_level` change without depot and part only sets the stock rows the world already
    has, so a part without a row at a depot would stay at zero (the small demo world has a
    row for each, so here both give the same runs).
    """
    t = load_world_rows(scenario.base).tables
    levels = {
        (d["code"], p["sku"]): quantity
        for d in t["depots"]
        if d["kind"] != "van"
        for p in t["parts"]
    }
    return scenario_changes(levels)


def static_value(scenario: Scenario, variant: str) -> Decimal:
    """The variant's non-van stock at the start, at cost (the policy's inventory value)."""
    from scenarios.run import build_variants

    world = build_variants(
        scenario, build_sim_world(load_world_rows(scenario.base), scenario.start)
    )[variant]
    vans = {d.id for d in world.depots if d.kind == "van"}
    return sum(
        (world.parts[p].cost_price * q for (d, p), q in world.stock.items() if d not in vans),
        Decimal(0),
    )


def per_replication(results: list[RunResult], variant: str) -> dict[str, list[float]]:
    """Unconditional swap attainment, arrival attainment, simulated inventory value."""
    out: dict[str, list[float]] = defaultdict(list)
    for r in sorted((r for r in results if r.variant == variant), key=lambda r: r.replication):
        parts = [j for j in r.jobs if j.needs_parts]
        swapped = [  # from stock and fitted in time (not the report's conditional KPI)
            j for j in parts
            if j.source in ("van", "pickup") and j.fixed_at is not None
            and j.fixed_at - j.reported_at <= j.swap_within_s
        ]  # fmt: skip
        out["swap"].append(len(swapped) / len(parts))
        arrivals = [k for k in (j.arrival_kept() for j in r.jobs) if k is not None]
        out["arrival"].append(sum(arrivals) / len(arrivals))
        out["value"].append(float(sum(r.inventory_value)) / len(r.inventory_value))
        out["from_stock"].append(sum(j.source in ("van", "pickup") for j in parts) / len(parts))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--target", type=float, default=0.9)
    ap.add_argument("--scenario", type=Path, default=HERE / "stock_vs_uniform.yaml")
    ap.add_argument("--uniform", type=int, nargs="+", default=[1, 2, 3])
    args = ap.parse_args()
    doc = yaml.safe_load(args.scenario.read_text())
    staff = doc.pop("staff", [])
    if args.replications:
        doc["replications"] = args.replications
    scenario = Scenario.model_validate(doc)
    found = recommend_for_scenario(scenario, target=args.target, metric=Metric.SWAP_2H)
    changes = scenario_changes(found.levels)
    value, achieved = found.result.evaluation.value, found.result.achieved
    print(f"metric-{args.target}: value {value}, achieved {achieved:.4f} (model)")  # noqa: T201
    doc["variants"] = (
        list(doc.get("variants", []))
        + [
            {"name": f"uniform-{n}", "changes": [*staff, {"kind": "stock_level", "quantity": n}]}
            for n in args.uniform
        ]
        + [{"name": "metric", "changes": [*staff, *changes]}]
    )
    scenario = Scenario.model_validate(doc)
    t0 = time.perf_counter()
    run = run_on(PoolExecutor(args.workers), scenario)
    print(f"simulated {len(run.results)} runs in {time.perf_counter() - t0:.0f} s")  # noqa: T201
    names = [f"uniform-{n}" for n in args.uniform] + ["metric"]
    reps = {n: per_replication(run.results, n) for n in names}
    for n in names:
        r = reps[n]
        from scenarios.kpis import confidence_interval

        rows = ", ".join(
            f"{k} {m:.4g} [{lo:.4g}, {hi:.4g}]"
            for k in ("swap", "from_stock", "arrival", "value")
            for m, lo, hi in [confidence_interval(r[k])]
        )
        print(f"{n}: static value {static_value(scenario, n)}; {rows}")  # noqa: T201
    for n in names[:-1]:
        for k in ("swap", "value"):
            d = paired_difference(reps["metric"][k], reps[n][k])
            ref = sum(reps[n][k]) / len(reps[n][k])
            print(  # noqa: T201
                f"metric - {n} {k}: {d.mean:.4g} [{d.low:.4g}, {d.high:.4g}] n={d.n} "
                f"significant={d.significant} p={d.p_value}; relative to {n}: "
                f"{d.mean / ref:+.1%} [{d.low / ref:+.1%}, {d.high / ref:+.1%}]"
            )


if __name__ == "__main__":
    main()
