"""The advice's analytic screen: predicted attainment in milliseconds, to rank candidates.

The simulator is the judge of every plan (`scenarios.advise`), but a run of the medium
world's week takes a minute; the screen predicts the same two promises from the world and
the demand model alone, so the search simulates only the moves the screen ranks best.

**Engineers (arrival within the promise).** Each region is a set of multi-server queues
per hour of the scenario, one per product line x required level of its tickets (region x
skill x shift): arrivals at the region's rate x its daytime and weekday profile x the
line's share of its sites' assets x the level's share of the line's ticket types; the
engineers at work that hour (their weekly shifts, local time) who serve the region share
its load: its own and its neighbours', each giving the share of his time the tickets
nearest him ask for (`_Pool`: the dispatch sends a near engineer across a border)
(utilisation rho = lambda S / c, S the mean planned job plus the mean drive of whoever
serves it); a ticket waits as in an M/M/c_k queue at that utilisation, c_k the
engineers at work qualified for it (so a line only one engineer covers waits as often as
he is busy). It is kept when the wait W and the drive D_s from the nearest qualified
engineer at work (any region, at that hour's rush-hour speed) fit the deadline:
P(W <= T - D_s) = 1 - C(c_k, rho c_k) exp(-c_k (1 - rho)(T - D_s) / S). Nobody at work
in the region: the wait until its next shift starts. An overloaded hour (rho >= 1) keeps
1 / rho of the tickets in reach.

**Stock (swap within 2 h).** METRIC with lateral pooling: each part line goes to the
depot nearest its site among those holding it; a depot's chance of having a part on the
shelf is P(Poisson(demand over the resupply time) < stock) (base stock; over a horizon
shorter than the supplier's lead time, the mean over the horizon); a site's request finds
the part in reach when any depot within the swap promise's drive has it (independence
across depots: the central warehouse pools for every site it reaches), and the engineer's
van carries the region's van stock. A swap is kept when the wait, the drive from the
nearest engineer at work to that depot, on to the site and the planned job fit 2 h.

What it leaves out, so where it errs: engineers shared between lines (each line's queue
sees the region's utilisation, not its own), labour rules (overtime caps), on-call
rosters, the dispatch's own choices (the plan may serve a general ticket later on
purpose), engineers away from home after a job,
queues carried from one hour to the next, and depots' reorders within the horizon. The
accuracy check (`screen_check`) measures the error against the simulation per region.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy.special import pdtr  # type: ignore[import-untyped]  # no stubs for scipy

from dispatch.calendar import WeeklyShift
from optimizer import GeodesicTravelTimes, Location, RoadModel, coordinates
from scenarios.demand import DAY_S, region_profile, region_rates, relative_rate
from scenarios.kpis import Estimate
from scenarios.model import SimEngineer, SimSite, SimWorld
from scenarios.spec import Change, Demand, Engineers

WEEK_HOURS = 168
# The pooled screen's distance scale (`_Pool`): a ticket goes to an engineer 25 min of
# drive further than the nearest with e^-1 times the nearest's chance. Fitted on the demo
# world (BENCHMARKS.md): the share of each region's tickets served across its border.
REACH_S = 1_500.0
FloatArray = npt.NDArray[np.float64]


def covered_hours(shifts: Iterable[WeeklyShift]) -> set[int]:
    """The local weekly hours (Monday 00-01 = 0) the shifts work, overnight included."""
    out: set[int] = set()
    for s in shifts:
        a = s.starts_at.hour * 60 + s.starts_at.minute
        b = s.ends_at.hour * 60 + s.ends_at.minute
        span = (b - a) % (24 * 60)
        first = s.weekday * 24 * 60 + a
        out.update(((first + m) // 60) % WEEK_HOURS for m in range(0, span, 60))
    return out


def erlang_c(servers: int, load: float) -> float:
    """P(an arrival waits) in M/M/c with ``servers`` and offered ``load`` (a < c)."""
    if servers <= 0 or load >= servers:
        return 1.0
    term, total = 1.0, 1.0
    for k in range(1, servers):
        term *= load / k
        total += term
    last = term * load / servers * servers / (servers - load)
    return last / (total + last)


@dataclass(frozen=True)
class Prediction:
    """The screen's attainment per region and over all (shares, 0-1; None: no clock)."""

    arrival: Mapping[str, float]
    swap: Mapping[str, float]
    volume: Mapping[str, float]  # tickets over the horizon
    arrival_all: float
    swap_all: float | None

    def get(self, kpi: str, scope: str) -> float | None:
        table = {"arrival_attainment": self.arrival, "swap_2h_attainment": self.swap}.get(kpi)
        if table is None:
            return None
        if scope == "all":
            return self.arrival_all if kpi == "arrival_attainment" else self.swap_all
        return table.get(scope.removeprefix("region="))


def _free_flow(world: SimWorld) -> GeodesicTravelTimes:
    road = RoadModel()
    if world.travel_speed != 1.0:
        road = RoadModel(road.circuity, tuple((lim, kmh * world.travel_speed)
                                              for lim, kmh in road.bands))  # fmt: skip
    return GeodesicTravelTimes(road)


