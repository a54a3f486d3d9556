"""The simulator wakes on-call engineers by the optimizer's rule and counts the call-outs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scenarios import spec, whatif
from scenarios.demand import ticket_stream
from scenarios.kpis import run_kpis
from scenarios.live import LiveState
from scenarios.model import SimWorld
from scenarios.run import build_variants
from scenarios.simulate import RunParams, simulate
from tests.scenarios.conftest import tiny_scenario

DAY = 86_400


def _apply(world: SimWorld, change: dict[str, object]) -> SimWorld:
    variant = spec.Variant.model_validate({"name": "v", "changes": [change]})
    return whatif.apply_changes(world, variant.changes)


def test_a_roster_puts_every_nth_engineer_on_call(small: SimWorld) -> None:
    new = _apply(small, {"kind": "on_call", "share": 0.5, "start": "20:00", "end": "08:00"})
    rostered = [e for e in new.engineers if len(e.on_call) == 7]  # every night: the change's
    assert len(rostered) == (len(small.engineers) + 1) // 2
    assert all(
        e.shifts == old.shifts for e, old in zip(new.engineers, small.engineers, strict=True)
    )
    # the demo world's own roster: each region's first engineer, weekday nights (21 of the
    # medium world's 300; in this small world of 40 in 21 regions, about half)
    data = [e for e in small.engineers if e.on_call]
    assert len(data) == len({e.region_id for e in small.engineers})
    assert all(len(e.on_call) == 5 for e in data)


def test_the_view_wakes_only_who_is_on_call(small: SimWorld) -> None:
    new = _apply(small, {"kind": "on_call", "share": 1.0, "start": "20:00", "end": "08:00"})
    view = LiveState(new, DAY).view(0)
    on_call = {o.engineer.id: o for o in view.on_call}
    assert set(on_call) == {e.id for e in new.engineers}
    first = new.engineers[0]
    o = on_call[first.id]
    assert (o.cost, o.lead_s) == (30_000, 1_800)  # his labour rules: the defaults
    assert all(s < t for s, t in o.engineer.shifts)
    in_data = {o.engineer.id for o in LiveState(small, DAY).view(0).on_call}
    assert in_data == {e.id for e in small.engineers if e.on_call}


def test_an_unknown_region_is_refused(small: SimWorld) -> None:
    with pytest.raises(ValueError, match="nowhere"):
        _apply(small, {"kind": "on_call", "region": "nowhere"})


def test_call_outs_are_counted_and_priced_in_the_kpis(small: SimWorld) -> None:
    scenario = tiny_scenario(
        demand={"tickets_per_day": 120},
        variants=[{"name": "on-call", "changes": [
            {"kind": "on_call", "share": 1.0, "start": "18:00", "end": "09:00"},
            {"kind": "labour_rules", "callout_max_rank": 3, "callout_cost": "100"}]}],
    )  # fmt: skip
    worlds = build_variants(scenario, small)
    stream = ticket_stream(small, scenario.demand, horizon_s=DAY, seed=1, replication=0)
    kpis = {
        name: run_kpis(simulate(world, stream, RunParams(name, "optimised", 0, DAY)))
        for name, world in worlds.items()
    }
    n = kpis["on-call"][("callouts", "all")]
    assert n > kpis["base"][("callouts", "all")]  # the demo's small roster wakes fewer
    assert kpis["on-call"][("callout_cost", "all")] == pytest.approx(float(Decimal(100) * int(n)))
    assert kpis["on-call"][("total_cost", "all")] >= kpis["on-call"][("callout_cost", "all")]


def test_the_batch_re_plan_wakes_by_the_same_rule(small: SimWorld) -> None:
    """With a re-plan every 30 min, tickets left waiting may be planned as call-outs too."""
    world = _apply(small, {"kind": "on_call", "share": 1.0, "start": "18:00", "end": "09:00"})
    stream = ticket_stream(small, tiny_scenario().demand, horizon_s=DAY, seed=2, replication=0)
    result = simulate(world, stream, RunParams("v", "optimised", 0, DAY, replan_every_s=1_800))
    kpis = run_kpis(result)
    assert kpis[("callouts", "all")] == sum(job.callout for job in result.jobs)
    assert kpis[("callout_cost", "all")] == pytest.approx(300.0 * kpis[("callouts", "all")])
