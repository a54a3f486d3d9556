"""The one bridge from the database to the solver: a snapshot of engineers, depots, suppliers.

Everything is read at one instant `now`, which becomes the solver's epoch (offset 0), so
every time below is an integer second offset from it. Working windows cover a horizon
around now; the work committed to an engineer (the job in progress and the assigned ones)
makes him busy until the last of it ends, at its site: his next drive starts there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.calendar import WeeklyShift, to_offsets, working_windows
from dispatch.durations import DEFAULT_LOG_JOBS, DurationLog, DurationPolicy, duration_policy
from dispatch.errors import NotFoundError
from dispatch.labour import (
    LabourRules,
    day_and_week_start,
    minor,
    on_call_of,
    overtime_used,
    rules_for,
    solver_fields,
    tally_overtime,
)
from dispatch.models import (
    Absence,
    Assignment,
    AssignmentStatus,
    Contract,
    Engineer,
    EngineerSkill,
    LabourRule,
    PolicySeverity,
    PromisePolicy,
    Shift,
    Site,
    Ticket,
    TicketPart,
    TicketSkill,
    TicketStatus,
    TicketType,
)
from dispatch.penalties import clock_penalties
from dispatch.underway import OPEN, open_shipments, underway_plan
from inventory.availability import available_stock
from inventory.depot_times import pick_s, transit_s
from inventory.models import (
    Asset,
    Depot,
    DepotKind,
    Part,
    PartFit,
    PartSubstitute,
    ProductLine,
    Region,
    Reservation,
    ReservationStatus,
    Shipment,
    Supplier,
)

LOOKBACK = timedelta(hours=12)  # a night shift that began before now still counts
HORIZON = timedelta(hours=48)
DEFAULT_TIMEZONE = "Asia/Shanghai"
# What a supplier can ship: it restocks from its own warehouse, so treat it as ample.
SUPPLIER_QTY = 1_000
ALL_WEEK = range(7)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The solver's world at `epoch`, with the names a dispatcher reads in explanations."""

    epoch: datetime
    world: opt.DispatchWorld
    engineer_names: dict[int, str]
    depot_names: dict[int, str]
    van_depot_of: dict[int, int]  # engineer id -> van depot id
    durations: DurationLog = field(default_factory=DurationLog)  # finished jobs, for planning
    # engineer id -> ticket id -> seconds his committed visit is pushed behind the work
    # before it (his job on site overruns, `optimizer.retimed`; only the pushed ones): the
    # re-dispatch rules read the pushed times (`delay`)
    delays: dict[int, dict[int, int]] = field(default_factory=dict)
    # engineer id -> the offset from which his job on site reads another end than this
    # snapshot's (`optimizer.overrun_changes_at`), or his visit en route passes its expected
    # arrival without one (`en_route_visit`): `dispatch.snapshot_cache` patches him then
    changes_at: dict[int, int] = field(default_factory=dict)
    # `reused_job`'s answers by (ticket id, ticket version), but for the parts under way
    jobs: dict[tuple[int, int], opt.Ticket] = field(default_factory=dict, repr=False)

    def offset(self, at: datetime) -> int:
        """Seconds from the epoch (the solver's time axis)."""
        return int((at - self.epoch).total_seconds())

    def at(self, offset: int) -> datetime:
        """The instant of an offset."""
        return self.epoch + timedelta(seconds=offset)

    def delay(self, engineer_id: int, ticket_id: int) -> int:
        """How far his committed visit to the ticket is pushed behind the work before it
        (seconds; 0: as planned)."""
        return self.delays.get(engineer_id, {}).get(ticket_id, 0)


def projected_visit(
    departs: int, arrives: int, fixes: int, *, pushed: int, now: int
) -> tuple[int, int, int]:
    """A committed visit not set off yet as now expected (departure, arrival, end; offsets):
    it departs at its planned time pushed behind the work before it (``pushed``,
    `Snapshot.delay`: his job on site overruns, `optimizer.retimed`), and not before
    ``now`` when that is past (he has not set off); its drive and time on site keep their
    lengths. The re-dispatch review (`dispatch.redispatch`) and every read of the tickets'
    clocks (the board, the worklist, the ticket pages: `dispatch.expected`) read visits
    through this one rule."""
    leaves = max(departs + pushed, now)
    return leaves, leaves + arrives - departs, leaves + fixes - departs


def en_route_visit(
    departed: int, departs: int, arrives: int, fixes: int, *, now: int
) -> tuple[int, int]:
    """A committed visit he has set off for (at ``departed``) but not arrived at, as now
    expected (arrival, end; offsets): he arrives its planned drive (``arrives - departs``)
    after he set off, and not before ``now`` when that is past without an arrival (arriving
    now: overdue); its time on site keeps its planned length (``fixes - arrives``). The
    simulator's view moves a visit set off late the same way (`scenarios.live`
    ``departed``); the busy time of the snapshot (`_busy`, which pushes the visits after it)
    and every read of the tickets' clocks (`dispatch.expected`) read it through this rule."""
    arrival = max(departed + arrives - departs, now)
    return arrival, arrival + fixes - arrives


@dataclass(frozen=True, slots=True)
class UnderWay:
    """A visit set off for (en route or on site) as `_busy` reads it (offsets): when he set
    off (None: not recorded), arrives (on site: when he did) and ends."""

    departed: int | None
    arrives: int
    ends: int


@dataclass(frozen=True, slots=True)
class SeenWork:
    """`work_as_expected`'s answer: how far each committed visit not set off is pushed behind
    the work before it (engineer id -> ticket id -> seconds, `Snapshot.delays`; only the
    pushed ones) and each visit under way as now expected (ticket id -> `UnderWay`)."""

    delays: dict[int, dict[int, int]]
    under_way: dict[int, UnderWay]


