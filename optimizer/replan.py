"""Re-planning with stability: `replan`, the full re-plan (the fast path is `optimizer.urgent`).

Both build the locked problem of `optimizer.locks` (locked visits on their engineer only,
fixed heads at exact times, tolerance windows on the other announced visits) and seed every
route with its announced visits in order, so that a plan that changes nothing is found first.

- `replan` then inserts the rest by cheapest insertion and improves with the same OR-Tools
  search as `optimizer.plan`; the search result is kept only when both the validator and
  `check_commitments` accept it (the search does not know the order of pinned visits),
  otherwise the seeded greedy plan is returned (quality ``fallback``).
- `optimizer.urgent.insert_urgent` inserts one new ticket at once with a change budget
  (`optimizer.ejection`); `replan` in the background improves further within the same locks
  and tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from optimizer.assemble import assemble
from optimizer.commitments import Baseline, check_commitments
from optimizer.errors import InvalidProblemError
from optimizer.greedy import GreedyResult, objective
from optimizer.locks import (
    Locked,
    insert_all,
    lock_problem,
    seed_routes,
)
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Plan, PlanQuality, SolverStats
from optimizer.screening import unplaced
from optimizer.solve import improve_routes
from optimizer.travel import TravelTimes, travel_at
from optimizer.validate import validate
from optimizer.world import DispatchWorld


def _checked(tickets: Sequence[Ticket]) -> None:
    ids = [t.id for t in tickets]
    if len(ids) != len(set(ids)):
        raise InvalidProblemError("tickets", "ticket ids must be unique")


def replan(
    world: DispatchWorld, tickets: Sequence[Ticket], baseline: Baseline, *, now: int,
    travel: TravelTimes, params: PlanParams | None = None,
) -> Plan:  # fmt: skip
    """Re-plan ``tickets`` keeping ``baseline``'s locks, frozen horizon and ETA tolerance.

    Parameters
    ----------
    world
        Engineers, depots and suppliers now (after any disruption).
    tickets
        Every open ticket: announced ones and new ones (unique ids). Commitments of tickets
        not listed (done, cancelled) are ignored.
    baseline
        The published plan's commitments and the stability policy.
    now
        The planning moment (time-axis offset).
    travel
        The travel model.
    params
        Limits and weights as in `optimizer.plan`.

    Returns
    -------
    Plan
        Validated, and checked against the baseline (``violations`` empty).
    """
    params = params or PlanParams()
    _checked(tickets)
    travel = travel_at(travel, world.at(now))  # rush hours: the speed of the planning moment
    lk = lock_problem(world, tickets, baseline, now=now, travel=travel, params=params)
    routes, todo = seed_routes(lk)
    insert_all(lk, routes, todo)
    seeded = tuple(tuple(r) for r in routes)
    greedy = GreedyResult(seeded, (), objective(lk.p, seeded))
    locked = frozenset(
        lk.node_of[c.ticket_id]
        for c in baseline.commitments
        if c.ticket_id in lk.node_of and baseline.is_locked(c, now)
    )
    found, quality, status = improve_routes(lk.p, greedy, params, locked=locked)
    result = _build(lk, world, found, quality, status, greedy.objective, travel, params)
    if result.violations and quality is not PlanQuality.FALLBACK:
        why = f"{status}; rejected by the validator or the stability rules"
        result = _build(
            lk, world, seeded, PlanQuality.FALLBACK, why, greedy.objective, travel, params
        )
    return result


def _build(
    lk: Locked, world: DispatchWorld, routes: Sequence[Sequence[int]], quality: PlanQuality,
    status: str, greedy_objective: int, travel: TravelTimes, params: PlanParams,
) -> Plan:  # fmt: skip
    p = lk.p
    placed = {n for r in routes for n in r}
    late = []
    for u in p.visits.tolist():
        if u not in placed:
            k = int(p.ticket[u])
            ok = [lk.vehicles[i] for i in lk.allowed[k]]
            late.append(unplaced(world, lk.keep[k], ok, travel=travel, params=params))
    stats = SolverStats(greedy_objective, objective(p, routes), status)
    out = assemble(world, lk.keep, lk.supplies, p, routes, [*lk.dropped, *late], quality, stats)
    found = validate(world, lk.tickets, out, travel=travel, params=params)
    found.extend(check_commitments(lk.baseline, out))
    return replace(out, violations=tuple(found))
