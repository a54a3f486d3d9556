"""A routing problem with a baseline's locks, and insertion that keeps them.

How the rules of `optimizer.commitments` become a `RoutingProblem` (no change to the model
of `optimizer.routing`, only to the node data it reads):

- a locked visit (pinned or fixed) may be served by its engineer's vehicle only (its node's
  allowed vehicles); a locked visit whose engineer has no working time left, or lacks the
  skills, is dropped with that reason;
- the fixed visits of an engineer are scheduled forward from his departure, in order, and
  each gets that exact start as its window ``[s, s]``: nothing can go before them or
  between them without making them late, so they stay the head of the route at their times
  (their parts count as on board: the visit is under way);
- every other announced visit gets its window cut to ``[eta - tolerance, eta + tolerance]``
  (unless the dispatcher allows larger moves): a hard bound on the start of service.

The order of pinned visits is kept by the seeding (`seed_routes` appends them in order and
insertion never reorders); a search result is accepted only when `check_commitments` finds
nothing (see `optimizer.replan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from optimizer.allocation import TicketSupply, allocate
from optimizer.commitments import Baseline, Commitment
from optimizer.greedy import _Tables, route_cost  # _Tables: the greedy's scalar look-ups
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Dropped, DropReason
from optimizer.problem import (
    PICKUP,
    START,
    RoutingProblem,
    Vehicle,
    build_problem,
    extend_problem,
    vehicles_of,
)
from optimizer.screening import screen
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld


@dataclass(frozen=True, eq=False)
class Locked:
    """The locked problem and what maps it back to tickets, engineers and commitments."""

    p: RoutingProblem
    tickets: tuple[Ticket, ...]  # every ticket planned (fixed visits without their parts)
    keep: tuple[Ticket, ...]  # the plannable ones, indexed by the problem's ``ticket``
    supplies: dict[int, TicketSupply]
    vehicles: tuple[Vehicle, ...]
    allowed: tuple[tuple[int, ...], ...]
    dropped: tuple[Dropped, ...]
    node_of: dict[int, int]  # ticket id -> visit node
    vehicle_of: dict[int, int]  # engineer id -> vehicle
    head: dict[int, int]  # vehicle -> number of fixed visits at the head of its route
    baseline: Baseline
    tab: _Tables


def lock_problem(
    world: DispatchWorld, tickets: Sequence[Ticket], baseline: Baseline, *, now: int,
    travel: TravelTimes, params: PlanParams,
) -> Locked:  # fmt: skip
    """Build the routing problem of ``tickets`` under ``baseline``'s locks and windows."""
    announced = baseline.by_ticket()
    planned = tuple(
        replace(t, parts=()) if t.id in announced and baseline.is_fixed(announced[t.id], now) else t
        for t in tickets
    )
    # Without gap twins (`optimizer.problem.gap_vehicle`): the insertion into a published
    # plan (`optimizer.ejection`) moves visits between vehicles and does not pair them, so
    # here an engineer works after all his committed work, as before gaps were planned.
    vehicles = tuple(v for v in vehicles_of(world, now, params) if v.back_by is None)
    vehicle_of = {world.engineers[v.row].id: i for i, v in enumerate(vehicles)}
    supplies = allocate(world, planned, now=now, travel=travel, params=params)
    keep, allowed, dropped = screen(
        world, planned, supplies, list(vehicles), now=now, travel=travel, params=params
    )
    keep2, allowed2 = [], []
    for t, ok in zip(keep, allowed, strict=True):
        c = announced.get(t.id)
        if c is None or not baseline.is_locked(c, now):
            keep2.append(t)
            allowed2.append(ok)
        elif vehicle_of.get(c.engineer_id) in ok:
            keep2.append(t)
            allowed2.append((vehicle_of[c.engineer_id],))
        else:
            dropped.append(_locked_out(c))
    p = build_problem(
        world, keep2, supplies, list(vehicles), allowed2, now=now, travel=travel, params=params
    )
    node_of = {keep2[int(p.ticket[n])].id: int(n) for n in p.visits.tolist()}
    p, head = _windows(p, baseline, now, node_of, vehicle_of)
    return Locked(
        p, planned, tuple(keep2), supplies, vehicles, tuple(allowed2), tuple(dropped), node_of,
        vehicle_of, head, baseline, _Tables(p, lazy=True),
    )  # fmt: skip