def work_as_expected(
    session: Session, *, now: datetime, engineer_ids: Collection[int], durations: DurationLog
) -> SeenWork:
    """These engineers' committed work alone as `load_snapshot` at ``now`` reads it (the same
    `_busy` at the same epoch, ``now`` without its microseconds): the pushes of their visits
    not set off, and their visits under way (`SeenWork`). One query."""
    if not engineer_ids:
        return SeenWork({}, {})
    epoch = now.replace(microsecond=0)
    busy = _busy(session, sorted(engineer_ids), epoch, False, durations)
    return SeenWork(busy.delays, busy.under_way)


def load_snapshot(
    session: Session,
    *,
    now: datetime,
    region_id: int | None = None,
    region_ids: Collection[int] | None = None,
    pinned_only: bool = False,
    asked: int | None = None,
    durations: DurationLog | None = None,
) -> Snapshot:
    """Read engineers (active; of the given regions, if any), depots and suppliers at `now`.

    Engineers carry what route planning needs besides what a recommendation needs: van
    capacity, hour and km rates (in minor units, fen) and their absences (also cut out of
    their working windows already). Jobs already assigned to an engineer but not started
    block his time from departure to fix like an absence, and keep him busy until the
    last of them ends, at its site, with the free gap before a later one offered
    (`_busy`, `optimizer.free_gap`): all of them for a single-ticket
    recommendation, only the pinned ones for a region plan (`pinned_only`), which re-plans
    the others itself: their live holds count as stock again (`_replanned_holds`), since
    publishing the plan releases them and holds what it chose. `asked`: a ticket asked
    about again (a recommendation for an assigned ticket) whose own assignment and holds are
    no commitment of anyone's: its engineer is free for it, its held parts are there
    (`asked_view` derives the same from a snapshot of the whole world, for many tickets).
    `durations`: the log of finished jobs when the caller has it (`duration_log`'s answer).
    """
    epoch = now.replace(microsecond=0)
    stock = available_stock(session=session, now=now)
    if pinned_only or asked is not None:
        for key, qty in _replanned_holds(session, now, asked).items():
            stock[key] = stock.get(key, 0) + qty
    regions = None if region_id is None and region_ids is None else set(region_ids or ())
    if region_id is not None and regions is not None:
        regions.add(region_id)
    durations = duration_log(session) if durations is None else durations
    engineers, on_call, names, vans, busy = _engineers(
        session, epoch, stock, regions, pinned_only, durations, asked
    )
    depots, depot_names = _depots(session, epoch, stock)
    world = opt.DispatchWorld(
        epoch, engineers, depots, _suppliers(session), on_call,
        zone=_text_zone(session, regions),
    )  # fmt: skip
    return Snapshot(epoch, world, names, depot_names, vans, durations, busy.delays, busy.changes_at)


def asked_view(session: Session, base: Snapshot, ticket_id: int, *, now: datetime) -> Snapshot:
    """`load_snapshot(asked=ticket_id)` derived from ``base``, a snapshot of the whole world
    (every region, all commitments: `load_snapshot` without `pinned_only` or `asked`).

    What asking about a ticket again changes is small: its held parts count as stock again
    (their depots, and the vans' engineers) and the engineers it was committed to are free
    for it (rebuilt alone, as `load_snapshot` builds them). So many assigned tickets share
    one snapshot (the re-dispatch tick asks hundreds) instead of building one each, about a
    second apiece on a large world. Exact when ``base`` was taken at ``now``; a cached one
    errs as the cache does for an open ticket (`dispatch.snapshot_cache`).
    """
    holds = _replanned_holds(session, now, ticket_id)
    mine = select(Ticket.engineer_id).where(Ticket.id == ticket_id)
    booked = select(Assignment.engineer_id).where(
        Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
    )
    committed = {eid for eid in session.scalars(mine.union(booked)) if eid is not None}
    held_at = {depot for depot, _ in holds}
    vans = {eid for eid, van in base.van_depot_of.items() if van in held_at}
    world = base.world
    rebuild = {eid for eid in committed | vans if eid in world.engineer_row}
    if not rebuild and not held_at:
        return base
    stock: dict[tuple[int, int], int] = {}
    for eid in rebuild:
        van = base.van_depot_of.get(eid)
        if van is not None:
            own = world.engineers[world.engineer_row[eid]].van_stock
            stock.update({(van, part): qty for part, qty in own.items()})
    for key, qty in holds.items():
        stock[key] = stock.get(key, 0) + qty
    fresh, on_call, _, _, _ = _engineers(
        session, base.epoch, stock, None, False, base.durations, ticket_id, rebuild,
        max(0, base.offset(now)),
    )  # fmt: skip
    engineers, woken = _replaced(world, fresh, on_call, rebuild)
    depots = tuple(
        replace(d, stock=_plus(d.stock, d.id, holds)) if d.id in held_at else d
        for d in world.depots
    )
    view = opt.DispatchWorld(base.epoch, engineers, depots, world.suppliers, woken, zone=world.zone)
    return replace(base, world=view)


def _replaced(
    world: opt.DispatchWorld,
    fresh: Iterable[opt.Engineer],
    on_call: Iterable[opt.OnCall],
    rebuilt: Collection[int],
) -> tuple[tuple[opt.Engineer, ...], tuple[opt.OnCall, ...]]:
    """The world's engineers and on-call roster with the ``rebuilt`` ones read afresh."""
    by_id = {e.id: e for e in fresh}
    engineers = tuple(by_id.get(e.id, e) for e in world.engineers)
    woken = sorted(
        (*(o for o in world.on_call if o.engineer.id not in rebuilt), *on_call),
        key=lambda o: o.engineer.id,
    )
    return engineers, tuple(woken)


