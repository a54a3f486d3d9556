"""Where the large world's promises are missed (issue 16): bounds, planned late, ran late.

    PYTHONPATH=. python benchmarks/large_world_misses.py [DAYS]   # default 7

Runs `scenarios/examples/large_world.yaml`'s world and demand for DAYS, replication 0, under
both policies, and keeps each ticket's last plan (`JobRunner.start`), so that a depart or
arrival miss that no bound explains is split into "planned late" (the plan itself was past
the deadline) and "ran late" (planned in time, then an overrun or the road made it late);
and the swap misses by the source dispatch chose. Figures: BENCHMARKS.md.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dispatch.world import generate_world
from scenarios.base import build_sim_world
from scenarios.demand import DemandTicket, ticket_stream
from scenarios.policies import JobPlan
from scenarios.records import JobRecord
from scenarios.running import JobRunner
from scenarios.simulate import RunParams, simulate
from scenarios.spec import load_scenario

DAY = 86_400
EXAMPLE = Path(__file__).parents[1] / "scenarios" / "examples" / "large_world.yaml"
CLOCKS: tuple[tuple[str, Callable[[JobRecord], bool | None], str, str], ...] = (
    ("depart", JobRecord.depart_kept, "depart_by", "departs_at"),
    ("arrival", JobRecord.arrival_kept, "arrive_by", "arrives_at"),
)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _shares(counts: Counter[str], n: int) -> str:
    return ", ".join(f"{k} {v} ({100 * v / n:.1f} %)" for k, v in sorted(counts.items()))


def _clock_misses(jobs: list[JobRecord], plans: dict[int, JobPlan]) -> None:
    for clock, kept, deadline, planned in CLOCKS:
        counts: Counter[str] = Counter()
        judged = [j for j in jobs if kept(j) is not None]
        for j in judged:
            if kept(j):
                continue
            plan = plans.get(j.ticket_id)
            if why := j.bounds.get(clock, ""):
                counts["bound " + why] += 1
            elif plan is None:
                counts["never dispatched"] += 1
            elif getattr(plan, planned) > getattr(j, deadline):
                counts["planned late"] += 1
            else:
                counts["planned in time, ran late"] += 1
        _say(f"  {clock}: {len(judged)} clocks; missed: {_shares(counts, len(judged))}")


def _swap_misses(jobs: list[JobRecord]) -> None:
    counts: Counter[str] = Counter()
    judged = [j for j in jobs if j.swapped_in_time() is not None]
    for j in judged:
        if j.swapped_in_time():
            counts["kept"] += 1
            continue
        late = j.arrived_at is None or j.arrived_at - j.reported_at > j.swap_within_s
        when = "arrived after 2 h" if late else "arrived in time, fixed after"
        counts[f"missed, {j.source}, {when}"] += 1
    _say(f"  swap due: {len(judged)}; {_shares(counts, len(judged))}")


def main(days: float) -> None:
    scenario = load_scenario(EXAMPLE)
    base = scenario.base
    world = build_sim_world(generate_world(base.seed, base.size), scenario.start)
    horizon = int(days * DAY)
    stream = ticket_stream(world, scenario.demand, horizon_s=horizon, seed=scenario.seed,
                           replication=0)  # fmt: skip
    plans: dict[int, JobPlan] = {}
    start = JobRunner.start

    def keep(self: JobRunner, t: DemandTicket, record: JobRecord, plan: JobPlan) -> Any:
        plans[t.id] = plan
        return start(self, t, record, plan)

    JobRunner.start = keep  # type: ignore[method-assign]
    grace = None if scenario.redispatch_after_min is None else scenario.redispatch_after_min * 60
    for policy in scenario.policies:
        plans.clear()
        began = time.process_time()
        params = RunParams("base", policy, 0, horizon, redispatch_grace_s=grace)
        result = simulate(world, stream, params)
        cpu = time.process_time() - began
        _say(f"{policy}: {len(result.jobs)} tickets, {cpu:.0f} s CPU")
        _clock_misses(result.jobs, plans)
        _swap_misses(result.jobs)
        _say(f"  sources: {dict(Counter(j.source for j in result.jobs if j.needs_parts))}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 7.0)
