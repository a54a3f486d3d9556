"""Ruin and recreate (SISR) in numpy: the fallback of the compiled `optimizer.sisr`.

The solver uses it only in a search child whose process server did not load the compiled
kernels (a plan with a wall-clock limit without `optimizer.warm_up`: it never compiles inside
a limit); `applies` says which problems both handle.

Slack Induction by String Removals (Christiaens & Vanden Berghe, Transportation Science
2020): remove a few strings of consecutive visits from routes near a random visit, reinsert
the removed visits one by one at their cheapest feasible position (skipping each position
with a small "blink" probability), and accept the new plan by simulated annealing. A share
of the steps (``route_removal``) instead removes one whole route, short ones likelier, and
reinserts its visits into the other routes only, accepted only when shorter: string removals
rarely empty a route, and on few-long-route instances (Solomon C2) one route too many costs
5-8 % of distance. Each
insertion is evaluated for every arc of every route at once (numpy), with each route's
forward departure times and backward latest arrivals, so that a feasible insertion is
checked in O(1): start at the new visit within its window, and arrival at the next node no
later than the latest arrival that keeps the rest of the route feasible; capacity by the
route's load.

It handles the plain time-window model only (`applies`): no pickups, no soft due times, no
dedicated engineers, no skills restrictions, no engineer cost and no overtime; the cost of an
arc is ``seconds x travel_weight + metres x distance_weight``. Otherwise `ruin_and_recreate`
returns its input. Deterministic for a seed and an iteration limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from optimizer.problem import PICKUP, RoutingProblem

IntArray = npt.NDArray[np.int64]
Routes = list[list[int]]

_AVG_REMOVED = 10  # c-bar: visits removed per iteration on average
_MAX_STRING = 10  # L-max: longest string removed
_BLINK = 0.01  # probability of skipping a position while reinserting


def applies(p: RoutingProblem) -> bool:
    """Whether the problem is the plain time-window model this phase handles."""
    params = p.params
    return bool(
        not (p.kind == PICKUP).any()
        and all(len(a) in (0, p.vehicles) for a in p.allowed)
        and not any(p.preferred)
        and not ((p.due >= 0) & (p.weight > 0)).any()
        and (params.cost_weight == 0 or not (p.hour_cost.any() or p.km_cost.any()))
        and (params.overtime_weight == 0 or (p.shift_end >= p.close).all())
        and (p.earliest <= p.latest).all()
        and p.fills_gap is None  # no route into a gap before committed work (two vehicles)
    )


class _State:
    """Routes, with per-route arc arrays: departure at each tail, latest arrival at each head."""

    def __init__(self, p: RoutingProblem, routes: Sequence[Sequence[int]]) -> None:
        self.p = p
        self.sec = p.seconds
        self.cost = p.seconds * p.params.travel_weight + p.metres * p.params.distance_weight
        self.demand = -p.load
        self.routes: Routes = [list(r) for r in routes]
        self.arcs: list[tuple[IntArray, IntArray, IntArray, IntArray]] = [
            self._arcs(v) for v in range(p.vehicles)
        ]
        self.load = [int(self.demand[r].sum()) if r else 0 for r in self.routes]

    def copy(self) -> _State:
        """A copy sharing the immutable arrays (a route's arrays are replaced, never mutated)."""
        out = object.__new__(_State)
        out.p, out.sec, out.cost, out.demand = self.p, self.sec, self.cost, self.demand
        out.routes = [list(r) for r in self.routes]
        out.arcs = list(self.arcs)
        out.load = list(self.load)
        return out

    def _arcs(self, v: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        p, sec = self.p, self.sec
        nodes = [int(p.starts[v]), *self.routes[v], int(p.ends[v])]
        dep = [int(p.depart[v])]
        for a, b in zip(nodes[1:-1], nodes[:-2], strict=True):
            start = max(dep[-1] + int(sec[b, a]), int(p.earliest[a]))
            dep.append(start + int(p.service[a]))
        late = [int(p.close[v])]
        work_ends = int(p.work_ends()[v])
        for i in range(len(nodes) - 2, 0, -1):
            a, b = nodes[i], nodes[i + 1]
            by = min(late[-1] - int(sec[a, b]), work_ends) - int(p.service[a])
            late.append(min(int(p.latest[a]), by))
        late.reverse()  # late[k] is the latest arrival at nodes[k + 1]
        arr = np.array(nodes, dtype=np.int64)
        return arr[:-1], arr[1:], np.array(dep, dtype=np.int64), np.array(late, dtype=np.int64)

    def total(self) -> int:
        return sum(int(self.cost[a, b].sum()) for a, b, _, _ in self.arcs)

    def remove(self, v: int, nodes: Sequence[int]) -> None:
        gone = set(nodes)
        self.routes[v] = [n for n in self.routes[v] if n not in gone]
        self.load[v] -= int(self.demand[list(nodes)].sum())
        self.arcs[v] = self._arcs(v)

    def insert(
        self, u: int, rng: np.random.Generator, closed: frozenset[int] = frozenset()
    ) -> bool:
        """Insert ``u`` at its cheapest feasible, non-blinked position; False if none.

        No insertion into the vehicles in ``closed`` (a route being eliminated).
        """
        p = self.p
        a = np.concatenate([x[0] for x in self.arcs])
        b = np.concatenate([x[1] for x in self.arcs])
        dep = np.concatenate([x[2] for x in self.arcs])
        late = np.concatenate([x[3] for x in self.arcs])
        owner = np.repeat(np.arange(p.vehicles), [len(x[0]) for x in self.arcs])
        start = np.maximum(dep + self.sec[a, u], p.earliest[u])
        ok = (start <= p.latest[u]) & (start + p.service[u] + self.sec[u, b] <= late)
        ok &= start + p.service[u] <= p.work_ends()[owner]
        ok &= np.asarray(self.load)[owner] + self.demand[u] <= p.capacity[owner]
        ok &= rng.random(len(a)) >= _BLINK
        if closed:
            ok &= ~np.isin(owner, list(closed))
        if not ok.any():
            return False
        delta = self.cost[a, u] + self.cost[u, b] - self.cost[a, b]
        delta = np.where(ok, delta, np.iinfo(np.int64).max)
        k = int(np.argmin(delta))
        v = int(owner[k])
        pos = k - sum(len(x[0]) for x in self.arcs[:v])
        self.routes[v].insert(pos, u)
        self.load[v] += int(self.demand[u])
        self.arcs[v] = self._arcs(v)
        return True


def _ruin(s: _State, near: IntArray, rng: np.random.Generator) -> list[int]:
    """Remove strings of visits around a random visit (SISR); return the removed visits."""
    where = {n: v for v, r in enumerate(s.routes) for n in r}
    used = [r for r in s.routes if r]
    avg = sum(len(r) for r in used) / max(1, len(used))
    l_max = min(_MAX_STRING, avg)
    k_max = 4 * _AVG_REMOVED / (1 + l_max) - 1
    strings = int(rng.uniform(1, k_max + 1))
    seed = int(rng.choice(list(where)))
    removed: list[int] = []
    ruined: set[int] = set()
    for c in (int(x) for x in near[seed]):
        if len(ruined) >= strings:
            break
        v = where.get(c)
        if v is None or v in ruined:
            continue
        route = s.routes[v]
        length = int(rng.uniform(1, min(len(route), l_max) + 1))
        i = route.index(c)
        lo = int(rng.integers(max(0, i - length + 1), min(i, len(route) - length) + 1))
        chunk = route[lo : lo + length]
        s.remove(v, chunk)
        removed.extend(chunk)
        ruined.add(v)
    return removed


def _ruin_route(s: _State, rng: np.random.Generator) -> tuple[list[int], int]:
    """Remove a whole route (weight 1 / visits^2); return its visits and its vehicle."""
    used = [v for v, r in enumerate(s.routes) if r]
    sizes = np.array([len(s.routes[v]) for v in used], dtype=np.float64)
    weights = 1.0 / sizes**2
    v = int(used[int(rng.choice(len(used), p=weights / weights.sum()))])
    removed = list(s.routes[v])
    s.remove(v, removed)
    return removed, v


def _recreate(
    s: _State, removed: list[int], rng: np.random.Generator, closed: frozenset[int] = frozenset()
) -> bool:
    p = s.p
    order = int(rng.integers(4))
    depot = int(p.starts[0])
    keys: dict[int, Callable[[int], float]] = {
        0: lambda u: float(rng.random()),
        1: lambda u: -float(s.demand[u]),
        2: lambda u: -float(s.sec[depot, u]),
        3: lambda u: float(s.sec[depot, u]),
    }
    return all(s.insert(u, rng, closed) for u in sorted(removed, key=keys[order]))


def ruin_and_recreate(
    p: RoutingProblem, routes: Sequence[Sequence[int]], *, seed: int,
    deadline: float | None = None, iterations: int | None = None,
    on_solution: Callable[[list[list[int]], int], None] | None = None,
    route_removal: float = 0.0,
) -> tuple[list[list[int]], int]:  # fmt: skip
    """Improve feasible, complete ``routes`` by SISR until ``deadline`` or ``iterations``.

    Parameters
    ----------
    p
        The problem (see `applies`; otherwise the routes come back unchanged).
    routes
        Feasible routes per vehicle (node sequences without start and end).
    seed
        Seeds the random choices: the same seed and iteration limit give the same routes.
    deadline
        A ``time.monotonic()`` instant to stop at (production and benchmarks).
    iterations
        Stop after this many ruin-and-recreate steps (deterministic).
    on_solution
        Called with each new best (routes, arc cost).
    route_removal
        Probability of an iteration that removes a whole route (short ones likelier) and
        reinserts its visits into the other routes only: fewer routes on long-route
        instances (C2), where string removals rarely empty one. Such a step is accepted only
        when it shortens the current plan (no annealing).

    Returns
    -------
    tuple
        The best routes and their arc cost.
    """
    best = _State(p, routes)
    best_cost = best.total()
    if not applies(p) or (deadline is None and iterations is None) or not len(p.visits):
        return [list(r) for r in routes], best_cost
    if best_cost <= 0:  # nothing to improve (costs are >= 0), and no temperature to anneal
        return [list(r) for r in routes], best_cost
    rng = np.random.default_rng(seed)
    visits = p.visits
    dist = best.cost[np.ix_(visits, visits)]
    near_rows = visits[np.argsort(dist, axis=1, kind="stable")]
    near_map = np.zeros((len(p.kind), len(visits)), dtype=np.int64)
    near_map[visits] = near_rows
    arc = best_cost / max(1, len(visits))
    t0, t1 = arc * 1.0, arc * 0.01
    current, current_cost = best, best_cost
    started, n = time.monotonic(), 0
    while True:
        if iterations is not None and n >= iterations:
            break
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            break
        frac = (
            n / iterations
            if iterations is not None
            else (now - started) / max(1e-9, (deadline or now) - started)
        )
        temp = t0 * (t1 / t0) ** min(1.0, frac)
        n += 1
        s = current.copy()
        strict = route_removal > 0 and rng.random() < route_removal and sum(map(bool, s.routes)) > 1
        if strict:
            removed, emptied = _ruin_route(s, rng)
            ok = _recreate(s, removed, rng, frozenset((emptied,)))
        else:
            ok = _recreate(s, _ruin(s, near_map, rng), rng)
        if not ok:
            continue
        cost = s.total()
        # A route removal is kept only when it shortens the plan: annealing into fewer,
        # longer routes strands the search where the distance-best plan has more (R211).
        slack = 0.0 if strict else -temp * math.log(float(rng.random()) + 1e-300)
        if cost < current_cost + slack:
            current, current_cost = s, cost
            if cost < best_cost:
                best, best_cost = s, cost
                if on_solution is not None:
                    on_solution([list(r) for r in s.routes], cost)
    return [list(r) for r in best.routes], best_cost
