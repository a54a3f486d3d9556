"""Short plan calls against their limit, phase by phase (issue 20: "never more than 5 % over").

    echo -10 > /proc/self/autogroup   # in the shell that runs it: a raised priority
    .venv/bin/python benchmarks/plan_limits.py --calls 24 --limit 0.05 --limit 0.2 --limit 1

Per limit, ``--calls`` plan calls go round the growth instances of the scaling benchmark
(`spares.bench_scaling`: 200, 500 and 1,000 tickets, seeds 0 and 1) after `warm_up`, each
timed as `spares.bench_search.run` times it (the tickets built before the clock starts). Each
phase of `optimizer.solve._plan` is timed by wrapping the names the module calls
(`wake_for`, `travel_at`, `vehicles_of`, `allocate`, `screen`, `build_problem`, `construct`,
`_search`, `assemble`, `validate`): wall, this thread's CPU, involuntary context switches
and minor page faults of the process. What is not inside a wrapped call is named after the
gap it sits in (``setup``: entry to the allocation; ``cut``: the problem to the greedy;
``reasons``: the search's end to the exit, less `assemble` and `validate`). ``gc.callbacks``
records every collection during a call and those starting right after it returned (a
collection that came due while `collector_held` held it off).

Prints, per limit: median and maximum over the limit, the calls more than 5 % over, and for
each of those its phases (wall / CPU ms, context switches, faults); a phase whose wall is
well above its CPU was waiting (off the CPU: not scheduled, or a child process). Also the
median of each phase over all calls. Exits 1 if a plan is not feasible.

``--gc-as-before`` sets `optimizer.deadline.GC_HELD_UNDER_S` below zero (collector never
held) for comparison. The script imports whatever tree ``PYTHONPATH`` points at, so the same
file measures main and a branch alternately. Not collected by pytest: timing is measured
here, never asserted.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WRAPPED = (
    "wake_for", "travel_at", "vehicles_of", "allocate", "screen", "build_problem",
    "construct", "_search", "assemble", "validate",
)  # fmt: skip
ORDER = (
    "wake_for", "setup", "travel_at", "vehicles_of", "allocate", "screen", "build_problem",
    "cut", "construct", "_search", "reasons", "assemble", "validate", "other", "exit",
)  # fmt: skip


@dataclass
class Phase:
    """One phase of one call: wall and CPU seconds, context switches, faults."""

    wall: float = 0.0
    cpu: float = 0.0
    ivcsw: int = 0
    minflt: int = 0
    late: float | None = None  # seconds past the phase's own deadline when it returned

    def add(self, other: Phase) -> None:
        self.wall += other.wall
        self.cpu += other.cpu
        self.ivcsw += other.ivcsw
        self.minflt += other.minflt
        if other.late is not None:
            self.late = other.late if self.late is None else max(self.late, other.late)


@dataclass
class Call:
    """One plan call's record."""

    n: int
    seed: int
    limit_s: float
    wall: float = 0.0
    phases: dict[str, Phase] = field(default_factory=dict)
    marks: list[tuple[str, Snap, Snap]] = field(default_factory=list)  # name, start, end
    gcs: list[tuple[int, float, float]] = field(default_factory=list)  # gen, start, end
    quality: str = ""
    returned: float = 0.0  # perf_counter when plan returned
    callouts: int = 0
    served: int = 0
    feasible: bool = True

    @property
    def over_pct(self) -> float:
        return 100 * (self.wall / self.limit_s - 1)


Snap = tuple[float, float, int, int]  # perf_counter, thread CPU, involuntary switches, faults


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _snap() -> Snap:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), time.thread_time(), r.ru_nivcsw, r.ru_minflt


def _delta(a: Snap, b: Snap) -> Phase:
    return Phase(b[0] - a[0], b[1] - a[1], b[2] - a[2], b[3] - a[3])


