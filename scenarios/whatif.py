"""What-if changes as pure transforms: each returns a new `SimWorld` (dataclasses.replace).

The base world is never mutated, so every variant of a scenario starts from the same base
and the order of a variant's changes is the order of its list. Choices that need a pick
(which engineers strike, which leave) are deterministic: by id, spread evenly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import time

from dispatch.calendar import WeeklyShift
from dispatch.labour import minor
from dispatch.penalties import CLOCKS
from optimizer import Location
from scenarios import spec
from scenarios.model import Period, SimDepot, SimEngineer, SimSeverity, SimWorld, StockKey, Surge

DAY_S = 86_400


def add_depot(world: SimWorld, change: spec.AddDepot) -> SimWorld:
    """A new depot; with `stock_like`, a copy of that depot's stock levels."""
    if any(d.code == change.code for d in world.depots):
        raise ValueError(f"depot {change.code!r} exists already")
    new_id = max((d.id for d in world.depots), default=0) + 1
    depot = SimDepot(
        new_id, change.code, world.region_id(change.region),
        Location(change.lat, change.lon), "regional", 60 * change.pick_min,
    )  # fmt: skip
    stock, reorder = dict(world.stock), dict(world.reorder_points)
    if change.stock_like is not None:
        model = world.depot(change.stock_like).id
        for (depot_id, part), qty in world.stock.items():
            if depot_id == model:
                stock[(new_id, part)] = qty
                reorder[(new_id, part)] = world.reorder_points[(depot_id, part)]
    return replace(world, depots=(*world.depots, depot), stock=stock, reorder_points=reorder)


def remove_depot(world: SimWorld, change: spec.RemoveDepot) -> SimWorld:
    """The depot closes for good: it and its stock are gone."""
    gone = world.depot(change.depot).id
    return replace(
        world,
        depots=tuple(d for d in world.depots if d.id != gone),
        stock={k: q for k, q in world.stock.items() if k[0] != gone},
        reorder_points={k: q for k, q in world.reorder_points.items() if k[0] != gone},
    )


def move_depot(world: SimWorld, change: spec.MoveDepot) -> SimWorld:
    """The depot stands elsewhere, with the same stock."""
    moved = world.depot(change.depot)
    where = Location(change.lat, change.lon)
    return replace(
        world, depots=tuple(replace(d, location=where) if d == moved else d for d in world.depots)
    )


def _pool(world: SimWorld, region: str | None, skill: str | None) -> list[SimEngineer]:
    rid = None if region is None else world.region_id(region)
    return sorted(
        (
            e
            for e in world.engineers
            if (rid is None or e.region_id == rid) and (skill is None or skill in e.skills)
        ),
        key=lambda e: e.id,
    )


def change_engineers(world: SimWorld, change: spec.Engineers) -> SimWorld:
    """+n: copies of the pool's engineers (skills, shifts or the change's pattern, van stock);
    -n: the newest leave."""
    pool = _pool(world, change.region, change.skill)
    if not pool:
        raise ValueError(f"engineers: nobody matches region={change.region} skill={change.skill}")
    if change.delta < 0:
        gone = {e.id for e in pool[change.delta :]}
        return replace(world, engineers=tuple(e for e in world.engineers if e.id not in gone))
    shifts: tuple[WeeklyShift, ...] = ()
    if change.start is not None and change.end is not None:
        start, end = time.fromisoformat(change.start), time.fromisoformat(change.end)
        days = change.weekdays or (0, 1, 2, 3, 4)
        shifts = tuple(WeeklyShift(day, start, end) for day in sorted(days))
    next_id = max(e.id for e in world.engineers) + 1
    next_depot = max(d.id for d in world.depots) + 1
    engineers, depots, stock = list(world.engineers), list(world.depots), dict(world.stock)
    reorder = dict(world.reorder_points)
    for i in range(change.delta):
        model = pool[i % len(pool)]
        van = None
        if model.van_depot_id is not None:
            van = next_depot + i
            depots.append(SimDepot(van, f"VAN-NEW{next_id + i}", model.region_id, None, "van"))
            for (depot_id, part), qty in world.stock.items():
                if depot_id == model.van_depot_id:
                    stock[(van, part)] = qty
                    reorder[(van, part)] = world.reorder_points[(depot_id, part)]
        engineers.append(
            replace(model, id=next_id + i, van_depot_id=van, shifts=shifts or model.shifts)
        )
    return replace(
        world, engineers=tuple(engineers), depots=tuple(depots), stock=stock,
        reorder_points=reorder,
    )  # fmt: skip


