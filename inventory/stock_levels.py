"""A stock recommendation's result and its output shapes, pure (no database).

Split from `inventory.stock_recommend` so that the scenarios package can recommend from a
scenario's own demand (`scenarios.stock`) and print and write exactly what the database
recommendation does, without importing the database layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from inventory.metric import (
    Evaluation,
    Metric,
    MetricProblem,
    expected_backorders,
    fill_rate,
    pipeline_mean,
    regional_pipeline,
)
from inventory.metric_allocate import AllocationParams, Recommendation

SHIP_8H = "ship-8h"  # the central warehouse's measure: asked for, shipped at once
SWAP_2H = "swap-2h"  # a regional depot's measure: its own demand met from its own shelf


@dataclass(frozen=True, slots=True)
class CutCost:
    """What cutting one row below today costs, every other row as today.

    `measure` is the row's own promise: swap-2h attainment of a regional depot (all its
    parts), or ship-8h of the central warehouse for this part (the share of resupplies,
    regional misses and its own customers it can ship at once).
    """

    backorders_added: float  # expected backorders at any moment, the whole network
    measure: str
    today: float
    after: float

    def to_dict(self, freed: Decimal) -> dict[str, Any]:
        return {
            "frees": str(freed),
            "backorders_added": self.backorders_added,
            "measure": self.measure,
            "today": self.today,
            "after": self.after,
        }


@dataclass(frozen=True, slots=True)
class Line:
    """One depot x part: today's level against the recommended one, and its value."""

    depot: str
    sku: str
    current: int
    recommended: int
    unit_cost: Decimal
    cut: CutCost | None = None  # set when the recommendation is below today

    @property
    def delta(self) -> int:
        return self.recommended - self.current

    @property
    def value(self) -> Decimal:
        return self.unit_cost * self.recommended

    @property
    def freed(self) -> Decimal:
        """Money a cut takes off the shelves (zero for a rise)."""
        return self.unit_cost * max(0, -self.delta)


@dataclass(frozen=True)
class StockRecommendation:
    """The recommendation, today's stock beside it, and the model's own result."""

    lines: list[Line]
    today: Evaluation
    result: Recommendation
    history_days: float | None = None  # days of records behind the rates (None: a model's)
    min_history_days: float = 0.0  # fewer than this and the recommendation says so
    currency: str = ""  # of every value (the parts' prices)
    uses_recorded: int | None = None  # units used in the window (None: a model's demand)

    @property
    def history_short(self) -> bool:
        """Rates rest on fewer days of records than a recommendation needs."""
        return self.history_days is not None and self.history_days < self.min_history_days

    @property
    def central_floor(self) -> dict[str, int] | None:
        """{sku: units} the central warehouse keeps for pooling (None: no floor asked)."""
        floor = self.result.central_floor
        if floor is None:
            return None
        parts = self.result.problem.parts
        return {sku: int(n) for sku, n in zip(parts, floor.tolist(), strict=True) if n}

    @property
    def levels(self) -> dict[tuple[str, str], int]:
        """{(depot code, sku): level}: every row to set, zeros where stock should go."""
        return {(x.depot, x.sku): x.recommended for x in self.lines}

    def to_dict(self) -> dict[str, Any]:
        """A JSON/YAML-friendly form; `scenario_changes` are scenario `stock_level` changes."""
        r, params = self.result, self.result.params
        return {
            "target": params.target,
            "currency": self.currency,
            "history_days": self.history_days,
            "history_short": self.history_short,
            "uses_recorded": self.uses_recorded,
            "metric": params.metric.value,
            "reached": r.reached,
            "achieved": r.achieved,
            "value_today": str(self.today.value),
            "value_recommended": str(r.evaluation.value),
            "fill_rate_today": self.today.fill_rate,
            "fill_rate_recommended": r.evaluation.fill_rate,
            "backorders_today": self.today.backorders,
            "backorders_recommended": r.evaluation.backorders,
            "ship_8h_today": self.today.central_fill,
            "ship_8h_recommended": r.evaluation.central_fill,
            "central_fill": params.central_fill,
            "central_floor": self.central_floor,
            "attainment_today": self.today.attainment,
            "attainment_recommended": r.evaluation.attainment,
            "levels": [
                {
                    "depot": x.depot,
                    "part": x.sku,
                    "current": x.current,
                    "recommended": x.recommended,
                    "delta": x.delta,
                    "unit_cost": str(x.unit_cost),
                    "value": str(x.value),
                    "cut": x.cut.to_dict(x.freed) if x.cut is not None else None,
                }
                for x in self.lines
            ],  # fmt: skip
            "curve": [
                {
                    "units": p.units,
                    "value": str(p.value),
                    "metric": p.metric,
                    "backorders": p.backorders,
                }
                for p in r.curve()
            ],  # fmt: skip
            "scenario_changes": scenario_changes(self.levels),
        }


