"""Search steps per second of `optimizer.search.improve` on the scaling benchmark's problems.

    python benchmarks/search_steps.py [--seconds 10] [--size 200 --size 1000] [--python]
                                      [--child] [--seed 0 --seed 1] [--profile]

Builds the 200- and 1,000-ticket growth problems (`spares.bench_scaling`: demo world, 50
engineers, seed 0), constructs the greedy start and runs the search for ``--seconds`` of
wall clock; prints steps per wall second and per CPU second of this process (the CPU figure
moves far less with the load of a shared machine), and the objective reached. ``--python``:
without the compiled kernels. ``--child``: in a child of the solver's process server, as a
plan with ``workers`` > 1 runs it (does the child have the kernels?). ``--seed``: the
search's seeds (default 0). ``--profile``: with the measuring build of the compiled step
(`optimizer.step.PHASES`), where a step's time goes, phase by phase, and what it did per
step (the measuring adds a few per cent). Not collected by pytest: speed goals live here
and in BENCHMARKS.md, never in timed asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from dispatch.world import SolverView
from optimizer import GeodesicTravelTimes, PlanParams, allocate, step, warm_up
from optimizer.greedy import construct, objective
from optimizer.problem import RoutingProblem, build_problem, vehicles_of
from optimizer.screening import screen
from optimizer.search import IntArray, improve
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


def measure(
    p: RoutingProblem, seconds: float, seed: int = 0, profile: IntArray | None = None
) -> tuple[bool, int, float, float, int, int]:
    """(kernels loaded, steps, wall s, CPU s, greedy objective, objective found)."""
    from optimizer.insertion import ready

    start = construct(p)
    if profile is not None:  # the measuring build compiles on its first call: not timed
        improve(p, start.routes, seed=seed, iterations=1, profile=np.zeros_like(profile))
    wall, cpu = time.perf_counter(), time.process_time()
    found = improve(
        p, start.routes, seed=seed, deadline=time.monotonic() + seconds, profile=profile
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert found.objective == objective(p, found.routes)
    return ready(), found.steps, wall, cpu, start.objective, found.objective


def tick_hz() -> float:
    """Ticks of `optimizer.step.cycles` per second (against ``time.perf_counter`` over 0.2 s)."""
    step.cycles()  # compiled or loaded before timing
    c0, t0 = step.cycles(), time.perf_counter()
    time.sleep(0.2)
    return (step.cycles() - c0) / (time.perf_counter() - t0)


def breakdown(prof: IntArray, hz: float, wall: float) -> str:
    """The measured phases as a Markdown table: share of the search, microseconds per step."""
    phases, counts = prof[: len(step.PHASES)], prof[len(step.PHASES) :]
    steps = max(1, int(counts[0]))
    search, call, whole = int(phases[step.SEARCH]), int(phases[step.CALL]), int(phases[11])
    # "insert: positions" was timed around the latest arrivals and the pricing: take them off
    own = phases.copy()
    own[5] -= phases[4] + phases[6]
    rows: list[tuple[str, int]] = [(step.PHASES[i], int(own[i])) for i in range(11)]
    rows.append(("step: the rest (loop, patience, temperature, between phases)",
                 whole - int(own[:11].sum())))  # fmt: skip
    rows.append(("kernel call around the steps", call - whole))
    rows.append(("Python between kernel calls (batch sizing, new bests by route_cost)",
                 search - call))  # fmt: skip
    lines = [
        f"search {search / hz:.2f} s (wall {wall:.2f} s), {steps} steps, "
        f"{steps / max(search / hz, 1e-9):.0f} steps per search s",
        "| phase | share of the search | us per step |",
        "|---|---:|---:|",
    ]
    for name, ticks in rows:
        lines.append(
            f"| {name} | {100 * ticks / max(1, search):.1f} % | {ticks / hz / steps * 1e6:.1f} |"
        )
    lines.append("| count | per step | |")
    lines.append("|---|---:|---|")
    for name, c in zip(step.COUNTS, counts.tolist(), strict=True):
        lines.append(f"| {name} | {c / steps:.2f} | |")
    return "\n".join(lines)


def _child(p: RoutingProblem, seconds: float, conn: Connection) -> None:
    conn.send(measure(p, seconds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", type=int, action="append")
    ap.add_argument("--python", action="store_true", help="without the compiled kernels")
    ap.add_argument("--child", action="store_true", help="in a child of the process server")
    ap.add_argument("--seed", type=int, action="append", help="the search's seeds (default 0)")
    ap.add_argument("--profile", action="store_true", help="where a step's time goes")
    args = ap.parse_args()
    if not args.python:
        warm_up(["benchmarks.search_steps"] if args.child else [])
    demo = demo_world()
    for n, seed in [(n, s) for n in args.size or [200, 1_000] for s in args.seed or [0]]:
        p = problem(demo, n)
        prof = np.zeros(step.PROF_SIZE, dtype=np.int64) if args.profile else None
        hz = tick_hz() if args.profile else 1.0
        if args.child:
            from optimizer.solve import _context  # the server `plan` forks its children from

            ctx: Any = _context()
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(p, args.seconds, send))
            proc.start()
            got = recv.recv()
            proc.join()
        else:
            got = measure(p, args.seconds, seed, prof)
        kernels, steps, wall, cpu, greedy, found = got
        sys.stdout.write(
            f"{n} tickets{' (child)' if args.child else ''}, seed {seed}: kernels {kernels}, "
            f"{steps} steps in "
            f"{wall:.2f} s = {steps / wall:.0f} per wall s, {steps / max(cpu, 1e-9):.0f} per CPU "
            f"s (CPU {cpu:.2f} s); objective {greedy:,} -> {found:,}\n"
        )
        if prof is not None:
            sys.stdout.write(breakdown(prof, hz, wall) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
