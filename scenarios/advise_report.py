"""The advice's report: advice.json (reusable changes, figures, steps) and the frontier chart.

`advice.json` carries the advised changes under ``scenario_changes``, the same key as a
`spares stock recommend --out` file, so `spares scenario run FILE --stock-recommendation
advice.json` simulates the advice next to today's world as one more variant.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from scenarios.advise import Advice, Evaluation, Target, miss_reasons


def _estimate(evaluation: Evaluation, target: Target) -> dict[str, Any] | None:
    e = evaluation.attainment.get((target.kpi, target.scope))
    if e is None:
        return None
    return {"mean": e.mean, "low": e.low, "high": e.high, "n": e.n}


def _figures(evaluation: Evaluation, advice: Advice) -> dict[str, Any]:
    cost = evaluation.cost
    return {
        "changes": [c.model_dump(mode="json", exclude_none=True) for c in evaluation.changes],
        "holds": evaluation.holds(advice.targets, advice.spec.tolerance),
        "cost": {
            "staff": str(cost.staff),
            "overtime": str(cost.overtime),
            "holding": str(cost.holding),
            "courier": str(cost.courier),
            "on_call": str(cost.on_call),
            "callouts": str(cost.callouts),
            "unsocial": str(cost.unsocial),
            "total": str(cost.total),
            "engineers": cost.engineers,
        },  # fmt: skip
        "attainment": {f"{t.kpi}@{t.scope}": _estimate(evaluation, t) for t in advice.targets},
    }


def _binding(advice: Advice, target: Target) -> dict[str, Any]:
    """A target, where it binds (its region, or all), and which kept moves it bound for."""
    tol, name = advice.spec.tolerance, f"{target.kpi}@{target.scope}"
    return {
        "kpi": target.kpi,
        "scope": target.scope,
        "region": target.scope.removeprefix("region=") if target.scope != "all" else None,
        "share": target.share,
        "holds_today": advice.today.holds([target], tol),
        "holds_advised": advice.advised.holds([target], tol),
        "bound_moves": [s.label for s in advice.steps if name in s.binding],
        # today's misses per run by why: geography is out of reach of every home (more
        # of today's engineers buy none of it), shift nobody at work, labour only past the
        # overtime rule, decision keepable but lost to the plan or to busy engineers
        "misses_today": {k: round(v, 3) for k, v in miss_reasons(advice.today, target).items()},
    }


def binds_in(evaluation: Evaluation, target: Target, region: str, tolerance: float) -> bool:
    """The target fails and ``region`` is where: its own region's target, or an overall
    target the region's share (below the target) pulls down."""
    if evaluation.holds([target], tolerance):
        return False
    if target.scope != "all":
        return target.scope == f"region={region}"
    estimate = evaluation.attainment.get((target.kpi, f"region={region}"))
    return estimate is not None and estimate.mean < target.share - tolerance


def _regions(advice: Advice) -> list[dict[str, Any]]:
    """Per region: engineers and costs today and advised, each target clock's share kept
    there, which targets bind there (today, and still with the advice) and the kept moves
    made there."""
    tol = advice.spec.tolerance
    kpis = list(dict.fromkeys(t.kpi for t in advice.targets))
    today, advised = advice.today, advice.advised

    def mean(e: Evaluation, kpi: str, code: str) -> float | None:
        estimate = e.attainment.get((kpi, f"region={code}"))
        return None if estimate is None else estimate.mean

    def money(e: Evaluation, code: str) -> dict[str, Any]:
        row = e.cost.regions.get(code, {})
        return {k: int(v) if k == "engineers" else str(v) for k, v in row.items()}

    return [
        {
            "region": code,
            "cost_today": money(today, code),
            "cost_advised": money(advised, code),
            "attainment": {
                k: {"today": mean(today, k, code), "advised": mean(advised, k, code)} for k in kpis
            },  # fmt: skip
            "binds_today": [
                f"{t.kpi}@{t.scope}" for t in advice.targets if binds_in(today, t, code, tol)
            ],  # fmt: skip
            "binds_advised": [
                f"{t.kpi}@{t.scope}" for t in advice.targets if binds_in(advised, t, code, tol)
            ],  # fmt: skip
            "moves": [
                s.label
                for s in advice.steps
                if any(getattr(c, "region", None) == code for c in s.changes)
            ],  # fmt: skip
        }
        for code in sorted(today.cost.regions)
    ]


