"""Where the runs of a scenario execute: in this process, a local process pool, or Dask.

The work unit is one (replication, variant, policy) run: one policy on that variant and
replication's common ticket stream, drawn from `(scenario.seed, replication)` (each policy's
unit draws the same stream again: common random numbers). A unit is a picklable `RunUnit`
handed to the module-level `run_unit`, so any executor can run it, and the caller assembles
the results in the units' order, never in completion order. Hence the KPIs are identical
whichever executor ran them (tests/scenarios/test_executors.py proves it). One unit per
policy, not per replication: the policies' run times differ (on the large world optimised
~1.5x naive, ~3x naive_unlimited), so three replications' units on two processes left one
process idle for a whole replication; per policy, the load spreads and Ctrl-C keeps more.

Ctrl-C (KeyboardInterrupt in this process) on any executor: the units not started are
cancelled, the running ones stopped (pool processes are terminated; Dask cannot stop a
running task, so its result is dropped), and the executor raises `Interrupted` carrying the
finished units' results; `run_on` turns that into a partial `ScenarioRun` (which
replications of which variants ran: its `results`). Pool processes ignore SIGINT, so the
terminal's Ctrl-C (sent to the whole process group) reaches only this process.

No home-made distribution: the pool is `concurrent.futures.ProcessPoolExecutor` (a fork
server with this module preloaded, else spawn: no forked copies of this process's threads
or open handles), and a cluster is whatever
`dask.distributed.Client(address)` reaches (the optional `dask` extra). The worlds a unit
needs are built once per worker process and cached, keyed by the scenario's JSON.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
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
from scenarios.run import Progress, ScenarioRun, build_variants, run_params, with_surges
from scenarios.simulate import simulate
from scenarios.spec import Scenario

T = TypeVar("T")
R = TypeVar("R")
Done = Callable[[int], None]  # called with a unit's index as it finishes


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during `Executor.map`: the results of the items that finished, by index.

    A KeyboardInterrupt, so a caller that does not know partial results still stops.
    """

    def __init__(self, finished: dict[int, Any], total: int) -> None:
        super().__init__(f"interrupted: {len(finished)} of {total} units finished")
        self.finished = finished
        self.total = total


@dataclass(frozen=True, slots=True)
class RunUnit:
    """One (variant, replication, policy): the scenario travels with it, so a worker needs
    nothing else."""

    scenario: Scenario
    variant: str
    replication: int
    exported: str | None = None  # a database base's exported bundle (local executors only)
    policy: str | None = None  # None: every policy of the scenario, in its order


def units_of(scenario: Scenario, exported: Path | None = None, first: int = 0) -> list[RunUnit]:
    """Every unit (replications from `first`), in the order results are assembled:
    replication, then variant (base first), then policy (the scenario's order)."""
    names = ["base", *(v.name for v in scenario.variants)]
    where = None if exported is None else str(exported)
    return [
        RunUnit(scenario, name, rep, where, policy)
        for rep in range(first, scenario.replications)
        for name in names
        for policy in scenario.policies
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
    """A unit's runs (one per policy it ran) and the size of its common ticket stream."""

    tickets: int
    results: list[RunResult]


def run_unit(unit: RunUnit) -> UnitResult:
    """Run the unit's policy (every policy when it names none) of one variant on one
    replication's common stream (pure in the unit)."""
    scenario = unit.scenario
    worlds, history = _prepared(scenario.model_dump_json(), unit.exported)
    horizon = round(scenario.horizon_days * DAY_S)
    common = ticket_stream(
        worlds["base"], scenario.demand, horizon_s=horizon, seed=scenario.seed,
        replication=unit.replication, history=history,
    )  # fmt: skip
    world = worlds[unit.variant]
    stream = with_surges(world, common, scenario, horizon, unit.replication, history)
    runs = [
        simulate(world, stream, run_params(scenario, unit.variant, policy, unit.replication))
        for policy in (scenario.policies if unit.policy is None else [unit.policy])
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
        out: list[R] = []
        try:
            for i, item in enumerate(items):
                out.append(fn(item))
                if done is not None:
                    done(i)
        except KeyboardInterrupt as exc:
            raise Interrupted(dict(enumerate(out)), len(items)) from exc
        return out


@dataclass
class PoolExecutor:
    """A local process pool (fork server, else spawn): one process per CPU by default."""

    workers: int = 0  # 0: os.cpu_count()

    def __post_init__(self) -> None:
        if self.workers < 0:
            raise ValueError(f"workers: must be >= 0, got {self.workers}")
        self.workers = self.workers or os.cpu_count() or 1

    def map(self, fn: Callable[[T], R], items: Sequence[T], done: Done | None = None) -> list[R]:
        context = _context()
        workers = min(self.workers, len(items) or 1)
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_sigint)
        futures: list[Future[R]] = []
        try:
            futures = [pool.submit(fn, item) for item in items]
            _wait_all(futures, done)
        except KeyboardInterrupt as exc:
            finished = _finished(futures)
            _stop(pool)
            raise Interrupted(finished, len(items)) from exc
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)
        return [f.result() for f in futures]


