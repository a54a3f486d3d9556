"""Scenario runs and advice as background jobs: a document in, figures and a report out.

The worker (`spares worker`) calls `run_document` for jobs of kind "scenario" and
`run_advice_document` for kind "advice"; both stay free of the job table, so a scenario or
an advice still runs without a server. The runs go one after the other in
the worker's process: progress moves every simulated hour and a cancel is seen there too
(more throughput = more workers, each claiming its own job). The job row is the only state:
a worker that dies leaves it running with a stale heartbeat, and the next worker claims it
and starts it again from the document (db/jobs.py), so a restart loses no run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scenarios.advise import AdviceSpec, SimulationEvaluator, advise
from scenarios.advise_report import advice_json, write_advice
from scenarios.kpis import Estimate
from scenarios.precision import run_until_precise
from scenarios.records import RunResult
from scenarios.report import write_report
from scenarios.run import run_scenario
from scenarios.spec import Scenario, parse_scenario

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


ADVICE_JOB = "advice"


def run_advice_document(
    document: dict[str, Any],
    folder: Path,
    *,
    progress: Callable[[float], None],
    check: Callable[[], None],
) -> dict[str, Any]:
    """Advise on the document (an advice file as JSON), write its report into `folder`.

    Every candidate set is one scenario run in this process (common random numbers, as
    `spares advise --workers 1`). The number of runs is known only at the end (the search
    stops once the targets hold), so progress counts them against the most there can be
    before the pruning: today, `max_rounds`, the uniform rule and the check on fresh
    streams; it never goes back and reaches 1 when the job ends.
    """
    spec = AdviceSpec.model_validate(document)
    expected = 1 + spec.max_rounds + (1 if spec.uniform else 0) + 1
    runs = 0
    shown = 0.0
    log: list[str] = []

    def run(scenario: Scenario) -> tuple[Sequence[RunResult], Sequence[Estimate]]:
        nonlocal runs

        def tick(done: int, total: int, now: int, end: int) -> None:
            nonlocal shown
            check()
            shown = max(shown, min(0.99, (runs + (done + min(now / end, 1.0)) / total) / expected))
            progress(shown)

        done = run_scenario(scenario, progress=tick)
        if done.partial:  # an interrupted simulation: no advice from half the runs
            raise RuntimeError("the simulation was interrupted: no advice")
        runs += 1
        return done.results, done.estimates

    evaluator = SimulationEvaluator(spec, run)
    advice = advise(spec, evaluator.world, evaluator, on_round=log.append, screen=evaluator.screen)
    files = write_advice(advice, folder)
    return {
        "report": str(folder),
        "files": sorted(f.name for f in files),
        "runs": runs,
        "log": log,
        **_finite_tree(advice_json(advice)),
    }


def _finite_tree(value: Any) -> Any:
    """Every NaN/inf in a JSON tree as null (a CI over one replication is NaN)."""
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {k: _finite_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_tree(v) for v in value]
    return value


__all__ = ["ADVICE_JOB", "SCENARIO_JOB", "run_advice_document", "run_document"]
