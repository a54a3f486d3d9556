"""Running many scenario runs: 8 replications on 1 vs 2 local processes, and Dask's overhead.

Guards: the process pool speeds 8 independent replications up (ratio printed, not asserted:
no timed asserts), Dask's overhead against the pool on the same work is printed, and all
three give identical KPIs (the work unit carries its seed). Medium demo world, 3 days,
300 tickets/day, the optimised policy; fixed seed. Run with `-s -p no:xdist` to see figures.
Also printed, to read the ratio by: what a spawned process pays before its first unit
(spawn, imports, world build), the fork server's one-off start, and how many cores two
busy processes really get at that moment (the machine may be shared).
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from scenarios.executors import Executor, PoolExecutor, _prepared, run_on
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


def _build_world(_: int) -> float:
    """In a worker: the seconds `_prepared` takes for SCENARIO (the world, once per process)."""
    start = time.perf_counter()
    _prepared(SCENARIO.model_dump_json(), None)
    return time.perf_counter() - start


def _start_up() -> tuple[float, float, float]:
    """A spawned process (the pool's context before the fork server): each one pays this."""
    context = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        pool.submit(abs, 0).result()  # a builtin: the worker imports nothing of ours
        spawned = time.perf_counter() - start
        start = time.perf_counter()
        pool.submit(exec, "import scenarios.executors").result()
        imported = time.perf_counter() - start
        built = pool.submit(_build_world, 0).result()
    return spawned, imported, built


def test_process_start_up(benchmark: Any) -> None:
    """Why 2 processes do not halve the time: what each pool process pays before its first unit.

    Spawn (a fresh interpreter answering a builtin), the imports a unit needs (the optimizer,
    numpy, scipy, SimPy, pydantic ...), then the world build `_prepared` caches.
    """
    spawned, imported, built = benchmark.pedantic(_start_up, rounds=1, iterations=1)
    print(  # noqa: T201 - the figures are the point
        f"\nper process: spawn {spawned:.2f} s, import scenarios.executors {imported:.2f} s, "
        f"medium world build {built:.2f} s"
    )


def _busy(n: int) -> int:
    """Pure-Python arithmetic: CPU only, no memory traffic, no shared state."""
    total = 0
    for k in range(n):
        total += k * k % 7
    return total


def _parallelism(n: int = 4_000_000) -> float:
    """How many cores two processes really get now: 2 x (one loop) / (two loops at once)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        list(pool.map(abs, [0, 0]))  # both processes up before timing
        start = time.perf_counter()
        pool.submit(_busy, n).result()
        single = time.perf_counter() - start
        start = time.perf_counter()
        list(pool.map(_busy, [n, n]))
        double = time.perf_counter() - start
    return 2 * single / double


def test_machine_parallelism(benchmark: Any) -> None:
    """The ceiling for the pool's ratio on this machine at this moment (2.0 on 2 idle cores)."""
    ratio = benchmark.pedantic(_parallelism, rounds=1, iterations=1)
    print(f"\ntwo busy loops on 2 processes: {ratio:.2f}x the work of one")  # noqa: T201


@pytest.fixture(scope="module")
def server() -> None:
    """Start the pool's fork server (it imports scenarios.executors once) before timing.

    One command pays this once, then every pool it makes forks from the server; started
    here, neither pool-1 nor pool-2 below carries it, so their ratio is the work's own.
    """
    start = time.perf_counter()
    PoolExecutor(1).map(abs, [0])
    print(f"\nfork server start (imports once): {time.perf_counter() - start:.2f} s")  # noqa: T201


@pytest.fixture(scope="module")
def one(server: None) -> ScenarioRun:
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
