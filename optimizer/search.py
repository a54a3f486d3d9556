"""Ruin and recreate on the whole dispatch model: the improvement search of every real plan.

The plain time-window model (Solomon) has its vectorised SISR in `optimizer.ruin`; this one
handles everything a dispatcher's problem holds: allowed engineers per visit (skills, a van
pickup only by its owner), depot pickups on the same route right before the visit they feed
(with alternative depots), soft promise deadlines with their per-second weights, the
dedicated-engineer preference, engineer cost, shift ends with overtime, engineers starting
where they are (``depart`` and ``starts`` of the problem), locked (pinned or fixed) visits,
and optional visits: a visit that fits nowhere stays out at its drop penalty, and the plan
says why (`optimizer.screening.unplaced`).

One logic: a route is priced by `optimizer.greedy.route_cost`, the function the greedy
construction and the OR-Tools objective agree on. Once the compiled kernels are loaded
(`optimizer.insertion.load`), whole steps run compiled in batches (`optimizer.step`: routes
as integer rows, removal, reinsertion and acceptance in one numba call), pricing with the
kernel twin of `route_cost` that hypothesis checks against it; every new best plan is priced
by `route_cost` before it is kept. Without the kernels, steps run here in Python: positions
are pruned by a lower bound (the travel detour, the dedicated penalty, the kilometre cost of
the detour and the new visit's own lateness, each >= 0 on a metric travel model) and a
forward check of the new visit's own window, and priced by `route_cost`.

Steps (Christiaens & Vanden Berghe's SISR): remove strings of consecutive visits from routes
near a random visit (a visit leaves with its pickup; locked visits never leave), reinsert
the removed visits and up to ten of those out before at their cheapest position (skipping
each position with a small "blink" probability), and accept the new plan by simulated
annealing on the objective (route costs plus drop penalties). Deterministic for a seed and
an iteration limit (the compiled and the Python steps draw different random numbers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer import step
from optimizer.greedy import (  # _Tables: the greedy's scalar look-ups
    _Tables,
    route_cost,
    visit_cost,
)
from optimizer.insertion import KernelData, ready
from optimizer.problem import START, VISIT, RoutingProblem

IntArray = npt.NDArray[np.int64]

_AVG_REMOVED = step.AVG_REMOVED  # c-bar: visits removed per iteration on average
_MAX_STRING = step.MAX_STRING  # L-max: longest string removed
_BLINK = step.BLINK  # probability of skipping a position while reinserting
_NEAR = 40  # neighbours kept per visit (ruin strings and candidate vehicles)


@dataclass(frozen=True, slots=True)
class Found:
    """The best routes, their objective, the steps made and why the search stopped."""

    routes: list[list[int]]
    objective: int
    steps: int
    stopped_by: str  # "time limit", "no improvement", "iteration limit" or "nothing to do"
    # new best plans of the compiled step that `route_cost` priced otherwise, so not taken
    # (none while the kernel and `route_cost` agree, as the tests check)
    disagreed: int = 0

    @property
    def timed_out(self) -> bool:
        """Whether the wall clock stopped the search."""
        return self.stopped_by == "time limit"


class _Plan:
    """Routes, their `route_cost`, where each visit is, and the visits left out."""

    def __init__(self, routes: list[list[int]], costs: list[int], out: set[int]) -> None:
        self.routes, self.costs, self.out = routes, costs, out

    def copy(self) -> _Plan:
        return _Plan([list(r) for r in self.routes], list(self.costs), set(self.out))

    def total(self, drop: list[int]) -> int:
        return sum(self.costs) + sum(drop[u] for u in self.out)


class _Search:
    """What every step reads: the problem, its tables and neighbour lists."""

    def __init__(self, p: RoutingProblem, locked: frozenset[int], seed: int) -> None:
        self.p, self.locked = p, locked
        self.tab = _Tables(p, lazy=ready())  # with the kernel, few rows are read in Python
        self.rng, self.seed = np.random.default_rng(seed), seed
        self.drop = p.drop.tolist()
        self.visits = [int(u) for u in p.visits]
        vis = p.visits
        k = min(_NEAR, len(vis))
        sec = p.seconds[np.ix_(vis, vis)]
        part = np.argpartition(sec, k - 1, axis=1)[:, :k] if k < len(vis) else None
        rows = np.argsort(sec, axis=1, kind="stable") if part is None else part
        near: dict[int, list[int]] = {}
        for i, u in enumerate(self.visits):
            cols = rows[i] if part is None else rows[i][np.argsort(sec[i, rows[i]], kind="stable")]
            near[u] = [self.visits[j] for j in cols.tolist() if self.visits[j] != u]
        self.near = near
        cw = p.params.cost_weight
        self.km = [int(p.km_cost[v]) * cw // 1_000 for v in range(p.vehicles)]
        self.tw, self.dw = p.params.travel_weight, p.params.distance_weight
        self.cands = {u: self._nearest(u) for u in self.visits}

    def _nearest(self, u: int) -> list[int]:
        p, tab = self.p, self.tab
        allowed = p.allowed[u] or tuple(range(p.vehicles))
        near = sorted(allowed, key=lambda v: (tab.sec[int(p.starts[v])][u], v))
        return near[: p.params.greedy_candidates]

    def is_van(self, pick: int, v: int) -> bool:
        start = int(self.p.starts[v])
        tab = self.tab
        at_start = tab.sec[start][pick] == 0 and tab.service[pick] == 0
        return bool(at_start and tab.kind[start] == START)

    def vehicles_for(self, u: int, where: dict[int, int]) -> list[int]:
        """Nearest qualified engineers by start, plus those serving ``u``'s neighbours."""
        p = self.p
        found = list(self.cands[u])
        seen = set(found)
        for c in self.near[u][:10]:
            v = where.get(c)
            if v is not None and v not in seen and p.may_serve(u, v):
                found.append(v)
                seen.add(v)
        return found