def shift_pattern(world: SimWorld, change: spec.ShiftPattern) -> SimWorld:
    """The pool's engineers (of a region, a skill) work the given weekly pattern instead
    of their own: all of them, or the newest ``count`` not on it already."""
    start, end = time.fromisoformat(change.start), time.fromisoformat(change.end)
    pattern = tuple(WeeklyShift(day, start, end) for day in sorted(change.weekdays))
    pool = _pool(world, change.region, change.skill)
    if change.count is not None:
        pool = [e for e in pool if e.shifts != pattern][-change.count :]
    moved = {e.id for e in pool}
    return replace(
        world,
        engineers=tuple(
            replace(e, shifts=pattern) if e.id in moved else e for e in world.engineers
        ),
    )


def on_call(world: SimWorld, change: spec.OnCallRoster) -> SimWorld:
    """Every ``1 / share``-th engineer of the pool (by id) is on call in the given hours."""
    start, end = time.fromisoformat(change.start), time.fromisoformat(change.end)
    pattern = tuple(WeeklyShift(day, start, end) for day in sorted(change.weekdays))
    pool = _pool(world, change.region, None)
    step = max(1, round(1 / change.share))
    chosen = {e.id for e in pool[::step]}
    return replace(
        world,
        engineers=tuple(
            replace(e, on_call=pattern) if e.id in chosen else e for e in world.engineers
        ),
    )


def stock_level(world: SimWorld, change: spec.StockLevel) -> SimWorld:
    """Scale or set the stock of non-van depots (one depot and/or one SKU, or all)."""
    depots = {d.id for d in world.depots if d.kind != "van"}
    if change.depot is not None:
        depots = {world.depot(change.depot).id}
    part_id = None
    if change.part is not None:
        part_id = next((p.id for p in world.parts.values() if p.sku == change.part), None)
        if part_id is None:
            raise ValueError(f"part {change.part!r} is not in the base world")
    keys: set[StockKey] = {k for k in world.stock if k[0] in depots}
    if part_id is not None:
        keys = {k for k in keys if k[1] == part_id} | {(d, part_id) for d in depots}
    stock, reorder = dict(world.stock), dict(world.reorder_points)
    for key in keys:
        old = stock.get(key, 0)
        stock[key] = change.quantity if change.quantity is not None else round(old * change.factor)  # type: ignore[operator]
        reorder.setdefault(key, 1)
    return replace(world, stock=stock, reorder_points=reorder)


def _with_severity(
    world: SimWorld,
    kind: str,
    policy: str | None,
    severity: str,
    change: Callable[[SimSeverity], SimSeverity],
) -> SimWorld:
    """Apply ``change`` to severity ``severity`` of every policy (or of ``policy`` only)."""
    policies = dict(world.policies)
    touched = False
    for pid, pol in world.policies.items():
        if policy is not None and pol.code != policy:
            continue
        severities = []
        for sev in pol.severities:
            if sev.code == severity:
                touched = True
                sev = change(sev)
            severities.append(sev)
        policies[pid] = replace(pol, severities=tuple(severities))
    if not touched:
        raise ValueError(f"{kind}: no policy has severity {severity!r}")
    return replace(world, policies=policies)


def promise_policy(world: SimWorld, change: spec.PromisePolicy) -> SimWorld:
    """Sell another promise: new arrival and/or fix offsets for one severity code."""

    def offsets(sev: SimSeverity) -> SimSeverity:
        arrive = change.arrive_min if change.arrive_min is not None else sev.offsets.arrive_min
        fix = change.fix_min if change.fix_min is not None else sev.offsets.fix_min
        return replace(sev, offsets=replace(sev.offsets, arrive_min=arrive, fix_min=fix))

    return _with_severity(world, "promise_policy", change.policy, change.severity, offsets)


def planning(world: SimWorld, change: spec.PlanningChange) -> SimWorld:
    """Plan jobs with another duration quantile or history minimum, keep other slack, ask
    another number of engineers to make room or drivers to divert."""
    policies = dict(world.policies)
    found = False
    for pid, pol in world.policies.items():
        if change.policy is not None and pol.code != change.policy:
            continue
        found = True
        durations = replace(
            pol.durations,
            **{
                name: value
                for name, value in (
                    ("quantile_pct", change.plan_duration_pct),
                    ("min_jobs", change.plan_min_jobs),
                    ("log_jobs", change.plan_log_jobs),
                )
                if value is not None
            },
        )
        severities = pol.severities
        if change.slack_min is not None:
            slack = change.slack_min * 60
            severities = tuple(
                replace(s, penalties=replace(s.penalties, slack_s=slack)) for s in severities
            )
        room = pol.make_room_engineers
        if change.make_room_engineers is not None:
            room = change.make_room_engineers
        drivers = pol.divert_engineers
        if change.divert_engineers is not None:
            drivers = change.divert_engineers
        policies[pid] = replace(
            pol, durations=durations, severities=severities, make_room_engineers=room,
            divert_engineers=drivers,
        )  # fmt: skip
    if not found:
        raise ValueError(f"planning: no policy {change.policy!r}")
    return replace(world, policies=policies)


