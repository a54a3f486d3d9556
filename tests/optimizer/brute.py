"""A brute-force oracle for `recommend`: every engineer, every shift, every depot, no pruning.

Written independently of the optimizer's vectorised code, from the rules: skills; start where
and when the current job ends; a visit (drive, any pickup, service) fits a shift plus overtime;
parts from the van (exact part first, then substitutes), else the pickup depot that arrives
first, else the shipment that keeps the ship promise and arrives first; between a pickup and
a shipment the one that keeps the depart clock, then the cheaper, then the pickup, then the
earlier arrival. Promises: depart (the visit's departure), arrival, fix, swap (a part
from stock), ship. Cost (issue 16): each clock's penalty by `clock_cost` (the one rule, a
tested pure function), his hour and km rates over the drive, overtime at his rate. Key:
depart kept first, least cost, dedicated, earliest arrival, id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer import (
    DispatchWorld,
    Engineer,
    Location,
    RecommendParams,
    Ticket,
    TravelTimes,
    clock_cost,
)


@dataclass(frozen=True)
class Plan:
    engineer_id: int
    source: str
    depart: int
    arrival: int
    fix: int
    ships_at: int | None
    dedicated: bool
    money: int = 0  # travel and overtime cost (fen)
    after: bool = False  # he finishes another job first: the slack applies to every clock

    def checks(self, ticket: Ticket, ship_by: int) -> list[tuple[int, int, int]]:
        """(penalty, deadline, at) of each clock the plan is checked against."""
        p = ticket.prices
        out = []
        if ticket.depart_by is not None:
            out.append((p.depart, ticket.depart_by, self.depart))
        if ticket.arrive_by is not None:
            out.append((p.arrive, ticket.arrive_by, self.arrival))
        if ticket.fix_by is not None:
            out.append((p.fix, ticket.fix_by, self.fix))
        from_stock = self.source in ("direct", "pickup", "depot shipment")
        if ticket.swap_by is not None and from_stock and ticket.parts:
            out.append((p.swap, ticket.swap_by, self.fix))
        if self.ships_at is not None:
            out.append((p.ship, ship_by, self.ships_at))
        return out

    def cost(self, ticket: Ticket, ship_by: int) -> int:
        p = ticket.prices
        # depart, arrive and fix come first in `checks`: the slack is theirs
        timed = sum(x is not None for x in (ticket.depart_by, ticket.arrive_by, ticket.fix_by))
        return self.money + sum(
            clock_cost(pen, d, at, p, after_job=self.after and i < timed)
            for i, (pen, d, at) in enumerate(self.checks(ticket, ship_by))
        )

    def key(self, ticket: Ticket, ship_by: int) -> tuple[int, int, int, int, int]:
        late_depart = ticket.depart_by is not None and self.depart > ticket.depart_by
        return (
            int(late_depart),
            self.cost(ticket, ship_by),
            0 if self.dedicated else 1,
            self.arrival,
            self.engineer_id,
        )


def _money(e: Engineer, seconds: int, metres: int, fix: int, shift_end: int) -> int:
    overtime = max(0, fix - shift_end)
    return (
        e.cost_per_hour * seconds // 3_600
        + e.cost_per_km * metres // 1_000
        + e.overtime_cost_per_hour * overtime // 3_600
    )


def _t(travel: TravelTimes, a: Location, b: Location) -> int:
    return _tm(travel, a, b)[0]


def _tm(travel: TravelTimes, a: Location, b: Location) -> tuple[int, int]:
    seconds, metres = travel.matrix(np.array([[a.lat, a.lon]]), np.array([[b.lat, b.lon]]))
    return int(seconds[0, 0]), int(metres[0, 0])


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


def _visits(
    e: Engineer, ready: int, service: int, overtime: int, trip
) -> list[tuple[int, int, int]]:
    """(depart, arrival, shift end) of every shift in which ``trip(depart) -> arrival`` fits.

    Overtime runs past a shift's end only up to his next absence (a window that ends where
    an absence begins is not his shift's end).
    """
    out = []
    for start, end in e.shifts:
        after = [a for a, b in e.absences if b > end]
        room = min(overtime, max(0, min(after) - end)) if after else overtime
        depart = max(ready, start)
        arrival = trip(depart)
        if arrival is not None and arrival + service <= end + room:
            out.append((depart, arrival, end))
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
        after = ready > now  # a job of his comes first: it may overrun into this visit
        # Leaving later than at once, after the shift he is free in has ended, he sets off
        # from home (he went home in between).
        heads = next((end for start, end in e.shifts if start <= ready < end), ready)
        home = e.home or origin  # without a home, from where his work left him

        def start_at(d: int, ready=ready, heads=heads, origin=origin, home=home) -> Location:
            return home if d > ready and d >= heads else origin

        def drive(d: int, start_at=start_at) -> int:
            return d + _tm(travel, start_at(d), ticket.site)[0]

        overtime = e.plan_overtime_s if params.overtime_s is None else params.overtime_s
        direct = _visits(e, ready, ticket.service_s, overtime, drive)
        if not direct:
            continue
        depart, arrival, end = min(direct, key=lambda visit: visit[1])
        direct_s, direct_m = _tm(travel, start_at(depart), ticket.site)
        if direct_s > params.max_travel_s:
            continue
        dedicated = e.id == ticket.dedicated_engineer or ticket.site_id in e.dedicated_sites
        missing = _van_missing(e.van_stock, ticket)
        if not missing:
            fix = arrival + ticket.service_s
            money = _money(e, direct_s, direct_m, fix, end)
            plans.append(Plan(e.id, "direct", depart, arrival, fix, None, dedicated, money, after))
            continue
        candidates = []
        for depot in world.depots:
            if not _covers(depot.stock, ticket, missing):
                continue
            pick = params.pick_s if depot.pick_s is None else depot.pick_s
            from_d, from_m = _tm(travel, depot.location, ticket.site)

            def trip(
                d: int, from_d=from_d, pick=pick, depot=depot, start_at=start_at
            ) -> int | None:
                at = _opens(depot.opening, d + _tm(travel, start_at(d), depot.location)[0])
                return None if at is None else at + pick + from_d

            for d, a, end_k in _visits(e, ready, ticket.service_s, overtime, trip):
                fix = a + ticket.service_s
                to_d, to_m = _tm(travel, start_at(d), depot.location)
                money = _money(e, to_d + from_d, to_m + from_m, fix, end_k)
                candidates.append(Plan(e.id, "pickup", d, a, fix, None, dedicated, money, after))
        # Earliest arrival; on a tie, the earliest departure (an earlier shift keeps the
        # depart promise at least as well).
        pickup = min(candidates, key=lambda p: (p.arrival, p.depart), default=None)
        shipment = _shipment(world, ticket, missing, now, ship_by, travel)
        shipped = None
        if shipment is not None:
            fix = max(arrival, shipment[1]) + ticket.service_s
            money = _money(e, direct_s, direct_m, fix, end)
            shipped = Plan(
                e.id, shipment[2], depart, arrival, fix, shipment[0], dedicated, money, after
            )
        plan = _choose(pickup, shipped, ticket, ship_by)
        if plan is not None:
            plans.append(plan)
    return plans


def _shipment(world, ticket, missing, now, ship_by, travel) -> tuple[int, int, str] | None:
    """(leaves, arrives, source) of the best shipment (a depot's or a supplier's)."""
    found = []
    for depot in world.depots:
        opens = _opens(depot.opening, now)
        if opens is not None and _covers(depot.stock, ticket, missing):
            leaves = opens + depot.ship_lead_s
            arrives = leaves + _t(travel, depot.location, ticket.site)
            found.append((leaves > ship_by, arrives, leaves, "depot shipment"))
    for supplier in world.suppliers:
        if _covers(supplier.parts, ticket, missing):
            leaves = now + supplier.lead_s
            found.append((leaves > ship_by, leaves + supplier.transit_s, leaves, "shipment"))
    if not found:
        return None
    _, arrives, leaves, source = min(found)
    return leaves, arrives, source


def _choose(pickup: Plan | None, shipped: Plan | None, ticket: Ticket, ship_by: int) -> Plan | None:
    def key(p: Plan) -> tuple[int, int, bool, int]:
        late_depart = ticket.depart_by is not None and p.depart > ticket.depart_by
        return (int(late_depart), p.cost(ticket, ship_by), p.source != "pickup", p.arrival)

    found = [p for p in (pickup, shipped) if p is not None]
    return min(found, key=key, default=None)
