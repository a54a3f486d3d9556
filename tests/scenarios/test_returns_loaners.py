"""Returned faulty parts, loaner costs, respond/depart clocks and paired differences."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
import simpy

from scenarios.costing import loaner_cost
from scenarios.demand import ticket_stream
from scenarios.kpis import differences, run_kpis
from scenarios.live import LiveState
from scenarios.model import LoanerRates, ReturnsPolicy, SimWorld
from scenarios.paired import paired_difference
from scenarios.records import JobRecord, ReturnsTally, RunResult
from scenarios.returns import FaultyUnit, Returns, repairable
from scenarios.run import build_variants, run_scenario
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Demand
from scenarios.whatif import apply_changes
from tests.scenarios.conftest import tiny_scenario

DAY, HOUR = 86_400, 3_600


def _returns(world: SimWorld, policy: ReturnsPolicy) -> tuple[simpy.Environment, Returns]:
    env = simpy.Environment()
    state = LiveState(world, 10 * DAY)
    depot = next(d.id for d in world.depots if d.location is not None)
    flow = Returns(
        env, state, ReturnsTally(), policy=policy, replication=0, nearest_depot=lambda _: depot
    )
    return env, flow


def _depot_and_part(world: SimWorld) -> tuple[int, int]:
    depot = next(d.id for d in world.depots if d.location is not None)
    return depot, next(iter(world.parts))


class TestReturnsFlow:
    def test_dropped_at_the_depot_visited_then_repaired_onto_the_shelf(
        self, small: SimWorld
    ) -> None:
        policy = ReturnsPolicy(inspect_h=2, repairable_share=1.0, repair_days=1)
        env, flow = _returns(small, policy)
        depot, part = _depot_and_part(small)
        before = flow.state.balance((depot, part)).on_hand
        flow.swapped(7, small.sites[0].id, ticket_id=1, parts=[part])
        env.run(until=HOUR)
        flow.visit(7, depot)
        assert flow.tally.received == {depot: 1}
        env.run(until=HOUR + 2 * HOUR + DAY - 1)  # inspected at 3 h, repaired 1 day later
        assert flow.tally.repaired == 0
        assert flow.repairing[(depot, part)] == 1  # in the depot's pipeline: not reordered
        env.run(until=HOUR + 2 * HOUR + DAY + 1)
        assert flow.tally.repaired == 1
        assert flow.repairing[(depot, part)] == 0
        assert flow.tally.backlog == 0
        assert flow.state.balance((depot, part)).on_hand == before + 1

    def test_not_dropped_within_carry_h_is_couriered(self, small: SimWorld) -> None:
        policy = ReturnsPolicy(carry_h=24, courier_h=12, inspect_h=1, repairable_share=0.0)
        env, flow = _returns(small, policy)
        depot, part = _depot_and_part(small)
        flow.swapped(7, small.sites[0].id, ticket_id=1, parts=[part, part])
        env.run(until=36 * HOUR - 1)
        assert flow.tally.received == {}
        assert flow.tally.backlog == 2
        env.run(until=36 * HOUR + 1)
        assert flow.tally.received == {depot: 2}
        flow.visit(7, depot)  # nothing left in his van: no double count
        env.run(until=40 * HOUR)
        assert (flow.tally.scrapped, flow.tally.repaired, flow.tally.backlog) == (2, 0, 0)

    def test_disabled_produces_nothing(self, small: SimWorld) -> None:
        env, flow = _returns(small, ReturnsPolicy(enabled=False))
        flow.swapped(7, small.sites[0].id, ticket_id=1, parts=[next(iter(small.parts))])
        env.run(until=5 * DAY)
        assert flow.tally.produced == 0

    def test_repairable_draw_is_common_and_near_the_share(self) -> None:
        policy = ReturnsPolicy(repairable_share=0.6, seed=3)
        units = [FaultyUnit(1, ticket, 0, 1) for ticket in range(2_000)]
        draws = [repairable(policy, 0, u) for u in units]
        assert draws == [repairable(policy, 0, u) for u in units]  # same for every variant
        assert 0.55 < sum(draws) / len(draws) < 0.65
        assert draws != [repairable(policy, 1, u) for u in units]  # another replication


def _run(world: SimWorld, days: float = 2, drain: int = 2 * DAY, seed: int = 1) -> RunResult:
    demand = Demand(tickets_per_day=60, part_share=0.8)
    horizon = round(days * DAY)
    stream = ticket_stream(world, demand, horizon_s=horizon, seed=seed, replication=0)
    return simulate(world, stream, RunParams("base", "optimised", 0, horizon, drain_s=drain))


class TestReturnsInARun:
    def test_every_unit_is_accounted_for(self, small: SimWorld) -> None:
        fast = replace(
            small,
            returns=ReturnsPolicy(
                warranty_only=False, carry_h=1, courier_h=1, inspect_h=1, repair_days=0.5
            ),
        )
        result = _run(fast, drain=5 * DAY)
        tally = result.returns
        parts_fixed = sum(1 for j in result.jobs if j.fixed_at is not None and j.needs_parts)
        assert tally.produced >= parts_fixed > 0  # one faulty unit per line swapped
        assert tally.backlog == 0  # all settled long before the drain ended
        assert tally.repaired + tally.scrapped == tally.produced
        assert sum(tally.received.values()) == tally.produced
        kpis = run_kpis(result)
        assert kpis[("returns_received", "all")] == tally.produced
        assert kpis[("returns_repaired", "all")] == tally.repaired
        assert kpis[("returns_backlog", "all")] == 0

    def test_warranty_only_returns_fewer(self, small: SimWorld) -> None:
        every = replace(small, returns=ReturnsPolicy(warranty_only=False))
        warranty = replace(small, returns=ReturnsPolicy(warranty_only=True))
        all_units = _run(every).returns.produced
        warranty_units = _run(warranty).returns.produced
        assert 0 < warranty_units <= all_units


class TestLoaners:
    def test_handling_plus_each_started_day(self) -> None:
        rates = LoanerRates(Decimal("200"), Decimal("50"))
        # 26 h late: 2 started days -> 200 + 2 x 50 = 300
        assert loaner_cost(rates, fix_by=0, fixed_at=26 * HOUR) == Decimal("300")
        # a minute late: one day -> 250
        assert loaner_cost(rates, fix_by=0, fixed_at=60) == Decimal("250")
        assert loaner_cost(rates, fix_by=0, fixed_at=DAY) == Decimal("250")

    def test_loans_are_costed_in_the_run(self, small: SimWorld) -> None:
        priced = replace(small, loaners=LoanerRates(Decimal("100.50"), Decimal("10")))
        result = _run(priced)
        loans = [j for j in result.jobs if j.loaner]
        assert loans
        assert all(j.loaner_cost >= Decimal("110.50") for j in loans)
        assert all(j.loaner_cost == 0 for j in result.jobs if not j.loaner)
        kpis = run_kpis(result)
        assert kpis[("loaner_cost", "all")] == pytest.approx(
            float(sum(j.loaner_cost for j in loans))
        )
        parts = ("travel_cost", "parts_cost", "loaner_cost", "callout_cost")  # on-call roster
        assert kpis[("total_cost", "all")] == pytest.approx(sum(kpis[(k, "all")] for k in parts))


class TestRespondAndDepart:
    def test_clocks_kept_breached_and_absent(self) -> None:
        job = JobRecord(1, "r", "serious", 0, 7_200, 14_400, False, respond_by=900, depart_by=3_600)
        assert (job.respond_kept(), job.depart_kept()) == (False, False)  # never dispatched
        job.assigned_at, job.departed_at = 900, 3_601
        assert (job.respond_kept(), job.depart_kept()) == (True, False)
        general = JobRecord(2, "r", "general", 0, 7_200, 28_800, False, respond_by=7_200)
        general.assigned_at = general.departed_at = 60
        assert (general.respond_kept(), general.depart_kept()) == (True, None)

    def test_measured_per_severity_without_a_general_depart_clock(self, small: SimWorld) -> None:
        kpis = run_kpis(_run(small))
        for kpi in ("respond_attainment", "depart_attainment"):
            assert 0 <= kpis[(kpi, "all")] <= 1
            assert (kpi, "severity=urgent") in kpis
        assert ("respond_attainment", "severity=general") in kpis
        assert ("depart_attainment", "severity=general") not in kpis  # the policy has none


class TestDifferences:
    def test_an_unchanged_variant_differs_by_nothing(self) -> None:
        scenario = tiny_scenario(
            policies=["optimised"],
            variants=[{"name": "same", "changes": [{"kind": "travel_speed", "factor": 1.0}]}],
        )
        diffs = differences(run_scenario(scenario).results)
        assert diffs
        assert all(d.mean == 0 and not d.significant for d in diffs)
        # a region without tickets of a promise in one replication pairs only the other
        assert all(d.n == 2 for d in diffs if d.scope == "all")

    def test_paired_by_replication(self) -> None:
        scenario = tiny_scenario(
            policies=["naive"],
            variants=[{"name": "fewer", "changes": [{"kind": "engineers", "delta": -10}]}],
        )
        results = run_scenario(scenario).results
        diffs = {(d.kpi, d.scope): d for d in differences(results) if d.variant == "fewer"}
        value = {(r.variant, r.replication): run_kpis(r)[("travel_km", "all")] for r in results}
        want = paired_difference(
            [value[("fewer", 0)], value[("fewer", 1)]], [value[("base", 0)], value[("base", 1)]]
        )
        got = diffs[("travel_km", "all")]
        assert (got.mean, got.low, got.high, got.significant) == (
            want.mean, want.low, want.high, want.significant,
        )  # fmt: skip
        assert (got.base, got.policy, got.unit) == ("base", "naive", "km")


class TestSettings:
    def test_scenario_settings_reach_every_variant(self, small: SimWorld) -> None:
        scenario = tiny_scenario(
            seed=5,
            returns={"repairable_share": 0.9, "repair_days": 2},
            loaners={"per_loan": "120.00", "per_day": 30},
            variants=[{"name": "fast-shop", "changes": [{"kind": "returns", "repair_days": 0.5}]},
                      {"name": "cheap", "changes": [{"kind": "loaner_rates", "per_day": 5}]}],
        )  # fmt: skip
        worlds = build_variants(scenario, small)
        assert worlds["base"].returns == ReturnsPolicy(repairable_share=0.9, repair_days=2, seed=5)
        assert worlds["fast-shop"].returns.repair_days == 0.5
        assert worlds["fast-shop"].returns.repairable_share == 0.9
        assert worlds["cheap"].loaners == LoanerRates(Decimal("120.00"), Decimal("5"))
        assert apply_changes(small, ()) is small


def test_a_ticket_open_past_its_deadline_at_the_end_has_a_loaner(small: SimWorld) -> None:
    """No drain: tickets of the last hours are still open, some past their fix deadline."""
    rates = LoanerRates(Decimal("200"), Decimal("50"))
    result = _run(replace(small, loaners=rates), days=1, drain=0)
    open_late = [
        j for j in result.jobs if j.fixed_at is None and j.fix_by is not None
        and j.fix_by < result.reached_s
    ]  # fmt: skip
    assert open_late
    for job in open_late:
        assert job.loaner
        assert job.fix_by is not None
        assert job.loaner_cost == loaner_cost(rates, fix_by=job.fix_by, fixed_at=result.reached_s)
