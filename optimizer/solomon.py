"""Solomon VRPTW instances as plain data: a text reader, the mapping onto `plan`'s model, a checker.

Pure: the functions take the *text* of a file (the caller reads it) and return frozen data.
The format is VRPLIB's CVRPTW layout (``NAME``, ``VEHICLES``, ``CAPACITY``, ``SERVICE_TIME``,
``NODE_COORD_SECTION``, ``DEMAND_SECTION``, ``TIME_WINDOW_SECTION``, node 1 = the depot) and
VRPLIB solutions (``Route #k: c1 c2 ...``, customers 1..n, depot omitted).

The mapping (see `optimizer.problem`): every one of the ``vehicles`` is an `Engineer` at the
depot with ``capacity`` and one shift ``[0, depot due]``; every customer is a `Ticket` with
``not_before`` = ready, a hard ``arrive_by`` = due, ``service_s`` and ``demand``. Instance
time units become integer "seconds" x `SCALE`; travel time is the Euclidean distance x
`SCALE` rounded **up**, so a plan feasible on the integer axis is feasible with exact times
(every window bound and service time is an exact multiple of `SCALE`). The distance the plan
minimises ("metres") is each arc truncated to one decimal (the DIMACS convention of
``bks_dimacs.csv``) x `SCALE`: the objective is exactly the reported distance.

`check_routes` re-checks routes with exact floating-point times, independently of the
planner and of `optimizer.validate`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from optimizer.model import Engineer, Location, Ticket
from optimizer.params import PlanParams
from optimizer.travel import MatrixTravelTimes
from optimizer.world import DispatchWorld

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SCALE = 10_000  # integer units per instance time/distance unit
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # any fixed instant: offset 0 of the time axis
_TOL = 1e-9  # float slack of the exact checker


@dataclass(frozen=True, eq=False)
class SolomonInstance:
    """One VRPTW instance; arrays are indexed by node, node 0 the depot.

    Parameters
    ----------
    name
        Instance name (``C101``).
    vehicles, capacity
        Fleet size and capacity per vehicle.
    xy
        ``(n + 1, 2)`` coordinates.
    demand, ready, due, service
        Per node; the depot's ``due`` is the latest return.
    """

    name: str
    vehicles: int
    capacity: int
    xy: FloatArray
    demand: IntArray
    ready: FloatArray
    due: FloatArray
    service: FloatArray

    @property
    def customers(self) -> int:
        """Number of customers (nodes 1..n)."""
        return len(self.demand) - 1

    def distances(self) -> FloatArray:
        """Return the exact Euclidean distance matrix over all nodes."""
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        out: FloatArray = np.sqrt((diff**2).sum(axis=2))
        return out


def parse_instance(text: str) -> SolomonInstance:
    """Read an instance from VRPLIB CVRPTW text.

    Parameters
    ----------
    text
        The file's content.

    Returns
    -------
    SolomonInstance
        The instance.

    Raises
    ------
    ValueError
        A required header or section is missing or inconsistent.
    """
    header: dict[str, str] = {}
    sections: dict[str, list[list[float]]] = {}
    current: list[list[float]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            current = sections.setdefault(line, [])
        elif ":" in line and not line[0].isdigit() and not line.startswith("-"):
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
            current = None
        elif current is not None:
            current.append([float(v) for v in line.split()])
    for key in ("NAME", "VEHICLES", "CAPACITY"):
        if key not in header:
            raise ValueError(f"{key}: missing header")
    need = ("NODE_COORD_SECTION", "DEMAND_SECTION", "TIME_WINDOW_SECTION")
    for name in need:
        if name not in sections:
            raise ValueError(f"{name}: missing section")
    coords, demand, windows = (np.array(sections[n], dtype=np.float64) for n in need)
    n = len(coords)
    if len(demand) != n or len(windows) != n or int(header.get("DIMENSION", n)) != n:
        raise ValueError("DIMENSION: sections disagree on the number of nodes")
    service = np.full(n, float(header.get("SERVICE_TIME", "0")))
    service[0] = 0.0  # the depot has no service time
    if "SERVICE_TIME_SECTION" in sections:
        service = np.array(sections["SERVICE_TIME_SECTION"], dtype=np.float64)[:, 1]
    return SolomonInstance(
        name=header["NAME"], vehicles=int(header["VEHICLES"]), capacity=int(header["CAPACITY"]),
        xy=coords[:, 1:3].copy(), demand=demand[:, 1].astype(np.int64),
        ready=windows[:, 1].copy(), due=windows[:, 2].copy(), service=service,
    )  # fmt: skip


def parse_solution(text: str) -> tuple[tuple[tuple[int, ...], ...], float | None]:
    """Read VRPLIB solution text: routes of customer ids (1..n) and the stated cost, if any."""
    routes: list[tuple[int, ...]] = []
    cost: float | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.lower().startswith("route"):
            routes.append(tuple(int(v) for v in line.split(":", 1)[1].split()))
        elif line.lower().startswith("cost"):
            cost = float(line.split()[1])
    return tuple(r for r in routes if r), cost


def dimacs_distance(inst: SolomonInstance, routes: Sequence[Sequence[int]]) -> float:
    """Return the routes' length with each arc truncated to one decimal (DIMACS convention).

    Summed in integer tenths, so the result is exact: e.g. an arc of 18.681 counts 18.6.
    """
    tenths = np.floor(inst.distances() * 10.0 + _TOL).astype(np.int64)
    return sum(int(tenths[a, b]) for r in routes for a, b in _arcs(r)) / 10.0


def exact_distance(inst: SolomonInstance, routes: Sequence[Sequence[int]]) -> float:
    """Return the routes' length in exact (untruncated) Euclidean distance."""
    d = inst.distances()
    return float(sum(d[a, b] for r in routes for a, b in _arcs(r)))