class Screener:
    """Predictions for many variants of one world: the stock side is built once per stock
    (a staff move leaves the depots' shelves as they are, so it reuses them), and the
    drives from each engineer's home once (a staff move copies engineers, homes and all).

    ``sites_per_region``: the engineer side's sites, at most that many a region (`predict`).
    """

    def __init__(self, demand: Demand, horizon_s: int, sites_per_region: int | None = None) -> None:
        self.demand, self.horizon_s = demand, horizon_s
        self.sites_per_region = sites_per_region
        self._stock: dict[int, _StockScreen] = {}
        self._drives: dict[tuple[object, ...], _Drives] = {}

    def __call__(self, world: SimWorld) -> Prediction:
        depots = {d.id for d in world.depots if d.kind != "van"}
        key = hash(tuple(sorted((k, q) for k, q in world.stock.items() if k[0] in depots)))
        return predict(world, self.demand, self.horizon_s, stock=self._stock.get(key),
                       keep=lambda built: self._stock.setdefault(key, built),
                       drives=self._drives, sites_per_region=self.sites_per_region)  # fmt: skip


def predict(
    world: SimWorld,
    demand: Demand,
    horizon_s: int,
    *,
    stock: _StockScreen | None = None,
    keep: Callable[[_StockScreen], object] | None = None,
    pooled: bool = True,
    reach_s: float = REACH_S,
    drives: dict[tuple[object, ...], _Drives] | None = None,
    sites_per_region: int | None = None,
) -> Prediction:
    """Predicted arrival and 2-hour swap attainment of ``world`` under ``demand``.

    ``stock``: the stock side of a world with the same depots' stock (`Screener`).
    ``drives``: the engineers' drives kept from earlier predictions (`Screener`).
    ``sites_per_region``: the engineer side (queues, pooling, the nearest engineer's drive)
    averages over at most that many sites of each region, drawn at random, the same ones
    for every prediction (None: every site): its cost grows with engineers x sites, and
    a region's tickets fall on its sites uniformly, so a sample estimates the same means.
    The stock side and the deadlines' mix count every site.
    ``pooled``: the nearest engineers at work serve a region's tickets, whichever region
    they belong to (`_Pool`, ``reach_s`` its distance scale); False: each region's own
    engineers only (the screen before pooling).
    """
    sites = [s for s in world.sites if world.assets_by_site.get(s.id)]
    engineers = world.engineers
    if not sites or not engineers:
        return Prediction({}, {}, {}, 0.0, None)
    travel = _free_flow(world)
    if stock is None:
        stock = _StockScreen(world, sites, travel, demand, horizon_s)
        if keep is not None:
            keep(stock)
    all_by_region: dict[int, list[int]] = defaultdict(list)
    for j, s in enumerate(sites):
        all_by_region[s.region_id].append(j)
    picked = [sites[j] for j in _sample(all_by_region, sites_per_region)]
    geometry = (world.travel_speed, tuple(s.id for s in picked), stock.depot_xy.tobytes())
    memo = drives if drives is not None else {}
    if geometry not in memo:
        memo[geometry] = _Drives(travel, coordinates([s.location for s in picked]), stock.depot_xy)
    drive, to_depot = memo[geometry]([e.home for e in engineers])  # (E, S), (E, D)
    on = np.zeros((len(engineers), WEEK_HOURS), dtype=bool)
    for i, e in enumerate(engineers):
        on[i, sorted(covered_hours(e.shifts))] = True
    rates = region_rates(world, demand, {})
    hours = max(1, math.ceil(horizon_s / 3_600))
    offsets = np.arange(hours) * 3_600 + 1_800
    weekday = world.epoch.weekday()
    week_hour = (weekday * 24 + offsets // 3_600) % WEEK_HOURS
    speed = np.array([
        world.speed_by_hour.factor(world.epoch + timedelta(seconds=int(t))) for t in offsets
    ])  # fmt: skip
    service_s = float(np.mean([t.service_min * 60 for t in world.ticket_types] or [3_600]))
    arrival: dict[str, float] = {}
    swap: dict[str, float] = {}
    volume: dict[str, float] = {}
    kept_all = due_all = n_all = swap_kept_all = 0.0
    by_region: dict[int, list[int]] = defaultdict(list)  # the engineer side's sites
    for j, s in enumerate(picked):
        by_region[s.region_id].append(j)
    # a ticket's line is one of its site's assets' (uniform); its level one of the line's
    # ticket types' (uniform); qualified: his level on that line is at least that
    lines = sorted({t.line for t in world.ticket_types})
    level_mix = {ln: _level_mix(world, ln) for ln in lines}
    site_line = np.zeros((len(picked), len(lines)))
    for j, s in enumerate(picked):
        assets = world.assets_by_site[s.id]
        for a in assets:
            if a.line in lines:
                site_line[j, lines.index(a.line)] += 1 / len(assets)
    skill = [(ln, v) for ln in lines for v in level_mix[ln]]
    nearest = _Nearest(drive, [np.array([e.skills.get(ln, 0) >= v for e in engineers])
                               for ln, v in skill])  # fmt: skip
    reach: dict[bytes, FloatArray] = {}  # ... and to each depot
    regions = sorted(by_region)
    deadlines = {rid: _deadlines(world, demand, [sites[j] for j in all_by_region[rid]])
                 for rid in regions}  # fmt: skip
    # on call (not working time): woken for tickets of a severity rank up to his labour
    # rules' callout_max_rank, after callout_lead_min (the roster's most common rules)
    call = np.zeros((len(engineers), WEEK_HOURS), dtype=bool)
    for i, e in enumerate(engineers):
        call[i, sorted(covered_hours(e.on_call))] = True
    rostered = [e.labour for e in engineers if e.on_call] or [engineers[0].labour]
    top = Counter(x.callout_max_rank for x in rostered).most_common(1)[0][0]
    lead_s = 60.0 * Counter(x.callout_lead_min for x in rostered).most_common(1)[0][0]
    severe = {rid: _deadlines(world, demand, [sites[j] for j in all_by_region[rid]], top)
              for rid in regions}  # fmt: skip
    severe_share = float(sum(demand.severity_mix[:top]))
    profiles = [region_profile(world, demand, rid) for rid in regions]
    lam_all = np.array([rates.get(rid, 0.0) / DAY_S * relative_rate(prof, weekday, offsets)
                        for rid, prof in zip(regions, profiles, strict=True)])  # fmt: skip
    lam_all = lam_all.reshape(len(regions), hours)  # per second, each region and hour
    pool = _Pool(engineers, regions, drive, [by_region[rid] for rid in regions],
                 reach_s, pooled)  # fmt: skip
    given_all = [pool.shares(on[:, int(week_hour[h])], lam_all[:, h], float(speed[h]))
                 for h in range(hours)]  # fmt: skip
    woken_all: dict[int, tuple[FloatArray, FloatArray]] = {}  # hour -> with the on-call too
    for r, rid in enumerate(regions):
        cols = by_region[rid]
        code = world.regions[rid]
        lam = lam_all[r]
        # who can serve it at all: its own, and (pooled) anyone within its first deadline
        helpers = pool.home == r
        if pooled:
            helpers |= drive[:, cols].min(axis=1) <= min(t for t, _ in deadlines[rid])
        region = stock.region(all_by_region[rid])
        line_share = site_line[cols].mean(axis=0)  # of the region's tickets, by line
        # one row per (line, level) of the region's tickets: its share, its sites' weights
        combos = [(ln, v, line_share[i] * w) for i, ln in enumerate(lines)
                  for v, w in level_mix[ln].items() if line_share[i] > 0]  # fmt: skip
        site_w = np.array([
            site_line[cols, lines.index(ln)] / max(site_line[cols, lines.index(ln)].sum(), 1e-12)
            for ln, _, _ in combos
        ])  # fmt: skip
        queue = _RegionQueue(
            r, cols, drive, helpers, pooled, service_s, nearest,
            [skill.index((ln, v)) for ln, v, _ in combos],
            np.array([w for _, _, w in combos]), site_w,
        )  # fmt: skip
        kept = n = swap_kept = swap_due = 0.0
        for h in range(hours):
            if lam[h] <= 0:
                continue
            wh = int(week_hour[h])
            at_work = on[:, wh]
            key = at_work.tobytes()
            wait_until = _next_shift(on[helpers] if helpers.any() else on, wh) * 3_600.0
            hour = (float(lam[h]), float(speed[h]), wait_until)
            p, c, busy_s = queue.kept(hour, at_work, given_all[h], deadlines[rid])
            called = call[:, wh] & ~at_work
            if called.any() and severe[rid]:
                # on call: the severe tickets may wake them (after the call-out lead time)
                both = at_work | called
                if h not in woken_all:
                    woken_all[h] = pool.shares(both, lam_all[:, h], float(speed[h]))
                shares = woken_all[h]
                late = [(t - lead_s, m / severe_share) for t, m in severe[rid]]
                woken, _, _ = queue.kept(hour, both, shares, late)
                asleep, _, _ = queue.kept(hour, at_work, given_all[h], late)
                p += severe_share * max(0.0, woken - asleep)
            weight = lam[h] * 3_600
            kept += weight * p
            n += weight
            if key not in reach:
                reach[key] = _nearest(to_depot, at_work)
            due, ok = stock.swap(region, reach[key], speed[h], lam[h], c, busy_s, wait_until,
                                 service_s)  # fmt: skip
            swap_due += weight * due
            swap_kept += weight * ok
        volume[code] = n
        arrival[code] = kept / n if n else 1.0
        if swap_due > 0:
            swap[code] = swap_kept / swap_due
        kept_all, n_all = kept_all + kept, n_all + n
        swap_kept_all, due_all = swap_kept_all + swap_kept, due_all + swap_due
    return Prediction(
        arrival, swap, volume, kept_all / n_all if n_all else 1.0,
        swap_kept_all / due_all if due_all else None,
    )  # fmt: skip


@dataclass
class _RegionQueue:
    """A region's queues (one per line x level of its tickets), with what they cache per
    set of engineers who can come: the drives of the nearest qualified, the mean drive."""

    r: int
    cols: Sequence[int]
    drive: npt.NDArray[np.int64]
    helpers: npt.NDArray[np.bool_]
    pooled: bool
    service_s: float
    nearest: _Nearest  # the drive from the nearest qualified engineer at work, per skill
    rows: Sequence[int]  # per row: its skill (line, level) in ``nearest``
    share: FloatArray  # per row: its share of the region's tickets
    site_w: FloatArray  # (rows, sites): each site's share of a row's tickets
    near: dict[bytes, float] = field(default_factory=dict)
    drives: dict[bytes, FloatArray] = field(default_factory=dict)

    def kept(
        self,
        hour: tuple[float, float, float],
        mask: npt.NDArray[np.bool_],
        shares: tuple[FloatArray, FloatArray],
        due: Sequence[tuple[float, float]],
    ) -> tuple[float, float, float]:
        """(share kept, servers, S) in an hour (lambda, speed, wait for the next shift) with
        ``mask`` the engineers who can come, ``shares`` their time (`_Pool.shares`)."""
        lam, speed, wait_until = hour
        time_for, mean_drive = shares
        given = time_for[:, self.r]  # each engineer's share of his time for the region
        if self.pooled:  # the drive of whoever serves it (`_Pool`)
            busy_s = float(mean_drive[:, self.r].sum()) + self.service_s
        else:  # the nearest of its own at work
            mine = mask & self.helpers
            if mine.tobytes() not in self.near:
                self.near[mine.tobytes()] = float(np.mean(_nearest(self.drive[:, self.cols], mine)))
            busy_s = self.near[mine.tobytes()] / speed + self.service_s
        if mask.tobytes() not in self.drives:
            self.drives[mask.tobytes()] = np.array([
                self.nearest(mask, k)[self.cols] for k in self.rows
            ]).reshape(len(self.rows), len(self.cols))  # fmt: skip
        servers = np.array([float(given[self.nearest.qualified[k]].sum()) for k in self.rows])
        c = float(given.sum())
        p = _kept_lines(lam, c, servers, busy_s, wait_until, self.drives[mask.tobytes()] / speed,
                        due, self.share, self.site_w)  # fmt: skip
        return p, c, busy_s


class _Drives:
    """Free-flow drives from engineers' homes to the screen's sites and depots, a row per
    home, kept across predictions (a staff move copies engineers: their rows are known)."""

    def __init__(
        self, travel: GeodesicTravelTimes, site_xy: FloatArray, depot_xy: FloatArray
    ) -> None:
        self._travel, self._site_xy, self._depot_xy = travel, site_xy, depot_xy
        self._row: dict[Location, int] = {}
        self._site = np.zeros((0, len(site_xy)), dtype=np.int64)
        self._depot = np.zeros((0, len(depot_xy)), dtype=np.int64)

    def __call__(
        self, homes: Sequence[Location]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        new = [h for h in dict.fromkeys(homes) if h not in self._row]
        if new:
            xy = coordinates(new)
            to_site, _ = self._travel.matrix(xy, self._site_xy)
            to_depot, _ = self._travel.matrix(xy, self._depot_xy)
            self._site = np.concatenate([self._site, to_site])
            self._depot = np.concatenate([self._depot, to_depot])
            self._row.update((h, len(self._row)) for h in new)
        rows = np.array([self._row[h] for h in homes], dtype=np.int_)
        return self._site[rows], self._depot[rows]


class _Nearest:
    """Per site, the drive from the nearest engineer at work qualified for a skill (line x
    level), once per set at work: every region's queues read the same columns."""

    def __init__(
        self, drive: npt.NDArray[np.int64], qualified: Sequence[npt.NDArray[np.bool_]]
    ) -> None:
        self.drive, self.qualified = drive, qualified
        self._memo: dict[tuple[bytes, int], FloatArray] = {}

    def __call__(self, mask: npt.NDArray[np.bool_], k: int) -> FloatArray:
        key = (mask.tobytes(), k)
        if key not in self._memo:
            self._memo[key] = _nearest(self.drive, mask & self.qualified[k])
        return self._memo[key]


def _sample(by_region: Mapping[int, Sequence[int]], most: int | None) -> list[int]:
    """At most ``most`` of each region's site indices (all: None), drawn at random with
    the region's id as the seed (so the same for every variant of a world), in order."""
    out: list[int] = []
    for rid, cols in by_region.items():
        if most is not None and len(cols) > most:
            rng = np.random.default_rng(abs(rid))
            cols = [cols[i] for i in sorted(rng.choice(len(cols), most, replace=False))]
        out.extend(cols)
    return sorted(out)


def _nearest(
    drive: npt.NDArray[np.int64],
    mask: npt.NDArray[np.bool_],
    rows: npt.NDArray[np.int_] | None = None,
) -> FloatArray:
    """Per column, the shortest drive among the masked rows (inf when none)."""
    sub = drive if rows is None else drive[rows]
    if sub.shape[0] == 0 or not mask.any():
        return np.full(drive.shape[1], np.inf)
    out: FloatArray = sub[mask].min(axis=0).astype(np.float64)
    return out


class _Pool:
    """Who serves a region: its own engineers and the neighbours nearest its sites.

    The dispatch sends a near free qualified engineer, whichever region he belongs to (on
    the demo world 6-53 % of a region's tickets, a quarter overall, were served across a
    border). So a ticket at site j goes to engineer i at work with the chance
    pi_ij = exp(-d_ij / tau) / sum_i' exp(-d_i'j / tau) (d the drive from his home at the
    hour's speed, tau ``reach_s``: the nearer, the likelier), and each engineer shares his
    time among the regions in proportion to the load he gets from each:
    x_ir = lambda_r P_ir / sum_r' lambda_r' P_ir', P_ir = the mean of pi_ij over r's sites.
    A region has c_r = sum_i x_ir servers: more where neighbours are near (the Pearl River
    Delta), fewer where its engineers are nearer a busier neighbour's sites (a small region
    lends them). ``pooled=False``: each region's own engineers only.
    """

    def __init__(
        self,
        engineers: Sequence[SimEngineer],
        regions: Sequence[int],
        drive: npt.NDArray[np.int64],
        cols: Sequence[Sequence[int]],
        reach_s: float,
        pooled: bool,
    ) -> None:
        index = {rid: r for r, rid in enumerate(regions)}
        self.home = np.array([index.get(e.region_id, -1) for e in engineers], dtype=np.int_)
        self._drive, self._cols = drive.astype(np.float64), cols
        self._reach_s, self._pooled = reach_s, pooled
        self._chance: dict[tuple[bytes, float], tuple[FloatArray, FloatArray]] = {}

    def chance(self, at_work: npt.NDArray[np.bool_], speed: float) -> tuple[FloatArray, FloatArray]:
        """(P, D), each (engineers, regions): P_ir the share of region r's tickets engineer
        i serves (columns sum to 1 over those at work), D_ir his mean drive to them (s)."""
        key = (at_work.tobytes(), round(speed, 3))
        if key not in self._chance:
            n, m = self._drive.shape[0], len(self._cols)
            share, drive = np.zeros((n, m)), np.zeros((n, m))
            rows = np.flatnonzero(at_work)
            for r, cols in enumerate(self._cols):
                d = self._drive[np.ix_(rows, np.asarray(cols, dtype=np.int_))] / speed
                if self._pooled:
                    w = np.exp(-(d - d.min(axis=0, keepdims=True)) / self._reach_s)
                else:
                    w = (self.home[rows] == r)[:, None] * np.ones_like(d)
                total = w.sum(axis=0, keepdims=True)
                pi = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
                share[rows, r] = pi.mean(axis=1)
                drive[rows, r] = (pi * d).mean(axis=1)
            self._chance[key] = (share, drive)
        return self._chance[key]

    def shares(
        self, at_work: npt.NDArray[np.bool_], lam: FloatArray, speed: float
    ) -> tuple[FloatArray, FloatArray]:
        """(x, D): each at-work engineer's share of his time per region, and D of `chance`
        (the mean drive to a region's tickets is sum_i D_ir)."""
        share, drive = self.chance(at_work, speed)
        load = share * lam[None, :]
        total = load.sum(axis=1, keepdims=True)
        out: FloatArray = np.divide(load, total, out=np.zeros_like(load), where=total > 0)
        return out, drive


def _waits(servers: float, rho: float) -> float:
    """P(wait) in M/M/c at utilisation ``rho`` for fractional ``servers`` (linear between
    the whole numbers; at most one server waits as one: rho)."""
    if servers <= 1:
        return rho
    lo = math.floor(servers)
    frac = servers - lo
    low = erlang_c(lo, rho * lo)
    return low if frac == 0 else (1 - frac) * low + frac * erlang_c(lo + 1, rho * (lo + 1))


def _kept_lines(
    lam: float,
    c: float,
    servers: FloatArray,
    busy_s: float,
    wait_until_s: float,
    drive: FloatArray,
    deadlines: Sequence[tuple[float, float]],
    share: FloatArray,
    site_w: FloatArray,
) -> float:
    """An hour's share of a region's tickets kept, over its (line, level) rows.

    The region's servers (its own engineers' and neighbours' time, `_Pool`) share its load
    (utilisation rho = lambda S / c); a ticket can only wait for the ones qualified for it
    (``servers`` of its row): its wait is that of an M/M/c_k queue at the region's
    utilisation, so one qualified engineer waits as often as he is busy and many wait
    rarely. ``drive`` (rows, sites): from the nearest qualified
    engineer at work, any region. Nobody at work in the region: the wait until its next
    shift. Overloaded (rho >= 1): 1 / rho of the tickets in reach.
    """
    rho = lam * busy_s / c if c else math.inf
    if c and rho < 1:
        wait = np.array([_waits(float(k), rho) for k in servers])
        rate = np.maximum(servers, 1) * (1 - rho) / busy_s
    total = 0.0
    for deadline, mix in deadlines:
        slack = deadline - drive
        if not c:
            p = (slack >= wait_until_s).astype(np.float64)
        elif rho >= 1:
            p = (slack >= 0) / rho
        else:
            p = np.where(
                slack >= 0, 1.0 - wait[:, None] * np.exp(-rate[:, None] * np.maximum(slack, 0)), 0
            )
        total += mix * float((share * (site_w * p).sum(axis=1)).sum())
    return total


def _level_mix(world: SimWorld, line: str) -> dict[int, float]:
    """The required levels of a line's tickets and their shares (types drawn uniformly)."""
    levels = [t.required_level for t in world.ticket_types if t.line == line]
    return {v: levels.count(v) / len(levels) for v in sorted(set(levels))}


def _next_shift(on: npt.NDArray[np.bool_], wh: int) -> float:
    """Hours from the middle of weekly hour ``wh`` until someone of ``on`` works (0: now)."""
    anyone: npt.NDArray[np.bool_] = np.asarray(on.any(axis=0), dtype=bool)
    for k in range(WEEK_HOURS):
        if anyone[(wh + k) % WEEK_HOURS]:
            return max(0.0, k - 0.5)
    return math.inf


def _deadlines(
    world: SimWorld, demand: Demand, sites: Sequence[SimSite], ranks: int | None = None
) -> list[tuple[float, float]]:
    """(arrival deadline s, share of the tickets) per severity rank, over the region's sites
    (``ranks``: the first ranks only, the most severe)."""
    mix = demand.severity_mix if ranks is None else demand.severity_mix[:ranks]
    out: dict[float, float] = defaultdict(float)
    for site in sites:
        policy = world.policies[site.policy_id]
        for rank, share in enumerate(mix, start=1):
            arrive = policy.by_rank(rank).offsets.arrive_min
            if arrive is not None:
                out[arrive * 60.0] += share / len(sites)
    return sorted(out.items())


def _kept_within(
    lam: float,
    servers: int,
    service_s: float,
    wait_until_s: float,
    drive: FloatArray,
    deadlines: Sequence[tuple[float, float]],
    extra_s: float | FloatArray = 0.0,
    weights: FloatArray | None = None,
) -> float:
    """The share of an hour's tickets whose wait + drive (+ extra) fit their deadline
    (``weights``: each site's share of them; equal when None)."""
    total = 0.0
    for deadline, share in deadlines:
        slack = deadline - drive - extra_s
        if servers == 0:
            p = (slack >= wait_until_s).astype(np.float64)
        else:
            load = lam * service_s
            if load >= servers:
                p = (slack >= 0) * servers / load
            else:
                c = erlang_c(servers, load)
                rate = servers / service_s - lam
                p = np.where(slack >= 0, 1.0 - c * np.exp(-rate * np.maximum(slack, 0.0)), 0.0)
        total += share * float(np.average(np.broadcast_to(p, drive.shape), weights=weights))
    return total


class _StockScreen:
    """METRIC with lateral pooling: which depot has a part, and the swap trip through it.

    Vectorised over (site, part line) rows: the large world has 20,000 sites and 60
    depots, where loops per site, line and depot took 45 s (BENCHMARKS.md)."""

    def __init__(
        self,
        world: SimWorld,
        sites: Sequence[SimSite],
        travel: GeodesicTravelTimes,
        demand: Demand,
        horizon_s: int,
    ) -> None:
        self.world = world
        depots = [d for d in world.depots if d.location is not None and d.kind != "van"]
        self.depots = depots
        site_xy = coordinates([s.location for s in sites])
        depot_xy = coordinates([d.location for d in depots if d.location is not None])
        self.to_site, _ = travel.matrix(depot_xy, site_xy)  # (D, S)
        self.depot_xy = depot_xy
        self.regions = [s.region_id for s in sites]
        self.within = np.array([
            world.policies[s.policy_id].swap_within_min * 60.0 for s in sites
        ])  # fmt: skip
        # part demand per site (lines per second at the mean rate): a part ticket's part is
        # one of its asset's fits, assets and fits drawn uniformly; a row per (site, part)
        rates = region_rates(world, demand, {})
        per_site: dict[int, int] = defaultdict(int)
        for s in sites:
            per_site[s.region_id] += 1
        column: dict[int, int] = {}  # part id -> its column
        rows: list[tuple[int, int, float]] = []
        for j, s in enumerate(sites):
            assets = world.assets_by_site[s.id]
            rate = rates.get(s.region_id, 0.0) / DAY_S / per_site[s.region_id]
            lines: dict[int, float] = defaultdict(float)
            for a in assets:
                fits = world.part_fits.get(a.model_id, ())
                for p in fits:
                    lines[p] += rate * demand.part_share / len(assets) / len(fits)
            rows.extend((j, column.setdefault(p, len(column)), r) for p, r in lines.items())
        index = {d.id: k for k, d in enumerate(depots)}
        for (depot_id, p), qty in world.stock.items():
            if qty > 0 and depot_id in index:
                column.setdefault(p, len(column))
        n_sites, n_depots, n_parts = len(sites), len(depots), len(column)
        pj = np.array([j for j, _, _ in rows], dtype=np.int_)
        pp = np.array([p for _, p, _ in rows], dtype=np.int_)
        pr = np.array([r for _, _, r in rows], dtype=np.float64)
        on_hand = np.zeros((n_depots, n_parts), dtype=np.int_)
        for (depot_id, p), qty in world.stock.items():
            if qty > 0 and depot_id in index:
                on_hand[index[depot_id], column[p]] = qty
        # each part line goes to the nearest depot (by drive) holding that part
        held = on_hand > 0
        order = np.argsort(self.to_site, axis=0)  # (D, S): depots nearest first
        nearest = np.full(pj.size, -1, dtype=np.int_)
        for t in range(n_depots):
            k = order[t, pj]
            hit = (nearest < 0) & held[k, pp]
            nearest[hit] = k[hit]
        found = nearest >= 0
        load = np.bincount(nearest[found] * n_parts + pp[found], weights=pr[found],
                           minlength=n_depots * n_parts).reshape(n_depots, n_parts)  # fmt: skip
        lead = np.array([world.supplier_lead_s.get(p, 7 * DAY_S) for p in column], dtype=float)
        fill = np.zeros((n_depots, n_parts))
        ks, ps = np.nonzero(held)
        fill[ks, ps] = _on_shelf(on_hand[ks, ps], load[ks, ps], lead[ps], horizon_s)
        # per site: the chance the van has its part (V) and that depot k is the nearest
        # holder in reach that has it (Q), over the site's part lines
        area = {rid: a for a, rid in enumerate(sorted(set(self.regions)))}
        vans = np.zeros((len(area), n_parts))
        for rid, parts in self._van_fill().items():
            for p, chance in parts.items():
                if rid in area and p in column:
                    vans[area[rid], column[p]] = chance
        site_area = np.array([area[rid] for rid in self.regions], dtype=np.int_)
        total = np.bincount(pj, weights=pr, minlength=n_sites)
        share = np.divide(pr, total[pj], out=np.zeros_like(pr), where=total[pj] > 0)
        van = vans[site_area[pj], pp] if pj.size else np.zeros(0)
        self.van = np.bincount(pj, weights=share * van, minlength=n_sites)
        first = np.zeros(n_sites * n_depots)
        miss = 1.0 - van
        for t in range(n_depots):
            k = order[t, pj]
            near = self.to_site[k, pj] <= self.within[pj]
            if not near.any():
                break  # nearest first: every later depot is out of reach too
            f = np.where(near, fill[k, pp], 0.0)
            first += np.bincount(pj * n_depots + k, weights=share * miss * f,
                                 minlength=n_sites * n_depots)  # fmt: skip
            miss = miss * (1.0 - f)
        self.first = first.reshape(n_sites, n_depots)
        self.has_parts = total > 0

    def _van_fill(self) -> dict[int, dict[int, float]]:
        """Region id -> part -> the chance a van of the region has it (its stock's share)."""
        world = self.world
        vans = {e.van_depot_id: e.region_id for e in world.engineers if e.van_depot_id is not None}
        count: dict[int, int] = defaultdict(int)
        held: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for rid in vans.values():
            count[rid] += 1
        for (depot_id, p), qty in world.stock.items():
            owner = vans.get(depot_id)
            if owner is not None and qty > 0:
                held[owner][p] += 1.0 / count[owner]
        return {rid: dict(parts) for rid, parts in held.items()}

    def region(self, cols: Sequence[int]) -> tuple[npt.NDArray[np.int_], FloatArray, FloatArray]:
        """A region's sites with part demand: (indices, within, to-site drives (S, D))."""
        idx = np.array([j for j in cols if self.has_parts[j]], dtype=int)
        return idx, self.within[idx], self.to_site[:, idx].T.astype(np.float64)

    def swap(
        self,
        region: tuple[npt.NDArray[np.int_], FloatArray, FloatArray],
        reach: FloatArray,
        speed: float,
        lam: float,
        servers: float,
        service_s: float,
        wait_until_s: float,
        job_s: float,
    ) -> tuple[float, float]:
        """(P(a part ticket is due: stock in reach), P(due and kept)) over the region's sites.

        ``reach``: per depot, the free-flow drive from the nearest engineer at work."""
        idx, within, to_site = region
        if idx.size == 0:
            return 0.0, 0.0
        trips = (reach[None, :] + to_site) / speed  # (sites, depots)
        queue = (lam, servers, service_s, wait_until_s, job_s)
        van_ok = _fits(*queue, within, np.zeros_like(within))
        depot_ok = _fits(*queue, within[:, None], trips)
        due = self.van[idx] + self.first[idx].sum(axis=1)
        kept = self.van[idx] * van_ok + (self.first[idx] * depot_ok).sum(axis=1)
        return float(due.mean()), float(kept.mean())


def _fits(
    lam: float,
    servers: float,
    service_s: float,
    wait_until_s: float,
    job_s: float,
    within: FloatArray,
    trip: FloatArray,
) -> FloatArray:
    """P(wait + trip + job <= the swap promise), elementwise (a van: trip 0)."""
    slack = within - trip - job_s
    if servers == 0:
        out: FloatArray = (slack >= wait_until_s).astype(np.float64)
        return out
    load = lam * service_s
    if load >= servers:
        return np.where(slack >= 0, servers / load, 0.0)
    c, rate = _waits(servers, load / servers), servers / service_s - lam
    return np.where(slack >= 0, 1.0 - c * np.exp(-rate * np.maximum(slack, 0.0)), 0.0)


def _on_shelf(
    stock: npt.ArrayLike, rate: npt.ArrayLike, lead_s: npt.ArrayLike, horizon_s: int
) -> FloatArray:
    """P(on hand > 0) for base stock ``stock``, demand ``rate``/s, resupply ``lead_s``
    (elementwise over arrays).

    Steady state: P(Poisson(rate x lead) < stock). Over a horizon shorter than the lead
    time, no unit comes back: the mean over the horizon of P(Poisson(rate x t) < stock).
    """
    k, lam, lead = (np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in (stock, rate, lead_s))
    ts = np.linspace(0.0, float(horizon_s), 9)
    steady = lead <= horizon_s
    means = np.maximum(lam[:, None] * np.where(steady[:, None], lead[:, None], ts[None, :]), 0.0)
    # P(Poisson(mean) <= stock - 1); none on hand: never
    below = np.where(k[:, None] > 0, pdtr(np.maximum(k[:, None] - 1, 0), means), 0.0)
    out: FloatArray = np.where(lam <= 0, 1.0, np.where(steady, below[:, 0], below.mean(axis=1)))
    return out


class _MissMix(Protocol):
    @property
    def reasons(self) -> Mapping[str, float]: ...


class _Measured(Protocol):
    @property
    def attainment(self) -> Mapping[tuple[str, str], Estimate]: ...

    @property
    def misses(self) -> Mapping[tuple[str, str], _MissMix]: ...


class _Judge(Protocol):
    """The advice's evaluator (`scenarios.advise.SimulationEvaluator`) as the check uses it."""

    @property
    def world(self) -> SimWorld: ...

    def __call__(
        self, configs: Mapping[str, tuple[Change, ...]], streams: int = 0
    ) -> Mapping[str, _Measured]: ...

    def screen(self, changes: tuple[Change, ...]) -> Prediction: ...


@dataclass(frozen=True)
class CheckRow:
    """The screen's prediction against the simulation at one staffing point and scope."""

    point: str  # today, -20 %, +20 %
    scope: str  # all or region=<code>
    kpi: str
    predicted: float
    mean: float
    low: float
    high: float
    n: int
    tolerance: float = 0.03
    # the simulation's misses per run there by why (geography, shift, labour, decision)
    reasons: Mapping[str, float] = field(default_factory=dict)

    @property
    def within(self) -> bool:
        return bool(abs(self.predicted - self.mean) <= self.tolerance)

    @property
    def in_interval(self) -> bool:
        """The prediction lies inside the simulation's 95 % interval (sampling explains it)."""
        return bool(self.low <= self.predicted <= self.high)

    @property
    def why(self) -> str:
        """Why the screen is off by more than the tolerance here ("" when it is not): the
        interval, or its direction with the simulation's misses by reason, and what the
        screen leaves out (docs/advise.md) that errs that way."""
        if self.within:
            return ""
        off = f"{100 * abs(self.predicted - self.mean):.1f} points"
        if self.in_interval:
            return (f"off by {off}, inside the simulation's 95 % interval: too few tickets "
                    "to tell")  # fmt: skip
        total = sum(self.reasons.values())
        mix = ", ".join(
            f"{k} {100 * v / total:.0f} %"
            for k, v in sorted(self.reasons.items(), key=lambda kv: -kv[1]) if v > 0
        ) if total > 0 else "none recorded"  # fmt: skip
        if self.predicted < self.mean:
            return (f"pessimistic by {off} (simulated misses: {mix}): engineers near after a "
                    "job and neighbours' engineers kept more than the screen's queues from "
                    "home allow")  # fmt: skip
        main = max(self.reasons, key=lambda k: self.reasons[k]) if total > 0 else "decision"
        return f"optimistic by {off} (simulated misses: {mix}): {_LEFT_OUT[main]}"

    def as_json(self) -> dict[str, object]:
        return {
            "point": self.point, "scope": self.scope, "kpi": self.kpi,
            "predicted": round(self.predicted, 4), "simulated": round(self.mean, 4),
            "low": round(self.low, 4), "high": round(self.high, 4), "replications": self.n,
            "error": round(self.predicted - self.mean, 4), "within": self.within,
            "in_interval": self.in_interval, "why": self.why,
            "misses_by_reason": {k: round(v, 2) for k, v in sorted(self.reasons.items())},
        }  # fmt: skip


# What the screen leaves out that loses the simulation tickets of each miss reason (an
# optimistic screen: docs/advise.md, "What it leaves out").
_LEFT_OUT = {
    "decision": "mostly the dispatch's decisions and busy engineers, which the screen's "
    "hourly queues leave out (queues carried over, engineers away after a job, the plan's "
    "own choices)",
    "labour": "mostly the labour rules (overtime), which the screen leaves out",
    "shift": "mostly nobody at work or on call when they came, where the screen counts "
    "whoever works any part of the hour (its shifts are whole hours)",
    "geography": "mostly out of reach of every home, where the screen's drive (the nearest "
    "qualified engineer at work, at the hour's mean speed) fits the deadline",
}


def staffing(world: SimWorld, share: float) -> tuple[Change, ...]:
    """``share`` more (or fewer) engineers in every region, rounded per region."""
    sizes: dict[str, int] = defaultdict(int)
    for e in world.engineers:
        sizes[world.regions[e.region_id]] += 1
    changes: list[Change] = []
    for code, n in sorted(sizes.items()):
        delta = round(share * n)
        if delta < 0:
            delta = max(delta, 1 - n)  # keep one: a region with nobody has no queue
        if delta:
            changes.append(Engineers(kind="engineers", delta=delta, region=code))
    return tuple(changes)


KPIS = ("arrival_attainment", "swap_2h_attainment")


def screen_check(
    judge: _Judge, points: Sequence[float] = (-0.2, 0.2), tolerance: float = 0.03
) -> list[CheckRow]:
    """Predicted vs simulated arrival and swap per region and overall, at today's staff and
    each ``points`` share more (one scenario run: the points are paired variants)."""
    configs = {"today": ()} | {f"{100 * p:+.0f} %": staffing(judge.world, p) for p in points}
    measured = judge(configs, 0)
    rows: list[CheckRow] = []
    for name, changes in configs.items():
        rows.extend(check_rows(name, judge.screen(changes), measured[name], KPIS, tolerance))
    return rows


def check_rows(
    point: str,
    prediction: Prediction,
    measured: _Measured,
    kpis: Iterable[str] = KPIS,
    tolerance: float = 0.03,
) -> list[CheckRow]:
    """The screen's prediction against one simulated configuration, overall and per region,
    each row with the simulation's misses by reason there (to say why it is off)."""
    rows: list[CheckRow] = []
    scopes = ["all", *(f"region={r}" for r in sorted(prediction.arrival))]
    for kpi in kpis:
        for scope in scopes:
            sim = measured.attainment.get((kpi, scope))
            guess = prediction.get(kpi, scope)
            if sim is None or guess is None:
                continue
            region = scope.removeprefix("region=")
            reasons: Counter[str] = Counter()
            for (k, r), miss in measured.misses.items():
                if k == kpi and (scope == "all" or r == region):
                    reasons.update(miss.reasons)
            rows.append(CheckRow(point, scope, kpi, float(guess), sim.mean, sim.low, sim.high,
                                 sim.n, tolerance, dict(reasons)))  # fmt: skip
    return rows


__all__ = [
    "CheckRow",
    "Prediction",
    "Screener",
    "check_rows",
    "covered_hours",
    "erlang_c",
    "predict",
    "screen_check",
    "staffing",
]
