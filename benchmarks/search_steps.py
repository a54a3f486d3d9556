"""Search steps per second of `optimizer.search.improve` on the scaling benchmark's problems.

    python benchmarks/search_steps.py [--seconds 10] [--size 200 --size 1000] [--python]
                                      [--child]

Builds the 200- and 1,000-ticket growth problems (`spares.bench_scaling`: demo world, 50
engineers, seed 0), constructs the greedy start and runs the search for ``--seconds`` of
wall clock; prints steps per wall second and per CPU second of this process (the CPU figure
moves far less with the load of a shared machine), and the objective reached. ``--python``:
without the compiled kernels. ``--child``: in a child of the solver's process server, as a
plan with ``workers`` > 1 runs it (does the child have the kernels?). Not collected by
pytest: speed goals live here and in BENCHMARKS.md, never in timed asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from dispatch.world import SolverView
from optimizer import GeodesicTravelTimes, PlanParams, allocate, warm_up
from optimizer.greedy import construct, objective
from optimizer.problem import RoutingProblem, build_problem, vehicles_of
from optimizer.screening import screen
from optimizer.search import improve
from spares.bench_scaling import demo_world, tickets


def problem(demo: SolverView, n: int) -> RoutingProblem:
    """The routing problem of ``n`` growth tickets, as `optimizer.plan` builds it."""
    params = PlanParams(time_limit_ms=10_000, seed=0)
    travel = GeodesicTravelTimes()
    todo, world = tickets(demo, n), demo.world
    vehicles = vehicles_of(world, 0, params)
    supplies = allocate(world, todo, now=0, travel=travel, params=params)
    keep, allowed, _ = screen(world, todo, supplies, vehicles, now=0, travel=travel, params=params)
    return build_problem(
        world, keep, supplies, vehicles, allowed, now=0, travel=travel, params=params
    )


def measure(p: RoutingProblem, seconds: float) -> tuple[bool, int, float, float, int, int]:
    """(kernels loaded, steps, wall s, CPU s, greedy objective, objective found)."""
    from optimizer.insertion import ready

    start = construct(p)
    wall, cpu = time.perf_counter(), time.process_time()
    found = improve(p, start.routes, seed=0, deadline=time.monotonic() + seconds)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert found.objective == objective(p, found.routes)
    return ready(), found.steps, wall, cpu, start.objective, found.objective


def _child(p: RoutingProblem, seconds: float, conn: Connection) -> None:
    conn.send(measure(p, seconds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", type=int, action="append")
    ap.add_argument("--python", action="store_true", help="without the compiled kernels")
    ap.add_argument("--child", action="store_true", help="in a child of the process server")
    args = ap.parse_args()
    if not args.python:
        warm_up(["benchmarks.search_steps"] if args.child else [])
    demo = demo_world()
    for n in args.size or [200, 1_000]:
        p = problem(demo, n)
        if args.child:
            from optimizer.solve import _context  # the server `plan` forks its children from

            ctx: Any = _context()
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(p, args.seconds, send))
            proc.start()
            got = recv.recv()
            proc.join()
        else:
            got = measure(p, args.seconds)
        kernels, steps, wall, cpu, greedy, found = got
        sys.stdout.write(
            f"{n} tickets{' (child)' if args.child else ''}: kernels {kernels}, {steps} steps in "
            f"{wall:.2f} s = {steps / wall:.0f} per wall s, {steps / max(cpu, 1e-9):.0f} per CPU "
            f"s (CPU {cpu:.2f} s); objective {greedy:,} -> {found:,}\n"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