def patched(session: Session, base: Snapshot, *, now: datetime) -> Snapshot:
    """``base`` with the engineers whose job on site reads another end at ``now`` than when
    it was read (`Snapshot.changes_at`: past its planned end, or the overrun's end moved on)
    read again at ``now``, as `load_snapshot` reads them: the rest of the world stays as
    read. ``base`` itself when none changed."""
    at = base.offset(now)
    due = {eid for eid, t in base.changes_at.items() if t <= at}
    world = base.world
    due &= set(world.engineer_row)
    if not due:
        return base
    stock = {}
    for eid in due:
        van = base.van_depot_of.get(eid)
        if van is not None:
            own = world.engineers[world.engineer_row[eid]].van_stock
            stock.update({(van, part): qty for part, qty in own.items()})
    fresh, on_call, _, _, busy = _engineers(
        session, base.epoch, stock, None, False, base.durations, None, due, at
    )
    engineers, woken = _replaced(world, fresh, on_call, due)
    changes = {e: t for e, t in base.changes_at.items() if e not in due} | busy.changes_at
    delays = {e: d for e, d in base.delays.items() if e not in due} | busy.delays
    view = opt.DispatchWorld(
        base.epoch, engineers, world.depots, world.suppliers, woken, zone=world.zone
    )
    return replace(base, world=view, changes_at=changes, delays=delays)


def _plus(
    stock: Mapping[int, int], depot_id: int, holds: dict[tuple[int, int], int]
) -> dict[int, int]:
    """A depot's stock with the asked ticket's holds there counted again."""
    out = dict(stock)
    for (depot, part), qty in holds.items():
        if depot == depot_id:
            out[part] = out.get(part, 0) + qty
    return out


def ticket_policy(*columns: Any) -> Select[Any]:
    """``columns`` over tickets joined to their site, its contract and the contract's
    promise policy (Ticket -> Site -> Contract -> PromisePolicy): the one way a ticket
    reaches its policy, for each reader of the policy's fields."""
    return (
        select(*columns)
        .select_from(Ticket)
        .join(Site, Site.id == Ticket.site_id)
        .join(Contract, Contract.id == Site.contract_id)
        .join(PromisePolicy, PromisePolicy.id == Contract.policy_id)
    )


# What a job's planning duration needs (`planned_s`): its type, the type's standard and the
# policy's duration fields; `with_planning` puts them after the caller's columns.
_PLANNING = (
    Ticket.ticket_type_id,
    TicketType.service_min,
    PromisePolicy.plan_duration_pct,
    PromisePolicy.plan_min_jobs,
    PromisePolicy.plan_log_jobs,
)
PLANNING_COLUMNS = len(_PLANNING)


# The visit under way's own events: its active assignment's (outer-joined on `ACTIVE_VISIT`),
# not the ticket's first ones, which the promise clocks keep (`dispatch.clocks`): a visit
# handed back and assigned again is another engineer's drive. A visit under way without
# its own stamp (moved outside the transitions, or loaded from a world bundle written
# before the assignments had them) reads the ticket's, the only one there is.
ACTIVE_VISIT = (Assignment.ticket_id == Ticket.id) & (Assignment.status == AssignmentStatus.ACTIVE)
VISIT_DEPARTED = func.coalesce(Assignment.departed_at, Ticket.departed_at)
VISIT_ARRIVED = func.coalesce(Assignment.arrived_at, Ticket.arrived_at)


def with_planning(*columns: Any) -> Select[Any]:
    """`ticket_policy` with what `planned_s` needs after ``columns`` (the last
    `PLANNING_COLUMNS` of each row): how dispatch plans each ticket's job."""
    return ticket_policy(*columns, *_PLANNING).join(
        TicketType, TicketType.id == Ticket.ticket_type_id
    )


def planned_s(durations: DurationLog, row: Sequence[Any]) -> int:
    """The planning duration (`dispatch.durations`) of a `with_planning` row's job."""
    type_id, service_min, policy = _planning_of(row)
    return durations.planning_s(type_id, service_min * 60, policy)


def on_site_ends(durations: DurationLog, row: Sequence[Any], started_at: int, now: int) -> int:
    """When a `with_planning` row's job on site since ``started_at`` ends, seen at ``now``:
    its planned end, or later once it runs past it (`optimizer.overrun_ends`, the rule the
    simulator's view reads its engineers on site with)."""
    type_id, service_min, policy = _planning_of(row)
    return durations.ends_at(
        type_id, service_min * 60, policy, started_at=started_at,
        planned_s=durations.planning_s(type_id, service_min * 60, policy), now=now,
    )  # fmt: skip


def on_site_changes(
    durations: DurationLog, row: Sequence[Any], started_at: int, now: int
) -> int | None:
    """When `on_site_ends` may first read another end for the same job (None: never)."""
    type_id, service_min, policy = _planning_of(row)
    return durations.changes_at(
        type_id, service_min * 60, policy, started_at=started_at,
        planned_s=durations.planning_s(type_id, service_min * 60, policy), now=now,
    )  # fmt: skip


def _planning_of(row: Sequence[Any]) -> tuple[int, int, DurationPolicy]:
    type_id, service_min, pct, min_jobs, log_jobs = row[-PLANNING_COLUMNS:]
    policy = duration_policy(
        {"plan_duration_pct": pct, "plan_min_jobs": min_jobs, "plan_log_jobs": log_jobs}
    )
    return type_id, service_min, policy