def _where(s: _Plan, tab: _Tables) -> dict[int, int]:
    return {n: v for v, r in enumerate(s.routes) for n in r if tab.kind[n] == VISIT}


def _remove(x: _Search, s: _Plan, v: int, gone: set[int]) -> bool:
    """Remove visits ``gone`` (and their pickups) from route ``v``; False if it turns infeasible."""
    p = x.p
    drop = set(gone)
    for u in gone:
        drop.update(p.pickups.get(u, ()))
    seq = [n for n in s.routes[v] if n not in drop]
    cost = route_cost(p, v, seq, x.tab) if seq else 0
    if cost is None:  # a non-metric matrix can make a shorter route later
        return False
    s.routes[v], s.costs[v] = seq, cost
    s.out.update(gone)
    return True


def _ruin(x: _Search, s: _Plan) -> list[int] | None:
    """Remove strings of visits around a random visit (SISR); the removed, or None."""
    rng, tab = x.rng, x.tab
    where = _where(s, tab)
    movable = [u for u in where if u not in x.locked]
    if not movable:
        return None
    routes = [[n for n in r if tab.kind[n] == VISIT] for r in s.routes]
    used = [r for r in routes if r]
    avg = sum(len(r) for r in used) / max(1, len(used))
    l_max = min(_MAX_STRING, avg)
    k_max = 4 * _AVG_REMOVED / (1 + l_max) - 1
    strings = int(rng.uniform(1, k_max + 1))
    seed = movable[int(rng.integers(len(movable)))]
    ruined: set[int] = set()
    removed: list[int] = []
    for c in [seed, *x.near[seed]]:
        if len(ruined) >= strings:
            break
        v = where.get(c)
        if v is None or v in ruined or c in x.locked:
            continue
        route = routes[v]
        length = int(rng.uniform(1, min(len(route), l_max) + 1))
        i = route.index(c)
        lo = int(rng.integers(max(0, i - length + 1), min(i, len(route) - length) + 1))
        chunk = {u for u in route[lo : lo + length] if u not in x.locked}
        if not _remove(x, s, v, chunk):
            return None
        ruined.add(v)
        removed.extend(sorted(chunk))
    return removed