def _arcs(route: Sequence[int]) -> list[tuple[int, int]]:
    nodes = [0, *route, 0]
    return list(zip(nodes[:-1], nodes[1:], strict=False))


def check_routes(inst: SolomonInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    """Return every VRPTW rule ``routes`` break with exact floating-point times (empty: feasible).

    Checked: every customer served exactly once, at most ``vehicles`` routes, each route's
    load within ``capacity``, every service started by its due time (waiting until ready is
    allowed), and every vehicle back at the depot by the depot's due time.
    """
    out: list[str] = []
    seen = [c for r in routes for c in r]
    for c in range(1, inst.customers + 1):
        if seen.count(c) != 1:
            out.append(f"customer {c} is served {seen.count(c)} times")
    out.extend(f"customer {c} does not exist" for c in seen if not 1 <= c <= inst.customers)
    used = sum(1 for r in routes if r)
    if used > inst.vehicles:
        out.append(f"{used} routes, more than the {inst.vehicles} vehicles")
    d = inst.distances()
    for k, route in enumerate(routes):
        nodes = [c for c in route if 1 <= c <= inst.customers]
        load = int(inst.demand[nodes].sum())
        if load > inst.capacity:
            out.append(f"route {k}: load {load} over capacity {inst.capacity}")
        time, prev = 0.0, 0
        for c in nodes:
            time = max(time + d[prev, c], inst.ready[c])
            if time > inst.due[c] + _TOL:
                out.append(f"route {k}: customer {c} starts at {time:.4f}, due {inst.due[c]:g}")
            time += inst.service[c]
            prev = c
        back = time + d[prev, 0]
        if back > inst.due[0] + _TOL:
            out.append(f"route {k}: back at the depot at {back:.4f}, due {inst.due[0]:g}")
    return out


@dataclass(frozen=True, eq=False)
class SolomonModel:
    """An instance mapped onto `optimizer.plan`'s inputs (see the module docstring)."""

    world: DispatchWorld
    tickets: tuple[Ticket, ...]
    travel: MatrixTravelTimes
    now: int


def _location(x: float, y: float) -> Location:
    # Plane coordinates (0..100) as degrees: only identities matter, travel is the matrix.
    return Location(lat=y / 10.0, lon=x / 10.0)


def to_model(inst: SolomonInstance) -> SolomonModel:
    """Map ``inst`` onto engineers, tickets and a travel matrix (see the module docstring)."""
    pts = inst.xy
    uniq, inverse = np.unique(pts, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    diff = uniq[:, None, :] - uniq[None, :, :]
    dist = np.sqrt((diff**2).sum(axis=2))
    seconds = np.ceil(dist * SCALE - _TOL).astype(np.int64)
    metres = np.floor(dist * 10.0 + _TOL).astype(np.int64) * (SCALE // 10)
    travel = MatrixTravelTimes(
        np.array([(y / 10.0, x / 10.0) for x, y in uniq], dtype=np.float64), seconds, metres
    )
    loc = [_location(float(x), float(y)) for x, y in uniq[inverse]]
    shift = ((0, int(round(inst.due[0] * SCALE))),)
    engineers = tuple(
        Engineer(v, loc[0], {}, shift, home=loc[0], capacity=inst.capacity)
        for v in range(1, inst.vehicles + 1)
    )
    tickets = tuple(
        Ticket(
            c, loc[c], c, {}, int(round(inst.service[c] * SCALE)),
            arrive_by=int(round(inst.due[c] * SCALE)), hard_arrival=True,
            not_before=int(round(inst.ready[c] * SCALE)), demand=int(inst.demand[c]),
        )
        for c in range(1, inst.customers + 1)
    )  # fmt: skip
    return SolomonModel(DispatchWorld(_EPOCH, engineers), tickets, travel, 0)


def distance_params(base: PlanParams | None = None, *, vehicles: int = 25) -> PlanParams:
    """Return `PlanParams` whose objective is pure distance (DIMACS metres x `SCALE`).

    No promise is soft in a Solomon instance (every due time is hard), so with drive seconds
    weighted 0 and metres weighted 1 the points are exactly the truncated distance x `SCALE`.
    The greedy construction may try every one of the ``vehicles`` (all start at the depot, so
    "the nearest 12" would be an arbitrary 12 of identical vans).
    """
    params = base or PlanParams()
    return replace(
        params, travel_weight=0, distance_weight=1,
        greedy_candidates=max(params.greedy_candidates, vehicles),
    )  # fmt: skip


def gap(distance: float, bks: float) -> float:
    """Return ``distance / bks - 1`` (a fraction; x100 for percent)."""
    return distance / bks - 1.0 if bks > 0 else math.inf
