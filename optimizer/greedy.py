"""Greedy cheapest insertion: a feasible plan first, in a fraction of a second.

Tickets are taken most severe first (then the tightest deadline; the seed breaks the
remaining ties). Each is inserted where it raises the objective least: among the
``greedy_candidates`` qualified engineers nearest to the site (plus the owners of van stock
allocated to it), at every position of their routes, with each of its alternative pickups
(a depot pickup goes right before the visit, the way `optimizer.recommend` drives via a
depot; a van pickup at the route's start). Every insertion is checked in full (windows,
shift end, capacity), so the plan is always feasible; a ticket that fits nowhere is left out
(see `optimizer.solve` for its reason).

`route_cost` and `objective` price a route exactly as the OR-Tools model does, so that the
greedy plan and the improved one compare on one scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from time import monotonic

import numpy as np
import numpy.typing as npt

from optimizer.insertion import DEPOT, NONE, VAN, KernelData, best_insertion, ready
from optimizer.problem import PICKUP, START, RoutingProblem


@dataclass(frozen=True, slots=True)
class GreedyResult:
    """Routes as node sequences (without start and end), and the visits left out.

    ``unreached``: the visits (also in ``unassigned``) the construction never tried, because
    its deadline passed first.
    """

    routes: tuple[tuple[int, ...], ...]
    unassigned: tuple[int, ...]
    objective: int
    unreached: tuple[int, ...] = ()


class _Rows(dict[int, list[int]]):
    """Rows of a matrix as lists, converted on first use (most rows of a big plan never are).

    With ``base`` (the rows of the first ``n0`` nodes of a smaller problem), an old row is
    that row plus the new columns: a grown problem does not convert its old rows again.
    """

    __slots__ = ("base", "full", "n0")

    def __init__(
        self, full: npt.NDArray[np.int64], base: _Rows | list[list[int]] | None = None, n0: int = 0
    ) -> None:
        super().__init__()
        self.full, self.base, self.n0 = full, base, n0

    def __missing__(self, i: int) -> list[int]:
        row: list[int]
        if self.base is not None and i < self.n0:
            row = self.base[i] + self.full[i, self.n0 :].tolist()
        else:
            row = self.full[i].tolist()
        self[i] = row
        return row


class _Tables:
    """Python lists of the problem's arrays: fast scalar access in the insertion loops.

    ``lazy``: the matrices' rows are converted on first use (`_Rows`), for the urgent fast
    path, which reads a few rows of a ~600-node published plan (a full conversion of both
    matrices costs about 16 ms); the search loops touch every row and keep plain lists.
    """

    sec: _Rows | list[list[int]]
    met: _Rows | list[list[int]]

    def __init__(self, p: RoutingProblem, *, lazy: bool = False) -> None:
        self.sec = _Rows(p.seconds) if lazy else p.seconds.tolist()
        self.met = _Rows(p.metres) if lazy else p.metres.tolist()
        self.service = p.service.tolist()
        self.earliest = p.earliest.tolist()
        self.latest = p.latest.tolist()
        self.due = p.due.tolist()
        self.weight = p.weight.tolist()
        self.load = p.load.tolist()
        self.kind = p.kind.tolist()
        self.clocks: list[list[int]] | None = None if p.clocks is None else p.clocks.tolist()

    def extended(self, p: RoutingProblem) -> _Tables:
        """The tables of ``p``, this problem with nodes appended (old rows reused, lazily)."""
        n0 = len(self.kind)
        out = _Tables.__new__(_Tables)
        out.sec = _Rows(p.seconds, self.sec, n0)
        out.met = _Rows(p.metres, self.met, n0)
        for name in ("service", "earliest", "latest", "due", "weight", "load", "kind"):
            setattr(out, name, getattr(self, name) + getattr(p, name)[n0:].tolist())
        out.clocks = None
        if self.clocks is not None and p.clocks is not None:
            out.clocks = self.clocks + p.clocks[n0:].tolist()
        return out


def visit_cost(clocks: Sequence[int], start: int, after_job: bool = False) -> int:
    """What a visit starting service at ``start`` costs in broken and at-risk clocks.

    ``clocks`` is the visit's row of `RoutingProblem.clocks`: (deadline, penalty) of its
    arrival, fix and swap, then the late share per hour, at-risk share, margin and margin
    after another job (``after_job``: another job of his comes before it, for the arrive and
    fix clocks). The arithmetic of `optimizer.penalties.clock_cost`, inlined: this is the
    planner's hot loop (a test checks both agree). Never less than without ``after_job``.
    """
    total = 0
    for i in (0, 2, 4):
        penalty = clocks[i + 1]
        if penalty:
            late = start - clocks[i]
            if late > 0:
                total += penalty + penalty * clocks[6] * late // 360_000
            elif late > -clocks[9 if after_job and i < 4 else 8]:
                total += penalty * clocks[7] // 100
    return total


def route_cost(
    p: RoutingProblem, v: int, seq: Sequence[int], tab: _Tables | None = None
) -> int | None:
    """Return the objective points of vehicle ``v`` driving ``seq``; ``None`` if infeasible.

    The schedule starts each service as early as possible: departure at the vehicle's
    ``depart``, waiting where a window opens later. Points (fen): travel seconds x travel
    weight, each visit's broken and at-risk clocks (`visit_cost`; without clocks, lateness
    past ``due`` x its weight), overtime x (overtime weight + his overtime rate), engineer
    cost x cost weight, and the dedicated-engineer penalty. A visit after another job (an
    earlier visit of the route, or his committed work) wants the policy's slack.
    """
    t = tab or _Tables(p)
    params = p.params
    prev, time = int(p.starts[v]), int(p.depart[v])
    begin = time
    work_ends = int(p.work_ends()[v])  # services end by then; only the drive home may not
    travel = metres = late = dedicated = 0
    load = -sum(t.load[n] for n in seq)  # units loaded at the start (VRP demands)
    cap = int(p.capacity[v])
    if load < 0 or load > cap:
        return None
    after = p.after_job is not None and bool(p.after_job[v])
    for node in seq:
        if not p.may_serve(node, v):
            return None
        drive = t.sec[prev][node]
        travel += drive
        metres += t.met[prev][node]
        time = max(time + drive, t.earliest[node])
        if time > t.latest[node]:
            return None
        if t.clocks is not None and t.kind[node] != PICKUP:
            late += visit_cost(t.clocks[node], time, after)
            after = True
        elif t.due[node] >= 0 and time > t.due[node]:
            late += t.weight[node] * (time - t.due[node])
        dedicated += p.dedicated_cost(node, v)
        load += t.load[node]
        if load < 0 or load > cap:
            return None
        time += t.service[node]
        if time > work_ends:
            return None
        prev = node
    end = int(p.ends[v])
    travel += t.sec[prev][end]
    metres += t.met[prev][end]
    time += t.sec[prev][end]
    if time > int(p.close[v]):
        return None
    overtime = max(0, time - int(p.shift_end[v]))
    rate = 0 if p.overtime_cost is None else int(p.overtime_cost[v])
    return int(
        overtime * rate // 3_600
        + travel * params.travel_weight
        + metres * params.distance_weight
        + late
        + overtime * params.overtime_weight
        + dedicated
        + _money(p, v, time - begin, metres)
    )


def _money(p: RoutingProblem, v: int, span_s: int, metres: int) -> int:
    """Engineer cost in points, with the integer coefficients the OR-Tools model uses."""
    w = p.params.cost_weight
    return span_s * (int(p.hour_cost[v]) * w // 3_600) + metres * (int(p.km_cost[v]) * w // 1_000)


def objective(p: RoutingProblem, routes: Sequence[Sequence[int]]) -> int:
    """Return the plan's points: every route's cost plus the drop penalty of each left-out visit."""
    tab = _Tables(p, lazy=True)  # a few rows per route: converting all costs seconds at 1,000
    total, served = 0, set[int]()
    for v, seq in enumerate(routes):
        if seq and p.blocked(v, lambda w: bool(routes[w])):
            raise ValueError(f"routes: vehicle {v} and its twin (the same engineer) both work")
    for v, seq in enumerate(routes):
        if seq:
            cost = route_cost(p, v, seq, tab)
            if cost is None:
                raise ValueError(f"routes: route of vehicle {v} is infeasible")
            total += cost
            served.update(seq)
    return total + sum(int(p.drop[n]) for n in p.visits.tolist() if n not in served)


def construct(
    p: RoutingProblem, deadline: float | None = None, per_visit_s: float = 0.0
) -> GreedyResult:
    """Build a feasible plan by cheapest insertion (see the module docstring).

    Parameters
    ----------
    p
        The routing problem.
    deadline
        A ``time.monotonic()`` instant: the visits not inserted by then are left out
        (``unreached``), so that a plan call with a tiny limit still returns on time.
    per_visit_s
        The deadline comes this much earlier per visit placed: the time its mapping and
        validation will take after the construction.

    Returns
    -------
    GreedyResult
        Routes per vehicle, the visits that fit nowhere, and the objective.
    """
    tab = _Tables(p, lazy=ready())  # the kernel reads the arrays; few rows are read here
    kc = Compiled(p) if ready() else None
    routes: list[list[int]] = [[] for _ in range(p.vehicles)]
    costs = [0] * p.vehicles
    unassigned: list[int] = []
    unreached: list[int] = []
    placed = 0
    for u in _order(p):
        if deadline is not None and monotonic() >= deadline - per_visit_s * placed:
            unreached.append(u)
            continue
        best = _best_insertion(p, tab, kc, routes, costs, u)
        if best is None:
            unassigned.append(u)
            continue
        v, seq, cost = best
        routes[v], costs[v] = seq, cost
        placed += 1
        if kc is not None:
            kc.set(v, seq, cost)
    out = tuple(tuple(r) for r in routes)
    left = (*unassigned, *unreached)
    total = sum(costs) + sum(int(p.drop[u]) for u in left)  # = objective(p, out), no re-pricing
    return GreedyResult(out, left, total, tuple(unreached))


def _order(p: RoutingProblem) -> list[int]:
    visits = p.visits
    rng = np.random.default_rng(p.params.seed)
    tie = rng.permutation(len(visits))
    due = np.where(p.due[visits] >= 0, p.due[visits], p.horizon)
    key = np.lexsort((tie, p.latest[visits], due, -p.weight[visits]))
    return [int(n) for n in visits[key]]


def _candidates(p: RoutingProblem, tab: _Tables, u: int, routes: list[list[int]]) -> list[int]:
    """The nearest qualified vehicles (and van owners), without those whose twin works."""
    allowed = p.allowed[u] or tuple(range(p.vehicles))
    if p.twin is not None:
        allowed = tuple(v for v in allowed if not p.blocked(v, lambda w: bool(routes[w])))
    near = sorted(allowed, key=lambda v: (tab.sec[int(p.starts[v])][u], v))
    chosen = near[: p.params.greedy_candidates]
    owners = {a for n in p.pickups.get(u, ()) for a in p.allowed[n] if tab.kind[n] == PICKUP}
    chosen += [v for v in near[p.params.greedy_candidates :] if v in owners and _is_van(p, v, u)]
    return chosen


def _is_van(p: RoutingProblem, v: int, u: int) -> bool:
    return any(p.allowed[n] == (v,) and _at_start(p, n, v) for n in p.pickups.get(u, ()))


def _at_start(p: RoutingProblem, node: int, v: int) -> bool:
    """A van pickup: the owner's start place, no pick time (it can go first for free)."""
    start = int(p.starts[v])
    return bool(p.seconds[start, node] == 0 and p.service[node] == 0 and p.kind[start] == START)


