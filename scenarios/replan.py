"""The periodic batch re-plan: every N minutes, `optimizer.plan` over the backlog.

The backlog is every ticket the fast path could not place yet (nobody qualified free in
reach). The re-plan is production's route planner on the live view, greedy construction
only (`time_limit_ms=0`: deterministic, no child process); each planned visit becomes a job
of its route's engineer, with the plan's pickups or shipments, and each call-out the plan
chose (`optimizer.callout`, an on-call engineer woken) a job of that engineer. Its wall
time is kept apart (`RunResult.replan_wall_s`) so the benchmark can report its extra cost.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

from optimizer import PartsSource, PlanParams, Route, StopKind, plan
from scenarios.context import RunContext
from scenarios.policies import JobPlan, deadlines_of, job_plan, optimizer_ticket
from scenarios.running import JobRunner

PARAMS = PlanParams(time_limit_ms=0)


def replan_loop(run: RunContext, jobs: JobRunner, every_s: int) -> Generator[Any, Any, None]:
    """Re-plan the backlog every `every_s` seconds of simulated time; `jobs` runs the visits."""
    while True:
        yield run.env.timeout(every_s)
        if run.waiting:
            started = time.perf_counter()
            _replan(run, jobs)
            run.result.replan_wall_s += time.perf_counter() - started


def _replan(run: RunContext, jobs: JobRunner) -> None:
    now = int(run.env.now)
    by_id = {t.id: (t, record) for t, record in run.waiting}
    tickets = []
    for t, _ in run.waiting:
        site = run.sites[t.site_id]
        d = deadlines_of(run.world, site, t)
        tickets.append(
            optimizer_ticket(
                run.world, site, t, d, service_s=run.planning_s(t), underway=run.underway.get(t.id)
            )
        )
    result = plan(run.state.view(now), tickets, now=now, travel=run.travel, params=PARAMS)
    placed = set()
    for ticket_id, option in result.callouts:  # on-call engineers woken (optimizer.callout)
        t, record = by_id[ticket_id]
        jobs.start(t, record, job_plan(run.state, option))
        placed.add(ticket_id)
    for route in result.routes:
        for ticket_id, job in _jobs(route, run.state.van_of.get(route.engineer_id) or 0):
            t, record = by_id[ticket_id]
            jobs.start(t, record, job)
            placed.add(ticket_id)
    run.waiting[:] = [(t, r) for t, r in run.waiting if t.id not in placed]


def _jobs(route: Route, van_id: int) -> list[tuple[int, JobPlan]]:
    """The route's visits as job plans (pickups and shipments of each visit attached)."""
    pickups: dict[int, tuple[int, tuple[tuple[int, int, int], ...]]] = {}
    out = []
    for stop in route.stops:
        if stop.kind == StopKind.PICKUP and stop.depot_id is not None:
            uses = tuple((stop.depot_id, u.part_id, u.qty) for u in stop.parts)
            pickups[stop.ticket_id] = (stop.depot_id, uses)
            continue
        if stop.kind != StopKind.VISIT:
            continue
        if stop.ticket_id in pickups:
            depot, uses = pickups[stop.ticket_id]
            job = JobPlan(route.engineer_id, route.departs_at, stop.arrives_at,
                          PartsSource.PICKUP, uses, depot)  # fmt: skip
        elif stop.shipped:
            ship = stop.shipped[0]
            source = ship.depot_id if ship.depot_id is not None else -(ship.supplier_id or 0)
            uses = tuple((source, u.part_id, u.qty) for s in stop.shipped for u in s.uses)
            job = JobPlan(
                route.engineer_id, route.departs_at, stop.arrives_at, PartsSource.SHIPMENT,
                uses, None, ship.ships_at, ship.arrives_at,
            )  # fmt: skip
        else:
            van = tuple((van_id, u.part_id, u.qty) for u in stop.parts)
            job = JobPlan(route.engineer_id, route.departs_at, stop.arrives_at,
                          PartsSource.VAN if van else PartsSource.NONE, van)  # fmt: skip
        out.append((stop.ticket_id, job))
    return out