def advice_json(advice: Advice) -> dict[str, Any]:
    """Everything a planner (or a script) needs to act on the advice, as plain JSON."""
    spec = advice.spec
    saving = advice.saving
    return {
        "name": spec.name,
        "policy": spec.policy,
        "currency": spec.costs.currency,
        "horizon_days": spec.scenario.horizon_days,
        "replications": spec.scenario.replications,
        "tolerance": spec.tolerance,
        "targets": [_binding(advice, t) for t in advice.targets],
        "reached": advice.reached,
        "uniform_reached": advice.uniform_reached,
        "uniform_step": advice.uniform_step,
        "uniform_checked_step": advice.uniform_checked_step,
        "saving_vs_uniform": None if saving is None else str(saving.quantize(Decimal("0.001"))),
        "cost_vs_today": str(advice.advised.cost.total - advice.today.cost.total),
        "today": _figures(advice.today, advice),
        "advised": _figures(advice.advised, advice),
        "uniform": None if advice.uniform is None else _figures(advice.uniform, advice),
        "steps": [
            {
                "round": s.round,
                "move": s.label,
                "change": s.change.model_dump(mode="json", exclude_none=True),
                "changes": [c.model_dump(mode="json", exclude_none=True) for c in s.changes],
                "cost_delta": str(s.cost_delta),
                "binding": list(s.binding),
                "shortfall_before": s.shortfall_before,
                "shortfall_after": s.shortfall_after,
            }  # fmt: skip
            for s in advice.steps
        ],
        "dropped": advice.dropped,
        "regions": _regions(advice),
        # predicted vs simulated on the fresh streams; "why" where off by > 3 points
        "screen_accuracy": [r.as_json() for r in advice.screen_accuracy],
        "scenario_changes": [
            c.model_dump(mode="json", exclude_none=True) for c in advice.advised.changes
        ],
    }


def write_advice(advice: Advice, folder: Path) -> list[Path]:
    """Write advice.json and frontier.png into ``folder``; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "advice.json"
    data.write_text(json.dumps(advice_json(advice), indent=2) + "\n", encoding="utf-8")
    return [data, _frontier(advice, folder / "frontier.png")]


def _frontier(advice: Advice, path: Path) -> Path:
    """Cost against the first target's attainment for every configuration simulated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    target = advice.targets[0]
    key = (target.kpi, target.scope)

    def point(e: Evaluation) -> tuple[float, float] | None:
        estimate = e.attainment.get(key)
        return None if estimate is None else (float(e.cost.total), 100 * estimate.mean)

    fig, ax = plt.subplots(figsize=(8, 5))
    tried = [p for e in advice.frontier if (p := point(e)) is not None]
    if tried:
        xs, ys = zip(*tried, strict=True)
        ax.scatter(xs, ys, s=14, color="0.6", label="configurations tried")
    for e, style, label in (
        (advice.today, "o", "today"),
        (advice.advised, "*", "advised"),
        (advice.uniform, "s", "uniform rule"),
    ):
        if e is not None and (p := point(e)) is not None:
            ax.plot(*p, style, markersize=11, label=f"{label} (fresh streams)")
    ax.axhline(100 * target.share, linestyle="--", color="tab:red", label="target")
    ax.set_xlabel(
        f"cost over {advice.spec.scenario.horizon_days:g} days ({advice.spec.costs.currency})"
    )
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
    ax.set_ylabel(f"{target.kpi} @ {target.scope} (%)")
    ax.set_title(
        f"{advice.spec.name}: cost against attainment "
        f"({advice.spec.scenario.replications} replications per point)"
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


__all__ = ["advice_json", "binds_in", "write_advice"]
