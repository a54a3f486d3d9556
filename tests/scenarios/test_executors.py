"""Whichever executor runs the units, the scenario's results are identical.

The same tiny scenario (two replications, a variant, two policies) runs in the old in-process
loop, serially through units, on a spawned process pool and on a one-worker Dask
LocalCluster; the KPI estimates must be equal exactly, not approximately.
"""

from __future__ import annotations

import pytest

from scenarios.executors import (
    PoolExecutor,
    SerialExecutor,
    make_executor,
    run_on,
    units_of,
)
from scenarios.kpis import Estimate
from scenarios.run import ScenarioRun, run_scenario
from scenarios.spec import Scenario
from tests.scenarios.conftest import tiny_scenario


def _scenario() -> Scenario:
    return tiny_scenario(
        horizon_days=0.5,
        variants=[{"name": "half-stock", "changes": [{"kind": "stock_level", "factor": 0.5}]}],
    )


def _key(run: ScenarioRun) -> list[tuple[object, ...]]:
    return [(r.variant, r.policy, r.replication, len(r.jobs)) for r in run.results]


@pytest.fixture(scope="module")
def reference() -> ScenarioRun:
    return run_scenario(_scenario())


def _same(run: ScenarioRun, reference: ScenarioRun) -> None:
    assert _key(run) == _key(reference)
    assert run.tickets == reference.tickets
    estimates: list[Estimate] = run.estimates
    assert estimates == reference.estimates
    assert not run.partial
    assert not any(e.partial for e in estimates)  # every replication ran


def test_units_are_replication_then_variant_then_policy() -> None:
    units = units_of(_scenario())
    assert [(u.replication, u.variant, u.policy) for u in units] == [
        (r, v, p) for r in (0, 1) for v in ("base", "half-stock") for p in ("optimised", "naive")
    ]


def test_serial_units_equal_the_loop(reference: ScenarioRun) -> None:
    seen: list[int] = []
    run = run_on(SerialExecutor(), _scenario(), progress=lambda d, t, *_: seen.append(d))
    _same(run, reference)
    assert seen == [1, 2, 3, 4, 5, 6, 7, 8]  # runs done after each unit (one run), of 8


def test_process_pool_equals_serial(reference: ScenarioRun) -> None:
    _same(run_on(PoolExecutor(2), _scenario()), reference)


# Dask's LocalCluster warns when its default dashboard port is taken (parallel test workers):
# the dashboard is off here, the warning about it is not ours to fix.
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
# The socket that distributed's port probe leaves behind is ignored in pyproject.toml.
def test_dask_local_cluster_equals_serial(reference: ScenarioRun) -> None:
    distributed = pytest.importorskip("distributed")
    from scenarios.executors import DaskExecutor

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        executor = DaskExecutor(cluster)
        _same(run_on(executor, _scenario()), reference)
        assert executor.workers == 1


def test_make_executor_chooses() -> None:
    assert isinstance(make_executor(1), SerialExecutor)
    pool = make_executor(None)
    assert isinstance(pool, PoolExecutor)
    assert pool.workers >= 1
    with pytest.raises(ValueError, match="workers"):
        PoolExecutor(-1)