def pooling_params(
    target: float, metric: Metric | str, central_fill: float | None
) -> AllocationParams:
    """Allocation with the central pooling floor; its fill defaults to the target.

    Why: pure METRIC values a central unit only by how it shortens regional pipelines and
    advised emptying the central warehouse (issue 17, defect 9); it pools every region's
    demand and ships what a regional shelf lacks, so it keeps that demand's base stock.
    """
    fill = target if central_fill is None else central_fill
    return AllocationParams(target=target, metric=Metric(metric), central_fill=fill)


def scenario_changes(levels: dict[tuple[str, str], int]) -> list[dict[str, Any]]:
    """Levels as scenario `stock_level` changes (scenarios/spec.py `StockLevel`)."""
    return [
        {"kind": "stock_level", "depot": depot, "part": sku, "quantity": level}
        for (depot, sku), level in sorted(levels.items())
    ]


def recommendation_lines(result: Recommendation, current: npt.NDArray[np.int64]) -> list[Line]:
    """Every depot x part that holds stock today or should, central first.

    `current` has the problem's rows: the central warehouse first, then its regional depots.
    Rows held today and recommended at zero come out as zeros, so applying the lines as a
    scenario variant also empties the shelves the recommendation drops.
    """
    p = result.problem
    recommended = np.vstack([result.central_levels, result.levels])
    codes = [p.central, *p.depots]
    costs = _CutCosts(p, current)
    lines = []
    for i, j in zip(*np.nonzero((recommended > 0) | (current > 0)), strict=True):
        now, rec = int(current[i, j]), int(recommended[i, j])
        cut = costs.of(int(i), int(j), rec) if rec < now else None
        lines.append(Line(codes[i], p.parts[j], now, rec, p.unit_costs[j], cut))
    return lines


class _CutCosts:
    """Today's pipelines, to price one row's cut with every other row as today."""

    def __init__(self, p: MetricProblem, current: npt.NDArray[np.int64]) -> None:
        self.p, self.s0, self.s = p, current[0], current[1:]
        self.lam0 = p.central_rate
        self.mu0 = pipeline_mean(self.lam0, p.central_lead_days)
        self.ebo0 = expected_backorders(self.s0, self.mu0)
        self.mu = regional_pipeline(p.demand, p.transfer_days[:, None], self.ebo0, self.lam0)
        self.fill = fill_rate(self.s, self.mu)

    def of(self, row: int, j: int, level: int) -> CutCost:
        """Row 0 is the central warehouse (ship-8h), row i + 1 regional depot i (swap-2h)."""
        p = self.p
        if row == 0:
            mu0, lam0 = float(self.mu0[j]), float(self.lam0[j])
            ebo0 = float(expected_backorders(level, mu0))
            mu = regional_pipeline(p.demand[:, j], p.transfer_days, ebo0, lam0)
            regional = expected_backorders(self.s[:, j], mu) - expected_backorders(
                self.s[:, j], self.mu[:, j]
            )
            direct = float(p.central_demand[j]) / lam0 if lam0 > 0 else 0.0
            added = float(regional.sum()) + direct * (ebo0 - float(self.ebo0[j]))
            today = float(fill_rate(self.s0[j], mu0)) if lam0 > 0 else 1.0
            after = float(fill_rate(level, mu0)) if lam0 > 0 else 1.0
            return CutCost(max(added, 0.0), SHIP_8H, today, after)
        i, mu_ij = row - 1, float(self.mu[row - 1, j])
        now = int(self.s[i, j])
        added = float(expected_backorders(level, mu_ij) - expected_backorders(now, mu_ij))
        demand = float(p.demand[i].sum())
        if demand <= 0:
            return CutCost(0.0, SWAP_2H, 1.0, 1.0)
        today = float(p.demand[i] @ self.fill[i]) / demand
        lost = float(p.demand[i, j] * (fill_rate(now, mu_ij) - fill_rate(level, mu_ij))) / demand
        return CutCost(max(added, 0.0), SWAP_2H, today, today - lost)
