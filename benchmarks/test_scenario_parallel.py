"""Running many scenario runs: 8 replications on 1 vs 2 local processes, and Dask's overhead.

Guards: the process pool speeds 8 independent replications up (ratio printed, not asserted:
no timed asserts), the Dask path costs little more than the pool on the same work, and all
three give identical KPIs (the work unit carries its seed). Medium demo world, 3 days,
300 tickets/day, the optimised policy; fixed seed. Run with `-s -p no:xdist` to see figures.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from scenarios.executors import Executor, PoolExecutor, run_on
from scenarios.run import ScenarioRun
from scenarios.spec import Scenario

SCENARIO = Scenario.model_validate({
    "name": "parallel-8", "base": {"size": "medium"}, "horizon_days": 3, "replications": 8,
    "demand": {"tickets_per_day": 300}, "policies": ["optimised"],
})  # fmt: skip
WALL: dict[str, float] = {}


def _timed(name: str, executor: Executor) -> ScenarioRun:
    start = time.perf_counter()
    run = run_on(executor, SCENARIO)
    WALL[name] = time.perf_counter() - start
    print(f"\n{name}: {WALL[name]:.1f} s")  # noqa: T201 - the figure is the point
    return run


@pytest.fixture(scope="module")
def one() -> ScenarioRun:
    return _timed("pool-1", PoolExecutor(1))


def test_two_processes_against_one(benchmark: Any, one: ScenarioRun) -> None:
    two = benchmark.pedantic(_timed, args=("pool-2", PoolExecutor(2)), rounds=1, iterations=1)
    assert two.estimates == one.estimates
    print(f"speed-up 2 vs 1 processes: {WALL['pool-1'] / WALL['pool-2']:.2f}x")  # noqa: T201


# The dashboard is off; distributed still warns when its default port is taken.
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
def test_dask_overhead_against_the_pool(benchmark: Any, one: ScenarioRun) -> None:
    distributed = pytest.importorskip("distributed")
    from scenarios.executors import DaskExecutor

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run = benchmark.pedantic(
            _timed, args=("dask-2", DaskExecutor(cluster)), rounds=1, iterations=1
        )
    assert run.estimates == one.estimates
    if "pool-2" in WALL:
        print(f"dask / pool on 2 workers: {WALL['dask-2'] / WALL['pool-2']:.2f}x")  # noqa: T201
