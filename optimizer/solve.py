"""`plan`: whole-region route planning, always returning a validated plan.

Steps: `allocate` stock (min-cost flow) -> `screen` out tickets nobody can serve (with a
reason) -> `build_problem` -> greedy `construct` (a feasible plan first) -> ruin and recreate
(`optimizer.search`; OR-Tools as the cross-check) from the greedy routes -> `assemble` ->
`validate`.

Every phase within the limit
----------------------------
With ``PlanParams.time_limit_ms`` set, one `Deadline` counts from the call's entry. A reserve
for assembling and validating is kept at the end (`_finishing_s`), and each preparation phase
takes a share of what is left when it starts: the allocation `_ALLOCATE_SHARE` (past it, the
tickets not reached are left out and, short of time for the flow, each line takes its
cheapest source), the screening `_SCREEN_SHARE`, the nodes and the travel matrix
`_BUILD_SHARE` (row blocks until it passes). The tickets are taken most urgent first, so a
cut leaves out the least urgent; every ticket cut off is dropped as ``out_of_time`` and the
plan is flagged (`PlanQuality.TIME_LIMITED` at best), still validated. With engineers on
call, judging the call-outs (`optimizer.callout.wake_for`) comes first and takes
`_CALLOUT_SHARE` (the most severe candidate always judged; those not reached wake nobody
and are routed, the plan flagged), and the routes of the rest are planned within the same
deadline.

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
from collections.abc import Callable, Sequence
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from optimizer import search, sisr
from optimizer.allocation import allocate
from optimizer.assemble import assemble
from optimizer.callout import wake_for
from optimizer.deadline import Deadline, collector_held
from optimizer.errors import InvalidProblemError
from optimizer.greedy import GreedyResult, construct, objective
from optimizer.insertion import load, ready
from optimizer.model import Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Dropped, Plan, PlanQuality, SolverStats
from optimizer.problem import RoutingProblem, build_problem, vehicles_of
from optimizer.ruin import applies, ruin_and_recreate
from optimizer.screening import no_room, out_of_time, screen
from optimizer.travel import TravelTimes, travel_at
from optimizer.validate import validate
from optimizer.world import DispatchWorld

# Share of the wall-clock budget given to OR-Tools' own limit: the rest covers the child's
# model building and the trip back.
_INNER_SHARE = 0.6
# Ruin and recreate stops this long before the deadline (at most): the trip back.
_SISR_MARGIN_S = 0.15
# Time kept for assembling and validating the routes after the search (see `_finishing_s`).
_FINISH_FIXED_S = 0.004
# Kept for stalls no phase can check: a garbage collection or the scheduler on a busy
# machine (single pauses of 10-40 ms measured at load 14-17 on 2 cores): a share of the
# limit, at most `_STALL_MAX_S` (a 10 s plan need not give up 0.3 s of search for them).
_STALL_SHARE = 0.03
_STALL_MAX_S = 0.1
_FINISH_PER_NODE_S = 60e-6
_FINISH_PER_DROP_S = 0.2e-3
_FINISH_PER_TICKET_S = 10e-6  # validating a dropped ticket, before the problem is known
# Shares of the time left (before the finishing reserve) that each preparation phase takes.
_ALLOCATE_SHARE = 0.25
_SCREEN_SHARE = 0.15
_BUILD_SHARE = 0.35
# With engineers on call: the share of the time left that judging call-outs may take (one
# recommendation per ticket that may wake someone; those not judged by then are routed).
_CALLOUT_SHARE = 0.2


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
        findings are in ``violations`` (empty: `Plan.is_feasible`). With engineers on call
        (``world.on_call``), the tickets one is woken for are in ``callouts``, not routed.
    """
    params = params or PlanParams()
    with collector_held(params.time_limit_ms / 1_000 if params.time_limit_ms else None):
        return _plan(world, tickets, now=now, travel=travel, params=params)