class Compiled:
    """The routes as the insertion kernel reads them: one row per vehicle, kept in step."""

    def __init__(self, p: RoutingProblem) -> None:
        self.data = KernelData.of(p)
        self.mat = np.zeros((p.vehicles, len(p.kind) + 1), dtype=np.int64)
        self.lens = np.zeros(p.vehicles, dtype=np.int64)
        self.costs = np.zeros(p.vehicles, dtype=np.int64)

    def set(self, v: int, seq: Sequence[int], cost: int) -> None:
        """Route ``v`` is now ``seq`` at ``cost``."""
        self.mat[v, : len(seq)] = seq
        self.lens[v], self.costs[v] = len(seq), cost


def _best_insertion(
    p: RoutingProblem, tab: _Tables, kc: Compiled | None, routes: list[list[int]],
    costs: list[int], u: int,
) -> tuple[int, list[int], int] | None:  # fmt: skip
    """`_reference_insertion`, with every position priced by the compiled kernel at once.

    The same candidates, options and order, so the same choice; the chosen route is priced
    by `route_cost` again, and a disagreement falls back to the reference (as does a
    process where the kernel is not loaded: a plan never waits for a compiler).
    """
    if kc is None:
        return _reference_insertion(p, tab, routes, costs, u)
    cands = _candidates(p, tab, u, routes)
    options: list[int | None] = list(p.pickups.get(u, ())) or [None]
    modes = np.full((len(cands), len(options)), -1, dtype=np.int64)
    for c, v in enumerate(cands):
        for k, pick in enumerate(options):
            if pick is None:
                modes[c, k] = NONE
            elif p.may_serve(pick, v):
                modes[c, k] = VAN if _at_start(p, pick, v) else DEPOT
    picks = np.array([-1 if o is None else o for o in options], dtype=np.int64)
    c, k, i, rise = best_insertion(
        kc.data, kc.mat, kc.lens, kc.costs, np.array(cands, dtype=np.int64), u, picks, modes
    )
    if c < 0:
        return None
    v, pick, seq = cands[c], options[k], routes[cands[c]]
    if pick is None:
        new = [*seq[:i], u, *seq[i:]]
    elif modes[c, k] == VAN:
        new = [pick, *seq[:i], u, *seq[i:]]
    else:
        new = [*seq[:i], pick, u, *seq[i:]]
    cost = route_cost(p, v, new, tab)
    if cost is None or cost - costs[v] != rise:
        return _reference_insertion(p, tab, routes, costs, u)
    return v, new, cost


def _reference_insertion(
    p: RoutingProblem, tab: _Tables, routes: list[list[int]], costs: list[int], u: int
) -> tuple[int, list[int], int] | None:
    """The cheapest insertion in pure Python: every position priced by `route_cost`."""
    best: tuple[int, int, list[int], int] | None = None
    options: list[int | None] = list(p.pickups.get(u, ())) or [None]
    for v in _candidates(p, tab, u, routes):
        seq = routes[v]
        for pick in options:
            if pick is not None and not p.may_serve(pick, v):
                continue
            van = pick is not None and _at_start(p, pick, v)
            for i in range(len(seq) + 1):
                if pick is None:
                    new = [*seq[:i], u, *seq[i:]]
                elif van:
                    new = [pick, *seq[:i], u, *seq[i:]]
                else:
                    new = [*seq[:i], pick, u, *seq[i:]]
                cost = route_cost(p, v, new, tab)
                if cost is not None and (best is None or cost - costs[v] < best[0]):
                    best = (cost - costs[v], v, new, cost)
    return None if best is None else (best[1], best[2], best[3])
