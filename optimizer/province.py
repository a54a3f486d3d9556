"""Province scale: one call plans a whole province's day by regions solved in parallel.

A day of 2,000 engineers and 10,000 tickets is too big for one search within a minute (the
travel matrix alone would hold 10^8 pairs), and most of it is local: an engineer in one
city never serves a ticket three hundred kilometres away. So:

1. **Regions.** The ticket sites are cut into regions of about ``region_tickets`` tickets
   each by recursive bisection (compact, equally loaded), each cut moved by up to
   ``staff_slack`` towards equal tickets per engineer hour on both sides, no region more
   than ``staff_slack`` off the mean tickets.
2. **Borrowing across borders.** Each engineer belongs to the region of the centre nearest
   to where he starts; one whose second-nearest centre is at most ``border_ratio`` times as
   far is offered to that region too. His van's stock stays at home (offered empty across
   the border), each depot's stock goes to its nearest region and each supplier's is split
   evenly, so that no unit is planned twice. An engineer on call goes to the region
   nearest to him, whose plan may wake him (`optimizer.callout`): once in the province.
3. **Regions in parallel.** Each region is one `optimizer.plan` call (validated there) with
   its share of the limit, run through the caller's ``run``: any ``map``-like callable (a
   process pool's, the Dask executor's; by default one region after the other here). The
   optimizer imports no executor: it stays pure. With a limit, largest first in one queue,
   each region's limit worked out when a worker starts it: the regions' time left, less a
   reserve per region still to run, by its share of the tickets not yet planned.
4. **Merge.** An engineer planned on both sides of a border keeps the route with more visits
   (his home region's on a tie); the other side's visits of his are left out for now.
5. **Seam repair.** Per pair of regions that share engineers, the shared engineers, the
   tickets they serve, the visits left out by the merge and the tickets of either region
   left out for room or time whose second-nearest region is the other one, are planned again
   together (in parallel, again through ``run``, queued the same way; those left when the time is up
   are not planned) with the stock the rest of the plan leaves.
   The new seam plan replaces the old one when it costs less (`seam_cost`) and its stock
   still fits; its report says so, with the engineers shared and the tickets moved.
6. The merged plan is validated as a whole (every engineer once, every unit once).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.assemble import kpis
from optimizer.model import Depot, Engineer, Supplier, Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Dropped, DropReason, Plan, PlanQuality, Route, SolverStats
from optimizer.solve import plan
from optimizer.travel import TravelTimes, travel_at
from optimizer.validate import validate
from optimizer.world import DispatchWorld

FloatArray = npt.NDArray[np.float64]
# An executor's map: ``run(fn, items)`` answers ``[fn(item) for item in items]`` in order.
Runner = Callable[[Callable[[Any], Any], Sequence[Any]], Sequence[Any]]
Used = Counter[tuple[str, int, int]]  # (van | depot | supplier, id, part) -> units
# Of the limit, kept for merging and validating the whole plan (10,000 tickets: about 1.7 s
# of 60 at load 20).
_FINISH_SHARE = 0.04
# Of the seams' time, what their plan calls get: the rest covers sending each seam's world
# to a worker and its plan back (the seams took 16 s of a 12 s share without it).
_DISPATCH_SHARE = 0.75
_SEAM_MIN_S = 0.05  # a seam plan shorter than this is not worth starting


@dataclass(frozen=True, slots=True)
class ProvinceParams:
    """How a province is cut and how its time is shared.

    Parameters
    ----------
    region_tickets
        Tickets per region, about (the number of regions is the tickets over this).
    border_ratio
        An engineer whose second-nearest region centre is at most this many times as far as
        his nearest is offered to both regions. ``1.0``: nobody is (independent regions).
    seam_repair
        Plan the seams again (step 5 of the module docstring).
    workers
        Regions ``run`` plans at once (the executor's width): the time left is shared by
        this many workers.
    region_share, seam_share
        Shares of the limit for the regions and for the seams; the rest is for cutting,
        merging and validating.
    staff_slack
        How far (a share of a half's tickets) a cut may move from equal ticket counts
        towards equal tickets per engineer hour on both sides, and how far (a share of the
        mean) a region's tickets may be off the mean; 0: tickets only.
    part_overhead_s
        Reserved per region still to run for what its plan call takes beyond its limit
        (its start, its search process, sending its plan back: a 1 ms region call took 1.6 s
        under contention).
    part_floor_s
        The least limit a region is given while the regions' time is not up, so that it
        places its most urgent tickets (one given 0.75 s or 1 ms served nothing).
    """

    region_tickets: int = 500
    border_ratio: float = 1.5
    seam_repair: bool = True
    workers: int = 1
    region_share: float = 0.65
    seam_share: float = 0.2
    staff_slack: float = 0.25
    part_overhead_s: float = 0.5
    part_floor_s: float = 1.0

    def __post_init__(self) -> None:
        if self.region_tickets < 1:
            raise ValueError(f"region_tickets: must be >= 1, got {self.region_tickets}")
        if self.border_ratio < 1.0:
            raise ValueError(f"border_ratio: must be >= 1, got {self.border_ratio}")
        if self.workers < 1:
            raise ValueError(f"workers: must be >= 1, got {self.workers}")
        if not (self.region_share > 0 and self.seam_share >= 0) or (
            self.region_share + self.seam_share >= 1
        ):
            raise ValueError("region_share, seam_share: > 0, >= 0 and less than 1 together")
        if not 0 <= self.staff_slack < 1:
            raise ValueError(f"staff_slack: must be in [0, 1), got {self.staff_slack}")
        if self.part_overhead_s < 0 or self.part_floor_s < 0:
            raise ValueError("part_overhead_s, part_floor_s: must be >= 0")


@dataclass(frozen=True, slots=True)
class RegionReport:
    """One region's part: its tickets, engineers (own and borrowed) and plan."""

    region: int
    tickets: int
    engineers: int
    borrowed: int
    served: int
    dropped: int
    quality: PlanQuality
    feasible: bool


@dataclass(frozen=True, slots=True)
class SeamReport:
    """One border: engineers shared, tickets planned again, moved, and the cost either way."""

    regions: tuple[int, int]
    shared: int
    tickets: int
    moved: int
    cost_before: int
    cost_after: int
    kept: bool  # the repaired seam replaced the merged one


@dataclass(frozen=True)
class ProvincePlan:
    """The merged plan (validated as a whole) and how the parts went."""

    plan: Plan
    regions: tuple[RegionReport, ...]
    seams: tuple[SeamReport, ...]
    regions_s: float = 0.0  # wall time of the regions' plans (all of them)
    seams_s: float = 0.0  # wall time of the seam repair


@dataclass(frozen=True, slots=True)
class _Task:
    """One `optimizer.plan` call, picklable for any executor."""

    world: DispatchWorld
    tickets: tuple[Ticket, ...]
    now: int
    travel: TravelTimes
    params: PlanParams


def _plan_task(task: _Task) -> Plan:
    """Plan one region or seam (module level: a process pool pickles it by name)."""
    return plan(task.world, task.tickets, now=task.now, travel=task.travel, params=task.params)


def _serial(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    return [fn(item) for item in items]


def plan_province(
    world: DispatchWorld, tickets: Sequence[Ticket], *, now: int, travel: TravelTimes,
    params: PlanParams | None = None, province: ProvinceParams | None = None,
    run: Runner | None = None,
) -> ProvincePlan:  # fmt: skip
    """Plan ``tickets`` over ``world`` region by region (see the module docstring).

    ``params.time_limit_ms`` is the whole call's limit (``None``: each part stops on its
    deterministic limits); ``run`` maps the parts (default: one after the other here).
    """
    params = params or PlanParams()
    province = province or ProvinceParams()
    run = run or _serial
    entered = time.monotonic()
    by_id = {t.id: t for t in tickets}
    if len(by_id) != len(tickets):
        raise ValueError("tickets: ids must be unique")
    k = max(1, math.ceil(len(tickets) / province.region_tickets))
    centres, of_ticket = _regions(
        tickets, k, _starts(world), _hours(world, now), province.staff_slack
    )
    home, second = _nearest_two(_starts(world), centres)
    ratio = _second_ratio(_starts(world), centres, home, second)
    shared = ratio <= province.border_ratio if k > 1 else np.zeros(len(home), dtype=np.bool_)
    depot_home, _ = _nearest_two(
        np.array([[d.location.lat, d.location.lon] for d in world.depots]).reshape(-1, 2), centres
    )
    on_call_home, _ = _nearest_two(_on_call_at(world), centres)
    rounds = math.ceil(k / province.workers)
    region_params = _limited(params, province.region_share, rounds)
    tasks = [
        _region_task(world, tickets, of_ticket, home, second, shared, depot_home,
                     on_call_home, r, k, now, travel, region_params)
        for r in range(k)
    ]  # fmt: skip
    started = time.monotonic()
    until = started + _region_s(params, province)
    done = _queued(tasks, run, province, params, until, overhead_s=province.part_overhead_s)
    plans = [p for p in done if p is not None]  # every region is planned
    regions_s = time.monotonic() - started
    routes, region_of, orphans = _merge(world, plans, home)
    dropped = {d.ticket_id: d for p in plans for d in p.dropped}
    for tid, e in orphans.items():
        detail = f"its engineer {e} was kept by the other side of a border"
        dropped[tid] = Dropped(tid, DropReason.NO_ROOM, detail, deadline=by_id[tid].arrive_by)
    seams: list[SeamReport] = []
    started = time.monotonic()
    if province.seam_repair and k > 1:
        _, ticket_second = _nearest_two(_sites(tickets), centres)
        seams = _repair(
            world, by_id, of_ticket, ticket_second, home, second, shared, routes, dropped,
            orphans, now, travel, params, province, run, entered,
        )  # fmt: skip
    seams_s = time.monotonic() - started
    woken = {t for p in plans for t, _ in p.callouts}  # a call-out's ticket is not routed
    planned = [t for t in tickets if t.id not in woken]
    merged = _merged_plan(world, planned, now, plans, routes, dropped, entered, len(seams))
    moment = travel_at(travel, world.at(now))
    found = validate(world, planned, merged, travel=moment, params=params)
    merged = replace(merged, violations=tuple(found))
    reports = tuple(
        RegionReport(
            r, len(tasks[r].tickets), int((home == r).sum()),
            len(tasks[r].world.engineers) - int((home == r).sum()), plans[r].kpis.served,
            plans[r].kpis.dropped, plans[r].quality, plans[r].is_feasible(),
        )
        for r in range(k)
    )  # fmt: skip
    return ProvincePlan(merged, reports, tuple(seams), regions_s, seams_s)


def _region_s(params: PlanParams, province: ProvinceParams) -> float:
    """The regions' share of the limit, in seconds (0 without a limit)."""
    return (params.time_limit_ms or 0) / 1_000 * province.region_share


@dataclass(frozen=True, slots=True)
class _Queued:
    """A part in the queue: its limit is worked out when a worker starts it (`_start`)."""

    task: _Task
    until: float  # the parts' deadline, wall clock (``time.time``: comparable across hosts)
    pending: int  # tickets of this part, the later ones and those still running beside it
    parts: int  # parts those are
    workers: int
    overhead_s: float  # reserved per part for its call's start, search process and hand-off
    floor_s: float  # the least a part is given while time is left
    skip_late: bool  # below `_SEAM_MIN_S`, not planned (``None``)


def _start(q: _Queued) -> Plan | None:
    """Plan a queued part with its limit from the time left now (module level: a process pool
    pickles it by name): the workers' time left less each part's ``overhead_s``, shared by
    ``pending`` tickets; at most the time left less one overhead, at least ``floor_s`` while
    any time is left (a region given 1 ms placed nothing), 1 ms after."""
    left = q.until - time.time()
    usable = q.workers * left - q.parts * q.overhead_s
    each = min(left - q.overhead_s, usable * max(1, len(q.task.tickets)) / max(1, q.pending))
    if q.skip_late and each < _SEAM_MIN_S:
        return None
    if left > 0:
        each = max(each, min(q.floor_s, left))
    limit_ms = max(1, int(each * 1_000))
    return _plan_task(replace(q.task, params=replace(q.task.params, time_limit_ms=limit_ms)))


def _queued(
    tasks: Sequence[_Task], run: Runner, province: ProvinceParams, params: PlanParams,
    until: float, *, overhead_s: float = 0.0, skip_late: bool = False,
) -> list[Plan | None]:  # fmt: skip
    """Plan ``tasks`` through ``run`` in one call (the plans in the order of ``tasks``); with a
    limit, largest first, each part's limit worked out when a worker starts it (`_start`), so
    a worker takes the next part as soon as it is free and what ran long is taken from the
    parts still to start (in rounds each round ran 0.8-3.2 s past its limit under
    contention, the last rounds got 0.75 s or 1 ms and 0-3 regions of 20 served nothing).
    ``until``: the parts' deadline on this process's ``time.monotonic``, handed on as a wall
    time. ``overhead_s``: reserved per part (`_start`). ``skip_late``: a part whose limit
    would be under `_SEAM_MIN_S` is not planned (``None``), for parts the plan can do without
    (seams)."""
    if not params.time_limit_ms:
        return list(run(_plan_task, tasks))
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].tickets))
    sizes = [max(1, len(tasks[i].tickets)) for i in order]
    wall_until = time.time() + (until - time.monotonic())
    w = province.workers
    queue = [
        _Queued(tasks[i], wall_until, sum(sizes[max(0, at - w + 1) :]),
                len(sizes) - max(0, at - w + 1), w, overhead_s,
                province.part_floor_s, skip_late)
        for at, i in enumerate(order)
    ]  # fmt: skip
    plans: list[Plan | None] = [None] * len(tasks)
    for i, got in zip(order, run(_start, queue), strict=True):
        plans[i] = got
    return plans


