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

from optimizer import search
from optimizer.allocation import allocate
from optimizer.assemble import assemble
from optimizer.errors import InvalidProblemError
from optimizer.greedy import GreedyResult, construct, objective
from optimizer.insertion import load
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Dropped, DropReason, Plan, PlanQuality, SolverStats
from optimizer.problem import RoutingProblem, build_problem, vehicles_of
from optimizer.ruin import applies, ruin_and_recreate
from optimizer.screening import screen, unplaced
from optimizer.travel import TravelTimes, travel_at
from optimizer.validate import validate
from optimizer.world import DispatchWorld

# Share of the wall-clock budget given to OR-Tools' own limit: the rest covers the child's
# model building and the trip back.
_INNER_SHARE = 0.6
# Ruin and recreate stops this long before the deadline (at most): the trip back.
_SISR_MARGIN_S = 0.15
# Time kept for assembling and validating the routes after the search (see `_finishing_s`).
_FINISH_FIXED_S = 0.005
_FINISH_PER_NODE_S = 25e-6
_FINISH_PER_DROP_S = 1.5e-3


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
    entered = time.monotonic()
    travel = travel_at(travel, world.at(now))  # rush hours: the speed of the planning moment
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
    deadline = None
    if params.time_limit_ms:
        deadline = entered + params.time_limit_ms / 1_000 - _finishing_s(p, 0)
    greedy = construct(p, deadline)
    started = time.monotonic() if params.time_limit_ms else 0.0
    if deadline is not None:  # the visits left out now are likely out at the end: their reasons
        deadline -= _finishing_s(p, len(greedy.unassigned)) - _finishing_s(p, 0)
    routes, quality, status = _search(p, greedy, params, deadline=deadline)
    wall_ms = int((time.monotonic() - started) * 1_000) if params.time_limit_ms else 0
    unreached = set(greedy.unreached)

    def build(chosen: Sequence[Sequence[int]], flag: PlanQuality, how: str) -> Plan:
        placed = {n for r in chosen for n in r}
        late = [
            _out_of_time(keep[int(p.ticket[u])])
            if u in unreached
            else unplaced(
                world, keep[int(p.ticket[u])], [vehicles[i] for i in allowed[int(p.ticket[u])]],
                travel=travel, params=params,
            )
            for u in p.visits.tolist()
            if u not in placed
        ]  # fmt: skip
        stats = SolverStats(greedy.objective, objective(p, chosen), how, wall_ms)
        out = assemble(world, keep, supplies, p, chosen, [*dropped, *late], flag, stats)
        return replace(out, violations=tuple(validate(world, tickets, out, travel=travel)))

    result = build(routes, quality, status)
    if result.violations and quality is not PlanQuality.FALLBACK:
        result = build(greedy.routes, PlanQuality.FALLBACK, f"{status}; rejected by validator")
    return result


def _out_of_time(t: Ticket) -> Dropped:
    """The reason of a ticket the greedy construction never reached before the deadline."""
    detail = "the plan's time limit ran out before this ticket was tried: plan again"
    return Dropped(t.id, DropReason.OUT_OF_TIME, detail, deadline=t.arrive_by)


def _search(
    p: RoutingProblem, greedy: GreedyResult, params: PlanParams, *,
    deadline: float | None = None, locked: frozenset[int] = frozenset(),
) -> tuple[Sequence[Sequence[int]], PlanQuality, str]:  # fmt: skip
    """Improve the greedy routes within the limits; return routes, quality and status.

    ``deadline`` (``time.monotonic``) is when the search must have handed its routes back;
    by default the wall-clock limit from now.
    """
    if not len(p.visits):
        return greedy.routes, PlanQuality.OPTIMAL, "nothing to plan"
    if params.time_limit_ms == 0 or not p.vehicles:
        return greedy.routes, PlanQuality.FALLBACK, "greedy"
    mode = _mode(p, greedy, params)
    if params.time_limit_ms is None:
        found, stopped = _deterministic(p, greedy, params, mode, locked), False
    else:
        stop = time.monotonic() + params.time_limit_ms / 1_000 if deadline is None else deadline
        if stop <= time.monotonic():
            return greedy.routes, PlanQuality.FALLBACK, "greedy: no time left for a search"
        if mode == FULL and params.workers == 1:
            # in process: no child to start and no problem to pickle; it stops on time
            done = search.improve(
                p, greedy.routes, seed=params.seed, deadline=stop, locked=locked,
                patience=params.ruin_patience,
            )  # fmt: skip
            found, stopped = (done.routes, done.objective, done.stopped_by), done.timed_out
        else:
            found, stopped = _in_child(p, greedy.routes, stop, params, mode, locked)
    points = None if found is None else _points(p, found[0])
    if found is None or points is None or points > greedy.objective:
        return greedy.routes, PlanQuality.FALLBACK, "greedy: the search found nothing better"
    routes, _, status = found
    if status == "optimal":
        return routes, PlanQuality.OPTIMAL, status
    if stopped or status == "local_optimum_not_reached":
        return routes, PlanQuality.TIME_LIMITED, status
    return routes, PlanQuality.IMPROVED, status


