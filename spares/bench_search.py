"""The real-plan benchmark of issue 20: the new search against OR-Tools and the greedy start.

The instances are the growth instances of the scaling benchmark (`spares.bench_scaling`:
the demo world's first 50 engineers on shift, 50-1,000 tickets with skills, depot and van
pickups, soft arrival and fix promises, dedicated sites, overtime). Per size and seed, three
plan calls with the same wall-clock limit:

- ``greedy``: the greedy start alone (``time_limit_ms=0``),
- ``ortools``: the greedy start improved by OR-Tools' guided local search (the path of every
  real plan before issue 20, ``ruin_recreate=False``),
- ``search``: the greedy start improved by `optimizer.search` (the default now).

Each row: wall time of the whole call and how far over the limit it ran, served and dropped
tickets, travel, overtime, and promises kept per clock (arrival and fix, from each visit's
``arrival_late_s`` / ``fix_late_s``; a dropped ticket breaks its promises).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.world import SolverView
from optimizer import GeodesicTravelTimes, Plan, PlanParams, Ticket, plan
from spares.bench_scaling import tickets

CONFIGS = ("greedy", "ortools", "search")


@dataclass(frozen=True, slots=True)
class SearchRow:
    """One plan call: a size, a configuration and a seed."""

    tickets: int
    config: str
    seed: int
    limit_s: float
    wall_s: float
    served: int
    dropped: int
    travel_h: float
    overtime_min: float
    arrive_kept: int
    arrive_total: int
    fix_kept: int
    fix_total: int
    quality: str
    feasible: bool

    @property
    def over_pct(self) -> float:
        """How far the call ran past its limit, in percent (negative: inside it)."""
        return 100 * (self.wall_s / self.limit_s - 1) if self.limit_s else 0.0


def clocks(todo: Sequence[Ticket], result: Plan) -> tuple[int, int, int, int]:
    """Arrival and fix promises kept and made: (arrive kept, made, fix kept, made)."""
    stops = {s.ticket_id: s for r in result.routes for s in r.visits}
    a_kept = a_total = f_kept = f_total = 0
    for t in todo:
        s = stops.get(t.id)
        if t.arrive_by is not None:
            a_total += 1
            a_kept += int(s is not None and s.arrival_late_s == 0)
        if t.fix_by is not None:
            f_total += 1
            f_kept += int(s is not None and s.fix_late_s == 0)
    return a_kept, a_total, f_kept, f_total


def params_of(config: str, limit_ms: int, seed: int) -> PlanParams:
    """The plan parameters of a configuration."""
    if config == "greedy":
        return PlanParams(time_limit_ms=0, seed=seed)
    return PlanParams(time_limit_ms=limit_ms, seed=seed, ruin_recreate=config == "search")


def run(demo: SolverView, n: int, config: str, limit_ms: int, seed: int) -> SearchRow:
    """Plan ``n`` tickets with one configuration and measure the call."""
    todo = tickets(demo, n)
    travel = GeodesicTravelTimes()
    start = time.perf_counter()
    result = plan(demo.world, todo, now=0, travel=travel, params=params_of(config, limit_ms, seed))
    wall = time.perf_counter() - start
    k = result.kpis
    a_kept, a_total, f_kept, f_total = clocks(todo, result)
    return SearchRow(
        n, config, seed, limit_ms / 1_000 if config != "greedy" else 0.0, wall, k.served,
        k.dropped, k.travel_s / 3_600, k.overtime_s / 60, a_kept, a_total, f_kept, f_total,
        result.quality.value, result.is_feasible(),
    )  # fmt: skip


HEADER = (
    "| tickets | config | seed | wall (s) | over limit | served | dropped | travel (h) "
    "| overtime (min) | arrival kept | fix kept | quality |"
)


def markdown_table(rows: Sequence[SearchRow]) -> str:
    """The rows as a Markdown table."""
    lines = [HEADER, "|---:|---|---:|" + "---:|" * 8 + "---|"]
    for r in rows:
        over = f"{r.over_pct:+.1f} %" if r.limit_s else "-"
        lines.append(
            f"| {r.tickets} | {r.config} | {r.seed} | {r.wall_s:.2f} | {over} | {r.served} | "
            f"{r.dropped} | {r.travel_h:.1f} | {r.overtime_min:.0f} | "
            f"{r.arrive_kept}/{r.arrive_total} | {r.fix_kept}/{r.fix_total} | {r.quality} |"
        )
    return "\n".join(lines)
