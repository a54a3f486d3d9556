"""The trade-off a planner chooses on: promises kept against overtime hours and travel.

Each variant x policy of one or more scenarios is a point (its KPI means and 95 % CIs):
`promises_kept` (tickets whose every clock was kept: customers count tickets, not clocks)
against `overtime_h` and `travel_km`. A point is on the frontier when no other keeps at
least as many promises with no more overtime and no more travel, and is better on one of
them (Pareto). Labour rules and
penalties are variants like any other: the frontier is drawn over whatever the variants are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402

from scenarios.kpis import Estimate  # noqa: E402

KEPT, OVERTIME, TRAVEL = "promises_kept", "overtime_h", "travel_km"


@dataclass(frozen=True, slots=True)
class TradeOff:
    """One variant x policy: the three KPIs, each as (mean, low, high)."""

    label: str
    kept: tuple[float, float, float]
    overtime_h: tuple[float, float, float]
    travel_km: tuple[float, float, float]
    frontier: bool = False


def trade_offs(estimates: Sequence[Estimate], prefix: str = "") -> list[TradeOff]:
    """The points of a scenario run, in the order its series ran (frontier not yet marked)."""
    index = {(e.variant, e.policy, e.kpi): e for e in estimates if e.scope == "all"}
    series = dict.fromkeys((e.variant, e.policy) for e in estimates)
    out = []
    for variant, policy in series:
        got = [index.get((variant, policy, kpi)) for kpi in (KEPT, OVERTIME, TRAVEL)]
        if any(e is None for e in got):
            continue
        kept, overtime, travel = ((e.mean, e.low, e.high) for e in got if e is not None)
        out.append(TradeOff(f"{prefix}{variant} ({policy})", kept, overtime, travel))
    return out


def dominates(a: TradeOff, b: TradeOff) -> bool:
    """`a` keeps at least as many promises with no more overtime and travel, one strictly."""
    ge = (a.kept[0] >= b.kept[0], a.overtime_h[0] <= b.overtime_h[0],
          a.travel_km[0] <= b.travel_km[0])  # fmt: skip
    gt = (a.kept[0] > b.kept[0], a.overtime_h[0] < b.overtime_h[0],
          a.travel_km[0] < b.travel_km[0])  # fmt: skip
    return all(ge) and any(gt)


def mark_frontier(points: Sequence[TradeOff]) -> list[TradeOff]:
    """The points with `frontier` set on those no other point dominates."""
    return [
        TradeOff(
            p.label,
            p.kept,
            p.overtime_h,
            p.travel_km,
            frontier=not any(dominates(q, p) for q in points if q is not p),
        )  # fmt: skip
        for p in points
    ]


def _front_2d(points: Sequence[TradeOff], cost: str) -> list[TradeOff]:
    """The staircase of one panel: sorted by cost, each keeping more than all cheaper."""
    line, best = [], -1.0
    for p in sorted(points, key=lambda p: (getattr(p, cost)[0], -p.kept[0])):
        if p.kept[0] > best:
            line.append(p)
            best = p.kept[0]
    return line


def frontier_chart(points: Sequence[TradeOff], title: str) -> Figure:
    """Two panels: promises kept against overtime, and against travel; frontier joined."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.6), layout="constrained", sharey=True)
    for ax, (cost, xlabel) in zip(
        axes,
        ((OVERTIME, "Overtime (hours over the run)"), (TRAVEL, "Travel (km over the run)")),
        strict=True,
    ):
        for k, p in enumerate(points):
            x, y = getattr(p, cost), p.kept
            ax.errorbar(
                x[0], 100 * y[0], xerr=[[x[0] - x[1]], [x[2] - x[0]]],
                yerr=[[100 * (y[0] - y[1])], [100 * (y[2] - y[0])]], fmt="o", capsize=3,
                color=f"C{k % 10}", label=p.label,
                markerfacecolor=f"C{k % 10}" if p.frontier else "white",
            )  # fmt: skip
        line = _front_2d(points, cost)
        ax.plot([getattr(p, cost)[0] for p in line], [100 * p.kept[0] for p in line],
                color="grey", linestyle="--", linewidth=1, zorder=0)  # fmt: skip
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Tickets with every promise kept (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="Variant (policy); filled: on the frontier",
               loc="outside lower center", ncols=min(len(points), 3), fontsize="small")  # fmt: skip
    fig.suptitle(title)
    return fig


def save_frontier(points: Sequence[TradeOff], title: str, path: Path) -> Path:
    """Draw `frontier_chart` into a PNG file and free the figure."""
    figure = frontier_chart(points, title)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


__all__ = [
    "TradeOff",
    "dominates",
    "frontier_chart",
    "mark_frontier",
    "save_frontier",
    "trade_offs",
]
