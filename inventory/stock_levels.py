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

from inventory.metric import Evaluation
from inventory.metric_allocate import Recommendation


@dataclass(frozen=True, slots=True)
class Line:
    """One depot x part: today's level against the recommended one, and its value."""

    depot: str
    sku: str
    current: int
    recommended: int
    unit_cost: Decimal

    @property
    def delta(self) -> int:
        return self.recommended - self.current

    @property
    def value(self) -> Decimal:
        return self.unit_cost * self.recommended


@dataclass(frozen=True)
class StockRecommendation:
    """The recommendation, today's stock beside it, and the model's own result."""

    lines: list[Line]
    today: Evaluation
    result: Recommendation
    history_days: float | None = None  # days of records behind the rates (None: a model's)
    min_history_days: float = 0.0  # fewer than this and the recommendation says so
    currency: str = ""  # of every value (the parts' prices)

    @property
    def history_short(self) -> bool:
        """Rates rest on fewer days of records than a recommendation needs."""
        return self.history_days is not None and self.history_days < self.min_history_days

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
            "metric": params.metric.value,
            "reached": r.reached,
            "achieved": r.achieved,
            "value_today": str(self.today.value),
            "value_recommended": str(r.evaluation.value),
            "fill_rate_today": self.today.fill_rate,
            "fill_rate_recommended": r.evaluation.fill_rate,
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
    return [
        Line(codes[i], p.parts[j], int(current[i, j]), int(recommended[i, j]), p.unit_costs[j])
        for i, j in zip(*np.nonzero((recommended > 0) | (current > 0)), strict=True)
    ]
