"""A brute-force oracle for `recommend`: every engineer, every shift, every depot, no pruning.

Written independently of the optimizer's vectorised code, from the rules: skills; start where
and when the current job ends; a visit (drive, any pickup, service) fits a shift plus overtime;
parts from the van (exact part first, then substitutes), else the pickup depot that arrives
first, else the shipment that keeps the ship promise and arrives first; a pickup that keeps
every promise beats a shipment, a shipment that keeps every promise beats a late pickup,
otherwise the least late. Promises: depart (the visit's departure), arrival, fix, ship.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer import DispatchWorld, Engineer, Location, RecommendParams, Ticket, TravelTimes


@dataclass(frozen=True)
class Plan:
    engineer_id: int
    source: str
    depart: int
    arrival: int
    fix: int
    ships_at: int | None
    dedicated: bool

    def checks(self, ticket: Ticket, ship_by: int) -> list[tuple[int, int]]:
        out = []
        if ticket.depart_by is not None:
            out.append((ticket.depart_by, self.depart))
        if ticket.arrive_by is not None:
            out.append((ticket.arrive_by, self.arrival))
        if ticket.fix_by is not None:
            out.append((ticket.fix_by, self.fix))
        if self.ships_at is not None:
            out.append((ship_by, self.ships_at))
        return out

    def key(self, ticket: Ticket, ship_by: int) -> tuple[int, int, int, int]:
        late = sum(max(0, at - deadline) for deadline, at in self.checks(ticket, ship_by))
        if late == 0:
            return (0, 0 if self.dedicated else 1, self.arrival, self.engineer_id)
        return (1, late, self.arrival, self.engineer_id)


def _t(travel: TravelTimes, a: Location, b: Location) -> int:
    seconds, _ = travel.matrix(np.array([[a.lat, a.lon]]), np.array([[b.lat, b.lon]]))
    return int(seconds[0, 0])


def _take(left, ticket: Ticket, line) -> bool:
    """Take ``line`` from ``left`` (exact part first); False if no accepted part has it."""
    for p in (line.part_id, *ticket.substitutes.get(line.part_id, ())):
        if left.get(p, 0) >= line.qty:
            left[p] -= line.qty
            return True
    return False


def _covers(stock, ticket: Ticket, lines) -> bool:
    """All ``lines`` from one source together, in order (two lines may want the same part)."""
    left = dict(stock)
    return all(_take(left, ticket, line) for line in lines)


def _van_missing(van, ticket: Ticket) -> list:
    """The lines the van cannot supply, taking lines in order from what is left."""
    left = dict(van)
    return [line for line in ticket.parts if not _take(left, ticket, line)]


def _opens(opening, t: int) -> int | None:
    if not opening:
        return t
    later = [max(t, s) for s, e in opening if t < e]
    return min(later) if later else None


def _visits(e: Engineer, ready: int, service: int, overtime: int, trip) -> list[tuple[int, int]]:
    """(depart, arrival) of every shift in which the visit ``trip(depart) -> arrival`` fits."""
    out = []
    for start, end in e.shifts:
        depart = max(ready, start)
        arrival = trip(depart)
        if arrival is not None and arrival + service <= end + overtime:
            out.append((depart, arrival))
    return out


def brute_plans(
    world: DispatchWorld, ticket: Ticket, now: int, travel: TravelTimes, params: RecommendParams
) -> list[Plan]:
    """Each qualified, available engineer's plan."""
    ship_by = ticket.ship_by(params.ship_within_s)
    plans = []
    for e in world.engineers:
        if any(e.skills.get(line, 0) < level for line, level in ticket.skills.items()):
            continue
        busy = e.busy_until is not None and e.busy_until > now
        origin = e.busy_location if busy and e.busy_location else e.location
        ready = max(now, e.busy_until) if busy and e.busy_until is not None else now
        direct_s = _t(travel, origin, ticket.site)
        if direct_s > params.max_travel_s:
            continue
        overtime = e.overtime_s if params.overtime_s is None else params.overtime_s
        direct = _visits(e, ready, ticket.service_s, overtime, lambda d, s=direct_s: d + s)
        if not direct:
            continue
        dedicated = e.id == ticket.dedicated_engineer or ticket.site_id in e.dedicated_sites
        missing = _van_missing(e.van_stock, ticket)
        depart, arrival = min(direct, key=lambda visit: visit[1])
        if not missing:
            plans.append(
                Plan(e.id, "direct", depart, arrival, arrival + ticket.service_s, None, dedicated)
            )
            continue
        candidates = []
        for depot in world.depots:
            if not _covers(depot.stock, ticket, missing):
                continue
            pick = params.pick_s if depot.pick_s is None else depot.pick_s
            to_d, from_d = (
                _t(travel, origin, depot.location),
                _t(travel, depot.location, ticket.site),
            )

            def trip(d: int, to_d=to_d, from_d=from_d, pick=pick, depot=depot) -> int | None:
                at = _opens(depot.opening, d + to_d)
                return None if at is None else at + pick + from_d

            for d, a in _visits(e, ready, ticket.service_s, overtime, trip):
                candidates.append(Plan(e.id, "pickup", d, a, a + ticket.service_s, None, dedicated))
        # Earliest arrival; on a tie, the earliest departure (an earlier shift keeps the
        # depart promise at least as well).
        pickup = min(candidates, key=lambda p: (p.arrival, p.depart), default=None)
        shipment = _shipment(world, ticket, missing, now, ship_by, travel)
        shipped = None
        if shipment is not None:
            fix = max(arrival, shipment[1]) + ticket.service_s
            shipped = Plan(e.id, "shipment", depart, arrival, fix, shipment[0], dedicated)
        plan = _choose(pickup, shipped, ticket, ship_by)
        if plan is not None:
            plans.append(plan)
    return plans


def _shipment(world, ticket, missing, now, ship_by, travel) -> tuple[int, int] | None:
    """(leaves, arrives) of the best shipment."""
    found = []
    for depot in world.depots:
        opens = _opens(depot.opening, now)
        if opens is not None and _covers(depot.stock, ticket, missing):
            leaves = opens + depot.ship_lead_s
            found.append(
                (leaves > ship_by, leaves + _t(travel, depot.location, ticket.site), leaves)
            )
    for supplier in world.suppliers:
        if _covers(supplier.parts, ticket, missing):
            leaves = now + supplier.lead_s
            found.append((leaves > ship_by, leaves + supplier.transit_s, leaves))
    if not found:
        return None
    _, arrives, leaves = min(found)
    return leaves, arrives


def _choose(pickup: Plan | None, shipped: Plan | None, ticket: Ticket, ship_by: int) -> Plan | None:
    def late(p: Plan) -> int:
        return sum(max(0, at - d) for d, at in p.checks(ticket, ship_by))

    if pickup is not None and late(pickup) == 0:
        return pickup
    if shipped is not None and late(shipped) == 0:
        return shipped
    found = [p for p in (pickup, shipped) if p is not None]
    return min(found, key=lambda p: (late(p), p.arrival, p.source != "pickup"), default=None)
