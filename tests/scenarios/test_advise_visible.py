"""The advice's search sees what the simulation can see: moves ranked against the interval's
width, the screen's best moves combined, and on-call rosters across regions as one move."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from scenarios.advise import (
    WEEK_HOURS,
    AdviceMoves,
    CostBreakdown,
    Evaluation,
    Misses,
    Move,
    Target,
    _best_move,
    advise,
    bundle_moves,
    covered_hours,
    on_call_bundles,
    screen_rank,
    visible_gain,
)
from scenarios.advise_screen import Prediction
from scenarios.kpis import Estimate
from scenarios.spec import Change, Engineers, OnCallRoster
from scenarios.whatif import apply_changes
from tests.scenarios.test_advise import FakeEvaluator, _spec, small_world

ARRIVAL = Target(kpi="arrival_attainment", share=0.95)


def _wide(mean: float, half: float = 0.03) -> Estimate:
    return Estimate("v", "optimised", "arrival_attainment", "all", mean, mean - half,
                    mean + half, 5, "share")  # fmt: skip


def _evaluation(mean: float, cost: int = 0, half: float = 0.03) -> Evaluation:
    money = CostBreakdown(Decimal(cost), Decimal(0), Decimal(0), Decimal(0), 40)
    return Evaluation("e", (), money, {("arrival_attainment", "all"): _wide(mean, half)})


def test_the_visible_gain_is_a_share_of_the_failing_targets_half_width() -> None:
    now = _evaluation(0.85)
    assert visible_gain(now, [ARRIVAL], 0.01, 0.5) == pytest.approx(0.015)
    assert visible_gain(now, [ARRIVAL], 0.01, 0.0) == 0.0
    kept = _evaluation(0.99)  # holds: nothing to see
    assert visible_gain(kept, [ARRIVAL], 0.01, 0.5) == 0.0


def _screen(gains: dict[str, float]) -> object:
    """A screen that believes each region's engineer buys ``gains[region]`` points."""

    def screen(changes: tuple[Change, ...]) -> Prediction:
        value = 0.80 + sum(
            gains.get(c.region or "", 0.0) * c.delta for c in changes if isinstance(c, Engineers)
        )
        return Prediction({}, {}, {}, value, None)

    return screen


def test_a_move_the_simulation_cannot_see_ranks_after_one_it_can() -> None:
    # shortfall (mean and half the low end): foshan +1 closes 1.35 points (more per yuan),
    # shenzhen +3 closes 3.6 (visible: > 1.5)
    moves = [
        Move("foshan", Engineers(kind="engineers", delta=1, region="foshan")),
        Move("shenzhen", Engineers(kind="engineers", delta=3, region="shenzhen")),
    ]
    screen = _screen({"foshan": 0.009, "shenzhen": 0.008})
    now = _evaluation(0.85)

    def order(visible: float) -> list[str]:
        spec = _spec(ARRIVAL)
        spec = spec.model_copy(update={"moves": AdviceMoves(visible=visible, bundle=0)})
        ranked = screen_rank(moves, (), now, [ARRIVAL], 0.01, screen, small_world(), spec)  # type: ignore[arg-type]
        return [m.label for m, _, _ in ranked]

    assert order(0.0) == ["foshan", "shenzhen"]  # per yuan alone
    assert order(0.5) == ["shenzhen", "foshan"]  # 1.35 points is inside the noise


def test_a_free_gain_inside_the_noise_is_not_kept_before_a_visible_one() -> None:
    now = _evaluation(0.85, cost=10_000)
    moves = [Move("free", Engineers(kind="engineers", delta=1, region="foshan")),
             Move("paid", Engineers(kind="engineers", delta=3, region="shenzhen"))]  # fmt: skip
    tried = {"m0": _evaluation(0.853, cost=9_900), "m1": _evaluation(0.88, cost=12_000)}
    free = _best_move(moves, tried, now, [ARRIVAL], 0.01)
    assert free is not None
    assert free[0].label == "free"  # no threshold: free gains first
    seen = visible_gain(now, [ARRIVAL], 0.01, 0.5)
    paid = _best_move(moves, tried, now, [ARRIVAL], 0.01, seen)
    assert paid is not None
    assert paid[0].label == "paid"


