"""`plan`: whole-region route planning, always returning a validated plan.

Steps: `allocate` stock (min-cost flow) -> `screen` out tickets nobody can serve (with a
reason) -> `build_problem` -> greedy `construct` (a feasible plan first) -> OR-Tools
`improve` from the greedy routes -> `assemble` -> `validate`.

The hard deadline
-----------------
OR-Tools does not always honour its own time limit (model building, a long local-search
move). With ``PlanParams.time_limit_ms`` set, the search runs in a child process (the
'forkserver' context, with OR-Tools preloaded in the server so that a child starts in
milliseconds); only plain picklable data crosses: the problem and the greedy routes in,
routes and objectives out. The child gets OR-Tools' own limit a little inside the deadline
and streams every improving solution back; the parent waits on the pipe until the deadline
(``time.monotonic``: the only clock of the optimizer) and then kills the child. The best
solution received wins (``time_limited``); none at all, or one the validator rejects, falls
back to the greedy plan (``fallback``). Without a wall-clock limit (tests, benchmarks with a
solution limit) the search runs in process and is deterministic.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from optimizer.allocation import allocate
from optimizer.assemble import assemble
from optimizer.errors import InvalidProblemError
from optimizer.greedy import GreedyResult, construct, objective
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Plan, PlanQuality, SolverStats
from optimizer.problem import RoutingProblem, build_problem, vehicles_of
from optimizer.screening import screen, unplaced
from optimizer.travel import TravelTimes
from optimizer.validate import validate
from optimizer.world import DispatchWorld

# Share of the wall-clock budget given to OR-Tools' own limit: the rest covers the child's
# model building and the trip back.
_INNER_SHARE = 0.6


def plan(
    world: DispatchWorld,
    tickets: Sequence[Ticket],
    *,
    now: int,
    travel: TravelTimes,
    params: PlanParams | None = None,
) -> Plan:
    """Plan routes for ``tickets`` over the world's engineers.

    Parameters
    ----------
    world
        Engineers (vehicles), depots and suppliers with their available stock.
    tickets
        The open tickets to plan (unique ids).
    now
        The planning moment, as a time-axis offset (the optimizer reads no clock).
    travel
        The travel model (geodesic, road network, or a fake).
    params
        Limits, seed, objective weights, sourcing; see `PlanParams`.

    Returns
    -------
    Plan
        Routes, dropped tickets with reasons, KPIs and the quality flag; the validator's
        findings are in ``violations`` (empty: `Plan.is_feasible`).
    """
    params = params or PlanParams()
    ids = [t.id for t in tickets]
    if len(ids) != len(set(ids)):
        raise InvalidProblemError("tickets", "ticket ids must be unique")
    vehicles = vehicles_of(world, now, params)
    supplies = allocate(world, tickets, now=now, travel=travel, params=params)
    keep, allowed, dropped = screen(
        world, tickets, supplies, vehicles, now=now, travel=travel, params=params
    )
    p = build_problem(
        world, keep, supplies, vehicles, allowed, now=now, travel=travel, params=params
    )
    greedy = construct(p)
    started = time.monotonic() if params.time_limit_ms else 0.0
    routes, quality, status = _search(p, greedy, params)
    wall_ms = int((time.monotonic() - started) * 1_000) if params.time_limit_ms else 0

    def build(chosen: Sequence[Sequence[int]], flag: PlanQuality, how: str) -> Plan:
        placed = {n for r in chosen for n in r}
        late = [
            unplaced(
                world, keep[k], [vehicles[i] for i in allowed[k]], travel=travel, params=params
            )
            for k in (int(p.ticket[u]) for u in p.visits.tolist() if u not in placed)
        ]
        stats = SolverStats(greedy.objective, objective(p, chosen), how, wall_ms)
        out = assemble(world, keep, supplies, p, chosen, [*dropped, *late], flag, stats)
        return replace(out, violations=tuple(validate(world, tickets, out, travel=travel)))

    result = build(routes, quality, status)
    if result.violations and quality is not PlanQuality.FALLBACK:
        result = build(greedy.routes, PlanQuality.FALLBACK, f"{status}; rejected by validator")
    return result


def _search(
    p: RoutingProblem, greedy: GreedyResult, params: PlanParams
) -> tuple[Sequence[Sequence[int]], PlanQuality, str]:
    """Improve the greedy routes within the limits; return routes, quality and status."""
    if not len(p.visits):
        return greedy.routes, PlanQuality.OPTIMAL, "nothing to plan"
    if params.time_limit_ms == 0 or not p.vehicles:
        return greedy.routes, PlanQuality.FALLBACK, "greedy"
    if params.time_limit_ms is None:
        from optimizer.routing import improve  # OR-Tools loads only when a search runs

        found: tuple[Sequence[Sequence[int]], int, str] | None
        done = improve(p, greedy.routes, time_limit_ms=None, solution_limit=params.solution_limit)
        found = None if done is None else (done.routes, done.objective, done.status)
        stopped = False
    else:
        found, stopped = _in_child(p, greedy.routes, params.time_limit_ms, params.solution_limit)
    points = None if found is None else _points(p, found[0])
    if found is None or points is None or points > greedy.objective:
        return greedy.routes, PlanQuality.FALLBACK, "greedy: the search found nothing better"
    routes, _, status = found
    if status == "optimal":
        return routes, PlanQuality.OPTIMAL, status
    if stopped or status == "local_optimum_not_reached":
        return routes, PlanQuality.TIME_LIMITED, status
    return routes, PlanQuality.IMPROVED, status


def _points(p: RoutingProblem, routes: Sequence[Sequence[int]]) -> int | None:
    """The routes' objective on the greedy's scale; ``None`` when our schedule rejects them."""
    try:
        return objective(p, routes)
    except ValueError:
        return None


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["optimizer.routing"])
    return ctx


def _child(
    p: RoutingProblem, initial: Sequence[Sequence[int]], deadline: float, limit_ms: int,
    solution_limit: int | None, conn: Connection,
) -> None:  # fmt: skip
    """The child process: search, streaming each improving solution to the parent."""
    from optimizer.routing import improve

    inner = int(min(limit_ms * _INNER_SHARE, (deadline - time.monotonic()) * 1_000 * 0.9))
    found = improve(
        p, initial, time_limit_ms=max(1, inner), solution_limit=solution_limit,
        on_solution=lambda routes, cost: conn.send(("partial", routes, cost, "partial")),
    )  # fmt: skip
    if found is not None:
        conn.send(("done", found.routes, found.objective, found.status))
    conn.close()


def _in_child(
    p: RoutingProblem, initial: Sequence[Sequence[int]], limit_ms: int, solution_limit: int | None
) -> tuple[tuple[Sequence[Sequence[int]], int, str] | None, bool]:
    """Run `_child` until it is done or the deadline passes; return the best found, stopped."""
    deadline = time.monotonic() + limit_ms / 1_000
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child, args=(p, initial, deadline, limit_ms, solution_limit, send), daemon=True
    )
    proc.start()
    send.close()
    best: tuple[Sequence[Sequence[int]], int, str] | None = None
    done = False
    try:
        while not done:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not recv.poll(remaining):
                break
            try:
                kind, routes, cost, status = recv.recv()
            except EOFError:
                break
            done = kind == "done"
            if best is None or cost <= best[1]:
                best = (routes, cost, status if done else "stopped at the deadline")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        recv.close()
    return best, not done


def warm_up() -> None:
    """Start the solver's process server now (OR-Tools preloaded), not on the first `plan`.

    The first child of a process otherwise pays for starting the server and importing
    OR-Tools (about a second), which a short wall-clock limit cannot absorb: call this once
    when a worker starts. Like any `multiprocessing` user, a script calling `plan` with a
    wall-clock limit needs the ``if __name__ == "__main__":`` guard.
    """
    ctx = _context()
    proc = ctx.Process(target=_noop, daemon=True)
    proc.start()
    proc.join()


def _noop() -> None:
    """A child that does nothing: starting it starts the server."""
