"""PyVRP beside our planner on the same Solomon-style instances (issue 20), benchmark only.

PyVRP is a benchmark extra (``pip install -e ".[bench]"``), imported only inside
`solve_pyvrp`: the planner never depends on it. It gets the same instance with the same
integer conventions as our mapping (`optimizer.solomon`): distances are each arc truncated to
one decimal (DIMACS) x 10, travel times the exact Euclidean time x 10 rounded up, windows and
service times x 10. Its routes are measured and checked by the same functions as ours
(`optimizer.solomon.dimacs_distance`, `check_routes`: exact floating-point times).

`generate` makes Solomon-style instances of any size from a seed (the 200-customer set of
issue 20): R (uniform), C (clustered) or RC (half and half) customers on a 0-140 square,
type 1 (short horizon, small vans) or type 2 (long horizon, big vans), windows centred on a
reachable instant, the Solomon demand and service times. There is no best-known solution for
them; gaps are to the best distance any run found.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from optimizer import PlanParams
from optimizer.solomon import (
    SolomonInstance,
    check_routes,
    dimacs_distance,
)
from spares.bench_solomon import plan_instance

_SIDE = 140.0  # coordinates in [0, 140]^2, as in the Gehring-Homberger 200-customer set
_HORIZON = {("R", 1): 230, ("C", 1): 1_236, ("RC", 1): 240,
            ("R", 2): 1_000, ("C", 2): 3_390, ("RC", 2): 960}  # fmt: skip
_CAPACITY = {1: 200, 2: 1_000}
_WIDTH = {1: (10, 60), 2: (100, 400)}  # half-widths of the windows drawn per type
_SERVICE = {"R": 10, "C": 90, "RC": 10}


def generate(kind: str, family: int, customers: int, seed: int) -> SolomonInstance:
    """A Solomon-style instance: ``kind`` R, C or RC, ``family`` 1 or 2, integer data."""
    rng = np.random.default_rng(seed)
    depot = np.array([[_SIDE / 2, _SIDE / 2]])
    n_clustered = {"R": 0, "C": customers, "RC": customers // 2}[kind]
    centres = rng.uniform(10, _SIDE - 10, size=(max(1, customers // 20), 2))
    around = centres[rng.integers(len(centres), size=n_clustered)]
    clustered = around + rng.normal(0, 4, size=(n_clustered, 2))
    uniform = rng.uniform(0, _SIDE, size=(customers - n_clustered, 2))
    xy = np.round(np.clip(np.concatenate([depot, clustered, uniform]), 0, _SIDE))
    horizon, service = _HORIZON[(kind, family)], _SERVICE[kind]
    reach = np.ceil(np.sqrt(((xy - xy[0]) ** 2).sum(axis=1)))
    lo, hi = _WIDTH[family]
    latest_start = horizon - reach - service  # a direct trip out and back still fits
    centre = rng.uniform(reach, np.maximum(reach, latest_start))
    half = rng.integers(lo, hi + 1, size=len(xy))
    ready = np.maximum(0, np.floor(centre - half))
    due = np.minimum(latest_start, np.ceil(centre + half))
    ready[0], due[0] = 0, horizon
    demand = rng.integers(1, 41, size=len(xy))
    demand[0] = 0
    service_s = np.full(len(xy), service, dtype=np.float64)
    service_s[0] = 0
    return SolomonInstance(
        f"{kind}{family}_{customers}_s{seed}", max(25, customers // 4), _CAPACITY[family],
        xy.astype(np.float64), demand.astype(np.int64), ready.astype(np.float64),
        due.astype(np.float64), service_s,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PyvrpRun:
    """One PyVRP solve: routes (customer numbers), DIMACS distance, checks, wall time."""

    routes: tuple[tuple[int, ...], ...]
    distance: float
    feasible: bool
    seconds: float


def solve_pyvrp(inst: SolomonInstance, seconds: float, seed: int) -> PyvrpRun:
    """Solve ``inst`` with PyVRP for ``seconds`` of wall clock (one core)."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    scale = 10
    m = Model()
    places = [m.add_location(x=float(x), y=float(y)) for x, y in inst.xy]
    m.add_depot(places[0], tw_early=0, tw_late=int(inst.due[0] * scale))
    m.add_vehicle_type(
        num_available=inst.vehicles, capacity=int(inst.capacity), tw_early=0,
        tw_late=int(inst.due[0] * scale),
    )  # fmt: skip
    for i in range(1, len(inst.xy)):
        m.add_client(
            places[i], delivery=int(inst.demand[i]), service_duration=int(inst.service[i] * scale),
            tw_early=int(inst.ready[i] * scale), tw_late=int(inst.due[i] * scale),
        )  # fmt: skip
    d = inst.distances()
    for a, pa in enumerate(places):
        for b, pb in enumerate(places):
            tenths = int(math.floor(d[a, b] * 10 + 1e-9))
            m.add_edge(pa, pb, distance=tenths, duration=int(math.ceil(d[a, b] * scale - 1e-9)))
    started = time.perf_counter()
    result = m.solve(stop=MaxRuntime(seconds), seed=seed, display=False)
    wall = time.perf_counter() - started
    routes = tuple(tuple(int(a.idx) + 1 for a in r if _is_client(a)) for r in result.best.routes())
    ok = result.is_feasible() and not check_routes(inst, routes)
    return PyvrpRun(routes, dimacs_distance(inst, routes), ok, wall)