def test_moves_too_small_to_see_alone_are_combined_until_they_are_seen() -> None:
    one = [Move(f"+1 {r}", Engineers(kind="engineers", delta=1, region=r))
           for r in ("foshan", "guangzhou", "shenzhen")]  # fmt: skip
    three = Move("+3 foshan", Engineers(kind="engineers", delta=3, region="foshan"))
    judged = [(one[0], 0.006, Decimal(100)), (three, 0.012, Decimal(300)),
              (one[1], 0.005, Decimal(100)), (one[2], 0.004, Decimal(100))]  # fmt: skip
    (together,) = bundle_moves(judged, visible=0.011, limit=6)
    # the best per yuan, one per region: +3 foshan is the same slot as +1 foshan
    assert [getattr(c, "region", None) for c in together.changes] == ["foshan", "guangzhou"]
    assert [c.delta for c in together.changes if isinstance(c, Engineers)] == [1, 1]
    (wider,) = bundle_moves(judged, visible=0.02, limit=6)
    assert len(wider.changes) == 3
    assert bundle_moves(judged, visible=0.02, limit=1) == []  # one move is no combination


def test_regions_with_misses_nobody_was_at_work_for_go_on_call_together() -> None:
    world = small_world()
    night = [0.0] * WEEK_HOURS
    for h in sorted(covered_hours("20:00", "08:00", range(7)))[:10]:
        night[h] = 0.5
    misses = {
        ("arrival_attainment", "foshan"): Misses({"shift": 3.0}, tuple(night)),
        ("arrival_attainment", "guangzhou"): Misses(
            {"shift": 1.0, "decision": 1.0}, tuple(night)
        ),  # fmt: skip
        ("arrival_attainment", "shenzhen"): Misses({"decision": 4.0}, tuple(night)),
    }
    now = replace(_evaluation(0.85), volume={"foshan": 10.0, "guangzhou": 20.0,
                                             "shenzhen": 70.0}, misses=misses)  # fmt: skip
    moves = AdviceMoves(sizes=(1, 3))
    small, big = on_call_bundles(world, now, [ARRIVAL], 0.01, moves)
    assert [getattr(c, "region", None) for c in small.changes] == ["foshan", "guangzhou"]
    assert all(isinstance(c, OnCallRoster) for c in small.changes)
    share = {c.region: c.share for c in small.changes if isinstance(c, OnCallRoster)}
    assert all(share[c.region] <= c.share for c in big.changes if isinstance(c, OnCallRoster))
    rostered = apply_changes(world, small.changes)
    on_call = {world.regions[e.region_id] for e in rostered.engineers if e.on_call}
    assert {"foshan", "guangzhou"} <= on_call
    # a region already on call is not put on call again
    (kept,) = [c for c in small.changes if getattr(c, "region", None) == "foshan"]
    again = on_call_bundles(world, now, [ARRIVAL], 0.01, AdviceMoves(sizes=(1,)), [kept])
    assert again == []  # guangzhou alone is no bundle


class WideEvaluator(FakeEvaluator):
    """The fake's attainment with a simulation's interval: +-3 points."""

    def _one(self, name: str, changes: tuple[Change, ...]) -> Evaluation:
        e = super()._one(name, changes)
        wide = {
            k: replace(v, low=v.mean - 0.03, high=min(1.0, v.mean + 0.03))
            for k, v in e.attainment.items()
        }
        return replace(e, attainment=wide)


def test_the_advice_keeps_a_combined_move_when_single_moves_drown_in_the_noise() -> None:
    # one engineer outside Shenzhen buys 1 point of the mean and of the low end, 1.5 points
    # of shortfall; 2.4 are visible (0.8 x the 3-point half-width): only together
    fake = WideEvaluator(arrival=0.90)
    spec = _spec(ARRIVAL, max_rounds=1).model_copy(update={"moves": AdviceMoves(
        regions_per_round=3, screened=2, visible=0.8, bundle=4, rosters=False)})  # fmt: skip

    def screen(changes: tuple[Change, ...]) -> Prediction:
        e = fake._one("s", changes)
        return Prediction({}, {}, {}, e.attainment[("arrival_attainment", "all")].mean, None)

    # buyable misses outside Shenzhen only, so the round tries three small regions
    misses = {("arrival_attainment", r): Misses({"decision": 2.0})
              for r in small_world().regions.values() if r != "shenzhen"}  # fmt: skip

    def evaluate(configs: dict[str, tuple[Change, ...]], streams: int) -> dict[str, Evaluation]:
        return {k: replace(v, misses=misses) for k, v in fake(configs, streams).items()}

    advice = advise(spec, small_world(), evaluate, screen=screen)  # type: ignore[arg-type]
    (step,) = advice.steps
    assert step.also  # a combined move was kept
    regions = [c.region for c in step.changes if isinstance(c, Engineers)]
    assert len(set(regions)) == len(regions) >= 2
    assert "shenzhen" not in regions
    assert step.shortfall_before - step.shortfall_after >= 0.024


