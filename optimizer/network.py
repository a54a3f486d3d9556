"""Road-network travel times: an OpenStreetMap extract as a directed graph, Dijkstra on it.

`load_road_network` reads a PBF with osmium (ways tagged ``highway`` that cars may use),
times each edge by its ``maxspeed`` or, failing that, a default speed per highway class,
honours ``oneway``, and keeps the largest strongly connected component (so that any two
snapped points are connected). `RoadNetwork.snap` finds the nearest graph node through a
k-d tree on unit-sphere vectors. `RoadNetworkTravelTimes` answers a many-to-one question with
one reverse Dijkstra from the destination and caches each search (LRU).
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx  # type: ignore[import-untyped]  # networkx ships no type hints
import numpy as np
import osmium
from scipy.spatial import cKDTree  # type: ignore[import-untyped]  # no stubs for scipy

from optimizer.errors import RoadNetworkError
from optimizer.travel import EARTH_RADIUS_M, UNREACHABLE, FloatArray, IntArray, haversine_m

# Default speeds (km/h) by highway class, for ways without a usable maxspeed.
HIGHWAY_SPEEDS_KMH: Mapping[str, float] = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0,
    "primary": 60.0, "primary_link": 40.0, "secondary": 50.0, "secondary_link": 40.0,
    "tertiary": 40.0, "tertiary_link": 30.0, "unclassified": 30.0, "residential": 25.0,
    "living_street": 10.0, "service": 15.0, "road": 30.0,
}  # fmt: skip
# Implicit limits ("FI:urban"): per zone, with the countries that differ from the usual.
_ZONE_KMH = {"urban": 50.0, "rural": 80.0, "trunk": 100.0, "motorway": 120.0, "living_street": 20.0}
_COUNTRY_ZONE_KMH = {("ru", "urban"): 60.0, ("ru", "rural"): 90.0, ("de", "rural"): 100.0}
_MAXSPEED = re.compile(r"(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?")
_UNIT_KMH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}


def parse_maxspeed(value: str | None) -> float | None:
    """Return a ``maxspeed`` tag in km/h, or ``None`` when it says nothing usable.

    Parameters
    ----------
    value
        The tag: ``"50"``, ``"50 mph"``, ``"FI:urban"``, ``"30;50"`` (the lowest counts),
        ``"walk"``, ``"none"`` ...

    Returns
    -------
    float or None
        Kilometres per hour.
    """
    if value is None:
        return None
    parts = [p.strip().lower() for p in value.split(";") if p.strip()]
    speeds = [s for s in (_parse_one(p) for p in parts) if s is not None]
    return min(speeds) if speeds else None


def _parse_one(value: str) -> float | None:
    if value == "walk":
        return 6.0
    match = _MAXSPEED.fullmatch(value)
    if match:
        speed = float(match.group(1)) * _UNIT_KMH[match.group(2)]
        return speed if speed > 0 else None
    if ":" in value:
        country, zone = value.split(":", 1)
        return _COUNTRY_ZONE_KMH.get((country, zone), _ZONE_KMH.get(zone))
    return None


def _direction(tags: Mapping[str, str], highway: str) -> int:
    """1: forward only, -1: backward only, 0: both ways."""
    oneway = tags.get("oneway", "").lower()
    if oneway in ("yes", "1", "true"):
        return 1
    if oneway in ("-1", "reverse"):
        return -1
    if oneway == "no":
        return 0
    implied = highway in ("motorway", "motorway_link") or tags.get("junction") == "roundabout"
    return 1 if implied else 0


def _drivable(tags: Mapping[str, str], speeds: Mapping[str, float]) -> float | None:
    """The way's speed in km/h if a car may use it, else ``None``."""
    highway = tags.get("highway", "")
    if highway not in speeds:
        return None
    if tags.get("access") in ("no", "private") or tags.get("motor_vehicle") in ("no", "private"):
        return None
    return parse_maxspeed(tags.get("maxspeed")) or speeds[highway]


