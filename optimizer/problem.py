"""The routing problem: nodes, vehicles and integer matrices, as plain picklable data.

Built once per plan from the world, the tickets and their `allocate`d stock, then handed to
the greedy construction, to OR-Tools (in a child process) and back. Times are integer
seconds **relative to the planning moment** (``0`` = ``now``; OR-Tools wants non-negative
cumuls); `RoutingProblem.now` converts back.

Nodes: one start and one end per vehicle (an engineer with working time left), one visit per
plannable ticket, and one pickup node per alternative pickup of a ticket (a depot, or the
engineer's own van: a node at his start with no pick time that only he can take). The time
cumul of a node is the *start of service* there; a node's transit is its service time plus
the drive to the next node.

A Solomon VRPTW instance maps onto this without loss: vehicles start and end at the depot
(``home``) with one shift ``[0, due of the depot]`` and ``capacity``; customers are tickets
with ``not_before`` = ready time, ``arrive_by`` = due time, ``hard_arrival``, ``service_s``
and ``demand``; travel is a `MatrixTravelTimes` over Euclidean distances scaled to integers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from optimizer.allocation import TicketSupply
from optimizer.candidates import skill_mask
from optimizer.deadline import Deadline
from optimizer.model import Engineer, Location, Ticket, Window
from optimizer.params import PlanParams
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld

IntArray = npt.NDArray[np.int64]

START, END, VISIT, PICKUP = 0, 1, 2, 3
BIG_LOAD = 1 << 30
COLS = 20  # node columns of `_Builder.rows`


@dataclass(frozen=True, slots=True)
class WorkWindow:
    """An engineer's working time in this plan: one stretch of a shift without absences."""

    depart: int  # earliest departure (now, his current job's end, or the shift's start)
    close: int  # everything must be done by then (shift end + overtime, or an absence)
    shift_end: int  # past this is overtime


def available(
    shifts: tuple[Window, ...], absences: tuple[Window, ...], overtime: int
) -> list[Window]:
    """Return the stretches of ``shifts`` (each extended by ``overtime``) outside ``absences``."""
    out: list[Window] = []
    for start, end in shifts:
        pieces = [(start, end + overtime)]
        for a, b in absences:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, a)), (max(s, b), e))
                if piece[0] < piece[1]
            ]
        out.extend(pieces)
    return out


def work_window(engineer: Engineer, now: int, overtime: int) -> WorkWindow | None:
    """Return the first stretch of working time that is not over at ``now`` (``None``: none)."""
    ready = max(now, engineer.busy_until or now)
    for start, end in engineer.shifts:
        for s, e in available(((start, end),), engineer.absences, overtime):
            depart = max(s, ready)
            if depart < e:
                return WorkWindow(depart, e, min(end, e))
    return None


