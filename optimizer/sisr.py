"""Compiled SISR for the plain time-window model: the whole ruin-and-recreate step in numba.

The same search as `optimizer.ruin` (Slack Induction by String Removals, Christiaens &
Vanden Berghe, Transportation Science 2020), with every step compiled: routes live in a
``(vehicles, width)`` integer array, each route keeps its forward departure times and
backward latest arrivals (so that an insertion is checked in O(1): start within the
window, arrival at the next node no later than the latest arrival that keeps the rest
feasible, capacity by the route's load), and one call of `_steps` runs thousands of
iterations: string (or split-string) removals around a random visit, blink insertion of
the removed visits in one of four orders, and simulated-annealing acceptance. A share of the
steps (``route_removal``) removes one whole route (short ones likelier) and reinserts its
visits into the other routes only, kept only when shorter (fewer routes on C2-like
instances, where string removals rarely empty one). Conversely a share (``new_route``) of the
string-removal steps opens an empty vehicle with the first visit to reinsert (more routes on
R2/RC2-like instances, where the shortest plans use more vans than the start). A rejected
step restores only the routes it touched. When no new best came for a tenth of the run
(``restart``), the search carries on from the best routes.

Python only decides when to stop: `improve` calls `_steps` in chunks of about 20 ms,
checks the clock between chunks, sets the temperature of the next chunk from the time used,
and reports each new best. Deterministic for a seed and an iteration limit.

It handles what `optimizer.ruin.applies` accepts. The kernels are compiled once and cached
on disk (``cache=True``); `load` reads them (or compiles them) and `optimizer.warm_up` calls
it, so that a plan with a wall-clock limit never compiles inside its limit: the solver uses
them in a child process only when its process server loaded them (`ready`), and otherwise
keeps the vectorised `optimizer.ruin`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter

import numpy as np
import numpy.typing as npt
from numba import njit

from optimizer.problem import RoutingProblem
from optimizer.ruin import applies

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

AVG_REMOVED = 10  # c-bar: visits removed per step on average (the paper's value)
MAX_STRING = 10  # L-max: the longest string removed
BLINK = 0.01  # probability of skipping a position while reinserting
# share of string-removal steps whose recreate opens an empty vehicle with its first visit:
# distance-optimal plans of wide-window instances (R2, RC2) often use more routes than a
# cheapest-insertion start, and one insertion rarely pays a depot round trip (issue 20:
# 1.70 -> 1.07 % mean gap on eight hard instances at 60,000 steps, 4 seeds)
NEW_ROUTE = 0.15
# back to the best routes when the last new best is this share of the run ago (and the
# current routes are worse): 1.19 -> 0.90 % mean gap on the same eight, same steps and seeds
RESTART = 0.1
_NEAR = 100  # neighbours kept per visit (a ruin walks them until enough routes are hit)
_CHUNK_S = 0.02  # wall clock per compiled call between looks at the clock
_T0, _T1 = 3.0, 0.03  # start and final temperature, in average arcs of the start plan
# the columns of `_steps`' ``stats``
CURRENT, BEST, STEPS, ACCEPTED, IMPROVED = range(5)


@dataclass(frozen=True, slots=True)
class Result:
    """The best routes found, their arc cost, and how many steps ran (for iterations/s)."""

    routes: list[list[int]]
    cost: int
    steps: int
    seconds: float


_loaded = [False]


def ready() -> bool:
    """Whether the kernels are loaded in this process (see `load`)."""
    return _loaded[0]


def load() -> float:
    """Load the kernels (from the disk cache, or compile them); return the seconds taken."""
    started = perf_counter()
    p = _tiny()
    run(p, [[0]], seed=0, iterations=1)
    _loaded[0] = True
    return perf_counter() - started


def _tiny() -> Arrays:
    """A one-visit, one-vehicle problem: enough to resolve every kernel's types."""
    z = np.zeros(3, dtype=np.int64)
    m = np.ones((3, 3), dtype=np.int64)
    big = np.array([10], dtype=np.int64)
    return Arrays(
        m, m, z, z + 10, z, z, np.array([1]), np.array([2]), np.zeros(1, dtype=np.int64),
        big, big, big, np.array([[0]]), np.array([0]),
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class Arrays:
    """The problem as the kernels read it: node, vehicle and neighbour tables (`of` builds it)."""

    cost: IntArray  # arc cost (travel and distance weights applied)
    sec: IntArray
    earliest: IntArray
    latest: IntArray
    service: IntArray
    demand: IntArray
    starts: IntArray
    ends: IntArray
    depart: IntArray
    close: IntArray
    work_ends: IntArray
    capacity: IntArray
    near: IntArray  # (nodes, k): visits by arc cost from each visit, itself first
    visits: IntArray

    @classmethod
    def of(cls, p: RoutingProblem) -> Arrays:
        params = p.params
        cost = p.seconds * params.travel_weight + p.metres * params.distance_weight
        visits = np.ascontiguousarray(p.visits, dtype=np.int64)
        k = min(_NEAR, len(visits))
        near = np.zeros((len(p.kind), max(1, k)), dtype=np.int64)
        if len(visits):
            sub = cost[np.ix_(visits, visits)]
            near[visits] = visits[np.argsort(sub, axis=1, kind="stable")[:, :k]]
        i64 = np.int64
        return cls(
            np.ascontiguousarray(cost, dtype=i64), np.ascontiguousarray(p.seconds, dtype=i64),
            p.earliest.astype(i64), p.latest.astype(i64), p.service.astype(i64),
            (-p.load).astype(i64), p.starts.astype(i64), p.ends.astype(i64),
            p.depart.astype(i64), p.close.astype(i64), p.work_ends().astype(i64),
            p.capacity.astype(i64), near, visits,
        )  # fmt: skip


class State:
    """Routes as arrays, with each route's times, load and cost (see `_refresh`)."""

    def __init__(self, a: Arrays, routes: Sequence[Sequence[int]]) -> None:
        nv = len(a.starts)
        width = len(a.visits) + 1
        self.mat = np.zeros((nv, width), dtype=np.int64)
        self.lens = np.zeros(nv, dtype=np.int64)
        self.dep = np.zeros((nv, width + 1), dtype=np.int64)
        self.late = np.zeros((nv, width + 1), dtype=np.int64)
        self.load = np.zeros(nv, dtype=np.int64)
        self.rcost = np.zeros(nv, dtype=np.int64)
        self.route_of = np.full(len(a.earliest), -1, dtype=np.int64)
        for v, r in enumerate(routes):
            self.mat[v, : len(r)] = r
            self.lens[v] = len(r)
            self.route_of[list(r)] = v
        _refresh_all(a.cost, a.sec, a.earliest, a.latest, a.service, a.demand, a.starts, a.ends,
                     a.depart, a.close, a.work_ends, self.mat, self.lens, self.dep, self.late,
                     self.load, self.rcost)  # fmt: skip
        self.best_mat = self.mat.copy()
        self.best_lens = self.lens.copy()

    def back_to_best(self, a: Arrays) -> None:
        """Make the best routes the current ones again."""
        self.mat[:] = self.best_mat
        self.lens[:] = self.best_lens
        for v in range(len(self.lens)):
            self.route_of[self.mat[v, : self.lens[v]]] = v
        _refresh_all(a.cost, a.sec, a.earliest, a.latest, a.service, a.demand, a.starts, a.ends,
                     a.depart, a.close, a.work_ends, self.mat, self.lens, self.dep, self.late,
                     self.load, self.rcost)  # fmt: skip

    def best_routes(self) -> list[list[int]]:
        return [
            [int(x) for x in self.best_mat[v, : self.best_lens[v]]] for v in range(len(self.lens))
        ]


def run(
    p: RoutingProblem | Arrays, routes: Sequence[Sequence[int]], *, seed: int,
    deadline: float | None = None, iterations: int | None = None,
    on_solution: Callable[[list[list[int]], int], None] | None = None,
    route_removal: float = 0.0, new_route: float = NEW_ROUTE, restart: float = RESTART,
) -> Result:  # fmt: skip
    """Improve feasible, complete ``routes`` until ``deadline`` (monotonic) or ``iterations``.

    Parameters are those of `optimizer.ruin.ruin_and_recreate`; ``p`` must satisfy
    `optimizer.ruin.applies` (`improve` checks it). Returns the best routes, their arc cost
    and the number of steps run.
    """
    a = p if isinstance(p, Arrays) else Arrays.of(p)
    s = State(a, routes)
    cost = int(s.rcost.sum())
    started = time.monotonic()
    if (deadline is None and iterations is None) or not len(a.visits) or cost <= 0:
        return Result(s.best_routes(), cost, 0, 0.0)
    stats = np.array([cost, cost, 0, 0, 0], dtype=np.int64)
    nv = len(a.starts)
    scratch = np.zeros(4 * nv + 4 * len(a.visits) + 8, dtype=np.int64)
    backup = np.zeros_like(s.mat)
    arc = cost / max(1, len(a.visits))
    t0, t1 = arc * _T0, arc * _T1

    def temp(frac: float) -> float:
        return float(t0 * (t1 / t0) ** min(1.0, max(0.0, frac)))

    _reseed(seed)
    chunk = 64
    last = 0.0  # the share of the run at the last new best
    done = 0
    while True:
        now = time.monotonic()
        if iterations is not None:
            if done >= iterations:
                break
            n = iterations - done if deadline is None else min(chunk, iterations - done)
            lo, hi = done / iterations, (done + n) / iterations
        else:
            n = chunk
            lo = hi = 0.0
        if deadline is not None:
            left = deadline - now
            if left <= 0:
                break
            span = max(1e-9, deadline - started)
            if iterations is None:
                lo = (now - started) / span
                hi = lo + _CHUNK_S / span
        before = int(stats[BEST])
        tick = time.monotonic()
        _steps(
            int(n), temp(lo), temp(hi), float(route_removal), float(new_route), float(BLINK),
            a.cost, a.sec, a.earliest, a.latest, a.service, a.demand, a.starts, a.ends,
            a.depart, a.close, a.work_ends, a.capacity, a.near, a.visits,
            s.mat, s.lens, s.dep, s.late, s.load, s.rcost, s.route_of, s.best_mat, s.best_lens,
            backup, scratch, stats,
        )  # fmt: skip
        done += n
        if deadline is not None:  # aim at `_CHUNK_S` per call
            took = max(1e-6, time.monotonic() - tick)
            chunk = max(1, min(4 * chunk, int(n * _CHUNK_S / took)))
        if stats[BEST] < before:
            last = hi
            if on_solution is not None:
                on_solution(s.best_routes(), int(stats[BEST]))
        elif restart > 0.0 and hi - last > restart and stats[CURRENT] > stats[BEST]:
            s.back_to_best(a)  # stagnating: carry on from the best
            stats[CURRENT] = stats[BEST]
            last = hi
    return Result(s.best_routes(), int(stats[BEST]), done, time.monotonic() - started)


def improve(
    p: RoutingProblem, routes: Sequence[Sequence[int]], *, seed: int,
    deadline: float | None = None, iterations: int | None = None,
    on_solution: Callable[[list[list[int]], int], None] | None = None,
    route_removal: float = 0.0,
) -> tuple[list[list[int]], int]:  # fmt: skip
    """`optimizer.ruin.ruin_and_recreate`'s contract, compiled: the best routes and their cost.

    Problems `optimizer.ruin.applies` rejects come back unchanged (with their arc cost).
    """
    if not applies(p):
        a = Arrays.of(p)
        s = State(a, routes)
        return [list(r) for r in routes], int(s.rcost.sum())
    out = run(p, routes, seed=seed, deadline=deadline, iterations=iterations,
              on_solution=on_solution, route_removal=route_removal)  # fmt: skip
    return out.routes, out.cost


# ---------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _reseed(seed: int) -> None:  # pragma: no cover - compiled
    np.random.seed(seed)


@njit(cache=True, nogil=True)
def _refresh(
    v: int, cost: IntArray, sec: IntArray, earliest: IntArray, latest: IntArray,
    service: IntArray, demand: IntArray, starts: IntArray, ends: IntArray, depart: IntArray,
    close: IntArray, work_ends: IntArray, mat: IntArray, lens: IntArray, dep: IntArray,
    late: IntArray, load: IntArray, rcost: IntArray,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    """Route ``v``'s departures (``dep[v, k]`` leaves its k-th node, the start being 0), latest
    arrivals (``late[v, k]`` at the node after the k-th), load and arc cost."""
    n = lens[v]
    prev = starts[v]
    t = depart[v]
    dep[v, 0] = t
    ld = 0
    c = 0
    for k in range(n):
        x = mat[v, k]
        t = max(t + sec[prev, x], earliest[x]) + service[x]
        dep[v, k + 1] = t
        ld += demand[x]
        c += cost[prev, x]
        prev = x
    c += cost[prev, ends[v]]
    late[v, n] = close[v]
    we = work_ends[v]
    for k in range(n - 1, -1, -1):
        x = mat[v, k]
        nxt = mat[v, k + 1] if k + 1 < n else ends[v]
        by = min(late[v, k + 1] - sec[x, nxt], we) - service[x]
        late[v, k] = min(latest[x], by)
    load[v] = ld
    rcost[v] = c


@njit(cache=True, nogil=True)
def _refresh_all(
    cost: IntArray, sec: IntArray, earliest: IntArray, latest: IntArray, service: IntArray,
    demand: IntArray, starts: IntArray, ends: IntArray, depart: IntArray, close: IntArray,
    work_ends: IntArray, mat: IntArray, lens: IntArray, dep: IntArray, late: IntArray,
    load: IntArray, rcost: IntArray,
) -> None:  # pragma: no cover - compiled  # fmt: skip
    for v in range(lens.shape[0]):
        _refresh(v, cost, sec, earliest, latest, service, demand, starts, ends, depart, close,
                 work_ends, mat, lens, dep, late, load, rcost)  # fmt: skip


@njit(cache=True, nogil=True)
def _gap(blink: float) -> int:  # pragma: no cover - compiled
    """How many positions pass before the next blink (each one blinks with ``blink``)."""
    if blink <= 0.0:
        return 1 << 62
    return int(math.log(1.0 - np.random.random()) / math.log(1.0 - blink))


@njit(cache=True, nogil=True)
def best_position(
    u: int, closed: int, blink: float, cost: IntArray, sec: IntArray, earliest: IntArray,
    latest: IntArray, service: IntArray, demand: IntArray, starts: IntArray, ends: IntArray,
    work_ends: IntArray, capacity: IntArray, mat: IntArray, lens: IntArray, dep: IntArray,
    late: IntArray, load: IntArray,
) -> tuple[int, int, int]:  # pragma: no cover - compiled  # fmt: skip
    """The cheapest feasible insertion of ``u``, skipping vehicle ``closed`` and, with
    probability ``blink``, each position: ``(vehicle, position, cost rise)``, vehicle -1 if
    none fits."""
    best = np.int64(1) << 62
    bv = -1
    bk = -1
    du = demand[u]
    eu = earliest[u]
    lu = latest[u]
    su = service[u]
    # positions until the next blink: geometric, one draw per blink rather than per position
    skip = _gap(blink)
    for v in range(lens.shape[0]):
        if v == closed or load[v] + du > capacity[v]:
            continue
        n = lens[v]
        prev = starts[v]
        we = work_ends[v]
        for k in range(n + 1):
            if dep[v, k] > lu:  # departures only grow along a route: no later start fits
                break
            nxt = mat[v, k] if k < n else ends[v]
            if skip == 0:
                skip = _gap(blink)
                prev = nxt
                continue
            skip -= 1
            d = cost[prev, u] + cost[u, nxt] - cost[prev, nxt]
            if d < best:
                st = max(dep[v, k] + sec[prev, u], eu)
                if st <= lu and st + su <= we and st + su + sec[u, nxt] <= late[v, k]:
                    best = d
                    bv = v
                    bk = k
            prev = nxt
    return bv, bk, int(best)


@njit(cache=True, nogil=True)
def _steps(
    iters: int, t_hi: float, t_lo: float, route_removal: float, new_route: float,
    blink: float,
    cost: IntArray, sec: IntArray, earliest: IntArray, latest: IntArray, service: IntArray,
    demand: IntArray, starts: IntArray, ends: IntArray, depart: IntArray, close: IntArray,
    work_ends: IntArray, capacity: IntArray, near: IntArray, visits: IntArray,
    mat: IntArray, lens: IntArray, dep: IntArray, late: IntArray, load: IntArray,
    rcost: IntArray, route_of: IntArray, best_mat: IntArray, best_lens: IntArray,
    backup: IntArray, scratch: IntArray, stats: IntArray,
) -> None:  # pragma: no cover - compiled; tested through `run`  # fmt: skip
    """Run ``iters`` SISR steps on the current routes (``mat``, ``lens`` and their tables),
    the temperature falling geometrically from ``t_hi`` to ``t_lo``; keep the best in
    ``best_mat``/``best_lens`` and the costs and counters in ``stats``."""
    nv = lens.shape[0]
    nvis = visits.shape[0]
    touched = scratch[0:nv]  # the routes a step changed, in order
    mark = scratch[nv : 2 * nv]  # the step that last touched each route (+1)
    old_len = scratch[2 * nv : 3 * nv]
    old_cost = scratch[3 * nv : 4 * nv]
    removed = scratch[4 * nv : 4 * nv + nvis]
    keys = np.empty(nvis, dtype=np.float64)
    cut = np.zeros(mat.shape[1], dtype=np.bool_)
    depot = starts[0]
    for it in range(iters):
        stamp = stats[STEPS] + it + 1
        frac = it / iters
        temp = t_hi * (t_lo / t_hi) ** frac if t_hi > 0 else 0.0
        n_t = 0
        n_rem = 0
        closed = -1
        used = 0
        total = 0
        for v in range(nv):
            if lens[v] > 0:
                used += 1
                total += lens[v]
        strict = route_removal > 0.0 and used > 1 and np.random.random() < route_removal
        if strict:  # one whole route, weight 1 / visits^2
            wsum = 0.0
            for v in range(nv):
                if lens[v] > 0:
                    wsum += 1.0 / (lens[v] * lens[v])
            r = np.random.random() * wsum
            closed = -1
            for v in range(nv):
                if lens[v] > 0:
                    closed = v
                    r -= 1.0 / (lens[v] * lens[v])
                    if r <= 0.0:
                        break
            v = closed
            mark[v] = stamp
            touched[n_t] = v
            n_t += 1
            old_len[v] = lens[v]
            old_cost[v] = rcost[v]
            for k in range(lens[v]):
                backup[v, k] = mat[v, k]
                removed[n_rem] = mat[v, k]
                n_rem += 1
                route_of[mat[v, k]] = -1
            lens[v] = 0
            _refresh(v, cost, sec, earliest, latest, service, demand, starts, ends, depart,
                     close, work_ends, mat, lens, dep, late, load, rcost)  # fmt: skip
        else:  # strings around a random visit (SISR)
            avg = total / max(1, used)
            l_max = min(float(MAX_STRING), avg)
            k_max = 4.0 * AVG_REMOVED / (1.0 + l_max) - 1.0
            n_strings = int(np.random.uniform(1.0, k_max + 1.0))
            seed = visits[np.random.randint(nvis)]
            hit = 0
            for j in range(near.shape[1]):
                if hit >= n_strings:
                    break
                c = near[seed, j]
                v = route_of[c]
                if v < 0 or mark[v] == stamp:
                    continue
                size = lens[v]
                length = int(np.random.uniform(1.0, min(float(size), l_max) + 1.0))
                length = min(length, size)
                i = 0
                while mat[v, i] != c:
                    i += 1
                for k in range(size):
                    cut[k] = False
                if size > length and np.random.random() < 0.5:  # split string: keep m inside
                    m = 1
                    while m < size - length and np.random.random() < 0.5:
                        m += 1
                    span = length + m
                    lo = np.random.randint(max(0, i - span + 1), min(i, size - span) + 1)
                    keep = lo + np.random.randint(0, length + 1)
                    for k in range(lo, lo + span):
                        cut[k] = k < keep or k >= keep + m
                else:
                    lo = np.random.randint(max(0, i - length + 1), min(i, size - length) + 1)
                    for k in range(lo, lo + length):
                        cut[k] = True
                mark[v] = stamp
                touched[n_t] = v
                n_t += 1
                old_len[v] = size
                old_cost[v] = rcost[v]
                w = 0
                for k in range(size):
                    x = mat[v, k]
                    backup[v, k] = x
                    if cut[k]:
                        removed[n_rem] = x
                        n_rem += 1
                        route_of[x] = -1
                    else:
                        mat[v, w] = x
                        w += 1
                lens[v] = w
                _refresh(v, cost, sec, earliest, latest, service, demand, starts, ends,
                         depart, close, work_ends, mat, lens, dep, late, load, rcost)  # fmt: skip
                hit += 1
        # recreate: random (4), largest demand (4), farthest (2), closest (1) first
        pick = np.random.random() * 11.0
        for q in range(n_rem):
            x = removed[q]
            if pick < 4.0:
                keys[q] = np.random.random()
            elif pick < 8.0:
                keys[q] = -demand[x]
            elif pick < 10.0:
                keys[q] = -sec[depot, x]
            else:
                keys[q] = sec[depot, x]
        order = np.argsort(keys[:n_rem], kind="mergesort")
        ok = True
        fresh = -1  # a random empty vehicle that opens with the first visit (more routes)
        if not strict and n_rem > 1 and new_route > 0.0 and np.random.random() < new_route:
            empty = 0
            for v in range(nv):
                if lens[v] == 0:
                    empty += 1
                    if np.random.randint(empty) == 0:  # reservoir sampling
                        fresh = v
        for q in range(n_rem):
            u = removed[order[q]]
            v = -1
            if q == 0 and fresh >= 0:
                st = max(dep[fresh, 0] + sec[starts[fresh], u], earliest[u])
                if (st <= latest[u] and st + service[u] <= work_ends[fresh]
                        and st + service[u] + sec[u, ends[fresh]] <= late[fresh, 0]
                        and demand[u] <= capacity[fresh]):  # fmt: skip
                    v, k = fresh, 0
            if v < 0:
                v, k, _ = best_position(u, closed, blink, cost, sec, earliest, latest, service,
                                        demand, starts, ends, work_ends, capacity, mat, lens,
                                        dep, late, load)  # fmt: skip
            if v < 0:
                ok = False
                break
            if mark[v] != stamp:
                mark[v] = stamp
                touched[n_t] = v
                n_t += 1
                old_len[v] = lens[v]
                old_cost[v] = rcost[v]
                for j in range(lens[v]):
                    backup[v, j] = mat[v, j]
            for j in range(lens[v], k, -1):
                mat[v, j] = mat[v, j - 1]
            mat[v, k] = u
            lens[v] += 1
            route_of[u] = v
            _refresh(v, cost, sec, earliest, latest, service, demand, starts, ends, depart,
                     close, work_ends, mat, lens, dep, late, load, rcost)  # fmt: skip
        accept = False
        new = stats[CURRENT]
        if ok:
            for q in range(n_t):
                v = touched[q]
                new += rcost[v] - old_cost[v]
            if strict:
                accept = new < stats[CURRENT]
            else:
                accept = new < stats[CURRENT] - temp * math.log(np.random.random() + 1e-300)
        if accept:
            stats[CURRENT] = new
            stats[ACCEPTED] += 1
            if new < stats[BEST]:
                stats[BEST] = new
                stats[IMPROVED] += 1
                for v in range(nv):
                    best_lens[v] = lens[v]
                    for j in range(lens[v]):
                        best_mat[v, j] = mat[v, j]
        else:  # restore the touched routes
            for q in range(n_t):
                v = touched[q]
                lens[v] = old_len[v]
                for j in range(old_len[v]):
                    x = backup[v, j]
                    mat[v, j] = x
                    route_of[x] = v
                _refresh(v, cost, sec, earliest, latest, service, demand, starts, ends,
                         depart, close, work_ends, mat, lens, dep, late, load, rcost)  # fmt: skip
    stats[STEPS] += iters
