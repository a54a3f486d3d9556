"""Regions, depots and where people and sites are: sampling and jittering real places."""

from __future__ import annotations

import functools
from datetime import time

import numpy as np
import numpy.typing as npt

from dispatch.world.model import LOCAL_TIMEZONE, Row
from dispatch.world.places import PREFECTURES, PlaceKind, Places, haversine_km, load_places
from inventory.depot_times import DEFAULT_PICK_MIN

KM_PER_DEGREE = 111.32

# Where sites are: most at cities, fewer in towns, a rural share that makes the rural
# policy matter. Inside a kind, places are weighted by population, with a floor because
# GeoNames' 0 means "unknown", not "empty".
KIND_SHARES: dict[PlaceKind, float] = {
    PlaceKind.CITY: 0.6,
    PlaceKind.TOWN: 0.25,
    PlaceKind.RURAL: 0.15,
}
POPULATION_FLOOR: dict[PlaceKind, int] = {
    PlaceKind.CITY: 100_000,
    PlaceKind.TOWN: 10_000,
    PlaceKind.RURAL: 2_000,
}
# How far a site may lie from its place (km): a city sprawls, a village does not.
SITE_RADIUS_KM: dict[PlaceKind, float] = {
    PlaceKind.CITY: 4.0,
    PlaceKind.TOWN: 2.5,
    PlaceKind.RURAL: 1.5,
}
ENGINEER_RADIUS_KM = 0.3  # a home in town, a few hundred metres from its centre
CENTRAL_SEAT = "guangzhou"
PART_TIME_DEPOT_SHARE = 0.2  # regional depots open 08:00-20:00 instead of 7x24
PART_TIME_HOURS = (time(8), time(20))


def region_rows(places: Places) -> list[Row]:
    """The 21 prefecture-level cities at their seats' coordinates."""
    rows = []
    for i, prefecture in enumerate(PREFECTURES):
        seat = places.seat(i)
        rows.append(
            {
                "id": i + 1,
                "code": prefecture.code,
                "name": prefecture.name,
                "name_local": prefecture.name_zh,
                "lat": float(places.lat[seat]),
                "lon": float(places.lon[seat]),
                "timezone": LOCAL_TIMEZONE,
            }
        )
    return rows


def place_weights(places: Places) -> npt.NDArray[np.float64]:
    """Demand weight of each place: its kind's share spread by (floored) population."""
    kinds = np.array([k.value for k in places.kind])
    weights = np.zeros(len(places))
    for kind, share in KIND_SHARES.items():
        mask = kinds == kind.value
        floored = np.maximum(places.population[mask], POPULATION_FLOOR[kind]).astype(float)
        weights[mask] = share * floored / floored.sum()
    return weights


def region_weights(places: Places, weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Demand weight of each region (prefecture order): the sum over its places."""
    total = np.bincount(places.prefecture, weights, minlength=len(PREFECTURES))
    return np.asarray(total, dtype=np.float64)


def sample_places(
    weights: npt.NDArray[np.float64], count: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """`count` place indices drawn (with replacement) in proportion to `weights`."""
    return rng.choice(weights.size, size=count, p=weights / weights.sum())


def jitter(
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    radius_km: npt.NDArray[np.float64] | float,
    rng: np.random.Generator,
) -> tuple[list[float], list[float]]:
    """Points uniform in a disk of `radius_km` around each (lat, lon), rounded to ~0.1 m."""
    r = np.asarray(radius_km) * np.sqrt(rng.random(lat.size))
    theta = rng.uniform(0.0, 2 * np.pi, lat.size)
    dlat = r * np.cos(theta) / KM_PER_DEGREE
    dlon = r * np.sin(theta) / (KM_PER_DEGREE * np.cos(np.radians(lat)))
    return np.round(lat + dlat, 6).tolist(), np.round(lon + dlon, 6).tolist()


def site_radius(places: Places, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The jitter radius of each sampled place, by its kind."""
    return np.array([SITE_RADIUS_KM[places.kind[i]] for i in rows.tolist()])


@functools.cache
def depot_places(count: int) -> tuple[int, ...]:
    """Places of `count` depots: Guangzhou's seat first, then greedy p-median picks.

    Each pick is the city or town that most lowers the demand-weighted distance from every
    place to its nearest depot, which spreads depots like a network planner would. It
    depends only on `count` (not the seed), so it is cached.
    """
    places = load_places()
    weights = place_weights(places)
    candidates = np.flatnonzero(np.array([k != PlaceKind.RURAL for k in places.kind]))
    distance = haversine_km(
        places.lat[candidates, None],
        places.lon[candidates, None],
        places.lat[None, :],
        places.lon[None, :],
    )
    first = places.seat(next(i for i, p in enumerate(PREFECTURES) if p.code == CENTRAL_SEAT))
    chosen = [first]
    nearest = haversine_km(places.lat[first], places.lon[first], places.lat, places.lon)
    for _ in range(min(count, candidates.size) - 1):
        cost = (np.minimum(distance, nearest[None, :]) * weights[None, :]).sum(axis=1)
        cost[np.isin(candidates, chosen)] = np.inf
        best = int(np.argmin(cost))
        chosen.append(int(candidates[best]))
        nearest = np.minimum(nearest, distance[best])
    return tuple(chosen)


def depot_rows(places: Places, count: int, rng: np.random.Generator) -> list[Row]:
    """The central warehouse in Guangzhou and `count - 1` regional depots, ids from 1."""
    rows: list[Row] = []
    per_region: dict[int, int] = {}
    part_time = rng.random(count) < PART_TIME_DEPOT_SHARE
    for i, place in enumerate(depot_places(count)):
        region = int(places.prefecture[place])
        central = i == 0
        per_region[region] = per_region.get(region, 0) + (0 if central else 1)
        opens, closes = PART_TIME_HOURS if part_time[i] and not central else (None, None)
        rows.append(
            {
                "id": i + 1,
                "code": "CW-GUANGZHOU"
                if central
                else f"RD-{PREFECTURES[region].code.upper()}-{per_region[region]}",
                "name": "Central warehouse Guangzhou"
                if central
                else f"{places.name[place]} regional depot",
                "kind": "central" if central else "regional",
                "region_id": region + 1,
                "place": places.name[place],
                "lat": float(places.lat[place]),
                "lon": float(places.lon[place]),
                "opens_at": opens,
                "closes_at": closes,
                "pick_min": DEFAULT_PICK_MIN,
            }
        )
    return rows
