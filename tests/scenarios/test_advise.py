"""Capacity advice: the greedy search on a fake evaluator, the cost rules, and one real run."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scenarios.advise import (
    WEEK_HOURS,
    Advice,
    AdviceCosts,
    AdviceMoves,
    AdviceSpec,
    CostBreakdown,
    Evaluation,
    Misses,
    Target,
    _region_lookup,
    advise,
    candidate_moves,
    covered_hours,
    engineer_rate,
    expand_targets,
    load_advice,
    miss_profile,
    move_size,
    overtime_cost,
    roster_cost,
    run_costs,
    shift_patterns,
    staff_cost,
    staff_moves,
    uniform_changes,
)
from scenarios.advise_report import binds_in
from scenarios.base import build_sim_world, load_world_rows
from scenarios.job import run_advice_document
from scenarios.kpis import Estimate
from scenarios.model import SimWorld
from scenarios.records import EngineerTally, JobRecord, RunResult
from scenarios.spec import (
    Change,
    Engineers,
    OnCallRoster,
    Scenario,
    ShiftPattern,
    StockLevel,
    with_variant,
)
from scenarios.whatif import apply_changes
from spares.cli import app


@cache
def small_world() -> SimWorld:
    scenario = Scenario(name="w")
    return build_sim_world(load_world_rows(scenario.base), scenario.start)


def _estimate(kpi: str, scope: str, mean: float) -> Estimate:
    mean = min(1.0, mean)
    return Estimate("v", "optimised", kpi, scope, mean, mean - 0.005, min(1.0, mean + 0.005), 3,
                    "share")  # fmt: skip


class FakeEvaluator:
    """Attainment as a known function of the changes; costs from the real cost rules.

    Arrival (overall and in Shenzhen) rises 4 points per Shenzhen engineer and 1 point per
    engineer elsewhere; the 2-hour swap rises 10 points per stock move at RD-SHENZHEN-1 and
    nothing at other depots. Holding costs 1,000 per stock step and depot.
    """

    def __init__(self, arrival: float = 0.80, swap: float = 0.70) -> None:
        self.arrival, self.swap = arrival, swap
        self.calls: list[tuple[int, list[str]]] = []

    def __call__(
        self, configs: Mapping[str, tuple[Change, ...]], streams: int
    ) -> dict[str, Evaluation]:
        self.calls.append((streams, list(configs)))
        return {name: self._one(name, changes) for name, changes in configs.items()}

    def _one(self, name: str, changes: tuple[Change, ...]) -> Evaluation:
        world = apply_changes(small_world(), changes)
        sz = sum(c.delta for c in changes if isinstance(c, Engineers) and c.region == "shenzhen")
        other = sum(c.delta for c in changes if isinstance(c, Engineers) and c.region != "shenzhen")
        # One "stock step" is a factor of 1.5 (the uniform rule's step k is 1.5^k everywhere).
        steps = [
            (c.depot, math.log(c.factor or 1) / math.log(1.5))
            for c in changes
            if isinstance(c, StockLevel)
        ]
        stock = sum(n if depot else 5 * n for depot, n in steps)  # None: all five depots
        sz_stock = sum(n for depot, n in steps if depot in ("RD-SHENZHEN-1", None))
        arrival = self.arrival + 0.04 * sz + 0.01 * other
        swap = self.swap + 0.10 * sz_stock
        attainment = {
            ("arrival_attainment", "all"): _estimate("arrival_attainment", "all", arrival),
            ("arrival_attainment", "region=shenzhen"): _estimate(
                "arrival_attainment", "region=shenzhen", arrival
            ),
            ("swap_2h_attainment", "all"): _estimate("swap_2h_attainment", "all", swap),
        }
        for code in world.regions.values():
            if code != "shenzhen":
                attainment[("arrival_attainment", f"region={code}")] = _estimate(
                    "arrival_attainment", f"region={code}", self.arrival + 0.05
                )
                attainment[("swap_2h_attainment", f"region={code}")] = _estimate(
                    "swap_2h_attainment", f"region={code}", 0.99
                )
        attainment[("swap_2h_attainment", "region=shenzhen")] = _estimate(
            "swap_2h_attainment", "region=shenzhen", swap
        )
        cost = CostBreakdown(
            staff=staff_cost(world, AdviceCosts(), 30),
            overtime=Decimal(0),
            holding=Decimal(round(1000 * stock)),
            courier=Decimal(0),
            engineers=len(world.engineers),
        )
        return Evaluation(name, changes, cost, attainment)


def _spec(*targets: Target, max_rounds: int = 8) -> AdviceSpec:
    return AdviceSpec(
        name="t", scenario=Scenario(name="t", horizon_days=30), targets=targets,
        moves=AdviceMoves(engineer_share=0.1, stock_factor=1.5, regions_per_round=2),
        max_rounds=max_rounds,
    )  # fmt: skip


class TestGreedy:
    def test_a_target_already_kept_needs_no_change(self) -> None:
        fake = FakeEvaluator(arrival=0.97)
        advice = advise(_spec(Target(kpi="arrival_attainment", share=0.95)), small_world(), fake)
        assert advice.reached
        assert advice.steps == []
        assert advice.advised.changes == ()
        assert advice.advised.cost.total == advice.today.cost.total

    def test_the_cheapest_moves_reach_every_target_and_beat_the_uniform_rule(self) -> None:
        fake = FakeEvaluator(arrival=0.80, swap=0.70)
        spec = _spec(
            Target(kpi="arrival_attainment", share=0.95),
            Target(kpi="swap_2h_attainment", share=0.90),
        )
        advice = advise(spec, small_world(), fake)
        assert advice.reached
        kinds = [(type(s.change).__name__, getattr(s.change, "region", None) or
                  getattr(s.change, "depot", None)) for s in advice.steps]  # fmt: skip
        # Shenzhen engineers buy 4 points each, elsewhere 1: the search never staffs elsewhere.
        assert all(where in ("shenzhen", "RD-SHENZHEN-1") for _, where in kinds)
        assert ("StockLevel", "RD-SHENZHEN-1") in kinds
        assert advice.uniform is not None
        assert advice.uniform_reached
        assert advice.advised.cost.total < advice.uniform.cost.total
        assert advice.saving is not None
        assert advice.saving > 0
        # The final figures come from fresh streams, the search from its own.
        assert fake.calls[-1][0] == 1
        assert all(s == 0 for s, _ in fake.calls[:-1])

    def test_the_uniform_rule_is_its_first_step_holding_on_fresh_streams_when_none_held_before(
        self,
    ) -> None:
        class Luckier(FakeEvaluator):
            """Fresh streams 18 points kinder than the search's (a uniform step buys 7)."""

            def __call__(
                self, configs: Mapping[str, tuple[Change, ...]], streams: int
            ) -> dict[str, Evaluation]:
                self.arrival = 0.70 + 0.18 * streams
                return super().__call__(configs, streams)

        spec = _spec(Target(kpi="arrival_attainment", share=0.95), max_rounds=3)
        fake = Luckier()
        advice = advise(spec, small_world(), fake)
        assert advice.uniform_step is None  # nothing held on the search's streams
        steps = {k: uniform_changes(small_world(), spec.moves, k) for k in (1, 2, 3)}
        fresh = fake({f"u{k}": changes for k, changes in steps.items()}, 1)
        holding = [k for k in steps if fresh[f"u{k}"].holds(advice.targets, spec.tolerance)]
        assert holding[0] < 3  # a cheaper step than the last holds on the fresh streams
        assert advice.uniform_checked_step == holding[0]
        assert advice.uniform is not None
        assert advice.uniform.changes == steps[holding[0]]
        assert advice.uniform_reached

    def test_each_kept_move_closed_shortfall(self) -> None:
        fake = FakeEvaluator(arrival=0.80, swap=0.70)
        spec = _spec(
            Target(kpi="arrival_attainment", share=0.95),
            Target(kpi="swap_2h_attainment", share=0.90),
        )
        for step in advise(spec, small_world(), fake).steps:
            assert step.shortfall_after < step.shortfall_before
            assert step.binding

    def test_an_unreachable_target_is_reported_not_reached(self) -> None:
        fake = FakeEvaluator(arrival=0.50)
        spec = _spec(Target(kpi="swap_2h_attainment", share=1.0), max_rounds=2)
        advice = advise(spec, small_world(), fake)
        assert not advice.reached
        assert len(advice.steps) <= 2

    def test_no_saving_is_claimed_when_the_advice_misses_a_target(self) -> None:
        fake = FakeEvaluator(arrival=0.80)
        target = Target(kpi="arrival_attainment", share=0.95)
        more = (Engineers(kind="engineers", delta=5, region="shenzhen"),)
        got = fake({"today": (), "cheap": (), "dear": more}, 1)
        cheap_misses = Advice(
            _spec(target), (target,), got["today"], got["cheap"], [], [], got["dear"], 1
        )
        assert not cheap_misses.reached
        assert cheap_misses.uniform_reached
        assert cheap_misses.saving is None  # cheaper, but it does not keep the promise
        both = Advice(_spec(target), (target,), got["today"], got["dear"], [], [], got["dear"], 1)
        assert both.saving == 0

    def test_every_region_is_one_target_per_region(self) -> None:
        regions = list(small_world().regions.values())
        targets = expand_targets(
            [Target(kpi="arrival_attainment", share=0.9, scope="every_region")], regions
        )
        assert [t.scope for t in targets] == [f"region={r}" for r in regions]