def _options(x: _Search, seq: list[int], v: int, u: int) -> list[tuple[int, int, list[int]]]:
    """Every way to add ``u`` (with one pickup) to ``seq`` of ``v``: (lower bound, -, new)."""
    p, tab = x.p, x.tab
    sec, met = tab.sec, tab.met
    tw, dw = x.tw, x.dw + x.km[v]
    nodes = [int(p.starts[v]), *seq, int(p.ends[v])]
    # forward departures: the new visit cannot start before its arrival from its predecessor
    dep = [int(p.depart[v])]
    for a, b in zip(nodes[:-2], nodes[1:-1], strict=True):
        dep.append(max(dep[-1] + sec[a][b], tab.earliest[b]) + tab.service[b])
    fixed = p.dedicated_cost(u, v)
    out: list[tuple[int, int, list[int]]] = []
    picks: list[int | None] = list(p.pickups.get(u, ())) or [None]
    latest_u, earliest_u = tab.latest[u], tab.earliest[u]
    due_u, weight_u = tab.due[u], tab.weight[u]
    for pick in picks:
        if pick is not None and not p.may_serve(pick, v):
            continue
        van = pick is not None and x.is_van(pick, v)
        for i in range(len(nodes) - 1):
            a, b = nodes[i], nodes[i + 1]
            if pick is None or van:
                arrive = dep[i] + sec[a][u]
                d_sec = sec[a][u] + sec[u][b] - sec[a][b]
                d_met = met[a][u] + met[u][b] - met[a][b]
            else:
                at_pick = max(dep[i] + sec[a][pick], tab.earliest[pick]) + tab.service[pick]
                arrive = at_pick + sec[pick][u]
                d_sec = sec[a][pick] + sec[pick][u] + sec[u][b] - sec[a][b]
                d_met = met[a][pick] + met[pick][u] + met[u][b] - met[a][b]
            if arrive > latest_u:
                break  # later positions depart later still
            late = _own_cost(tab, u, max(arrive, earliest_u), due_u, weight_u)
            if pick is None:
                new = [*seq[:i], u, *seq[i:]]
            elif van:
                new = [pick, *seq[:i], u, *seq[i:]]
            else:
                new = [*seq[:i], pick, u, *seq[i:]]
            out.append((d_sec * tw + d_met * dw + fixed + late, i, new))
    return out


def _own_cost(tab: _Tables, u: int, start: int, due: int, weight: int) -> int:
    """What ``u`` itself costs when it starts no earlier than ``start`` (a lower bound).

    Priced as `route_cost` prices a visit: its clocks (`visit_cost`, non-decreasing in the
    start) when the problem has them, else lateness past ``due``.
    """
    if tab.clocks is not None:
        return visit_cost(tab.clocks[u], start)
    return max(0, start - due) * weight if due >= 0 else 0


def _insert_python(x: _Search, s: _Plan, u: int, where: dict[int, int]) -> bool:
    """`_insert` without the kernel: positions pruned by a lower bound, priced by `route_cost`."""
    p, rng = x.p, x.rng
    found: list[tuple[int, int, int, list[int]]] = []
    for v in x.vehicles_for(u, where):
        if p.blocked(v, lambda w: bool(s.routes[w])):
            continue
        for bound, _, new in _options(x, s.routes[v], v, u):
            found.append((bound, v, len(found), new))
    found.sort(key=lambda f: (f[0], f[2]))
    blink = rng.random(len(found)) < _BLINK
    best: tuple[int, int, list[int], int] | None = None
    for k, (bound, v, _, new) in enumerate(found):
        if best is not None and bound >= best[0]:
            break
        if blink[k]:
            continue
        cost = route_cost(p, v, new, x.tab)
        if cost is not None and (best is None or cost - s.costs[v] < best[0]):
            best = (cost - s.costs[v], v, new, cost)
    if best is None:
        return False
    _, v, new, cost = best
    s.routes[v], s.costs[v] = new, cost
    s.out.discard(u)
    where[u] = v
    return True