def duration_log(session: Session) -> DurationLog:
    """The newest finished jobs' service durations (arrival to fix), oldest first, to plan
    jobs with: as many as the widest policy's `plan_log_jobs` (each policy reads its own)."""
    window = session.scalar(select(func.max(PromisePolicy.plan_log_jobs))) or DEFAULT_LOG_JOBS
    stmt = (
        select(Ticket.ticket_type_id, TicketType.service_min, Ticket.arrived_at, Ticket.fixed_at)
        .join(TicketType, TicketType.id == Ticket.ticket_type_id)
        .where(Ticket.arrived_at.is_not(None), Ticket.fixed_at.is_not(None))
        .order_by(Ticket.fixed_at.desc(), Ticket.id.desc())
        .limit(window)
    )
    newest_first = [
        (type_id, minutes * 60, int((fixed - arrived).total_seconds()))
        for type_id, minutes, arrived, fixed in session.execute(stmt)
        if arrived is not None and fixed is not None  # filtered in SQL; for the type checker
    ]
    return DurationLog.of(reversed(newest_first))


def _text_zone(session: Session, regions: set[int] | None) -> ZoneInfo | None:
    """The zone the solver's texts state times in: the regions' own, when they share one."""
    zones = {tz for rid, tz in _timezones(session).items() if regions is None or rid in regions}
    return ZoneInfo(zones.pop()) if len(zones) == 1 else None


def _timezones(session: Session) -> dict[int, str]:
    return {rid: tz for rid, tz in session.execute(select(Region.id, Region.timezone))}


def _engineers(
    session: Session,
    epoch: datetime,
    stock: dict[tuple[int, int], int],
    regions: Collection[int] | None,
    pinned_only: bool,
    durations: DurationLog,
    asked: int | None = None,
    engineer_ids: Collection[int] | None = None,
    at: int = 0,
) -> tuple[tuple[opt.Engineer, ...], tuple[opt.OnCall, ...], dict[int, str], dict[int, int], _Busy]:
    """Engineers at work, and those on call now or later in the horizon (`opt.OnCall`),
    and their committed work as read (`_busy`); ``engineer_ids``: only those; ``at``: their
    committed work and position read at that offset from ``epoch`` (0: at it)."""
    stmt = select(Engineer).where(Engineer.active.is_(True)).order_by(Engineer.id)
    if regions is not None:
        stmt = stmt.where(Engineer.region_id.in_(sorted(regions)))
    if engineer_ids is not None:
        stmt = stmt.where(Engineer.id.in_(sorted(engineer_ids)))
    rows = list(session.scalars(stmt))
    ids = [e.id for e in rows]
    lines = {pid: code for pid, code in session.execute(select(ProductLine.id, ProductLine.code))}
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for s in session.scalars(select(EngineerSkill).where(EngineerSkill.engineer_id.in_(ids))):
        skills[s.engineer_id][lines[s.product_line_id]] = s.level
    windows, absences, on_call_windows, shifts = _windows(session, rows, epoch, pinned_only, asked)
    busy = _busy(session, ids, epoch, pinned_only, durations, asked, at)
    van_stock: dict[int, dict[int, int]] = defaultdict(dict)
    for (depot_id, part_id), qty in stock.items():
        van_stock[depot_id][part_id] = qty
    dedicated: dict[int, set[int]] = defaultdict(set)
    for site_id, eng in session.execute(
        select(Site.id, Site.dedicated_engineer_id).where(Site.dedicated_engineer_id.is_not(None))
    ):
        if eng is not None:  # filtered in SQL; for the type checker
            dedicated[eng].add(site_id)
    worked = overtime_worked(session, rows, epoch)
    rules = list(session.scalars(select(LabourRule)))
    by_id = {r.id: LabourRules.of(r) for r in rules}
    by_region = {r.region_id: by_id[r.id] for r in rules if r.region_id is not None}
    out, on_call = [], []
    for e in rows:
        labour = rules_for(
            own_rule_id=e.labour_rule_id, region_id=e.region_id, by_id=by_id, by_region=by_region
        )
        located = e.current_lat is not None and e.current_lon is not None
        home = opt.Location(e.home_lat, e.home_lon)
        here = opt.Location(
            e.current_lat if located else e.home_lat,  # type: ignore[arg-type]
            e.current_lon if located else e.home_lon,  # type: ignore[arg-type]
        )
        committed = busy.committed.get(e.id, _FREE)
        # no work in progress now: nothing committed, or only visits that leave later (a
        # gap from now, from where he stands; he goes home for the night all the same)
        idle = committed.busy_until is None or (
            committed.gap is not None and committed.gap.origin is None
        )
        if located and e.position_at is not None and idle:
            # off shift since he reported it, he went home: the simulator's rule (issue 16)
            since = _offset(e.position_at, epoch)
            here = opt.standing_at(here, since, home, shifts[e.id], at)
        engineer = opt.Engineer(
            e.id,
            here,
            skills[e.id],
            windows[e.id],
            home=home,
            busy_until=committed.busy_until,
            busy_location=committed.busy_location,
            gap=committed.gap,
            van_stock=van_stock.get(e.van_depot_id, {}) if e.van_depot_id else {},
            dedicated_sites=frozenset(dedicated[e.id]),
            absences=absences[e.id],
            capacity=e.van_capacity,
            cost_per_hour=minor(e.cost_per_hour),
            cost_per_km=minor(e.cost_per_km),
            **solver_fields(labour, **worked.get(e.id, {})),
        )
        out.append(engineer)
        if on_call_windows[e.id]:
            on_call.append(on_call_of(engineer, on_call_windows[e.id], labour))
    vans = {e.id: e.van_depot_id for e in rows if e.van_depot_id is not None}
    return tuple(out), tuple(on_call), {e.id: e.name for e in rows}, vans, busy


