"""The discrete-event simulation (SimPy): tickets arrive, a policy dispatches, jobs run.

Processes: the ticket source, one process per job (travel, pick, wait for parts, service),
a retry loop for tickets nobody could take yet, replenishment orders (supplier lead times,
depot-to-van transfers), returned faulty parts (`scenarios.returns`), a daily sampler, view
invalidation at outage/strike boundaries and, optionally, a periodic batch re-plan
(`scenarios.replan`). Loaners are priced once the run ends (`costing.loaner_cost`). The
run stops at the horizon plus a drain period (no new tickets) so late jobs finish; Ctrl-C
(KeyboardInterrupt) stops it between steps and returns what was recorded, marked partial.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import simpy

from optimizer import GeodesicTravelTimes, PartsSource, RoadModel, TravelTimes, coordinates
from scenarios.costing import JobCost, loaner_cost
from scenarios.demand import DemandTicket
from scenarios.live import LiveState
from scenarios.model import SimWorld, severity_class
from scenarios.policies import NaiveDispatcher, deadlines_of, decide_optimised, optimizer_ticket
from scenarios.records import DepotTally, EngineerTally, JobRecord, RunResult
from scenarios.returns import Returns
from scenarios.running import JobRunner

DAY_S = 86_400
DRAIN_S = 2 * DAY_S
STEP_S = 3_600  # the run loop hands control back (progress, Ctrl-C) every simulated hour
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class RunParams:
    """One run: which variant, policy and replication, over which horizon."""

    variant: str
    policy: str
    replication: int
    horizon_s: int
    retry_s: int = 900
    replan_every_s: int | None = None
    drain_s: int = DRAIN_S


def travel_for(world: SimWorld) -> TravelTimes:
    """The production travel model, with every speed band scaled by the what-if factor."""
    road = RoadModel()
    if world.travel_speed != 1.0:
        bands = tuple((limit, kmh * world.travel_speed) for limit, kmh in road.bands)
        road = RoadModel(road.circuity, bands)
    return GeodesicTravelTimes(road)


def simulate(
    world: SimWorld,
    tickets: Sequence[DemandTicket],
    params: RunParams,
    *,
    progress: Progress | None = None,
) -> RunResult:
    """Run one variant under one policy on a ticket stream; deterministic for its inputs."""
    started = time.perf_counter()
    run = _Run(world, params)
    env = run.env
    env.process(run.arrivals(tickets))
    env.process(run.retry_loop())
    env.process(run.daily())
    for at in run.boundaries():
        env.process(run.invalidate_at(at))
    if params.replan_every_s is not None:
        from scenarios.replan import replan_loop

        env.process(replan_loop(run, params.replan_every_s))
    end = params.horizon_s + params.drain_s
    try:
        while env.now < end:
            env.run(until=min(end, env.now + STEP_S))
            if progress is not None:
                progress(int(env.now))
    except KeyboardInterrupt:
        run.result.partial = True
    run.result.reached_s = int(env.now)
    _price_loaners(world, run.result)
    run.result.wall_s = time.perf_counter() - started
    return run.result


class _Run:
    """The state of one run and its SimPy processes."""

    def __init__(self, world: SimWorld, params: RunParams) -> None:
        self.world, self.params = world, params
        self.env = simpy.Environment()
        self.state = LiveState(world, params.horizon_s + params.drain_s)
        self.travel = travel_for(world)
        self.sites = {s.id: s for s in world.sites}
        self.naive = NaiveDispatcher(world, self.state, self.travel)
        self.waiting: list[tuple[DemandTicket, JobRecord]] = []
        self.result = RunResult(
            params.variant, params.policy, params.replication, params.horizon_s, [],
            _depot_tallies(world), _engineer_tallies(world, self.state, params.horizon_s), [],
        )  # fmt: skip
        self.jobs = JobRunner(self)
        self.returns = Returns(
            self.env, self.state, self.result.returns, policy=world.returns,
            replication=params.replication, nearest_depot=self.nearest_depot,
        )  # fmt: skip
        self._nearest: dict[int, int | None] = {}

    # -- processes ---------------------------------------------------------------------
    def arrivals(self, tickets: Sequence[DemandTicket]) -> Generator[Any, Any, None]:
        for t in tickets:
            if t.at_s >= self.params.horizon_s:
                break
            yield self.env.timeout(t.at_s - self.env.now)
            self.intake(t)

    def retry_loop(self) -> Generator[Any, Any, None]:
        """Every `retry_s`, waiting tickets in arrival order (first come, first served)."""
        while True:
            yield self.env.timeout(self.params.retry_s)
            still = []
            for t, record in self.waiting:
                if not self.dispatch(t, record):
                    still.append((t, record))
            self.waiting = still

    def daily(self) -> Generator[Any, Any, None]:
        """Sample the inventory value once a simulated day."""
        while True:
            self.result.inventory_value.append(self.inventory_value())
            yield self.env.timeout(DAY_S)

    def invalidate_at(self, at: int) -> Generator[Any, Any, None]:
        yield self.env.timeout(at)
        self.state.invalidate()

    def boundaries(self) -> list[int]:
        periods = [*self.world.outages.values(), *self.world.strikes.values()]
        return sorted({t for ps in periods for p in ps for t in (p.start_s, p.end_s) if t > 0})

    # -- intake and dispatch ------------------------------------------------------------
    def intake(self, t: DemandTicket) -> None:
        site = self.sites[t.site_id]
        d = deadlines_of(self.world, site, t)
        rank = self.world.policies[site.policy_id].by_rank(t.rank).rank
        record = JobRecord(
            t.id, self.world.regions[t.region_id], severity_class(rank), t.at_s,
            d.arrive_by, d.fix_by, bool(t.parts),
            ship_within_s=d.ship_within_s, swap_within_s=d.swap_within_s,
            respond_by=d.respond_by, depart_by=d.depart_by,
        )  # fmt: skip
        self.result.jobs.append(record)
        self.count_depot_request(t)
        if not self.dispatch(t, record):
            self.waiting.append((t, record))

    def dispatch(self, t: DemandTicket, record: JobRecord) -> bool:
        """Ask the policy; on a plan, hold the parts and start the job. False: wait."""
        now = int(self.env.now)
        site = self.sites[t.site_id]
        if self.params.policy == "naive":
            plan = self.naive.decide(t, site, now)
        else:
            d = deadlines_of(self.world, site, t)
            ticket = optimizer_ticket(self.world, site, t, d)
            plan = decide_optimised(
                self.state, ticket, now=now, travel=self.travel, ship_within_s=d.ship_within_s
            )
        if plan is None:
            return False
        self.jobs.start(t, record, plan)
        return True

    def fixed(self, t: DemandTicket, record: JobRecord, cost: JobCost) -> None:
        """A fix is done: its faulty units start back (all swaps, or warranty ones only)."""
        if record.engineer_id is None:
            return
        policy = self.world.returns
        faulty = cost.under_warranty if policy.warranty_only else cost.swapped
        self.returns.swapped(record.engineer_id, t.site_id, t.id, list(faulty))

    def count_depot_request(self, t: DemandTicket) -> None:
        """Fill rate: did the depot nearest to the site have the part at the request?"""
        if not t.parts:
            return
        depot = self.nearest_depot(t.site_id)
        if depot is None:
            return
        tally = self.result.depots[depot]
        for part in t.parts:
            tally.requests += 1
            if self.state.available((depot, part)) >= 1:
                tally.filled += 1
            else:
                tally.stockout_days.add(int(self.env.now) // DAY_S)

    def nearest_depot(self, site_id: int) -> int | None:
        if site_id not in self._nearest:
            depots = [d for d in self.world.depots if d.location is not None]
            if not depots:
                self._nearest[site_id] = None
            else:
                xy = coordinates([d.location for d in depots if d.location is not None])
                here = coordinates([self.sites[site_id].location])
                seconds, _ = self.travel.many_to_one(xy, here)
                self._nearest[site_id] = depots[int(seconds.argmin())].id
        return self._nearest[site_id]

    def inventory_value(self) -> Decimal:
        total = Decimal(0)
        for rows in self.state.balances.values():
            for part, balance in rows.items():
                total += self.world.parts[part].cost_price * balance.on_hand
        return total


def _price_loaners(world: SimWorld, result: RunResult) -> None:
    """Each loan at the scenario's rates: no effect on the run, so priced after it.

    A ticket still not fixed when the run ends but past its fix deadline has a loaner out
    too: counted, and priced up to the end of the run.
    """
    end = result.reached_s
    for job in result.jobs:
        if job.fix_by is None:
            continue
        if job.fixed_at is None and job.fix_by < end:
            job.loaner = True
        if job.loaner:
            until = end if job.fixed_at is None else job.fixed_at
            job.loaner_cost = loaner_cost(world.loaners, fix_by=job.fix_by, fixed_at=until)


def _depot_tallies(world: SimWorld) -> dict[int, DepotTally]:
    return {
        d.id: DepotTally(d.code, world.regions.get(d.region_id, "?"))
        for d in world.depots
        if d.location is not None
    }


def _engineer_tallies(
    world: SimWorld, state: LiveState, horizon_s: int
) -> dict[int, EngineerTally]:
    out = {}
    for e in world.engineers:
        shift = sum(max(0, min(b, horizon_s) - max(a, 0)) for a, b in state.windows[e.id])
        out[e.id] = EngineerTally(world.regions.get(e.region_id, "?"), shift_s=shift)
    return out


def local_date_of(world: SimWorld, at: int) -> Any:
    """The calendar date of an offset in the contract time zone (warranty dates)."""
    return (world.epoch + timedelta(seconds=at)).date()


__all__ = ["PartsSource", "RunParams", "local_date_of", "simulate", "travel_for"]
