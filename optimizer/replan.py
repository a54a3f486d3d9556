"""Re-planning with stability: `replan` (full) and `insert_urgent` (the fast path).

Both build the locked problem of `optimizer.locks` (locked visits on their engineer only,
fixed heads at exact times, tolerance windows on the other announced visits) and seed every
route with its announced visits in order, so that a plan that changes nothing is found first.

- `replan` then inserts the rest by cheapest insertion and improves with the same OR-Tools
  search as `optimizer.plan`; the search result is kept only when both the validator and
  `check_commitments` accept it (the search does not know the order of pinned visits),
  otherwise the seeded greedy plan is returned (quality ``fallback``).
- `insert_urgent` inserts one new ticket where it costs least; with a change budget >= 1
  and no on-time insertion, it may move one announced, unlocked visit of a nearby engineer
  to another engineer to make room (one ejection: at most ``min(budget, 1)`` moves here;
  `replan` in the background improves further within the same locks and tolerance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from optimizer.assemble import assemble
from optimizer.commitments import Baseline, check_commitments
from optimizer.diff import PromiseState, eta_of, promise_states
from optimizer.errors import InvalidProblemError
from optimizer.greedy import GreedyResult, objective, route_cost
from optimizer.locks import (
    Locked,
    candidates,
    insert_all,
    insertions,
    lock_problem,
    remove,
    seed_routes,
)
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Plan, PlanQuality, SolverStats
from optimizer.problem import VISIT
from optimizer.screening import unplaced
from optimizer.solve import improve_routes
from optimizer.travel import TravelTimes
from optimizer.validate import validate
from optimizer.world import DispatchWorld

_EJECT_VEHICLES = 4  # nearest engineers whose announced visits the fast path may move


@dataclass(frozen=True, slots=True)
class VisitChange:
    """An announced visit the new plan changes (``None``: not served in that plan)."""

    ticket_id: int
    engineer_before: int
    engineer_after: int | None
    eta_before: int
    eta_after: int | None

    @property
    def moved(self) -> bool:
        """Reassigned to another engineer (what the change budget counts)."""
        return self.engineer_after is not None and self.engineer_after != self.engineer_before

    @property
    def eta_delta_s(self) -> int | None:
        """How far the start moved (seconds; ``None`` when no longer served)."""
        return None if self.eta_after is None else self.eta_after - self.eta_before


@dataclass(frozen=True)
class Insertion:
    """What `insert_urgent` returns.

    Parameters
    ----------
    plan
        The new plan (validated; the stability rules too).
    changes
        Every announced visit whose engineer or start changed.
    promise
        The inserted ticket's promise state (``dropped``: it fits nowhere).
    engineer_id, eta
        Who serves it and when the visit starts (``None`` when dropped).
    """

    plan: Plan
    changes: tuple[VisitChange, ...]
    promise: PromiseState
    engineer_id: int | None
    eta: int | None

    @property
    def moved(self) -> int:
        """How many announced visits changed engineer."""
        return sum(c.moved for c in self.changes)


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
    lk = lock_problem(world, tickets, baseline, now=now, travel=travel, params=params)
    routes, todo = seed_routes(lk)
    insert_all(lk, routes, todo)
    seeded = tuple(tuple(r) for r in routes)
    greedy = GreedyResult(seeded, (), objective(lk.p, seeded))
    found, quality, status = improve_routes(lk.p, greedy, params)
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


def insert_urgent(
    world: DispatchWorld, tickets: Sequence[Ticket], baseline: Baseline, ticket: Ticket, *,
    now: int, travel: TravelTimes, params: PlanParams | None = None, change_budget: int = 0,
) -> Insertion:  # fmt: skip
    """Insert one new urgent ticket into the published plan at once (no search).

    Parameters
    ----------
    world, tickets, baseline, now, travel, params
        As in `replan` (``tickets`` without the new one; a ticket of the same id is replaced).
    ticket
        The new ticket.
    change_budget
        How many announced visits may change engineer to make room: ``0`` inserts without
        moving anyone; ``>= 1`` may move one unlocked visit when that lets the new ticket
        keep its promise (or fit at all).

    Returns
    -------
    Insertion
        The plan, the announced visits it changes, and the new ticket's promise state.
    """
    if change_budget < 0:
        raise ValueError(f"change_budget: must be >= 0, got {change_budget}")
    params = params or PlanParams()
    todo = [*(t for t in tickets if t.id != ticket.id), ticket]
    _checked(todo)
    lk = lock_problem(world, todo, baseline, now=now, travel=travel, params=params)
    routes, _ = seed_routes(lk)  # the others wait for the background re-plan
    u = lk.node_of.get(ticket.id)
    if u is not None:
        _place(lk, routes, u, change_budget)
    seeded = tuple(tuple(r) for r in routes)
    cost = objective(lk.p, seeded)
    result = _build(
        lk, world, seeded, PlanQuality.FALLBACK, "urgent insertion", cost, travel, params
    )
    after = eta_of(result)
    open_ids = {t.id for t in todo}
    changes = tuple(
        _change(c.ticket_id, c.engineer_id, c.eta, after.get(c.ticket_id))
        for c in baseline.commitments
        if c.ticket_id in open_ids and after.get(c.ticket_id) != (c.engineer_id, c.eta)
    )
    state = promise_states(result).get(ticket.id, PromiseState.DROPPED)
    engineer, eta = after.get(ticket.id, (None, None))
    return Insertion(result, changes, state, engineer, eta)


def _change(tid: int, engineer: int, eta: int, found: tuple[int, int] | None) -> VisitChange:
    if found is None:
        return VisitChange(tid, engineer, None, eta, None)
    return VisitChange(tid, engineer, found[0], eta, found[1])


def _place(lk: Locked, routes: list[list[int]], u: int, budget: int) -> None:
    """Put visit ``u`` where it costs least; eject one unlocked visit if that keeps it on time."""
    costs = [route_cost(lk.p, v, seq, lk.tab) or 0 if seq else 0 for v, seq in enumerate(routes)]
    best: tuple[int, int, dict[int, list[int]]] | None = None  # (late, delta, new routes)
    for v in candidates(lk, u):
        found = insertions(lk, routes[v], v, u)
        if found is not None:
            key = (_late(lk, v, found[1], u), found[0] - costs[v], {v: found[1]})
            best = key if best is None or key[:2] < best[:2] else best
    if budget >= 1 and (best is None or best[0] > 0):
        for key in _ejections(lk, routes, costs, u):
            best = key if best is None or key[:2] < best[:2] else best
    if best is not None:
        for v, seq in best[2].items():
            routes[v] = seq


def _ejections(
    lk: Locked, routes: list[list[int]], costs: list[int], u: int
) -> list[tuple[int, int, dict[int, list[int]]]]:
    """Every single move of an announced, unlocked visit that makes room for ``u``."""
    out = []
    for v in candidates(lk, u, _EJECT_VEHICLES):
        for w in _movable(lk, routes[v]):
            found = insertions(lk, remove(lk, routes[v], w), v, u)
            if found is None:
                continue
            late = _late(lk, v, found[1], u)
            for v2 in candidates(lk, w):
                again = None if v2 == v else insertions(lk, routes[v2], v2, w)
                if again is not None:
                    delta = found[0] - costs[v] + again[0] - costs[v2]
                    out.append((late, delta, {v: found[1], v2: again[1]}))
    return out


def _movable(lk: Locked, seq: Sequence[int]) -> list[int]:
    """Announced visits of ``seq`` that are not locked."""
    announced = lk.baseline.by_ticket()
    now = lk.p.now
    out = []
    for n in seq:
        if lk.tab.kind[n] != VISIT:
            continue
        c = announced.get(lk.keep[int(lk.p.ticket[n])].id)
        if c is not None and not lk.baseline.is_locked(c, now):
            out.append(n)
    return out


def _late(lk: Locked, v: int, seq: Sequence[int], u: int) -> int:
    """Seconds visit ``u`` starts past its due time on route ``seq`` of ``v`` (0: on time)."""
    p, tab = lk.p, lk.tab
    prev, time = int(p.starts[v]), int(p.depart[v])
    for node in seq:
        time = max(time + tab.sec[prev][node], tab.earliest[node])
        if node == u:
            return max(0, time - tab.due[node]) if tab.due[node] >= 0 else 0
        time += tab.service[node]
        prev = node
    return 0
