"""Where the runs of a scenario execute: in this process, a local process pool, or Dask.

The work unit is one (variant, replication) run: every policy of that variant on that
replication's common ticket stream, drawn from `(scenario.seed, replication)`. A unit is a
picklable `RunUnit` handed to the module-level `run_unit`, so any executor can run it, and
the caller assembles the results in the units' order, never in completion order. Hence the
KPIs are identical whichever executor ran them (tests/scenarios/test_executors.py proves it).

No home-made distribution: the pool is `concurrent.futures.ProcessPoolExecutor` (spawn
context: no forked copies of threads or open handles), and a cluster is whatever
`dask.distributed.Client(address)` reaches (the optional `dask` extra). The worlds a unit
needs are built once per worker process and cached, keyed by the scenario's JSON.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from scenarios.base import build_sim_world, load_world_rows
from scenarios.demand import DAY_S, history_rates, ticket_stream
from scenarios.kpis import summarise
from scenarios.model import SimWorld
from scenarios.records import RunResult
from scenarios.run import Progress, ScenarioRun, build_variants, with_surges
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Scenario

T = TypeVar("T")
R = TypeVar("R")
Done = Callable[[int], None]  # called with a unit's index as it finishes


@dataclass(frozen=True, slots=True)
class RunUnit:
    """One (variant, replication): the scenario travels with it, so a worker needs nothing else."""

    scenario: Scenario
    variant: str
    replication: int
    exported: str | None = None  # a database base's exported bundle (local executors only)


def units_of(scenario: Scenario, exported: Path | None = None) -> list[RunUnit]:
    """Every unit, in the order results are assembled: replication, then variant (base first)."""
    names = ["base", *(v.name for v in scenario.variants)]
    where = None if exported is None else str(exported)
    return [
        RunUnit(scenario, name, rep, where)
        for rep in range(scenario.replications)
        for name in names
    ]


@lru_cache(maxsize=4)
def _prepared(
    scenario_json: str, exported: str | None
) -> tuple[dict[str, SimWorld], dict[int, float]]:
    """The variants' worlds and the history rates, built once per process and scenario."""
    scenario = Scenario.model_validate_json(scenario_json)
    rows = load_world_rows(scenario.base, exported=None if exported is None else Path(exported))
    base = build_sim_world(rows, scenario.start)
    history = history_rates(rows.tables) if scenario.demand.from_history else {}
    return build_variants(scenario, base), history


@dataclass(frozen=True, slots=True)
class UnitResult:
    """A unit's runs (one per policy) and the size of its common ticket stream."""

    tickets: int
    results: list[RunResult]


def run_unit(unit: RunUnit) -> UnitResult:
    """Run every policy of one variant on one replication's common stream (pure in the unit)."""
    scenario = unit.scenario
    worlds, history = _prepared(scenario.model_dump_json(), unit.exported)
    horizon = round(scenario.horizon_days * DAY_S)
    common = ticket_stream(
        worlds["base"], scenario.demand, horizon_s=horizon, seed=scenario.seed,
        replication=unit.replication, history=history,
    )  # fmt: skip
    world = worlds[unit.variant]
    stream = with_surges(world, common, scenario, horizon, unit.replication, history)
    replan = None if scenario.replan_every_min is None else scenario.replan_every_min * 60
    runs = [
        simulate(
            world,
            stream,
            RunParams(unit.variant, policy, unit.replication, horizon, replan_every_s=replan),
        )
        for policy in scenario.policies
    ]
    return UnitResult(len(common), runs)


class Executor(Protocol):
    """Runs `fn` over items and answers the results in the items' order."""

    workers: int

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        """Every item's result, in order; `done(i)` as item i finishes."""
        ...


@dataclass
class SerialExecutor:
    """In this process, one after the other: the reference every other executor must match."""

    workers: int = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        out = []
        for i, item in enumerate(items):
            out.append(fn(item))
            if done is not None:
                done(i)
        return out


@dataclass
class PoolExecutor:
    """A local process pool (spawn): one process per CPU by default."""

    workers: int = 0  # 0: os.cpu_count()

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError(f"workers: must be >= 0, got {self.workers}")
        self.workers = self.workers or os.cpu_count() or 1

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(self.workers, len(items) or 1), mp_context=context) as pool:
            futures = [pool.submit(fn, item) for item in items]
            try:
                _wait_all(futures, done)
            except BaseException:  # Ctrl-C: drop what has not started, then re-raise
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            return [f.result() for f in futures]


def _wait_all(futures: list[Future[Any]], done: Done | None) -> None:
    index = {f: i for i, f in enumerate(futures)}
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for f in sorted(finished, key=index.__getitem__):
            f.result()  # a worker's exception surfaces here, with its traceback
            if done is not None:
                done(index[f])


@dataclass
class DaskExecutor:
    """A Dask distributed cluster: an address (tcp://host:8786) or a running Client/cluster."""

    address: Any  # str, or a LocalCluster (tests, benchmarks)
    workers: int = 0  # filled from the cluster when connected

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        from distributed import Client, as_completed

        # distributed ships no annotations for these two
        with Client(self.address) as client:  # type: ignore[no-untyped-call]
            self.workers = len(client.scheduler_info().get("workers", {})) or 1
            # pure=False: two equal units are still two runs (and results never get merged)
            futures = client.map(fn, list(items), pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for f in as_completed(futures):  # type: ignore[no-untyped-call]
                if done is not None:
                    done(index[f.key])
            return list(client.gather(futures))


def run_on(
    executor: Executor,
    scenario: Scenario,
    *,
    exported: Path | None = None,
    progress: Progress | None = None,
) -> ScenarioRun:
    """Run the scenario's units on `executor`; results in the units' order, not finishing order."""
    units = units_of(scenario, exported)
    per_unit = len(scenario.policies)
    total = len(units) * per_unit
    finished = 0

    def done(_: int) -> None:
        nonlocal finished
        finished += 1
        if progress is not None:
            progress(finished * per_unit, total, 0, 1)

    out = ScenarioRun(scenario)
    for unit, done_unit in zip(units, executor.map(run_unit, units, done), strict=True):
        out.results.extend(done_unit.results)
        out.tickets[unit.replication] = done_unit.tickets
    out.estimates = summarise(out.results)
    return out


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """The CLI's choice: a scheduler address -> Dask; workers 1 -> serial; else a pool."""
    if scheduler:
        return DaskExecutor(scheduler)
    if workers == 1:
        return SerialExecutor()
    return PoolExecutor(workers or 0)


__all__ = [
    "DaskExecutor",
    "Executor",
    "PoolExecutor",
    "RunUnit",
    "SerialExecutor",
    "UnitResult",
    "make_executor",
    "run_on",
    "run_unit",
    "units_of",
]
