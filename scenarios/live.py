"""The mutable state of one run, and the `DispatchWorld` the optimizer reads from it.

Stock lives in memory as `inventory.stock_rules.Balance` rows and changes only through those
rule functions, so the simulation can never oversell. Building a `DispatchWorld` for 2,000
engineers takes milliseconds, too slow per ticket; so the view is rebuilt every
`REBUILD_S` (shift windows, positions, outages) and patched in place between rebuilds for
the few engineers and stock rows a ticket changed. `tests/scenarios` checks that a patched
view equals a freshly built one.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from dispatch.calendar import to_offsets, working_windows
from dispatch.durations import DurationLog, DurationPolicy
from dispatch.labour import minor, on_call_of, overtime_used, solver_fields, tally_overtime
from inventory import stock_rules
from inventory.stock_rules import Balance
from optimizer import (
    Depot,
    DispatchWorld,
    Engineer,
    Gap,
    Location,
    Reserved,
    Supplier,
    free_gap,
    heads_home_at,
    retimed,
    standing_at,
)
from optimizer.world import FAR
from scenarios.model import SimWorld, StockKey

REBUILD_S = 86_400
WINDOW_BEFORE_S = 86_400  # shift windows kept around "now" in the view
WINDOW_AFTER_S = 3 * 86_400
SUPPLIER_QTY = 1_000
DAY_S = 86_400
WEEK_S = 7 * DAY_S


@dataclass(frozen=True, slots=True)
class OnSite:
    """The job an engineer is working on at its site: the ticket, when its service began,
    the duration it was planned with, and what the log reads its end from."""

    key: int
    started_at: int
    planned_s: int
    type_id: int
    standard_s: int
    policy: DurationPolicy


class LiveState:
    """Balances, engineers' commitments and positions, and the optimizer's view."""

    def __init__(
        self, world: SimWorld, horizon_s: int, durations: DurationLog | None = None
    ) -> None:
        self.world = world
        # the run's log of finished jobs: a job on site past its planned end ends when the
        # log says (`DurationLog.ends_at`, production's snapshot reads it the same way)
        self.durations = DurationLog() if durations is None else durations
        self.on_site: dict[int, OnSite] = {}
        self.balances: dict[int, dict[int, Balance]] = {}
        # part -> the depots and vans with at least one unit available: the swap promise's
        # "a spare in stock in reach" asks it per part ticket (2,000 vans x parts otherwise)
        self.holders: dict[int, set[int]] = {}
        for (depot_id, part), qty in world.stock.items():
            self._set((depot_id, part), Balance(qty))
        self.free_at = {e.id: 0 for e in world.engineers}
        self.position = {e.id: e.home for e in world.engineers}
        # Committed visits by ticket (`optimizer.free_gap` reads the gap before a later one,
        # as production does) and where he stands once his last finished job is done.
        self.work: dict[int, dict[int, Reserved]] = {e.id: {} for e in world.engineers}
        self.here = {e.id: e.home for e in world.engineers}
        self.here_since = {e.id: 0 for e in world.engineers}  # when his last job ended there
        self.home = {e.id: e.home for e in world.engineers}
        # (when he heads home, engineer, free from): his shift ends with no work in progress
        # and the next one starts from home (`optimizer.standing_at`, production's rule)
        self._homeward: list[tuple[int, int, int]] = []
        # (when he heads home, engineer, since): his gap before a later visit then starts
        # from home (`_gap`), the view is patched at that time
        self._gap_homeward: list[tuple[int, int, int]] = []
        self._dirty: set[int] = set()
        self.van_of = {e.id: e.van_depot_id for e in world.engineers}
        self.owner_of = {v: e for e, v in self.van_of.items() if v is not None}
        self.windows = _absolute_windows(world, horizon_s + WINDOW_AFTER_S)
        self.on_call_windows = _absolute_windows(world, horizon_s + WINDOW_AFTER_S, on_call=True)
        self.labour = {e.id: e for e in world.engineers}
        # Overtime per engineer and working window (keyed by the window's end): work runs on
        # past the end without a break, so a window's overtime is its last job's end - end.
        self.overtime: dict[int, dict[int, int]] = {e.id: {} for e in world.engineers}
        self._view: DispatchWorld | None = None
        self._built_at = -REBUILD_S
        self._stale = True

    # -- stock, through the pure rules -------------------------------------------------
    def balance(self, key: StockKey) -> Balance:
        return self.balances.get(key[0], {}).get(key[1], Balance())

    def available(self, key: StockKey) -> int:
        return self.balance(key).available

    def _set(self, key: StockKey, balance: Balance) -> None:
        self.balances.setdefault(key[0], {})[key[1]] = balance
        if balance.available >= 1:
            self.holders.setdefault(key[1], set()).add(key[0])
        else:
            self.holders.get(key[1], set()).discard(key[0])

    def holding(self, parts: Sequence[int]) -> set[int]:
        """The depots and vans with at least one unit of every part available now."""
        if not parts:
            return set()
        sets = sorted((self.holders.get(p, set()) for p in parts), key=len)
        return sets[0].intersection(*sets[1:])

    def reserve(self, key: StockKey, qty: int) -> None:
        self._set(key, stock_rules.reserve(self.balance(key), qty))
        self._patch_stock(key)

    def release(self, key: StockKey, qty: int) -> None:
        self._set(key, stock_rules.release(self.balance(key), qty))
        self._patch_stock(key)

    def pick(self, key: StockKey, qty: int) -> None:
        self._set(key, stock_rules.pick(self.balance(key), qty))

    def receive(self, key: StockKey, qty: int) -> None:
        self._set(key, stock_rules.receive(self.balance(key), qty))
        self._patch_stock(key)

    # -- engineers ---------------------------------------------------------------------
    def commit(
        self, engineer_id: int, until: int, at: Location, *, start: int | None = None,
        arrives: int | None = None, key: int | None = None,
    ) -> None:  # fmt: skip
        """The engineer is busy until `until` (from `start`, when a job begins) and then
        stands at `at`; with a `key` (the ticket), a committed visit arriving at `arrives`,
        which keeps him busy only from its departure (the gap before it is free). Work
        without a key is work done (its overtime counts, `_worked`); a visit's counts once
        it is `finished`, never while only planned."""
        if key is None:
            self._worked(engineer_id, start, until)
        else:
            leaves = until if start is None else start
            self.work[engineer_id][key] = Reserved(
                leaves, leaves if arrives is None else arrives, until, at
            )
        if key is None or until >= self.free_at[engineer_id]:
            self.free_at[engineer_id] = until
            self.position[engineer_id] = at
            heads = heads_home_at(until, self.windows[engineer_id])
            heapq.heappush(self._homeward, (heads, engineer_id, until))
        self._dirty.add(engineer_id)

    def settle(self, now: int) -> None:
        """Send home every engineer whose shift ended by `now` with no work in progress
        since (`optimizer.standing_at`): the next shift starts from home. The drive home is
        his own time, not a job's travel (no km)."""
        queue = self._homeward
        while queue and queue[0][0] <= now:
            _, eid, since = heapq.heappop(queue)
            if self.free_at[eid] != since or eid in self.on_site:  # more work, or still at it
                continue
            at = standing_at(self.position[eid], since, self.home[eid], self.windows[eid], now)
            self.position[eid] = self.here[eid] = at
            self._dirty.add(eid)
        gaps = self._gap_homeward
        while gaps and gaps[0][0] <= now:
            _, eid, since = heapq.heappop(gaps)
            if self.here_since[eid] == since and self.work[eid]:  # his gap starts home now
                self._dirty.add(eid)

    def serving(self, engineer_id: int, job: OnSite) -> None:
        """He began the service of a committed visit on its site: past its planned end the
        view keeps him busy until the log's end for it (`busy_until`)."""
        self.on_site[engineer_id] = job
        self._dirty.add(engineer_id)

    def busy_until(self, engineer_id: int, now: int) -> int:
        """When his committed work ends, seen at `now`: the planned end, or later while the
        job on site runs past its own (`DurationLog.ends_at`, `optimizer.overrun_ends`) and
        pushes the visits after it (`optimizer.retimed`, through `optimizer.free_gap`)."""
        until = self.free_at[engineer_id]
        job = self.on_site.get(engineer_id)
        if job is not None:
            until = max(until, self._ends(job, now))
        if self.work[engineer_id]:
            chain = free_gap(now, self._work(engineer_id, now)).busy_until
            until = until if chain is None else max(until, chain)
        return until

    def departed(self, engineer_id: int, key: int, at: int) -> None:
        """He set off for a committed visit at `at`: under way from then (never re-timed),
        later than planned by as much when the work before it ran late."""
        leg = self.work[engineer_id].get(key)
        if leg is None:
            return
        late = max(0, at - leg.departs)
        self.work[engineer_id][key] = replace(
            leg, departs=leg.departs + late, arrives=leg.arrives + late, ends=leg.ends + late,
            under_way=True,
        )  # fmt: skip
        self._dirty.add(engineer_id)

    def projected(self, engineer_id: int, now: int) -> dict[int, Reserved]:
        """His committed visits by ticket as now expected: behind the job on site as the log
        reads it, each pushed behind the work before it (`optimizer.retimed`, the rule
        production's snapshot projects its visits with, `Snapshot.delay`)."""
        keys = list(self.work[engineer_id])
        return dict(zip(keys, retimed(self._work(engineer_id, now)), strict=True))

    def _ends(self, job: OnSite, now: int) -> int:
        return self.durations.ends_at(
            job.type_id, job.standard_s, job.policy, started_at=job.started_at,
            planned_s=job.planned_s, now=now,
        )  # fmt: skip

    def _work(self, engineer_id: int, now: int) -> list[Reserved]:
        """His committed visits, the one on site ending when `busy_until` reads it."""
        job = self.on_site.get(engineer_id)
        work = self.work[engineer_id]
        if job is None or job.key not in work:
            return list(work.values())
        ends = self._ends(job, now)
        return [
            replace(r, ends=max(r.ends, ends), under_way=True) if key == job.key else r
            for key, r in work.items()
        ]

    def finished(
        self, engineer_id: int, key: int, at: Location | None, *, since: int = 0,
        start: int | None = None,
    ) -> None:  # fmt: skip
        """A committed visit is over (at `at`, at `since`, set off at `start`) or handed to
        someone else (`at` None: none of its overtime counts against his caps)."""
        if at is not None:
            self._worked(engineer_id, start, since)
        self.work[engineer_id].pop(key, None)
        if key == getattr(self.on_site.get(engineer_id), "key", None):
            del self.on_site[engineer_id]
        if at is not None:
            self.here[engineer_id], self.here_since[engineer_id] = at, since
            heads = heads_home_at(since, self.windows[engineer_id])
            heapq.heappush(self._gap_homeward, (heads, engineer_id, since))
        self._dirty.add(engineer_id)

    def released(self, engineer_id: int, key: int, now: int) -> None:
        """A committed visit not departed yet taken off him at `now` (handed to another
        engineer): he is busy until the rest of his work ends, or free where his last job
        left him (home once that shift is over, `optimizer.standing_at`)."""
        eid = engineer_id
        gone = self.work[eid].pop(key, None)
        self._dirty.add(eid)
        if gone is None or gone.ends < self.free_at[eid]:
            return  # work after it keeps him busy as before
        rest = list(self.work[eid].values())
        if rest:
            last = max(rest, key=lambda r: r.ends)
            self.free_at[eid], self.position[eid] = last.ends, last.site
        else:
            since = self.here_since[eid]
            self.free_at[eid] = since
            self.position[eid] = standing_at(
                self.here[eid], since, self.home[eid], self.windows[eid], now
            )
        heads = heads_home_at(self.free_at[eid], self.windows[eid])
        heapq.heappush(self._homeward, (heads, eid, self.free_at[eid]))

    def diverted(self, engineer_id: int, key: int, at: Location, now: int) -> None:
        """He was driving to the committed visit ``key`` (nothing committed after it) and
        is stopped on the road at ``at`` (`optimizer.divert`): free there from `now`; none
        of that visit's overtime counts against his caps (it is done later, or by someone
        else)."""
        eid = engineer_id
        self.work[eid].pop(key, None)
        self.free_at[eid] = self.here_since[eid] = now
        self.position[eid] = self.here[eid] = at
        heapq.heappush(self._homeward, (heads_home_at(now, self.windows[eid]), eid, now))
        self._dirty.add(eid)

    def without(self, engineer_id: int, key: int, now: int) -> Engineer:
        """The engineer as the view would show him at `now` without that committed visit
        (`optimizer.make_room` prices a new ticket on him so); the state is left as it was."""
        return self._as_if(engineer_id, now, lambda: self.released(engineer_id, key, now))

    def on_the_road(self, engineer_id: int, key: int, at: Location, now: int) -> Engineer:
        """The engineer as the view would show him at `now` stopped at ``at`` on his drive
        to the visit ``key`` (`optimizer.divert` prices a new ticket on him so); the state
        is left as it was."""
        return self._as_if(engineer_id, now, lambda: self.diverted(engineer_id, key, at, now))

    def _as_if(self, eid: int, now: int, change: Callable[[], None]) -> Engineer:
        saved = (
            dict(self.work[eid]), self.free_at[eid], self.position[eid], list(self._homeward),
            self.here[eid], self.here_since[eid],
        )  # fmt: skip
        dirty = eid in self._dirty
        try:
            change()
            e = self.labour[eid]
            return self._engineer(eid, e.home, dict(e.skills), now)
        finally:
            self.work[eid], self.free_at[eid], self.position[eid], self._homeward = saved[:4]
            self.here[eid], self.here_since[eid] = saved[4], saved[5]
            if not dirty:
                self._dirty.discard(eid)

    def _patch_engineer(self, view: DispatchWorld, engineer_id: int, now: int) -> None:
        """Mirror one engineer's commitments into the view (busy, position, gap)."""
        until, at = self.busy_until(engineer_id, now), self.position[engineer_id]
        busy = until > now
        gap = self._gap(engineer_id, now)
        row = view.engineer_row[engineer_id]
        arrays = view.engineer_arrays
        arrays.busy_until[row] = until if busy else -FAR
        arrays.busy_coords[row] = (at.lat, at.lon)
        arrays.coords[row] = (at.lat, at.lon)  # where he stands once that job is done
        arrays.gap_ready[row] = -FAR if gap is None else gap.ready
        origin = at if gap is None or gap.origin is None else gap.origin
        arrays.gap_origin[row] = (origin.lat, origin.lon)
        back = at if gap is None else gap.back_to
        arrays.gap_back[row] = (back.lat, back.lon)
        arrays.gap_back_by[row] = -FAR if gap is None else gap.back_by
        engineers = list(view.engineers)
        engineers[row] = replace(
            engineers[row], location=at, busy_until=until if busy else None,
            busy_location=at if busy else None, gap=gap,
        )  # fmt: skip
        object.__setattr__(view, "engineers", tuple(engineers))
        if any(o.engineer.id == engineer_id for o in view.on_call):  # not woken twice at once
            on_call = tuple(
                replace(o, engineer=replace(o.engineer, location=at,
                                            busy_until=until if busy else None,
                                            busy_location=at if busy else None))
                if o.engineer.id == engineer_id else o
                for o in view.on_call
            )  # fmt: skip
            object.__setattr__(view, "on_call", on_call)

    def _gap(self, engineer_id: int, now: int) -> Gap | None:
        """`optimizer.free_gap` over his committed visits; a gap from now starts where he is:
        at his last job's site, or at home once that shift is over (`optimizer.standing_at`,
        though a later visit is committed: he goes home for the night all the same)."""
        gap = free_gap(now, self._work(engineer_id, now)).gap
        if gap is None or gap.origin is not None:
            return gap
        eid = engineer_id
        here = standing_at(self.here[eid], self.here_since[eid], self.home[eid],
                           self.windows[eid], now)  # fmt: skip
        return replace(gap, origin=here)

    def _worked(self, engineer_id: int, start: int | None, end: int) -> None:
        """Tally a job he worked (`start` None: its start unknown) against his caps: only
        work done counts, as production's snapshot counts the tickets he fixed
        (`snapshot.overtime_worked`), so a visit handed over gives its overtime back."""
        tally_overtime(
            self.overtime[engineer_id], self.windows[engineer_id], ((start, end),),
            self.on_call_windows[engineer_id],
        )  # fmt: skip

    def overtime_used(self, engineer_id: int, now: int) -> tuple[int, int]:
        """Overtime of windows over by `now`, on `now`'s day and in its week (Monday on)."""
        day0 = now - now % DAY_S
        week0 = day0 - ((self.world.epoch.weekday() + day0 // DAY_S) % 7) * DAY_S
        return overtime_used(self.overtime[engineer_id], now=now, day_start=day0, week_start=week0)

    def invalidate(self) -> None:
        """Force a rebuild at the next `view` (an outage or strike began or ended)."""
        self._stale = True

    # -- the optimizer's view ----------------------------------------------------------
    def view(self, now: int) -> DispatchWorld:
        """The `DispatchWorld` at `now` (rebuilt when stale or older than REBUILD_S)."""
        self.settle(now)
        for eid, job in self.on_site.items():  # past its planned end: read again each time
            if job.started_at + job.planned_s < now:
                self._dirty.add(eid)
        if self._view is None or self._stale or now - self._built_at >= REBUILD_S:
            self._view = self._build(now)
            self._built_at, self._stale = now, False
            self._dirty.clear()
        for eid in self._dirty:
            self._patch_engineer(self._view, eid, now)
        self._dirty.clear()
        return self._view

    def _build(self, now: int) -> DispatchWorld:
        world = self.world
        engineers = tuple(
            self._engineer(e.id, e.home, dict(e.skills), now) for e in world.engineers
        )
        depots = tuple(
            Depot(d.id, d.location, self._stock_of(d.id), pick_s=d.pick_s)
            for d in world.depots
            if d.location is not None and not _closed(world, d.id, now)
        )
        lo, hi = now - WINDOW_BEFORE_S, now + WINDOW_AFTER_S
        on_call = []
        for e, engineer in zip(world.engineers, engineers, strict=True):
            windows = tuple((s, t) for s, t in self.on_call_windows[e.id] if t > lo and s < hi)
            if windows:
                on_call.append(on_call_of(engineer, windows, e.labour))
        return DispatchWorld(world.epoch, engineers, depots, self._suppliers(), tuple(on_call))

    def _engineer(self, eid: int, home: Location, skills: dict[str, int], now: int) -> Engineer:
        lo, hi = now - WINDOW_BEFORE_S, now + WINDOW_AFTER_S
        shifts = tuple((s, e) for s, e in self.windows[eid] if e > lo and s < hi)
        until = self.busy_until(eid, now)
        busy = until > now
        at = self.position[eid]
        van = self.van_of[eid]
        e = self.labour[eid]
        day, week = self.overtime_used(eid, now)
        return Engineer(
            eid, at, skills, shifts, home=home,
            busy_until=until if busy else None, busy_location=at if busy else None,
            gap=self._gap(eid, now),
            van_stock={} if van is None else self._stock_of(van),
            cost_per_hour=minor(e.cost_per_hour), cost_per_km=minor(e.cost_per_km),
            **solver_fields(e.labour, used_day_s=day, used_week_s=week),
        )  # fmt: skip

    def _stock_of(self, depot_id: int) -> dict[int, int]:
        return {p: b.available for p, b in self.balances.get(depot_id, {}).items() if b.available}

    def _suppliers(self) -> tuple[Supplier, ...]:
        parts: dict[int, dict[int, int]] = {}
        for part in self.world.parts.values():
            parts.setdefault(part.supplier_id, {})[part.id] = SUPPLIER_QTY
        return tuple(
            Supplier(sid, parts.get(sid, {}), lead, self.world.transit_s(sid))
            for sid, lead in sorted(self.world.supplier_lead_s.items())
        )

    def _patch_stock(self, key: StockKey) -> None:
        """Mirror one balance into the current view (or mark the view stale)."""
        view = self._view
        if view is None or self._stale:
            return
        depot_id, part = key
        qty = self.available(key)
        row = view.depot_row.get(depot_id)
        if row is not None:
            column = view.depot_arrays.stock.get(part)
            if column is None:  # the part's first units in any depot of the view
                column = np.zeros(len(view.depots), dtype=np.int64)
                view.depot_arrays.stock[part] = column
            column[row] = qty
            depots = list(view.depots)
            depots[row] = replace(depots[row], stock=_with(depots[row].stock, part, qty))
            object.__setattr__(view, "depots", tuple(depots))
            return
        owner = self.owner_of.get(depot_id)
        if owner is not None:
            self._patch_van(view, owner, part, qty)

    def _patch_van(self, view: DispatchWorld, owner: int, part: int, qty: int) -> None:
        row = view.engineer_row[owner]
        van = view.engineer_arrays.van
        rows, qtys = van.get(part, (np.empty(0, np.int64), np.empty(0, np.int64)))
        hit = np.flatnonzero(rows == row)
        if hit.size:
            qtys[hit[0]] = qty
        elif qty > 0:  # the van's first units of this part: one more row in its column
            van[part] = (np.append(rows, row), np.append(qtys, qty))
        engineers = list(view.engineers)
        engineers[row] = replace(
            engineers[row], van_stock=_with(engineers[row].van_stock, part, qty)
        )
        object.__setattr__(view, "engineers", tuple(engineers))


def _with(stock: object, part: int, qty: int) -> dict[int, int]:
    out: dict[int, int] = dict(stock)  # type: ignore[call-overload]
    if qty > 0:
        out[part] = qty
    else:
        out.pop(part, None)
    return out


def _closed(world: SimWorld, depot_id: int, now: int) -> bool:
    return any(p.covers(now) for p in world.outages.get(depot_id, ()))


def _absolute_windows(
    world: SimWorld, until_s: int, *, on_call: bool = False
) -> dict[int, tuple[tuple[int, int], ...]]:
    """Every engineer's working windows over the horizon: shifts minus strike periods (his
    on-call shifts instead, when ``on_call``)."""
    start, end = world.epoch - timedelta(days=1), world.epoch + timedelta(seconds=until_s)
    out: dict[int, tuple[tuple[int, int], ...]] = {}
    for e in world.engineers:
        holes = [
            (world.epoch + timedelta(seconds=p.start_s), world.epoch + timedelta(seconds=p.end_s))
            for p in world.strikes.get(e.id, ())
        ]
        pattern = e.on_call if on_call else e.shifts
        if not pattern:
            out[e.id] = ()
            continue
        windows = working_windows(pattern, holes, start=start, end=end, timezone=world.timezone)
        out[e.id] = to_offsets(windows, world.epoch)
    return out
