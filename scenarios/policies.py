"""Dispatch policies: who goes, with which parts from where. Both return a `JobPlan`.

- optimised: the production fast path, `optimizer.recommend`, on the live view; its best
  option is taken as is (the same ranking a dispatcher sees first);
- naive: the baseline, "nearest idle engineer, first come first served": among qualified
  engineers on shift and idle now whose visit the labour rules allow (the straight drive and
  the service end by his shift's end plus his overtime allowance, `dispatch.labour`, the
  rules the optimizer plans with, judged with the same planning duration as the optimizer's
  screen and the bounds), the nearest one goes at once; parts from his van,
  else the nearest open depot that has them, else shipped by the part's supplier;
- naive_unlimited: the same without the labour rules (any idle engineer on shift, however
  far past his shift the visit runs): the baseline of before issue 16's fairness check.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from dispatch.labour import overtime_allowance_s
from dispatch.promises import compute_deadlines
from optimizer import (
    Driving,
    Held,
    Location,
    Option,
    PartLine,
    PartsPlan,
    PartsSource,
    RecommendParams,
    Ticket,
    TravelTimes,
    better_elsewhere,
    coordinates,
    divert,
    keeps_what_was_planned,
    make_room,
    nearest_driving,
    nearest_held,
    recommend,
    travel_at,
)
from scenarios.demand import DemandTicket
from scenarios.live import LiveState
from scenarios.model import SimDepot, SimSite, SimWorld

ALTERNATIVES = 5  # options a re-dispatch looks through for another engineer in time


@dataclass(frozen=True, slots=True)
class Deadlines:
    arrive_by: int | None
    fix_by: int | None
    ship_within_s: int
    swap_within_s: int
    respond_by: int | None = None
    depart_by: int | None = None


@dataclass(frozen=True, slots=True)
class JobPlan:
    """What the dispatcher decided for one ticket (times on the simulation's axis)."""

    engineer_id: int
    departs_at: int
    arrives_at: int  # as planned (the simulation measures the real one)
    source: PartsSource
    uses: tuple[tuple[int, int, int], ...] = ()  # (depot id or -supplier id, part id, qty)
    pickup_depot: int | None = None
    ships_at: int | None = None
    part_arrives_at: int | None = None
    callout_cost: int | None = None  # fen: an on-call engineer woken (None: at work)


def deadlines_of(world: SimWorld, site: SimSite, t: DemandTicket) -> Deadlines:
    """The ticket's promise deadlines from its contract's policy (dispatch.promises)."""
    policy = world.policies[site.policy_id]
    severity = policy.by_rank(t.rank)
    reported = world.epoch + timedelta(seconds=t.at_s)
    d = compute_deadlines(reported, severity.offsets)

    def offset(at: object) -> int | None:
        return None if at is None else int((at - world.epoch).total_seconds())  # type: ignore[operator]

    return Deadlines(
        offset(d.arrive_by), offset(d.fix_by),
        policy.ship_within_min * 60, policy.swap_within_min * 60,
        offset(d.respond_by), offset(d.depart_by),
    )  # fmt: skip


def optimizer_ticket(
    world: SimWorld, site: SimSite, t: DemandTicket, d: Deadlines, *, service_s: int | None = None,
    underway: PartsPlan | None = None,
) -> Ticket:  # fmt: skip
    """The ticket as the optimizer sees it at intake, with the same depart deadline the
    simulation measures (so the recommendation weighs the depart promise it is scored on),
    the swap promise and the clocks' penalties of its contract and severity; ``service_s``
    is its planning duration (`RunContext.planning_s`; None: the type's standard);
    ``underway``: the shipment ordered at intake (`optimizer.ship_at_intake`), which every
    option waits for."""
    severity = world.policies[site.policy_id].by_rank(t.rank)
    return Ticket(
        t.id, site.location, site.id, {t.line: t.level},
        t.planned_service_s if service_s is None else service_s,
        reported_at=t.at_s, depart_by=d.depart_by, arrive_by=d.arrive_by, fix_by=d.fix_by,
        parts=tuple(PartLine(p) for p in t.parts),
        substitutes={p: world.substitutes.get(p, ()) for p in t.parts},
        severity_rank=t.rank - 1, dedicated_engineer=site.dedicated_engineer_id,
        ship_within_s=d.ship_within_s, swap_within_s=d.swap_within_s,
        penalties=severity.penalties, parts_underway=underway,
    )  # fmt: skip


def decide_optimised(
    state: LiveState, ticket: Ticket, *, now: int, travel: TravelTimes, ship_within_s: int
) -> JobPlan | None:
    """The fast path: `recommend`'s best option, or None when nobody can take the ticket."""
    best = best_optimised(state, ticket, now=now, travel=travel, ship_within_s=ship_within_s)
    return None if best is None else job_plan(state, best)


def best_optimised(
    state: LiveState, ticket: Ticket, *, now: int, travel: TravelTimes, ship_within_s: int
) -> Option | None:
    """`recommend`'s best option on the live view (None: nobody can take the ticket)."""
    params = RecommendParams(max_options=1, ship_within_s=ship_within_s)
    return recommend(state.view(now), ticket, now=now, travel=travel, params=params).best


def room_optimised(
    state: LiveState, ticket: Ticket, best: Option | None, held: Callable[[int], Held], *,
    holders: Iterable[int], now: int, travel: TravelTimes, ship_within_s: int, limit: int,
) -> tuple[JobPlan, Held, JobPlan] | None:  # fmt: skip
    """`optimizer.make_room` on the live view: the `limit` nearest qualified engineers of
    ``holders`` (each holding the visit ``held(engineer)``, not departed), priced without
    it (`LiveState.without`). The new ticket's plan, the visit moved and its new plan."""
    view = state.view(now)
    near = nearest_held(view, ticket, holders, travel=travel, limit=limit)
    if not near:
        return None
    room = make_room(
        view, ticket, best, [held(eid) for eid in near],
        freed=lambda h: state.without(h.engineer_id, h.ticket.id, now), now=now,
        travel=travel, params=RecommendParams(max_options=1, ship_within_s=ship_within_s),
    )  # fmt: skip
    if room is None:
        return None
    return job_plan(state, room.option), room.held, job_plan(state, room.move)


def divert_optimised(
    state: LiveState, ticket: Ticket, best: Option | None, driving: Sequence[Driving], *,
    now: int, travel: TravelTimes, ship_within_s: int, limit: int,
) -> tuple[JobPlan, Driving, JobPlan] | None:  # fmt: skip
    """`optimizer.divert` on the live view: the `limit` nearest qualified engineers of
    ``driving``, each priced stopped where he is on the road (`LiveState.on_the_road`). The
    new ticket's plan, the drive it interrupts and its visit's new plan."""
    view = state.view(now)
    near = nearest_driving(view, ticket, driving, now=now, travel=travel, limit=limit)
    if not near:
        return None
    got = divert(
        view, ticket, best, near,
        freed=lambda d, at: state.on_the_road(d.engineer_id, d.ticket.id, at, now), now=now,
        travel=travel, params=RecommendParams(max_options=1, ship_within_s=ship_within_s),
    )  # fmt: skip
    if got is None:
        return None
    return job_plan(state, got.option), got.driving, job_plan(state, got.move)


def redispatch_optimised(
    state: LiveState, ticket: Ticket, *, now: int, travel: TravelTimes, ship_within_s: int,
    busy: int, departs_at: int, arrives_at: int, overrun: bool,
) -> JobPlan | None:  # fmt: skip
    """Another engineer than `busy` for a visit not departed yet, or None to keep it.

    The rules of `optimizer.reassign`: behind an overrunning job (`overrun`), another
    engineer who keeps every clock the plan (`departs_at`, `arrives_at` as planned) kept;
    otherwise one whose whole cost is below the plan's clocks at those (projected) times.
    """
    params = RecommendParams(max_options=ALTERNATIVES, ship_within_s=ship_within_s)
    rec = recommend(state.view(now), ticket, now=now, travel=travel, params=params)
    rule = keeps_what_was_planned if overrun else better_elsewhere
    better = rule(rec, ticket, engineer_id=busy, departs_at=departs_at, arrives_at=arrives_at)
    return None if better is None else job_plan(state, better)


def job_plan(state: LiveState, best: Option) -> JobPlan:
    """A recommendation's option as the simulation's plan (parts from the van when it has them)."""
    parts = best.parts
    engineer_van = state.van_of[best.engineer_id]
    uses = []
    for use in parts.uses:
        if (
            engineer_van is not None
            and state.available((engineer_van, use.part_id)) >= use.qty
            and (parts.source in (PartsSource.VAN, PartsSource.PICKUP))
        ):
            uses.append((engineer_van, use.part_id, use.qty))
        elif parts.depot_id is not None:
            uses.append((parts.depot_id, use.part_id, use.qty))
        else:
            uses.append((-(parts.supplier_id or 0), use.part_id, use.qty))
    return JobPlan(
        best.engineer_id, best.departs_at, best.arrives_at, parts.source, tuple(uses),
        parts.depot_id if parts.source == PartsSource.PICKUP else None,
        parts.ships_at, parts.part_arrives_at, best.callout_cost if best.callout else None,
    )  # fmt: skip


def underway_plan(engineer_id: int, departs_at: int, arrives_at: int, parts: PartsPlan) -> JobPlan:
    """A visit to a ticket whose parts were shipped at intake: it waits for them."""
    source = parts.depot_id if parts.depot_id is not None else -(parts.supplier_id or 0)
    return JobPlan(
        engineer_id, departs_at, arrives_at, PartsSource.SHIPMENT,
        tuple((source, u.part_id, u.qty) for u in parts.uses),
        ships_at=parts.ships_at, part_arrives_at=parts.part_arrives_at,
    )  # fmt: skip


class NaiveDispatcher:
    """Nearest idle qualified engineer on shift, at once; parts van > nearest depot > supplier.

    `lawful`: only engineers whose visit their labour rules allow (a real dispatcher's
    limit); False: any, as the naive baseline before issue 16.
    """

    def __init__(
        self, world: SimWorld, state: LiveState, travel: TravelTimes, *, lawful: bool = True
    ) -> None:
        self.world, self.state, self.travel, self.lawful = world, state, travel, lawful
        self.ids = [e.id for e in world.engineers]
        self.skills = [e.skills for e in world.engineers]
        self.depots = [d for d in world.depots if d.location is not None]
        self.depot_xy = coordinates([d.location for d in self.depots if d.location])
        self.supplier_of = {p.id: p.supplier_id for p in world.parts.values()}
        self._qualified: dict[tuple[str, int], list[int]] = {}  # skills are fixed in a run
        # Per engineer row, the end of the working window he is in (None: off shift), valid
        # from `_ends_at` until the next window boundary of anyone (`_ends_until`): the
        # windows are fixed in a run, and tickets come minutes apart, shifts change hourly.
        self._ends: list[int | None] = []
        self._ends_at, self._ends_until = 1, 0

    def qualified(self, line: str, level: int) -> list[int]:
        """The rows of the engineers with that line at that level or above, in world order."""
        key = (line, level)
        if key not in self._qualified:
            self._qualified[key] = [
                i for i, skills in enumerate(self.skills) if skills.get(line, 0) >= level
            ]
        return self._qualified[key]

    def _shift_end(self, eid: int, now: int) -> int | None:
        """The end of the working window he is in at `now` (None: off shift)."""
        windows = self.state.windows[eid]
        i = bisect.bisect_right(windows, (now, 1 << 62)) - 1
        return windows[i][1] if i >= 0 and windows[i][0] <= now < windows[i][1] else None

    def shift_ends(self, now: int) -> list[int | None]:
        """`_shift_end` of every engineer row at `now`, recomputed only when `now` leaves
        the span where nobody's window starts or ends."""
        if not self._ends_at <= now < self._ends_until:
            ends: list[int | None] = []
            until = 1 << 62
            for eid in self.ids:
                windows = self.state.windows[eid]
                i = bisect.bisect_right(windows, (now, 1 << 62)) - 1
                if i + 1 < len(windows):  # the next window's start changes the answer
                    until = min(until, windows[i + 1][0])
                if i >= 0 and windows[i][0] <= now < windows[i][1]:
                    ends.append(windows[i][1])
                    until = min(until, windows[i][1])
                else:
                    ends.append(None)
            self._ends, self._ends_at, self._ends_until = ends, now, until
        return self._ends

    def _allowed(self, eid: int, now: int, ends_at: int, end: int | None = None) -> bool:
        """His labour rules allow a visit ending at `ends_at` (overtime used so far counted);
        `end`: his window's end at `now`, when the caller knows it."""
        if end is None:
            end = self._shift_end(eid, now)
        if end is None:
            return False
        if ends_at <= end:  # within the shift: no overtime, whatever his allowance (>= 0)
            return True
        rules = self.state.labour[eid].labour
        day, week = self.state.overtime_used(eid, now)
        allowance = (
            overtime_allowance_s(rules, used_day_s=day, used_week_s=week)
            if rules.start_into_overtime
            else 0
        )
        return ends_at <= end + allowance

    def decide(
        self, t: DemandTicket, site: SimSite, now: int, *, service_s: int | None = None,
        underway: PartsPlan | None = None,
    ) -> JobPlan | None:  # fmt: skip
        """Plan the ticket now, or None to leave it queued (nobody idle and qualified).

        ``service_s``: the duration the labour rules judge the visit with, the planning
        duration dispatch plans with (`RunContext.planning_s`), so the baseline and the
        optimizer's screen apply one rule to one duration (None: the type's standard).
        ``underway``: the parts shipped at intake; the visit waits for them."""
        service = t.planned_service_s if service_s is None else service_s
        state = self.state
        ids = self.ids
        ends = self.shift_ends(now)
        rows = [  # idle: not at work, nor on site past a job's planned end (`busy_until`)
            i
            for i in self.qualified(t.line, t.level)
            if ends[i] is not None and state.busy_until(ids[i], now) <= now
        ]
        if not rows:
            return None
        travel = travel_at(self.travel, self.world.epoch + timedelta(seconds=now))
        here = coordinates([state.position[self.ids[i]] for i in rows])
        seconds, _ = travel.many_to_one(here, coordinates([site.location]))
        if self.lawful:
            ok = [
                k for k, i in enumerate(rows)
                if self._allowed(self.ids[i], now, now + int(seconds[k]) + service, ends[i])
            ]  # fmt: skip
            if not ok:
                return None
            rows, seconds = [rows[k] for k in ok], seconds[ok]
        best = rows[int(np.argmin(seconds))]
        eid = self.ids[best]
        if underway is not None:
            return underway_plan(eid, now, now + int(seconds.min()), underway)
        return self._parts_plan(eid, t, site, now, int(seconds.min()), travel)

    def _parts_plan(
        self, eid: int, t: DemandTicket, site: SimSite, now: int, drive_s: int,
        travel: TravelTimes,
    ) -> JobPlan:  # fmt: skip
        van = self.state.van_of[eid]
        if not t.parts or (van is not None and self._has(van, t.parts)):
            source = PartsSource.VAN if t.parts else PartsSource.NONE
            uses = tuple((van or 0, p, 1) for p in t.parts)
            return JobPlan(eid, now, now + drive_s, source, uses)
        depot = self._nearest_depot(site.location, t.parts, now)
        if depot is not None:
            start = coordinates([self.state.position[eid]])
            via = coordinates([depot.location]) if depot.location else start
            leg1, _ = travel.many_to_one(start, via)
            leg2, _ = travel.many_to_one(via, coordinates([site.location]))
            arrive = now + int(leg1[0]) + depot.pick_s + int(leg2[0])
            uses = tuple((depot.id, p, 1) for p in t.parts)
            return JobPlan(eid, now, arrive, PartsSource.PICKUP, uses, depot.id)
        lead = max(self.world.supplier_lead_s.get(self.supplier_of[p], 0) for p in t.parts)
        transit = max(self.world.transit_s(self.supplier_of[p]) for p in t.parts)
        uses = tuple((-self.supplier_of[p], p, 1) for p in t.parts)
        ships = now + lead
        return JobPlan(
            eid, now, now + drive_s, PartsSource.SHIPMENT, uses,
            ships_at=ships, part_arrives_at=ships + transit,
        )  # fmt: skip

    def _has(self, depot_id: int, parts: Sequence[int]) -> bool:
        return all(self.state.available((depot_id, p)) >= 1 for p in parts)

    def _nearest_depot(self, site: Location, parts: Sequence[int], now: int) -> SimDepot | None:
        if not self.depots:
            return None
        seconds, _ = self.travel.many_to_one(self.depot_xy, coordinates([site]))
        for j in np.argsort(seconds, kind="stable"):
            depot = self.depots[int(j)]
            closed = any(p.covers(now) for p in self.world.outages.get(depot.id, ()))
            if not closed and self._has(depot.id, parts):
                return depot
        return None