def test_a_region_whose_simulated_gains_fall_short_of_the_screen_ranks_lower() -> None:
    from scenarios.advise import Calibration

    moves = [
        Move("foshan", Engineers(kind="engineers", delta=1, region="foshan")),
        Move("guangzhou", Engineers(kind="engineers", delta=1, region="guangzhou")),
    ]
    screen = _screen({"foshan": 0.03, "guangzhou": 0.02})  # believes foshan buys more
    now = _evaluation(0.85)
    spec = _spec(ARRIVAL).model_copy(update={"moves": AdviceMoves(visible=0.0, bundle=0)})

    def order(trust: Calibration | None) -> list[str]:
        ranked = screen_rank(moves, (), now, [ARRIVAL], 0.01, screen, small_world(), spec, trust)  # type: ignore[arg-type]
        return [m.label for m, _, _ in ranked]

    trust = Calibration(prior=0.01)
    assert order(trust) == ["foshan", "guangzhou"]  # nothing simulated yet: as the screen
    trust.record(moves[0], predicted=0.03, simulated=0.002)  # the simulation saw a tenth
    assert trust.factor(moves[0]) < 0.5
    assert trust.factor(moves[1]) == 1.0
    assert order(trust) == ["guangzhou", "foshan"]
    raw: dict[str, float] = {}
    screen_rank(moves, (), now, [ARRIVAL], 0.01, screen, small_world(), spec, trust, raw)  # type: ignore[arg-type]
    assert raw["foshan"] == pytest.approx(1.5 * 0.03)  # the screen's own (mean, low), unscaled
    honest = Calibration(prior=0.01)
    honest.record(moves[0], predicted=0.03, simulated=0.03)
    assert honest.factor(moves[0]) == pytest.approx(1.0)


def test_the_screen_sees_a_target_whose_mean_clears_it_but_whose_low_end_does_not() -> None:
    # 90 % wanted: the mean is there (91 %), the interval's low end (88 %) is not
    target = Target(kpi="arrival_attainment", share=0.90)
    now = _evaluation(0.91)
    assert not now.holds([target], 0.01)
    moves = [
        Move("foshan", Engineers(kind="engineers", delta=1, region="foshan")),
        Move("shenzhen", Engineers(kind="engineers", delta=1, region="shenzhen")),
    ]
    screen = _screen({"foshan": 0.002, "shenzhen": 0.01})
    spec = _spec(target).model_copy(update={"moves": AdviceMoves(visible=0.0, bundle=0)})
    ranked = screen_rank(moves, (), now, [target], 0.01, screen, small_world(), spec)  # type: ignore[arg-type]
    assert [m.label for m, _, _ in ranked] == ["shenzhen", "foshan"]
    assert ranked[0][1] == pytest.approx(0.5 * 0.01)  # half the low end's gap closed


def test_below_what_the_simulation_sees_the_largest_gain_comes_first_not_the_cheapest() -> None:
    # nothing visible (1.5 points): foshan +1 closes 0.75 (more per yuan), shenzhen +3 1.35
    moves = [
        Move("foshan", Engineers(kind="engineers", delta=1, region="foshan")),
        Move("shenzhen", Engineers(kind="engineers", delta=3, region="shenzhen")),
    ]
    now = _evaluation(0.85)
    screen = _screen({"foshan": 0.005, "shenzhen": 0.003})

    def order(visible: float) -> list[str]:
        spec = _spec(ARRIVAL).model_copy(update={"moves": AdviceMoves(visible=visible, bundle=0)})
        ranked = screen_rank(moves, (), now, [ARRIVAL], 0.01, screen, small_world(), spec)  # type: ignore[arg-type]
        return [m.label for m, _, _ in ranked]

    assert order(0.0) == ["foshan", "shenzhen"]  # per yuan
    assert order(0.5) == ["shenzhen", "foshan"]  # the nearest to visible first
