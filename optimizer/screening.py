"""Which tickets can be planned at all, and why the others cannot: never a silent drop.

Before routing, a ticket is dropped when no engineer with its skills has working time left
(`DropReason.NO_QUALIFIED_ENGINEER`), when no van, depot or supplier has its parts
(`DropReason.NO_STOCK`, with the shortest supplier lead time), or when its hard deadline is
before the earliest arrival of any qualified engineer driving straight there
(`DropReason.DEADLINE_OUT_OF_REACH`: best arrival X vs deadline Y). After routing, a ticket
left out gets the same deadline reason when it applies, else `DropReason.NO_ROOM`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimizer.allocation import TicketSupply
from optimizer.candidates import skill_mask
from optimizer.deadline import Deadline
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Dropped, DropReason
from optimizer.problem import Vehicle, qualified
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld


def _clock(world: DispatchWorld, offset: int) -> str:
    return world.clock(offset)  # the reader's zone, named (issue 17: it was UTC, unnamed)


def screen(
    world: DispatchWorld, tickets: Sequence[Ticket], supplies: dict[int, TicketSupply],
    vehicles: Sequence[Vehicle], *, now: int, travel: TravelTimes, params: PlanParams,
    deadline: Deadline = Deadline.NONE,
) -> tuple[list[Ticket], list[tuple[int, ...]], list[Dropped]]:  # fmt: skip
    """Split ``tickets`` into plannable ones (with their allowed vehicles) and drops.

    Tickets without a supply (the allocation's deadline cut them off) and those not reached
    before ``deadline`` are dropped as `DropReason.OUT_OF_TIME`.
    """
    keep: list[Ticket] = []
    allowed: list[tuple[int, ...]] = []
    dropped: list[Dropped] = []
    owners = {world.engineers[v.row].id for v in vehicles}
    for t in tickets:
        supply = supplies.get(t.id)
        if supply is None or deadline.passed():
            dropped.append(out_of_time(t))
            continue
        ok = qualified(world, t, vehicles)
        reason = (
            _no_engineer(world, t, ok)
            or _no_stock(world, t, supply, owners)
            or _out_of_reach(world, t, supply, [vehicles[i] for i in ok], now, travel, params)
        )
        if reason is None:
            keep.append(t)
            allowed.append(ok)
        else:
            dropped.append(reason)
    return keep, allowed, dropped


def out_of_time(t: Ticket) -> Dropped:
    """The reason of a ticket the plan call's deadline cut off before it was tried."""
    detail = "the plan's time limit ran out before this ticket was tried: plan again"
    return Dropped(t.id, DropReason.OUT_OF_TIME, detail, deadline=t.arrive_by)


def _no_engineer(world: DispatchWorld, t: Ticket, ok: tuple[int, ...]) -> Dropped | None:
    if ok:
        return None
    skilled = int(skill_mask(world, t).sum())
    need = ", ".join(f"{line} level {level}" for line, level in sorted(t.skills.items()))
    detail = (
        f"no qualified engineer on shift: {skilled} have {need}, none has working time left"
        if skilled
        else f"no qualified engineer on shift: nobody has {need}"
    )
    return Dropped(t.id, DropReason.NO_QUALIFIED_ENGINEER, detail)


def _no_stock(
    world: DispatchWorld, t: Ticket, supply: TicketSupply, owners: set[int]
) -> Dropped | None:
    if supply.missing:
        parts = ", ".join(str(p) for p in supply.missing)
        lead = supply.supplier_lead_s
        tail = (
            f"supplier lead time {lead / 3_600:g} h" if lead is not None else "no supplier lists it"
        )
        return Dropped(
            t.id, DropReason.NO_STOCK, f"no stock anywhere for part {parts}: {tail}", lead_s=lead
        )
    if supply.pickups and all(
        o.depot_id is None and o.van_of not in owners for o in supply.pickups
    ):
        vans = ", ".join(str(o.van_of) for o in supply.pickups)
        detail = f"its parts are only in the van of engineer {vans}, who has no working time left"
        return Dropped(t.id, DropReason.NO_STOCK, detail)
    return None


def best_arrival(
    world: DispatchWorld, t: Ticket, vehicles: Sequence[Vehicle], travel: TravelTimes
) -> int | None:
    """The earliest straight-drive arrival of any of ``vehicles`` at the site."""
    if not vehicles:
        return None
    origins = np.array([[v.start.lat, v.start.lon] for v in vehicles], dtype=np.float64)
    site = np.array([[t.site.lat, t.site.lon]], dtype=np.float64)
    seconds, _ = travel.many_to_one(origins, site)
    departs = np.array([v.window.depart for v in vehicles], dtype=np.int64)
    return int((departs + seconds).min())


def _out_of_reach(
    world: DispatchWorld, t: Ticket, supply: TicketSupply, vehicles: Sequence[Vehicle],
    now: int, travel: TravelTimes, params: PlanParams,
) -> Dropped | None:  # fmt: skip
    hard = t.arrive_by is not None and (t.hard_arrival or params.hard_deadlines)
    if not hard or t.arrive_by is None:
        return None
    best = best_arrival(world, t, vehicles, travel)
    start = max(best or now, t.not_before or now, supply.ready_at or now)
    if best is not None and start <= t.arrive_by:
        return None
    return deadline_drop(world, t, start)


def deadline_drop(world: DispatchWorld, t: Ticket, best: int) -> Dropped:
    """A `DropReason.DEADLINE_OUT_OF_REACH` with both instants in words."""
    deadline = int(t.arrive_by or 0)
    detail = (
        f"deadline out of reach: best arrival {_clock(world, best)} "
        f"vs deadline {_clock(world, deadline)}"
    )
    return Dropped(
        t.id, DropReason.DEADLINE_OUT_OF_REACH, detail, best_arrival=best, deadline=deadline
    )


def unplaced(
    world: DispatchWorld, t: Ticket, vehicles: Sequence[Vehicle], *, travel: TravelTimes,
    params: PlanParams,
) -> Dropped:  # fmt: skip
    """The reason of a plannable ticket that no route took."""
    return no_room(world, t, best_arrival(world, t, vehicles, travel), params)


def no_room(world: DispatchWorld, t: Ticket, best: int | None, params: PlanParams) -> Dropped:
    """`unplaced` given the best straight-drive arrival (``best``), e.g. from a matrix."""
    hard = t.arrive_by is not None and (t.hard_arrival or params.hard_deadlines)
    if hard and best is not None and best > int(t.arrive_by or 0):
        return deadline_drop(world, t, best)
    when = "" if best is None else f": best arrival {_clock(world, best)}"
    detail = f"no route has room for it (shift ends, windows, capacity){when}"
    return Dropped(t.id, DropReason.NO_ROOM, detail, best_arrival=best, deadline=t.arrive_by)
