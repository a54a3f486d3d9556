"""CPU per simulated day of each dispatch policy on the large world (issue 16's scenario).

    PYTHONPATH=TREE python benchmarks/large_world_cpu.py [DAYS] [POLICY ...]

Builds `scenarios/examples/large_world.yaml`'s world once, draws replication 0's tickets for
DAYS (default 1), and simulates them (plus the 2-day drain) under each policy (default
optimised and naive), printing `time.process_time` per simulated day and a digest of the
records, so two trees (PYTHONPATH) can be measured alternately and shown to decide alike.
Figures: BENCHMARKS.md.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from scenarios.base import build_sim_world, load_world_rows
from scenarios.demand import ticket_stream
from scenarios.kpis import run_kpis
from scenarios.run import run_params
from scenarios.simulate import simulate
from scenarios.spec import load_scenario

DAY = 86_400
EXAMPLE = Path(__file__).parents[1] / "scenarios" / "examples" / "large_world.yaml"


def main(days: float, policies: list[str]) -> None:
    scenario = load_scenario(EXAMPLE)
    world = build_sim_world(load_world_rows(scenario.base), scenario.start)
    horizon = round(days * DAY)
    stream = ticket_stream(
        world, scenario.demand, horizon_s=horizon, seed=scenario.seed, replication=0
    )
    scenario = scenario.model_copy(update={"horizon_days": days})
    for policy in policies:
        params = run_params(scenario, "base", policy, 0)  # as `spares scenario run` does
        began = time.process_time()
        result = simulate(world, stream, params)
        cpu = time.process_time() - began
        digest = hashlib.sha256(repr((result.jobs, sorted(run_kpis(result).items()))).encode())
        sys.stdout.write(
            f"{policy}: {len(result.jobs)} tickets, {cpu / days:.2f} s CPU per simulated day, "
            f"records {digest.hexdigest()[:12]}\n"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0, sys.argv[2:] or ["optimised", "naive"])