def seam_cost(
    routes: Iterable[Route], dropped: Iterable[int], by_id: dict[int, Ticket], params: PlanParams
) -> int:
    """The planner's objective read off a plan: what a seam repair must lower.

    Driving at ``travel_weight``, overtime at ``overtime_weight``, engineer cost at
    ``cost_weight``, each second a promise is late at its severity's weight, and each
    ticket left out at its drop cost.
    """
    total = 0
    for r in routes:
        total += params.travel_weight * r.travel_s + params.overtime_weight * r.overtime_s
        total += params.cost_weight * r.cost
        for s in r.visits:
            late = (s.arrival_late_s or 0) + (s.fix_late_s or 0)
            total += late * params.weight(by_id[s.ticket_id].severity_rank)
    return total + sum(params.drop_cost(by_id[t].severity_rank) for t in dropped)


def _limited(params: PlanParams, share: float, rounds: int) -> PlanParams:
    """Each part's params: its share of the limit, the limit split over ``rounds``."""
    if not params.time_limit_ms:
        return params
    return replace(params, time_limit_ms=max(1, int(params.time_limit_ms * share / rounds)))


def _xy(points: FloatArray) -> FloatArray:
    """Degrees to a plane where distances are about right (longitude shrunk by latitude)."""
    if not len(points):
        return points.reshape(0, 2)
    return np.column_stack([points[:, 0], points[:, 1] * np.cos(np.radians(points[:, 0]))])