@dataclass(frozen=True, eq=False)
class RoutingProblem:
    """Plain arrays over nodes and vehicles (see the module docstring).

    Per node: ``kind``, ``ticket`` (index into the planned tickets), ``option`` (pickup
    alternative index), ``service``, ``earliest``/``latest`` (hard window of the service
    start), ``due`` (soft bound, ``-1``: none), ``weight`` (points per second past ``due``),
    ``load`` (units on board change), ``drop`` (penalty), ``allowed`` (vehicles; empty: all),
    ``penalty`` (per vehicle row: dedicated-engineer points, for visits), ``clocks`` (per visit:
    the arrive, fix and swap clocks as (deadline of the service start, penalty) pairs, then
    the ticket's late share per hour, at-risk share, margin and the margin after another job
    (at least the policy's slack); a penalty 0 is no clock;
    `optimizer.greedy.route_cost` prices them by `optimizer.penalties.clock_cost`). Per vehicle:
    ``engineer`` rows, ``starts``/``ends`` nodes, ``depart``/``close``/``shift_end``,
    ``capacity``, ``hour_cost``/``km_cost``, ``work_close`` (every service ends by then: the
    working window's close; ``close`` may be later by the drive home from where he starts,
    which is travel, not work; ``None``: ``close``). ``pickups`` maps a visit node to its pickup
    nodes; ``visit_of`` a pickup node to its visit.
    """

    now: int
    kind: IntArray
    ticket: IntArray
    option: IntArray
    service: IntArray
    earliest: IntArray
    latest: IntArray
    due: IntArray
    weight: IntArray
    load: IntArray
    drop: IntArray
    allowed: tuple[tuple[int, ...], ...]
    preferred: tuple[tuple[int, ...], ...]
    pickups: dict[int, tuple[int, ...]]
    visit_of: dict[int, int]
    seconds: IntArray
    metres: IntArray
    engineer: IntArray
    starts: IntArray
    ends: IntArray
    depart: IntArray
    close: IntArray
    shift_end: IntArray
    capacity: IntArray
    hour_cost: IntArray
    km_cost: IntArray
    horizon: int
    params: PlanParams
    coords: npt.NDArray[np.float64] | None = None  # (lat, lon) per node: `extend_problem`
    work_close: IntArray | None = None
    clocks: IntArray | None = None  # (n, 10): see above
    overtime_cost: IntArray | None = None  # per vehicle: fen per overtime hour
    # per vehicle: 1 when his first visit follows committed work (the slack applies to it)
    after_job: IntArray | None = None
    # per vehicle: the other vehicle of the same engineer (his gap before a committed visit
    # and the time after all of it, `Vehicle.back_by`), -1: none; a plan uses one of two
    twin: IntArray | None = None
    fills_gap: IntArray | None = None  # per vehicle: 1 for a gap route (None: no gap route)

    def work_ends(self) -> IntArray:
        """Per vehicle, when every service must be over (the working window's close)."""
        return self.close if self.work_close is None else self.work_close

    @property
    def vehicles(self) -> int:
        """Number of vehicles."""
        return len(self.starts)

    @property
    def visits(self) -> IntArray:
        """Visit node indices."""
        return np.flatnonzero(self.kind == VISIT).astype(np.int64)

    def may_serve(self, node: int, vehicle: int) -> bool:
        """Whether ``vehicle`` may take ``node`` (skills; a van pickup only by its owner)."""
        allowed = self.allowed[node]
        return not allowed or vehicle in allowed

    def blocked(self, vehicle: int, used: Callable[[int], bool]) -> bool:
        """Whether ``vehicle`` may take no visit: his twin's route (``used``) is not empty."""
        if self.twin is None:
            return False
        other = int(self.twin[vehicle])
        return other >= 0 and used(other)

    def dedicated_cost(self, node: int, vehicle: int) -> int:
        """Points for serving visit ``node`` with ``vehicle`` when he is not the dedicated one."""
        preferred = self.preferred[node]
        return self.params.dedicated_penalty if preferred and vehicle not in preferred else 0


@dataclass
class _Builder:
    """Collects nodes; `build_problem` turns them into arrays."""

    rows: list[tuple[int, ...]]
    coords: list[Location]
    allowed: list[tuple[int, ...]]
    preferred: list[tuple[int, ...]]
    offset: int = 0  # nodes already in the problem being extended

    def add(
        self, loc: Location, kind: int, *, ticket: int = -1, option: int = -1, service: int = 0,
        window: tuple[int, int] = (0, 0), due: int = -1, weight: int = 0, load: int = 0,
        drop: int = 0, allowed: tuple[int, ...] = (), preferred: tuple[int, ...] = (),
        clocks: tuple[int, ...] = (0,) * 10,
    ) -> int:  # fmt: skip
        self.rows.append(
            (kind, ticket, option, service, window[0], window[1], due, weight, load, drop, *clocks)
        )
        self.coords.append(loc)
        self.allowed.append(allowed)
        self.preferred.append(preferred)
        return self.offset + len(self.rows) - 1


@dataclass(frozen=True, slots=True)
class Vehicle:
    """An engineer who can work in this plan.

    ``back_by`` set: the route fills his gap before a committed visit (`Engineer.gap`): it
    starts where his back-to-back work ends, ends at the committed visit's site (``end``)
    and must be there by ``back_by``, its planned arrival. Such a vehicle is the gap twin
    of the engineer's ordinary one (after all his committed work): a plan uses one of them.
    """

    row: int
    window: WorkWindow
    start: Location
    end: Location
    after_job: bool = False  # he starts from committed work (a job that may overrun)
    back_by: int | None = None