class TestCosts:
    def test_staff_is_each_engineer_monthly_rate_prorated(self) -> None:
        world = small_world()
        costs = AdviceCosts(engineer_per_month={"default": Decimal("9000")})
        # 40 engineers x 9,000 a month x 10/30 of a month
        assert len(world.engineers) == 40
        assert staff_cost(world, costs, 10) == Decimal("120000.00")

    def test_the_most_specific_rate_wins(self) -> None:
        costs = AdviceCosts(engineer_per_month={
            "default": Decimal(1), "L3": Decimal(2), "shenzhen": Decimal(3),
            "shenzhen/L3": Decimal(4),
        })  # fmt: skip
        assert engineer_rate(costs, "shenzhen", 3) == 4
        assert engineer_rate(costs, "shenzhen", 2) == 3
        assert engineer_rate(costs, "foshan", 3) == 2
        assert engineer_rate(costs, "foshan", 1) == 1

    def test_overtime_is_priced_by_each_engineers_labour_rules_unless_overridden(self) -> None:
        world = small_world()
        first = world.engineers[0]
        tallies = {first.id: EngineerTally("x", overtime_s=7_200)}
        two_hours = RunResult("base", "optimised", 0, 86_400, [], {}, tallies, [])
        # 2 h x the rules' rate (90 CNY by default), then 2 h x 100 for everyone
        rate = first.labour.overtime_cost_per_hour
        assert overtime_cost(world, [two_hours], AdviceCosts()) == 2 * rate
        costs = AdviceCosts(overtime_per_hour=Decimal(100))
        assert overtime_cost(world, [two_hours], costs) == Decimal("200.00")

    def test_on_call_hours_and_unsocial_shift_hours_are_priced(self) -> None:
        world = small_world()
        costs = AdviceCosts(on_call_per_hour=Decimal("10"), unsocial_per_hour=Decimal("20"))
        on_call, unsocial = roster_cost(world, costs, 7)
        nights = OnCallRoster(kind="on_call", start="20:00", end="08:00", share=1.0,
                              region="foshan")  # fmt: skip
        more = apply_changes(world, (nights,))
        heads = sum(1 for e in world.engineers if world.regions[e.region_id] == "foshan")
        standby = sum(len(covered_hours("20:00", "08:00", (s.weekday,))) for e in world.engineers
                      if world.regions[e.region_id] == "foshan" for s in e.on_call)  # fmt: skip
        # every foshan engineer on call 12 h x 7 nights, instead of what they had
        after, _ = roster_cost(more, costs, 7)
        assert after - on_call == (heads * 84 - standby) * Decimal("10")
        # a day engineer moved to 22:00-06:00 on Mon-Fri: 8 unsocial hours a night
        late = ShiftPattern(kind="shift_pattern", start="22:00", end="06:00",
                            region="foshan", count=1)  # fmt: skip
        moved = apply_changes(world, (late,))
        newest = max((e for e in world.engineers if world.regions[e.region_id] == "foshan"),
                     key=lambda e: e.id)  # fmt: skip
        before_h = len(set().union(*(covered_hours(s.starts_at.strftime("%H:%M"),
                       s.ends_at.strftime("%H:%M"), (s.weekday,)) for s in newest.shifts))
                       & (covered_hours("20:00", "06:00", range(7))
                          | {d * 24 + h for d in (5, 6) for h in range(24)}))  # fmt: skip
        _, unsocial_after = roster_cost(moved, costs, 7)
        assert unsocial_after - unsocial == (5 * 8 - before_h) * Decimal("20")

    def test_call_outs_are_the_simulated_ones_per_run(self) -> None:
        world = small_world()
        job = JobRecord(1, "foshan", "urgent", 0, 7_200, None, False, callout=True,
                        callout_cost=Decimal("300"))  # fmt: skip
        runs = [RunResult("base", "optimised", r, 86_400, [job] if r else [], {}, {}, [])
                for r in (0, 1)]  # fmt: skip
        cost = run_costs(world, runs, {}, AdviceCosts(), 1)
        assert cost.callouts == Decimal("150.00")  # 300 in one of two runs
        assert cost.total == (cost.staff + cost.overtime + cost.holding + cost.courier
                              + cost.on_call + cost.callouts + cost.unsocial)  # fmt: skip

    def test_a_rate_table_without_a_default_is_refused(self) -> None:
        with pytest.raises(ValueError, match="default"):
            AdviceCosts(engineer_per_month={"shenzhen": Decimal(1)})

    @settings(max_examples=25, deadline=None)
    @given(
        delta=st.integers(min_value=1, max_value=6),
        rate=st.decimals(min_value=0, max_value=100_000, places=2),
        days=st.floats(min_value=0.5, max_value=120),
    )
    def test_more_engineers_never_cost_less(self, delta: int, rate: Decimal, days: float) -> None:
        world = small_world()
        costs = AdviceCosts(engineer_per_month={"default": rate})
        more = apply_changes(world, (Engineers(kind="engineers", delta=delta, region="foshan"),))
        assert staff_cost(more, costs, days) >= staff_cost(world, costs, days) >= 0

    def test_the_uniform_rule_grows_with_its_step(self) -> None:
        world = small_world()
        one, two = (uniform_changes(world, AdviceMoves(), k) for k in (1, 2))
        added = [sum(c.delta for c in ch if isinstance(c, Engineers)) for ch in (one, two)]
        assert added == [4, 8]  # 10 % and 20 % of 40 engineers, shared out by region size
        factors = [next(c.factor for c in ch if isinstance(c, StockLevel)) for ch in (one, two)]
        assert factors == [1.5, 2.25]


