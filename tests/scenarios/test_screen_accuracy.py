"""The issue's check on the analytic screen: within 3 points of the simulation, or the
report says where it is not and why (every advice run, on the fresh streams)."""

from __future__ import annotations

from decimal import Decimal

from scenarios.advise import CostBreakdown, Evaluation, Misses, Target, advise
from scenarios.advise_report import advice_json
from scenarios.advise_screen import Prediction, check_rows
from scenarios.kpis import Estimate
from scenarios.spec import Change
from tests.scenarios.test_advise import FakeEvaluator, _spec, small_world

KPI = "arrival_attainment"


def _est(scope: str, mean: float, half: float) -> Estimate:
    return Estimate("v", "optimised", KPI, scope, mean, mean - half, mean + half, 5, "share")


def test_each_row_off_by_more_than_3_points_says_where_and_why() -> None:
    prediction = Prediction(
        {"foshan": 0.95, "shenzhen": 0.80, "zhuhai": 0.90}, {}, {}, 0.90, None
    )  # fmt: skip
    money = CostBreakdown(Decimal(0), Decimal(0), Decimal(0), Decimal(0), 40)
    measured = Evaluation(
        "today", (), money,
        {(KPI, "all"): _est("all", 0.89, 0.02),
         (KPI, "region=foshan"): _est("region=foshan", 0.85, 0.02),
         (KPI, "region=shenzhen"): _est("region=shenzhen", 0.86, 0.02),
         (KPI, "region=zhuhai"): _est("region=zhuhai", 0.85, 0.10)},
        misses={(KPI, "foshan"): Misses({"decision": 3.0, "geography": 1.0}),
                (KPI, "shenzhen"): Misses({"geography": 2.0})},
    )  # fmt: skip
    rows = {r.scope: r for r in check_rows("today", prediction, measured)}
    assert rows["all"].within
    assert rows["all"].why == ""
    # the misses of every region add up overall
    assert rows["all"].reasons == {"decision": 3.0, "geography": 3.0}
    foshan = rows["region=foshan"].why
    assert foshan.startswith("optimistic by 10.0 points")
    assert "decision 75 %, geography 25 %" in foshan
    assert "dispatch's decisions" in foshan  # the main reason's part the screen leaves out
    assert rows["region=shenzhen"].why.startswith("pessimistic by 6.0 points")
    assert "too few tickets" in rows["region=zhuhai"].why  # inside the simulation's interval
    assert rows["region=foshan"].as_json()["why"] == foshan


def test_every_advice_reports_the_screen_against_the_fresh_streams() -> None:
    fake = FakeEvaluator(arrival=0.80)

    def screen(changes: tuple[Change, ...]) -> Prediction:  # 10 points optimistic everywhere
        measured = fake({"x": changes}, 1)["x"].attainment
        return Prediction(
            {s.removeprefix("region="): e.mean + 0.10 for (k, s), e in measured.items()
             if k == KPI and s != "all"}, {}, {}, measured[(KPI, "all")].mean + 0.10, None,
        )  # fmt: skip

    spec = _spec(Target(kpi=KPI, share=0.95), max_rounds=2)
    advice = advise(spec, small_world(), fake, screen=screen)
    points = {r.point for r in advice.screen_accuracy}
    assert {"today", "advised"} <= points
    assert advice.uniform_checked_step is not None
    assert f"uniform_{advice.uniform_checked_step}" in points
    report = advice_json(advice)["screen_accuracy"]
    assert isinstance(report, list)
    assert len(report) == len(advice.screen_accuracy)
    overall = next(r for r in report if r["point"] == "today" and r["scope"] == "all")
    assert overall["within"] is False
    assert str(overall["why"]).startswith("optimistic by 10.0 points")
