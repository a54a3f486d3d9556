"""The independent validator: every rule of a plan re-checked from the world and the tickets.

It deliberately shares no scheduling code with the planner: it recomputes every leg with the
travel model, rebuilds working time from shifts, overtime and absences itself, and counts
stock from the world's own numbers. It returns human-readable violations (empty: feasible).

Checked: each ticket at most once, and either routed or dropped; skills; ETAs (arrival =
previous departure + travel), service durations, departure after the engineer is free;
every stop inside one stretch of working time (shift + overtime, outside absences) and the
drive home by its end (or straight home when even that is later); a route into the gap
before a committed visit (`Route.fills_gap`) from where his back-to-back work ends, and at
that visit's site by its planned arrival; ``not_before``, shipped
parts' arrival, hard arrivals, depot opening hours; capacity; each line's parts supplied by
a pickup earlier on the same route or a shipment (each line whole by one accepted part; the
lines share the units by a search, not first-fit, so crossed substitutes are seen); no unit
of van, depot or supplier stock used twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from optimizer.model import Engineer, PartLine, Ticket, Window
from optimizer.params import PlanParams
from optimizer.plan_result import Plan, Route, Stop, StopKind
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld


def validate(
    world: DispatchWorld,
    tickets: Sequence[Ticket],
    plan: Plan,
    *,
    travel: TravelTimes,
    params: PlanParams | None = None,
) -> list[str]:
    """Return every rule ``plan`` breaks (an empty list: the plan is feasible).

    Parameters
    ----------
    world, tickets
        What was planned.
    plan
        The plan to check.
    travel
        The travel model the plan was made with.
    params
        Pick time for depots without their own, overtime override, hard deadlines.

    Returns
    -------
    list of str
        One sentence per violation.
    """
    params = params or PlanParams()
    by_id = {t.id: t for t in tickets}
    out = _coverage(by_id, plan)
    routes = Counter(r.engineer_id for r in plan.routes)  # a plan merged from parts, say
    out.extend(f"engineer {e} has {n} routes" for e, n in sorted(routes.items()) if n > 1)
    used: Counter[tuple[str, int, int]] = Counter()
    for route in plan.routes:
        if route.engineer_id not in world.engineer_row:
            out.append(f"route of unknown engineer {route.engineer_id}")
            continue
        engineer = world.engineers[world.engineer_row[route.engineer_id]]
        out.extend(_route(world, engineer, by_id, route, plan.now, travel, params, used))
    out.extend(_stock(world, used))
    return out


def short_of_slack(world: DispatchWorld, tickets: Sequence[Ticket], plan: Plan) -> list[str]:
    """Visits kept with less slack than their policy wants after another job (not a rule
    broken: the plan is feasible, but an overrun before them would break a promise).

    A visit follows another job when an earlier visit of its route, or the engineer's
    committed work, comes before it; its arrival (service start) and fix are checked against
    `ClockPenalties.slack_s`, e.g. "ticket 7 (engineer 2, after another job): arrival with 10
    min to spare, less than the 30 min slack wanted".
    """
    by_id = {t.id: t for t in tickets}
    out = []
    for route in plan.routes:
        row = world.engineer_row.get(route.engineer_id)
        busy = row is not None and (world.engineers[row].busy_until or plan.now) > plan.now
        for i, stop in enumerate(route.visits):
            t = by_id.get(stop.ticket_id)
            if t is None or not (busy or i > 0):
                continue
            wanted = t.prices.margin_s(True)
            for name, deadline, at in (
                ("arrival", t.arrive_by, stop.starts_at),
                ("fix", t.fix_by, stop.departs_at),
            ):
                if deadline is not None and 0 <= deadline - at < wanted:
                    out.append(
                        f"ticket {t.id} (engineer {route.engineer_id}, after another job): "
                        f"{name} with {(deadline - at) // 60} min to spare, less than the "
                        f"{wanted // 60} min slack wanted"
                    )
    return out


def _coverage(by_id: dict[int, Ticket], plan: Plan) -> list[str]:
    out = []
    visits = Counter(s.ticket_id for r in plan.routes for s in r.stops if s.kind is StopKind.VISIT)
    dropped = Counter(d.ticket_id for d in plan.dropped)
    for tid, n in (visits + dropped).items():
        if tid not in by_id:
            out.append(f"ticket {tid} is not among the planned tickets")
        elif n > 1:
            out.append(f"ticket {tid} is planned {n} times (visits and drops)")
    out.extend(
        f"ticket {tid} is neither routed nor dropped"
        for tid in by_id
        if tid not in visits and tid not in dropped
    )
    return out


def _stretches(engineer: Engineer, overtime: int) -> list[Window]:
    """Working time: each shift extended by overtime, minus every absence."""
    out: list[Window] = []
    for s, e in engineer.shifts:
        cuts = sorted(a for a in engineer.absences if a[0] < e + overtime and a[1] > s)
        cursor = s
        for a, b in cuts:
            if a > cursor:
                out.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < e + overtime:
            out.append((cursor, e + overtime))
    return out


def _route(
    world: DispatchWorld, e: Engineer, by_id: dict[int, Ticket], route: Route, now: int,
    travel: TravelTimes, params: PlanParams, used: Counter[tuple[str, int, int]],
) -> list[str]:  # fmt: skip
    out: list[str] = []
    name = f"engineer {e.id}"
    gap = e.gap if route.fills_gap else None
    if route.fills_gap and gap is None:
        out.append(f"{name}'s route fills a gap before committed work, and he has none")
    if gap is not None:  # from where his back-to-back work ends to his committed visit
        start, end, ready = gap.origin or e.location, gap.back_to, max(now, gap.ready)
    else:
        busy = e.busy_until is not None and e.busy_until > now and e.busy_location is not None
        start = e.busy_location if busy and e.busy_location is not None else e.location
        end, ready = e.home or e.location, max(now, e.busy_until or now)
    places = [start, *(s.location for s in route.stops), end]
    pts = np.array([(loc.lat, loc.lon) for loc in places], dtype=np.float64)
    seconds, metres = travel.matrix(pts, pts)
    legs = [int(seconds[i, i + 1]) for i in range(len(places) - 1)]
    if route.departs_at < ready:
        out.append(f"{name} leaves at {route.departs_at}, before he is free at {ready}")
    overtime = e.plan_overtime_s if params.overtime_s is None else params.overtime_s
    stretch = next(((s, x) for s, x in _stretches(e, overtime) if s <= route.departs_at < x), None)
    if stretch is None:
        out.append(f"{name} leaves at {route.departs_at}, outside his working time")
        stretch = (route.departs_at, route.departs_at)
    clock = route.departs_at
    picked: dict[int, Counter[int]] = {}
    load = sum(
        by_id[s.ticket_id].demand
        for s in route.stops
        if s.kind is StopKind.VISIT and s.ticket_id in by_id
    )
    peak = load
    for i, stop in enumerate(route.stops):
        where = f"{name}, stop {i} ({stop.kind.value} for ticket {stop.ticket_id})"
        if stop.arrives_at != clock + legs[i]:
            out.append(f"{where}: arrives {stop.arrives_at}, travel model says {clock + legs[i]}")
        if (
            stop.starts_at < stop.arrives_at
            or stop.starts_at < stretch[0]
            or stop.departs_at > stretch[1]
        ):
            out.append(
                f"{where}: service {stop.starts_at}-{stop.departs_at} before arrival"
                f" or outside working time {stretch}"
            )
        t = by_id.get(stop.ticket_id)
        if t is None:
            continue
        if stop.kind is StopKind.PICKUP:
            out.extend(_pickup(world, e, stop, where, params, used))
            got = picked.setdefault(t.id, Counter())
            for u in stop.parts:
                got[u.part_id] += u.qty
                load += u.qty
        else:
            got = picked.pop(t.id, Counter())
            out.extend(_visit(e, t, stop, where, params, got, used))
            load -= sum(got.values()) + t.demand
        peak = max(peak, load)
        clock = stop.departs_at
    if route.returns_at != clock + legs[-1]:
        out.append(f"{name} is home at {route.returns_at}, travel model says {clock + legs[-1]}")
    limit = max(stretch[1], route.departs_at + int(seconds[0, -1]))
    if gap is not None:
        if route.returns_at > gap.back_by:
            out.append(
                f"{name} reaches his committed visit at {route.returns_at}, after its planned"
                f" arrival {gap.back_by}"
            )
    elif route.returns_at > limit:
        out.append(f"{name} is home at {route.returns_at}, after his working time ends at {limit}")
    if e.capacity is not None and peak > e.capacity:
        out.append(f"{name} carries {peak} units, over his capacity {e.capacity}")
    out.extend(
        f"{name} picks up parts for ticket {tid} and never visits it later" for tid in picked
    )
    return out


def _pickup(
    world: DispatchWorld, e: Engineer, stop: Stop, where: str, params: PlanParams,
    used: Counter[tuple[str, int, int]],
) -> list[str]:  # fmt: skip
    if stop.depot_id is None:
        for u in stop.parts:
            used[("van", e.id, u.part_id)] += u.qty
        return []
    if stop.depot_id not in world.depot_row:
        return [f"{where}: unknown depot {stop.depot_id}"]
    out = []
    depot = world.depots[world.depot_row[stop.depot_id]]
    if depot.opening and not any(s <= stop.starts_at < x for s, x in depot.opening):
        out.append(f"{where}: depot {depot.id} is closed at {stop.starts_at}")
    pick = params.pick_s if depot.pick_s is None else depot.pick_s
    if stop.departs_at - stop.starts_at < pick:
        out.append(f"{where}: picking takes {pick} s, planned {stop.departs_at - stop.starts_at}")
    for u in stop.parts:
        used[("depot", depot.id, u.part_id)] += u.qty
    return out


def _visit(
    e: Engineer, t: Ticket, stop: Stop, where: str, params: PlanParams, got: Counter[int],
    used: Counter[tuple[str, int, int]],
) -> list[str]:  # fmt: skip
    out = []
    for skill, level in t.skills.items():
        if e.skills.get(skill, 0) < level:
            out.append(f"{where}: needs {skill} level {level}, has {e.skills.get(skill, 0)}")
    if stop.departs_at - stop.starts_at != t.service_s:
        out.append(
            f"{where}: service takes {t.service_s} s, planned {stop.departs_at - stop.starts_at}"
        )
    if t.not_before is not None and stop.starts_at < t.not_before:
        out.append(f"{where}: starts {stop.starts_at}, before the agreed {t.not_before}")
    hard = t.arrive_by is not None and (t.hard_arrival or params.hard_deadlines)
    if hard and t.arrive_by is not None and stop.arrives_at > t.arrive_by:
        out.append(f"{where}: arrives {stop.arrives_at}, after the hard deadline {t.arrive_by}")
    if t.arrive_by is not None and stop.arrival_late_s != max(0, stop.arrives_at - t.arrive_by):
        out.append(f"{where}: reported arrival lateness {stop.arrival_late_s} is wrong")
    supply = Counter(got)
    for sh in stop.shipped:
        if stop.starts_at < sh.arrives_at:
            out.append(f"{where}: starts {stop.starts_at}, before its parts arrive {sh.arrives_at}")
        kind, source = (
            ("depot", sh.depot_id) if sh.depot_id is not None else ("supplier", sh.supplier_id)
        )
        underway = t.parts_underway is not None  # ordered at intake: held there already
        for u in sh.uses:
            supply[u.part_id] += u.qty
            if not underway:
                used[(kind, int(source or 0), u.part_id)] += u.qty
    out.extend(
        f"{where}: part {line.part_id} x{line.qty} is neither picked up before nor shipped"
        for line in _unsupplied(t, supply)
    )
    return out


def _unsupplied(t: Ticket, supply: Counter[int]) -> list[PartLine]:
    """The lines ``supply`` cannot serve, each line whole from one accepted part.

    A search, not first-fit: with 10 <- (12, 11) and 11 x2 <- 12, a supply of one 11 and two
    12s serves both lines (10 <- 11, 11 <- 12 x2) although first-fit gives line 10 a 12.
    Lines no part covers alone are reported without searching; when no assignment serves
    every line, the lines first-fit leaves unserved are reported.
    """
    alone = [
        line for line in t.parts if not any(supply[p] >= line.qty for p in t.accepted(line.part_id))
    ]
    if alone:
        return alone
    if _serve(t, list(t.parts), Counter(supply)):
        return []
    out = []
    left = Counter(supply)
    for line in t.parts:
        part = next((p for p in t.accepted(line.part_id) if left[p] >= line.qty), None)
        if part is None:
            out.append(line)
        else:
            left[part] -= line.qty
    return out


def _serve(t: Ticket, lines: list[PartLine], left: Counter[int]) -> bool:
    """Whether ``left`` serves every one of ``lines`` (depth-first over accepted parts)."""
    if not lines:
        return True
    line, rest = lines[0], lines[1:]
    for part in t.accepted(line.part_id):
        if left[part] >= line.qty:
            left[part] -= line.qty
            found = _serve(t, rest, left)
            left[part] += line.qty
            if found:
                return True
    return False


def _stock(world: DispatchWorld, used: Counter[tuple[str, int, int]]) -> list[str]:
    out = []
    for (kind, source, part), qty in sorted(used.items()):
        if kind == "van":
            have = world.engineers[world.engineer_row[source]].van_stock.get(part, 0)
        elif kind == "depot":
            have = world.depots[world.depot_row[source]].stock.get(part, 0)
        else:
            supplier = next((s for s in world.suppliers if s.id == source), None)
            have = 0 if supplier is None else supplier.parts.get(part, 0)
        if qty > have:
            out.append(f"{kind} {source}: {qty} units of part {part} planned, {have} available")
    return out