ADVICE = """
name: tiny-advice
scenario:
  name: tiny
  horizon_days: 0.25
  demand: {tickets_per_day: 40}
  replications: 1
  policies: [optimised]
targets:
  - {kpi: arrival_attainment, share: 0.999}
costs:
  engineer_per_month: {default: "12000"}
max_rounds: 1
"""


def test_spares_advise_runs_the_simulation_and_writes_a_reusable_report(tmp_path: Path) -> None:
    path = tmp_path / "advice.yaml"
    path.write_text(ADVICE, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["advise", str(path), "--workers", "1", "--out", str(out)])
    assert result.exit_code in (0, 1), result.output  # 1: a target not reached, said so
    assert "Targets on fresh ticket streams" in result.output
    # progress on stderr as it goes: each scenario run's finished units, each step
    assert "simulated" in result.output
    assert "check on fresh ticket streams" in result.output
    data = json.loads((out / "advice.json").read_text())
    (target,) = data["targets"]
    assert {k: target[k] for k in ("kpi", "scope", "share", "region")} == {
        "kpi": "arrival_attainment", "scope": "all", "share": 0.999, "region": None,
    }  # fmt: skip
    assert target["holds_advised"] == data["reached"]  # the only target
    assert target["bound_moves"] == [s["move"] for s in data["steps"]]  # it bound every step
    assert data["reached"] == (result.exit_code == 0)
    assert set(data["today"]["cost"]) >= {"staff", "overtime", "holding", "courier", "total"}
    assert (out / "frontier.png").stat().st_size > 0
    # per region: its costs add up to the world's, and which target binds there
    regions = {r["region"]: r for r in data["regions"]}
    assert set(regions) == set(small_world().regions.values())
    today = data["today"]["cost"]
    assert sum(r["cost_today"]["engineers"] for r in regions.values()) == today["engineers"]
    staff = sum(Decimal(r["cost_today"]["staff"]) for r in regions.values())
    assert abs(staff - Decimal(today["staff"])) <= Decimal("0.01") * today["engineers"]
    for r in regions.values():
        for bound in r["binds_today"]:
            assert bound == "arrival_attainment@all"
            assert r["attainment"]["arrival_attainment"]["today"] < 0.999 - 0.01
    if not target["holds_today"]:
        assert any(r["binds_today"] for r in regions.values())
    # The advised changes run as a scenario variant as they are.
    scenario = Scenario.model_validate(yaml.safe_load(ADVICE)["scenario"])
    with_variant(scenario, "advised", data["scenario_changes"], "advice.json")


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).parents[2] / "scenarios/examples/advice").glob("*.yaml"))
)
def test_every_advice_example_loads(path: Path) -> None:
    spec = load_advice(path)
    assert spec.targets
    assert spec.scenario.name


