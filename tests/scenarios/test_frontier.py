"""The trade-off frontier: promises kept against overtime and travel (Pareto)."""

from __future__ import annotations

from pathlib import Path

from scenarios.frontier import TradeOff, dominates, mark_frontier, save_frontier, trade_offs
from scenarios.kpis import Estimate


def _point(label: str, kept: float, overtime: float, travel: float) -> TradeOff:
    return TradeOff(label, (kept, kept, kept), (overtime,) * 3, (travel,) * 3)


def test_more_promises_for_no_more_overtime_or_travel_dominates() -> None:
    a, b = _point("a", 0.9, 100, 1_000), _point("b", 0.8, 100, 1_000)
    assert dominates(a, b)
    assert not dominates(b, a)
    assert not dominates(a, a)  # equal is not better


def test_a_trade_keeps_both_on_the_frontier() -> None:
    # more promises for more overtime: a planner's choice, neither dominates
    cheap, keen = _point("cheap", 0.7, 50, 1_000), _point("keen", 0.9, 400, 1_000)
    worse = _point("worse", 0.6, 60, 1_200)  # dominated by cheap
    marked = {p.label: p.frontier for p in mark_frontier([cheap, keen, worse])}
    assert marked == {"cheap": True, "keen": True, "worse": False}


def _estimate(variant: str, kpi: str, mean: float) -> Estimate:
    return Estimate(variant, "optimised", kpi, "all", mean, mean - 1, mean + 1, 3, "x")


def test_points_come_from_the_estimates_and_draw(tmp_path: Path) -> None:
    estimates = [
        _estimate(v, kpi, value)
        for v, kept, overtime, travel in (("base", 0.8, 100.0, 900.0), ("loose", 0.9, 300.0, 950.0))
        for kpi, value in (("promises_kept", kept), ("overtime_h", overtime),
                           ("travel_km", travel))
    ]  # fmt: skip
    estimates.append(_estimate("partial", "overtime_h", 1.0))  # no other KPIs: no point
    points = mark_frontier(trade_offs(estimates, "s/"))
    assert [p.label for p in points] == ["s/base (optimised)", "s/loose (optimised)"]
    assert all(p.frontier for p in points)
    path = save_frontier(points, "t", tmp_path / "f.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