def _recreate(x: _Search, s: _Plan, removed: list[int], deadline: float | None) -> bool:
    """Reinsert the removed visits and a few of those out before, in one of three orders.

    Only ``_AVG_REMOVED`` of the visits that were out before this step are tried again: a
    saturated day leaves hundreds out, and retrying them all made each step seconds long.
    Returns False when the deadline passed.
    """
    rng, tab = x.rng, x.tab
    order = int(rng.integers(3))
    earlier = sorted(s.out.difference(removed))
    if len(earlier) > _AVG_REMOVED:
        pick = rng.choice(len(earlier), size=_AVG_REMOVED, replace=False)
        earlier = [earlier[int(i)] for i in sorted(pick)]
    todo = [*removed, *earlier]
    if order == 0:
        rng.shuffle(todo)
    elif order == 1:  # most urgent first, as the greedy does
        todo.sort(key=lambda u: (-tab.weight[u], tab.latest[u]))
    else:  # tightest window first
        todo.sort(key=lambda u: tab.latest[u] - tab.earliest[u])
    where = _where(s, tab)
    for u in todo:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        _insert_python(x, s, u, where)
    return True


def improve(
    p: RoutingProblem, routes: Sequence[Sequence[int]], *, seed: int,
    deadline: float | None = None, iterations: int | None = None,
    patience: int | None = None, patience_after: float = 0.0, patience_early: int | None = None,
    cooling: int | None = None, locked: frozenset[int] = frozenset(),
    on_solution: Callable[[list[list[int]], int], None] | None = None,
    profile: IntArray | None = None,
) -> Found:  # fmt: skip
    """Improve feasible ``routes`` by ruin and recreate until ``deadline`` or ``iterations``.

    Parameters
    ----------
    p
        The problem (any: see the module docstring).
    routes
        Feasible routes per vehicle (node sequences without start and end); visits in no
        route are out, at their drop penalty, and the search tries to place them.
    seed
        Seeds the random choices: the same seed and iteration limit give the same routes.
    deadline
        A ``time.monotonic()`` instant to stop at (production and benchmarks); checked
        between insertions in Python, and between batches of compiled steps sized to take
        about 10 ms (a tenth of the time left near the end).
    iterations
        Stop after this many steps (deterministic).
    patience
        Stop after this many steps without a new best plan, once the search is past
        ``patience_after``.
    patience_after
        Share of the search (of the time to ``deadline``, or of ``iterations``) before
        which ``patience`` does not stop it: the temperature falls with that share, so a
        search stopped early would stop while still hot (`PlanParams.ruin_patience_after`).
    patience_early
        Before ``patience_after``, stop after this many steps without a new best (None:
        never): little to search is no reason to wait (`PlanParams.ruin_patience_early`).
    cooling
        When a patience count is reached, do not stop hot: cool to the final temperature
        over at least this many steps (and half the steps made so far), then stop once
        ``patience`` steps pass without a new best (None: stop at once;
        `PlanParams.ruin_cooling`).
    locked
        Visits that never leave their place (pinned or fixed by a published plan).
    on_solution
        Called with each new best (routes, objective).
    profile
        With the compiled step: `step.PROF_SIZE` integers that the step adds its ticks per
        phase and its counts to (`step.PHASES`, `step.COUNTS`; `benchmarks/search_steps.py
        --profile`); None in production, which runs the kernel without measuring code.

    Returns
    -------
    Found
        The best routes, their objective (`optimizer.greedy.objective`), the number of
        steps made and why it stopped.
    """
    x = _Search(p, locked, seed)
    costs = []
    for v, seq in enumerate(routes):
        cost = route_cost(p, v, seq, x.tab) if seq else 0
        if cost is None:
            raise ValueError(f"routes: route of vehicle {v} is infeasible")
        costs.append(cost)
    placed = {n for r in routes for n in r}
    best = _Plan([list(r) for r in routes], costs, {u for u in x.visits if u not in placed})
    best_cost = best.total(x.drop)
    if (deadline is None and iterations is None) or not x.visits:
        return Found(best.routes, best_cost, 0, "nothing to do")
    served = max(1, len(x.visits) - len(best.out))
    arc = max(1.0, sum(costs) / served)
    t0, t1 = arc * 1.0, arc * 0.01
    if ready():
        return _compiled(
            x, best, best_cost, (t0, t1), deadline=deadline, iterations=iterations,
            patience=patience, after=patience_after, early=patience_early,
            cool=_Cooling(cooling), on_solution=on_solution, profile=profile,
        )  # fmt: skip
    current, current_cost = best, best_cost
    started, n, last = time.monotonic(), 0, 0
    cool = _Cooling(cooling)
    why = "iteration limit"
    while iterations is None or n < iterations:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            why = "time limit"
            break
        frac = cool.frac(
            n / iterations
            if iterations is not None
            else (now - started) / max(1e-9, (deadline or now) - started),
            n,
        )
        need = cool.need(frac, patience, patience_after, patience_early)
        if patience is not None and need is not None and n - last >= need:
            if not cool.start(n, frac):
                why = "no improvement"
                break
            last = n
            continue
        temp = t0 * (t1 / t0) ** min(1.0, frac)
        n += 1
        s = current.copy()
        removed = _ruin(x, s)
        if removed is None:
            continue
        if not _recreate(x, s, removed, deadline):
            why = "time limit"
            break
        cost = s.total(x.drop)
        if cost < current_cost - temp * math.log(float(x.rng.random()) + 1e-300):
            current, current_cost = s, cost
            if cost < best_cost:
                best, best_cost, last = s, cost, n
                if on_solution is not None:
                    on_solution([list(r) for r in s.routes], cost)
    return Found([list(r) for r in best.routes], best_cost, n, why)