def test_an_overall_target_tries_the_regions_that_lose_it_the_most_tickets() -> None:
    world = small_world()
    regions = list(world.regions.values())

    def estimate(code: str, mean: float) -> Estimate:
        return _estimate("arrival_attainment", f"region={code}", mean)

    # foshan misses 30 % of 100 tickets (30), heyuan 60 % of 10 (6), the rest 10 % of 10 (1).
    attainment = {("arrival_attainment", f"region={r}"): estimate(r, 0.9) for r in regions}
    attainment[("arrival_attainment", "region=foshan")] = estimate("foshan", 0.7)
    attainment[("arrival_attainment", "region=heyuan")] = estimate("heyuan", 0.4)
    attainment[("arrival_attainment", "all")] = _estimate("arrival_attainment", "all", 0.8)
    volume = dict.fromkeys(regions, 10.0) | {"foshan": 100.0}
    cost = CostBreakdown(Decimal(0), Decimal(0), Decimal(0), Decimal(0), 30)
    current = Evaluation("today", (), cost, attainment, volume)
    moves, _ = candidate_moves(
        world, current, [Target(kpi="arrival_attainment", share=0.95)],
        AdviceMoves(regions_per_round=1), 0.01, _region_lookup(current),
    )  # fmt: skip
    assert [m.label for m in moves] == ["+1 engineer(s) in foshan"]


