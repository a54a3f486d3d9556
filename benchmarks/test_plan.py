"""Benchmarks of `optimizer.plan`: whole-region route planning on the demo world.

Guards (issue 7): 200 tickets x 50 engineers with skills and pickups: a feasible (greedy)
plan in <= 1 s and the improved plan within a 10 s limit, greedy vs optimised promises kept
and travel time; a 50 ms limit returns a validated plan in < 0.5 s wall time; and the growth
of solve time from 50 to 1,000 tickets (a printed table). Fixed seed, bounded work; run with
``pytest benchmarks/test_plan.py --benchmark-only -s``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from dispatch.world import WorldSize, generate_world
from optimizer import (
    Depot,
    DispatchWorld,
    Engineer,
    GeodesicTravelTimes,
    Location,
    PartLine,
    Plan,
    PlanParams,
    Ticket,
    plan,
    warm_up,
)

SEED = 7
EPOCH = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Guangdong, the demo's reference
LOCAL = ZoneInfo("Asia/Shanghai")
ENGINEERS = 50
TRAVEL = GeodesicTravelTimes()


def _offset(day: date, clock: Any) -> int:
    return int((datetime.combine(day, clock, LOCAL) - EPOCH).total_seconds())


def _engineers(
    t: dict[str, list[dict[str, Any]]], stock: dict[int, dict[int, int]]
) -> tuple[Engineer, ...]:
    lines = {row["id"]: row["code"] for row in t["product_lines"]}
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for row in t["engineer_skills"]:
        skills[row["engineer_id"]][lines[row["product_line_id"]]] = row["level"]
    shifts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    day = date(2026, 11, 2)
    for row in t["shifts"]:
        if row["weekday"] == day.weekday():
            start, end = _offset(day, row["starts_at"]), _offset(day, row["ends_at"])
            shifts[row["engineer_id"]].append((start, end + (86_400 if end <= start else 0)))
    dedicated: dict[int, set[int]] = defaultdict(set)
    for site in t["sites"]:
        if site["dedicated_engineer_id"] is not None:
            dedicated[site["dedicated_engineer_id"]].add(site["id"])
    chosen = [e for e in t["engineers"] if shifts[e["id"]]][:ENGINEERS]
    return tuple(
        Engineer(
            e["id"], Location(e["current_lat"], e["current_lon"]), skills[e["id"]],
            tuple(sorted(shifts[e["id"]])), home=Location(e["home_lat"], e["home_lon"]),
            overtime_s=1_800, van_stock=stock.get(e["van_depot_id"], {}),
            dedicated_sites=frozenset(dedicated[e["id"]]), capacity=e["van_capacity"],
            cost_per_hour=int(e["cost_per_hour"] * 100), cost_per_km=int(e["cost_per_km"] * 100),
        )
        for e in chosen
    )  # fmt: skip


def _world() -> tuple[DispatchWorld, list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    t = generate_world(SEED, WorldSize.MEDIUM).tables
    stock: dict[int, dict[int, int]] = defaultdict(dict)
    for row in t["stock_levels"]:
        if row["on_hand"] - row["reserved"] > 0:
            stock[row["depot_id"]][row["part_id"]] = row["on_hand"] - row["reserved"]
    depots = tuple(
        Depot(d["id"], Location(d["lat"], d["lon"]), stock.get(d["id"], {}))
        for d in t["depots"]
        if d["kind"] != "van"
    )
    engineers = _engineers(t, stock)
    regions = {e["region_id"] for e in t["engineers"] if e["id"] in {x.id for x in engineers}}
    sites = [s for s in t["sites"] if s["region_id"] in regions]
    return DispatchWorld(EPOCH, engineers, depots), sites, t


def _tickets(
    world: DispatchWorld, sites: list[dict[str, Any]], t: dict[str, Any], n: int
) -> list[Ticket]:
    """``n`` tickets at random sites of the engineers' regions; a third need a part."""
    rng = np.random.default_rng(SEED)
    held = sorted({line for e in world.engineers for line in e.skills})
    parts_of: dict[str, list[int]] = defaultdict(list)
    codes = [row["code"] for row in t["product_lines"]]
    for part in t["parts"]:
        parts_of[codes[part["product_line_id"] - 1]].append(part["id"])
    out = []
    for i in range(n):
        site = sites[int(rng.integers(len(sites)))]
        line = held[int(rng.integers(len(held)))]
        parts = (PartLine(int(rng.choice(parts_of[line]))),) if rng.random() < 0.33 else ()
        rank = int(rng.choice(3, p=[0.1, 0.3, 0.6]))
        arrive = (2, 2, 4)[rank] * 3_600
        out.append(
            Ticket(
                i, Location(site["lat"], site["lon"]), site["id"], {line: 1}, 3_600,
                arrive_by=arrive, fix_by=arrive + 2 * 3_600, parts=parts, severity_rank=rank,
            )
        )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def demo() -> tuple[DispatchWorld, list[dict[str, Any]], dict[str, Any]]:
    warm_up()
    return _world()