def worse(values: Sequence[float]) -> float:
    """The worse (larger) of the seeds' values: dependable quality, not a lucky seed."""
    return max(values)


def _is_client(activity: object) -> bool:
    """A client visit (PyVRP 0.14 routes list activities; ``idx`` counts clients from 0)."""
    flag = getattr(activity, "is_client")  # noqa: B009 - a method or a property by version
    return bool(flag() if callable(flag) else flag)


@dataclass(frozen=True, slots=True)
class SideBySide:
    """One instance: our and PyVRP's distance per seed (the worse counts), and the reference."""

    instance: str
    reference: float  # the BKS, or the best distance any run found (generated instances)
    ours: tuple[float, ...]
    theirs: tuple[float, ...]
    ours_feasible: bool
    theirs_feasible: bool
    ours_seconds: float
    theirs_seconds: float

    @property
    def ours_gap(self) -> float:
        """Our worse seed's gap to the reference, in percent."""
        return 100 * (worse(self.ours) / self.reference - 1)

    @property
    def theirs_gap(self) -> float:
        """PyVRP's worse seed's gap to the reference, in percent."""
        return 100 * (worse(self.theirs) / self.reference - 1)


def solve_ours(inst: SolomonInstance, params: PlanParams) -> tuple[float, bool, float]:
    """Our planner on ``inst``: DIMACS distance, both checks passed, wall seconds."""
    result, routes, wall = plan_instance(inst, params)
    served = sum(len(r) for r in routes)
    ok = not result.violations and not check_routes(inst, routes) and served == inst.customers
    return dimacs_distance(inst, routes), ok, wall


def compare(
    inst: SolomonInstance, params: PlanParams, seconds: float, seeds: Sequence[int],
    bks: float | None,
) -> SideBySide:  # fmt: skip
    """Both solvers, each seed, the same wall-clock limit."""
    ours = [solve_ours(inst, replace(params, seed=s * max(1, params.workers))) for s in seeds]
    theirs = [solve_pyvrp(inst, seconds, s) for s in seeds]
    found = [d for d, ok, _ in ours if ok] + [t.distance for t in theirs if t.feasible]
    reference = bks if bks is not None else min(found, default=math.nan)
    return SideBySide(
        inst.name, reference, tuple(d for d, _, _ in ours), tuple(t.distance for t in theirs),
        all(ok for _, ok, _ in ours), all(t.feasible for t in theirs),
        max(w for _, _, w in ours), max(t.seconds for t in theirs),
    )  # fmt: skip


GENERATED = (("R", 1), ("C", 1), ("RC", 1), ("R", 2), ("C", 2), ("RC", 2))


def generated_set(customers: int, seed: int = 20) -> list[SolomonInstance]:
    """One instance of each Solomon family, fixed seeds (``seed``, ``seed + 1``, ...)."""
    return [generate(k, f, customers, seed + i) for i, (k, f) in enumerate(GENERATED)]


def side_by_side_table(rows: Sequence[SideBySide]) -> str:
    """Markdown: per instance both worse-seed gaps and the ratio; then mean, median, max."""
    lines = [
        "| instance | reference | ours (worse seed) | PyVRP (worse seed) | ours gap % "
        "| PyVRP gap % | ours s | PyVRP s | feasible |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ok = "yes" if r.ours_feasible and r.theirs_feasible else (
            f"ours {r.ours_feasible}, PyVRP {r.theirs_feasible}"
        )  # fmt: skip
        lines.append(
            f"| {r.instance} | {r.reference:.1f} | {worse(r.ours):.1f} | {worse(r.theirs):.1f} | "
            f"{r.ours_gap:.2f} | {r.theirs_gap:.2f} | {r.ours_seconds:.1f} | "
            f"{r.theirs_seconds:.1f} | {ok} |"
        )
    if rows:
        ours = [r.ours_gap for r in rows]
        theirs = [r.theirs_gap for r in rows]
        ratio = (
            statistics.fmean(ours) / statistics.fmean(theirs)
            if statistics.fmean(theirs)
            else math.inf
        )
        lines += [
            "",
            f"**ours: mean {statistics.fmean(ours):.2f} %, median {statistics.median(ours):.2f} %, "
            f"max {max(ours):.2f} %; PyVRP: mean {statistics.fmean(theirs):.2f} %, median "
            f"{statistics.median(theirs):.2f} %, max {max(theirs):.2f} %; ratio of means "
            f"{ratio:.1f}x**",
        ]
    return "\n".join(lines)
