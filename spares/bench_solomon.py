"""The Solomon benchmark runner shared by `spares bench solomon` and ``benchmarks/``.

Reads instances and the distance-only BKS (``bks_dimacs.csv``) from the shared folder, solves
each with `optimizer.plan` on the dispatcher's own model (`optimizer.solomon.to_model`),
checks the plan twice (the project's validator and `optimizer.solomon.check_routes` with
exact floating-point times), and measures the DIMACS distance and its gap to the BKS.
"""

from __future__ import annotations

import csv
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from optimizer import Plan, PlanParams, plan
from optimizer.solomon import (
    SolomonInstance,
    check_routes,
    dimacs_distance,
    distance_params,
    exact_distance,
    gap,
    parse_instance,
    to_model,
)
from spares.bench_cli import ENV_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent


def solomon_dir(option: Path | None = None) -> Path:
    """The shared Solomon folder: the option, else ``$SPARES_SOLOMON_DIR``, else the default.

    The default is ``../shared/benchmarks/solomon`` relative to the repository root.
    """
    if option is not None:
        return option
    env = os.environ.get(ENV_DIR)
    return Path(env) if env else REPO_ROOT.parent / "shared" / "benchmarks" / "solomon"


def instance_names(directory: Path) -> list[str]:
    """Every instance in ``directory/instances`` (``*.vrp``), in the usual C, R, RC order."""
    names = [p.stem for p in (directory / "instances").glob("*.vrp")]
    return sorted(names, key=lambda n: (n.rstrip("0123456789"), n))


def read_bks(directory: Path) -> dict[str, tuple[int, float]]:
    """``{instance: (vehicles, distance)}`` of the distance-only BKS (DIMACS convention)."""
    with (directory / "bks_dimacs.csv").open(newline="") as f:
        return {
            r["instance"]: (int(r["vehicles"]), float(r["distance"])) for r in csv.DictReader(f)
        }


@dataclass(frozen=True, slots=True)
class Row:
    """One instance's result."""

    instance: str
    vehicles: int
    distance: float  # DIMACS convention (arcs truncated to one decimal)
    exact: float  # the same routes in exact Euclidean distance
    bks_vehicles: int
    bks_distance: float
    gap_pct: float
    seconds: float
    feasible: bool  # validator and exact checker both agree
    served: int
    quality: str
    note: str


def routes_of(result: Plan) -> tuple[tuple[int, ...], ...]:
    """Customer ids per route (ticket ids are customer numbers)."""
    return tuple(tuple(s.ticket_id for s in r.visits) for r in result.routes if r.visits)


def plan_instance(
    inst: SolomonInstance, params: PlanParams
) -> tuple[Plan, tuple[tuple[int, ...], ...], float]:
    """Our planner on ``inst`` (``params`` made distance-only): the plan, routes, seconds."""
    model = to_model(inst)
    started = time.perf_counter()
    result = plan(
        model.world, model.tickets, now=model.now, travel=model.travel,
        params=distance_params(params, vehicles=inst.vehicles),
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return result, routes_of(result), seconds


def solve_instance(directory: Path, name: str, params: PlanParams, bks: tuple[int, float]) -> Row:
    """Solve one instance with ``params`` (made distance-only) and measure it."""
    inst = parse_instance((directory / "instances" / f"{name}.vrp").read_text())
    result, routes, seconds = plan_instance(inst, params)
    problems = [*result.violations, *check_routes(inst, routes)]
    distance = dimacs_distance(inst, routes)
    return Row(
        name, len(routes), distance, round(exact_distance(inst, routes), 3), bks[0], bks[1],
        round(100 * gap(distance, bks[1]), 3), round(seconds, 2), not problems,
        sum(len(r) for r in routes), result.quality.value,
        "; ".join(problems[:3]) or result.stats.status,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Summary:
    """Aggregates over a table."""

    instances: int
    infeasible: int
    mean_gap: float
    median_gap: float
    max_gap: float
    max_instance: str
    mean_seconds: float
    total_seconds: float


def summarise(rows: Sequence[Row]) -> Summary:
    """Mean, median and max gap (over feasible rows), infeasible count, time."""
    ok = [r for r in rows if r.feasible]
    gaps = [r.gap_pct for r in ok] or [float("nan")]
    worst = max(ok, key=lambda r: r.gap_pct).instance if ok else "-"
    secs = [r.seconds for r in rows] or [0.0]
    return Summary(
        len(rows), len(rows) - len(ok), round(statistics.fmean(gaps), 3),
        round(statistics.median(gaps), 3), round(max(gaps), 3), worst,
        round(statistics.fmean(secs), 2), round(sum(secs), 1),
    )  # fmt: skip


def write_reports(out: Path, rows: Sequence[Row], header: str) -> tuple[Path, Path]:
    """Write ``solomon.csv`` and ``solomon.md`` into ``out``; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(Row)]
    csv_path, md_path = out / "solomon.csv", out / "solomon.md"
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
    s = summarise(rows)
    lines = [
        "# Solomon VRPTW, distance-only BKS (DIMACS convention)",
        "",
        header,
        "",
        f"**{s.instances} instances: mean gap {s.mean_gap:.2f} %, median {s.median_gap:.2f} %, "
        f"max {s.max_gap:.2f} % ({s.max_instance}), infeasible {s.infeasible}, "
        f"mean time {s.mean_seconds:.1f} s (total {s.total_seconds:.0f} s)**",
        "",
        "| instance | vehicles | distance | BKS vehicles | BKS distance | gap % | time s "
        "| feasible |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.instance} | {r.vehicles} | {r.distance:.1f} | {r.bks_vehicles} | "
        f"{r.bks_distance:.1f} | {r.gap_pct:.2f} | {r.seconds:.1f} | "
        f"{'yes' if r.feasible else 'NO: ' + r.note} |"
        for r in rows
    ]
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path