def _context() -> multiprocessing.context.BaseContext:
    """Forkserver with this module preloaded where there is one, else spawn.

    Why: a pool process spends most of its start-up importing (~1.2 s: the optimizer,
    numpy, scipy, SimPy, pydantic) before its first unit. A fork server imports once and
    forks every pool process from that clean, single-threaded state (never from this
    process: no copies of its threads or handles), so the import is paid once per command,
    not once per process and pool (`scenario compare` makes one pool per scenario).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")  # Windows
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["scenarios.executors"])
    return context


def _ignore_sigint() -> None:
    """Pool processes leave Ctrl-C to the parent, which stops them (see `_stop`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _finished(futures: Sequence[Future[R]]) -> dict[int, R]:
    """The results of the futures that completed without an error, by index."""
    return {
        i: f.result()
        for i, f in enumerate(futures)
        if f.done() and not f.cancelled() and f.exception() is None
    }


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the units not started and end the processes running the others now.

    `shutdown(cancel_futures=True)` alone would wait for the running units (minutes each)
    at interpreter exit; the standard library has no public way to stop them, hence
    terminating the pool's processes (its `_processes`).
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


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
            try:
                for f in as_completed(futures):  # type: ignore[no-untyped-call]
                    if done is not None:
                        done(index[f.key])
            except KeyboardInterrupt as exc:
                ready = [i for i, f in enumerate(futures) if f.status == "finished"]
                results = client.gather([futures[i] for i in ready]) if ready else []
                client.cancel([f for f in futures if f.status != "finished"])
                raise Interrupted(dict(zip(ready, results, strict=True)), len(items)) from exc
            return list(client.gather(futures))


def run_on(
    executor: Executor,
    scenario: Scenario,
    *,
    exported: Path | None = None,
    progress: Progress | None = None,
    first: int = 0,
) -> ScenarioRun:
    """Run the scenario's units on `executor`; results in the units' order, not finishing order.

    `first`: replications from this one only (`scenarios.precision` adds replications).

    Ctrl-C answers the finished units only: the run's `partial` is then true, and its
    results say which replications of which variants ran (`Interrupted` when none did).
    """
    units = units_of(scenario, exported, first)
    total = len(units)  # one policy's run per unit
    finished = 0

    def done(_: int) -> None:
        nonlocal finished
        finished += 1
        if progress is not None:
            progress(finished, total, 0, 1)

    ran: dict[int, UnitResult]
    try:
        ran = dict(enumerate(executor.map(run_unit, units, done)))
    except Interrupted as stop:  # Ctrl-C: what finished, in the units' order; partial
        if not stop.finished:
            raise  # nothing ran to the end: nothing to report
        ran = stop.finished
    out = ScenarioRun(scenario)
    for i in sorted(ran):
        out.results.extend(ran[i].results)
        out.tickets[units[i].replication] = ran[i].tickets
    out.estimates = summarise(out.results, scenario.replications)
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
    "Interrupted",
    "PoolExecutor",
    "RunUnit",
    "SerialExecutor",
    "UnitResult",
    "make_executor",
    "run_on",
    "run_unit",
    "units_of",
]