class _Cooling:
    """A search that a patience count would stop hot cools first: its schedule, sped up.

    The temperature falls with the share of the limit used, so a count reached early stops
    a search that is still hot (issue 20: 200-ticket plans at 20 s stopped at 3.8 s, 169 h
    against 155 h). Once started at step ``n``, the share that sets the temperature runs
    from where it was to 1 over ``max(steps, n // 2)`` steps (or faster by the clock: the
    larger share wins), and only ``patience`` steps without a new best at the final
    temperature stop the search. Half the steps made so far: a search that stalls late
    cools about as slowly as its schedule did, while a small plan (stalled after a few
    thousand steps) still returns within a second.
    """

    def __init__(self, steps: int | None) -> None:
        self.steps, self.at, self.origin = steps, -1, 0.0

    @property
    def on(self) -> bool:
        return self.at >= 0

    def start(self, n: int, frac: float) -> bool:
        """Begin cooling at step ``n`` (share ``frac``); False: stop now (no cooling, or done)."""
        if self.steps is None or self.on:
            return False
        self.at, self.origin = n, min(1.0, frac)
        self.steps = max(self.steps, n // 2)
        return True

    def frac(self, frac: float, n: int) -> float:
        """The share that sets the temperature at step ``n``, ``frac`` by the clock."""
        if not self.on or self.steps is None:
            return frac
        return max(frac, self.origin + (1 - self.origin) * (n - self.at) / max(1, self.steps))

    def need(
        self, frac: float, patience: int | None, after: float, early: int | None
    ) -> int | None:
        """Steps without a new best that stop the search at share ``frac`` (see `improve`)."""
        if self.on:  # cooling: only the patience at the final temperature stops it
            return patience if frac >= 1.0 else None
        return patience if frac >= after else early


# Each call of the compiled step runs a batch of steps; under a deadline a batch is sized to
# take about this long (or a tenth of the time left), which bounds the overrun past it.
_BATCH_S = 0.01
_BATCH_STEPS = 64  # the batch with an iteration limit (deterministic)


def _tables(x: _Search) -> step.Tables:
    """The step's arrays of ``x`` (neighbours, candidates, pickups, locks, drops)."""
    p = x.p
    n = len(p.kind)
    visits = np.array(x.visits, dtype=np.int64)
    width = max([len(p.pickups.get(u, ())) for u in x.visits] + [1])
    picks = np.full((n, width), -1, dtype=np.int64)
    for u, nodes in p.pickups.items():
        picks[u, : len(nodes)] = nodes
    near = np.full((n, max([len(c) for c in x.near.values()] + [1])), -1, dtype=np.int64)
    for u, c in x.near.items():
        near[u, : len(c)] = c
    cands = np.full((n, max([len(c) for c in x.cands.values()] + [1])), -1, dtype=np.int64)
    for u, c in x.cands.items():
        cands[u, : len(c)] = c
    locked = np.zeros(n, dtype=np.bool_)
    locked[list(x.locked)] = True
    return step.Tables(
        visits, p.kind.astype(np.int64), picks, near, cands, locked, p.drop.astype(np.int64)
    )


def _compiled(
    x: _Search, start: _Plan, start_cost: int, temps: tuple[float, float], *,
    deadline: float | None, iterations: int | None, patience: int | None, after: float,
    early: int | None, cool: _Cooling,
    on_solution: Callable[[list[list[int]], int], None] | None,
    profile: IntArray | None = None,
) -> Found:  # fmt: skip
    """`improve` with every step compiled (`optimizer.step`), in batches between clock checks.

    A new best plan is priced by `route_cost` (the routes that changed since the last one)
    before it is kept or handed to ``on_solution``: should the kernel ever disagree with
    `route_cost`, the plan it found is not taken.
    """
    p = x.p
    data, tab = KernelData.of(p), _tables(x)
    n = len(p.kind)
    longest = max([len(r) for r in start.routes] + [1])
    width = min(n + 2, max(64, 2 * longest + 4 * _MAX_STRING))
    cur = step.State.of(start.routes, start.costs, n, width)
    trial, best = cur.copy(), cur.copy()
    totals = np.array([start_cost, start_cost, 0], dtype=np.int64)
    rng = step.seeded(x.seed)
    kept_routes, kept_costs = [list(r) for r in start.routes], list(start.costs)
    kept_cost = start_cost
    started, last, batch, disagreed = time.monotonic(), 0, 1, 0
    why = "iteration limit"
    ticks = step.cycles() if profile is not None else 0
    while iterations is None or int(totals[2]) < iterations:
        done = int(totals[2])
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            why = "time limit"
            break
        if iterations is not None:
            size = min(_BATCH_STEPS, iterations - done)
            f0, f1 = done / iterations, (done + size) / iterations
        else:
            size = batch
            total = max(1e-9, (deadline or now) - started)
            f0 = (now - started) / total
            f1 = f0 + size * (now - started) / max(1, done) / total
        f0, f1 = cool.frac(f0, done), cool.frac(f1, done + size)
        width = cur.mat.shape[1]
        wide = min(n + 2, 2 * width)  # routes grew near the width: room for longer ones
        if wide > width and int(cur.lens.max(initial=0)) > width - 4 * _MAX_STRING:
            cur, trial, best = cur.widened(wide), trial.widened(wide), best.widened(wide)
        ran = time.monotonic()
        before = int(totals[1])
        called = step.cycles() if profile is not None else 0
        # cooling: only the patience at the final temperature (share 1) stops the search
        made, last, stop = step.run(
            data, tab, cur, trial, best, totals, rng, size, (*temps, f0, f1), last,
            -1 if patience is None else patience, 1.0 if cool.on else after,
            -1 if early is None or cool.on else early, profile,
        )  # fmt: skip
        if profile is not None:
            profile[step.CALL] += step.cycles() - called
        if deadline is not None:  # the next batch: about _BATCH_S, or a tenth of what is left
            per = (time.monotonic() - ran) / max(1, made)
            aim = min(_BATCH_S, max(0.0, deadline - time.monotonic()) / 10)
            batch = max(1, min(10 * batch, int(aim / max(per, 1e-7))))
        if int(totals[1]) < before:
            routes = best.routes()
            costs = list(kept_costs)
            agree = True
            for v, r in enumerate(routes):
                if r != kept_routes[v]:
                    c = route_cost(p, v, r, x.tab) if r else 0
                    agree = agree and c == int(best.costs[v])
                    costs[v] = c if c is not None else 0
            disagreed += not agree
            if agree:
                kept_routes, kept_costs, kept_cost = routes, costs, int(totals[1])
                if on_solution is not None:
                    on_solution([list(r) for r in routes], kept_cost)
        if stop == step.PATIENCE:
            done = int(totals[2])
            if not cool.start(done, f0 + (f1 - f0) * made / max(1, size)):
                why = "no improvement"
                break
            last = done
    if profile is not None:
        profile[step.SEARCH] += step.cycles() - ticks
    return Found(kept_routes, kept_cost, int(totals[2]), why, disagreed)
