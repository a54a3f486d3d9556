"""Stock recommendations from a scenario's own demand (`scenarios.stock`)."""

from __future__ import annotations

import pytest

from dispatch.world import generate_world
from inventory.metric import Metric, evaluate
from scenarios.base import build_sim_world
from scenarios.demand import DAY_S, ticket_stream
from scenarios.spec import with_variant
from scenarios.stock import RATE_SEED, rate_seed, recommend_for_scenario, scenario_demand
from tests.scenarios.conftest import tiny_scenario

CENTRAL = "CW-GUANGZHOU"  # the small world's central warehouse, in guangzhou


def test_rates_are_deterministic_and_drawn_with_another_seed_than_the_measured() -> None:
    s = tiny_scenario(demand={"tickets_per_day": 40, "part_share": 0.5})
    assert scenario_demand(s, streams=5) == scenario_demand(s, streams=5)
    assert scenario_demand(s, streams=5, seed=2) != scenario_demand(s, streams=5)
    assert rate_seed(s) == RATE_SEED
    assert rate_seed(tiny_scenario(seed=RATE_SEED)) != RATE_SEED
    with pytest.raises(ValueError, match="scenario's own seed"):
        scenario_demand(s, seed=s.seed)


def test_rates_count_the_parts_tickets_need_per_day() -> None:
    s = tiny_scenario(demand={"tickets_per_day": 40, "part_share": 0.5})
    world = build_sim_world(generate_world(7, "small"), s.start)
    parts = tickets = 0
    for rep in range(6):
        stream = ticket_stream(world, s.demand, horizon_s=DAY_S, seed=rate_seed(s), replication=rep)
        tickets += len(stream)
        parts += sum(len(t.parts) for t in stream)
    assert 0 < parts < tickets  # some tickets need no part: they must not count
    rates = scenario_demand(s, streams=6)
    assert sum(rates.values()) == pytest.approx(parts / 6)
    no_parts = tiny_scenario(demand={"tickets_per_day": 40, "part_share": 0.0})
    assert scenario_demand(no_parts, streams=6) == {}


def test_rates_scale_with_tickets_per_day() -> None:
    low = scenario_demand(tiny_scenario(demand={"tickets_per_day": 20}), streams=20)
    high = scenario_demand(tiny_scenario(demand={"tickets_per_day": 60}), streams=20)
    assert sum(high.values()) / sum(low.values()) == pytest.approx(3.0, rel=0.15)


def test_a_region_without_a_regional_depot_is_served_by_the_central_warehouse() -> None:
    zhuhai = tiny_scenario(demand={"tickets_per_day": 0, "per_region": {"zhuhai": 10}})
    rates = scenario_demand(zhuhai, streams=5)
    assert rates
    assert {depot for depot, _ in rates} == {CENTRAL}
    shenzhen = tiny_scenario(demand={"tickets_per_day": 0, "per_region": {"shenzhen": 10}})
    assert {depot for depot, _ in scenario_demand(shenzhen, streams=5)} == {"RD-SHENZHEN-1"}


def test_region_counts_only_that_regions_tickets() -> None:
    s = tiny_scenario(demand={"tickets_per_day": 80})
    everywhere = scenario_demand(s, streams=5)
    shenzhen = scenario_demand(s, streams=5, region="shenzhen")
    assert shenzhen
    assert shenzhen == {k: v for k, v in everywhere.items() if k[0] == "RD-SHENZHEN-1"}
    with pytest.raises(ValueError, match="no region"):
        scenario_demand(s, region="atlantis")


@pytest.mark.parametrize("metric", [Metric.SWAP_2H, Metric.FILL_RATE])
def test_recommendation_reaches_the_target_by_its_own_evaluation(metric: Metric) -> None:
    s = tiny_scenario(demand={"tickets_per_day": 40, "part_share": 1.0})
    found = recommend_for_scenario(s, target=0.9, metric=metric, streams=10)
    r = found.result
    again = evaluate(r.problem, r.central_levels, r.levels)
    if metric is Metric.SWAP_2H:
        assert min(again.attainment.values()) >= 0.9
    else:
        assert again.fill_rate >= 0.9
    assert r.reached
    assert again.value == r.evaluation.value > 0
    assert found.today.value > 0  # the world's on-hand stock at the central and regional depots
    # its changes are valid scenario changes: they run as a variant
    changes = found.to_dict()["scenario_changes"]
    assert {c["depot"] for c in changes} <= {CENTRAL, *r.problem.depots}
    with_variant(s, "metric", changes, "test")


def test_recommendation_for_one_region() -> None:
    s = tiny_scenario(demand={"tickets_per_day": 40, "part_share": 1.0})
    found = recommend_for_scenario(s, target=0.9, region="shenzhen", streams=5)
    assert found.result.problem.depots == ("RD-SHENZHEN-1",)
    assert {x.depot for x in found.lines} <= {CENTRAL, "RD-SHENZHEN-1"}
