"""Turn node routes of a `RoutingProblem` into a `Plan`: stops with times, drops, KPIs.

Each route is scheduled forward, every service as early as possible (the schedule both the
greedy construction and the OR-Tools model price); instants go back to the world's axis.
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.allocation import TicketSupply
from optimizer.model import Location, Ticket
from optimizer.plan_result import (
    Dropped,
    Plan,
    PlanKpis,
    PlanQuality,
    PromiseTally,
    Route,
    SolverStats,
    Stop,
    StopKind,
)
from optimizer.problem import PICKUP, RoutingProblem
from optimizer.world import DispatchWorld


def assemble(
    world: DispatchWorld, tickets: Sequence[Ticket], supplies: dict[int, TicketSupply],
    p: RoutingProblem, routes: Sequence[Sequence[int]], dropped: Sequence[Dropped],
    quality: PlanQuality, stats: SolverStats,
) -> Plan:  # fmt: skip
    """Build the plan of ``routes`` (node sequences per vehicle of ``p``).

    A plan that places no ticket while some were dropped is labelled ``nothing_placed``,
    whatever the search proved: "optimal" would read as a plan worth publishing.
    """
    out = [_route(world, tickets, supplies, p, v, seq) for v, seq in enumerate(routes) if seq]
    out.sort(key=lambda r: r.engineer_id)
    drops = tuple(sorted(dropped, key=lambda d: d.ticket_id))
    if drops and not any(r.visits for r in out):
        quality = PlanQuality.NOTHING_PLACED
    return Plan(world.epoch, p.now, tuple(out), drops, kpis(tickets, out, drops), quality, stats)


def _route(
    world: DispatchWorld, tickets: Sequence[Ticket], supplies: dict[int, TicketSupply],
    p: RoutingProblem, v: int, seq: Sequence[int],
) -> Route:  # fmt: skip
    now, engineer = p.now, world.engineers[int(p.engineer[v])]
    prev, time = int(p.starts[v]), int(p.depart[v])
    travel = metres = 0
    load = -sum(int(p.load[n]) for n in seq)
    stops = []
    for node in seq:
        drive = int(p.seconds[prev, node])
        travel, metres = travel + drive, metres + int(p.metres[prev, node])
        arrive = time + drive
        start = max(arrive, int(p.earliest[node]))
        time = start + int(p.service[node])
        load += int(p.load[node])
        t = tickets[int(p.ticket[node])]
        stops.append(
            _stop(world, t, supplies[t.id], p, node, now + arrive, now + start, now + time, load)
        )
        prev = node
    end = int(p.ends[v])
    travel, metres = travel + int(p.seconds[prev, end]), metres + int(p.metres[prev, end])
    returns = now + time + int(p.seconds[prev, end])
    departs = now + int(p.depart[v])
    overtime = max(0, returns - (now + int(p.shift_end[v])))
    cost = (
        returns - departs
    ) * engineer.cost_per_hour // 3_600 + metres * engineer.cost_per_km // 1_000
    gap = p.fills_gap is not None and bool(p.fills_gap[v])  # returns: at his committed visit
    return Route(engineer.id, departs, returns, tuple(stops), travel, metres, overtime, cost, gap)


def _stop(
    world: DispatchWorld, t: Ticket, supply: TicketSupply, p: RoutingProblem, node: int,
    arrive: int, start: int, depart: int, load: int,
) -> Stop:  # fmt: skip
    if int(p.kind[node]) == PICKUP:
        option = supply.pickups[int(p.option[node])]
        location = (
            world.depots[world.depot_row[option.depot_id]].location
            if option.depot_id is not None
            else t.site
        )
        if option.depot_id is None and p.coords is not None:  # his van: where his route starts
            location = Location(float(p.coords[node, 0]), float(p.coords[node, 1]))
        elif option.depot_id is None:
            row = world.engineer_row[int(option.van_of or 0)]
            e = world.engineers[row]
            busy = e.busy_until is not None and e.busy_until > p.now and e.busy_location is not None
            location = e.busy_location if busy and e.busy_location is not None else e.location
        return Stop(
            StopKind.PICKUP, t.id, location, arrive, start, depart, depot_id=option.depot_id,
            parts=option.uses, load=load,
        )  # fmt: skip
    arrival_late = None if t.arrive_by is None else max(0, arrive - t.arrive_by)
    fix_late = None if t.fix_by is None else max(0, depart - t.fix_by)
    return Stop(
        StopKind.VISIT, t.id, t.site, arrive, start, depart, shipped=supply.shipped,
        arrival_late_s=arrival_late, fix_late_s=fix_late, load=load,
    )  # fmt: skip


def kpis(
    tickets: Sequence[Ticket], routes: Sequence[Route], dropped: Sequence[Dropped]
) -> PlanKpis:
    """Count promises kept per severity (a dropped ticket breaks its promises), sum travel."""
    visits = {s.ticket_id: s for r in routes for s in r.visits}
    tally: dict[int, list[int]] = {}
    lateness = 0
    for t in tickets:
        stop = visits.get(t.id)
        for deadline, late in (
            (t.arrive_by, None if stop is None else stop.arrival_late_s),
            (t.fix_by, None if stop is None else stop.fix_late_s),
        ):
            if deadline is None:
                continue
            kept, total = tally.setdefault(t.severity_rank, [0, 0])
            tally[t.severity_rank] = [kept + int(late == 0), total + 1]
            lateness += late or 0
    return PlanKpis(
        served=len(visits), dropped=len(dropped),
        promises=tuple(PromiseTally(rank, k, n) for rank, (k, n) in sorted(tally.items())),
        travel_s=sum(r.travel_s for r in routes), travel_m=sum(r.travel_m for r in routes),
        overtime_s=sum(r.overtime_s for r in routes), lateness_s=lateness,
        cost=sum(r.cost for r in routes),
    )  # fmt: skip