def overtime_worked(
    session: Session, engineers: list[Engineer], now: datetime
) -> dict[int, dict[str, int]]:
    """Overtime each engineer already worked this local day and week, from recorded work.

    A job's end is its ticket's ``fixed_at``; past the end of the shift window it was
    worked in, it counts as that window's overtime; a job he set off for after that end
    while on call (a call-out) counts whole, departure to fix, against the same caps
    (`dispatch.labour.tally_overtime`, the simulator's rule). Returns
    ``{engineer id: {"used_day_s": .., "used_week_s": ..}}`` for engineers with overtime
    this week, the keywords of `dispatch.labour.solver_fields`.
    """
    ids = [e.id for e in engineers]
    zones = _timezones(session)
    starts = {
        e.id: day_and_week_start(now, zones.get(e.region_id, DEFAULT_TIMEZONE)) for e in engineers
    }
    if not starts:
        return {}
    since = min(week for _, week in starts.values()) - timedelta(days=1)
    ends: dict[int, list[tuple[int | None, int]]] = defaultdict(list)
    stmt = select(Ticket.engineer_id, Ticket.departed_at, Ticket.fixed_at).where(
        Ticket.engineer_id.in_(ids), Ticket.fixed_at > since, Ticket.fixed_at <= now
    )
    for engineer_id, departed_at, fixed_at in session.execute(stmt):
        if engineer_id is not None and fixed_at is not None:  # filtered in SQL
            start = None if departed_at is None else int((departed_at - now).total_seconds())
            ends[engineer_id].append((start, int((fixed_at - now).total_seconds())))
    if not ends:
        return {}
    shifts: dict[int, list[WeeklyShift]] = defaultdict(list)
    on_call: dict[int, list[WeeklyShift]] = defaultdict(list)
    for s in session.scalars(select(Shift).where(Shift.engineer_id.in_(list(ends)))):
        (on_call if s.on_call else shifts)[s.engineer_id].append(
            WeeklyShift(s.weekday, s.starts_at, s.ends_at)
        )
    out: dict[int, dict[str, int]] = {}
    for e in engineers:
        if e.id not in ends:
            continue
        day, week = starts[e.id]
        zone = zones.get(e.region_id, DEFAULT_TIMEZONE)
        windows, woken = (
            to_offsets(working_windows(p, [], start=since, end=now + HORIZON, timezone=zone), now)
            for p in (shifts[e.id], on_call[e.id])
        )
        used = overtime_used(
            tally_overtime({}, windows, ends[e.id], woken), now=0,
            day_start=int((day - now).total_seconds()),
            week_start=int((week - now).total_seconds()),
        )  # fmt: skip
        if any(used):
            out[e.id] = {"used_day_s": used[0], "used_week_s": used[1]}
    return out


def _windows(
    session: Session,
    engineers: list[Engineer],
    epoch: datetime,
    pinned_only: bool,
    asked: int | None = None,
) -> tuple[
    dict[int, tuple[opt.Window, ...]],
    dict[int, tuple[opt.Window, ...]],
    dict[int, tuple[opt.Window, ...]],
    dict[int, tuple[opt.Window, ...]],
]:
    """Each engineer's working windows (shifts minus absences), absences, on-call
    windows (on-call shifts minus absences) and plain shifts over the horizon."""
    ids = [e.id for e in engineers]
    start, end = epoch - LOOKBACK, epoch + HORIZON
    shifts: dict[int, list[WeeklyShift]] = defaultdict(list)
    on_call: dict[int, list[WeeklyShift]] = defaultdict(list)
    # On-call shifts are not working time: a call-out wakes him at a cost (`opt.OnCall`).
    for s in session.scalars(select(Shift).where(Shift.engineer_id.in_(ids))):
        (on_call if s.on_call else shifts)[s.engineer_id].append(
            WeeklyShift(s.weekday, s.starts_at, s.ends_at)
        )
    absences: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    stmt = select(Absence).where(
        Absence.engineer_id.in_(ids), Absence.ends_at > start, Absence.starts_at < end
    )
    for a in session.scalars(stmt):
        absences[a.engineer_id].append((a.starts_at, a.ends_at))
    for engineer_id, span in _assigned_work(session, ids, start, end, pinned_only, asked):
        absences[engineer_id].append(span)
    zones = _timezones(session)

    def offsets(
        e: Engineer, pattern: list[WeeklyShift], cut: bool = True
    ) -> tuple[opt.Window, ...]:
        if not pattern:
            return ()
        zone = zones.get(e.region_id, DEFAULT_TIMEZONE)
        holes = absences[e.id] if cut else []
        return to_offsets(
            working_windows(pattern, holes, start=start, end=end, timezone=zone), epoch
        )

    windows = {e.id: offsets(e, shifts[e.id]) for e in engineers}
    on_call_windows = {e.id: offsets(e, on_call[e.id]) for e in engineers}
    merged = {e.id: _merged(absences[e.id], start, end, epoch) for e in engineers}
    plain = {e.id: offsets(e, shifts[e.id], cut=False) for e in engineers}
    return windows, merged, on_call_windows, plain