def test_an_advice_job_moves_its_progress_forward_and_stops_when_cancelled(
    tmp_path: Path,
) -> None:
    document = yaml.safe_load(ADVICE)
    seen: list[float] = []
    result = run_advice_document(document, tmp_path / "r", progress=seen.append, check=lambda: None)
    assert seen == sorted(seen)
    assert 0 < seen[-1] <= 0.99  # 1 is the job's end, recorded by the worker
    assert result["files"] == ["advice.json", "frontier.png"]
    assert result["runs"] >= 2  # today and the check on fresh streams at least
    assert json.loads(json.dumps(result, allow_nan=False))  # no NaN: PostgreSQL's JSON

    class Cancelled(Exception):
        pass

    def cancel() -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        run_advice_document(document, tmp_path / "c", progress=seen.append, check=cancel)


def _current(world: SimWorld, volume: Mapping[str, float], **misses: Misses) -> Evaluation:
    cost = CostBreakdown(Decimal(0), Decimal(0), Decimal(0), Decimal(0), len(world.engineers))
    keyed = {("arrival_attainment", region): m for region, m in misses.items()}
    return Evaluation("today", (), cost, {}, volume, keyed)


class TestMoves:
    def test_a_staff_move_is_sized_to_the_regions_share_of_the_tickets(self) -> None:
        world = small_world()  # 40 engineers
        volume = {"guangzhou": 40.0, "foshan": 5.0, "shenzhen": 55.0}
        current = _current(world, volume)
        # 10 % of 40 engineers x the region's share of the tickets, at least one
        assert move_size(world, current, "guangzhou", 0.1) == 2
        assert move_size(world, current, "shenzhen", 0.1) == 2
        assert move_size(world, current, "foshan", 0.1) == 1
        assert move_size(world, current, "guangzhou", 0.5) == 8
        assert move_size(world, current, "foshan", 0.5) == 1

    def test_night_misses_get_a_night_shift_engineer_not_another_day_shift(self) -> None:
        world = small_world()
        night = next(p for p in shift_patterns(world) if p[0] > p[1])  # ends the next day
        hours = [0.0] * WEEK_HOURS
        for h in sorted(covered_hours(*night))[:6]:
            hours[h] = 1.0  # buyable misses only when the night shift works
        miss = Misses({"shift": 6.0}, tuple(hours), {"cctv": 4.0, "power": 2.0})
        current = _current(world, {"guangzhou": 10.0}, guangzhou=miss)
        moves = staff_moves(world, current, "guangzhou", AdviceMoves(), ["arrival_attainment"])
        copy, targeted, *_rosters = (m.change for m in moves)
        assert isinstance(copy, Engineers)
        assert copy.start is None  # today's mix
        assert isinstance(targeted, Engineers)
        assert (targeted.start, targeted.end, targeted.weekdays) == night
        assert targeted.skill in ("cctv", "power")
        more = apply_changes(world, (targeted,))
        added = more.engineers[len(world.engineers) :]
        assert added
        assert all(s.starts_at.strftime("%H:%M") == night[0] for e in added for s in e.shifts)
        assert all(targeted.skill in e.skills for e in added)

    def test_night_misses_also_move_todays_engineers_or_put_them_on_call(self) -> None:
        world = small_world()
        night = next(p for p in shift_patterns(world) if p[0] > p[1])
        hours = [0.0] * WEEK_HOURS
        for h in sorted(covered_hours(*night))[:6]:
            hours[h] = 1.0
        miss = Misses({"shift": 6.0}, tuple(hours), {"power": 6.0})
        # a step of one engineer: guangzhou has a tenth of the tickets
        current = _current(world, {"guangzhou": 10.0, "shenzhen": 90.0}, guangzhou=miss)
        moves = staff_moves(world, current, "guangzhou", AdviceMoves(), ["arrival_attainment"])
        (shift,) = [m.change for m in moves if isinstance(m.change, ShiftPattern)]
        (roster,) = [m.change for m in moves if isinstance(m.change, OnCallRoster)]
        assert (shift.start, shift.end, shift.weekdays, shift.skill) == (*night, "power")
        moved = apply_changes(world, (shift,))
        assert len(moved.engineers) == len(world.engineers)  # nobody hired
        changed = [e for e, f in zip(world.engineers, moved.engineers, strict=True)
                   if e.shifts != f.shifts]  # fmt: skip
        assert len(changed) == shift.count
        again = apply_changes(moved, (shift,))  # the next not on it yet, not the same again
        pairs = zip(world.engineers, again.engineers, strict=True)
        assert sum(e.shifts != f.shifts for e, f in pairs) == 2 * shift.count
        assert all("power" in e.skills for e in changed)
        # the on-call roster covers the night's missed hours
        assert set(covered_hours(roster.start, roster.end, roster.weekdays)) & {
            h for h, v in enumerate(hours) if v
        }
        on_call = apply_changes(world, (roster,))
        assert any(e.on_call != f.on_call
                   for e, f in zip(world.engineers, on_call.engineers, strict=True))  # fmt: skip
        quiet = staff_moves(world, current, "guangzhou", AdviceMoves(rosters=False),
                            ["arrival_attainment"])  # fmt: skip
        assert all(isinstance(m.change, Engineers) for m in quiet)

    def test_misses_out_of_reach_make_no_targeted_move(self) -> None:
        world = small_world()
        miss = Misses({"geography": 3.0})
        current = _current(world, {"guangzhou": 10.0}, guangzhou=miss)
        moves = staff_moves(world, current, "guangzhou", AdviceMoves(), ["arrival_attainment"])
        assert [m.change.start for m in moves if isinstance(m.change, Engineers)] == [None]

    def test_an_overall_target_tries_the_regions_with_the_most_buyable_misses(self) -> None:
        world = small_world()
        regions = list(world.regions.values())
        attainment = {
            ("arrival_attainment", f"region={r}"): _estimate(
                "arrival_attainment", f"region={r}", 0.8
            )
            for r in regions
        }
        attainment[("arrival_attainment", "all")] = _estimate("arrival_attainment", "all", 0.8)
        cost = CostBreakdown(Decimal(0), Decimal(0), Decimal(0), Decimal(0), 40)
        misses = {
            ("arrival_attainment", "foshan"): Misses({"geography": 9.0, "shift": 1.0}),
            ("arrival_attainment", "heyuan"): Misses({"decision": 3.0}),
        }
        current = Evaluation("today", (), cost, attainment, dict.fromkeys(regions, 10.0), misses)
        moves, _ = candidate_moves(
            world, current, [Target(kpi="arrival_attainment", share=0.95)],
            AdviceMoves(regions_per_round=1), 0.01, _region_lookup(current),
        )  # fmt: skip
        assert [m.label for m in moves] == ["+1 engineer(s) in heyuan"]