def _locked_out(c: Commitment) -> Dropped:
    return Dropped(
        c.ticket_id,
        DropReason.NO_QUALIFIED_ENGINEER,
        f"locked to engineer {c.engineer_id}, who cannot take it (no working time or skills)",
    )


def _windows(
    p: RoutingProblem, baseline: Baseline, now: int, node_of: dict[int, int],
    vehicle_of: dict[int, int],
) -> tuple[RoutingProblem, dict[int, int]]:  # fmt: skip
    """Exact windows for fixed heads, tolerance windows for the other announced visits."""
    earliest, latest = p.earliest.copy(), p.latest.copy()
    head: dict[int, int] = {}
    for engineer_id, announced in baseline.routes().items():
        v = vehicle_of.get(engineer_id)
        prev = None if v is None else int(p.starts[v])
        time = 0 if v is None else int(p.depart[v])
        for c in announced:
            node = node_of.get(c.ticket_id)
            if node is None:
                continue
            if baseline.is_fixed(c, now) and v is not None and prev is not None:
                # drive from the previous fixed stop, wait for the window: that start is final
                start = max(time + int(p.seconds[prev, node]), int(earliest[node]))
                if start <= latest[node]:
                    earliest[node] = latest[node] = start
                    time, prev = start + int(p.service[node]), node
                    head[v] = head.get(v, 0) + 1
                    continue
            if not baseline.allow_eta_moves and not baseline.is_fixed(c, now):
                tol = baseline.eta_tolerance_s
                earliest[node] = max(earliest[node], c.eta - tol - now)
                latest[node] = min(latest[node], c.eta + tol - now)
    return replace(p, earliest=earliest, latest=latest), head


def with_ticket(
    lk: Locked, world: DispatchWorld, ticket: Ticket, supply: TicketSupply,
    allowed: tuple[int, ...], *, travel: TravelTimes,
) -> Locked:  # fmt: skip
    """``lk`` with one more plannable ticket (not announced: no lock, no window cut)."""
    p = extend_problem(lk.p, world, ticket, supply, lk.vehicles, allowed, travel=travel)
    return replace(
        lk, p=p, tickets=(*lk.tickets, ticket), keep=(*lk.keep, ticket),
        supplies={**lk.supplies, ticket.id: supply}, allowed=(*lk.allowed, allowed),
        node_of={**lk.node_of, ticket.id: len(lk.p.kind)}, tab=lk.tab.extended(p),
    )  # fmt: skip


def reach(lk: Locked, u: int, limit: int) -> list[int]:
    """The vehicles that could start ``u`` on time on an empty route first, then the nearest.

    Nearest by start place alone favours an engineer whose shift starts in 8 hours; the
    urgent fast path wants those who can be there by the due time.
    """
    p, tab = lk.p, lk.tab
    due = tab.due[u] if tab.due[u] >= 0 else p.horizon

    def key(v: int) -> tuple[int, int, int]:
        drive = tab.sec[int(p.starts[v])][u]
        start = max(int(p.depart[v]) + drive, tab.earliest[u])
        return (max(0, start - due), drive, v)

    allowed = p.allowed[u] or tuple(range(p.vehicles))
    ok = [v for v in allowed if int(p.depart[v]) + tab.sec[int(p.starts[v])][u] <= tab.latest[u]]
    return sorted(ok, key=key)[:limit]


def candidates(lk: Locked, u: int, limit: int | None = None) -> list[int]:
    """The vehicles that may take visit ``u``, nearest first (``limit``: how many)."""
    p = lk.p
    allowed = p.allowed[u] or tuple(range(p.vehicles))
    near = sorted(allowed, key=lambda v: (lk.tab.sec[int(p.starts[v])][u], v))
    return near[: limit or p.params.greedy_candidates]


def _van(p: RoutingProblem, pick: int, v: int) -> bool:
    start = int(p.starts[v])
    return bool(p.seconds[start, pick] == 0 and p.service[pick] == 0 and p.kind[start] == START)


