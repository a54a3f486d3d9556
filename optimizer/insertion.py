"""Compiled evaluation of insertions: the pricing of the greedy and of `optimizer.step`.

`insertion_costs` prices one visit (with at most one pickup) inserted at every position of
one route, in one call of a numba kernel (`_costs`, compiled once and cached on disk): the
same arithmetic as `optimizer.greedy.route_cost` (`_price`), which stays the reference.
Nothing but integer arrays crosses the boundary: `KernelData` holds the problem's node,
vehicle and weight tables as arrays, built once per problem. `best_insertion` is the
greedy's cheapest insertion; `optimizer.step` runs whole search steps on `_price`.

One logic: the greedy prices the insertion it chooses with `route_cost` itself before
keeping it, and the search so prices every new best plan, so a plan's objective is always
the greedy's (and OR-Tools') pricing; if the two ever disagree (a new term added to
`route_cost` but not here), the plans stay feasible and correctly priced and
`tests/optimizer/test_insertion.py` (hypothesis: both agree on random problems and
insertions) fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from numba import njit

from optimizer.problem import PICKUP, RoutingProblem

if TYPE_CHECKING:
    from optimizer.greedy import _Tables

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

INFEASIBLE = -1  # the cost of an insertion that breaks a hard rule
_NEVER = 1 << 62  # above any cost rise
NONE, VAN, DEPOT = 0, 1, 2  # pickup modes: none, a van pickup at the start, a depot pickup

# columns of `KernelData.nodes` and `KernelData.vehicles`
_SERVICE, _EARLIEST, _LATEST, _DUE, _WEIGHT, _LOAD = range(6)
_START, _END, _DEPART, _CLOSE, _SHIFT_END, _WORK_ENDS, _CAP, _HOUR, _KM = range(9)
TWIN = 11  # the vehicle column of his twin (`RoutingProblem.twin`), -1: none


@dataclass(frozen=True, eq=False)
class KernelData:
    """A problem as the kernel reads it: integer arrays only.

    ``nodes`` (n, 17): service, earliest, latest, due, weight, load, the 10 clock columns of
    `RoutingProblem.clocks`, and 1 where those price the visit. ``vehicles`` (V, 12):
    start, end, depart, close, shift end, work ends, capacity, hour and km cost in points,
    overtime rate (fen per hour), 1 when his first visit follows committed work, and his
    twin (`TWIN`: a vehicle takes no visit while its twin's route is not empty).
    ``allowed`` (n, V) who may take each node; ``dedicated`` (n, V) the dedicated-engineer
    points; ``weights``: travel, distance and overtime weights.
    """

    seconds: IntArray
    metres: IntArray
    nodes: IntArray
    vehicles: IntArray
    allowed: BoolArray
    dedicated: IntArray
    weights: IntArray

    @classmethod
    def of(cls, p: RoutingProblem) -> KernelData:
        """The arrays of ``p`` (one pass over its nodes)."""
        n, nv = len(p.kind), p.vehicles
        nodes = np.stack([p.service, p.earliest, p.latest, p.due, p.weight, p.load], axis=1)
        # the visit's clocks (`RoutingProblem.clocks`) and whether they price it (not `due`)
        clocks = np.zeros((n, 10), dtype=np.int64) if p.clocks is None else p.clocks
        priced = (p.kind != PICKUP) & (p.clocks is not None)
        nodes = np.concatenate([nodes, clocks, priced.astype(np.int64)[:, None]], axis=1)
        w = p.params.cost_weight
        vehicles = np.stack(
            [p.starts, p.ends, p.depart, p.close, p.shift_end, p.work_ends(), p.capacity,
             p.hour_cost * w // 3_600, p.km_cost * w // 1_000,
             np.zeros(nv, dtype=np.int64) if p.overtime_cost is None else p.overtime_cost,
             np.zeros(nv, dtype=np.int64) if p.after_job is None else p.after_job,
             np.full(nv, -1, dtype=np.int64) if p.twin is None else p.twin],
            axis=1,
        )  # fmt: skip
        allowed = np.ones((n, nv), dtype=np.bool_)
        dedicated = np.zeros((n, nv), dtype=np.int64)
        for node in range(n):
            if p.allowed[node]:
                allowed[node] = False
                allowed[node, list(p.allowed[node])] = True
            if p.preferred[node]:
                dedicated[node] = p.params.dedicated_penalty
                dedicated[node, list(p.preferred[node])] = 0
        weights = np.array(
            [p.params.travel_weight, p.params.distance_weight, p.params.overtime_weight],
            dtype=np.int64,
        )
        return cls(
            np.ascontiguousarray(p.seconds, dtype=np.int64),
            np.ascontiguousarray(p.metres, dtype=np.int64),
            np.ascontiguousarray(nodes, dtype=np.int64),
            np.ascontiguousarray(vehicles, dtype=np.int64),
            allowed, dedicated, weights,
        )  # fmt: skip


_loaded = [False]  # the kernels answered once in this process (compiled or read from the cache)


def ready() -> bool:
    """Whether the kernels are loaded here: the planner uses them only then (see `load`)."""
    return _loaded[0]


def load() -> float:
    """Load the kernels now (from the disk cache, or compile them); return the seconds taken.

    `optimizer.warm_up` calls this when a server or worker starts, so that no plan pays it:
    about 0.6 s from the cache and 7-9 s for a first compile on this machine under load.
    """
    started = perf_counter()
    one = np.ones((1, 1), dtype=np.int64)
    data = KernelData(
        one, one, np.zeros((1, 17), dtype=np.int64), np.zeros((1, 12), dtype=np.int64),
        np.ones((1, 1), dtype=np.bool_), np.zeros((1, 1), dtype=np.int64),
        np.zeros(3, dtype=np.int64),
    )  # fmt: skip
    data.vehicles[:, TWIN] = -1
    none = np.zeros(0, dtype=np.int64)
    insertion_costs(data, none, 0, 0)
    lens = np.zeros(1, dtype=np.int64)
    best_insertion(
        data, np.zeros((1, 2), dtype=np.int64), lens, lens, lens, 0,
        np.array([-1], dtype=np.int64), np.zeros((1, 1), dtype=np.int64),
    )  # fmt: skip
    from optimizer import step  # the compiled search step (it imports this module)

    step.warm()
    _loaded[0] = True
    return perf_counter() - started


def insertion_costs(
    data: KernelData, route: IntArray, v: int, u: int, pick: int = -1, mode: int = NONE
) -> IntArray:
    """The cost of ``route`` of vehicle ``v`` with ``u`` inserted before each position.

    Entry ``i`` (0 to ``len(route)``) is the route's `route_cost` with ``u`` placed before
    ``route[i]`` (with ``pick`` right before it, ``mode`` `DEPOT`, or first, `VAN`), or
    `INFEASIBLE`.
    """
    out: IntArray = _costs(
        data.seconds, data.metres, data.nodes, data.vehicles, data.allowed, data.dedicated,
        data.weights, route, v, u, pick, mode,
    )  # fmt: skip
    return out


def best_insertion(
    data: KernelData, mat: IntArray, lens: IntArray, costs: IntArray, cands: IntArray, u: int,
    picks: IntArray, modes: IntArray, blink: float = 0.0, rand: FloatArray | None = None,
) -> tuple[int, int, int, int]:  # fmt: skip
    """The cheapest insertion of ``u`` over the routes of ``cands``, as the greedy defines it.

    ``mat`` (V, width) holds each vehicle's route in its first ``lens[v]`` entries and
    ``costs`` their `route_cost`. ``picks`` are ``u``'s pickup nodes (``[-1]``: none) and
    ``modes`` (candidates x picks) how each is taken (`NONE`, `VAN`, `DEPOT`; ``-1``: that
    vehicle may not). Candidates, picks and positions are tried in order and the first
    strictly cheaper wins. With ``blink`` > 0, a position is skipped when its entry of
    ``rand`` (one per position tried, in order, cycled) is below ``blink``.

    Returns ``(candidate index, pick index, position, cost rise)``; index ``-1``: none fits.
    """
    r = np.zeros(1, dtype=np.float64) if rand is None else rand
    c, k, i, d = _best(
        data.seconds, data.metres, data.nodes, data.vehicles, data.allowed, data.dedicated,
        data.weights, mat, lens, costs, cands, u, picks, modes, blink, r,
    )  # fmt: skip
    return int(c), int(k), int(i), int(d)


def reference_costs(
    p: RoutingProblem, route: Sequence[int], v: int, u: int, pick: int = -1, mode: int = NONE,
    tab: _Tables | None = None,
) -> list[int]:  # fmt: skip
    """`insertion_costs` in pure Python: `route_cost` of every sequence (the reference)."""
    from optimizer.greedy import route_cost  # the greedy imports this module

    out = []
    seq = list(route)
    for i in range(len(seq) + 1):
        if mode == NONE:
            new = [*seq[:i], u, *seq[i:]]
        elif mode == VAN:
            new = [pick, *seq[:i], u, *seq[i:]]
        else:
            new = [*seq[:i], pick, u, *seq[i:]]
        cost = route_cost(p, v, new, tab)
        out.append(INFEASIBLE if cost is None else cost)
    return out


@njit(cache=True, nogil=True)
def _costs(
    sec: IntArray, met: IntArray, nodes: IntArray, veh: IntArray, allowed: BoolArray,
    ded: IntArray, weights: IntArray, route: IntArray, v: int, u: int, pick: int, mode: int,
) -> IntArray:  # pragma: no cover - compiled; tested against reference_costs  # fmt: skip
    n = route.shape[0]
    extra = 1 if mode == 0 else 2
    out = np.empty(n + 1, dtype=np.int64)
    seq = np.empty(n + extra, dtype=np.int64)
    base_load = 0
    for k in range(n):
        base_load += nodes[route[k], 5]
    base_load += nodes[u, 5]
    if mode != 0:
        base_load += nodes[pick, 5]
    cap = veh[v, 6]
    for i in range(n + 1):
        with_visit(seq, route, n, i, u, pick, mode)
        out[i] = _price(sec, met, nodes, veh, allowed, ded, weights, seq, v, -base_load, cap)
    return out


@njit(cache=True, nogil=True)
def _best(
    sec: IntArray, met: IntArray, nodes: IntArray, veh: IntArray, allowed: BoolArray,
    ded: IntArray, weights: IntArray, mat: IntArray, lens: IntArray, costs: IntArray,
    cands: IntArray, u: int, picks: IntArray, modes: IntArray, blink: float,
    rand: FloatArray,
) -> tuple[int, int, int, int]:  # pragma: no cover - compiled  # fmt: skip
    best = _NEVER
    bc, bk, bi = -1, -1, -1
    seq = np.empty(mat.shape[1] + 2, dtype=np.int64)
    r = 0
    nr = rand.shape[0]
    for c in range(cands.shape[0]):
        v = cands[c]
        if veh[v, 11] >= 0 and lens[veh[v, 11]] > 0:
            continue  # his twin works: this vehicle of the same engineer may not
        n = lens[v]
        row = mat[v]
        cap = veh[v, 6]
        for k in range(picks.shape[0]):
            mode = modes[c, k]
            if mode < 0:
                continue
            pick = picks[k]
            load = nodes[u, 5]
            if mode != 0:
                load += nodes[pick, 5]
            for j in range(n):
                load += nodes[mat[v, j], 5]
            for i in range(n + 1):
                if blink > 0.0:
                    skip = rand[r % nr] < blink
                    r += 1
                    if skip:
                        continue
                m = with_visit(seq, row, n, i, u, pick, mode)
                cost = _price(sec, met, nodes, veh, allowed, ded, weights, seq[:m], v, -load, cap)
                if cost >= 0 and cost - costs[v] < best:
                    best = cost - costs[v]
                    bc, bk, bi = c, k, i
    return bc, bk, bi, best


@njit(cache=True, nogil=True)
def with_visit(
    seq: IntArray, route: IntArray, n: int, i: int, u: int, pick: int, mode: int
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """Write into ``seq`` the first ``n`` nodes of ``route`` with ``u`` before ``route[i]``.

    With ``pick`` first (``mode`` `VAN`) or right before ``u`` (`DEPOT`). The one place the
    kernels (`_costs`, `_best`, `optimizer.step`) build a trial route; returns its length.
    """
    m = 0
    if mode == 1:
        seq[m] = pick
        m += 1
    for k in range(i):
        seq[m] = route[k]
        m += 1
    if mode == 2:
        seq[m] = pick
        m += 1
    seq[m] = u
    m += 1
    for k in range(i, n):
        seq[m] = route[k]
        m += 1
    return m


@njit(cache=True, nogil=True)
def _price(
    sec: IntArray, met: IntArray, nodes: IntArray, veh: IntArray, allowed: BoolArray,
    ded: IntArray, weights: IntArray, seq: IntArray, v: int, load: int, cap: int,
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """`route_cost` of ``seq`` (``load``: units on board at the start)."""
    if load < 0 or load > cap:
        return -1
    prev = veh[v, 0]
    t = veh[v, 2]
    begin = t
    work_ends = veh[v, 5]
    travel = 0
    metres = 0
    late = 0
    dedicated = 0
    after = veh[v, 10]  # another job comes before the next visit: the slack applies
    for k in range(seq.shape[0]):
        node = seq[k]
        if not allowed[node, v]:
            return -1
        travel += sec[prev, node]
        metres += met[prev, node]
        t = max(t + sec[prev, node], nodes[node, 1])
        if t > nodes[node, 2]:
            return -1
        if nodes[node, 16]:
            for j in range(3):  # arrive, fix, swap: `optimizer.greedy.visit_cost`
                penalty = nodes[node, 7 + 2 * j]
                if penalty:
                    over = t - nodes[node, 6 + 2 * j]
                    margin = nodes[node, 15] if after and j < 2 else nodes[node, 14]
                    if over > 0:
                        late += penalty + penalty * nodes[node, 12] * over // 360_000
                    elif over > -margin:
                        late += penalty * nodes[node, 13] // 100
            after = 1
        else:
            due = nodes[node, 3]
            if due >= 0 and t > due:
                late += nodes[node, 4] * (t - due)
        dedicated += ded[node, v]
        load += nodes[node, 5]
        if load < 0 or load > cap:
            return -1
        t += nodes[node, 0]
        if t > work_ends:
            return -1
        prev = node
    end = veh[v, 1]
    travel += sec[prev, end]
    metres += met[prev, end]
    t += sec[prev, end]
    if t > veh[v, 3]:
        return -1
    overtime = max(0, t - veh[v, 4])
    money = (t - begin) * veh[v, 7] + metres * veh[v, 8]
    cost: int = (
        overtime * veh[v, 9] // 3_600
        + travel * weights[0]
        + metres * weights[1]
        + late
        + overtime * weights[2]
        + dedicated
        + money
    )
    return cost
