"""Make room for a new ticket's arrival: move a committed visit that keeps its own clocks.

`recommend` ranks engineers as their committed work leaves them: an engineer near the new
ticket whose next visit (committed, not departed) leaves after his job on site is busy until
that visit ends, so the ticket's arrival promise is planned late (issue 16: about 3 % of
the demo world's arrivals were lost so at intake, with the nearest qualified engineers busy
or off shift). A dispatcher would hand that next visit to a colleague who still keeps its
promises and send the near engineer to the new ticket first.

`make_room` is that rule, one for production (`dispatch.room.make_room_for`) and the
simulator (`scenarios.simulate`), over the same `recommend`:

- asked only when the ticket has an arrival clock that its best option (None: nobody can
  take it now) breaks;
- for each engineer who holds a visit not departed (``held``, nearest first; the caller
  chooses which and how many: `nearest_held`, the promise policy's `make_room_engineers`), the
  new ticket is priced on him as he would stand without that visit (``freed``: the
  caller's view of him without its booking); it must keep the arrival clock, and the
  depart clock when the best option keeps it;
- the held visit must move to another engineer who keeps every depart and arrival clock its
  plan keeps at its projected times (`optimizer.keeps_what_was_planned`, the overrun rule);
- and the pair must cost less than the best option: the new ticket's option plus the moved
  visit's option, less what keeping the held visit's plan costs (`planned_cost`), below the
  best option's cost. Of those, the cheapest.

`divert` is its sibling for an engineer already driving to a visit (departed, not arrived):
he is priced on the new ticket from where he is on the road, and his visit then goes on
with him after the new job or with a colleague, as long as it keeps every clock its plan
keeps (see `divert`). Production asks it too when no room is made
(`dispatch.room.make_room_for`, kind "divert"), as the simulator does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from optimizer.assignment import recommend
from optimizer.candidates import skill_mask
from optimizer.model import Engineer, Location, Ticket
from optimizer.params import RecommendParams
from optimizer.reassign import keeps_what_was_planned, planned_cost
from optimizer.result import Option, Promise
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld, coordinates

# The documented default of `promise_policies.make_room_engineers` (policy data: production
# and the simulator read each ticket's policy; this is only the column's and an older
# bundle's default): engineers asked to make room.
MAKE_ROOM_ENGINEERS = 3
# The documented default of `promise_policies.divert_engineers` (policy data, read by
# production and the simulator like `make_room_engineers`): drivers asked to take a new
# ticket first (`divert`).
DIVERT_ENGINEERS = 3
MOVE_OPTIONS = 5  # options a held visit's move looks through (as a re-dispatch does)


@dataclass(frozen=True, slots=True)
class Held:
    """A committed visit not departed yet: who holds it, its ticket, its projected times."""

    engineer_id: int
    ticket: Ticket
    departs_at: int
    arrives_at: int


@dataclass(frozen=True, slots=True)
class Room:
    """The new ticket's option on the freed engineer and the held visit's move."""

    option: Option
    held: Held
    move: Option

    @property
    def cost(self) -> int:
        """The pair's cost net of keeping the held visit's plan (fen)."""
        keep = planned_cost(
            self.held.ticket, departs_at=self.held.departs_at, arrives_at=self.held.arrives_at
        )
        return self.option.cost + self.move.cost - keep


def wants_room(ticket: Ticket, best: Option | None) -> bool:
    """Whether the ticket has an arrival clock its best option (None: none) breaks."""
    if ticket.arrive_by is None:
        return False
    return best is None or best.arrives_at > ticket.arrive_by


def nearest_held(
    world: DispatchWorld, ticket: Ticket, holders: Iterable[int], *, travel: TravelTimes,
    limit: int,
) -> list[int]:  # fmt: skip
    """Of the engineers who hold a visit not departed (``holders``), those qualified for
    ``ticket``, nearest first by the straight drive from where each stands in ``world``
    (ties by id); at most ``limit``."""
    able = skill_mask(world, ticket)
    rows = [
        (world.engineer_row[eid], eid)
        for eid in holders
        if eid in world.engineer_row and able[world.engineer_row[eid]]
    ]
    if not rows or limit < 1:
        return []
    coords = world.engineer_arrays.coords[[r for r, _ in rows]]
    seconds, _ = travel.many_to_one(coords, coordinates([ticket.site]))
    order = np.lexsort((np.array([eid for _, eid in rows]), seconds))
    return [rows[int(i)][1] for i in order[:limit]]


def make_room(
    world: DispatchWorld,
    ticket: Ticket,
    best: Option | None,
    held: Sequence[Held],
    *,
    freed: Callable[[Held], Engineer],
    now: int,
    travel: TravelTimes,
    params: RecommendParams,
) -> Room | None:
    """The cheapest way to keep ``ticket``'s arrival by moving one of ``held`` (see the
    module docstring); None when none keeps it for less than ``best`` costs."""
    if not wants_room(ticket, best):
        return None
    one = replace(params, max_options=1)
    found: list[Room] = []
    for h in held:
        alone = world.with_engineers((freed(h),))
        rec = recommend(alone, ticket, now=now, travel=travel, params=one)
        option = rec.options[0] if rec.options else None
        if option is None or not _keeps(ticket, option, best):
            continue
        asked = replace(
            params, max_options=MOVE_OPTIONS,
            ship_within_s=h.ticket.ship_within_s or params.ship_within_s,
        )  # fmt: skip
        moves = recommend(world, h.ticket, now=now, travel=travel, params=asked)
        move = keeps_what_was_planned(
            moves, h.ticket, engineer_id=h.engineer_id, departs_at=h.departs_at,
            arrives_at=h.arrives_at,
        )  # fmt: skip
        if move is None:
            continue
        room = Room(option, h, move)
        if best is None or room.cost < best.cost:
            found.append(room)
    return min(found, key=lambda r: (r.cost, r.held.engineer_id), default=None)


def _keeps(ticket: Ticket, option: Option, best: Option | None) -> bool:
    """It keeps the arrival clock, and the depart clock when the best option does."""
    assert ticket.arrive_by is not None  # wants_room
    if option.arrives_at > ticket.arrive_by:
        return False
    return best is None or best.departs_late or not option.departs_late


@dataclass(frozen=True, slots=True)
class Driving:
    """An engineer driving to a committed visit: who, its ticket, where and when he set off
    and when he is expected on its site (he has nothing committed after it)."""

    engineer_id: int
    ticket: Ticket
    set_off_from: Location
    departed_at: int
    arrives_at: int


def en_route_at(driving: Driving, now: int) -> Location:
    """Where he is at ``now``: on the straight line from where he set off to the site, at
    the share of the drive's time done. It is the geodesic travel model's own path (the
    simulator's and the default production travel: straight line at a constant speed); on a
    road network it is an approximation of where the road is."""
    share = drive_share(driving.departed_at, driving.arrives_at, now)
    return point_along(driving.set_off_from, driving.ticket.site, share)


def drive_share(departed_at: int, arrives_at: int, now: int) -> float:
    """The share of a drive's time done at ``now`` (0 before it, 1 from its arrival)."""
    span = arrives_at - departed_at
    return 1.0 if span <= 0 else min(1.0, max(0.0, (now - departed_at) / span))


def point_along(a: Location, b: Location, share: float) -> Location:
    """The point at ``share`` of the straight line from ``a`` to ``b``."""
    return Location(a.lat + (b.lat - a.lat) * share, a.lon + (b.lon - a.lon) * share)


@dataclass(frozen=True, slots=True)
class Diversion:
    """The new ticket's option on the driving engineer from the road, and his visit's
    new option: his own after the new job (`by_him`) or a colleague's."""

    option: Option
    driving: Driving
    move: Option

    @property
    def by_him(self) -> bool:
        """Whether his visit stays with him, after the new job."""
        return self.move.engineer_id == self.driving.engineer_id

    @property
    def cost(self) -> int:
        """The pair's cost net of keeping the visit's plan (fen), as `Room.cost`."""
        d = self.driving
        keep = planned_cost(d.ticket, departs_at=d.departed_at, arrives_at=d.arrives_at)
        return self.option.cost + self.move.cost - keep


def nearest_driving(
    world: DispatchWorld, ticket: Ticket, driving: Sequence[Driving], *, now: int,
    travel: TravelTimes, limit: int,
) -> list[Driving]:  # fmt: skip
    """Of ``driving``, those qualified for ``ticket``, nearest first by the straight drive
    from where each is on the road (`en_route_at`, ties by id); at most ``limit``."""
    able = skill_mask(world, ticket)
    rows = [
        d for d in driving
        if d.engineer_id in world.engineer_row and able[world.engineer_row[d.engineer_id]]
    ]  # fmt: skip
    if not rows or limit < 1:
        return []
    seconds, _ = travel.many_to_one(
        coordinates([en_route_at(d, now) for d in rows]), coordinates([ticket.site])
    )
    order = np.lexsort((np.array([d.engineer_id for d in rows]), seconds))
    return [rows[int(i)] for i in order[:limit]]


def divert(
    world: DispatchWorld,
    ticket: Ticket,
    best: Option | None,
    driving: Sequence[Driving],
    *,
    freed: Callable[[Driving, Location], Engineer],
    now: int,
    travel: TravelTimes,
    params: RecommendParams,
) -> Diversion | None:
    """The cheapest way to keep ``ticket``'s arrival by sending an engineer who is driving
    to a visit to it first; None when none keeps it for less than ``best`` costs.

    Asked, like `make_room`, only when the best option breaks the arrival (`wants_room`).
    For each of ``driving`` (the caller chooses which and how many: `nearest_driving`):

    - the new ticket is priced on him free where he is on the road now (``freed``: the
      caller's view of him without that visit, standing at `en_route_at`); his labour rules
      are `recommend`'s; it must keep the arrival, and the depart clock when the best
      option keeps it;
    - his visit is priced again on him once the new job is done (busy until its planned
      fix, at its site; his shift and overtime allowance checked by `recommend`; the new
      job's overtime is not charged to his caps before it is worked) and on every
      colleague; an option must keep every depart, arrival and fix clock the plan (his
      departure, his expected arrival) keeps and never make a shipment late. A depart clock
      counts again: the visit departs anew;
    - and the pair must cost less than the best option (`Diversion.cost`). Of those, the
      cheapest; his own option before a colleague's at equal cost.
    """
    if not wants_room(ticket, best):
        return None
    one = replace(params, max_options=1)
    found: list[Diversion] = []
    for d in driving:
        free = freed(d, en_route_at(d, now))
        rec = recommend(world.with_engineers((free,)), ticket, now=now, travel=travel, params=one)
        option = rec.options[0] if rec.options else None
        if option is None or not _keeps(ticket, option, best):
            continue
        asked = replace(
            params, max_options=MOVE_OPTIONS,
            ship_within_s=d.ticket.ship_within_s or params.ship_within_s,
        )  # fmt: skip
        after = replace(
            free, location=ticket.site, busy_until=option.fixes_at, busy_location=ticket.site,
            gap=None,
        )  # fmt: skip
        mine = recommend(world.with_engineers((after,)), d.ticket, now=now, travel=travel,
                         params=replace(asked, max_options=1))  # fmt: skip
        others = recommend(world, d.ticket, now=now, travel=travel, params=asked)
        moves = [
            *mine.options,
            *(o for o in others.options if o.engineer_id != d.engineer_id),
        ]
        kept = [m for m in moves if keeps_planned(m, d.ticket, d.departed_at, d.arrives_at)]
        for move in kept:
            room = Diversion(option, d, move)
            if best is None or room.cost < best.cost:
                found.append(room)
    return min(
        found,
        key=lambda r: (r.cost, not r.by_him, r.driving.engineer_id, r.move.engineer_id),
        default=None,
    )


def keeps_planned(option: Option, ticket: Ticket, departs_at: int, arrives_at: int) -> bool:
    """Whether ``option`` keeps every depart, arrival and fix clock a plan departing and
    arriving at those times keeps (fix: arrival + the ticket's service), and its ship
    promise."""
    fixes_at = arrives_at + ticket.service_s
    for by, planned, at in (
        (ticket.depart_by, departs_at, option.departs_at),
        (ticket.arrive_by, arrives_at, option.arrives_at),
        (ticket.fix_by, fixes_at, option.fixes_at),
    ):
        if by is not None and planned <= by < at:
            return False
    return not any(c.promise is Promise.SHIP and not c.kept for c in option.promises)


__all__ = [
    "DIVERT_ENGINEERS",
    "MAKE_ROOM_ENGINEERS",
    "Diversion",
    "Driving",
    "Held",
    "Room",
    "divert",
    "drive_share",
    "en_route_at",
    "keeps_planned",
    "make_room",
    "nearest_driving",
    "nearest_held",
    "point_along",
    "wants_room",
]