def _sites(tickets: Sequence[Ticket]) -> FloatArray:
    return np.array([[t.site.lat, t.site.lon] for t in tickets], dtype=np.float64).reshape(-1, 2)


def _regions(
    tickets: Sequence[Ticket], k: int, staff: FloatArray | None = None,
    hours: FloatArray | None = None, slack: float = 0.0,
) -> tuple[FloatArray, npt.NDArray[Any]]:  # fmt: skip
    """``k`` regions of about equal ticket counts (recursive bisection), their centres, each
    ticket's region.

    Each cut halves a part across its longer side at the quantile that gives both halves
    their share of ``k``, so regions are compact and equally loaded (k-means left one
    region four times another on the demo world's cities). With engineers (``staff``: where
    they start, ``hours``: their working time) and ``slack`` > 0, a cut may move by up to
    that share of a half's tickets to where both halves have the same tickets per working
    hour: engineers follow where they live, and a cut by tickets alone left regions short of
    staff that borrowing across a border only partly made up. Every region keeps within
    ``slack`` of the mean tickets (the moves of successive cuts added up to regions of 828
    tickets for a mean of 500, whose start did not finish in their limit under contention).
    """
    pts = _xy(_sites(tickets))
    mean = len(pts) / k
    label = np.zeros(len(pts), dtype=np.int64)
    eng = _xy(staff) if staff is not None and hours is not None and slack > 0 else None

    def cut(idx: npt.NDArray[Any], parts: int, first: int, crew: npt.NDArray[Any]) -> None:
        if parts == 1 or len(idx) == 0:
            label[idx] = first
            return
        low = parts // 2
        span = pts[idx].max(axis=0) - pts[idx].min(axis=0)
        axis = int(span.argmax())
        order = idx[np.argsort(pts[idx, axis], kind="stable")]
        at = round(len(order) * low / parts)
        if eng is not None and hours is not None and len(crew) and len(order) > 1:
            n, high = len(order), parts - low
            most, least = (1 + slack) * mean, (1 - slack) * mean  # a region's tickets
            lo = max(1, round(at - slack * at), math.ceil(n - most * high), math.ceil(least * low))
            hi = min(n - 1, round(at + slack * (n - at)), int(most * low), int(n - least * high))
            at = _staffed_cut(pts[order, axis], eng[crew, axis], hours[crew], at, lo, hi)
        line = pts[order[at - 1], axis] if at > 0 else -np.inf
        left = crew[eng[crew, axis] <= line] if eng is not None else crew
        right = crew[eng[crew, axis] > line] if eng is not None else crew
        cut(order[:at], low, first, left)
        cut(order[at:], parts - low, first + low, right)

    cut(np.arange(len(pts)), k, 0, np.arange(0 if eng is None else len(eng)))
    centres = np.array(
        [pts[label == c].mean(axis=0) if (label == c).any() else np.zeros(2) for c in range(k)]
    ).reshape(k, 2)
    return centres, label