def _replanned_holds(
    session: Session, now: datetime, asked: int | None = None
) -> dict[tuple[int, int], int]:
    """Units held for tickets a plan re-plans (assigned, unpinned, not started), by (depot, part);
    with `asked`, only that ticket's (pinned or not: it is asked about again).

    Without them a re-plan saw a ticket's own hold as taken: holding a depot's last unit, the
    ticket lost its pickup (issue 17). A hold behind a shipment under way is not free: the
    ticket keeps that shipment whoever goes (`dispatch.underway`).
    """
    r = Reservation
    shipping = select(Shipment.id).where(Shipment.reservation_id == r.id, Shipment.status.in_(OPEN))
    stmt = (
        select(r.depot_id, r.part_id, func.sum(r.quantity))
        .join(Ticket, Ticket.id == r.ticket_id)
        .join(Assignment, Assignment.ticket_id == Ticket.id)
        .where(
            r.status == ReservationStatus.RESERVED,
            r.expires_at > now,
            Ticket.status == TicketStatus.ASSIGNED,
            Assignment.status == AssignmentStatus.ACTIVE,
            Assignment.pinned.is_(False) if asked is None else Ticket.id == asked,
            ~shipping.exists(),
        )
        .group_by(r.depot_id, r.part_id)
    )
    return {(d, p): int(q) for d, p, q in session.execute(stmt)}


def _assigned_work(
    session: Session,
    ids: list[int],
    start: datetime,
    end: datetime,
    pinned_only: bool,
    asked: int | None = None,
) -> list[tuple[int, tuple[datetime, datetime]]]:
    """Active assignments of tickets not yet started: departure to fix, per engineer."""
    stmt = (
        select(Assignment.engineer_id, Assignment.departs_at, Assignment.fixes_at)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(
            Assignment.engineer_id.in_(ids),
            Assignment.status == AssignmentStatus.ACTIVE,
            Ticket.status == TicketStatus.ASSIGNED,
            Assignment.fixes_at > start,
            Assignment.departs_at < end,
        )
    )
    if pinned_only:
        stmt = stmt.where(Assignment.pinned.is_(True))
    if asked is not None:
        stmt = stmt.where(Assignment.ticket_id != asked)
    return [(eng, (dep, fix)) for eng, dep, fix in session.execute(stmt) if fix > dep]


def _merged(
    spans: list[tuple[datetime, datetime]], start: datetime, end: datetime, epoch: datetime
) -> tuple[opt.Window, ...]:
    """Absences clipped to the horizon as sorted, non-overlapping offset windows."""
    out: list[list[int]] = []
    for a, b in sorted((max(a, start), min(b, end)) for a, b in spans):
        lo, hi = int((a - epoch).total_seconds()), int((b - epoch).total_seconds())
        if hi <= lo:
            continue
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


_FREE = opt.Committed(None, None, None)


def _offset(at: datetime, epoch: datetime) -> int:
    return int((at - epoch).total_seconds())


@dataclass(frozen=True, slots=True)
class _Busy:
    """What `_busy` reads: each engineer's committed time, how far each of his committed
    visits is pushed behind the work before it (engineer id -> ticket id -> seconds,
    `optimizer.retimed`; only the pushed ones), and when his job on site reads differently
    (engineer id -> offset, `optimizer.overrun_changes_at`: a cached snapshot is stale for
    him from then), and each visit under way as read (ticket id -> `UnderWay`)."""

    committed: dict[int, opt.Committed]
    delays: dict[int, dict[int, int]]
    changes_at: dict[int, int]
    under_way: dict[int, UnderWay]  # ticket id -> its visit under way as read