def vehicles_of(world: DispatchWorld, now: int, params: PlanParams) -> list[Vehicle]:
    """Return the engineers with working time left, with their start and end places.

    Ordinary vehicles first, in engineer order, then one gap twin (`gap_vehicle`) per
    engineer whose gap can hold work, in engineer order: a world without gaps gives the
    vehicles it always gave.
    """
    out, twins = [], []
    for row, e in enumerate(world.engineers):
        overtime = e.plan_overtime_s if params.overtime_s is None else params.overtime_s
        twin = gap_vehicle(e, row, now, overtime)
        if twin is not None:
            twins.append(twin)
        window = work_window(e, now, overtime)
        if window is None:
            continue
        busy = e.busy_until is not None and e.busy_until > now and e.busy_location is not None
        start = e.busy_location if busy and e.busy_location is not None else e.location
        out.append(Vehicle(row, window, start, e.home or e.location, busy))
    return out + twins


def gap_vehicle(e: Engineer, row: int, now: int, overtime: int) -> Vehicle | None:
    """His gap before a committed visit as a vehicle (``None``: no gap, or no time in it).

    He leaves when his back-to-back work ends (``now`` at the earliest) from where it ends,
    in the first stretch of working time not over then; every service ends in that stretch
    and by the committed visit's planned arrival, and he must drive to its site by then:
    the rule `optimizer.candidates` applies to a recommendation in the gap.
    """
    gap = e.gap
    if gap is None or gap.back_by <= now:
        return None
    ready = max(now, gap.ready)
    free = replace(e, busy_until=None, busy_location=None)
    window = work_window(free, ready, overtime)
    if window is None or window.depart >= min(window.close, gap.back_by):
        return None
    window = replace(window, close=min(window.close, gap.back_by))
    start = gap.origin or e.location
    return Vehicle(row, window, start, gap.back_to, gap.ready > now, gap.back_by)


def twins_of(vehicles: Sequence[Vehicle]) -> IntArray | None:
    """Per vehicle, its gap twin or ordinary twin (-1: none); ``None`` when no vehicle has one."""
    if all(v.back_by is None for v in vehicles):
        return None
    out = np.full(len(vehicles), -1, dtype=np.int64)
    ordinary = {v.row: i for i, v in enumerate(vehicles) if v.back_by is None}
    for i, v in enumerate(vehicles):
        j = ordinary.get(v.row) if v.back_by is not None else None
        if j is not None:
            out[i], out[j] = j, i
    return out


def build_problem(
    world: DispatchWorld, tickets: Sequence[Ticket], supplies: dict[int, TicketSupply],
    vehicles: Sequence[Vehicle], allowed: Sequence[tuple[int, ...]], *, now: int,
    travel: TravelTimes, params: PlanParams, deadline: Deadline = Deadline.NONE,
) -> RoutingProblem:  # fmt: skip
    """Build the problem of ``tickets`` (each plannable, ``allowed`` its vehicles).

    With a ``deadline``, the tickets (in the given order: most urgent first) whose nodes
    and travel-matrix rows are not done by then are left out of the problem: their visits
    are absent (``ticket`` never names them), and the caller drops them as out of time.
    The vehicles' rows are always computed.
    """
    horizon = max((v.window.close - now for v in vehicles), default=0) + 1
    b = _Builder([], [], [], [])
    for v in vehicles:
        b.add(v.start, START)
    for v in vehicles:
        b.add(v.end, END)
    ends = [len(b.rows)]  # the node count after each ticket
    at = _Where.of(world, vehicles, now, horizon, params)
    nodes_by = deadline.share(_NODES_SHARE)  # the rest is the matrix's
    for k, t in enumerate(tickets):
        # the per-node matrices cost the square of the nodes: keep time to fill them
        if nodes_by.passed() or _expand_s(len(b.rows)) > _EXPAND_SHARE * deadline.left():
            break
        _add_ticket(b, k, t, supplies[t.id], allowed[k], at)
        ends.append(len(b.rows))
    pts = np.array([(c.lat, c.lon) for c in b.coords], dtype=np.float64).reshape(-1, 2)
    uniq, inverse = _first_unique(pts)
    must = int(inverse[: ends[0]].max(initial=-1)) + 1
    sec, met, done = _matrix(travel, uniq, must, deadline.minus(_expand_s(len(b.rows))))
    if done < len(uniq):  # the tickets whose every node has its row
        first_missing = int(np.argmax(inverse >= done))
        kept = int(np.searchsorted(ends, first_missing, side="right")) - 1
        cut = ends[kept]
        b = _Builder(b.rows[:cut], b.coords[:cut], b.allowed[:cut], b.preferred[:cut])
        inverse = inverse[:cut]
        used = int(inverse.max(initial=-1)) + 1
        sec, met = sec[:used, :used], met[:used, :used]
    pickups: dict[int, tuple[int, ...]] = {}
    visit_of: dict[int, int] = {}
    visit = -1
    for n, row in enumerate(b.rows):
        if row[0] == VISIT:
            visit = n
            pickups[n] = ()
        elif row[0] == PICKUP:
            pickups[visit] += (n,)
            visit_of[n] = visit
    return _arrays(b, pickups, visit_of, vehicles, world, now, (sec, met, inverse), horizon, params)