def test_the_miss_profile_says_why_when_and_which_line() -> None:
    monday_9 = 9 * 3_600  # the epoch is a local midnight; say a Monday (weekday 0)

    def job(tid: int, at: int, why: str, kept: bool) -> JobRecord:
        arrive_by = at + 7_200
        return JobRecord(
            tid, "foshan", "urgent", at, arrive_by, None, False,
            arrived_at=arrive_by - 60 if kept else arrive_by + 60, bounds={"arrival": why},
        )  # fmt: skip

    jobs = [job(1, monday_9, "", False), job(2, monday_9, "geography", False),
            job(3, monday_9 + 86_400, "shift", False), job(4, monday_9, "", True)]  # fmt: skip
    runs = [RunResult("base", "optimised", 0, 86_400 * 2, jobs, {}, {}, [])]
    got = miss_profile(runs, {0: {1: "cctv", 2: "cctv", 3: "power"}}, epoch_weekday=0)
    miss = got[("arrival_attainment", "foshan")]
    assert miss.reasons == {"decision": 1.0, "geography": 1.0, "shift": 1.0}
    assert miss.buyable == 2.0
    assert miss.hours[9] == 1.0  # Monday 09-10: the decision miss
    assert miss.hours[24 + 9] == 1.0  # Tuesday: the shift miss; geography is not counted
    assert sum(miss.hours) == 2.0
    assert miss.lines == {"cctv": 1.0, "power": 1.0}