def _unit_vectors(points: FloatArray) -> FloatArray:
    lat, lon = np.radians(points[:, 0]), np.radians(points[:, 1])
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph on nodes ``0..n-1`` with edge ``time`` (s) and ``length`` (m).

    Parameters
    ----------
    graph
        A strongly connected ``networkx.DiGraph``.
    coords
        ``(n, 2)`` node coordinates ``(lat, lon)``.
    """

    graph: nx.DiGraph
    coords: FloatArray
    tree: cKDTree = field(init=False, repr=False)
    reverse: nx.DiGraph = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.graph.number_of_nodes() != len(self.coords) or len(self.coords) == 0:
            raise ValueError("coords: one row per graph node, and at least one node")
        object.__setattr__(self, "tree", cKDTree(_unit_vectors(self.coords)))
        object.__setattr__(self, "reverse", self.graph.reverse(copy=True))

    @property
    def max_speed_mps(self) -> float:
        """The fastest edge speed, in metres per second."""
        edges = self.graph.edges(data=True)
        return float(max(d["length"] / d["time"] for _, _, d in edges if d["time"] > 0))

    def snap(self, points: FloatArray) -> tuple[IntArray, FloatArray]:
        """Return the nearest node of each point and its straight-line distance in metres."""
        chord, nodes = self.tree.query(_unit_vectors(np.asarray(points, dtype=np.float64)))
        metres = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))
        return np.asarray(nodes, dtype=np.int64), metres


def load_road_network(
    path: str | Path, *, speeds: Mapping[str, float] = HIGHWAY_SPEEDS_KMH
) -> RoadNetwork:
    """Build a `RoadNetwork` from an OpenStreetMap PBF (or XML) extract.

    Parameters
    ----------
    path
        The extract.
    speeds
        Default km/h per drivable highway class (a class not listed is not drivable).

    Raises
    ------
    RoadNetworkError
        When the extract has no drivable road.
    """
    graph = nx.DiGraph()
    where: dict[int, tuple[float, float]] = {}
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        assert isinstance(way, osmium.osm.Way)  # the entity filter lets only ways through
        tags = {tag.k: tag.v for tag in way.tags}
        kmh = _drivable(tags, speeds)
        if kmh is None:
            continue
        nodes = [(n.ref, n.lat, n.lon) for n in way.nodes if n.location.valid()]
        _add_way(graph, where, nodes, kmh / 3.6, _direction(tags, tags["highway"]))
    if graph.number_of_nodes() == 0:
        raise RoadNetworkError(f"{path}: no drivable road")
    largest = max(nx.strongly_connected_components(graph), key=len)
    ids = sorted(largest)
    index = {osm: i for i, osm in enumerate(ids)}
    core = nx.relabel_nodes(graph.subgraph(ids), index, copy=True)
    coords = np.array([where[osm] for osm in ids], dtype=np.float64)
    return RoadNetwork(core, coords)


def _add_way(
    graph: nx.DiGraph, where: dict[int, tuple[float, float]],
    nodes: list[tuple[int, float, float]], mps: float, direction: int,
) -> None:  # fmt: skip
    for (a, alat, alon), (b, blat, blon) in zip(nodes, nodes[1:], strict=False):
        where[a], where[b] = (alat, alon), (blat, blon)
        length = float(haversine_m(np.array([[alat, alon]]), np.array([[blat, blon]]))[0, 0])
        if a == b:
            continue
        for u, v, ok in ((a, b, direction >= 0), (b, a, direction <= 0)):
            old = graph.get_edge_data(u, v)
            if ok and (old is None or old["time"] > length / mps):
                graph.add_edge(u, v, time=length / mps, length=length)


def _dijkstra(graph: nx.DiGraph, source: int, n: int) -> tuple[FloatArray, FloatArray]:
    """Seconds and metres (along the fastest path) from ``source`` to every node."""
    pred, dist = nx.dijkstra_predecessor_and_distance(graph, source, weight="time")
    seconds = np.full(n, math.inf)
    metres = np.full(n, math.inf)
    for node, d in dist.items():  # settled order: a node's predecessor comes first
        seconds[node] = d
        before = pred[node]
        metres[node] = metres[before[0]] + graph[before[0]][node]["length"] if before else 0.0
    return seconds, metres


class RoadNetworkTravelTimes:
    """`TravelTimes` on a `RoadNetwork`: snap, then shortest paths by Dijkstra, cached.

    A point reaches its snapped node straight at ``access_kmh``; seconds are rounded up
    (so the triangle inequality of shortest paths survives rounding).

    Parameters
    ----------
    network
        The road graph.
    access_kmh
        Speed on the straight leg between a point and its nearest node.
    cache_size
        How many single-source searches to keep (least recently used goes first).
    """

    def __init__(
        self, network: RoadNetwork, *, access_kmh: float = 15.0, cache_size: int = 256
    ) -> None:
        if access_kmh <= 0 or cache_size < 1:
            raise ValueError("access_kmh: must be > 0 (and cache_size >= 1)")
        self.network = network
        self._access_mps = access_kmh / 3.6
        self._cache: OrderedDict[tuple[bool, int], tuple[FloatArray, FloatArray]] = OrderedDict()
        self._cache_size = cache_size
        self.searches = 0

    def _search(self, node: int, *, reverse: bool) -> tuple[FloatArray, FloatArray]:
        key = (reverse, node)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        graph = self.network.reverse if reverse else self.network.graph
        self.searches += 1
        found = _dijkstra(graph, node, len(self.network.coords))
        self._cache[key] = found
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found

    def _combine(
        self, off_a: FloatArray, core: tuple[FloatArray, FloatArray], off_b: FloatArray
    ) -> tuple[IntArray, IntArray]:
        seconds = off_a / self._access_mps + core[0] + off_b / self._access_mps
        metres = off_a + core[1] + off_b
        finite = np.isfinite(seconds)
        out_s = np.where(finite, np.ceil(np.where(finite, seconds, 0.0)), UNREACHABLE)
        out_m = np.where(finite, np.rint(np.where(finite, metres, 0.0)), UNREACHABLE)
        return out_s.astype(np.int64), out_m.astype(np.int64)

    def many_to_one(
        self, origins: FloatArray, destination: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)`` from each origin to one point: one reverse Dijkstra."""
        target, off_t = self.network.snap(np.asarray(destination).reshape(1, 2))
        nodes, off_o = self.network.snap(origins)
        seconds, metres = self._search(int(target[0]), reverse=True)
        return self._combine(off_o, (seconds[nodes], metres[nodes]), np.full(len(nodes), off_t[0]))

    def matrix(self, origins: FloatArray, destinations: FloatArray) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)`` between every origin and destination.

        One search per distinct destination node (reverse) or per distinct origin node
        (forward), whichever is fewer.
        """
        o_nodes, o_off = self.network.snap(origins)
        d_nodes, d_off = self.network.snap(destinations)
        shape = (len(o_nodes), len(d_nodes))
        core_s, core_m = np.empty(shape), np.empty(shape)
        if len(set(d_nodes.tolist())) <= len(set(o_nodes.tolist())):
            for j, node in enumerate(d_nodes):
                s, m = self._search(int(node), reverse=True)
                core_s[:, j], core_m[:, j] = s[o_nodes], m[o_nodes]
        else:
            for i, node in enumerate(o_nodes):
                s, m = self._search(int(node), reverse=False)
                core_s[i, :], core_m[i, :] = s[d_nodes], m[d_nodes]
        return self._combine(o_off[:, None], (core_s, core_m), d_off[None, :])