def _staffed_cut(
    sites: FloatArray, starts: FloatArray, hours: FloatArray, at: int, lo: int, hi: int
) -> int:
    """The cut (tickets before it, ``sites`` sorted) in ``lo..hi`` (else ``at``) where both
    sides have the nearest to the same tickets per working hour of the engineers there."""
    n, total = len(sites), float(hours.sum())
    if total <= 0 or lo > hi:
        return at
    cand = np.arange(lo, hi + 1)
    order = np.argsort(starts, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(hours[order])])
    left = cum[np.searchsorted(starts[order], sites[cand - 1], side="right")]
    # tickets share minus hours share on the left: zero where both sides are equally staffed
    gap = np.abs(cand / n - left / total)
    return int(cand[int(gap.argmin())])


def _hours(world: DispatchWorld, now: int) -> FloatArray:
    """Each engineer's working seconds from ``now`` on (his shifts)."""
    return np.array(
        [sum(max(0, end - max(start, now)) for start, end in e.shifts) for e in world.engineers],
        dtype=np.float64,
    )


def _starts(world: DispatchWorld) -> FloatArray:
    return np.array([[e.location.lat, e.location.lon] for e in world.engineers], dtype=np.float64)


def _on_call_at(world: DispatchWorld) -> FloatArray:
    where = [[o.engineer.location.lat, o.engineer.location.lon] for o in world.on_call]
    return np.array(where, dtype=np.float64).reshape(-1, 2)