def test_staff_moves_come_in_each_size_asked_for() -> None:
    world = small_world()
    hours = [0.0] * WEEK_HOURS
    hours[10] = 2.0  # Monday 10-11
    miss = Misses({"decision": 2.0}, tuple(hours), {"cctv": 2.0})
    current = _current(world, {"guangzhou": 10.0}, guangzhou=miss)
    moves = staff_moves(
        world, current, "guangzhou", AdviceMoves(engineer_share=0.025, sizes=(1, 3)),
        ["arrival_attainment"],
    )  # fmt: skip
    deltas = [(m.change.delta, m.change.start is None) for m in moves
              if isinstance(m.change, Engineers)]  # fmt: skip
    assert deltas == [(1, True), (3, True), (1, False), (3, False)]
    with pytest.raises(ValueError, match="sizes"):
        AdviceMoves(sizes=(0, 2))


def test_a_target_binds_in_its_region_or_where_an_overall_one_is_lost() -> None:
    low = _estimate("arrival_attainment", "region=foshan", 0.7)
    attainment = {
        ("arrival_attainment", "all"): _estimate("arrival_attainment", "all", 0.8),
        ("arrival_attainment", "region=foshan"): low,
        ("arrival_attainment", "region=heyuan"): _estimate(
            "arrival_attainment", "region=heyuan", 0.99
        ),
    }
    cost = CostBreakdown(Decimal(0), Decimal(0), Decimal(0), Decimal(0), 2)
    e = Evaluation("today", (), cost, attainment)
    overall = Target(kpi="arrival_attainment", share=0.95)
    local = Target(kpi="arrival_attainment", share=0.95, scope="region=foshan")
    assert [binds_in(e, overall, r, 0.01) for r in ("foshan", "heyuan")] == [True, False]
    assert [binds_in(e, local, r, 0.01) for r in ("foshan", "heyuan")] == [True, False]
    easy = Target(kpi="arrival_attainment", share=0.5)  # holds: binds nowhere
    assert not any(binds_in(e, easy, r, 0.01) for r in ("foshan", "heyuan"))
