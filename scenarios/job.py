"""A scenario run as a background job: the document in, KPIs and a report folder out.

The worker (`spares worker`, kind "scenario") calls `run_document`; it stays free of the
job table, so a scenario still runs without a server. The runs go one after the other in
the worker's process: progress moves every simulated hour and a cancel is seen there too
(more throughput = more workers, each claiming its own job). The job row is the only state:
a worker that dies leaves it running with a stale heartbeat, and the next worker claims it
and starts it again from the document (db/jobs.py), so a restart loses no run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scenarios.precision import run_until_precise
from scenarios.report import write_report
from scenarios.run import run_scenario
from scenarios.spec import parse_scenario

SCENARIO_JOB = "scenario"


def run_document(
    document: dict[str, Any],
    folder: Path,
    *,
    progress: Callable[[float], None],
    check: Callable[[], None],
) -> dict[str, Any]:
    """Run the scenario, write its report into `folder`; answer KPIs, files and partial.

    `check()` is called as the simulation advances and stops the run by raising (a
    cancelled job); `progress(fraction)` reports how far the runs are.
    """
    scenario = parse_scenario(document, "payload")

    def tick(done: int, total: int, now: int, end: int) -> None:
        check()
        progress((done + min(now / end, 1.0)) / total)

    run = run_until_precise(
        scenario, lambda sc, first: run_scenario(sc, progress=tick, first=first)
    )
    files = write_report(run, folder)
    return {
        "report": str(folder),
        "files": sorted(f.name for f in files),
        "partial": run.partial,
        "precision": None if run.precision is None else run.precision.describe(),
        "kpis": [
            {
                "variant": e.variant,
                "policy": e.policy,
                "kpi": e.kpi,
                "scope": e.scope,
                "mean": _finite(e.mean),
                "low": _finite(e.low),
                "high": _finite(e.high),
                "n": e.n,
                "unit": e.unit,
            }
            for e in run.estimates
        ],  # fmt: skip
    }


def _finite(x: float) -> float | None:
    """NaN/inf as null: PostgreSQL's JSON refuses them (a CI over one replication is NaN)."""
    return x if math.isfinite(x) else None


__all__ = ["SCENARIO_JOB", "run_document"]
