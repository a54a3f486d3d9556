"""Urgent insertion into a published plan: prepared once, then one ticket at a time, fast.

`prepare_insertion` builds what every insertion into the same published plan shares: the
locked problem of `optimizer.locks` (allocation, screening, the ~600-node travel matrix and
its look-up tables), the routes seeded with the announced visits, their costs, and the
stock the plan holds. `insert_prepared` then adds one ticket: its parts come from the stock
the plan does not hold (every pickup alternative and shipment of the planned tickets keeps
its units, so no unit is promised twice; the urgent ticket does not take stock from a
planned one here, the background re-plan may), its nodes are appended to the problem
(`optimizer.problem.extend_problem`: only the new rows of the matrix are computed), and
`optimizer.ejection.best_insertion` places it with at most ``change_budget`` changes.

**Why an urgent ticket may defer work.** On a busy day every engineer who could reach the
site in time is booked until the end of his shift, and moving one of his visits to a
colleague rarely fits inside that visit's ETA tolerance: in the 200-ticket benchmark not
one urgent ticket of 20 was kept by moves alone. A dispatcher keeps an urgent (rank 0)
ticket by deferring less severe work, so a change may also take an unlocked announced
visit of a *strictly less severe* ticket out of today's plan (dropped with that reason,
listed in the changes, counted in the budget; the background re-plan tries it again).
Locked visits never change, and a relocated visit keeps its ETA within the tolerance.

**When a prepared insertion is stale.** It is exact for the world, tickets, baseline,
``now``, travel model and params it was built with. Anything that changes one of them (a
ticket opened, assigned, cancelled or started; stock moved; an engineer's position, shift
or absence; a later ``now``, which moves the frozen horizon and every departure) needs a
new one. The result is validated in full before it is returned, so a stale preparation can
make a plan worse, never an invalid plan pass unnoticed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from optimizer.allocation import TicketSupply, allocate
from optimizer.assemble import assemble
from optimizer.commitments import Baseline, check_commitments
from optimizer.ejection import NEVER, Outcome, best_insertion
from optimizer.errors import InvalidProblemError
from optimizer.greedy import route_cost
from optimizer.locks import Locked, lock_problem, seed_routes, with_ticket
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Dropped, DropReason, Plan, PlanQuality, SolverStats
from optimizer.screening import screen, unplaced
from optimizer.travel import TravelTimes, travel_at
from optimizer.urgent_result import Insertion, VisitChange, state_of
from optimizer.validate import validate
from optimizer.world import DispatchWorld


@dataclass(frozen=True, eq=False)
class PreparedInsertion:
    """A published plan ready for urgent insertions (see the module docstring).

    Parameters
    ----------
    world, travel, params
        What it was built with.
    lk
        The locked problem of the planned tickets.
    routes, costs
        Each vehicle's seeded route (node sequence) and its objective points.
    waiting
        Drops of the planned tickets that no seeded route holds (new tickets, announced
        visits that no longer fit): they wait for the background re-plan.
    """

    world: DispatchWorld
    travel: TravelTimes
    params: PlanParams
    lk: Locked
    routes: tuple[tuple[int, ...], ...]
    costs: tuple[int, ...]
    waiting: tuple[Dropped, ...]

    @property
    def now(self) -> int:
        """The planning moment it was built for."""
        return self.lk.p.now

    @cached_property
    def stock(self) -> DispatchWorld:
        """The world without the stock the plan holds (built when a new ticket needs parts)."""
        return _unheld(self.world, self.lk.supplies.values())


def _checked(tickets: Sequence[Ticket]) -> None:
    ids = [t.id for t in tickets]
    if len(ids) != len(set(ids)):
        raise InvalidProblemError("tickets", "ticket ids must be unique")


def prepare_insertion(
    world: DispatchWorld, tickets: Sequence[Ticket], baseline: Baseline, *, now: int,
    travel: TravelTimes, params: PlanParams | None = None,
) -> PreparedInsertion:  # fmt: skip
    """Prepare the published plan for urgent insertions (the costly part, done once).

    Parameters
    ----------
    world, tickets, baseline, now, travel, params
        As in `optimizer.replan` (``tickets``: the open tickets, without the new ones).

    Returns
    -------
    PreparedInsertion
        Valid for exactly these inputs (see the module docstring).
    """
    params = params or PlanParams()
    _checked(tickets)
    travel = travel_at(travel, world.at(now))  # rush hours: the speed of the planning moment
    lk = lock_problem(world, tickets, baseline, now=now, travel=travel, params=params)
    routes, left = seed_routes(lk)
    p = lk.p
    costs = tuple(
        (route_cost(p, v, seq, lk.tab) or 0) if seq else 0 for v, seq in enumerate(routes)
    )
    waiting = tuple(_reason(lk, world, u, travel, params) for u in left)
    return PreparedInsertion(
        world, travel, params, lk, tuple(tuple(r) for r in routes), costs, waiting
    )  # fmt: skip


def _reason(
    lk: Locked, world: DispatchWorld, u: int, travel: TravelTimes, params: PlanParams
) -> Dropped:
    k = int(lk.p.ticket[u])
    ok = [lk.vehicles[i] for i in lk.allowed[k]]
    return unplaced(world, lk.keep[k], ok, travel=travel, params=params)


def _unheld(world: DispatchWorld, supplies: Iterable[TicketSupply]) -> DispatchWorld:
    """The world without every unit a supply holds (pickup alternatives and shipments)."""
    held: Counter[tuple[str, int, int]] = Counter()
    for s in supplies:
        for o in s.pickups:
            for use in o.uses:
                kind, source = ("van", o.van_of) if o.van_of is not None else ("depot", o.depot_id)
                held[(kind, int(source or 0), use.part_id)] += use.qty
        for sh in s.shipped:
            kind, source = ("depot", sh.depot_id) if sh.depot_id is not None else (
                "supplier", sh.supplier_id)  # fmt: skip
            for use in sh.uses:
                held[(kind, int(source or 0), use.part_id)] += use.qty
    if not held:
        return world

    def left(kind: str, source: int, stock: Mapping[int, int]) -> dict[int, int]:
        return {part: max(0, qty - held[(kind, source, part)]) for part, qty in stock.items()}

    return DispatchWorld(
        world.epoch,
        tuple(replace(e, van_stock=left("van", e.id, e.van_stock)) for e in world.engineers),
        tuple(replace(d, stock=left("depot", d.id, d.stock)) for d in world.depots),
        tuple(replace(s, parts=left("supplier", s.id, s.parts)) for s in world.suppliers),
    )


def insert_prepared(
    prep: PreparedInsertion, ticket: Ticket, *, change_budget: int = 0
) -> Insertion:
    """Insert one new urgent ticket into a prepared published plan at once (no search).

    Parameters
    ----------
    prep
        From `prepare_insertion` (not changed: reuse it for the next ticket).
    ticket
        The new ticket (its id must not be among the prepared tickets).
    change_budget
        How many announced visits may change to make room: reassigned to another engineer
        or, if less severe than ``ticket``, deferred (see `optimizer.ejection`).

    Returns
    -------
    Insertion
        The validated plan, the announced visits it changes, the ticket's promise state.
    """
    if change_budget < 0:
        raise ValueError(f"change_budget: must be >= 0, got {change_budget}")
    lk0 = prep.lk
    if any(t.id == ticket.id for t in lk0.tickets):
        raise InvalidProblemError("ticket", f"ticket {ticket.id} is already planned")
    now, travel, params = prep.now, prep.travel, prep.params
    stock = prep.stock if ticket.parts else prep.world
    supplies = allocate(stock, [ticket], now=now, travel=travel, params=params)
    keep, allowed, dropped = screen(
        stock, [ticket], supplies, list(lk0.vehicles), now=now, travel=travel, params=params
    )
    if not keep:
        lk = replace(lk0, tickets=(*lk0.tickets, ticket), dropped=(*lk0.dropped, *dropped))
        return _answer(prep, lk, ticket, Outcome(NEVER, 0))
    lk = with_ticket(lk0, prep.world, ticket, supplies[ticket.id], allowed[0], travel=travel)
    u = lk.node_of[ticket.id]
    found = best_insertion(lk, prep.routes, prep.costs, u, change_budget)
    out = _answer(prep, lk, ticket, found)
    if out.plan.violations and found.changes:  # the safety net: never return an invalid plan
        out = _answer(prep, lk, ticket, best_insertion(lk, prep.routes, prep.costs, u, 0))
    if out.plan.violations and found.late != NEVER:
        out = _answer(prep, lk, ticket, Outcome(NEVER, 0))
    return out


def _answer(prep: PreparedInsertion, lk: Locked, ticket: Ticket, found: Outcome) -> Insertion:
    routes = [found.routes.get(v, list(seq)) for v, seq in enumerate(prep.routes)]
    drops = [*lk.dropped, *prep.waiting]
    for w in sorted(found.deferred):
        tid = lk.keep[int(lk.p.ticket[w])].id
        why = f"deferred to make room for urgent ticket {ticket.id}; the re-plan tries it again"
        drops.append(Dropped(tid, DropReason.NO_ROOM, why))
    u = lk.node_of.get(ticket.id)
    if u is not None and found.late == NEVER:
        drops.append(_reason(lk, prep.world, u, prep.travel, prep.params))
    cost = sum(prep.costs) + (0 if found.late == NEVER else found.cost)
    plan = _plan(prep, lk, routes, drops, cost)
    deferred = {lk.keep[int(lk.p.ticket[w])].id for w in found.deferred}
    return _insertion(plan, lk.baseline, ticket, deferred)


def _plan(
    prep: PreparedInsertion, lk: Locked, routes: Sequence[Sequence[int]], drops: list[Dropped],
    cost: int,
) -> Plan:  # fmt: skip
    stats = SolverStats(cost, cost, "urgent insertion")
    out = assemble(
        prep.world, lk.keep, lk.supplies, lk.p, routes, drops, PlanQuality.FALLBACK, stats
    )
    found = validate(prep.world, lk.tickets, out, travel=prep.travel, params=prep.params)
    found.extend(check_commitments(lk.baseline, out))
    return replace(out, violations=tuple(found))


def _insertion(plan: Plan, baseline: Baseline, ticket: Ticket, deferred: set[int]) -> Insertion:
    after = {s.ticket_id: (r.engineer_id, s) for r in plan.routes for s in r.visits}
    planned = {s.ticket_id for r in plan.routes for s in r.visits} | {
        d.ticket_id for d in plan.dropped
    }
    changes = []
    for c in baseline.commitments:
        if c.ticket_id not in planned:
            continue
        found = after.get(c.ticket_id)
        if found is None:
            changes.append(
                VisitChange(c.ticket_id, c.engineer_id, None, c.eta, None, c.ticket_id in deferred)
            )
        elif (found[0], found[1].starts_at) != (c.engineer_id, c.eta):
            changes.append(
                VisitChange(c.ticket_id, c.engineer_id, found[0], c.eta, found[1].starts_at)
            )
    mine = after.get(ticket.id)
    if mine is None:
        return Insertion(plan, tuple(changes), state_of(None), None, None)
    return Insertion(plan, tuple(changes), state_of(mine[1]), mine[0], mine[1].starts_at)


def insert_urgent(
    world: DispatchWorld, tickets: Sequence[Ticket], baseline: Baseline, ticket: Ticket, *,
    now: int, travel: TravelTimes, params: PlanParams | None = None, change_budget: int = 0,
) -> Insertion:  # fmt: skip
    """Insert one new urgent ticket into the published plan at once (no search).

    `prepare_insertion` then `insert_prepared`: prepare once and insert many when several
    tickets go into the same published plan at the same ``now``.

    Parameters
    ----------
    world, tickets, baseline, now, travel, params
        As in `optimizer.replan` (``tickets`` without the new one; a ticket of the same id is
        replaced).
    ticket
        The new ticket.
    change_budget
        How many announced visits may change to make room (see `insert_prepared`).

    Returns
    -------
    Insertion
        The plan, the announced visits it changes, and the new ticket's promise state.
    """
    if change_budget < 0:
        raise ValueError(f"change_budget: must be >= 0, got {change_budget}")
    others = [t for t in tickets if t.id != ticket.id]
    released = baseline.without([ticket.id])  # replaced: its old promise no longer binds
    prep = prepare_insertion(world, others, released, now=now, travel=travel, params=params)
    return insert_prepared(prep, ticket, change_budget=change_budget)