def _busy(
    session: Session, engineer_ids: Iterable[int], epoch: datetime, pinned_only: bool,
    durations: DurationLog, asked: int | None = None, at: int = 0,
) -> _Busy:  # fmt: skip
    """When and where each engineer's committed work ends: his next drive starts there.

    Committed work is the job in progress (on site, en route) and the assigned jobs not
    yet started (all of them for a recommendation, only the pinned ones for a plan, which
    re-plans the others). Each ends at its site:

    - on site: arrival + planning duration (`dispatch.durations`); past that, the same
      quantile among the logged jobs that ran longer, at least now (`on_site_ends`);
    - en route: `en_route_visit` (his planned drive from when he set off, not before now,
      then his planned time on site); without an assignment or a recorded departure: now +
      the planning duration, at least the planned fix (which errs early);
    - assigned: the assignment's planned fix (its drive is still ahead), at least now + the
      planning duration.
    Departure and arrival are the visit's own (`VISIT_DEPARTED`, `VISIT_ARRIVED`), not the
    ticket's first ones: a visit handed back and assigned again runs from its new events.

    The assigned visits are read re-timed behind the work before them (`optimizer.retimed`:
    behind an overrun a visit departs, arrives and ends later, and ``busy_until`` with it).
    The last end is ``busy_until`` (a job that does not fit before his committed work is
    ranked from where the last of it ends); the time before a visit that leaves later than
    his back-to-back work ends is a gap a recommendation may fill (`optimizer.free_gap`,
    the simulator's rule, issue 16). Assigned jobs leaving after the horizon are not read.
    An engineer with nothing committed is free: the solver starts him at his position.
    ``at``: the offset from ``epoch`` the work is read at (a cached snapshot's engineers
    patched later, `dispatch.snapshot_cache`); 0: at the epoch.
    """
    stmt = (
        with_planning(
            Ticket.engineer_id,
            Ticket.status,
            VISIT_DEPARTED,
            VISIT_ARRIVED,
            Site.lat,
            Site.lon,
            Assignment.departs_at,
            Assignment.arrives_at,
            Assignment.fixes_at,
            Assignment.pinned,
            Ticket.id,
        )
        .outerjoin(Assignment, ACTIVE_VISIT)
        .where(
            Ticket.engineer_id.in_(list(engineer_ids)),
            Ticket.status.in_([TicketStatus.ASSIGNED, TicketStatus.EN_ROUTE, TicketStatus.ON_SITE]),
            Ticket.id != (asked or 0),  # the ticket asked about is not his other work
        )
    )
    now = epoch + timedelta(seconds=at)
    work: dict[int, list[opt.Reserved]] = defaultdict(list)
    tickets: dict[int, list[int]] = defaultdict(list)
    changes: dict[int, int] = {}
    under_way: dict[int, UnderWay] = {}
    for row in session.execute(stmt):
        (engineer_id, status, departed_at, arrived_at, lat, lon, departs, arrives, fixes, pinned,
         tid) = row[:11]  # fmt: skip
        if engineer_id is None:  # filtered in SQL; for the type checker
            continue
        service = timedelta(seconds=planned_s(durations, row))
        leaves = arrive = now  # work in progress: under way now
        if status is TicketStatus.ASSIGNED:
            if fixes is None or (pinned_only and not pinned) or departs >= epoch + HORIZON:
                continue  # no schedule, the plan's own ticket, or beyond the snapshot
            end = max(fixes, now + service)
            leaves, arrive = departs, arrives or departs
        elif status is TicketStatus.ON_SITE and arrived_at is not None:
            # past its planned end he is still busy a while (`optimizer.overrun_ends`)
            started = _offset(arrived_at, epoch)
            end = epoch + timedelta(seconds=on_site_ends(durations, row, started, at))
            moves = on_site_changes(durations, row, started, at)
            if moves is not None:
                changes[engineer_id] = min(moves, changes.get(engineer_id, moves))
            departed = None if departed_at is None else _offset(departed_at, epoch)
            under_way[tid] = UnderWay(departed, started, _offset(end, epoch))
        elif (status is TicketStatus.EN_ROUTE and departed_at is not None
              and arrives is not None and fixes is not None):  # fmt: skip
            departed = _offset(departed_at, epoch)
            due, ends = en_route_visit(
                departed, _offset(departs, epoch), _offset(arrives, epoch),
                _offset(fixes, epoch), now=at,
            )  # fmt: skip
            if due > at:  # once past it without an arrival, he reads arriving now
                changes[engineer_id] = min(due + 1, changes.get(engineer_id, due + 1))
            arrive, end = epoch + timedelta(seconds=due), epoch + timedelta(seconds=ends)
            under_way[tid] = UnderWay(departed, due, ends)
        else:  # en route without a plan or departure (or on site without an arrival time)
            end = max(now + service, fixes or now)
        leg = (_offset(leaves, epoch), _offset(arrive, epoch), _offset(end, epoch))
        site = opt.Location(lat, lon)
        work[engineer_id].append(opt.Reserved(*leg, site, status is not TicketStatus.ASSIGNED))
        tickets[engineer_id].append(tid)
    delays: dict[int, dict[int, int]] = {}
    for eid, jobs in work.items():
        for tid, planned, seen in zip(tickets[eid], jobs, opt.retimed(jobs), strict=True):
            if seen.departs > planned.departs:
                delays.setdefault(eid, {})[tid] = seen.departs - planned.departs
    committed = {eid: opt.free_gap(at, jobs) for eid, jobs in work.items()}
    return _Busy(committed, delays, changes, under_way)


def _depots(
    session: Session, epoch: datetime, stock: dict[tuple[int, int], int]
) -> tuple[tuple[opt.Depot, ...], dict[int, str]]:
    by_depot: dict[int, dict[int, int]] = defaultdict(dict)
    for (depot_id, part_id), qty in stock.items():
        by_depot[depot_id][part_id] = qty
    zones = _timezones(session)
    rows = session.scalars(select(Depot).where(Depot.kind != DepotKind.VAN).order_by(Depot.id))
    depots, names = [], {}
    for d in rows:
        if d.lat is None or d.lon is None:
            continue
        opening: tuple[tuple[int, int], ...] = ()
        if d.opens_at is not None and d.closes_at is not None:
            daily = [WeeklyShift(day, d.opens_at, d.closes_at) for day in ALL_WEEK]
            zone = zones.get(d.region_id, DEFAULT_TIMEZONE) if d.region_id else DEFAULT_TIMEZONE
            opening = to_offsets(
                working_windows(
                    daily, [], start=epoch - LOOKBACK, end=epoch + HORIZON, timezone=zone
                ),
                epoch,
            )
            opening = opening or ((-1, 0),)  # closed for the whole horizon
        depots.append(
            opt.Depot(d.id, opt.Location(d.lat, d.lon), by_depot[d.id], opening, pick_s=pick_s(d))
        )
        names[d.id] = d.name
    return tuple(depots), names


def _suppliers(session: Session) -> tuple[opt.Supplier, ...]:
    parts: dict[int, dict[int, int]] = defaultdict(dict)
    for part_id, supplier_id in session.execute(
        select(Part.id, Part.supplier_id).where(Part.supplier_id.is_not(None))
    ):
        if supplier_id is not None:  # filtered in SQL; for the type checker
            parts[supplier_id][part_id] = SUPPLIER_QTY
    return tuple(
        opt.Supplier(s.id, parts[s.id], s.lead_time_hours * 3_600, transit_s(s))
        for s in session.scalars(select(Supplier).order_by(Supplier.id))
    )


