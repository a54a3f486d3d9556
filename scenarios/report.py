"""The report folder: KPI tables (CSV, JSON) and charts (PNG) a planner can show as they are.

Charts use matplotlib's Agg backend (no screen). Each chart has a title that says what is
measured and over how many replications, axis labels with units, and a legend naming
variant and policy; long category lists go on the y axis so labels never overlap.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from scenarios.bounds import CLOCKS  # noqa: E402
from scenarios.frontier import mark_frontier, save_frontier, trade_offs  # noqa: E402
from scenarios.kpis import (  # noqa: E402
    Difference,
    Estimate,
    differences,
    policy_differences,
    reference_policy,
)
from scenarios.model import SEVERITY_CLASSES  # noqa: E402
from scenarios.run import ScenarioRun  # noqa: E402

FIELDS = ("variant", "policy", "kpi", "scope", "mean", "low", "high", "n", "unit", "partial")
DIFF_FIELDS = (
    "variant", "base", "policy", "kpi", "scope", "mean", "low", "high", "n", "unit",
    "significant", "p_value",
)  # fmt: skip


def write_report(run: ScenarioRun, folder: Path) -> list[Path]:
    """Write kpis.csv, kpis.json and the charts into `folder`; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    diffs = differences(run.results)
    ref = reference_policy(run.results)
    by_policy = policy_differences(run.results, ref) if ref is not None else []
    files = [
        _csv(run.estimates, folder / "kpis.csv"),
        _json(run, diffs, by_policy, folder / "kpis.json"),
        _diff_csv(diffs, folder / "differences.csv"),
    ]
    if by_policy:
        files.append(_diff_csv(by_policy, folder / "policy_differences.csv"))
    n = run.scenario.replications
    for name, draw in (
        ("promise_attainment.png", _attainment_chart),
        ("eta_distribution.png", _eta_chart),
        ("utilisation_by_region.png", _utilisation_chart),
        ("stockout_days_by_depot.png", _stockout_chart),
        ("promise_bounds.png", _bounds_chart),
    ):
        figure = draw(run, n)
        figure.savefig(folder / name, dpi=110)
        plt.close(figure)
        files.append(folder / name)
    points = mark_frontier(trade_offs(run.estimates))
    if len(points) > 1:
        files.append(
            save_frontier(points, f"Trade-off: {_suffix(run, n)}", folder / "frontier.png")
        )
    if diffs:
        figure = _difference_chart(run, diffs, n)
        figure.savefig(folder / "difference_vs_base.png", dpi=110)
        plt.close(figure)
        files.append(folder / "difference_vs_base.png")
    return files


