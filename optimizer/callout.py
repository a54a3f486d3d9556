"""Call-outs before route planning: the tickets an on-call engineer is woken for.

Route planning sends engineers at work; an on-call engineer is woken for one ticket at a
time. `wake_for` decides which tickets, by the rule of `optimizer.recommend` (the one a
dispatcher sees): a severe ticket whose best option is a call-out (it costs less in total,
penalties + travel + overtime + the call-out, than any working engineer's, or keeps a clock
none of theirs keeps) goes to that engineer; the rest are planned. Most severe first, each
on-call engineer at most once per plan; the parts a call-out picks up at a depot are taken
out of the stock the plan allocates, so no unit is promised twice.

The working engineers are judged as if free for that ticket (the plan has not placed them
yet), which favours them: a call-out is taken only when even a free engineer at work
would do worse.

Under a deadline (the plan call's, `optimizer.solve`): one recommendation per ticket that
may wake someone, most severe first, the first always; once the deadline has passed the
tickets not yet judged wake nobody and go to the routes (the cheap and deterministic
fallback: the plan without call-outs for them), and their count is returned so that the
plan is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from optimizer.assignment import recommend
from optimizer.deadline import Deadline
from optimizer.model import Ticket
from optimizer.params import PlanParams, RecommendParams
from optimizer.result import Option, PartsSource
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld


def wake_for(
    world: DispatchWorld,
    tickets: Sequence[Ticket],
    *,
    now: int,
    travel: TravelTimes,
    params: PlanParams,
    deadline: Deadline = Deadline.NONE,
) -> tuple[tuple[tuple[int, Option], ...], list[Ticket], DispatchWorld, int]:
    """``((ticket id, call-out option), ...)``, the tickets left to plan, the world to plan
    them in (nobody on call; the call-outs' depot parts taken out), and how many tickets
    that might have woken someone were not judged before ``deadline`` (routed instead)."""
    awake = list(world.on_call)
    taken: list[tuple[int, Option]] = []
    rest: list[Ticket] = []
    asks = RecommendParams(max_options=1, ship_within_s=params.ship_within_s)
    judged = unjudged = 0
    for ticket in sorted(tickets, key=lambda t: (t.severity_rank, t.reported_at, t.id)):
        if not any(o.may_wake(ticket, now) for o in awake):
            rest.append(ticket)
            continue
        if judged and deadline.passed():
            unjudged += 1
            rest.append(ticket)
            continue
        judged += 1
        best = recommend(
            world.with_on_call(tuple(awake)), ticket, now=now, travel=travel, params=asks
        ).best
        if best is None or not best.callout:
            rest.append(ticket)
            continue
        taken.append((ticket.id, best))
        awake = [o for o in awake if o.engineer.id != best.engineer_id]
        world = _without_parts(world, best)
    order = {t.id: k for k, t in enumerate(tickets)}
    rest.sort(key=lambda t: order[t.id])
    return tuple(taken), rest, world.with_on_call(()), unjudged


def _without_parts(world: DispatchWorld, option: Option) -> DispatchWorld:
    """The world with a call-out's depot parts taken out of that depot's stock."""
    parts = option.parts
    if parts.source is not PartsSource.PICKUP or parts.depot_id is None:
        return world
    depots = []
    for d in world.depots:
        if d.id == parts.depot_id:
            stock = dict(d.stock)
            for use in parts.uses:
                stock[use.part_id] = max(0, stock.get(use.part_id, 0) - use.qty)
            d = replace(d, stock=stock)
        depots.append(d)
    return DispatchWorld(
        world.epoch, world.engineers, tuple(depots), world.suppliers, world.on_call
    )