def insertions(lk: Locked, seq: Sequence[int], v: int, u: int) -> tuple[int, list[int]] | None:
    """The cheapest feasible way to add visit ``u`` (and a pickup) to ``seq`` of vehicle ``v``.

    Positions start after the fixed head; a van pickup goes to the route's start, a depot
    pickup right before the visit. Returns ``(route cost, new sequence)``.
    """
    p = lk.p
    first = _head_end(lk, seq, v)
    best: tuple[int, list[int]] | None = None
    options: list[int | None] = list(p.pickups.get(u, ())) or [None]
    for pick in options:
        if pick is not None and not p.may_serve(pick, v):
            continue
        van = pick is not None and _van(p, pick, v)
        for i in range(first, len(seq) + 1):
            if pick is None:
                new = [*seq[:i], u, *seq[i:]]
            elif van:
                new = [pick, *seq[:i], u, *seq[i:]]
            else:
                new = [*seq[:i], pick, u, *seq[i:]]
            cost = route_cost(p, v, new, lk.tab)
            if cost is not None and (best is None or cost < best[0]):
                best = (cost, new)
    return best


def _head_end(lk: Locked, seq: Sequence[int], v: int) -> int:
    """The first position after the fixed visits of ``v`` in ``seq``."""
    want, seen = lk.head.get(v, 0), 0
    for i, node in enumerate(seq):
        if seen == want:
            return i
        if lk.tab.kind[node] != PICKUP:
            seen += 1
    return len(seq)


def remove(lk: Locked, seq: Sequence[int], u: int) -> list[int]:
    """``seq`` without visit ``u`` and its pickup."""
    gone = {u, *lk.p.pickups.get(u, ())}
    return [n for n in seq if n not in gone]


def seed_routes(lk: Locked) -> tuple[list[list[int]], list[int]]:
    """Routes with every announced visit appended on its engineer, in announced order.

    Returns the routes and the visits still to place (new tickets, and announced visits that
    no longer fit where they were).
    """
    p = lk.p
    routes: list[list[int]] = [[] for _ in range(p.vehicles)]
    placed: set[int] = set()
    for engineer_id, announced in lk.baseline.routes().items():
        v = lk.vehicle_of.get(engineer_id)
        if v is None:
            continue
        for c in announced:
            u = lk.node_of.get(c.ticket_id)
            if u is None or not p.may_serve(u, v):
                continue
            found = _append(lk, routes[v], v, u)
            if found is not None:
                routes[v] = found
                placed.add(u)
    return routes, [u for u in order(p) if u not in placed]


def _append(lk: Locked, seq: list[int], v: int, u: int) -> list[int] | None:
    best: tuple[int, list[int]] | None = None
    options: list[int | None] = list(lk.p.pickups.get(u, ())) or [None]
    for pick in options:
        if pick is not None and not lk.p.may_serve(pick, v):
            continue
        if pick is None:
            new = [*seq, u]
        else:
            new = [pick, *seq, u] if _van(lk.p, pick, v) else [*seq, pick, u]
        cost = route_cost(lk.p, v, new, lk.tab)
        if cost is not None and (best is None or cost < best[0]):
            best = (cost, new)
    return None if best is None else best[1]


def order(p: RoutingProblem) -> list[int]:
    """Visits most severe first, then the tightest deadline (the seed breaks ties)."""
    visits = p.visits
    tie = np.random.default_rng(p.params.seed).permutation(len(visits))
    due = np.where(p.due[visits] >= 0, p.due[visits], p.horizon)
    key = np.lexsort((tie, p.latest[visits], due, -p.weight[visits]))
    return [int(n) for n in visits[key]]


def insert_all(lk: Locked, routes: list[list[int]], todo: Sequence[int]) -> list[int]:
    """Insert each visit of ``todo`` where it costs least; return those that fit nowhere."""
    p = lk.p
    costs = [route_cost(p, v, seq, lk.tab) or 0 if seq else 0 for v, seq in enumerate(routes)]
    left = []
    for u in todo:
        best: tuple[int, int, list[int], int] | None = None
        for v in candidates(lk, u):
            found = insertions(lk, routes[v], v, u)
            if found is not None and (best is None or found[0] - costs[v] < best[0]):
                best = (found[0] - costs[v], v, found[1], found[0])
        if best is None:
            left.append(u)
        else:
            routes[best[1]], costs[best[1]] = best[2], best[3]
    return left