def job_for(session: Session, snapshot: Snapshot, ticket_id: int) -> opt.Ticket:
    """The solver's view of one ticket: site, skills, parts and substitutes, deadlines.

    Its promises come from its contract's policy: the deadlines (the depart one only when
    the severity has a depart clock, so a recommendation does not pick a busy engineer who
    sets off late), hard arrival, the swap and ship promises (``ship_within_s``, which plans
    use instead of `PlanParams.ship_within_s`) and what breaking each clock costs. Its
    service time is the planning duration of its type (`dispatch.durations`: a quantile
    learnt from the snapshot's log of finished jobs, the contract's policy). Parts already
    shipped to its site (at intake, `dispatch.underway`) are what every option waits for.
    """
    ticket = _ticket(session, ticket_id)
    return _job(session, snapshot, ticket, _underway(session, snapshot, ticket.id))


def reused_job(session: Session, snapshot: Snapshot, ticket_id: int) -> opt.Ticket:
    """`job_for`, kept on the snapshot by the ticket's version for the next request.

    For reads on a shared snapshot (the API's recommendations): every change of the ticket
    row bumps its version; its skills and parts are written with it at intake; the rest is
    audited master data, whose change makes a new snapshot (`dispatch.snapshot_cache`); the
    shipments under way are read each time. Its eleven queries were a sixth of a cached
    recommendation's CPU. A ticket changed and not flushed yet is worked out afresh.
    """
    ticket = _ticket(session, ticket_id)
    underway = _underway(session, snapshot, ticket.id)
    if session.is_modified(ticket):
        return _job(session, snapshot, ticket, underway)
    key = (ticket.id, ticket.version)
    job = snapshot.jobs.get(key)
    if job is None:
        job = snapshot.jobs[key] = _job(session, snapshot, ticket, None)
    return replace(job, parts_underway=underway)


def _ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFoundError("ticket", ticket_id)
    return ticket


def _underway(session: Session, snapshot: Snapshot, ticket_id: int) -> opt.PartsPlan | None:
    """The plan of the parts already shipped to the ticket's site (`dispatch.underway`)."""
    return underway_plan(
        open_shipments(session, ticket_id), snapshot.offset,
        {d.id: d.ship_lead_s for d in snapshot.world.depots},
    )  # fmt: skip


def _job(
    session: Session, snapshot: Snapshot, ticket: Ticket, underway: opt.PartsPlan | None
) -> opt.Ticket:
    site = session.get(Site, ticket.site_id)
    ticket_type = session.get(TicketType, ticket.ticket_type_id)
    assert site is not None  # foreign key
    assert ticket_type is not None  # foreign key
    level, policy = session.execute(
        select(PolicySeverity, PromisePolicy)
        .join(PromisePolicy, PromisePolicy.id == PolicySeverity.policy_id)
        .join(Contract, Contract.policy_id == PromisePolicy.id)
        .where(Contract.id == site.contract_id, PolicySeverity.code == ticket.severity)
    ).one()
    lines = {pid: code for pid, code in session.execute(select(ProductLine.id, ProductLine.code))}
    skills = {
        lines[s.product_line_id]: s.min_level
        for s in session.scalars(select(TicketSkill).where(TicketSkill.ticket_id == ticket.id))
    }
    needs = list(session.scalars(select(TicketPart).where(TicketPart.ticket_id == ticket.id)))
    part_ids = [n.part_id for n in needs]
    substitutes: dict[int, tuple[int, ...]] = defaultdict(tuple)
    for part_id, sub in session.execute(
        select(PartSubstitute.part_id, PartSubstitute.substitute_id)
        .where(PartSubstitute.part_id.in_(part_ids))
        .order_by(PartSubstitute.part_id, PartSubstitute.substitute_id)
    ):
        substitutes[part_id] += (sub,)
    return opt.Ticket(
        ticket.id,
        opt.Location(site.lat, site.lon),
        site.id,
        skills,
        snapshot.durations.planning_s(
            ticket_type.id, ticket_type.service_min * 60, duration_policy(policy)
        ),
        reported_at=snapshot.offset(ticket.reported_at),
        depart_by=_maybe(snapshot, ticket.depart_by),
        arrive_by=_maybe(snapshot, ticket.arrive_by),
        fix_by=_maybe(snapshot, ticket.fix_by),
        parts=tuple(opt.PartLine(n.part_id, n.quantity) for n in needs),
        substitutes=dict(substitutes),
        severity_rank=level.rank - 1,
        dedicated_engineer=site.dedicated_engineer_id,
        loaner_units=_loaner_units(session, ticket.asset_id),
        hard_arrival=level.arrive_hard and ticket.arrive_by is not None,
        not_before=_maybe(snapshot, ticket.agreed_arrival_at),
        ship_within_s=policy.ship_within_min * 60,  # the contract's, not the default
        swap_within_s=policy.swap_within_min * 60,
        penalties=clock_penalties(level, policy),
        parts_underway=underway,
    )  # fmt: skip


def _maybe(snapshot: Snapshot, at: datetime | None) -> int | None:
    return None if at is None else snapshot.offset(at)


def _loaner_units(session: Session, asset_id: int | None) -> tuple[int, ...]:
    """Key parts that fit the asset's model: units of equal function a depot can lend."""
    if asset_id is None:
        return ()
    asset = session.get(Asset, asset_id)
    if asset is None:  # pragma: no cover - foreign key
        return ()
    stmt = (
        select(Part.id)
        .join(PartFit, PartFit.part_id == Part.id)
        .where(PartFit.product_model_id == asset.product_model_id, Part.key_part.is_(True))
        .order_by(Part.id)
    )
    return tuple(session.scalars(stmt))