def _summary(p: Plan) -> str:
    k = p.kpis
    kept = "/".join(f"{t.kept}of{t.total}" for t in k.promises)
    return (
        f"served {k.served}, dropped {k.dropped}, promises kept {k.promises_kept} ({kept} by "
        f"severity), travel {k.travel_s / 3_600:.1f} h, overtime {k.overtime_s / 60:.0f} min, "
        f"quality {p.quality.value}, objective {p.stats.objective} "
        f"(greedy {p.stats.greedy_objective})"
    )


def test_plan_greedy_200(benchmark: Any, demo: Any) -> None:
    world, sites, t = demo
    tickets = _tickets(world, sites, t, 200)
    params = PlanParams(time_limit_ms=0)
    result = benchmark.pedantic(
        lambda: plan(world, tickets, now=0, travel=TRAVEL, params=params), rounds=3, iterations=1
    )
    print(f"\ngreedy 200x{len(world.engineers)}: {_summary(result)}")  # noqa: T201
    assert result.is_feasible()


def test_plan_improved_10s(benchmark: Any, demo: Any) -> None:
    world, sites, t = demo
    tickets = _tickets(world, sites, t, 200)
    params = PlanParams(time_limit_ms=10_000)
    result = benchmark.pedantic(
        lambda: plan(world, tickets, now=0, travel=TRAVEL, params=params), rounds=1, iterations=1
    )
    greedy = plan(world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=0))
    print(f"\ngreedy   : {_summary(greedy)}\noptimised: {_summary(result)}")  # noqa: T201
    assert result.is_feasible()
    assert result.stats.objective <= greedy.stats.objective


def test_plan_50ms_limit(benchmark: Any, demo: Any) -> None:
    world, sites, t = demo
    tickets = _tickets(world, sites, t, 200)
    params = PlanParams(time_limit_ms=50)
    result = benchmark.pedantic(
        lambda: plan(world, tickets, now=0, travel=TRAVEL, params=params), rounds=5, iterations=1
    )
    print(f"\n50 ms limit: {_summary(result)}")  # noqa: T201
    assert result.is_feasible()


def test_plan_growth(benchmark: Any, demo: Any) -> None:
    """Greedy and 2 s-limited plans from 50 to 1,000 tickets (printed table, one run each)."""
    benchmark.pedantic(lambda: _growth(demo), rounds=1, iterations=1)


def _growth(demo: Any) -> None:
    world, sites, t = demo
    rows = ["| tickets | greedy plan (s) | plan, 2 s limit (s) | served | promises kept |"]
    rows.append("|---|---|---|---|---|")
    for n in (50, 100, 200, 500, 1_000):
        tickets = _tickets(world, sites, t, n)
        start = time.perf_counter()
        plan(world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=0))
        greedy_s = time.perf_counter() - start
        start = time.perf_counter()
        result = plan(world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=2_000))
        limited_s = time.perf_counter() - start
        rows.append(
            f"| {n} | {greedy_s:.2f} | {limited_s:.2f} | {result.kpis.served} | "
            f"{result.kpis.promises_kept} |"
        )
        assert result.is_feasible()
    print("\n" + "\n".join(rows))  # noqa: T201