def _first_unique(pts: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], IntArray]:
    """The distinct points in order of first appearance, and each point's index among them."""
    if not len(pts):
        return pts, np.zeros(0, dtype=np.int64)
    uniq, first, inverse = np.unique(pts, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return uniq[order], rank[inverse.reshape(-1)].astype(np.int64)


_BLOCK = 64  # travel-matrix rows per call under a deadline
_NODES_SHARE = 0.4  # of a deadline: adding the tickets' nodes; the rows of the matrix after
# Filling the per-node seconds and metres from the matrix of distinct points (`_arrays`):
# about 10 ns per entry for the two (2,036 nodes: 36-40 ms at load 5; 65 ms with
# `np.ix_`, which ran after the last deadline check and made a 200 ms plan of 1,000 tickets
# take 0.23-0.27 s). Under a deadline the matrix rows stop this much early, and no more
# tickets are added once it would take more than `_EXPAND_SHARE` of the time left.
_EXPAND_PER_ENTRY_S = 10e-9
_EXPAND_SHARE = 0.5


def _expand_s(nodes: int) -> float:
    """Seconds kept for filling the per-node matrices of ``nodes`` nodes."""
    return _EXPAND_PER_ENTRY_S * nodes * nodes


def _matrix(
    travel: TravelTimes, pts: npt.NDArray[np.float64], must: int, deadline: Deadline
) -> tuple[IntArray, IntArray, int]:
    """Seconds and metres between ``pts``; under a deadline row blocks until it passes.

    The first ``must`` rows are always computed. Returns the matrices and the rows done.
    """
    n = len(pts)
    if not n:
        return np.zeros((0, 0), dtype=np.int64), np.zeros((0, 0), dtype=np.int64), 0
    if deadline.at is None:
        sec, met = travel.matrix(pts, pts)
        return np.asarray(sec, dtype=np.int64), np.asarray(met, dtype=np.int64), n
    out_s = np.zeros((n, n), dtype=np.int64)
    out_m = np.zeros((n, n), dtype=np.int64)
    done = 0
    while done < n and (done < must or not deadline.passed()):
        hi = min(n, max(done + _BLOCK, must))
        out_s[done:hi], out_m[done:hi] = travel.matrix(pts[done:hi], pts)
        done = hi
    return out_s, out_m, done


@dataclass(frozen=True, slots=True)
class _Where:
    """What adding a ticket's nodes reads besides the ticket (one per problem)."""

    world: DispatchWorld
    vehicles: Sequence[Vehicle]
    mine: dict[int, tuple[int, ...]]  # engineer id -> his vehicles (ordinary, gap twin)
    now: int
    horizon: int
    params: PlanParams
    dedicated: dict[int, tuple[int, ...]] = field(default_factory=dict)  # site -> vehicles

    @classmethod
    def of(
        cls, world: DispatchWorld, vehicles: Sequence[Vehicle], now: int, horizon: int,
        params: PlanParams,
    ) -> _Where:  # fmt: skip
        dedicated: dict[int, tuple[int, ...]] = {}
        mine: dict[int, tuple[int, ...]] = {}
        for i, v in enumerate(vehicles):
            e = world.engineers[v.row]
            mine[e.id] = (*mine.get(e.id, ()), i)
            for site in e.dedicated_sites:
                dedicated[site] = (*dedicated.get(site, ()), i)
        return cls(world, vehicles, mine, now, horizon, params, dedicated)

    def preferred(self, t: Ticket) -> tuple[int, ...]:
        """Vehicles of the ticket's dedicated engineer or of its site's, in vehicle order."""
        found = set(self.dedicated.get(t.site_id, ()))
        if t.dedicated_engineer is not None:
            found.update(self.mine.get(t.dedicated_engineer, ()))
        return tuple(sorted(found))


def _add_ticket(
    b: _Builder, k: int, t: Ticket, supply: TicketSupply, allowed: tuple[int, ...], at: _Where
) -> tuple[int, tuple[int, ...]]:
    """Add ticket ``k``'s visit and one pickup node per pickup alternative.

    A van pickup is a node at the start of each of the van owner's vehicles (his ordinary
    one and his gap twin), each taken by that vehicle only.
    """
    world, vehicles, params = at.world, at.vehicles, at.params
    visit = _add_visit(b, k, t, supply, allowed, at)
    nodes: list[int] = []
    for j, opt in enumerate(supply.pickups):
        qty = sum(u.qty for u in opt.uses)
        places: list[tuple[Location, tuple[int, int], int, tuple[int, ...]]]
        if opt.van_of is not None:
            places = [
                (vehicles[v].start, (0, at.horizon), 0, (v,)) for v in at.mine.get(opt.van_of, ())
            ]
        else:
            depot = world.depots[world.depot_row[int(opt.depot_id or 0)]]
            pick = params.pick_s if depot.pick_s is None else depot.pick_s
            places = [(depot.location, _opening(depot.opening, at.now, at.horizon), pick, allowed)]
        nodes.extend(
            b.add(loc, PICKUP, ticket=k, option=j, service=pick, window=window, load=qty,
                  allowed=only)
            for loc, window, pick, only in places
        )  # fmt: skip
    return visit, tuple(nodes)


def _add_visit(
    b: _Builder, k: int, t: Ticket, supply: TicketSupply, allowed: tuple[int, ...], at: _Where
) -> int:
    now, horizon, params = at.now, at.horizon, at.params
    earliest = max(now, t.not_before or now, supply.ready_at or now) - now
    hard = t.arrive_by is not None and (t.hard_arrival or params.hard_deadlines)
    latest = min(horizon, t.arrive_by - now) if hard and t.arrive_by is not None else horizon
    soft = [d for d in (None if hard else t.arrive_by, _fix_start(t)) if d is not None]
    due = max(0, min(soft) - now) if soft else -1
    preferred = at.preferred(t)
    qty = sum(u.qty for opt in supply.pickups[:1] for u in opt.uses)
    clocks = visit_clocks(t, supply, now, hard=hard)
    return b.add(
        t.site, VISIT, ticket=k, service=t.service_s, window=(earliest, latest), due=due,
        weight=_slope(clocks), load=-qty - t.demand,
        drop=params.drop_cost(t.severity_rank), allowed=allowed, preferred=preferred,
        clocks=clocks,
    )  # fmt: skip


def visit_clocks(t: Ticket, supply: TicketSupply, now: int, *, hard: bool) -> tuple[int, ...]:
    """The visit's clocks as deadlines of its service start (relative to ``now``) and prices.

    Arrival (unless hard: then it is a window, never late), fix (its deadline less the
    service) and swap (when its parts come from stock, not from a supplier); the planner leaves
    the depart clock to the recommendation. A penalty 0 means no clock.
    """
    p = t.prices
    arrive = (0, 0) if hard or t.arrive_by is None else (t.arrive_by - now, p.arrive)
    fix = (0, 0) if t.fix_by is None else (t.fix_by - t.service_s - now, p.fix)
    swap_by = t.swap_by
    # in stock: a van or depot pickup, or a depot's courier (not a supplier's shipment)
    from_stock = all(sh.supplier_id is None for sh in supply.shipped) and bool(
        supply.pickups or supply.shipped
    )
    swap = (swap_by - t.service_s - now, p.swap) if swap_by is not None and from_stock else (0, 0)
    return (
        *arrive, *fix, *swap, p.late_pct_per_hour, p.at_risk_pct, p.margin_s(False),
        p.margin_s(True),
    )  # fmt: skip


def _slope(clocks: tuple[int, ...]) -> int:
    """Points per second late that every clock of the visit at least charges (its lateness
    share), the weight of the soft bound OR-Tools sees and the search's lower bound uses."""
    pens = [clocks[i] for i in (1, 3, 5) if clocks[i] > 0]
    return min(pens) * clocks[6] // 360_000 if pens else 0


def _fix_start(t: Ticket) -> int | None:
    return None if t.fix_by is None else t.fix_by - t.service_s


def _opening(opening: tuple[Window, ...], now: int, horizon: int) -> tuple[int, int]:
    """The first opening window not over at ``now``, relative (24x7: the whole horizon).

    Windows are half-open: open 08:00-12:00 means a pick may start at 11:59:59, not at 12:00
    (the validator's rule), so the last start is ``end - 1``.
    """
    for start, end in opening:
        if end > now:
            return max(0, start - now), min(horizon, end - now - 1)
    return (0, horizon) if not opening else (horizon, horizon)


def _arrays(
    b: _Builder, pickups: dict[int, tuple[int, ...]], visit_of: dict[int, int],
    vehicles: Sequence[Vehicle], world: DispatchWorld, now: int,
    matrix: tuple[IntArray, IntArray, IntArray], horizon: int, params: PlanParams,
) -> RoutingProblem:  # fmt: skip
    cols = np.array(b.rows, dtype=np.int64).reshape(len(b.rows), COLS)
    pts = np.array([(c.lat, c.lon) for c in b.coords], dtype=np.float64).reshape(-1, 2)
    sec, met, inverse = matrix
    # rows, then columns: a third of the time of `np.ix_` (the same entries)
    seconds = np.asarray(sec, dtype=np.int64).take(inverse, axis=0).take(inverse, axis=1)
    metres = np.asarray(met, dtype=np.int64).take(inverse, axis=0).take(inverse, axis=1)
    n_v = len(vehicles)
    engineers = [world.engineers[v.row] for v in vehicles]
    # the drive home may end past the working time; a gap route must reach its end in time
    close = np.array(
        [max(v.window.close - now, v.window.depart - now + int(seconds[i, n_v + i]))
         if v.back_by is None else v.back_by - now for i, v in enumerate(vehicles)],
        dtype=np.int64,
    )  # fmt: skip
    return RoutingProblem(
        now=now, kind=cols[:, 0], ticket=cols[:, 1], option=cols[:, 2], service=cols[:, 3],
        earliest=cols[:, 4], latest=cols[:, 5], due=cols[:, 6], weight=cols[:, 7],
        load=cols[:, 8], drop=cols[:, 9], allowed=tuple(b.allowed), preferred=tuple(b.preferred),
        pickups=pickups, visit_of=visit_of, seconds=seconds, metres=metres,
        engineer=np.array([v.row for v in vehicles], dtype=np.int64),
        starts=np.arange(n_v, dtype=np.int64), ends=np.arange(n_v, 2 * n_v, dtype=np.int64),
        depart=np.array([v.window.depart - now for v in vehicles], dtype=np.int64),
        close=close,
        shift_end=np.array([v.window.shift_end - now for v in vehicles], dtype=np.int64),
        capacity=np.array(
            [BIG_LOAD if e.capacity is None else e.capacity for e in engineers], dtype=np.int64
        ),
        hour_cost=np.array([e.cost_per_hour for e in engineers], dtype=np.int64),
        km_cost=np.array([e.cost_per_km for e in engineers], dtype=np.int64),
        horizon=max(horizon, int(close.max(initial=0))) + 1,
        params=params, coords=pts,
        work_close=np.array([v.window.close - now for v in vehicles], dtype=np.int64),
        clocks=cols[:, 10:],
        overtime_cost=np.array([e.overtime_cost_per_hour for e in engineers], dtype=np.int64),
        after_job=np.array([int(v.after_job) for v in vehicles], dtype=np.int64),
        twin=twins_of(vehicles),
        fills_gap=None if all(v.back_by is None for v in vehicles) else np.array(
            [int(v.back_by is not None) for v in vehicles], dtype=np.int64
        ),
    )  # fmt: skip


def extend_problem(
    p: RoutingProblem, world: DispatchWorld, ticket: Ticket, supply: TicketSupply,
    vehicles: Sequence[Vehicle], allowed: tuple[int, ...], *, travel: TravelTimes,
) -> RoutingProblem:  # fmt: skip
    """Return ``p`` with one more ticket: its visit and pickup nodes appended at the end.

    The nodes are exactly those `build_problem` would add for ``ticket`` as its last ticket
    (same windows, due, weights, pickups), and the matrices keep every existing entry: only
    the new rows and columns are asked of the travel model. So an insertion into a prepared
    problem does not rebuild (or re-price) the ~600 nodes of a published plan.
    """
    if p.coords is None:
        raise ValueError("p: built without coordinates (use build_problem)")
    now, params, n0 = p.now, p.params, len(p.kind)
    horizon = max((v.window.close - now for v in vehicles), default=0) + 1
    b = _Builder([], [], [], [], offset=n0)
    k = int(p.ticket.max(initial=-1)) + 1
    at = _Where.of(world, vehicles, now, horizon, params)
    visit, nodes = _add_ticket(b, k, ticket, supply, allowed, at)
    cols = np.array(b.rows, dtype=np.int64).reshape(len(b.rows), COLS)
    new = np.array([(c.lat, c.lon) for c in b.coords], dtype=np.float64).reshape(-1, 2)
    seconds, metres = _grown(p.seconds, p.metres, p.coords, new, travel)

    def grow(name: str, j: int) -> IntArray:
        return np.concatenate([getattr(p, name), cols[:, j]])

    return replace(
        p, kind=grow("kind", 0), ticket=grow("ticket", 1), option=grow("option", 2),
        service=grow("service", 3), earliest=grow("earliest", 4), latest=grow("latest", 5),
        due=grow("due", 6), weight=grow("weight", 7), load=grow("load", 8), drop=grow("drop", 9),
        allowed=(*p.allowed, *b.allowed), preferred=(*p.preferred, *b.preferred),
        pickups={**p.pickups, visit: nodes}, visit_of={**p.visit_of, **dict.fromkeys(nodes, visit)},
        seconds=seconds, metres=metres, coords=np.concatenate([p.coords, new]),
        clocks=None if p.clocks is None else np.concatenate([p.clocks, cols[:, 10:]]),
    )  # fmt: skip


def _grown(
    seconds: IntArray, metres: IntArray, old: npt.NDArray[np.float64],
    new: npt.NDArray[np.float64], travel: TravelTimes,
) -> tuple[IntArray, IntArray]:  # fmt: skip
    """The matrices with rows and columns for ``new`` points appended (old entries kept)."""
    n0, n = len(old), len(old) + len(new)
    out_s = np.empty((n, n), dtype=np.int64)
    out_m = np.empty((n, n), dtype=np.int64)
    out_s[:n0, :n0], out_m[:n0, :n0] = seconds, metres
    every = np.concatenate([old, new])
    s_from, m_from = travel.matrix(new, every)
    s_to, m_to = travel.matrix(old, new)
    out_s[n0:, :], out_m[n0:, :] = s_from, m_from
    out_s[:n0, n0:], out_m[:n0, n0:] = s_to, m_to
    return out_s, out_m


def qualified(world: DispatchWorld, t: Ticket, vehicles: Sequence[Vehicle]) -> tuple[int, ...]:
    """Vehicle indices whose engineer holds every skill of ``t``."""
    mask = skill_mask(world, t)
    rows = np.fromiter((v.row for v in vehicles), dtype=np.int64, count=len(vehicles))
    found: list[int] = np.flatnonzero(mask[rows]).tolist()
    return tuple(found)
