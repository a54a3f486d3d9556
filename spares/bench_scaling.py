"""Scaling of `optimizer.plan` on generated field-service instances (issue 11).

The instances are built the way ``benchmarks/test_plan.py`` (issue 7) builds them: the demo
world (`dispatch.world.generate_world`, seed 7, medium), its first 50 engineers with a shift
on Monday 2 November 2026 (skills, shifts, van stock, capacity, dedicated sites), the
non-van depots, and ``n`` tickets at random sites of those engineers' regions: one product
line each, a third need a part (a pickup when the van does not carry it), a promised arrival
(2 h for severity ranks 0-1, 4 h for rank 2) and fix (+2 h). Same seed, same tickets.

Per size: the greedy plan alone (``time_limit_ms=0``: the time to the first feasible plan),
then the plan with the given wall-clock limit; promises kept, travel time and the quality
flag of the limited plan.

The world and tickets come from `dispatch.world.solver_view`, the builder the recommendation
benchmark shares.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dispatch.world import SolverView, WorldSize, demo_tickets, generate_world, solver_view
from optimizer import GeodesicTravelTimes, PlanParams, Ticket, plan
from spares.bench_cli import ENGINEERS

SEED = 7
SEVERITIES = (0.1, 0.3, 0.6)  # shares of severity ranks 0, 1 and 2


def demo_world(engineers: int = ENGINEERS) -> SolverView:
    """The demo world's first ``engineers`` engineers on shift, and the non-van depots."""
    tables = generate_world(SEED, WorldSize.MEDIUM).tables
    return solver_view(tables, engineers=engineers, on_shift_only=True)


def tickets(demo: SolverView, n: int) -> list[Ticket]:
    """``n`` tickets at random sites of the engineers' regions; a third need a part."""
    return demo_tickets(demo, n, seed=SEED, severities=SEVERITIES)


@dataclass(frozen=True, slots=True)
class ScalingRow:
    """One size: the greedy (first feasible) plan and the time-limited plan."""

    tickets: int
    engineers: int
    first_feasible_s: float  # wall time of the greedy plan alone (time_limit_ms=0)
    plan_s: float  # wall time of the limited plan, mapping and validation included
    served: int
    dropped: int
    promises: int  # promises made (two per ticket: arrival and fix)
    promises_kept: int
    greedy_promises_kept: int
    travel_h: float
    greedy_travel_h: float
    overtime_min: float
    quality: str
    feasible: bool


def run_size(demo: SolverView, n: int, time_limit_ms: int, seed: int) -> ScalingRow:
    """The greedy plan and the ``time_limit_ms`` plan of ``n`` tickets."""
    ts = tickets(demo, n)
    travel = GeodesicTravelTimes()
    start = time.perf_counter()
    greedy = plan(
        demo.world, ts, now=0, travel=travel, params=PlanParams(time_limit_ms=0, seed=seed)
    )
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    params = PlanParams(time_limit_ms=time_limit_ms, seed=seed)
    result = plan(demo.world, ts, now=0, travel=travel, params=params)
    plan_s = time.perf_counter() - start
    k = result.kpis
    return ScalingRow(
        tickets=n,
        engineers=len(demo.world.engineers),
        first_feasible_s=first_s,
        plan_s=plan_s,
        served=k.served,
        dropped=k.dropped,
        promises=sum(t.total for t in k.promises),
        promises_kept=k.promises_kept,
        greedy_promises_kept=greedy.kpis.promises_kept,
        travel_h=k.travel_s / 3_600,
        greedy_travel_h=greedy.kpis.travel_s / 3_600,
        overtime_min=k.overtime_s / 60,
        quality=result.quality.value,
        feasible=result.is_feasible() and greedy.is_feasible(),
    )


HEADER = (
    "| tickets | engineers | first feasible plan (s) | plan with limit (s) | served | dropped "
    "| promises kept | promises kept, greedy | travel (h) | travel, greedy (h) | overtime (min) "
    "| quality |"
)


def markdown_table(rows: Sequence[ScalingRow]) -> str:
    """The rows as a Markdown table (also the body of ``scaling.md``)."""
    lines = [HEADER, "|" + "---:|" * 11 + "---|"]
    for r in rows:
        lines.append(
            f"| {r.tickets} | {r.engineers} | {r.first_feasible_s:.2f} | {r.plan_s:.2f} | "
            f"{r.served} | {r.dropped} | {r.promises_kept} / {r.promises} | "
            f"{r.greedy_promises_kept} | {r.travel_h:.1f} | {r.greedy_travel_h:.1f} | "
            f"{r.overtime_min:.0f} | {r.quality} |"
        )
    return "\n".join(lines)


def write_chart(path: Path, rows: Sequence[ScalingRow], time_limit_s: float) -> None:
    """Two panels: time to the first feasible plan, and promises kept / travel per size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r.tickets for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(sizes, [r.first_feasible_s for r in rows], "o-", label="first feasible (greedy)")
    left.plot(sizes, [r.plan_s for r in rows], "s--", label=f"plan, {time_limit_s:g} s limit")
    left.set_xlabel("tickets")
    left.set_ylabel("wall time (s)")
    left.set_title("Time to plan")
    left.grid(True, alpha=0.3)
    left.legend()
    share = [100 * r.promises_kept / r.promises if r.promises else 0.0 for r in rows]
    greedy_share = [100 * r.greedy_promises_kept / r.promises if r.promises else 0.0 for r in rows]
    right.plot(sizes, share, "o-", color="tab:green", label="promises kept, limited plan")
    right.plot(sizes, greedy_share, "o:", color="tab:olive", label="promises kept, greedy")
    right.set_xlabel("tickets")
    right.set_ylabel("promises kept (%)")
    right.set_ylim(0, 105)
    right.grid(True, alpha=0.3)
    twin = right.twinx()
    twin.plot(sizes, [r.travel_h for r in rows], "s-", color="tab:red", label="travel, limited")
    twin.plot(
        sizes, [r.greedy_travel_h for r in rows], "s:", color="tab:pink", label="travel, greedy"
    )
    twin.set_ylabel("travel time (h)")
    right.set_title("Promises kept and travel time")
    handles = right.get_legend_handles_labels()
    twin_handles = twin.get_legend_handles_labels()
    right.legend(
        handles[0] + twin_handles[0], handles[1] + twin_handles[1],
        loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8,
    )  # fmt: skip
    engineers = rows[0].engineers if rows else 0
    fig.suptitle(
        f"optimizer.plan scaling: demo world, {engineers} engineers, skills, pickups, promises"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(
    out: Path, rows: Sequence[ScalingRow], header: str, time_limit_s: float
) -> tuple[Path, Path, Path]:
    """``scaling.csv``, ``scaling.md`` and ``scaling.png`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, png_path = out / "scaling.csv", out / "scaling.md", out / "scaling.png"
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ScalingRow.__dataclass_fields__)
        for r in rows:
            writer.writerow(
                [
                    f"{v:.3f}" if isinstance(v, float) else v
                    for v in (getattr(r, f) for f in ScalingRow.__dataclass_fields__)
                ]
            )
    md_path.write_text(f"# Scaling of optimizer.plan\n\n{header}\n\n{markdown_table(rows)}\n")
    write_chart(png_path, rows, time_limit_s)
    return csv_path, md_path, png_path