class Recorder:
    """Wraps the phases `optimizer.solve` calls and records them for the current call."""

    def __init__(self) -> None:
        self.call: Call | None = None
        self.depth = 0
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if self.call is None:
            return
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.call.gcs.append((info["generation"], self._gc_start, time.perf_counter()))

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            call = self.call
            if call is None or self.depth:  # nested (an on-call world's inner plan): once
                return fn(*args, **kwargs)
            self.depth += 1
            due = _due(name, args, kwargs)
            a = _snap()
            try:
                return fn(*args, **kwargs)
            finally:
                b = _snap()
                self.depth -= 1
                phase = _delta(a, b)
                if due is not None:
                    phase.late = time.monotonic() - due
                call.phases.setdefault(name, Phase()).add(phase)
                call.marks.append((name, a, b))

        return timed


def _due(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> float | None:
    """The ``time.monotonic`` instant a phase was given (its ``deadline``), if any."""
    if name == "_search":  # its deadline may be long past (the reasons' reserve): skipped
        return None
    due = args[1] if name == "construct" and len(args) > 1 else kwargs.get("deadline")
    due = getattr(due, "at", due)
    return due if isinstance(due, float) else None


GAP_NAMES = {"allocate": "setup", "construct": "cut", "assemble": "reasons"}


def _gaps(call: Call, entry: Snap, exit_: Snap) -> None:
    """Name the time between the wrapped calls after the call that follows it (``setup``
    before the allocation, ``cut`` before the greedy, ``reasons`` before assembling: the
    arrival matrix and the drop reasons) or ``other``; ``exit``: the last call to the end."""
    prev = entry
    for name, a, b in sorted(call.marks, key=lambda m: m[1][0]):
        gap = GAP_NAMES.get(name, "other")
        call.phases.setdefault(gap, Phase()).add(_delta(prev, a))
        prev = b
    call.phases.setdefault("exit", Phase()).add(_delta(prev, exit_))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=float, action="append", help="seconds (repeatable)")
    ap.add_argument("--calls", type=int, default=24, help="calls per limit")
    ap.add_argument("--size", type=int, action="append", help="tickets (repeatable)")
    ap.add_argument("--seed", type=int, action="append", help="plan seeds (repeatable)")
    ap.add_argument("--gc-as-before", action="store_true", help="never hold the collector")
    ap.add_argument("--on-call", type=int, default=0, help="engineers put on call (from the "
                    "world's own, moved off shift): call-outs inside the limit")  # fmt: skip
    args = ap.parse_args()
    limits = args.limit or [0.05, 0.2, 1.0]
    sizes = args.size or [200, 500, 1000]
    seeds = args.seed or [0, 1]

    import optimizer.deadline as deadline_mod
    import optimizer.solve as solve
    from optimizer import GeodesicTravelTimes, PlanParams, plan, warm_up
    from spares.bench_scaling import demo_world, tickets

    if args.gc_as_before:
        deadline_mod.GC_HELD_UNDER_S = -1.0
    rec = Recorder()
    for name in WRAPPED:
        if hasattr(solve, name):
            setattr(solve, name, rec.wrap(name, getattr(solve, name)))
    warm_up()
    demo = demo_world()
    world = demo.world
    if args.on_call:
        world = _with_on_call(world, args.on_call)
    todo = {n: tickets(demo, n) for n in sizes}
    travel = GeodesicTravelTimes()
    commit = os.popen(f"git -C {os.path.dirname(solve.__file__)} rev-parse --short HEAD").read()
    _say(f"tree {os.path.dirname(os.path.dirname(solve.__file__))} at {commit.strip()}; "
          f"load {os.getloadavg()}; gc held: {not args.gc_as_before}; "
          f"on call: {len(world.on_call)}")  # fmt: skip
    combos = [(n, s) for n in sizes for s in seeds]
    bad = 0
    for limit in limits:
        calls: list[Call] = []
        for k in range(args.calls):
            n, s = combos[k % len(combos)]
            call = Call(n, s, limit)
            params = PlanParams(time_limit_ms=int(limit * 1_000), seed=s)
            rec.call = call
            entry = _snap()
            result = plan(world, todo[n], now=0, travel=travel, params=params)
            returned = time.perf_counter()  # a float: no collection can start before it
            exit_ = _snap()
            _ = [[] for _ in range(8)]  # a collection that came due in the call starts here
            rec.call = None
            call.wall = returned - entry[0]
            call.returned = returned
            exit_ = (returned, *exit_[1:])
            _gaps(call, entry, exit_)
            call.quality, call.served = result.quality.value, result.kpis.served
            call.callouts = len(result.callouts)
            call.feasible = result.is_feasible()
            bad += not call.feasible
            calls.append(call)
        _report(limit, calls)
    _say(f"load {os.getloadavg()}")
    return 1 if bad else 0


