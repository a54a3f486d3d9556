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
from multiprocessing.connection import Connection, wait
from typing import Any

from optimizer.allocation import allocate
from optimizer.assemble import assemble
from optimizer.errors import InvalidProblemError
from optimizer.greedy import GreedyResult, construct, objective
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Plan, PlanQuality, SolverStats
from optimizer.problem import RoutingProblem, build_problem, vehicles_of
from optimizer.ruin import applies, ruin_and_recreate
from optimizer.screening import screen, unplaced
from optimizer.travel import TravelTimes
from optimizer.validate import validate
from optimizer.world import DispatchWorld

# Share of the wall-clock budget given to OR-Tools' own limit: the rest covers the child's
# model building and the trip back.
_INNER_SHARE = 0.6
# Ruin and recreate stops this long before the deadline (at most): the trip back.
_SISR_MARGIN_S = 0.15


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
    sisr = params.ruin_recreate and not greedy.unassigned and applies(p)
    if params.time_limit_ms is None:
        found: tuple[Sequence[Sequence[int]], int, str] | None
        if sisr:
            better, cost = ruin_and_recreate(
                p, greedy.routes, seed=params.seed, iterations=params.ruin_iterations,
                route_removal=params.ruin_route_removal,
            )  # fmt: skip
            found = (better, cost, "iteration limit")
        else:
            from optimizer.routing import improve  # OR-Tools loads only when a search runs

            done = improve(
                p, greedy.routes, time_limit_ms=None, solution_limit=params.solution_limit
            )
            found = None if done is None else (done.routes, done.objective, done.status)
        stopped = False
    else:
        workers = params.workers if sisr else 1
        found, stopped = _in_child(
            p, greedy.routes, params.time_limit_ms, params.solution_limit, sisr, workers
        )
    points = None if found is None else _points(p, found[0])
    if found is None or points is None or points > greedy.objective:
        return greedy.routes, PlanQuality.FALLBACK, "greedy: the search found nothing better"
    routes, _, status = found
    if status == "optimal":
        return routes, PlanQuality.OPTIMAL, status
    if stopped or status == "local_optimum_not_reached":
        return routes, PlanQuality.TIME_LIMITED, status
    return routes, PlanQuality.IMPROVED, status


def improve_routes(
    p: RoutingProblem, greedy: GreedyResult, params: PlanParams
) -> tuple[Sequence[Sequence[int]], PlanQuality, str]:
    """Improve ``greedy`` routes within ``params``' limits, as `plan` does (for re-planning).

    Returns the routes, the quality flag and the solver status.
    """
    return _search(p, greedy, params)


def _points(p: RoutingProblem, routes: Sequence[Sequence[int]]) -> int | None:
    """The routes' objective on the greedy's scale; ``None`` when our schedule rejects them."""
    try:
        return objective(p, routes)
    except ValueError:
        return None


def _context(preload: Sequence[str] = ()) -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["optimizer.routing", *preload])
    return ctx


def _child(
    p: RoutingProblem, initial: Sequence[Sequence[int]], deadline: float, limit_ms: int,
    solution_limit: int | None, sisr: int | None, conn: Connection,
) -> None:  # fmt: skip
    """The child process: search, streaming each improving solution to the parent.

    ``sisr`` is the ruin-and-recreate seed, or ``None`` for the OR-Tools search.
    """
    if sisr is not None:
        stop = deadline - min(_SISR_MARGIN_S, limit_ms / 1_000 * (1 - _INNER_SHARE))
        routes, cost = ruin_and_recreate(
            p, initial, seed=sisr, deadline=stop, route_removal=p.params.ruin_route_removal,
            on_solution=lambda r, c: conn.send(("partial", r, c, "partial")),
        )  # fmt: skip
        conn.send(("done", routes, cost, "time limit"))
        conn.close()
        return
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
    p: RoutingProblem, initial: Sequence[Sequence[int]], limit_ms: int,
    solution_limit: int | None, sisr: bool = False, workers: int = 1,
) -> tuple[tuple[Sequence[Sequence[int]], int, str] | None, bool]:  # fmt: skip
    """Run `_child` (``workers`` of them) until done or the deadline; return the best, stopped."""
    deadline = time.monotonic() + limit_ms / 1_000
    ctx = _context()
    pipes, procs = [], []
    for k in range(workers):
        recv, send = ctx.Pipe(duplex=False)
        seed = p.params.seed + k if sisr else None
        args = (p, initial, deadline, limit_ms, solution_limit, seed, send)
        procs.append(ctx.Process(target=_child, args=args, daemon=True))
        procs[-1].start()
        send.close()
        pipes.append(recv)
    best: tuple[Sequence[Sequence[int]], int, str] | None = None
    open_pipes = list(pipes)
    finished = 0
    try:
        while open_pipes:
            remaining = deadline - time.monotonic()
            ready = wait(open_pipes, timeout=remaining) if remaining > 0 else []
            if not ready:
                break
            for conn in ready:
                assert isinstance(conn, Connection)
                try:
                    kind, routes, cost, status = conn.recv()
                except EOFError:
                    open_pipes.remove(conn)
                    continue
                if kind == "done":
                    open_pipes.remove(conn)
                    finished += 1
                if best is None or cost < best[1] or (cost == best[1] and kind == "done"):
                    best = (routes, cost, status if kind == "done" else "stopped at the deadline")
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join()
        for conn in pipes:
            conn.close()
    return best, finished < workers


def warm_up(preload: Sequence[str] = ()) -> None:
    """Start the solver's process server now (OR-Tools preloaded), not on the first `plan`.

    The first child of a process otherwise pays for starting the server and importing
    OR-Tools (about a second), which a short wall-clock limit cannot absorb: call this once
    when a worker starts. Like any `multiprocessing` user, a script calling `plan` with a
    wall-clock limit needs the ``if __name__ == "__main__":`` guard.

    Every child re-runs the main script (``multiprocessing`` does, for a script run by path,
    such as a console entry point), and so re-imports whatever it imports: name those
    modules in ``preload`` (e.g. the CLI module) so that the server imports them once and
    each child finds them loaded, instead of paying seconds per child.
    """
    ctx = _context(preload)
    proc = ctx.Process(target=_noop, daemon=True)
    proc.start()
    proc.join()


def _noop() -> None:
    """A child that does nothing: starting it starts the server."""
