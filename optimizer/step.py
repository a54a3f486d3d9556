"""The compiled search step: ruin, recreate and acceptance of `optimizer.search` in one kernel.

`optimizer.search` once ran each step in Python around a compiled pricing of positions;
choosing candidates, copying routes, re-pricing each kept insertion by `route_cost` and the
string removals were two thirds of a step. Here a whole batch of steps runs in one numba call
(`run`, compiled once and cached on disk with the other kernels): routes are rows of an
integer matrix, a step removes strings of visits around a random visit (SISR), reinserts
them and a few visits that were out at their cheapest position (with blinks), and keeps the
new plan by simulated annealing. Only the routes a step touched are copied back or forth.

Routes are priced by `optimizer.insertion._price`, the twin of `optimizer.greedy.route_cost`
that `tests/optimizer/test_insertion.py` checks against it by hypothesis; the search checks
every new best plan with `route_cost` itself before it hands it out (the one logic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from numba import njit

from optimizer.insertion import TWIN, KernelData, _price, with_visit
from optimizer.problem import START, VISIT

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
UIntArray = npt.NDArray[np.uint64]

# SISR's settings (the same as `optimizer.search`'s Python step)
AVG_REMOVED = 10  # c-bar: visits removed per step on average
MAX_STRING = 10  # L-max: longest string removed
BLINK = 0.01  # probability of skipping a position while reinserting
NEAR_VEHICLES = 10  # neighbours whose engineers are candidates for a visit

# `run`'s answer: steps made, step of the last new best, why it returned
BATCH, PATIENCE = 0, 1

# `run(prof=...)`: where a step's time goes, in ticks of the CPU's time-stamp counter (a
# constant rate, read in a few cycles), and what it did. Without ``prof`` (production) numba
# prunes every measuring branch at compile time.
PHASES = (
    "ruin: count the placed visits",  # scan of every visit and route
    "ruin: remove strings, reprice",
    "recreate: pick and order",  # the visits out before, the order of insertion
    "insert: candidates",  # the candidate engineers of each visit
    "insert: latest arrivals",  # the backward pass over each candidate route
    "insert: positions",  # bounds, blinks and checks of each position (pricing apart)
    "insert: pricing",  # `insertion._price` of each position that passed the bound
    "insert: commit",
    "accept",
    "copy back",
    "copy to best",
    "step",  # a whole step
    "kernel call",  # `run` as its caller times it: the steps and the call around them
    "search",  # the caller's whole loop of `run` calls (`optimizer.search._compiled`)
)
CALL, SEARCH = 12, 13  # the two phases `optimizer.search` times around `run`
COUNTS = (
    "steps", "accepted", "new bests", "insertions", "not inserted", "candidate routes",
    "positions", "prices", "nodes priced", "nodes in latest-arrival passes",
)  # fmt: skip
PROF_SIZE = len(PHASES) + len(COUNTS)
_C = len(PHASES)  # where the counts start


@dataclass(eq=False)
class State:
    """A plan as the kernel holds it: routes as rows, their costs, each visit's engineer.

    ``mat`` (V, width): vehicle ``v``'s route in ``mat[v, :lens[v]]``; ``costs[v]`` its
    price (0 when empty); ``where[u]``: the vehicle serving visit ``u``, -1 when it is out.
    """

    mat: IntArray
    lens: IntArray
    costs: IntArray
    where: IntArray

    @classmethod
    def of(cls, routes: list[list[int]], costs: list[int], n: int, width: int) -> State:
        mat = np.full((len(routes), width), -1, dtype=np.int64)
        lens = np.zeros(len(routes), dtype=np.int64)
        where = np.full(n, -1, dtype=np.int64)
        for v, r in enumerate(routes):
            mat[v, : len(r)] = r
            lens[v] = len(r)
            where[r] = v
        return cls(mat, lens, np.array(costs, dtype=np.int64), where)

    def copy(self) -> State:
        return State(self.mat.copy(), self.lens.copy(), self.costs.copy(), self.where.copy())

    def routes(self) -> list[list[int]]:
        return [self.mat[v, : self.lens[v]].tolist() for v in range(len(self.lens))]

    def widened(self, width: int) -> State:
        """The same plan with room for routes of ``width`` nodes."""
        mat = np.full((len(self.lens), width), -1, dtype=np.int64)
        mat[:, : self.mat.shape[1]] = self.mat
        return State(mat, self.lens, self.costs, self.where)


@dataclass(frozen=True, eq=False)
class Tables:
    """What a step reads besides `KernelData`, as arrays (built once per search).

    ``visits`` the visit nodes; ``kind`` each node's kind; ``picks`` (n, P) each visit's
    pickup nodes (-1 padded); ``near`` (n, K) its nearest visits; ``cands`` (n, C) its
    nearest qualified engineers (-1 padded); ``locked`` and ``drop`` per node.
    """

    visits: IntArray
    kind: IntArray
    picks: IntArray
    near: IntArray
    cands: IntArray
    locked: BoolArray
    drop: IntArray


def seeded(seed: int) -> UIntArray:
    """The kernel's random state for ``seed`` (a xorshift generator; never zero)."""
    x = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % (1 << 64) or 1
    return np.array([x], dtype=np.uint64)


