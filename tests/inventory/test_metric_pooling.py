"""The central warehouse pools (issue 17, defect 9): its floor, and what a cut costs."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from inventory.metric import MetricProblem, evaluate, fill_rate, pooled_base_stock
from inventory.metric_allocate import AllocationParams, allocate
from inventory.stock_levels import SHIP_8H, SWAP_2H, recommendation_lines


def _pooling_case() -> tuple[MetricProblem, np.ndarray]:
    """Four depots fed by a central warehouse 30 days from its supplier, which holds it all."""
    problem = MetricProblem(
        central="CW",
        depots=("RD-1", "RD-2", "RD-3", "RD-4"),
        parts=("PSU", "SSD"),
        unit_costs=(Decimal("800.00"), Decimal("1500.00")),
        demand=np.full((4, 2), 0.1),
        central_demand=np.zeros(2),
        central_lead_days=np.array([30.0, 30.0]),
        transfer_days=np.full(4, 1.0),
    )
    today = np.array([[25, 25], [0, 0], [0, 0], [0, 0], [0, 0]])
    return problem, today


@given(mu=st.floats(0.001, 200.0), fill=st.floats(0.01, 0.999))
@settings(max_examples=200, deadline=None)
def test_pooled_base_stock_is_the_least_level_reaching_the_fill(mu: float, fill: float) -> None:
    s = int(pooled_base_stock([mu], fill)[0])
    assert float(fill_rate(s, mu)) >= fill
    assert s == 1 or float(fill_rate(s - 1, mu)) < fill
    assert s - 1 == stats.poisson.ppf(fill, mu) or abs(float(fill_rate(s, mu)) - fill) < 1e-9


def test_pure_metric_empties_the_central_warehouse_and_the_floor_keeps_it() -> None:
    problem, today = _pooling_case()
    pure = allocate(problem, AllocationParams(0.95))
    assert pure.central_levels.tolist() == [0, 0]  # the advice issue 17 reported
    pooled = allocate(problem, AllocationParams(0.95, central_fill=0.95))
    floor = pooled_base_stock(problem.central_rate * 30.0, 0.95)
    assert pooled.reached
    assert pooled.central_floor is not None
    assert pooled.central_floor.tolist() == floor.tolist()
    assert np.all(pooled.central_levels >= floor)
    assert pooled.evaluation.central_fill >= 0.95
    cut = 1 - pooled.central_levels.sum() / today[0].sum()
    assert cut < 0.5  # not the -87 % (here -100 %) of pure METRIC
    # pooling is the cheaper way to the same target here
    assert pooled.evaluation.value <= pure.evaluation.value


def test_the_floor_is_on_the_curve_and_never_trimmed() -> None:
    problem, _ = _pooling_case()
    found = allocate(problem, AllocationParams(0.6, central_fill=0.99))
    assert found.central_floor is not None
    assert np.all(found.central_levels >= found.central_floor)
    assert found.curve_cents[-1] / 100 - float(found.trimmed) == float(found.evaluation.value)
    assert np.all(np.diff(found.curve_cents) > 0)


def test_central_fill_strictly_inside() -> None:
    with pytest.raises(ValueError, match="central_fill"):
        AllocationParams(0.9, central_fill=1.0)


def test_each_cut_says_what_it_costs_as_evaluate_counts_it() -> None:
    problem, today = _pooling_case()
    today = today.copy()
    today[1:] = 3  # regional shelves today, so the recommendation cuts them too
    found = allocate(problem, AllocationParams(0.95, central_fill=0.95))
    lines = recommendation_lines(found, today)
    base = evaluate(problem, today[0], today[1:])
    cuts = [x for x in lines if x.recommended < x.current]
    assert {x.depot for x in cuts} >= {"CW", "RD-1"}
    for line in lines:
        if line.recommended >= line.current:
            assert line.cut is None
            continue
        assert line.cut is not None
        assert line.freed == line.unit_cost * (line.current - line.recommended)
        row = ["CW", *problem.depots].index(line.depot)
        after = today.copy()
        after[row, problem.parts.index(line.sku)] = line.recommended
        moved = evaluate(problem, after[0], after[1:])
        assert line.cut.backorders_added == pytest.approx(moved.backorders - base.backorders)
        if line.depot == "CW":
            assert line.cut.measure == SHIP_8H
            assert line.cut.after < line.cut.today
        else:
            assert line.cut.measure == SWAP_2H
            assert line.cut.today == pytest.approx(base.attainment[line.depot])
            assert line.cut.after == pytest.approx(moved.attainment[line.depot])
