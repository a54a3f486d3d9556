"""What every process of one simulation run shares: clock, world, live state, records.

The bottom layer of a run: `scenarios.running` (jobs) and `scenarios.replan` (the batch
re-plan) read a `RunContext`; `scenarios.simulate` builds one and wires the processes
around it. Nothing here imports those modules, so the run's imports point one way:
simulate -> replan -> running -> context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import simpy

from dispatch.durations import DurationLog
from optimizer import (
    GeodesicTravelTimes,
    Location,
    PartsPlan,
    RoadModel,
    TimedTravelTimes,
    TravelTimes,
    coordinates,
    travel_at,
)
from scenarios.demand import DemandTicket
from scenarios.live import LiveState
from scenarios.model import SimSite, SimWorld
from scenarios.records import DepotTally, EngineerTally, JobRecord, RunResult

DAY_S = 86_400
# depot or van id, van's engineer, place, pick time at its counter
_Place = tuple[int, int | None, Location | None, int]
# Where a spare is in stock: (None, a depot, its pick time) or (a van's engineer, where, 0)
Holder = tuple[int | None, Location, int]
DRAIN_S = 2 * DAY_S


@dataclass(frozen=True, slots=True)
class RunParams:
    """One run: which variant, policy and replication, over which horizon."""

    variant: str
    policy: str
    replication: int
    horizon_s: int
    retry_s: int = 900  # the scenario's `retry_every_min` (documented default 15)
    replan_every_s: int | None = None
    drain_s: int = DRAIN_S
    # overrun re-dispatch (optimised policy): how long past its standard duration a job runs
    # before the dispatcher moves the engineer's next promised visit; None: never
    redispatch_grace_s: int | None = None
    # make room for a new ticket's arrival (optimised policy, `optimizer.make_room`): ask
    # as many engineers as the ticket's policy says (`SimPolicy.make_room_engineers`, the
    # world's promise policies, as production); False: never (a scenario file's runs: True)
    make_room: bool = False
    # divert a driver to a new ticket first (optimised policy, `optimizer.divert`): ask as
    # many engineers driving to a visit as the ticket's policy says
    # (`SimPolicy.divert_engineers`, as production); False: never (a scenario file's: True)
    divert: bool = False


def travel_for(world: SimWorld) -> TravelTimes:
    """The production travel model: speed bands scaled by the what-if factor, rush hours.

    Dispatch resolves the rush-hour factor at its decision (inside the optimizer), the
    simulated drive at its real departure (`scenarios.running`): the same profile.
    """
    road = RoadModel()
    if world.travel_speed != 1.0:
        bands = tuple((limit, kmh * world.travel_speed) for limit, kmh in road.bands)
        road = RoadModel(road.circuity, bands)
    if world.speed_by_hour.free_flow:
        return GeodesicTravelTimes(road)
    return TimedTravelTimes(GeodesicTravelTimes(road), world.speed_by_hour)


def local_date_of(world: SimWorld, at: int) -> date:
    """The calendar date of an offset in the contract time zone (warranty dates)."""
    return (world.epoch + timedelta(seconds=at)).date()


@dataclass(eq=False)
class RunContext:
    """The shared state of one run; `waiting` holds the tickets nobody could take yet."""

    world: SimWorld
    params: RunParams
    env: simpy.Environment
    state: LiveState
    travel: TravelTimes
    sites: dict[int, SimSite]
    result: RunResult
    waiting: list[tuple[DemandTicket, JobRecord]] = field(default_factory=list)
    # ticket id -> its parts shipped at intake (`optimizer.ship_at_intake`): every plan of
    # the ticket waits for them; their stock was held at intake, not by the job
    underway: dict[int, PartsPlan] = field(default_factory=dict)
    # the run's log of finished jobs (from the base world's), as production keeps it
    durations: DurationLog = field(default_factory=DurationLog)
    _nearest: dict[int, int | None] = field(default_factory=dict)
    _places: list[_Place] = field(default_factory=list)
    _by_holder: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def start(cls, world: SimWorld, params: RunParams) -> RunContext:
        """A fresh run at time 0: stock and shifts from the world, empty records."""
        durations = DurationLog.of(world.duration_history)
        state = LiveState(world, params.horizon_s + params.drain_s, durations)
        result = RunResult(
            params.variant, params.policy, params.replication, params.horizon_s, [],
            _depot_tallies(world), _engineer_tallies(world, state, params.horizon_s), [],
        )  # fmt: skip
        sites = {s.id: s for s in world.sites}
        return cls(
            world, params, simpy.Environment(), state, travel_for(world), sites, result,
            durations=durations,
        )  # fmt: skip

    @property
    def now(self) -> int:
        return int(self.env.now)

    def planning_s(self, t: DemandTicket) -> int:
        """The duration dispatch plans the ticket with now: learnt from the run's log so far
        under its contract's policy (`dispatch.durations`, as production plans)."""
        policy = self.world.policies[self.sites[t.site_id].policy_id].durations
        return self.durations.planning_s(t.type_id, t.planned_service_s, policy)

    def nearest_depot(self, site_id: int) -> int | None:
        """The open-or-not depot nearest a site by travel time (cached per site)."""
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

    def stock_in_reach(self, site_id: int, parts: Sequence[int], within_s: int) -> bool:
        """The swap promise applies (domain: a spare in stock at a depot that can reach the
        site in time): an open depot, or an engineer's van where he stands, has every part
        now and drives to the site within `within_s` at this hour's speed.

        The holders come from the live state's per-part index, in the order of the world's
        depots and then of its engineers' vans (the order of a full scan, so the travel
        call sees the same places)."""
        holders = self.stock_holders(parts)
        if not holders:
            return False
        travel = travel_at(self.travel, self.world.epoch + timedelta(seconds=self.now))
        seconds, _ = travel.many_to_one(
            coordinates([at for _, at, _ in holders]), coordinates([self.sites[site_id].location])
        )
        return bool(seconds.min() <= within_s)

    def stock_holders(self, parts: Sequence[int]) -> list[Holder]:
        """Where every part is in stock now: (None, an open depot's place, its pick time) or
        (a van's engineer id, where he stands, 0), in scan order (`stock_in_reach`,
        `swap_unkeepable`)."""
        state, world = self.state, self.world
        if not self._places:
            self._places, self._by_holder = _stock_places(world, state)
        if parts:
            held = state.holding(parts)
            entries = sorted(i for d in held for i in self._by_holder.get(d, ()))
        else:
            entries = list(range(len(self._places)))
        places: list[Holder] = []
        for i in entries:
            depot_id, eid, location, pick = self._places[i]
            if eid is not None:
                places.append((eid, state.position[eid], 0))
            elif location is not None and not any(
                p.covers(self.now) for p in world.outages.get(depot_id, ())
            ):
                places.append((None, location, pick))
        return places


def _stock_places(world: SimWorld, state: LiveState) -> tuple[list[_Place], dict[int, list[int]]]:
    """Where a spare can be in stock, in scan order: (depot id, None, its place, its pick
    time) for each depot with a place, then (van id, engineer id, None: where he stands, 0)
    per van; and each depot or van id's entries (a van shared by two engineers has two)."""
    out: list[_Place] = [
        (d.id, None, d.location, d.pick_s) for d in world.depots if d.location is not None
    ]
    out += [(van, eid, None, 0) for eid, van in state.van_of.items() if van is not None]
    by_holder: dict[int, list[int]] = {}
    for i, (holder, *_) in enumerate(out):
        by_holder.setdefault(holder, []).append(i)
    return out, by_holder


def _depot_tallies(world: SimWorld) -> dict[int, DepotTally]:
    return {
        d.id: DepotTally(d.code, world.regions.get(d.region_id, "?"), d.kind)
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


__all__ = ["DAY_S", "DRAIN_S", "RunContext", "RunParams", "local_date_of", "travel_for"]