def travel_speed(world: SimWorld, change: spec.TravelSpeed) -> SimWorld:
    """Roads faster (> 1) or slower (< 1) than the base road model."""
    return replace(world, travel_speed=world.travel_speed * change.factor)


def _period(change: spec.DemandSurge | spec.Strike | spec.DepotOutage) -> Period:
    start = change.start_day * DAY_S
    return Period(start, start + round(change.days * DAY_S))


def demand_surge(world: SimWorld, change: spec.DemandSurge) -> SimWorld:
    """More tickets in one region for some days (extra arrivals on top of the common stream)."""
    surge = Surge(world.region_id(change.region), change.factor, _period(change))
    return replace(world, surges=(*world.surges, surge))


def strike(world: SimWorld, change: spec.Strike) -> SimWorld:
    """A share of the engineers (of a region) stop work for the period (spread by id)."""
    pool = _pool(world, change.region, None)
    count = math.ceil(change.share * len(pool))
    chosen = [pool[(i * len(pool)) // count] for i in range(count)] if count else []
    strikes = dict(world.strikes)
    for e in chosen:
        strikes[e.id] = (*strikes.get(e.id, ()), _period(change))
    return replace(world, strikes=strikes)


def depot_outage(world: SimWorld, change: spec.DepotOutage) -> SimWorld:
    """A depot hands out nothing for the period (its stock stays on the shelf)."""
    depot = world.depot(change.depot).id
    outages = dict(world.outages)
    outages[depot] = (*outages.get(depot, ()), _period(change))
    return replace(world, outages=outages)


def returns(world: SimWorld, change: spec.ReturnsChange) -> SimWorld:
    """Another returns flow (e.g. a faster repair shop): the fields given replace the base's."""
    given = change.model_dump(exclude={"kind"}, exclude_none=True)
    return replace(world, returns=replace(world.returns, **given))


def loaner_rates(world: SimWorld, change: spec.LoanerRates) -> SimWorld:
    """Another price for loaners (a cheaper pool, a rental contract)."""
    given = change.model_dump(exclude={"kind"}, exclude_none=True)
    return replace(world, loaners=replace(world.loaners, **given))


def labour_rules(world: SimWorld, change: spec.LabourRulesChange) -> SimWorld:
    """Other labour rules (e.g. no overtime): the fields given replace each engineer's own.

    The simulator turns `SimEngineer.labour` into solver fields through
    `dispatch.labour.solver_fields`, as production does, so the variant plans and counts
    overtime under these rules.
    """
    given = change.model_dump(exclude={"kind", "region"}, exclude_none=True)
    rid = None if change.region is None else world.region_id(change.region)
    return replace(
        world,
        engineers=tuple(
            replace(e, labour=replace(e.labour, **given))
            if rid is None or e.region_id == rid
            else e
            for e in world.engineers
        ),
    )


def clock_penalties(world: SimWorld, change: spec.ClockPenaltiesChange) -> SimWorld:
    """Other prices of broken promises for one severity (currency -> fen like production)."""
    fen = {c: minor(v) for c in CLOCKS if (v := getattr(change, c)) is not None}
    for name in ("late_pct_per_hour", "at_risk_pct"):
        if (value := getattr(change, name)) is not None:
            fen[name] = value
    if change.at_risk_margin_min is not None:
        fen["at_risk_margin_s"] = change.at_risk_margin_min * 60
    return _with_severity(
        world, "clock_penalties", change.policy, change.severity,
        lambda sev: replace(sev, penalties=replace(sev.penalties, **fen)),
    )  # fmt: skip


_TRANSFORMS = {
    "add_depot": add_depot,
    "remove_depot": remove_depot,
    "move_depot": move_depot,
    "engineers": change_engineers,
    "shift_pattern": shift_pattern,
    "stock_level": stock_level,
    "promise_policy": promise_policy,
    "travel_speed": travel_speed,
    "demand_surge": demand_surge,
    "strike": strike,
    "depot_outage": depot_outage,
    "returns": returns,
    "loaner_rates": loaner_rates,
    "labour_rules": labour_rules,
    "clock_penalties": clock_penalties,
    "on_call": on_call,
    "planning": planning,
}


def apply_changes(world: SimWorld, changes: tuple[spec.Change, ...]) -> SimWorld:
    """Apply a variant's changes in order."""
    for change in changes:
        world = _TRANSFORMS[change.kind](world, change)  # type: ignore[operator]
    return world
