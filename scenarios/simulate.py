"""The discrete-event simulation (SimPy): tickets arrive, a policy dispatches, jobs run.

Processes: the ticket source, one process per job (travel, pick, wait for parts, service),
a retry loop for tickets nobody could take yet, replenishment orders (supplier lead times,
depot-to-van transfers), returned faulty parts (`scenarios.returns`), a daily sampler, view
invalidation at outage/strike boundaries and, optionally, a periodic batch re-plan
(`scenarios.replan`). Loaners are priced once the run ends (`costing.loaner_cost`). The
run stops at the horizon plus a drain period (no new tickets) so late jobs finish; Ctrl-C
(KeyboardInterrupt) stops it between steps and returns what was recorded, marked partial.

Imports point one way (an import-linter contract): this module builds the shared
`RunContext` (`scenarios.context`) and wires the dispatch desk, the job runner
(`scenarios.running`) and the re-plan (`scenarios.replan`) around it; they never import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from decimal import Decimal
from typing import Any

from optimizer import Driving, Held, Option, PartsSource, Ticket, ship_at_intake, wants_room
from scenarios.bounds import Staff, swap_unkeepable, unkeepable
from scenarios.context import (
    DAY_S,
    DRAIN_S,
    RunContext,
    RunParams,
    local_date_of,
    travel_for,
)
from scenarios.costing import loaner_cost
from scenarios.demand import DemandTicket
from scenarios.model import SimWorld, severity_class
from scenarios.policies import (
    Deadlines,
    JobPlan,
    NaiveDispatcher,
    best_optimised,
    deadlines_of,
    divert_optimised,
    job_plan,
    optimizer_ticket,
    redispatch_optimised,
    room_optimised,
)
from scenarios.records import JobRecord, RunResult
from scenarios.replan import replan_loop
from scenarios.returns import Returns
from scenarios.running import JobRunner

STEP_S = 3_600  # the run loop hands control back (progress, Ctrl-C) every simulated hour
Progress = Callable[[int], None]


def simulate(
    world: SimWorld,
    tickets: Sequence[DemandTicket],
    params: RunParams,
    *,
    progress: Progress | None = None,
) -> RunResult:
    """Run one variant under one policy on a ticket stream; deterministic for its inputs."""
    started = time.perf_counter()
    run = RunContext.start(world, params)
    returns = Returns(
        run.env, run.state, run.result.returns, policy=world.returns,
        replication=params.replication, nearest_depot=run.nearest_depot,
    )  # fmt: skip
    jobs = JobRunner(run, returns)
    desk = _Desk(run, jobs)
    if params.redispatch_grace_s is not None and params.policy == "optimised":
        jobs.alternative = desk.alternative
    env = run.env
    env.process(desk.arrivals(tickets))
    env.process(desk.retry_loop())
    env.process(_daily(run))
    for at in _boundaries(world):
        env.process(_invalidate_at(run, at))
    if params.replan_every_s is not None:
        env.process(replan_loop(run, jobs, params.replan_every_s))
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


class _Desk:
    """The dispatch desk: takes tickets in, asks the policy, queues who must wait."""

    def __init__(self, run: RunContext, jobs: JobRunner) -> None:
        self.run, self.jobs = run, jobs
        lawful = run.params.policy != "naive_unlimited"
        self.naive = NaiveDispatcher(run.world, run.state, run.travel, lawful=lawful)
        self.staff = Staff.of(run.world, run.state.windows, run.state.on_call_windows)

    def arrivals(self, tickets: Sequence[DemandTicket]) -> Generator[Any, Any, None]:
        run = self.run
        for t in tickets:
            if t.at_s >= run.params.horizon_s:
                break
            yield run.env.timeout(t.at_s - run.env.now)
            self.intake(t)

    def retry_loop(self) -> Generator[Any, Any, None]:
        """Every `retry_s`, waiting tickets in arrival order (first come, first served)."""
        run = self.run
        while True:
            yield run.env.timeout(run.params.retry_s)
            still = []
            for t, record in run.waiting:
                if not self.dispatch(t, record):
                    still.append((t, record))
            run.waiting[:] = still
            if self.jobs.alternative is not None:
                self.jobs.review_late()

    def alternative(
        self, t: DemandTicket, record: JobRecord, busy: int, departs_at: int, arrives_at: int,
        overrun: bool,
    ) -> JobPlan | None:  # fmt: skip
        """Another engineer worth moving a visit not departed yet to (`optimizer.reassign`)."""
        run = self.run
        site = run.sites[t.site_id]
        d = deadlines_of(run.world, site, t)
        ticket = self._ticket(t, d)
        return redispatch_optimised(
            run.state, ticket, now=run.now, travel=run.travel,
            ship_within_s=d.ship_within_s, busy=busy, departs_at=departs_at,
            arrives_at=arrives_at, overrun=overrun,
        )  # fmt: skip

    def intake(self, t: DemandTicket) -> None:
        run = self.run
        site = run.sites[t.site_id]
        d = deadlines_of(run.world, site, t)
        rank = run.world.policies[site.policy_id].by_rank(t.rank).rank
        record = JobRecord(
            t.id, run.world.regions[t.region_id], severity_class(rank), t.at_s,
            d.arrive_by, d.fix_by, bool(t.parts),
            ship_within_s=d.ship_within_s, swap_within_s=d.swap_within_s,
            respond_by=d.respond_by, depart_by=d.depart_by,
        )  # fmt: skip
        run.state.settle(run.now)  # who went home since: stock in reach counts vans there
        planned_s = run.planning_s(t)  # the duration dispatch plans with: bounds and plan agree
        record.bounds = unkeepable(
            self.staff, run.world, run.travel, t, site, d, service_s=planned_s
        )
        if t.parts:
            record.swap_due = run.stock_in_reach(t.site_id, t.parts, d.swap_within_s)
            if record.swap_due:
                record.bounds["swap"] = swap_unkeepable(
                    self.staff, run.world, run.travel, t, site, run.stock_holders(t.parts),
                    deadline=t.at_s + d.swap_within_s, service_s=planned_s,
                )  # fmt: skip
        run.result.jobs.append(record)
        _count_depot_request(run, t)
        if t.parts:
            self._ship_at_intake(t, record, d)
        if not self.dispatch(t, record, intake=True):
            run.waiting.append((t, record))

    def _ticket(self, t: DemandTicket, d: Deadlines) -> Ticket:
        """The optimizer's ticket, with its planning duration and its parts under way."""
        run = self.run
        return optimizer_ticket(
            run.world, run.sites[t.site_id], t, d, service_s=run.planning_s(t),
            underway=run.underway.get(t.id),
        )  # fmt: skip

    def _ship_at_intake(self, t: DemandTicket, record: JobRecord, d: Deadlines) -> None:
        """Production's intake rule (`optimizer.ship_at_intake`), for every policy: parts
        not swappable from stock in reach are shipped now, not when a visit is planned."""
        run = self.run
        parts = ship_at_intake(
            run.state.view(run.now), self._ticket(t, d), now=run.now, travel=run.travel,
            ship_within_s=d.ship_within_s,
        )  # fmt: skip
        if parts is not None:
            self.jobs.ship_at_intake(t, record, parts)

    def dispatch(self, t: DemandTicket, record: JobRecord, *, intake: bool = False) -> bool:
        """Ask the policy; on a plan, hold the parts and start the job. False: wait.

        At `intake` only, the optimised desk may also divert an engineer from the road
        (`_divert`): once per new ticket, so diversions cannot chain on retries."""
        run = self.run
        now = run.now
        site = run.sites[t.site_id]
        run.state.settle(now)  # the naive scan reads positions directly
        if run.params.policy in ("naive", "naive_unlimited"):
            plan = self.naive.decide(
                t, site, now, service_s=run.planning_s(t), underway=run.underway.get(t.id)
            )
        else:
            d = deadlines_of(run.world, site, t)
            ticket = self._ticket(t, d)
            best = best_optimised(
                run.state, ticket, now=now, travel=run.travel, ship_within_s=d.ship_within_s
            )
            if wants_room(ticket, best) and (
                self._make_room(t, record, ticket, best, d)
                or (intake and self._divert(t, record, ticket, best, d))
            ):
                return True
            plan = None if best is None else job_plan(run.state, best)
        if plan is None:
            return False
        self.jobs.start(t, record, plan)
        return True

    def _make_room(
        self, t: DemandTicket, record: JobRecord, ticket: Ticket, best: Option | None,
        d: Deadlines,
    ) -> bool:  # fmt: skip
        """Keep the new ticket's arrival by moving a nearby engineer's next visit to a
        colleague who keeps it (`optimizer.make_room`); False: no such move."""
        run = self.run
        limit = run.world.policies[run.sites[t.site_id].policy_id].make_room_engineers
        if not run.params.make_room or not limit or self.jobs.alternative is None:
            return False

        def held(eid: int) -> Held:
            v, departs, arrives = self.jobs.next_visit(eid)
            dv = deadlines_of(run.world, run.sites[v.site_id], v)
            return Held(eid, self._ticket(v, dv), departs, arrives)

        room = room_optimised(
            run.state, ticket, best, held, holders=self.jobs.holders(), now=run.now,
            travel=run.travel, ship_within_s=d.ship_within_s, limit=limit,
        )  # fmt: skip
        if room is None:
            return False
        plan, moved, move = room
        self.jobs.make_room(moved.engineer_id, move, t, record, plan)
        return True

    def _divert(
        self, t: DemandTicket, record: JobRecord, ticket: Ticket, best: Option | None,
        d: Deadlines,
    ) -> bool:  # fmt: skip
        """Keep the new ticket's arrival by sending a nearby engineer who is driving to a
        visit to it first, his visit kept by him after it or by a colleague
        (`optimizer.divert`); False: no such diversion."""
        run = self.run
        limit = run.world.policies[run.sites[t.site_id].policy_id].divert_engineers
        if not run.params.divert or not limit or self.jobs.alternative is None:
            return False
        skills = {e.id: e.skills for e in run.world.engineers}
        driving = []
        for eid, v, set_off, departed, arrives in self.jobs.drivers():
            if skills[eid].get(t.line, 0) < t.level:
                continue
            dv = deadlines_of(run.world, run.sites[v.site_id], v)
            driving.append(Driving(eid, self._ticket(v, dv), set_off, departed, arrives))
        got = divert_optimised(
            run.state, ticket, best, driving, now=run.now, travel=run.travel,
            ship_within_s=d.ship_within_s, limit=limit,
        )  # fmt: skip
        if got is None:
            return False
        plan, drive, moved = got
        self.jobs.divert(drive.engineer_id, t, record, plan, moved)
        return True