def _report(limit: float, calls: list[Call]) -> None:
    overs = [c.over_pct for c in calls]
    late = [c for c in calls if c.over_pct > 5]
    median = statistics.median(overs)
    _say(f"\n## limit {limit * 1_000:g} ms: {len(calls)} calls, median {median:+.1f} %"
          f", max {max(overs):+.1f} %, > 5 % over: {len(late)}, "
          f"collections in the calls: {sum(a < c.returned for c in calls for _, a, _ in c.gcs)}, "
          f"right after (ms, gen): {_after(calls)}, "
          f"infeasible: {sum(not c.feasible for c in calls)}, "
          f"served median {statistics.median(c.served for c in calls):g}, "
          f"call-outs median {statistics.median(c.callouts for c in calls):g}")  # fmt: skip
    names = [k for k in ORDER if any(k in c.phases for c in calls)]
    med = {k: statistics.median(c.phases[k].wall if k in c.phases else 0.0 for c in calls)
           for k in names}  # fmt: skip
    _say("median phase wall (ms): " + ", ".join(f"{k} {v * 1e3:.1f}" for k, v in med.items()))
    lates = {
        k: [x for c in calls if k in c.phases and (x := c.phases[k].late) is not None]
        for k in names
    }
    _say("past the phase's own deadline, max (ms) / calls > 5 % of the limit past: " + ", ".join(
        f"{k} {max(v) * 1e3:+.1f} / {sum(x > 0.05 * limit for x in v)}"
        for k, v in lates.items() if v
    ))  # fmt: skip
    for c in sorted(calls, key=lambda c: -c.over_pct)[: max(len(late), 1)]:
        _say(f"- {c.n} tickets seed {c.seed}: {c.wall * 1e3:.1f} ms ({c.over_pct:+.1f} %), "
              f"{c.quality}, served {c.served}")  # fmt: skip
        for k in names:
            if k in c.phases:
                p = c.phases[k]
                long = " <<" if p.wall - med[k] > 0.05 * limit else ""
                past = "" if p.late is None else f"  past its deadline {p.late * 1e3:+.1f}"
                _say(f"    {k:14s} wall {p.wall * 1e3:7.1f}  cpu {p.cpu * 1e3:7.1f}  "
                     f"ivcsw {p.ivcsw:3d}  minflt {p.minflt:6d}{past}{long}")  # fmt: skip
        for gen, a, b in c.gcs:
            during = [m[0] for m in c.marks if m[1][0] <= a <= m[2][0]] or ["between phases"]
            if a >= c.returned:
                during = ["after the call returned"]
            _say(f"    gc gen {gen}: {(b - a) * 1e3:.1f} ms in {during[0]}")


def _after(calls: list[Call]) -> str:
    """The collections that started after the calls returned (the due ones), longest first."""
    after = sorted(
        ((b - a, g) for c in calls for g, a, b in c.gcs if a >= c.returned), reverse=True
    )
    return " ".join(f"{d * 1e3:.0f}/{g}" for d, g in after if d > 1e-3) or "none over 1 ms"


def _with_on_call(world: Any, count: int) -> Any:
    """The world with its last ``count`` engineers on call instead of on shift."""
    from dataclasses import replace

    from optimizer import DispatchWorld, OnCall

    engineers = world.engineers[:-count]
    night = ((-12 * 3_600, 12 * 3_600),)  # on call around the planning moment (offset 0)
    on_call = tuple(
        OnCall(engineer=replace(e, shifts=night), cost=30_000, lead_s=1_800)
        for e in world.engineers[-count:]
    )
    return DispatchWorld(world.epoch, engineers, world.depots, world.suppliers, on_call)


if __name__ == "__main__":
    sys.exit(main())
