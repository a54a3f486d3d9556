"""The advice's analytic screen: queueing and stock formulas, its predictions, its ranking."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import pytest

from scenarios.advise import AdviceMoves, Misses, Target, advise, screen_rank
from scenarios.advise_screen import (
    Prediction,
    Screener,
    _on_shelf,
    erlang_c,
    predict,
    screen_check,
    staffing,
)
from scenarios.base import build_sim_world, load_world_rows
from scenarios.kpis import Estimate
from scenarios.model import WORKING_WEEK, SimWorld
from scenarios.spec import (
    ArrivalShape,
    Change,
    Demand,
    Engineers,
    OnCallRoster,
    Scenario,
    StockLevel,
)
from scenarios.whatif import apply_changes
from tests.scenarios.test_advise import FakeEvaluator, _spec, small_world

DAY = 86_400


@cache
def world() -> SimWorld:
    scenario = Scenario(name="w")
    return build_sim_world(load_world_rows(scenario.base), scenario.start)


def test_erlang_c_matches_the_textbook() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: an arrival waits with P = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 3.0) == 1.0  # saturated: everyone waits
    assert erlang_c(10, 2.0) < erlang_c(5, 2.0) < erlang_c(3, 2.0)


def test_a_part_is_on_the_shelf_less_often_the_more_it_is_asked_for() -> None:
    week = 7 * DAY
    assert _on_shelf(1, 0.0, week, week) == 1.0
    assert _on_shelf(0, 1e-5, week, week) == 0.0
    # base stock 2, a week's resupply, 1 a week on average: P(Poisson(1) < 2) = 2/e
    assert _on_shelf(2, 1 / week, week, week) == pytest.approx(2 / math.e)
    assert _on_shelf(3, 1 / week, week, week) > _on_shelf(2, 1 / week, week, week)
    assert _on_shelf(2, 2 / week, week, week) < _on_shelf(2, 1 / week, week, week)


class TestPredict:
    def test_more_engineers_in_a_region_predict_no_fewer_arrivals_kept_there(self) -> None:
        demand = Demand(tickets_per_day=300)
        base = predict(world(), demand, 2 * DAY)
        more = apply_changes(world(), (Engineers(kind="engineers", delta=4, region="guangzhou"),))
        fewer = apply_changes(world(), (Engineers(kind="engineers", delta=-3, region="guangzhou"),))
        up, down = predict(more, demand, 2 * DAY), predict(fewer, demand, 2 * DAY)
        assert 0 <= down.arrival["guangzhou"] <= base.arrival["guangzhou"]
        assert base.arrival["guangzhou"] <= up.arrival["guangzhou"] <= 1
        assert up.arrival["guangzhou"] > down.arrival["guangzhou"]
        # 2 days x 300 a day, each day weighted by the working week (Monday 1.15, ...)
        day = world().epoch.weekday()
        weights = [WORKING_WEEK[(day + k) % 7] for k in (0, 1)]
        assert sum(base.volume.values()) == pytest.approx(300 * sum(weights))

    def test_busier_days_predict_fewer_arrivals_kept(self) -> None:
        calm = predict(world(), Demand(tickets_per_day=20), DAY)
        busy = predict(world(), Demand(tickets_per_day=2_000), DAY)
        assert busy.arrival_all < calm.arrival_all

    def test_no_stock_anywhere_means_no_swap_is_due(self) -> None:
        empty = apply_changes(world(), (StockLevel(kind="stock_level", quantity=0),))
        vans = {d.id for d in empty.depots if d.kind == "van"}
        empty = type(empty)(**{**empty.__dict__, "stock": {
            k: q for k, q in empty.stock.items() if k[0] not in vans}})  # fmt: skip
        assert predict(empty, Demand(), DAY).swap_all is None
        assert predict(world(), Demand(), DAY).swap_all is not None

    def test_the_screener_reuses_the_stock_side_for_staff_moves(self) -> None:
        screener = Screener(Demand(tickets_per_day=200), DAY)
        more = apply_changes(world(), (Engineers(kind="engineers", delta=2, region="foshan"),))
        direct = predict(more, Demand(tickets_per_day=200), DAY)
        screener(world())
        assert screener(more).arrival == pytest.approx(direct.arrival)

    def test_a_staff_move_computes_no_new_drives(self) -> None:
        # the added engineers are copies (homes too): their drives are the kept rows
        screener = Screener(Demand(tickets_per_day=200), DAY)
        screener(world())
        (drives,) = screener._drives.values()
        rows = len(drives._row)
        more = apply_changes(world(), (Engineers(kind="engineers", delta=3, region="foshan"),))
        screener(more)
        assert len(drives._row) == rows

    def test_a_sample_of_sites_predicts_what_every_site_does(self) -> None:
        demand = Demand(tickets_per_day=200)
        every = predict(world(), demand, DAY)
        few = Screener(demand, DAY, sites_per_region=8)
        sampled = few(world())
        assert sampled.arrival_all == pytest.approx(every.arrival_all, abs=0.02)
        assert sampled.swap_all == pytest.approx(every.swap_all, abs=0.01)
        assert sampled.volume == pytest.approx(every.volume)  # the regions' demand is kept
        # the same sites for every variant: a move's gain is not the sample's noise
        more = apply_changes(world(), (Engineers(kind="engineers", delta=3, region="foshan"),))
        gain = few(more).arrival["foshan"] - sampled.arrival["foshan"]
        assert gain == pytest.approx(
            predict(more, demand, DAY).arrival["foshan"] - every.arrival["foshan"], abs=0.01
        )
        assert few(world()) == sampled


class TestPooling:
    """The dispatch sends the nearest engineer at work, whichever region he belongs to."""

    def test_more_engineers_next_door_serve_a_region_too(self) -> None:
        # copies live at their models' homes: no nearer drive, only more hands to share
        more = apply_changes(world(), (Engineers(kind="engineers", delta=20, region="guangzhou"),))
        demand = Demand(tickets_per_day=1_500)
        for pooled, helps in ((False, False), (True, True)):
            before = predict(world(), demand, DAY, pooled=pooled).arrival["foshan"]
            after = predict(more, demand, DAY, pooled=pooled).arrival["foshan"]
            assert bool(after > before + 0.005) is helps, (pooled, before, after)

    def test_a_busier_neighbour_borrows_a_regions_engineers(self) -> None:
        calm = Demand(tickets_per_day=200)
        busy = Demand(tickets_per_day=200, per_region={"guangzhou": 3_000})
        for pooled, lends in ((False, False), (True, True)):
            before = predict(world(), calm, DAY, pooled=pooled).arrival["foshan"]
            after = predict(world(), busy, DAY, pooled=pooled).arrival["foshan"]
            assert bool(after < before - 0.005) is lends, (pooled, before, after)


def test_an_on_call_roster_keeps_more_severe_night_tickets() -> None:
    flat = Demand(tickets_per_day=100, profile=ArrivalShape(hours=(1.0,) * 24))
    nobody = apply_changes(world(), (OnCallRoster(kind="on_call", share=1.0, start="00:00",
                                                  end="00:01", weekdays=(6,)),))  # fmt: skip
    rostered = apply_changes(world(), (OnCallRoster(kind="on_call", share=1.0),))  # nights
    without = predict(nobody, flat, 2 * DAY).arrival_all
    with_roster = predict(rostered, flat, 2 * DAY).arrival_all
    assert with_roster > without + 0.01
    # only the severe tickets (rank 1: a fifth here) wake someone
    assert with_roster - without < 0.2 * (1 - without) + 1e-9


def test_staffing_scales_every_region_and_keeps_one() -> None:
    changes = staffing(world(), -0.2)
    assert all(isinstance(c, Engineers) and c.delta < 0 for c in changes)
    fewer = apply_changes(world(), changes)
    assert {e.region_id for e in fewer.engineers} == {e.region_id for e in world().engineers}
    assert sum(isinstance(c, Engineers) and c.delta for c in staffing(world(), 0.2)) > 0


@dataclass(frozen=True)
class _Measured:
    attainment: Mapping[tuple[str, str], Estimate]
    misses: Mapping[tuple[str, str], Misses] = field(default_factory=dict)


class _Judge:
    """Simulates 'attainment' as the screen's plus a known bias, to check the check."""

    def __init__(self, bias: float) -> None:
        self.bias = bias
        self.screener = Screener(Demand(tickets_per_day=100), DAY)

    @property
    def world(self) -> SimWorld:
        return world()

    def screen(self, changes: tuple[Change, ...]) -> Prediction:
        return self.screener(apply_changes(world(), changes))

    def __call__(
        self, configs: Mapping[str, tuple[Change, ...]], streams: int = 0
    ) -> dict[str, _Measured]:
        out = {}
        for name, changes in configs.items():
            p = self.screen(changes)
            att = {("arrival_attainment", "all"): p.arrival_all + self.bias}
            att |= {("arrival_attainment", f"region={r}"): v + self.bias
                    for r, v in p.arrival.items()}  # fmt: skip
            out[name] = _Measured({
                k: Estimate(name, "optimised", k[0], k[1], v, v - 0.01, v + 0.01, 3, "share")
                for k, v in att.items()
            })  # fmt: skip
        return out