if TYPE_CHECKING:

    def _cycles() -> int:
        """The CPU's time-stamp counter (compiled: ``llvm.readcyclecounter``, a few cycles)."""
        return 0

else:
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _cycles(typingctx):  # pragma: no cover - compiled
        """The CPU's time-stamp counter (``llvm.readcyclecounter``): a few cycles to read."""

        def codegen(context, builder, sig, args):
            from llvmlite import ir
            from numba.core import cgutils

            fnty = ir.FunctionType(ir.IntType(64), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
            return builder.call(fn, [])

        return types.int64(), codegen


@njit(cache=True, nogil=True)
def cycles() -> int:  # pragma: no cover - compiled
    """The time-stamp counter, read from Python (to relate `run`'s ``prof`` cycles to seconds)."""
    return _cycles()


def run(
    data: KernelData, tab: Tables, cur: State, trial: State, best: State, totals: IntArray,
    rng: UIntArray, steps: int, temps: tuple[float, float, float, float], last: int,
    patience: int, after: float = 0.0, early: int = -1, prof: IntArray | None = None,
) -> tuple[int, int, int]:  # fmt: skip
    """Run up to ``steps`` steps on ``cur`` (``trial`` equal to it; ``best`` the best so far).

    ``totals`` holds the current and best objectives and the step count, updated in place;
    ``temps`` = (t0, t1, f0, f1): the temperature falls geometrically from t0 to t1 over the
    whole search, this batch covering fractions f0 to f1 of it. ``patience`` (< 0: none)
    stops after that many steps without a new best, counted from step ``last``, but only
    once the search is past the fraction ``after`` of it (cooled enough to have converged);
    before it, ``early`` steps without a new best (< 0: none) stop it. ``prof`` (`PROF_SIZE`
    integers, added to): cycles per phase (`PHASES`) and counts (`COUNTS`); a measuring
    build of the kernel, compiled on first use (production passes None: no measuring code).

    Returns (steps made, step of the last new best, `BATCH` or `PATIENCE`).
    """
    t0, t1, f0, f1 = temps
    made, last_best, why = _run(
        data.seconds, data.metres, data.nodes, data.vehicles, data.allowed, data.dedicated,
        data.weights, tab.visits, tab.kind, tab.picks, tab.near, tab.cands, tab.locked,
        tab.drop, cur.mat, cur.lens, cur.costs, cur.where, trial.mat, trial.lens, trial.costs,
        trial.where, best.mat, best.lens, best.costs, best.where, totals, rng, steps, t0, t1,
        f0, f1, last, patience, after, early, prof,
    )  # fmt: skip
    return int(made), int(last_best), int(why)


def warm() -> None:
    """Compile or load `run`'s kernel (a one-visit problem, a few steps): see `insertion.load`."""
    one = np.ones((2, 2), dtype=np.int64)
    data = KernelData(
        one, one, np.zeros((2, 17), dtype=np.int64), np.zeros((1, 12), dtype=np.int64),
        np.ones((2, 1), dtype=np.bool_), np.zeros((2, 1), dtype=np.int64),
        np.zeros(3, dtype=np.int64),
    )  # fmt: skip
    data.vehicles[0, 3] = data.nodes[:, 2] = data.vehicles[0, 5] = data.vehicles[0, 6] = 100
    data.vehicles[0, TWIN] = -1
    tab = Tables(
        np.array([1], dtype=np.int64), np.array([START, VISIT], dtype=np.int64),
        np.full((2, 1), -1, dtype=np.int64), np.full((2, 1), -1, dtype=np.int64),
        np.zeros((2, 1), dtype=np.int64), np.zeros(2, dtype=np.bool_),
        np.ones(2, dtype=np.int64),
    )  # fmt: skip
    cur = State.of([[1]], [0], 2, 4)
    cur.costs[0] = _reprice(
        data.seconds, data.metres, data.nodes, data.vehicles, data.allowed, data.dedicated,
        data.weights, cur.mat, cur.lens, 0,
    )  # fmt: skip
    totals = np.array([cur.costs[0], cur.costs[0], 0], dtype=np.int64)
    run(data, tab, cur, cur.copy(), cur.copy(), totals, seeded(0), 2, (1.0, 0.1, 0.0, 1.0), 0, -1)


@njit(cache=True, nogil=True)
def _uniform(rng: UIntArray) -> float:  # pragma: no cover - compiled
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    r = (x * np.uint64(2685821657736338717)) >> np.uint64(11)
    return float(r) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def _below(rng: UIntArray, n: int) -> int:  # pragma: no cover - compiled
    """A random integer in [0, n)."""
    k = int(_uniform(rng) * n)
    return k if k < n else n - 1


@njit(cache=True, nogil=True)
def _reorder(todo: IntArray, keys: npt.NDArray[np.float64], n: int) -> None:  # pragma: no cover
    """Sort ``todo[:n]`` by ``keys[:n]``, stably."""
    idx = np.argsort(keys[:n], kind="mergesort")
    tmp = todo[:n].copy()
    for j in range(n):
        todo[j] = tmp[idx[j]]


@njit(cache=True, nogil=True)
def _reprice(
    sec: IntArray, met: IntArray, nodes: IntArray, veh: IntArray, allowed: BoolArray,
    ded: IntArray, weights: IntArray, mat: IntArray, lens: IntArray, v: int,
) -> int:  # pragma: no cover - compiled  # fmt: skip
    """The price of route ``v`` (0 when empty, -1 when infeasible)."""
    n = lens[v]
    if n == 0:
        return 0
    load = 0
    for j in range(n):
        load += nodes[mat[v, j], 5]
    return _price(sec, met, nodes, veh, allowed, ded, weights, mat[v, :n], v, -load, veh[v, 6])


@njit(cache=True, nogil=True)
def _insert(
    sec: IntArray, met: IntArray, nodes: IntArray, veh: IntArray, allowed: BoolArray,
    ded: IntArray, weights: IntArray, kind: IntArray, picks: IntArray, near: IntArray,
    cands: IntArray, mat: IntArray, lens: IntArray, costs: IntArray, where: IntArray,
    touched: BoolArray, seen: BoolArray, seq: IntArray, rng: UIntArray, u: int,
    prof: IntArray | None,
) -> bool:  # pragma: no cover - compiled  # fmt: skip
    """Insert ``u`` where its cost rises least (blinking); False when it fits nowhere."""
    if prof is not None:
        t_in = _cycles()
    width = mat.shape[1]
    best = np.int64(1) << np.int64(62)
    bv, bk, bi, bcost = -1, -1, -1, -1
    # candidates: the nearest qualified engineers, then those serving u's nearest visits
    ncand = 0
    order = np.empty(cands.shape[1] + NEAR_VEHICLES, dtype=np.int64)
    for c in range(cands.shape[1]):
        v = cands[u, c]
        if v < 0:
            break
        if not seen[v]:
            seen[v] = True
            order[ncand] = v
            ncand += 1
    for c in range(min(NEAR_VEHICLES, near.shape[1])):
        w = near[u, c]
        if w < 0:
            break
        v = where[w]
        if v >= 0 and not seen[v] and allowed[u, v]:
            seen[v] = True
            order[ncand] = v
            ncand += 1
    npick = 0
    for k in range(picks.shape[1]):
        if picks[u, k] >= 0:
            npick += 1
    lat = np.empty(width + 1, dtype=np.int64)
    if prof is not None:
        t_c = _cycles()
        prof[3] += t_c - t_in
    for c in range(ncand):
        v = order[c]
        seen[v] = False
        if veh[v, 11] >= 0 and lens[veh[v, 11]] > 0:
            continue  # his twin works (his gap or his time after committed work): not this one
        n = lens[v]
        row = mat[v]
        start = veh[v, 0]
        if prof is not None:
            t_l = _cycles()
            prof[_C + 5] += 1
            prof[_C + 9] += n
        # the latest arrival at each position's node that keeps the rest of the route within
        # its windows, its shift end and the engineer's close (waiting allowed)
        lat[n] = veh[v, 3]  # arrival at the end
        for j in range(n - 1, -1, -1):
            a = mat[v, j]
            b = veh[v, 1] if j == n - 1 else mat[v, j + 1]
            lat[j] = min(nodes[a, 2], veh[v, 5] - nodes[a, 0], lat[j + 1] - nodes[a, 0] - sec[a, b])
        if prof is not None:
            prof[4] += _cycles() - t_l
        for k in range(max(1, npick)):
            pick = -1 if npick == 0 else picks[u, k]
            mode = 0
            if pick >= 0:
                if not allowed[pick, v]:
                    continue
                van = sec[start, pick] == 0 and nodes[pick, 0] == 0 and kind[start] == START
                mode = 1 if van else 2
            extra = 1 if mode == 0 else 2
            if n + extra > width:
                continue
            load = nodes[u, 5]
            if mode != 0:
                load += nodes[pick, 5]
            for j in range(n):
                load += nodes[mat[v, j], 5]
            if load > veh[v, 6]:
                continue
            per_m = weights[1] + veh[v, 8]
            fixed = ded[u, v] + (ded[pick, v] if mode != 0 else 0)
            t = veh[v, 2]  # departure from the node before position i (pickup not counted)
            prev = start
            for i in range(n + 1):
                if prof is not None:
                    prof[_C + 6] += 1
                if i > 0:
                    a = mat[v, i - 1]
                    t = max(t + sec[prev, a], nodes[a, 1]) + nodes[a, 0]
                    prev = a
                b = veh[v, 1] if i == n else mat[v, i]
                if mode == 2:
                    at = max(t + sec[prev, pick], nodes[pick, 1]) + nodes[pick, 0]
                    arrive = at + sec[pick, u]
                    d_sec = sec[prev, pick] + sec[pick, u] + sec[u, b] - sec[prev, b]
                    d_met = met[prev, pick] + met[pick, u] + met[u, b] - met[prev, b]
                else:
                    arrive = t + sec[prev, u]
                    d_sec = sec[prev, u] + sec[u, b] - sec[prev, b]
                    d_met = met[prev, u] + met[u, b] - met[prev, b]
                if _uniform(rng) < BLINK:
                    continue
                begin = max(arrive, nodes[u, 1])
                if begin > nodes[u, 2] or begin + nodes[u, 0] > veh[v, 5]:
                    break  # later positions arrive later still
                if mode == 2 and max(t + sec[prev, pick], nodes[pick, 1]) > nodes[pick, 2]:
                    break
                if begin + nodes[u, 0] + sec[u, b] > lat[i]:
                    continue  # the rest of the route would miss a window
                # a lower bound of the rise: the detour's driving and kilometres, the
                # dedicated penalty (the rest only grows on a metric matrix)
                if d_sec * weights[0] + d_met * per_m + fixed >= best:
                    continue
                if prof is not None:
                    t_p = _cycles()
                m = with_visit(seq, row, n, i, u, pick, mode)
                cost = _price(sec, met, nodes, veh, allowed, ded, weights, seq[:m], v, -load,
                              veh[v, 6])  # fmt: skip
                if prof is not None:
                    prof[6] += _cycles() - t_p
                    prof[_C + 7] += 1
                    prof[_C + 8] += m
                if cost >= 0 and cost - costs[v] < best:
                    best = cost - costs[v]
                    bv, bk, bi, bcost = v, k, i, cost
    if prof is not None:
        t_k = _cycles()
        prof[5] += t_k - t_c  # the positions, with the latest arrivals and pricing (taken off)
    if bv < 0:
        return False
    n = lens[bv]
    pick = -1 if npick == 0 else picks[u, bk]
    mode = 0
    if pick >= 0:
        start = veh[bv, 0]
        van = sec[start, pick] == 0 and nodes[pick, 0] == 0 and kind[start] == START
        mode = 1 if van else 2
    m = with_visit(seq, mat[bv], n, bi, u, pick, mode)
    for j in range(m):
        mat[bv, j] = seq[j]
    lens[bv] = m
    costs[bv] = bcost
    where[u] = bv
    touched[bv] = True
    if prof is not None:
        prof[7] += _cycles() - t_k
    return True


@njit(cache=True, nogil=True)
def _run(
    sec: IntArray, met: IntArray, nodes: IntArray, veh: IntArray, allowed: BoolArray,
    ded: IntArray, weights: IntArray, visits: IntArray, kind: IntArray, picks: IntArray,
    near: IntArray, cands: IntArray, locked: BoolArray, drop: IntArray,
    cmat: IntArray, clens: IntArray, ccosts: IntArray, cwhere: IntArray,
    tmat: IntArray, tlens: IntArray, tcosts: IntArray, twhere: IntArray,
    bmat: IntArray, blens: IntArray, bcosts: IntArray, bwhere: IntArray,
    totals: IntArray, rng: UIntArray, steps: int, t0: float, t1: float, f0: float, f1: float,
    last: int, patience: int, after: float, early: int, prof: IntArray | None,
) -> tuple[int, int, int]:  # pragma: no cover - compiled  # fmt: skip
    nv = clens.shape[0]
    width = cmat.shape[1]
    nn = cwhere.shape[0]
    touched = np.zeros(nv, dtype=np.bool_)
    seen = np.zeros(nv, dtype=np.bool_)
    ruined = np.zeros(nv, dtype=np.bool_)
    gone = np.zeros(nn, dtype=np.bool_)
    seq = np.empty(width + 2, dtype=np.int64)
    movable = np.empty(visits.shape[0], dtype=np.int64)
    todo = np.empty(visits.shape[0], dtype=np.int64)
    chunk = np.empty(MAX_STRING, dtype=np.int64)
    vis = np.empty(width, dtype=np.int64)
    keys = np.empty(visits.shape[0], dtype=np.float64)
    made = 0
    why = BATCH
    for s in range(steps):
        n_step = totals[2]
        frac = f0 + (f1 - f0) * s / max(1, steps)
        need = patience if frac >= after else early
        if patience >= 0 and need >= 0 and n_step - last >= need:
            why = PATIENCE
            break
        temp = t0 * (t1 / t0) ** min(1.0, frac)
        totals[2] += 1
        made += 1
        if prof is not None:
            t_s = _cycles()
            prof[_C] += 1
        # -- ruin: strings of visits around a random visit
        nmov = 0
        used = 0
        placed = 0
        for v in range(nv):
            if tlens[v] > 0:
                used += 1
        for k in range(visits.shape[0]):
            u = visits[k]
            if twhere[u] >= 0:
                placed += 1
                if not locked[u]:
                    movable[nmov] = u
                    nmov += 1
        if prof is not None:
            t_r = _cycles()
            prof[0] += t_r - t_s
        if nmov == 0:
            continue
        avg = placed / max(1, used)
        l_max = min(float(MAX_STRING), avg)
        k_max = 4.0 * AVG_REMOVED / (1.0 + l_max) - 1.0
        strings = int(1.0 + _uniform(rng) * k_max)
        seed = movable[_below(rng, nmov)]
        nrem = 0
        failed = False
        nruined = 0
        for c in range(-1, near.shape[1]):
            if nruined >= strings:
                break
            w = seed if c < 0 else near[seed, c]
            if w < 0:
                break
            v = twhere[w]
            if v < 0 or ruined[v] or locked[w]:
                continue
            nvis = 0
            at = 0
            for j in range(tlens[v]):
                x = tmat[v, j]
                if kind[x] == VISIT:
                    if x == w:
                        at = nvis
                    vis[nvis] = x
                    nvis += 1
            length = int(1.0 + _uniform(rng) * min(float(nvis), l_max))
            length = max(1, min(length, nvis))
            lo_min = max(0, at - length + 1)
            lo_max = min(at, nvis - length)
            lo = lo_min + _below(rng, lo_max - lo_min + 1)
            nchunk = 0
            for j in range(lo, lo + length):
                if not locked[vis[j]]:
                    chunk[nchunk] = vis[j]
                    nchunk += 1
            # remove the chunk and its pickups from route v
            for j in range(nchunk):
                x = chunk[j]
                gone[x] = True
                for k in range(picks.shape[1]):
                    if picks[x, k] >= 0:
                        gone[picks[x, k]] = True
            m = 0
            for j in range(tlens[v]):
                x = tmat[v, j]
                if not gone[x]:
                    tmat[v, m] = x
                    m += 1
            for j in range(nchunk):
                x = chunk[j]
                gone[x] = False
                for k in range(picks.shape[1]):
                    if picks[x, k] >= 0:
                        gone[picks[x, k]] = False
            tlens[v] = m
            touched[v] = True
            ruined[v] = True
            nruined += 1
            cost = _reprice(sec, met, nodes, veh, allowed, ded, weights, tmat, tlens, v)
            if cost < 0:  # a non-metric matrix can make a shorter route later
                failed = True
                break
            tcosts[v] = cost
            # the chunk's visits join the removed, in node order
            chunk[:nchunk].sort()
            for j in range(nchunk):
                twhere[chunk[j]] = -1
                todo[nrem] = chunk[j]
                nrem += 1
        for v in range(nv):
            ruined[v] = False
        total = totals[0]
        if prof is not None:
            t_o = _cycles()
            prof[1] += t_o - t_r
        if not failed:
            # -- recreate: the removed and up to AVG_REMOVED of those out before
            order = _below(rng, 3)
            for j in range(nrem):
                gone[todo[j]] = True
            nout = 0
            for k in range(visits.shape[0]):
                u = visits[k]
                if twhere[u] < 0 and not gone[u]:
                    movable[nout] = u
                    nout += 1
            for j in range(nrem):
                gone[todo[j]] = False
            if nout > AVG_REMOVED:  # a partial shuffle picks AVG_REMOVED, kept in node order
                for j in range(AVG_REMOVED):
                    r = j + _below(rng, nout - j)
                    movable[j], movable[r] = movable[r], movable[j]
                movable[:AVG_REMOVED].sort()
                nout = AVG_REMOVED
            ntodo = nrem
            for j in range(nout):
                todo[ntodo] = movable[j]
                ntodo += 1
            if order == 0:
                for j in range(ntodo - 1, 0, -1):
                    r = _below(rng, j + 1)
                    todo[j], todo[r] = todo[r], todo[j]
            else:  # 1: most urgent first, as the greedy does (by latest, then weight, stable)
                for j in range(ntodo):  # 2: tightest window first
                    u = todo[j]
                    keys[j] = nodes[u, 2] if order == 1 else nodes[u, 2] - nodes[u, 1]
                _reorder(todo, keys, ntodo)
                if order == 1:
                    for j in range(ntodo):
                        keys[j] = -nodes[todo[j], 4]
                    _reorder(todo, keys, ntodo)
            if prof is not None:
                t_i = _cycles()
                prof[2] += t_i - t_o
            for j in range(ntodo):
                ok = _insert(sec, met, nodes, veh, allowed, ded, weights, kind, picks, near,
                             cands, tmat, tlens, tcosts, twhere, touched, seen, seq, rng, todo[j],
                             prof)  # fmt: skip
                if prof is not None:
                    prof[_C + 3] += 1
                    prof[_C + 4] += not ok
            if prof is not None:
                t_a = _cycles()
            # -- accept by simulated annealing on route costs plus drop penalties
            for v in range(nv):
                if touched[v]:
                    total += tcosts[v] - ccosts[v]
            for j in range(ntodo):
                u = todo[j]
                if twhere[u] < 0 and cwhere[u] >= 0:
                    total += drop[u]
                elif twhere[u] >= 0 and cwhere[u] < 0:
                    total -= drop[u]
            accept = total < totals[0] - temp * np.log(_uniform(rng) + 1e-300)
        else:
            accept = False
            ntodo = nrem
            if prof is not None:
                t_a = _cycles()
        if prof is not None:
            t_b = _cycles()
            prof[8] += t_b - t_a
        src_mat, src_lens, src_costs, src_where = tmat, tlens, tcosts, twhere
        dst_mat, dst_lens, dst_costs, dst_where = cmat, clens, ccosts, cwhere
        if not accept:
            src_mat, src_lens, src_costs, src_where = cmat, clens, ccosts, cwhere
            dst_mat, dst_lens, dst_costs, dst_where = tmat, tlens, tcosts, twhere
        for v in range(nv):
            if touched[v]:
                n = src_lens[v]
                for j in range(n):
                    dst_mat[v, j] = src_mat[v, j]
                dst_lens[v] = n
                dst_costs[v] = src_costs[v]
                touched[v] = False
        for j in range(ntodo):
            dst_where[todo[j]] = src_where[todo[j]]
        if prof is not None:
            t_d = _cycles()
            prof[9] += t_d - t_b
        if accept:
            totals[0] = total
            if prof is not None:
                prof[_C + 1] += 1
            if total < totals[1]:
                totals[1] = total
                last = totals[2]
                bmat[:, :] = cmat
                blens[:] = clens
                bcosts[:] = ccosts
                bwhere[:] = cwhere
                if prof is not None:
                    prof[_C + 2] += 1
        if prof is not None:
            t_e = _cycles()
            prof[10] += t_e - t_d
            prof[11] += t_e - t_s
    return made, last, why
