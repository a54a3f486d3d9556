"""The simulation: common random numbers, determinism, stock, policies, Ctrl-C, the view."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenarios.demand import ticket_stream
from scenarios.kpis import run_kpis
from scenarios.live import LiveState
from scenarios.model import SimWorld
from scenarios.run import build_variants, run_scenario
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Demand
from tests.scenarios.conftest import tiny_scenario

DAY = 86_400


def test_variants_see_the_same_ticket_stream(small: SimWorld) -> None:
    scenario = tiny_scenario(variants=[
        {"name": "fewer", "changes": [{"kind": "engineers", "delta": -3}]},
        {"name": "slow", "changes": [{"kind": "travel_speed", "factor": 0.5}]},
    ])  # fmt: skip
    run = run_scenario(scenario)
    by_run = {
        (r.variant, r.policy, r.replication): [j.ticket_id for j in r.jobs] for r in run.results
    }
    for rep in range(2):
        streams = [ids for (_, _, k), ids in by_run.items() if k == rep]
        assert len(streams) == 6
        assert all(ids == streams[0] for ids in streams)
    worlds = build_variants(scenario, small)
    assert [len(w.engineers) for w in worlds.values()] == [40, 37, 40]


def test_a_surge_adds_tickets_and_keeps_the_common_ones() -> None:
    scenario = tiny_scenario(variants=[{"name": "surge", "changes": [
        {"kind": "demand_surge", "region": "guangzhou", "factor": 4, "days": 1}]}])  # fmt: skip
    run = run_scenario(scenario)
    base = {(r.replication): r for r in run.results if r.variant == "base" and r.policy == "naive"}
    for r in run.results:
        if r.variant == "surge":
            common = {j.ticket_id for j in base[r.replication].jobs}
            assert common < {j.ticket_id for j in r.jobs}


def test_same_seed_same_kpis() -> None:
    first, second = run_scenario(tiny_scenario()), run_scenario(tiny_scenario())
    assert first.estimates == second.estimates
    third = run_scenario(tiny_scenario(seed=99))
    assert third.estimates != first.estimates


def test_optimised_keeps_at_least_as_many_arrival_promises(small: SimWorld) -> None:
    """Not a theorem per ticket; over a day of tickets on the same stream it holds here.

    On the flat 24 h stream it was measured on: with the business-hours peak the optimised
    policy keeps fewer in one replication (12 vs 14), the defect issue 16 names.
    """
    flat = {"hours": [1.0] * 24, "weekdays": [1.0] * 7}
    demand = Demand.model_validate({"tickets_per_day": 40, "profile": flat})
    for replication in range(3):
        stream = ticket_stream(small, demand, horizon_s=DAY, seed=1, replication=replication)
        kept = {}
        for policy in ("optimised", "naive"):
            result = simulate(small, stream, RunParams("base", policy, replication, DAY))
            kept[policy] = sum(bool(j.arrival_kept()) for j in result.jobs)
        assert kept["optimised"] >= kept["naive"]


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    part_share=st.floats(0.5, 1.0),
    policy=st.sampled_from(["optimised", "naive"]),
    redispatch=st.sampled_from([None, 0]),
)
def test_stock_is_never_oversold(
    small: SimWorld, seed: int, part_share: float, policy: str, redispatch: int | None
) -> None:
    """Every balance stays 0 <= held <= on hand, whatever the stream (scarce stock: x0.2);
    also when overruns move visits (their holds are released, the new plan holds anew)."""
    from dataclasses import replace

    scarce = replace(small, stock={k: q // 5 for k, q in small.stock.items()})
    demand = Demand(tickets_per_day=80, part_share=part_share)
    stream = ticket_stream(scarce, demand, horizon_s=DAY, seed=seed, replication=0)
    seen: list[LiveState] = []
    original = LiveState.__init__

    def spy(self: LiveState, *args: object) -> None:
        original(self, *args)  # type: ignore[arg-type]
        seen.append(self)

    LiveState.__init__ = spy  # type: ignore[method-assign,assignment]
    try:
        simulate(scarce, stream, RunParams("base", policy, 0, DAY, redispatch_grace_s=redispatch))
    finally:
        LiveState.__init__ = original  # type: ignore[method-assign]
    for rows in seen[0].balances.values():
        for balance in rows.values():
            assert 0 <= balance.held <= balance.on_hand


def test_ctrl_c_returns_partial_results(small: SimWorld) -> None:
    stream = ticket_stream(
        small, Demand(tickets_per_day=40), horizon_s=2 * DAY, seed=1, replication=0
    )

    def interrupt(now: int) -> None:
        if now >= DAY:
            raise KeyboardInterrupt

    result = simulate(small, stream, RunParams("base", "optimised", 0, 2 * DAY), progress=interrupt)
    assert result.partial
    assert result.reached_s == DAY
    assert 0 < len(result.jobs) < len(stream)


def test_ctrl_c_stops_the_scenario_and_marks_it_partial(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}

    def progress(done: int, total: int, now: int, end: int) -> None:
        calls["n"] += 1
        if done == 1 and now >= 6 * 3_600:
            raise KeyboardInterrupt

    run = run_scenario(tiny_scenario(), progress=progress)
    assert run.partial
    assert len(run.results) == 2
    assert run.results[-1].partial
    assert all(e.partial for e in run.estimates if e.policy == "naive")


def test_patched_view_equals_a_fresh_build(small: SimWorld) -> None:
    """The view patched between rebuilds says what a freshly built one would."""
    state = LiveState(small, 2 * DAY)
    view = state.view(0)
    eid = small.engineers[3].id
    site = small.sites[10].location
    state.commit(eid, 5_000, site)
    key = next(
        k
        for k, q in small.stock.items()
        if q > 1 and any(d.id == k[0] and d.location for d in small.depots)
    )
    state.reserve(key, 1)
    van_key = next(k for k in small.stock if k[0] == small.engineers[0].van_depot_id)
    state.reserve(van_key, small.stock[van_key])  # the van's last units
    state.receive(key, 2)
    assert state.view(0) is view  # patched, not rebuilt
    fresh = LiveState.__new__(LiveState)
    fresh.__dict__.update(state.__dict__)
    built = fresh._build(0)
    a, b = view.engineer_arrays, built.engineer_arrays
    assert np.array_equal(a.busy_until, b.busy_until)
    assert np.array_equal(a.busy_coords, b.busy_coords)
    for part, column in b_stock(built).items():
        assert np.array_equal(view.depot_arrays.stock.get(part, np.zeros_like(column)), column)
    for e_view, e_built in zip(view.engineers, built.engineers, strict=True):
        assert dict(e_view.van_stock) == dict(e_built.van_stock)
    for d_view, d_built in zip(view.depots, built.depots, strict=True):
        assert dict(d_view.stock) == dict(d_built.stock)


def b_stock(world: object) -> dict[int, np.ndarray]:
    return world.depot_arrays.stock  # type: ignore[attr-defined, no-any-return]


def test_kpis_of_a_run(small: SimWorld) -> None:
    stream = ticket_stream(small, Demand(tickets_per_day=40), horizon_s=DAY, seed=1, replication=0)
    kpis = run_kpis(simulate(small, stream, RunParams("base", "optimised", 0, DAY)))
    assert kpis[("tickets", "all")] == len(stream)
    assert 0 <= kpis[("arrival_attainment", "all")] <= 1
    assert kpis[("eta_p50_min", "all")] <= kpis[("eta_p90_min", "all")]
    assert 0 < kpis[("utilisation", "all")] < 1


def test_every_due_swap_is_judged_and_its_misses_split(small: SimWorld) -> None:
    demand = Demand(tickets_per_day=60, part_share=0.8)
    stream = ticket_stream(small, demand, horizon_s=DAY, seed=1, replication=0)
    result = simulate(small, stream, RunParams("base", "optimised", 0, DAY))
    due = [j for j in result.jobs if j.swapped_in_time() is not None and j.swap_due]
    assert due
    assert all("swap" in j.bounds for j in due)
    kpis = run_kpis(result)
    bounded = sum(kpis[(f"bound_{r}", "clock=swap")] for r in ("geography", "shift", "labour"))
    missed = 1 - kpis[("swap_2h_attainment", "all")]
    # every miss is either out of reach or lost to decisions (a bounded one may be kept)
    assert kpis[("lost_decisions", "clock=swap")] <= missed + 1e-9
    assert missed <= bounded + kpis[("lost_decisions", "clock=swap")] + 1e-9


def test_the_bounds_judge_the_fix_with_the_duration_dispatch_plans(small: SimWorld) -> None:
    """A log where jobs run ten times their standard: dispatch plans ten times as long, so
    the fix clocks "out of reach" grow with it (bounds and plan agree, issue 16)."""
    from dataclasses import replace

    slow = replace(small, duration_history=((999, 3_600, 36_000),) * 50)
    stream = ticket_stream(small, Demand(tickets_per_day=40), horizon_s=DAY, seed=1, replication=0)

    def out_of_reach(world: SimWorld) -> int:
        result = simulate(world, stream, RunParams("base", "naive", 0, DAY))
        return sum(1 for j in result.jobs if j.bounds.get("fix"))

    assert out_of_reach(slow) > out_of_reach(small)