# Which search improves the greedy plan: the vectorised SISR of the plain time-window model,
# ruin and recreate on the whole model, or OR-Tools' guided local search.
PLAIN, FULL, ORTOOLS = "plain", "full", "ortools"


def _mode(p: RoutingProblem, greedy: GreedyResult, params: PlanParams) -> str:
    if not params.ruin_recreate:
        return ORTOOLS
    return PLAIN if not greedy.unassigned and applies(p) else FULL


def _deterministic(
    p: RoutingProblem, greedy: GreedyResult, params: PlanParams, mode: str,
    locked: frozenset[int],
) -> tuple[Sequence[Sequence[int]], int, str] | None:  # fmt: skip
    """The search without a wall-clock limit: stopped by iterations or solutions."""
    if mode == PLAIN:
        better, cost = ruin_and_recreate(
            p, greedy.routes, seed=params.seed, iterations=params.ruin_iterations,
            route_removal=params.ruin_route_removal,
        )  # fmt: skip
        return better, cost, "iteration limit"
    if mode == FULL:
        found = search.improve(
            p, greedy.routes, seed=params.seed, iterations=params.ruin_iterations, locked=locked
        )
        return found.routes, found.objective, found.stopped_by
    from optimizer.routing import improve  # OR-Tools loads only when a search runs

    done = improve(p, greedy.routes, time_limit_ms=None, solution_limit=params.solution_limit)
    return None if done is None else (done.routes, done.objective, done.status)


def improve_routes(
    p: RoutingProblem, greedy: GreedyResult, params: PlanParams, *,
    deadline: float | None = None, locked: frozenset[int] = frozenset(),
) -> tuple[Sequence[Sequence[int]], PlanQuality, str]:  # fmt: skip
    """Improve ``greedy`` routes within ``params``' limits, as `plan` does (for re-planning).

    ``locked`` visits keep their place (pinned or fixed). Returns the routes, the quality
    flag and the solver status.
    """
    return _search(p, greedy, params, deadline=deadline, locked=locked)


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
    p: RoutingProblem, initial: Sequence[Sequence[int]], deadline: float, mode: str,
    seed: int, solution_limit: int | None, locked: frozenset[int], conn: Connection,
) -> None:  # fmt: skip
    """The child process: search, streaming each improving solution to the parent."""

    def send(routes: Sequence[Sequence[int]], cost: int) -> None:
        conn.send(("partial", routes, cost, "partial"))

    budget = deadline - time.monotonic()
    if mode != ORTOOLS:
        stop = deadline - min(_SISR_MARGIN_S, budget * (1 - _INNER_SHARE))
        if mode == PLAIN:
            routes, cost = ruin_and_recreate(
                p, initial, seed=seed, deadline=stop, route_removal=p.params.ruin_route_removal,
                on_solution=send,
            )  # fmt: skip
        else:
            done = search.improve(
                p, initial, seed=seed, deadline=stop, locked=locked, on_solution=send,
                patience=p.params.ruin_patience,
            )  # fmt: skip
            routes, cost = done.routes, done.objective
        conn.send(("done", routes, cost, "time limit"))
        conn.close()
        return
    from optimizer.routing import improve

    inner = int(budget * 1_000 * _INNER_SHARE)
    found = improve(
        p, initial, time_limit_ms=max(1, inner), solution_limit=solution_limit, on_solution=send
    )
    if found is not None:
        conn.send(("done", found.routes, found.objective, found.status))
    conn.close()


def _in_child(
    p: RoutingProblem, initial: Sequence[Sequence[int]], deadline: float, params: PlanParams,
    mode: str, locked: frozenset[int],
) -> tuple[tuple[Sequence[Sequence[int]], int, str] | None, bool]:  # fmt: skip
    """Run `_child` (``workers`` of them) until done or the deadline; return the best, stopped."""
    ctx = _context()
    workers = params.workers if mode != ORTOOLS else 1
    pipes, procs = [], []
    for k in range(workers):
        recv, send = ctx.Pipe(duplex=False)
        args = (p, initial, deadline, mode, params.seed + k, params.solution_limit, locked, send)
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

    It also loads the compiled insertion kernels (`optimizer.insertion.load`) in this
    process: until then the planner prices insertions in pure Python, never waiting for a
    compiler inside a time limit.
    """
    load()  # the compiled insertion kernels, here (children do not use them)
    ctx = _context(preload)
    proc = ctx.Process(target=_noop, daemon=True)
    proc.start()
    proc.join()


def _noop() -> None:
    """A child that does nothing: starting it starts the server."""


def _finishing_s(p: RoutingProblem, left_out: int) -> float:
    """Seconds kept after the search for mapping, pricing and validating its routes.

    Measured on the 1,000-ticket scaling instance (about 1,400 nodes, 724 tickets left out)
    on this shared machine under load: assembling and validating 0.1 s, the objective checks
    0.7 s, the reasons of the tickets left out 0.2 s (a travel query each); the search had
    run 5-9 % past a 10 s limit with a fixed per-node reserve.
    """
    return _FINISH_FIXED_S + _FINISH_PER_NODE_S * len(p.kind) + _FINISH_PER_DROP_S * left_out
