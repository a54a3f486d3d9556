"""Scenario changes of labour rules and clock penalties reach what the simulation reads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dispatch.labour import overtime_allowance_s
from scenarios import spec, whatif
from scenarios.demand import ticket_stream
from scenarios.kpis import run_kpis
from scenarios.live import LiveState
from scenarios.model import SimWorld
from scenarios.policies import deadlines_of, optimizer_ticket
from scenarios.run import build_variants
from scenarios.simulate import RunParams, simulate
from tests.scenarios.conftest import tiny_scenario

DAY = 86_400


def _apply(world: SimWorld, change: dict[str, object]) -> SimWorld:
    variant = spec.Variant.model_validate({"name": "v", "changes": [change]})
    return whatif.apply_changes(world, variant.changes)


def test_labour_rules_change_only_the_fields_given(small: SimWorld) -> None:
    new = _apply(small, {"kind": "labour_rules", "overtime_max_min": 0,
                         "overtime_cost_per_hour": "150"})  # fmt: skip
    for old, e in zip(small.engineers, new.engineers, strict=True):
        assert (e.labour.overtime_max_min, e.labour.overtime_cost_per_hour) == (0, Decimal(150))
        assert e.labour.overtime_week_max_min == old.labour.overtime_week_max_min
        assert overtime_allowance_s(e.labour) == 0
    view = LiveState(new, DAY).view(0)  # the solver's engineers: the same rule function
    assert all(e.overtime_s == 0 for e in view.engineers)
    assert small.engineers[0].labour.overtime_max_min > 0  # the base is untouched


def test_labour_rules_of_one_region(small: SimWorld) -> None:
    new = _apply(small, {"kind": "labour_rules", "region": "shenzhen",
                         "start_into_overtime": False})  # fmt: skip
    rid = small.region_id("shenzhen")
    assert {e.labour.start_into_overtime for e in new.engineers if e.region_id == rid} == {False}
    assert {e.labour.start_into_overtime for e in new.engineers if e.region_id != rid} == {True}


def test_clock_penalties_in_currency_become_fen(small: SimWorld) -> None:
    new = _apply(small, {"kind": "clock_penalties", "severity": "urgent", "arrive": "2500.50",
                         "late_pct_per_hour": 50})  # fmt: skip
    for pid, policy in new.policies.items():
        for old, sev in zip(small.policies[pid].severities, policy.severities, strict=True):
            if sev.code == "urgent":
                assert (sev.penalties.arrive, sev.penalties.late_pct_per_hour) == (250_050, 50)
                assert sev.penalties.fix == old.penalties.fix
            else:
                assert sev.penalties == old.penalties


def test_clock_penalties_of_an_unknown_severity_name_it(small: SimWorld) -> None:
    with pytest.raises(ValueError, match="nosuch"):
        _apply(small, {"kind": "clock_penalties", "severity": "nosuch", "fix": 1})


def test_forbidding_overtime_lowers_overtime_hours(small: SimWorld) -> None:
    scenario = tiny_scenario(
        demand={"tickets_per_day": 120},
        variants=[{"name": "none", "changes": [
            {"kind": "labour_rules", "overtime_max_min": 0, "overtime_day_max_min": 0,
             "overtime_week_max_min": 0}]}],
    )  # fmt: skip
    worlds = build_variants(scenario, small)
    stream = ticket_stream(small, scenario.demand, horizon_s=DAY, seed=1, replication=0)
    hours = {}
    for name, world in worlds.items():
        result = simulate(world, stream, RunParams(name, "optimised", 0, DAY))
        hours[name] = run_kpis(result)[("overtime_h", "all")]
    assert hours["none"] < hours["base"]


def test_the_simulated_ticket_carries_the_changed_penalties(small: SimWorld) -> None:
    scenario = tiny_scenario()
    t = ticket_stream(small, scenario.demand, horizon_s=DAY, seed=1, replication=0)[0]
    site = next(s for s in small.sites if s.id == t.site_id)
    code = small.policies[site.policy_id].by_rank(t.rank).code
    new = _apply(small, {"kind": "clock_penalties", "severity": code, "fix": "7"})
    d = deadlines_of(new, site, t)
    assert optimizer_ticket(new, site, t, d).penalties.fix == 700
    assert optimizer_ticket(small, site, t, d).penalties.fix != 700
