"""`spares advise --scheduler`: the advice sweep on a Dask cluster gives the local pool's advice.

Every candidate set is one scenario run whose units (replication x variant x policy) go to
the executor; the results are assembled in the units' order, so the same advice file must
give the same advice, figure for figure, on a process pool and on a `distributed.LocalCluster`
reached by its scheduler address (as a planner's cluster would be).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spares.cli import app

# Two replications and a round of moves: the search, the uniform rule, the pruning and the
# check on fresh streams all fan out (a target of 99.9 % is never kept in a quarter day).
ADVICE = """
name: tiny-dask
scenario:
  name: tiny
  horizon_days: 0.25
  demand: {tickets_per_day: 60}
  replications: 2
  policies: [optimised]
targets:
  - {kpi: arrival_attainment, share: 0.999}
moves: {regions_per_round: 1, screened: 2}
max_rounds: 1
"""


def _advice(tmp_path: Path, name: str, *flags: str) -> dict[str, object]:
    path = tmp_path / "advice.yaml"
    path.write_text(ADVICE, encoding="utf-8")
    out = tmp_path / name
    result = CliRunner().invoke(app, ["advise", str(path), *flags, "--out", str(out)])
    assert result.exit_code in (0, 1), result.output  # 1: the target not reached, said so
    data: dict[str, object] = json.loads((out / "advice.json").read_text())
    return data


# Dask's LocalCluster warns when its default dashboard port is taken (parallel test workers):
# the dashboard is off here, the warning about it is not ours to fix.
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
def test_the_advice_on_a_dask_cluster_equals_the_local_pools(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    pooled = _advice(tmp_path, "pool", "--workers", "2")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        on_dask = _advice(tmp_path, "dask", "--scheduler", cluster.scheduler_address)
    assert on_dask == pooled
    assert pooled["steps"] or pooled["today"] != pooled["uniform"]  # something was simulated