def _nearest_two(
    points: FloatArray, centres: FloatArray
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Per point, the nearest and second-nearest centre (the same when there is one)."""
    if not len(points):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    d = ((_xy(points)[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    order = np.argsort(d, axis=1, kind="stable")
    return order[:, 0], order[:, min(1, len(centres) - 1)]


def _second_ratio(
    points: FloatArray, centres: FloatArray, home: npt.NDArray[Any], second: npt.NDArray[Any]
) -> FloatArray:
    """How many times farther the second-nearest centre is than the nearest."""
    if not len(points):
        return np.zeros(0)
    xy = _xy(points)
    near = np.linalg.norm(xy - centres[home], axis=1)
    far = np.linalg.norm(xy - centres[second], axis=1)
    return np.asarray(far / np.maximum(near, 1e-9), dtype=np.float64)


def _share_of(qty: int, part: int, k: int) -> int:
    """Region ``part``'s share of ``qty`` units split over ``k`` (the first ones get the rest)."""
    return qty // k + (1 if part < qty % k else 0)


def _region_task(
    world: DispatchWorld, tickets: Sequence[Ticket], of_ticket: npt.NDArray[Any],
    home: npt.NDArray[Any], second: npt.NDArray[Any], shared: npt.NDArray[Any],
    depot_home: npt.NDArray[Any], on_call_home: npt.NDArray[Any], r: int, k: int, now: int,
    travel: TravelTimes, params: PlanParams,
) -> _Task:  # fmt: skip
    """Region ``r``'s world (own and borrowed engineers, its depots, its supplier share, the
    engineers on call nearest to it: each may be woken in one region only)."""
    engineers: list[Engineer] = []
    for row, e in enumerate(world.engineers):
        if home[row] == r:
            engineers.append(e)
        elif shared[row] and second[row] == r:
            engineers.append(replace(e, van_stock={}))  # his van's stock stays at home
    depots = tuple(
        d if depot_home[j] == r else replace(d, stock={}) for j, d in enumerate(world.depots)
    )
    suppliers = tuple(
        replace(s, parts={p: _share_of(q, r, k) for p, q in s.parts.items()})
        for s in world.suppliers
    )
    on_call = tuple(o for o, h in zip(world.on_call, on_call_home.tolist(), strict=True) if h == r)
    sub = DispatchWorld(world.epoch, tuple(engineers), depots, suppliers, on_call)
    mine = tuple(t for t, lab in zip(tickets, of_ticket.tolist(), strict=True) if lab == r)
    return _Task(sub, mine, now, travel, params)


def _merge(
    world: DispatchWorld, plans: Sequence[Plan], home: npt.NDArray[Any]
) -> tuple[dict[int, Route], dict[int, int], dict[int, int]]:
    """One route per engineer: routes by engineer, the region of each, orphaned tickets."""
    routes: dict[int, Route] = {}
    region_of: dict[int, int] = {}
    orphans: dict[int, int] = {}  # ticket id -> the engineer whose other route was kept
    for r, p in enumerate(plans):
        for route in p.routes:
            e = route.engineer_id
            if e not in routes:
                routes[e], region_of[e] = route, r
                continue
            own = int(home[world.engineer_row[e]])
            mine = (len(route.visits), r == own)
            theirs = (len(routes[e].visits), region_of[e] == own)
            loser = routes[e] if mine > theirs else route
            if mine > theirs:
                routes[e], region_of[e] = route, r
            orphans.update((s.ticket_id, e) for s in loser.visits)
    return routes, region_of, orphans


def _used(routes: Iterable[Route]) -> Used:
    """The units ``routes`` take, keyed as the validator counts them."""
    used: Used = Counter()
    for route in routes:
        for s in route.stops:
            for u in s.parts:
                key = ("van", route.engineer_id) if s.depot_id is None else ("depot", s.depot_id)
                used[(*key, u.part_id)] += u.qty
            for sh in s.shipped:
                src = ("depot", sh.depot_id) if sh.depot_id is not None else (
                    "supplier", sh.supplier_id or 0)  # fmt: skip
                for u in sh.uses:
                    used[(*src, u.part_id)] += u.qty
    return used


def _parts_of(tickets: Iterable[Ticket]) -> set[int]:
    """The parts ``tickets`` may take: their lines and the substitutes of them."""
    parts: set[int] = set()
    for t in tickets:
        parts.update(line.part_id for line in t.parts)
        for part, subs in t.substitutes.items():
            parts.add(part)
            parts.update(subs)
    return parts


def _stock_left(
    world: DispatchWorld, crew: Sequence[int], used: Used, parts: set[int]
) -> DispatchWorld:
    """The ``crew``'s world with the units ``used`` taken out of depots, suppliers and vans,
    holding only ``parts`` (the seam's tickets' parts: the whole stock, 51,000 depot lines,
    copied for each of 36 seams used up the seams' 9 s under contention before any seam was
    planned; trimmed, the 36 copies took 0.9 s)."""

    def less(kind: str, ident: int, stock: Mapping[int, int]) -> dict[int, int]:
        return {p: stock[p] - used[(kind, ident, p)] for p in parts if p in stock}

    engineers = tuple(
        replace(e, van_stock=less("van", e.id, e.van_stock))
        for e in (world.engineers[world.engineer_row[i]] for i in crew)
    )
    depots: tuple[Depot, ...] = tuple(
        replace(d, stock=less("depot", d.id, d.stock)) for d in world.depots
    )
    suppliers: tuple[Supplier, ...] = tuple(
        replace(s, parts=less("supplier", s.id, s.parts)) for s in world.suppliers
    )
    return DispatchWorld(world.epoch, engineers, depots, suppliers)


def _repair(
    world: DispatchWorld, by_id: dict[int, Ticket], of_ticket: npt.NDArray[Any],
    of_second: npt.NDArray[Any], home: npt.NDArray[Any], second: npt.NDArray[Any],
    shared: npt.NDArray[Any], routes: dict[int, Route], dropped: dict[int, Dropped],
    orphans: dict[int, int], now: int, travel: TravelTimes, params: PlanParams,
    province: ProvinceParams, run: Runner, entered: float,
) -> list[SeamReport]:  # fmt: skip
    """Plan each seam again; keep the new seam plan where it costs less and its stock fits."""
    ticket_region = dict(zip(by_id, of_ticket.tolist(), strict=True))
    ticket_second = dict(zip(by_id, of_second.tolist(), strict=True))
    pairs: dict[tuple[int, int], list[int]] = {}
    for row in np.flatnonzero(shared).tolist():
        pair = (min(int(home[row]), int(second[row])), max(int(home[row]), int(second[row])))
        pairs.setdefault(pair, []).append(world.engineers[row].id)
    loose = {DropReason.NO_ROOM, DropReason.OUT_OF_TIME}
    seams: list[tuple[tuple[int, int], list[int], list[int]]] = []
    for pair, engineers in sorted(pairs.items()):
        mine = set(engineers)
        todo = [s.ticket_id for e in engineers if e in routes for s in routes[e].visits]
        todo += [t for t, e in orphans.items() if e in mine]
        todo += [
            t for t, d in dropped.items()
            if d.reason in loose and t not in orphans
            and {ticket_region[t], ticket_second[t]} == set(pair)
        ]  # fmt: skip
        seams.append((pair, engineers, sorted(set(todo))))
    if not seams:
        return []
    used = _used(routes.values())
    rounds = math.ceil(len(seams) / province.workers)
    seam_params = _limited(params, province.seam_share, rounds)
    until = time.monotonic()
    if params.time_limit_ms:  # what the regions left, less the merge and the validation
        total = params.time_limit_ms / 1_000
        left = entered + total * (1 - _FINISH_SHARE) - time.monotonic()
        budget = min(total * province.seam_share, left) * _DISPATCH_SHARE
        if budget / rounds < _SEAM_MIN_S:
            return []  # no time for the seams: the merged plan stands (still validated)
        seam_params = replace(params, time_limit_ms=int(budget / rounds * 1_000))
        until += budget
    tasks = []
    for _, engineers, todo in seams:
        own = _used(routes[e] for e in engineers if e in routes)
        sub = _stock_left(world, engineers, used - own, _parts_of(by_id[t] for t in todo))
        tasks.append(_Task(sub, tuple(by_id[t] for t in todo), now, travel, seam_params))
    # queued, the seams left when the time is up not planned (in one call they took 24 s
    # and 29 s of a 12 s share at load 12-20; in rounds planned to the end, 41.6 s); their
    # calls' overhead is in the quarter of their time kept for dispatch
    found = _queued(tasks, run, province, seam_params, until, skip_late=True)
    reports = []
    for (pair, engineers, todo), again in zip(seams, found, strict=True):
        before_routes = [routes[e] for e in engineers if e in routes]
        before = seam_cost(before_routes, (t for t in todo if t in dropped), by_id, params)
        if again is None:  # no time left for this seam: the merged plan stands
            reports.append(SeamReport(pair, len(engineers), len(todo), 0, before, before, False))
            continue
        after = seam_cost(again.routes, (d.ticket_id for d in again.dropped), by_id, params)
        was = {s.ticket_id: r.engineer_id for r in before_routes for s in r.visits}
        now_ = {s.ticket_id: r.engineer_id for r in again.routes for s in r.visits}
        moved = sum(1 for t, e in now_.items() if was.get(t) != e)
        own = _used(before_routes)
        fits = again.is_feasible() and _fits(world, used - own + _used(again.routes))
        keep = fits and after < before
        if keep:
            for e in engineers:
                routes.pop(e, None)
            routes.update((r.engineer_id, r) for r in again.routes)
            for t in todo:
                dropped.pop(t, None)
            dropped.update((d.ticket_id, d) for d in again.dropped)
            used = used - own + _used(again.routes)
        reports.append(
            SeamReport(pair, len(engineers), len(todo), moved if keep else 0, before,
                       after, keep)
        )  # fmt: skip
    return reports


def _fits(world: DispatchWorld, used: Used) -> bool:
    """Whether ``used`` units are all there (vans, depots, suppliers)."""
    suppliers = {s.id: s for s in world.suppliers}
    for (kind, ident, part), qty in used.items():
        if kind == "van":
            have = world.engineers[world.engineer_row[ident]].van_stock.get(part, 0)
        elif kind == "depot":
            have = world.depots[world.depot_row[ident]].stock.get(part, 0)
        else:
            have = suppliers[ident].parts.get(part, 0) if ident in suppliers else 0
        if qty > have:
            return False
    return True


def _merged_plan(
    world: DispatchWorld, tickets: Sequence[Ticket], now: int, plans: Sequence[Plan],
    routes: dict[int, Route], dropped: dict[int, Dropped], entered: float, seams: int,
) -> Plan:  # fmt: skip
    """One plan of the merged routes and drops, flagged as its weakest part."""
    ordered = tuple(routes[e] for e in sorted(routes))
    drops = tuple(dropped[t] for t in sorted(dropped))
    order = list(PlanQuality)
    weakest = max((p.quality for p in plans), key=order.index, default=PlanQuality.OPTIMAL)
    if weakest is PlanQuality.NOTHING_PLACED and ordered:
        weakest = PlanQuality.FALLBACK
    wall_ms = int((time.monotonic() - entered) * 1_000)
    callouts = tuple(c for p in plans for c in p.callouts)
    stats = SolverStats(
        sum(p.stats.greedy_objective for p in plans), sum(p.stats.objective for p in plans),
        f"province: {len(plans)} regions, {seams} seams", wall_ms,
    )  # fmt: skip
    return Plan(
        world.epoch, now, ordered, drops, kpis(tickets, ordered, drops), weakest, stats,
        callouts=callouts,
    )  # fmt: skip
