"""`recommend`: the ranked engineers for one ticket, with parts and promise checks.

How it stays fast and exact
---------------------------
1. **Screen, vectorised over all engineers**: skill mask, start point and ready time (the end
   of the current job), one many-to-one travel call to the site, the first shift window the
   straight visit (drive + service) fits in, the too-far cut. This gives every candidate's
   *direct arrival* ``a_i``.
2. **Lower bounds**: any plan of engineer ``i`` departs no earlier than the screen's departure
   ``d_i`` (a pickup starts in the same shift or a later one), arrives no earlier than ``a_i``
   (a pickup detour is never shorter than the straight drive, by the triangle inequality every
   `TravelTimes` guarantees, and a later shift only departs later), fixes no earlier than
   ``a_i + service``, drives at least the straight drive (seconds and metres), and its swap,
   ship and overtime costs are >= 0. A clock's cost (`optimizer.penalties.clock_cost`) only
   grows with its event's time, so ``LB_i`` below is a lower bound, in the ranking order, of
   the rank key of whatever plan ``i`` gets::

       key  = (breaks depart, cost, not dedicated, arrival, id)
       LB_i = (d_i > depart_by, clocks(d_i, a_i, a_i + service) + rates x straight drive,
               not dedicated, a_i, id)

   ``cost`` is the penalties of the clocks the plan breaks or keeps only just, plus his hour
   and km rates over the drive, plus overtime at his labour rules' rate. Keeping the depart
   clock comes first: an urgent ticket's first option departs at once whenever anyone
   qualified can (the seeds promise "departs at once, fastest arrival").

3. **Best-first search**: candidates are sourced (van, pickup, shipment) in increasing ``LB``
   order, in vectorised chunks; it stops once the ``max_options``-th best key found is
   below the next candidate's ``LB``, since every remaining candidate's key is at least its
   ``LB``. The options are therefore exactly the top ``max_options`` of a brute force over all
   engineers (the property tests check this). Keys include the engineer id, so they are unique.
4. **The earliest arrival is always shown**: a second best-first search with key
   ``(arrival, id)`` and bound ``(a_i, id)`` finds the plan that arrives first; when the ranking
   left it out, it is appended as one more option. So the earliest arrival among the options
   equals the earliest arrival of any qualified, available engineer, pickups included.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from optimizer.candidates import TOLERANCE_S, Call, Screen, chunk_options, screen_engineers
from optimizer.explain import Explanations, SearchStops
from optimizer.model import Ticket
from optimizer.params import RecommendParams
from optimizer.reasons import option_reason
from optimizer.result import Option, Recommendation
from optimizer.travel import TravelTimes, travel_at
from optimizer.world import DispatchWorld

RankKey = tuple[int, int, int, int, int]
K = TypeVar("K", tuple[int, int, int, int, int], tuple[int, int])

_FIRST_CHUNK = 16


def rank_key(option: Option) -> RankKey:
    """Return the sort key of an option: the depart clock kept first (when anyone can), then
    the least cost (penalties, travel, overtime), the dedicated engineer, the earliest
    arrival; ties by engineer id."""
    return (
        int(option.departs_late), option.cost, int(not option.dedicated), option.arrives_at,
        option.engineer_id,
    )  # fmt: skip


def recommend(
    world: DispatchWorld,
    ticket: Ticket,
    *,
    now: int,
    travel: TravelTimes,
    params: RecommendParams | None = None,
) -> Recommendation:
    """Rank the engineers who can take ``ticket``, each with a parts plan and promise checks.

    Parameters
    ----------
    world
        Engineers, depots and suppliers (build once, query many times).
    ticket
        The job.
    now
        The moment of the question, as a time-axis offset (the optimizer reads no clock).
    travel
        The active travel model (geodesic, road network, or a fake).
    params
        Options count, pick time, ship promise, overtime, too-far limit.

    Returns
    -------
    Recommendation
        Up to ``params.max_options`` options, best first; ``excluded``, ``suggestions`` and
        ``loaner`` are computed on first access.
    """
    travel = travel_at(travel, world.at(now))  # rush hours: the speed of the moment
    call = Call(world, ticket, now, travel, params or RecommendParams())
    screen = screen_engineers(call)
    cache = call.evaluated
    ranked = _search(
        call, screen, cache, screen.order, rank_key, screen.lower_bound, call.params.max_options
    )
    arrival = screen.depart + screen.travel_s
    ids = world.engineer_arrays.ids[screen.rows]
    fast_order = np.lexsort((ids, arrival))
    fast_order = fast_order[screen.candidate[fast_order]]
    fastest = _search(
        call, screen, cache, fast_order, _arrival_key,
        lambda pos: (int(arrival[pos]) - TOLERANCE_S, int(ids[pos])), 1,
    )  # fmt: skip
    # Where each search stopped, for those it never reached (`Explanations.unreached`).
    stops = SearchStops(
        ranked[-1][0] if len(ranked) >= call.params.max_options else None,
        fastest[0][0][0] if fastest else None,
    )
    woken = _callouts(world, ticket, now, travel, call.params)
    working = [option for _, option in ranked + fastest]
    woken = [option for option in woken if worth_waking(option, working)]
    if woken:
        ranked = sorted(ranked + [(rank_key(o), o) for o in woken], key=lambda item: item[0])
        del ranked[call.params.max_options :]
    options = [_annotate(call, rank, option) for rank, (_, option) in enumerate(ranked, 1)]
    if fastest and all(o.engineer_id != fastest[0][1].engineer_id for o in options):
        extra = fastest[0][1]
        minutes = (extra.arrives_at - now) // 60
        reason = f"#{len(options) + 1}: the earliest arrival of all ({minutes} min), ranked lower"
        options.append(replace(extra, rank=len(options) + 1, reason=reason))
    return Recommendation(ticket.id, now, tuple(options), Explanations(call, screen, stops))


def callout_options(
    world: DispatchWorld,
    ticket: Ticket,
    *,
    now: int,
    travel: TravelTimes,
    params: RecommendParams | None = None,
) -> list[Option]:
    """The on-call engineers who could be woken for ``ticket`` at ``now``, best first.

    Each option is his plan as a recommendation would rank it (he departs no earlier than
    his call-out lead after ``now``, within the on-call window the call falls in, and may
    run past its end by his overtime allowance), marked ``callout`` with its cost added.
    Route planning (`optimizer.callout.wake_for`) and `recommend` both wake engineers so.
    """
    return _callouts(world, ticket, now, travel_at(travel, world.at(now)), params)


def worth_waking(option: Option, working: list[Option]) -> bool:
    """Whether a call-out is worth offering beside the working engineers' options: it costs
    less in total (penalties, travel, overtime and the call-out) or keeps a promise clock
    none of them keeps."""
    if not working:
        return True
    if rank_key(option) < min(rank_key(o) for o in working):
        return True
    kept = {c.promise for o in working for c in o.promises if c.kept}
    return any(c.kept and c.promise not in kept for c in option.promises)


def _callouts(
    world: DispatchWorld,
    ticket: Ticket,
    now: int,
    travel: TravelTimes,
    params: RecommendParams | None,
) -> list[Option]:
    woken = [on_call for on_call in world.on_call if on_call.may_wake(ticket, now)]
    if not woken:
        return []
    engineers = []
    for on_call in woken:
        e = on_call.engineer
        window = next((start, end) for start, end in e.shifts if start <= now < end)
        ready = max(now + on_call.lead_s, e.busy_until or now)
        engineers.append(
            replace(
                e,
                shifts=(window,),
                busy_until=ready,
                busy_location=e.busy_location or e.location,
            )  # fmt: skip
        )
    sub = world.with_engineers(tuple(engineers))
    call = Call(sub, ticket, now, travel, params or RecommendParams())
    screen = screen_engineers(call)
    found = _search(
        call, screen, call.evaluated, screen.order, rank_key, screen.lower_bound, len(engineers)
    )
    by_id = {on_call.engineer.id: on_call for on_call in woken}
    out = []
    for _, o in found:  # every hour of a call-out is outside working time: overtime
        on_call = by_id[o.engineer_id]
        hours = o.fixes_at - o.departs_at
        rate = on_call.engineer.overtime_cost_per_hour
        out.append(
            replace(
                o,
                callout=True,
                callout_cost=on_call.cost,
                overtime_s=hours,
                overtime_cost=rate * hours // 3_600,
            )  # fmt: skip
        )
    return sorted(out, key=rank_key)


def _arrival_key(option: Option) -> tuple[int, int]:
    return (option.arrives_at, option.engineer_id)


def _evaluate(
    call: Call, screen: Screen, cache: dict[int, Option | None], chunk: npt.NDArray[np.int64]
) -> list[Option | None]:
    """Plans of a chunk of candidates, each computed once per call."""
    todo = np.array([p for p in chunk if int(p) not in cache], dtype=np.int64)
    if todo.size:
        for pos, option in zip(todo, chunk_options(call, screen, todo), strict=True):
            cache[int(pos)] = option
    return [cache[int(p)] for p in chunk]


def _search(
    call: Call,
    screen: Screen,
    cache: dict[int, Option | None],
    order: npt.NDArray[np.int64],
    key_of: Callable[[Option], K],
    bound_of: Callable[[int], K],
    limit: int,
) -> list[tuple[K, Option]]:
    """The best-first search over candidates in lower-bound order (see the module docstring)."""
    best: list[tuple[K, Option]] = []
    start, size = 0, _FIRST_CHUNK
    while start < order.size:
        chunk = order[start : start + size]
        for pos, option in zip(chunk, _evaluate(call, screen, cache, chunk), strict=True):
            if len(best) >= limit and best[-1][0] < bound_of(int(pos)):
                return best
            if option is None:
                continue
            key = key_of(option)
            if len(best) < limit or key < best[-1][0]:
                bisect.insort(best, (key, option), key=lambda item: item[0])
                del best[limit:]
        start, size = start + size, size * 2
    return best


def _annotate(call: Call, rank: int, option: Option) -> Option:
    return replace(option, rank=rank, reason=option_reason(call, rank, option))


def earliest_arrival(recommendation: Recommendation) -> int | None:
    """Return the earliest ``arrives_at`` among the options (``None`` without options)."""
    arrivals = [option.arrives_at for option in recommendation.options]
    return int(np.min(arrivals)) if arrivals else None