def _daily(run: RunContext) -> Generator[Any, Any, None]:
    """Sample the inventory value once a simulated day."""
    while True:
        run.result.inventory_value.append(_inventory_value(run))
        yield run.env.timeout(DAY_S)


def _invalidate_at(run: RunContext, at: int) -> Generator[Any, Any, None]:
    yield run.env.timeout(at)
    run.state.invalidate()


def _boundaries(world: SimWorld) -> list[int]:
    """When an outage or strike starts or ends: the optimizer's view must be rebuilt."""
    periods = [*world.outages.values(), *world.strikes.values()]
    return sorted({t for ps in periods for p in ps for t in (p.start_s, p.end_s) if t > 0})


def _count_depot_request(run: RunContext, t: DemandTicket) -> None:
    """Fill rate: did the depot nearest to the site have the part at the request?"""
    if not t.parts:
        return
    depot = run.nearest_depot(t.site_id)
    if depot is None:
        return
    tally = run.result.depots[depot]
    for part in t.parts:
        tally.requests += 1
        if run.state.available((depot, part)) >= 1:
            tally.filled += 1
        else:
            tally.stockout_days.add(run.now // DAY_S)


def _inventory_value(run: RunContext) -> Decimal:
    total = Decimal(0)
    for rows in run.state.balances.values():
        for part, balance in rows.items():
            total += run.world.parts[part].cost_price * balance.on_hand
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


__all__ = [
    "DRAIN_S",
    "STEP_S",
    "PartsSource",
    "RunParams",
    "local_date_of",
    "simulate",
    "travel_for",
]