def _csv(estimates: Sequence[Estimate], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for e in sorted(estimates, key=lambda e: (e.kpi, e.scope, e.variant, e.policy)):
            writer.writerow([getattr(e, f) for f in FIELDS])
    return path


def _diff_csv(diffs: Sequence[Difference], path: Path) -> Path:
    """Paired differences by replication (common random numbers): each variant minus the base
    variant, or each policy minus the reference policy (`base` names which)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(DIFF_FIELDS)
        for d in sorted(diffs, key=lambda d: (d.kpi, d.scope, d.variant, d.policy)):
            writer.writerow(["" if v is None else v for v in (getattr(d, f) for f in DIFF_FIELDS)])
    return path


def _json(
    run: ScenarioRun,
    diffs: Sequence[Difference],
    by_policy: Sequence[Difference],
    path: Path,
) -> Path:
    body = {
        "scenario": run.scenario.name,
        "partial": run.partial,
        "replications": run.scenario.replications,
        "horizon_days": run.scenario.horizon_days,
        "tickets_per_replication": run.tickets,
        "runs": [
            {
                "variant": r.variant,
                "policy": r.policy,
                "replication": r.replication,
                "partial": r.partial,
                "simulated_h": r.reached_s / 3_600,
                "wall_s": round(r.wall_s, 3),
                "tickets": len(r.jobs),
            }
            for r in run.results
        ],  # fmt: skip
        "kpis": [{f: getattr(e, f) for f in FIELDS} for e in run.estimates],
        "differences": [{f: getattr(d, f) for f in DIFF_FIELDS} for d in diffs],
        "policy_differences": [{f: getattr(d, f) for f in DIFF_FIELDS} for d in by_policy],
    }
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return path


def _series(run: ScenarioRun) -> list[tuple[str, str]]:
    seen = dict.fromkeys((r.variant, r.policy) for r in run.results)
    return list(seen)


def _label(variant: str, policy: str) -> str:
    return f"{variant} ({policy})"


def _index(run: ScenarioRun) -> dict[tuple[str, str, str, str], Estimate]:
    return {(e.variant, e.policy, e.kpi, e.scope): e for e in run.estimates}


def _suffix(run: ScenarioRun, n: int) -> str:
    partial = ", PARTIAL: interrupted" if run.partial else ""
    return f"mean and 95 % CI over {n} replication{'s' * (n > 1)}{partial}"


ATTAINMENT_PANELS = (
    ("respond_attainment", "Responded (plan sent back) within the promise"),
    ("depart_attainment", "Engineer departed within the promise"),
    ("arrival_attainment", "Engineer on site within the promise"),
    ("fix_attainment", "Fixed within the promise"),
)


def zoom_floor(lows: Sequence[float]) -> float:
    """Where a percentage axis starts: the lowest CI bound shown, down to a multiple of 10.

    Attainments of 80-95 % on a 0-105 axis hide their differences (issue 17); e.g. lows
    [83.2, 91] -> 80; none, or one below 10 -> 0.
    """
    return max(0.0, 10.0 * math.floor(min(lows, default=0.0) / 10.0))


def _attainment_chart(run: ScenarioRun, n: int) -> Figure:
    index, series = _index(run), _series(run)
    groups = [*SEVERITY_CLASSES, "all"]
    panels = {kpi for kpi, _ in ATTAINMENT_PANELS}
    floor = zoom_floor(
        [
            100 * e.low
            for e in run.estimates
            if e.kpi in panels and e.scope.startswith(("all", "severity="))
        ]
    )
    fig, axes = plt.subplots(2, 2, figsize=(13, 9), sharey=True, layout="constrained")
    width = 0.8 / max(len(series), 1)
    for ax, (kpi, title) in zip(axes.flat, ATTAINMENT_PANELS, strict=True):
        missing = set(range(len(groups)))
        for k, (variant, policy) in enumerate(series):
            x = np.arange(len(groups)) + (k - (len(series) - 1) / 2) * width
            means: list[float] = []
            errs: list[list[float]] = [[], []]
            for i, g in enumerate(groups):
                e = index.get((variant, policy, kpi, "all" if g == "all" else f"severity={g}"))
                if e is not None:
                    missing.discard(i)
                mean = 100 * e.mean if e else float("nan")  # no bar where there is no clock
                means.append(mean)
                errs[0].append(mean - 100 * e.low if e else 0.0)
                errs[1].append(100 * e.high - mean if e else 0.0)
            ax.bar(x, means, width, yerr=errs, capsize=3, label=_label(variant, policy))
        for i in sorted(missing):
            ax.text(
                i, floor + 3, "no such\nclock", ha="center", va="bottom", color="grey", fontsize=8
            )
        ax.set_xticks(np.arange(len(groups)), [g.capitalize() for g in groups])
        ax.set_title(title)
        ax.set_ylim(floor, 105)  # zoomed to the bars' range (the axis says where it starts)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("Severity")
    for ax in axes[:, 0]:
        ax.set_ylabel(
            "Tickets with the promise kept (%)" + (f", axis from {floor:g} %" if floor else "")
        )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles, labels, title="Variant (policy)", loc="outside lower center",
        ncols=min(len(series), 4), fontsize="small",
    )  # fmt: skip
    fig.suptitle(f"Promise attainment by severity: {_suffix(run, n)}")
    return fig


BOUND_PARTS = (
    ("bound_geography", "out of reach: geography", "C3"),
    ("bound_shift", "out of reach: nobody on shift", "C1"),
    ("bound_labour", "out of reach: labour rules", "C4"),
    ("lost_decisions", "keepable, missed: decisions", "C7"),
)


def _bounds_chart(run: ScenarioRun, n: int) -> Figure:
    """Per clock and series: the shares no dispatch could keep, and those decisions lost."""
    index, series = _index(run), _series(run)
    rows = [(clock, v, p) for clock in CLOCKS for v, p in series]
    fig, ax = plt.subplots(figsize=(11, max(4.0, 0.34 * len(rows) + 2)), layout="constrained")
    left = np.zeros(len(rows))
    for kpi, label, color in BOUND_PARTS:
        values = []
        for clock, v, p in rows:
            e = index.get((v, p, kpi, f"clock={clock}"))
            values.append(100 * e.mean if e else 0.0)
        ax.barh(np.arange(len(rows)), values, 0.7, left=left, label=label, color=color)
        left += np.array(values)
    ax.set_yticks(np.arange(len(rows)), [f"{c}: {_label(v, p)}" for c, v, p in rows])
    ax.invert_yaxis()
    ax.set_xlabel("Tickets with that clock (%)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(f"Promises no dispatch could keep, and misses lost to decisions: mean over {n}"
                 f" replication{'s' * (n > 1)}" + (", PARTIAL" if run.partial else ""))  # fmt: skip
    return fig


def _eta_chart(run: ScenarioRun, n: int) -> Figure:
    fig, ax = plt.subplots(figsize=(10, 5.2), layout="constrained")
    etas: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in run.results:
        etas[(r.variant, r.policy)] += [j.eta_s / 60 for j in r.jobs if j.eta_s is not None]
    for (variant, policy), values in etas.items():
        if values:
            x = np.sort(values)
            ax.plot(x, 100 * np.arange(1, x.size + 1) / x.size, label=_label(variant, policy))
    ax.axvline(120, color="grey", linestyle="--", linewidth=1)
    ax.annotate("2 h promise", (122, 4), color="grey")
    ax.set_xlim(0, 480)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Time from report to engineer on site (minutes)")
    ax.set_ylabel("Tickets with the engineer on site by then (%)")
    ax.set_title(f"Arrival time distribution (cumulative), all replications pooled ({n})")
    ax.grid(alpha=0.3)
    ax.legend(title="Variant (policy)", loc="lower right")
    return fig


def _hbars(run: ScenarioRun, kpi: str, prefix: str, scale: float) -> tuple[Figure, object]:
    index, series = _index(run), _series(run)
    names = sorted(
        {
            e.scope[len(prefix) :]
            for e in run.estimates
            if e.kpi == kpi and e.scope.startswith(prefix)
        }
    )
    height = max(4.0, 0.32 * len(names) * max(1, len(series) / 2) + 1.8)
    fig, ax = plt.subplots(figsize=(10, height), layout="constrained")
    bar = 0.8 / max(len(series), 1)
    for k, (variant, policy) in enumerate(series):
        y = np.arange(len(names)) + (k - (len(series) - 1) / 2) * bar
        values = []
        for name in names:
            e = index.get((variant, policy, kpi, prefix + name))
            values.append(scale * e.mean if e else 0.0)
        ax.barh(y, values, bar, label=_label(variant, policy))
    ax.set_yticks(np.arange(len(names)), names)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    ax.legend(title="Variant (policy)", loc="best", fontsize="small")
    return fig, ax


def _utilisation_chart(run: ScenarioRun, n: int) -> Figure:
    fig, ax = _hbars(run, "utilisation", "region=", 100)
    ax.set_xlabel("Utilisation: travel and work time / shift time (%)")  # type: ignore[attr-defined]
    ax.set_ylabel("Region")  # type: ignore[attr-defined]
    ax.set_title(f"Engineer utilisation by region: mean over {n} replication(s)")  # type: ignore[attr-defined]
    return fig


def _stockout_chart(run: ScenarioRun, n: int) -> Figure:
    fig, ax = _hbars(run, "stockout_days", "depot=", 1)
    ax.set_xlabel(  # type: ignore[attr-defined]
        "Days with a stock-out (a part requested near the depot that it did not have)"
    )
    ax.set_ylabel("Depot")  # type: ignore[attr-defined]
    ax.set_title(f"Stock-out days by depot: mean over {n} replication(s)")  # type: ignore[attr-defined]
    return fig


DIFF_PANELS = (
    (
        "Promise attainment (percentage points)", 100.0,
        (("respond_attainment", "respond"), ("depart_attainment", "depart"),
         ("arrival_attainment", "arrival"), ("fix_attainment", "fix"),
         ("ship_8h_attainment", "shipped <= 8 h"),
         ("swap_2h_attainment", "swap <= 2 h (in reach)")),
    ),
    (
        "Cost over the run (thousand CNY)", 0.001,
        (("total_cost", "total cost"), ("travel_cost", "travel"), ("parts_cost", "parts at cost"),
         ("loaner_cost", "loaners"), ("callout_cost", "call-outs"), ("warranty_cost", "warranty"),
         ("charged", "charged")),
    ),
)  # fmt: skip


def _difference_chart(run: ScenarioRun, diffs: Sequence[Difference], n: int) -> Figure:
    """Variant minus base with its paired 95 % CI; a filled marker: the CI excludes 0."""
    index = {(d.variant, d.policy, d.kpi, d.scope): d for d in diffs}
    series = [(v, p) for v, p in _series(run) if v != diffs[0].base]
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.4), layout="constrained")
    step = 0.8 / max(len(series), 1)
    for ax, (xlabel, scale, kpis) in zip(axes, DIFF_PANELS, strict=True):
        for k, (variant, policy) in enumerate(series):
            color = f"C{k}"
            for i, (kpi, _) in enumerate(kpis):
                d = index.get((variant, policy, kpi, "all"))
                if d is None:
                    continue
                y = i + (k - (len(series) - 1) / 2) * step
                lo, hi = scale * (d.mean - d.low), scale * (d.high - d.mean)
                ax.errorbar(
                    scale * d.mean, y, xerr=[[lo], [hi]], fmt="o", color=color, capsize=3,
                    markerfacecolor=color if d.significant else "white",
                )  # fmt: skip
        ax.axvline(0, color="grey", linewidth=1)
        if scale == 100.0:  # shares differ by at most 100 points; wider CIs run off the axis
            left, right = ax.get_xlim()
            ax.set_xlim(max(left, -105.0), min(right, 105.0))
        ax.set_yticks(np.arange(len(kpis)), [label for _, label in kpis])
        ax.invert_yaxis()
        ax.set_xlabel(f"Variant - base: {xlabel}")
        ax.grid(axis="x", alpha=0.3)
    handles = [
        Line2D([], [], color=f"C{k}", marker="o", label=_label(v, p))
        for k, (v, p) in enumerate(series)
    ]
    handles.append(
        Line2D([], [], color="grey", marker="o", markerfacecolor="white", linestyle="none",
               label="CI includes 0 (not significant)")
    )  # fmt: skip
    fig.legend(
        handles=handles, title="Variant (policy)", loc="outside lower center",
        ncols=min(len(handles), 3), fontsize="small",
    )  # fmt: skip
    fig.suptitle(
        f"Difference vs {diffs[0].base}, paired by replication (same tickets): mean and 95 % CI"
        f" over {n} replication{'s' * (n > 1)}; filled: significant"
        + (", PARTIAL: interrupted" if run.partial else "")
    )
    return fig
