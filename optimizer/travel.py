"""Travel times and distances between points: one Protocol, a geodesic model and a fake.

Points are ``(n, 2)`` float arrays of ``(lat, lon)`` degrees (see `optimizer.world.coordinates`);
answers are integer seconds and integer metres.

Every provider must satisfy the **triangle inequality** on seconds,
``t(a, c) <= t(a, b) + t(b, c)``: the recommendation's pruning relies on it (a pickup detour
is never faster than driving straight). The geodesic model satisfies it by construction (see
`RoadModel`), the road network because its times are shortest paths, and tests that use
`MatrixTravelTimes` must feed it metric matrices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# geopy's great_circle radius (km -> m), so that tests can compare to 1e-6.
EARTH_RADIUS_M = 6_371_009.0
# Seconds/metres standing for "no road between these points" (a road network's islands).
UNREACHABLE = 1 << 40


@runtime_checkable
class TravelTimes(Protocol):
    """Travel seconds and metres between points.

    Implementations: `GeodesicTravelTimes`, `optimizer.network.RoadNetworkTravelTimes` and the
    fake `MatrixTravelTimes`.
    """

    def matrix(self, origins: FloatArray, destinations: FloatArray) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)``, both of shape ``(len(origins), len(destinations))``."""
        ...

    def many_to_one(
        self, origins: FloatArray, destination: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)`` of shape ``(len(origins),)`` from each origin to one point.

        The fast path of a recommendation: every engineer's time to a ticket's site (a road
        network answers it with one reverse search from the site).
        """
        ...


def _points(points: FloatArray, name: str) -> FloatArray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name}: expected an (n, 2) array of (lat, lon), got {arr.shape}")
    return arr


def haversine_m(origins: FloatArray, destinations: FloatArray) -> FloatArray:
    """Return the great-circle distances in metres between every origin and destination.

    Parameters
    ----------
    origins
        ``(n, 2)`` array of ``(lat, lon)`` degrees.
    destinations
        ``(m, 2)`` array of ``(lat, lon)`` degrees.

    Returns
    -------
    numpy.ndarray
        ``(n, m)`` float metres on a sphere of radius `EARTH_RADIUS_M`.
    """
    a = np.radians(_points(origins, "origins"))
    b = np.radians(_points(destinations, "destinations"))
    lat1, lon1 = a[:, 0:1], a[:, 1:2]
    lat2, lon2 = b[:, 0], b[:, 1]
    h = (
        np.sin((lat2 - lat1) * 0.5) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) * 0.5) ** 2
    )
    out: FloatArray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out


# Defaults for Guangdong: dense Pearl River Delta cities, then provincial roads and expressways.
_GUANGDONG_BANDS: tuple[tuple[float, float], ...] = (
    (3_000.0, 20.0),  # first 3 km of road: city streets, lights, congestion
    (15_000.0, 35.0),  # up to 15 km: arterial roads
    (60_000.0, 60.0),  # up to 60 km: urban expressways, national roads
    (math.inf, 85.0),  # beyond: expressways (120 km/h limit, with tolls and ramps)
)


@dataclass(frozen=True, slots=True)
class RoadModel:
    """Turns straight-line distance into road distance and driving time.

    Parameters
    ----------
    circuity
        Road metres per straight-line metre (>= 1). Guangdong default 1.35.
    bands
        ``((upper_road_metres, km_per_hour), ...)``, increasing limits ending with ``inf``:
        the first band's metres are driven at its speed, the next band's at the next speed, and
        so on. Speeds must not decrease.

    Notes
    -----
    Time is a piecewise-linear function of road metres with non-increasing slope (speeds do not
    decrease), so it is concave and zero at zero, hence subadditive; with great-circle
    distances (a metric) and times rounded *up*, the triangle inequality holds exactly in
    integer seconds.
    """

    circuity: float = 1.35
    bands: tuple[tuple[float, float], ...] = _GUANGDONG_BANDS

    def __post_init__(self) -> None:
        if not (math.isfinite(self.circuity) and self.circuity >= 1.0):
            raise ValueError(f"circuity: must be a finite number >= 1, got {self.circuity}")
        if not self.bands or self.bands[-1][0] != math.inf:
            raise ValueError("bands: must be non-empty and end with an infinite upper limit")
        limits = [limit for limit, _ in self.bands]
        speeds = [speed for _, speed in self.bands]
        if any(b <= a for a, b in zip(limits, limits[1:], strict=False)) or limits[0] <= 0:
            raise ValueError("bands: upper limits must be positive and increasing")
        if any(s <= 0 for s in speeds) or any(
            b < a for a, b in zip(speeds, speeds[1:], strict=False)
        ):
            raise ValueError("bands: speeds must be positive and must not decrease")

    def seconds(self, road_m: FloatArray) -> FloatArray:
        """Return float driving seconds for road distances in metres (piecewise by band)."""
        total = np.zeros_like(road_m, dtype=np.float64)
        lower = 0.0
        for upper, kmh in self.bands:
            part = np.clip(road_m - lower, 0.0, upper - lower)
            total += part / (kmh / 3.6)
            lower = upper
        return total


@dataclass(frozen=True, slots=True)
class GeodesicTravelTimes:
    """Great-circle distance (vectorised haversine) through a `RoadModel`.

    Parameters
    ----------
    road
        The circuity and speed bands; defaults are realistic for Guangdong roads.
    """

    road: RoadModel = RoadModel()

    def matrix(self, origins: FloatArray, destinations: FloatArray) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)`` between every origin and destination (see `TravelTimes`)."""
        road_m = haversine_m(origins, destinations) * self.road.circuity
        seconds = np.ceil(self.road.seconds(road_m)).astype(np.int64)
        return seconds, np.rint(road_m).astype(np.int64)

    def many_to_one(
        self, origins: FloatArray, destination: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)`` from each origin to one destination."""
        seconds, metres = self.matrix(origins, destination)
        return seconds[:, 0], metres[:, 0]


class MatrixTravelTimes:
    """The fake: travel between indexed points read from explicit matrices.

    Points are looked up by exact coordinates among ``points``; use it in tests with small,
    metric matrices (the pruning assumes the triangle inequality).

    Parameters
    ----------
    points
        ``(n, 2)`` array of the known points.
    seconds
        ``(n, n)`` integer seconds.
    metres
        ``(n, n)`` integer metres; defaults to zeros.
    """

    def __init__(
        self, points: FloatArray, seconds: IntArray, metres: IntArray | None = None
    ) -> None:
        pts = _points(points, "points")
        n = len(pts)
        sec = np.asarray(seconds, dtype=np.int64)
        met = np.zeros((n, n), dtype=np.int64) if metres is None else np.asarray(metres, np.int64)
        if sec.shape != (n, n) or met.shape != (n, n):
            raise ValueError(f"seconds: matrices must have shape ({n}, {n})")
        if (sec < 0).any() or (met < 0).any():
            raise ValueError("seconds: travel must not be negative")
        self._index = {(float(lat), float(lon)): i for i, (lat, lon) in enumerate(pts)}
        if len(self._index) != n:
            raise ValueError("points: must be distinct")
        self._seconds = sec
        self._metres = met
        self.calls = 0

    def _rows(self, points: FloatArray, name: str) -> IntArray:
        try:
            return np.array(
                [self._index[(float(lat), float(lon))] for lat, lon in _points(points, name)],
                dtype=np.int64,
            )
        except KeyError as exc:
            raise ValueError(f"{name}: unknown point {exc.args[0]}") from None

    def matrix(self, origins: FloatArray, destinations: FloatArray) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)`` between every origin and destination."""
        self.calls += 1
        rows, cols = self._rows(origins, "origins"), self._rows(destinations, "destinations")
        return self._seconds[np.ix_(rows, cols)], self._metres[np.ix_(rows, cols)]

    def many_to_one(
        self, origins: FloatArray, destination: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)`` from each origin to one destination."""
        seconds, metres = self.matrix(origins, destination)
        return seconds[:, 0], metres[:, 0]


FREE_FLOW: tuple[float, ...] = (1.0,) * 24
# Defaults for Guangdong weekdays: the morning (07-09) and evening (17-19) rush hours drive at
# 0.65-0.75 of the free-flow speed, the hours around them at 0.85-0.9; weekends flow freely
# except a milder midday and evening slow-down. Documented in docs/scenarios.md ("Travel").
GUANGDONG_WEEKDAY: tuple[float, ...] = (
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.75, 0.65, 0.85, 0.95, 0.95,
    0.9, 0.95, 0.95, 0.95, 0.9, 0.7, 0.65, 0.85, 0.95, 1.0, 1.0, 1.0,
)  # fmt: skip
GUANGDONG_WEEKEND: tuple[float, ...] = (
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9, 0.9,
    0.9, 0.95, 0.95, 0.95, 0.9, 0.85, 0.85, 0.9, 0.95, 1.0, 1.0, 1.0,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SpeedProfile:
    """Speed as a share of free flow by local hour: rush hours slow every leg.

    Parameters
    ----------
    weekday, weekend
        24 factors each (hour 0 first), > 0: at 0.7 every leg takes 1 / 0.7 of its
        free-flow time; ``1`` everywhere is free flow (the travel model unchanged).
    timezone
        The IANA zone whose clock the hours are read on.
    """

    weekday: tuple[float, ...] = FREE_FLOW
    weekend: tuple[float, ...] = FREE_FLOW
    timezone: str = "Asia/Shanghai"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, values in (("weekday", self.weekday), ("weekend", self.weekend)):
            if len(values) != 24 or not all(math.isfinite(v) and v > 0 for v in values):
                raise ValueError(f"{name}: 24 finite speed factors > 0, got {values!r}")
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    @property
    def free_flow(self) -> bool:
        return all(v == 1.0 for v in (*self.weekday, *self.weekend))

    def factor(self, moment: datetime) -> float:
        """The speed factor at an aware moment (its local hour; Saturday and Sunday: weekend)."""
        local = moment.astimezone(self._zone)
        hours = self.weekend if local.weekday() >= 5 else self.weekday
        return hours[local.hour]


GUANGDONG_RUSH_HOURS = SpeedProfile(GUANGDONG_WEEKDAY, GUANGDONG_WEEKEND)


@dataclass(frozen=True, slots=True)
class ScaledTravelTimes:
    """Another model's times divided by a speed factor, rounded up; metres unchanged.

    ``ceil(t / f)`` is monotone and subadditive on integers, so the triangle inequality of the
    inner model survives (``ceil((a + b) / f) <= ceil(a / f) + ceil(b / f)``).
    """

    inner: TravelTimes
    speed: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError(f"speed: must be a finite number > 0, got {self.speed}")

    def _scaled(self, seconds: IntArray) -> IntArray:
        out: IntArray = np.ceil(seconds / self.speed).astype(np.int64)
        return np.where(seconds >= UNREACHABLE, seconds, out)

    def matrix(self, origins: FloatArray, destinations: FloatArray) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)``: the inner model's seconds at this speed."""
        seconds, metres = self.inner.matrix(origins, destinations)
        return self._scaled(seconds), metres

    def many_to_one(
        self, origins: FloatArray, destination: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """Return ``(seconds, metres)`` from each origin to one destination at this speed."""
        seconds, metres = self.inner.many_to_one(origins, destination)
        return self._scaled(seconds), metres


@dataclass(frozen=True, slots=True)
class TimedTravelTimes:
    """A travel model whose speed follows the time of day (`SpeedProfile`).

    Asked directly it answers free flow; `at` gives the model at a moment. The optimizer's
    entry points resolve it at their ``now`` (`travel_at`), so a dispatch decision, a plan
    and the simulator's drive all read the same profile. A plan's later legs use the speed of
    the planning moment: an approximation (no time-dependent routing) the simulator measures.
    """

    inner: TravelTimes
    profile: SpeedProfile

    def matrix(self, origins: FloatArray, destinations: FloatArray) -> tuple[IntArray, IntArray]:
        """Return free-flow ``(seconds, metres)`` (see `at` for a moment's)."""
        return self.inner.matrix(origins, destinations)

    def many_to_one(
        self, origins: FloatArray, destination: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """Return free-flow ``(seconds, metres)`` from each origin to one destination."""
        return self.inner.many_to_one(origins, destination)

    def at(self, moment: datetime) -> TravelTimes:
        """The model at an aware moment: the inner one when the factor there is 1."""
        speed = self.profile.factor(moment)
        return self.inner if speed == 1.0 else ScaledTravelTimes(self.inner, speed)


def travel_at(travel: TravelTimes, moment: datetime) -> TravelTimes:
    """The travel model at a moment: a `TimedTravelTimes` resolved there, any other as is."""
    return travel.at(moment) if isinstance(travel, TimedTravelTimes) else travel