def test_the_accuracy_check_flags_the_points_off_by_more_than_3_points() -> None:
    close = screen_check(_Judge(0.02))
    assert {r.point for r in close} == {"today", "-20 %", "+20 %"}
    assert {r.scope for r in close} >= {"all", "region=guangzhou"}
    assert all(r.within for r in close)
    far = screen_check(_Judge(-0.05))
    assert not any(r.within for r in far)
    assert far[0].as_json()["error"] == pytest.approx(0.05)
    assert far[0].why.startswith("optimistic by 5.0 points")  # where and why, row by row
    assert json.loads(json.dumps([r.as_json() for r in far]))  # screen_check.json


def test_the_screen_ranks_the_move_that_buys_most_per_yuan_first() -> None:
    fake = FakeEvaluator(arrival=0.80)
    spec = _spec(Target(kpi="arrival_attainment", share=0.95))
    current = fake({"today": ()}, 0)["today"]
    moves_ = [
        ("foshan", Engineers(kind="engineers", delta=1, region="foshan")),
        ("shenzhen", Engineers(kind="engineers", delta=1, region="shenzhen")),
    ]

    def screen(changes: tuple[Change, ...]) -> Prediction:
        # the screen believes Shenzhen staff buys 3 points each, elsewhere 0.5
        sz = sum(c.delta for c in changes if isinstance(c, Engineers) and c.region == "shenzhen")
        rest = sum(c.delta for c in changes if isinstance(c, Engineers) and c.region != "shenzhen")
        value = 0.7 + 0.03 * sz + 0.005 * rest
        return Prediction({}, {}, {}, value, None)

    from scenarios.advise import Move

    moves = [Move(label, change) for label, change in moves_]
    ranked = screen_rank(moves, (), current, spec.targets, 0.01, screen, small_world(), spec)
    assert [m.label for m, _, _ in ranked] == ["shenzhen", "foshan"]
    # the shortfall it closes, as predicted: 3 points of the mean and of the low end (half)
    assert ranked[0][1] == pytest.approx(1.5 * 0.03)
    assert ranked[0][2] > 0  # a month's share of an engineer


def test_with_a_screen_each_round_simulates_only_the_best_screened_moves() -> None:
    fake = FakeEvaluator(arrival=0.80, swap=0.70)
    spec = _spec(
        Target(kpi="arrival_attainment", share=0.95),
        Target(kpi="swap_2h_attainment", share=0.90),
    ).model_copy(update={"moves": AdviceMoves(regions_per_round=2, screened=2)})

    def screen(changes: tuple[Change, ...]) -> Prediction:
        # an honest screen: the fake's own attainment
        e = fake._one("s", changes)
        return Prediction(
            {}, {}, {}, e.attainment[("arrival_attainment", "all")].mean,
            e.attainment[("swap_2h_attainment", "all")].mean,
        )  # fmt: skip

    advice = advise(spec, small_world(), fake, screen=screen)
    assert advice.reached
    searched = [names for streams, names in fake.calls if streams == 0 and names[0] == "m0"]
    assert searched
    assert all(len(names) <= 2 for names in searched)
