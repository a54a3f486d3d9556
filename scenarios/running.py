"""Jobs as SimPy processes: hold parts, travel, pick, wait for a shipment, serve, pay.

An engineer works his jobs one after the other (each job waits for his previous one), so a
job that overruns delays his next. Past its planned end the optimizer sees him busy until
the log's end for it (`LiveState.serving`, `optimizer.overrun_ends`: what production's
snapshot reads), and until the real end once the job is done.
Stock moves only through `inventory.stock_rules` (via `LiveState`): held at dispatch,
picked at the depot counter, at the courier's departure or from the van at the fix, and
refilled by orders when the available quantity falls below the reorder point.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import simpy

from inventory.stock_rules import Oversold
from optimizer import (
    Location,
    PartsPlan,
    PartsSource,
    coordinates,
    drive_share,
    point_along,
    sets_off_from,
    travel_at,
)
from scenarios.context import RunContext, local_date_of
from scenarios.costing import Costing, JobCost
from scenarios.demand import DemandTicket
from scenarios.live import OnSite
from scenarios.model import SimAsset
from scenarios.policies import JobPlan
from scenarios.records import JobRecord
from scenarios.returns import Returns

# Given a visit not departed yet, the engineer who holds it and its projected departure and
# arrival with him: another engineer's plan worth the move, or None to keep it
# (`scenarios.simulate` asks the dispatch policy, which asks `optimizer.better_elsewhere`).
# (ticket, record, engineer, departs at, arrives at, behind an overrunning job?)
Alternative = Callable[[DemandTicket, JobRecord, int, int, int, bool], JobPlan | None]


@dataclass(slots=True)
class _Queued:
    """A job waiting behind its engineer's previous one (not departed yet)."""

    t: DemandTicket
    record: JobRecord
    plan: JobPlan
    uses: tuple[tuple[int, int, int], ...]
    planned_s: int  # the service duration it was planned with (`RunContext.planning_s`)
    # it departs when his previous job ends (planned so): one that ends early sends him early
    follows: bool = False
    process: Any = None
    previous: Any = None  # the job it waits for (a job placed before it takes its place)
    done: Any = None
    blockers: list[Any] | None = None  # jobs placed in the gap before it, to wait for


@dataclass(slots=True)
class _Drive:
    """A job on its drive to the site, straight from where he set off (no pickup on the
    way): `optimizer.divert` may stop it and send him to a new ticket first."""

    queued: _Queued
    set_off_from: Location
    departed_at: int
    arrives_at: int
    metres: int


