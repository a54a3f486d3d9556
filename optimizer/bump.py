"""Make room for a new ticket's arrival: move a committed visit that keeps its own clocks.

`recommend` ranks engineers as their committed work leaves them: an engineer near the new
ticket whose next visit (committed, not departed) leaves after his job on site is busy until
that visit ends, so the ticket's arrival promise is planned late (issue 16: about 3 % of
the demo world's arrivals were lost so at intake, with the nearest qualified engineers busy
or off shift). A dispatcher would hand that next visit to a colleague who still keeps its
promises and send the near engineer to the new ticket first.

`make_room` is that rule, one for production (`dispatch.recommend.make_room_for`) and the
simulator (`scenarios.simulate`), over the same `recommend`:

- asked only when the ticket has an arrival clock that its best option (None: nobody can
  take it now) breaks;
- for each engineer who holds a visit not departed (``held``, nearest first; the caller
  chooses which and how many: `nearest_held`, the scenario's `make_room_engineers`), the
  new ticket is priced on him as he would stand without that visit (``freed``: the
  caller's view of him without its booking); it must keep the arrival clock, and the
  depart clock when the best option keeps it;
- the held visit must move to another engineer who keeps every depart and arrival clock its
  plan keeps at its projected times (`optimizer.keeps_what_was_planned`, the overrun rule);
- and the pair must cost less than the best option: the new ticket's option plus the moved
  visit's option, less what keeping the held visit's plan costs (`planned_cost`), below the
  best option's cost. Of those, the cheapest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from optimizer.assignment import recommend
from optimizer.candidates import skill_mask
from optimizer.model import Engineer, Ticket
from optimizer.params import RecommendParams
from optimizer.reassign import keeps_what_was_planned, planned_cost
from optimizer.result import Option
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld, coordinates

MAKE_ROOM_ENGINEERS = 3  # documented default of policy data: engineers asked to make room
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


__all__ = ["MAKE_ROOM_ENGINEERS", "Held", "Room", "make_room", "nearest_held", "wants_room"]