def _plan(
    world: DispatchWorld, tickets: Sequence[Ticket], *, now: int, travel: TravelTimes,
    params: PlanParams, limit: Deadline | None = None,
) -> Plan:  # fmt: skip
    """`plan`, with the collector held off when its limit is short (`collector_held`).

    ``limit``: the call's deadline, counted from `plan`'s entry (the call-outs' inner call
    plans the routes within the same one).
    """
    if limit is None:
        limit = Deadline.after(params.time_limit_ms / 1_000 if params.time_limit_ms else None)
    fixed = _FINISH_FIXED_S + _FINISH_PER_TICKET_S * len(tickets)
    fixed += min(_STALL_MAX_S, _STALL_SHARE * (params.time_limit_ms or 0) / 1_000)
    work = limit.minus(fixed)
    if world.on_call:  # call-outs first (`optimizer.callout`), then the routes of the rest
        woken, rest, at_work, unjudged = wake_for(
            world, tickets, now=now, travel=travel, params=params,
            deadline=work.share(_CALLOUT_SHARE),
        )  # fmt: skip
        planned = _plan(at_work, rest, now=now, travel=travel, params=params, limit=limit)
        quality = planned.quality
        if unjudged and quality in (PlanQuality.OPTIMAL, PlanQuality.IMPROVED):
            quality = PlanQuality.TIME_LIMITED  # some were not judged for a call-out
        return replace(planned, callouts=woken, quality=quality)
    travel = travel_at(travel, world.at(now))  # rush hours: the speed of the planning moment
    ids = [t.id for t in tickets]
    if len(ids) != len(set(ids)):
        raise InvalidProblemError("tickets", "ticket ids must be unique")
    todo = list(tickets) if limit.at is None else sorted(tickets, key=_urgency)
    vehicles = vehicles_of(world, now, params)
    supplies = allocate(
        world, todo, now=now, travel=travel, params=params, deadline=work.share(_ALLOCATE_SHARE)
    )
    keep, allowed, dropped = screen(
        world, todo, supplies, vehicles, now=now, travel=travel, params=params,
        deadline=work.share(_SCREEN_SHARE),
    )  # fmt: skip
    p = build_problem(
        world, keep, supplies, vehicles, allowed, now=now, travel=travel, params=params,
        deadline=work.share(_BUILD_SHARE),
    )  # fmt: skip
    built = set(p.ticket[p.visits].tolist())
    cut = [out_of_time(t) for k, t in enumerate(keep) if k not in built]
    kept = limit.minus(fixed).at
    placed_s = _FINISH_PER_NODE_S * len(p.kind) / max(1, len(p.visits))  # a visit and pickups
    greedy = construct(p, kept, placed_s)
    started = time.monotonic() if params.time_limit_ms else 0.0
    deadline = None
    if kept is not None:  # the visits left out now are likely out at the end: their reasons
        deadline = kept - _finishing_s(p, len(greedy.unassigned) + len(cut))
    routes, quality, status, points = _search(p, greedy, params, deadline=deadline)
    wall_ms = int((time.monotonic() - started) * 1_000) if params.time_limit_ms else 0
    unreached = set(greedy.unreached)
    if (cut or unreached) and quality in (PlanQuality.OPTIMAL, PlanQuality.IMPROVED):
        quality = PlanQuality.TIME_LIMITED  # tickets were cut off: never "optimal"
    # the best straight-drive arrival of each visit, from the problem's own matrix
    arrival = p.depart[:, None] + p.seconds[np.ix_(p.starts, p.visits)]
    column = {u: j for j, u in enumerate(p.visits.tolist())}

    def reason(u: int) -> Dropped:
        t = keep[int(p.ticket[u])]
        if u in unreached:
            return out_of_time(t)
        rows = list(allowed[int(p.ticket[u])])
        best = int(arrival[rows, column[u]].min()) + p.now if rows else None
        return no_room(world, t, best, params)

    def build(chosen: Sequence[Sequence[int]], flag: PlanQuality, how: str, obj: int) -> Plan:
        placed = {n for r in chosen for n in r}
        late = [reason(u) for u in p.visits.tolist() if u not in placed]
        stats = SolverStats(greedy.objective, obj, how, wall_ms)
        out = assemble(world, keep, supplies, p, chosen, [*dropped, *cut, *late], flag, stats)
        return replace(out, violations=tuple(validate(world, tickets, out, travel=travel)))

    result = build(routes, quality, status, points)
    if result.violations and quality is not PlanQuality.FALLBACK:
        result = build(
            greedy.routes, PlanQuality.FALLBACK, f"{status}; rejected by validator",
            greedy.objective,
        )  # fmt: skip
    return result


def _urgency(t: Ticket) -> tuple[int, int, int]:
    """Most severe first, then the earliest promised arrival: the order a deadline cuts in."""
    return (t.severity_rank, t.arrive_by if t.arrive_by is not None else 1 << 62, t.id)


def _timed_search(
    p: RoutingProblem, routes: Sequence[Sequence[int]], params: PlanParams, *, seed: int,
    deadline: float, locked: frozenset[int],
    on_solution: Callable[[list[list[int]], int], None] | None = None,
) -> search.Found:  # fmt: skip
    """`search.improve` under a deadline, with ``params``' patience and cooling (one place)."""
    visits = len(p.visits)
    cooling = params.ruin_cooling * visits
    return search.improve(
        p, routes, seed=seed, deadline=deadline, locked=locked, on_solution=on_solution,
        patience=params.ruin_patience, patience_after=params.ruin_patience_after,
        patience_early=max(params.ruin_patience, params.ruin_patience_early * visits),
        cooling=max(params.ruin_patience, cooling) if cooling else None,
    )  # fmt: skip