class JobRunner:
    """Starts and runs the jobs of one simulation run.

    With an `alternative` (the optimised policy), visits not departed yet are looked at again
    when the day moves on (issue 16: plans that survive overruns):

    - a queued visit whose engineer is still busy at its planned departure (the job before
      overran, or its drive did): at once when it has a depart clock, and after the grace
      (`redispatch_grace_s`) in any case; it moves to another engineer who keeps every clock
      its plan kept (`optimizer.keeps_what_was_planned`);
    - an engineer comes free with nothing queued (his job may have ended early: the view is
      told at once), and at every retry tick (shift starts): the visits planned to break a
      clock whose deadline is still ahead: they move when another engineer's option costs
      less than the plan's clocks (`optimizer.better_elsewhere`);
    - at every retry tick, the visits behind a job on site past its planned end, pushed
      behind it (`optimizer.retimed`): by the same rule when the pushed times break a
      clock (`review_pushed`; production's tick projects them alike).
    """

    def __init__(
        self, run: RunContext, returns: Returns, alternative: Alternative | None = None
    ) -> None:
        self.run, self.returns, self.alternative = run, returns, alternative
        self.queued: dict[int, list[_Queued]] = {}  # engineer id -> jobs not departed yet
        self.late: dict[int, _Queued] = {}  # ticket id -> queued visit planned to break a clock
        self.driving: dict[int, _Drive] = {}  # engineer id -> his drive a divert may stop
        self.diverted: set[int] = set()  # tickets whose drive was stopped (at most once each)
        self.last_done: dict[int, Any] = {}
        self.on_order: dict[tuple[int, int], int] = {}
        self.costing = Costing(dict(run.world.parts))
        # where each engineer's last job left him, and when it ended (he goes home after
        # his shift if idle, `optimizer.sets_off_from`: the rule dispatch plans with)
        self.actual: dict[int, tuple[Location, int]] = {}
        self.homes = {e.id: e.home for e in run.world.engineers}
        self.engineers = {e.id: e for e in run.world.engineers}
        self.depots = {d.id: d for d in run.world.depots}
        self.assets: dict[int, SimAsset] = {
            a.id: a for assets in run.world.assets_by_site.values() for a in assets
        }

    def start(self, t: DemandTicket, record: JobRecord, plan: JobPlan) -> None:
        """Hold the plan's parts and queue the job behind the engineer's previous one."""
        run = self.run
        uses = []
        held = t.id in run.underway  # shipped at intake: its stock is held already
        for source, part, qty in plan.uses:
            if source > 0 and not held:
                try:
                    run.state.reserve((source, part), qty)
                except Oversold:  # the view lagged behind the stock: ship it instead
                    run.result.reservation_refusals += 1
                    source = -run.world.parts[part].supplier_id
            uses.append((source, part, qty))
        record.engineer_id = plan.engineer_id
        if record.assigned_at is None:  # a re-dispatch is no second response
            record.assigned_at = int(run.env.now)
        record.source = plan.source.value
        record.ships_at = plan.ships_at
        record.callout = plan.callout_cost is not None
        record.callout_cost = Decimal(plan.callout_cost or 0) / 100
        done = run.env.event()
        queue = self.queued.setdefault(plan.engineer_id, [])
        # A job planned in the gap before a later committed visit (`optimizer.free_gap`)
        # goes before it: it waits for what that visit waited for, and the visit waits for it.
        at = next((i for i, q in enumerate(queue) if q.plan.departs_at > plan.departs_at), None)
        follows = False  # a job in a gap sets off at its planned time
        if at is None:
            previous = self.last_done.get(plan.engineer_id)
            free_at = run.state.busy_until(plan.engineer_id, int(run.env.now))
            follows = previous is not None and plan.departs_at <= free_at
            self.last_done[plan.engineer_id] = done
        else:
            later = queue[at]
            previous, later.previous = later.previous, done
            later.blockers = [*(later.blockers or ()), done]
        ready = max(plan.arrives_at, plan.part_arrives_at or 0, int(run.env.now))
        planned = run.planning_s(t)
        run.state.commit(
            plan.engineer_id, ready + planned, run.sites[t.site_id].location,
            start=plan.departs_at, arrives=plan.arrives_at, key=t.id,
        )  # fmt: skip
        record.planned_depart, record.planned_arrival = plan.departs_at, plan.arrives_at
        record.planned_fix = ready + planned
        queued = _Queued(
            t, record, plan, tuple(uses), planned, follows, previous=previous, done=done
        )
        queue.insert(len(queue) if at is None else at, queued)
        if _breaks(record, plan.departs_at, plan.arrives_at):
            self.late[t.id] = queued
        queued.process = run.env.process(self.job(queued, previous, done))
        if self.alternative is not None and previous is not None and not previous.triggered:
            run.env.process(self._watch(queued, previous))

    def job(self, queued: _Queued, previous: Any, done: Any) -> Generator[Any, Any, None]:
        t, record, plan, uses = queued.t, queued.record, queued.plan, queued.uses
        env, run, eid = self.run.env, self.run, plan.engineer_id
        try:
            if previous is not None and not previous.triggered:
                yield previous
            if not queued.follows:
                yield env.timeout(max(0, plan.departs_at - env.now))
            while queued.blockers and (waiting := [b for b in queued.blockers if not b.triggered]):
                yield waiting[0]  # a job placed in the gap before this one ran late
        except simpy.Interrupt:  # handed to another engineer: his chain goes on without it
            run.state.finished(eid, t.id, None)
            if t.id not in run.underway:  # a shipment ordered at intake goes on
                self._release(uses)
            for before in (previous, *(queued.blockers or ())):  # his chain keeps its order
                if before is not None and not before.triggered:
                    yield before
            done.succeed()
            return
        self.queued[eid].remove(queued)
        self.late.pop(t.id, None)
        start = int(env.now)
        here = self._standing(eid, start)
        record.departed_at = start
        run.state.departed(eid, t.id, start)
        van = run.state.van_of[eid]
        site = run.sites[t.site_id].location
        metres = 0
        if plan.source == PartsSource.PICKUP and plan.pickup_depot is not None:
            depot = self.depots[plan.pickup_depot]
            assert depot.location is not None
            seconds, m = self._leg(here, depot.location)
            yield env.timeout(seconds + depot.pick_s)
            metres += m
            here = depot.location
            self._pick(uses, lambda s: s == plan.pickup_depot)
            self.returns.visit(eid, depot.id)  # drops the faulty units he carries
        if (
            plan.source == PartsSource.SHIPMENT
            and plan.ships_at is not None
            and t.id not in run.underway  # ordered at intake: its courier is on its way
        ):
            env.process(self._ship(uses, plan.ships_at, van))
        seconds, m = self._leg(here, site)
        drive = None
        if self._divertable(queued):
            drive = _Drive(queued, here, int(env.now), int(env.now) + seconds, m)
            self.driving[eid] = drive
        try:
            yield env.timeout(seconds)
        except simpy.Interrupt:  # diverted on the road (`divert`): his visit is planned anew
            done.succeed()
            return
        if drive is not None and self.driving.get(eid) is drive:
            del self.driving[eid]
        metres += m
        record.arrived_at = int(env.now)
        if plan.part_arrives_at is not None and plan.part_arrives_at > env.now:
            yield env.timeout(plan.part_arrives_at - env.now)
        policy = run.world.policies[run.sites[t.site_id].policy_id].durations
        run.state.serving(eid, OnSite(
            t.id, int(env.now), queued.planned_s, t.type_id, t.planned_service_s, policy
        ))  # fmt: skip
        yield env.timeout(t.service_s)
        record.fixed_at = int(env.now)
        run.durations.add(t.type_id, t.planned_service_s, t.service_s)  # the log learns it
        self._pick(uses, lambda s: s == van)
        self.actual[eid] = (site, int(env.now))
        self._close(t, record, uses, eid, start, metres)
        done.succeed()

    def _standing(self, eid: int, start: int) -> Location:
        """Where he really sets off from at `start`: the site of his last job when he goes
        on from it at once or within its shift; home once he was idle past the shift's end
        (`optimizer.sets_off_from`: the rule the view, production's snapshot and
        `optimizer.recommend` plan with)."""
        last = self.actual.get(eid)
        if last is None:
            return self.homes[eid]
        site, since = last
        return sets_off_from(site, since, self.homes[eid], self.run.state.windows[eid], start)

    def _watch(self, queued: _Queued, previous: Any) -> Generator[Any, Any, None]:
        """At its planned departure (and again after the grace), a visit whose engineer is
        still busy (his previous job overran, or its drive did) moves to another engineer
        who keeps what its plan kept; a depart clock is looked at the moment it is due."""
        run, plan = self.run, queued.plan
        grace = run.params.redispatch_grace_s or 0
        yield run.env.timeout(max(0, plan.departs_at - run.now))
        for step in (0, grace) if grace else (0,):
            yield run.env.timeout(step)
            if previous.triggered or queued not in self.queued.get(plan.engineer_id, ()):
                return
            if step == 0 and queued.record.depart_by is None:
                continue  # an arrival clock can wait for the grace
            move = self.alternative(
                queued.t, queued.record, plan.engineer_id, plan.departs_at, plan.arrives_at, True
            ) if self.alternative is not None else None  # fmt: skip
            if move is not None:
                self._hand_over(queued, plan.engineer_id, move)
                return

    def review_late(self, free: int | None = None) -> None:
        """Visits planned to break a clock still ahead: may another engineer keep it?

        `free`: the engineer who just came free (only the visits he is qualified for);
        None: every such visit (a retry tick, when shifts start).
        """
        now = self.run.now
        for q in list(self.late.values()):
            if q.t.id not in self.late or not _ahead(q.record, now):
                continue
            eid = q.plan.engineer_id
            if free is not None and (
                free == eid or self.engineers[free].skills.get(q.t.line, 0) < q.t.level
            ):
                continue
            self._move(q, eid, *self._projected(q, now))
        if free is None:
            self.review_pushed()

    def review_pushed(self) -> None:
        """Visits behind a job on site past its planned end, projected behind it as the log
        reads it (`LiveState.projected`, `optimizer.retimed`): one whose pushed departure or
        arrival breaks its clock moves when another engineer's option costs less than the
        plan's clocks (`optimizer.better_elsewhere`), as production's re-dispatch tick asks
        every visit with its pushed times (`dispatch.redispatch.review`)."""
        run, now = self.run, self.run.now
        for eid, job in list(run.state.on_site.items()):
            if job.started_at + job.planned_s >= now:
                continue  # within its plan: nothing pushed
            for q in list(self.queued.get(eid, ())):
                if q in self.queued.get(eid, ()) and _ahead(q.record, now):
                    self._move(q, eid, *self._projected(q, now))

    def _projected(self, q: _Queued, now: int) -> tuple[int, int]:
        """A queued visit's departure and arrival as now expected: behind the work before
        it (`optimizer.retimed`), and not before now (he has not set off)."""
        eid = q.plan.engineer_id
        leg = self.run.state.projected(eid, now).get(q.t.id)
        departs, arrives = (
            (q.plan.departs_at, q.plan.arrives_at) if leg is None else (leg.departs, leg.arrives)
        )
        depart = max(departs, now)
        return depart, depart + arrives - departs

    def _move(self, q: _Queued, eid: int, depart: int, arrive: int) -> bool:
        """Hand a queued visit to another engineer when the policy finds one worth it."""
        if self.alternative is None or not _breaks(q.record, depart, arrive):
            return False
        plan = self.alternative(q.t, q.record, eid, depart, arrive, False)
        if plan is None:
            return False
        self._hand_over(q, eid, plan)
        return True

    def holders(self) -> list[int]:
        """The engineers with a visit not departed yet."""
        return [eid for eid, queue in self.queued.items() if queue]

    def next_visit(self, eid: int) -> tuple[DemandTicket, int, int]:
        """His next visit not departed: its ticket, projected departure and arrival."""
        q = self.queued[eid][0]
        return (q.t, *self._projected(q, self.run.now))

    def make_room(
        self, eid: int, moved: JobPlan, t: DemandTicket, record: JobRecord, plan: JobPlan
    ) -> None:
        """His next visit goes to another engineer (`moved`) and the new ticket to him
        (`plan`): `optimizer.make_room`'s answer. Counted as a re-dispatch."""
        q = self.queued[eid][0]
        self._hand_over(q, eid, moved)
        self.run.state.released(eid, q.t.id, self.run.now)
        self.start(t, record, plan)

    def _divertable(self, q: _Queued) -> bool:
        """A drive `divert` may stop: straight to the site (no depot on the way, no
        shipment his departure ordered), and never a visit diverted once already (so two
        new tickets cannot hand a visit back and forth)."""
        source = q.plan.source
        shipped = source == PartsSource.SHIPMENT and q.t.id in self.run.underway
        return q.t.id not in self.diverted and (
            source in (PartsSource.NONE, PartsSource.VAN) or shipped
        )

    def drivers(self) -> list[tuple[int, DemandTicket, Location, int, int]]:
        """The engineers driving to a visit a divert may stop, with nothing committed after
        it: engineer, its ticket, where and when he set off, when he is expected there."""
        return [
            (eid, d.queued.t, d.set_off_from, d.departed_at, d.arrives_at)
            for eid, d in self.driving.items()
            if not self.queued.get(eid)
        ]

    def divert(
        self, eid: int, t: DemandTicket, record: JobRecord, plan: JobPlan, moved: JobPlan
    ) -> None:
        """`optimizer.divert`'s answer: his drive stops where he is now (the km driven are
        his), the new ticket goes to him (`plan`) and his visit is planned anew (`moved`:
        with him after the new job, or with a colleague). Counted as a diversion, and as a
        re-dispatch when a colleague takes the visit."""
        run, now = self.run, self.run.now
        drive = self.driving.pop(eid)
        q = drive.queued
        share = drive_share(drive.departed_at, drive.arrives_at, now)
        at = point_along(drive.set_off_from, run.sites[q.t.site_id].location, share)
        # the drive so far was his work: its km and time (not overtime: a job's is tallied
        # when it is done, from its departure)
        tally = run.result.engineers[eid]
        tally.travel_m += round(drive.metres * share)
        tally.busy_s += now - drive.departed_at
        if q.t.id not in run.underway:  # a shipment ordered at intake goes on
            self._release(q.uses)
        self.late.pop(q.t.id, None)
        q.process.interrupt("diverted")
        q.record.departed_at, q.record.diverted = None, True  # it departs anew
        self.diverted.add(q.t.id)
        run.state.diverted(eid, q.t.id, at, now)
        self.actual[eid] = (at, now)
        run.result.diverted += 1
        if moved.engineer_id != eid:
            run.result.redispatched += 1
        self.start(t, record, plan)
        self.start(q.t, q.record, moved)

    def _hand_over(self, q: _Queued, eid: int, plan: JobPlan) -> None:
        self.queued[eid].remove(q)
        self.late.pop(q.t.id, None)
        q.process.interrupt("re-dispatched")
        self.run.result.redispatched += 1
        self.start(q.t, q.record, plan)

    def _release(self, uses: tuple[tuple[int, int, int], ...]) -> None:
        for source, part, qty in uses:
            if source > 0:
                self.run.state.release((source, part), qty)

    def _leg(self, a: Any, b: Any) -> tuple[int, int]:
        travel = travel_at(self.run.travel, self.run.world.epoch + timedelta(seconds=self.run.now))
        seconds, metres = travel.matrix(coordinates([a]), coordinates([b]))
        return int(seconds[0, 0]), int(metres[0, 0])

    def _pick(self, uses: tuple[tuple[int, int, int], ...], which: Any) -> None:
        for source, part, qty in uses:
            if source > 0 and which(source):
                self.run.state.pick((source, part), qty)
                self._reorder(source, part)

    def ship_at_intake(self, t: DemandTicket, record: JobRecord, parts: PartsPlan) -> bool:
        """Order the ticket's shipment now (`optimizer.ship_at_intake` chose it): hold a
        depot's units at once, picked when the courier leaves. False: the view lagged behind
        the stock (a hold refused), so dispatch sources the parts later."""
        run = self.run
        if parts.depot_id is not None:
            held: list[tuple[tuple[int, int], int]] = []
            for use in parts.uses:
                try:
                    run.state.reserve((parts.depot_id, use.part_id), use.qty)
                except Oversold:
                    for key, qty in held:
                        run.state.release(key, qty)
                    run.result.reservation_refusals += 1
                    return False
                held.append(((parts.depot_id, use.part_id), use.qty))
        source = parts.depot_id if parts.depot_id is not None else -(parts.supplier_id or 0)
        uses = tuple((source, u.part_id, u.qty) for u in parts.uses)
        run.underway[t.id] = parts
        record.source, record.ships_at = PartsSource.SHIPMENT.value, parts.ships_at
        record.shipped_at_intake = True
        run.env.process(self._ship(uses, parts.ships_at or run.now, None))
        return True

    def _ship(
        self, uses: tuple[tuple[int, int, int], ...], at: int, van: int | None
    ) -> Generator[Any, Any, None]:
        yield self.run.env.timeout(max(0, at - self.run.env.now))
        self._pick(uses, lambda s: s > 0 and s != van)

    def _reorder(self, depot_id: int, part: int) -> None:
        """Below the reorder point: a van gets a transfer, a depot orders from the supplier."""
        run, key = self.run, (depot_id, part)
        point = run.world.reorder_points.get(key, 1)
        ordered = self.on_order.get(key, 0)
        pipeline = ordered + self.returns.repairing.get(key, 0)  # repaired units come back too
        if run.state.available(key) + pipeline >= point:
            return
        qty = 2 * point - run.state.available(key) - pipeline
        lead = self._transfer(depot_id, part, qty)
        if lead is None:
            supplier = run.world.parts[part].supplier_id
            lead = run.world.supplier_lead_s.get(supplier, run.world.restock.unsourced_lead_s)
        self.on_order[key] = ordered + qty
        run.env.process(self._receive(key, qty, lead))

    def _transfer(self, depot_id: int, part: int, qty: int) -> int | None:
        """Refill a van from a depot of its region that has the units (None: not a van)."""
        run = self.run
        van = self.depots.get(depot_id)
        if van is None or van.location is not None:
            return None
        for depot in run.world.depots:
            key = (depot.id, part)
            if (
                depot.region_id == van.region_id
                and depot.location is not None
                and (run.state.available(key) >= qty)
            ):
                run.state.reserve(key, qty)
                run.state.pick(key, qty)
                self._reorder(depot.id, part)
                return run.world.restock.van_refill_s
        return None

    def _receive(self, key: tuple[int, int], qty: int, lead: int) -> Generator[Any, Any, None]:
        yield self.run.env.timeout(lead)
        self.on_order[key] -= qty
        self.run.state.receive(key, qty)

    def _close(
        self,
        t: DemandTicket,
        record: JobRecord,
        uses: tuple[tuple[int, int, int], ...],
        eid: int,
        start: int,
        metres: int,
    ) -> None:
        """Tally time, overtime, km and the job's cost; tell the optimizer he is free."""
        run = self.run
        end = int(run.env.now)
        windows = run.state.windows[eid]
        i = bisect.bisect_right(windows, (start, 1 << 62)) - 1
        shift_end = windows[i][1] if i >= 0 else start
        record.overtime_s = max(0, end - max(start, shift_end))
        record.travel_m = metres
        tally = run.result.engineers[eid]
        tally.busy_s += end - start
        tally.overtime_s += record.overtime_s
        tally.travel_m += metres
        engineer = self.engineers[eid]
        km = Decimal(metres) / 1000
        record.travel_cost = (engineer.cost_per_km * km).quantize(Decimal("0.01"))
        record.loaner = record.fix_by is not None and end > record.fix_by
        self._cost(t, record, uses, km)
        run.state.finished(eid, t.id, run.sites[t.site_id].location, since=end, start=start)
        if self.last_done.get(eid) is not None and run.state.free_at[eid] < end:
            run.state.commit(eid, end, run.sites[t.site_id].location, start=start)
        elif self.alternative is not None and not self.queued.get(eid):
            if run.state.free_at[eid] > end:  # done early, nothing queued: he is free now
                run.state.commit(eid, end, run.sites[t.site_id].location, start=start)
            self.review_late(eid)

    def _cost(
        self,
        t: DemandTicket,
        record: JobRecord,
        uses: tuple[tuple[int, int, int], ...],
        km: Decimal,
    ) -> None:
        run = self.run
        asset = self.assets[t.asset_id]
        policy = run.world.policies[run.sites[t.site_id].policy_id]
        fitted = [(line, part) for line, (_, part, _) in zip(t.parts, uses, strict=False)]
        cost = self.costing.job(
            asset, policy, fitted, t.cause, fixed_on=local_date_of(run.world, int(run.env.now)),
            travel_km=km,
        )  # fmt: skip
        record.parts_cost, record.warranty_cost = cost.parts_cost, cost.warranty_cost
        record.charged = cost.charged
        self._send_back(t, record, cost)

    def _send_back(self, t: DemandTicket, record: JobRecord, cost: JobCost) -> None:
        """A fix is done: its faulty units start back (all swaps, or warranty ones only)."""
        if record.engineer_id is None:
            return
        policy = self.run.world.returns
        faulty = cost.under_warranty if policy.warranty_only else cost.swapped
        self.returns.swapped(record.engineer_id, t.site_id, t.id, list(faulty))


def _breaks(record: JobRecord, depart: int, arrive: int) -> bool:
    """A visit departing and arriving then breaks its depart or arrival clock."""
    return (record.depart_by is not None and depart > record.depart_by) or (
        record.arrive_by is not None and arrive > record.arrive_by
    )


def _ahead(record: JobRecord, now: int) -> bool:
    """Some clock a move could still keep: its deadline is not past."""
    return any(at is not None and at > now for at in (record.depart_by, record.arrive_by))
