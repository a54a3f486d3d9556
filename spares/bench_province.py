"""Province scale (issue 20 item 6): a whole province's day in one `plan_province` call.

The instance is the large demo world (`dispatch.world.generate_world`, seed 7, large: 2,000
engineers over Guangdong, 60 depots) with every engineer (those without a shift on Monday
2 November 2026 have no working time and plan nothing), and 10,000 tickets at its sites drawn
as the scaling benchmark draws them (`dispatch.world.demo_tickets`, seed 7: a third need a
part, promised arrival 2-4 h and fix 2 h later). The regions run on a process pool whose
workers load the compiled insertion kernels first, or on a Dask cluster when an address is
given (`scenarios.executors.DaskExecutor`); the optimizer gets only the pool's ``map``.

``compare``: the undivided `optimizer.plan` against `plan_province` on a smaller cut of the
same world, with the same limit.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dispatch.world import SolverView, WorldSize, demo_tickets, generate_world, solver_view
from optimizer import GeodesicTravelTimes, PlanParams, Ticket, plan
from optimizer.province import ProvinceParams, ProvincePlan, Runner, plan_province, seam_cost

SEED = 7
SEVERITIES = (0.1, 0.3, 0.6)


def province_world(engineers: int | None = None) -> SolverView:
    """The large demo world's engineers (the first ``engineers``; all by default)."""
    tables = generate_world(SEED, WorldSize.LARGE).tables
    return solver_view(tables, engineers=engineers)


def province_tickets(view: SolverView, n: int) -> list[Ticket]:
    """``n`` seeded tickets at the view's sites (the scaling benchmark's mix)."""
    return demo_tickets(view, n, seed=SEED, severities=SEVERITIES)


def _load_kernels() -> None:
    from optimizer.insertion import load

    load()


@contextmanager
def runner(workers: int, scheduler: str | None = None) -> Iterator[Runner]:
    """A map over a process pool (kernels loaded in each worker) or a Dask cluster."""
    if scheduler is not None:
        from scenarios.executors import DaskExecutor

        dask = DaskExecutor(scheduler)
        yield lambda fn, items: dask.map(fn, items)
        return
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_load_kernels) as pool:

        def run(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
            return list(pool.map(fn, items))

        # start the workers now: their start and kernel load are not the plan's
        run(_noop, list(range(workers)))
        yield run


def _noop(_: int) -> None:
    """Nothing: starting the pool's workers."""


@dataclass(frozen=True, slots=True)
class ProvinceRow:
    """One province plan: the size, the time, memory, seams and the plan's numbers."""

    tickets: int
    engineers: int
    on_shift: int
    regions: int
    limit_s: float
    wall_s: float
    regions_s: float
    seams_s: float
    peak_mib: float  # this process's peak resident memory
    worker_peak_mib: float  # the largest pool worker's (those asked after the plan)
    served: int
    dropped: int
    travel_h: float
    shared: int
    moved: int
    seam_cost_before: int
    seam_cost_after: int
    seams_kept: int
    seams: int
    quality: str
    regions_feasible: int
    feasible: bool


def run_province(
    view: SolverView, todo: Sequence[Ticket], limit_s: float, run: Runner,
    province: ProvinceParams,
) -> tuple[ProvinceRow, ProvincePlan]:  # fmt: skip
    """Plan the province once and measure it."""
    params = PlanParams(time_limit_ms=int(limit_s * 1_000), seed=0)
    start = time.perf_counter()
    out = plan_province(
        view.world, todo, now=0, travel=GeodesicTravelTimes(), params=params,
        province=province, run=run,
    )  # fmt: skip
    wall = time.perf_counter() - start
    workers = max(run(_peak_here, list(range(4 * province.workers))), default=0.0)
    p, kept = out.plan, [s for s in out.seams if s.kept]
    on_shift = sum(1 for e in view.world.engineers if e.shifts)
    row = ProvinceRow(
        len(todo), len(view.world.engineers), on_shift, len(out.regions), limit_s, wall,
        out.regions_s, out.seams_s, _peak_mib(resource.RUSAGE_SELF),
        workers, p.kpis.served, p.kpis.dropped,
        p.kpis.travel_s / 3_600, sum(s.shared for s in out.seams), sum(s.moved for s in kept),
        sum(s.cost_before for s in out.seams),
        sum(s.cost_after if s.kept else s.cost_before for s in out.seams), len(kept),
        len(out.seams), p.quality.value, sum(r.feasible for r in out.regions), p.is_feasible(),
    )  # fmt: skip
    return row, out


def _peak_here(_: int) -> float:
    """This (worker) process's peak resident memory, MiB."""
    return _peak_mib(resource.RUSAGE_SELF)


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1_024  # Linux: kilobytes


def compare(
    view: SolverView, todo: Sequence[Ticket], limit_s: float, run: Runner,
    province: ProvinceParams,
) -> dict[str, float]:  # fmt: skip
    """The undivided plan and the province plan of the same tickets, same limit."""
    params = PlanParams(time_limit_ms=int(limit_s * 1_000), seed=0)
    by_id = {t.id: t for t in todo}
    start = time.perf_counter()
    whole = plan(view.world, todo, now=0, travel=GeodesicTravelTimes(), params=params)
    whole_s = time.perf_counter() - start
    row, out = run_province(view, todo, limit_s, run, province)

    def cost(routes: Any, dropped: Any) -> int:
        return seam_cost(routes, (d.ticket_id for d in dropped), by_id, params)

    return {
        "undivided_s": whole_s,
        "undivided_served": whole.kpis.served,
        "undivided_travel_h": whole.kpis.travel_s / 3_600,
        "undivided_cost": cost(whole.routes, whole.dropped),
        "undivided_feasible": float(whole.is_feasible()),
        "province_s": row.wall_s,
        "province_served": row.served,
        "province_travel_h": row.travel_h,
        "province_cost": cost(out.plan.routes, out.plan.dropped),
        "province_feasible": float(row.feasible),
        "regions": row.regions,
    }


HEADER = (
    "| tickets | engineers (on shift) | regions | limit (s) | wall (s) | regions (s) | seams (s) "
    "| peak MiB (parent / worker) | served | dropped | travel (h) | engineers shared "
    "| tickets moved | seam cost before -> after (kept/seams) | quality | valid |"
)


def markdown_table(rows: Sequence[ProvinceRow]) -> str:
    """The rows as a Markdown table."""
    lines = [HEADER, "|" + "---:|" * 14 + "---|---|"]
    for r in rows:
        lines.append(
            f"| {r.tickets:,} | {r.engineers:,} ({r.on_shift:,}) | {r.regions} | {r.limit_s:g} "
            f"| {r.wall_s:.1f} | {r.regions_s:.1f} | {r.seams_s:.1f} "
            f"| {r.peak_mib:.0f} / {r.worker_peak_mib:.0f} | {r.served:,} | {r.dropped:,} "
            f"| {r.travel_h:,.0f} | {r.shared} | {r.moved} "
            f"| {r.seam_cost_before:.3g} -> {r.seam_cost_after:.3g} ({r.seams_kept}/{r.seams}) "
            f"| {r.quality} | {r.regions_feasible}/{r.regions} regions, merged "
            f"{'yes' if r.feasible else 'NO'} |"
        )
    return "\n".join(lines)