def _search(
    p: RoutingProblem, greedy: GreedyResult, params: PlanParams, *,
    deadline: float | None = None, locked: frozenset[int] = frozenset(),
) -> tuple[Sequence[Sequence[int]], PlanQuality, str, int]:  # fmt: skip
    """Improve the greedy routes within the limits; return routes, quality, status, objective.

    ``deadline`` (``time.monotonic``) is when the search must have handed its routes back;
    by default the wall-clock limit from now.
    """
    g = greedy.objective
    if not len(p.visits):
        return greedy.routes, PlanQuality.OPTIMAL, "nothing to plan", g
    if params.time_limit_ms == 0 or not p.vehicles:
        return greedy.routes, PlanQuality.FALLBACK, "greedy", g
    mode = _mode(p, greedy, params)
    if params.time_limit_ms is None:
        found, stopped = _deterministic(p, greedy, params, mode, locked), False
    else:
        stop = time.monotonic() + params.time_limit_ms / 1_000 if deadline is None else deadline
        if stop <= time.monotonic():
            return greedy.routes, PlanQuality.FALLBACK, "greedy: no time left for a search", g
        if mode == FULL and params.workers == 1:
            # in process: no child to start and no problem to pickle; it stops on time
            done = _timed_search(
                p, greedy.routes, params, seed=params.seed, deadline=stop, locked=locked
            )
            found, stopped = (done.routes, done.objective, done.stopped_by), done.timed_out
        else:
            found, stopped = _in_child(p, greedy.routes, stop, params, mode, locked)
    # the full search prices its routes by `route_cost` (our objective); the others: check
    trusted = found is not None and mode == FULL and params.workers == 1
    points = None if found is None else found[1] if trusted else _points(p, found[0])
    if found is None or points is None or points > g:
        return greedy.routes, PlanQuality.FALLBACK, "greedy: the search found nothing better", g
    routes, _, status = found
    if status == "optimal":
        return routes, PlanQuality.OPTIMAL, status, points
    if stopped or status == "local_optimum_not_reached":
        return routes, PlanQuality.TIME_LIMITED, status, points
    return routes, PlanQuality.IMPROVED, status, points


# Which search improves the greedy plan: the compiled SISR of the plain time-window model,
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
    if mode == PLAIN:  # no wall clock: a first compile of the kernels may take its time
        better, cost = sisr.improve(
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

    locked visits keep their place (pinned or fixed). Returns the routes, the quality
    flag and the solver status.
    """
    routes, quality, status, _ = _search(p, greedy, params, deadline=deadline, locked=locked)
    return routes, quality, status


def _points(p: RoutingProblem, routes: Sequence[Sequence[int]]) -> int | None:
    """The routes' objective on the greedy's scale; ``None`` when our schedule rejects them."""
    try:
        return objective(p, routes)
    except ValueError:
        return None


def _context(preload: Sequence[str] = ()) -> Any:
    """The forkserver context; its server preloads OR-Tools, ``preload`` and, when this
    process has them, the compiled kernels (`optimizer.loaded_kernels`): a server starts
    once, so a child forks with what the parent had loaded when it started."""
    ctx = multiprocessing.get_context("forkserver")
    kernels = ["optimizer.loaded_kernels"] if ready() else []
    ctx.set_forkserver_preload(["optimizer.routing", *kernels, *preload])
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
            # compiled when the process server loaded the kernels (`warm_up`), else numpy
            sisr_run = sisr.improve if sisr.ready() else ruin_and_recreate
            routes, cost = sisr_run(
                p, initial, seed=seed, deadline=stop, route_removal=p.params.ruin_route_removal,
                on_solution=send,
            )  # fmt: skip
        else:
            done = _timed_search(
                p, initial, p.params, seed=seed, deadline=stop, locked=locked, on_solution=send
            )
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
    process and has the server preload them (`optimizer.loaded_kernels`), so searches in
    children (``workers`` > 1) use them too: until then the planner prices insertions in
    pure Python, never waiting for a compiler inside a time limit. And it loads the
    compiled SISR (`optimizer.sisr`), here and in the server (`optimizer.sisr_server`),
    whose children then search with it; a server started without it keeps the vectorised
    `optimizer.ruin`.
    """
    load()  # the compiled kernels, here and (preloaded by the server) in every child
    sisr.load()  # compiles once (cached on disk): the server then reads the cache
    ctx = _context([*preload, "optimizer.sisr_server"])
    proc = ctx.Process(target=_noop, daemon=True)
    proc.start()
    proc.join()


def _noop() -> None:
    """A child that does nothing: starting it starts the server."""


def _finishing_s(p: RoutingProblem, left_out: int) -> float:  # beyond the fixed reserves
    """Seconds kept after the search for mapping, pricing and validating its routes.

    Measured on the scaling instances on this shared machine at load 12-14: assembling and
    validating about 0.1 ms per served visit (31 ms for 200 tickets); the reasons of the
    tickets left out come from the problem's matrix (no travel query) and the search's
    objective is kept (no second pricing of every route), which cost 0.2 s and 0.7 s at
    1,000 tickets before.
    """
    return _FINISH_PER_NODE_S * len(p.kind) + _FINISH_PER_DROP_S * left_out
