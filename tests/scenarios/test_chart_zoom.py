"""Charts zoom to the range where the differences are (issue 17: estimates to act on)."""

from __future__ import annotations

from scenarios import report
from scenarios.kpis import Estimate
from scenarios.report import zoom_floor
from scenarios.run import ScenarioRun
from tests.scenarios.conftest import tiny_scenario


def test_the_axis_starts_at_the_lowest_bound_down_to_ten() -> None:
    assert zoom_floor([83.2, 91.0]) == 80.0
    assert zoom_floor([90.0]) == 90.0
    assert zoom_floor([7.5, 99.0]) == 0.0
    assert zoom_floor([]) == 0.0


def test_attainments_of_80_to_95_percent_are_not_drawn_on_a_0_to_105_axis() -> None:
    estimates = [
        Estimate(v, "optimised", kpi, "all", mean, mean - 0.02, mean + 0.02, 3, "share")
        for v, mean in (("base", 0.84), ("new-depot", 0.93))
        for kpi, _ in report.ATTAINMENT_PANELS
    ]
    run = ScenarioRun(tiny_scenario(policies=["optimised"]), [], estimates)
    fig = report._attainment_chart(run, 3)
    assert [ax.get_ylim() for ax in fig.axes[:4]] == [(80.0, 105.0)] * 4
    assert "axis from 80 %" in fig.axes[0].get_ylabel()
