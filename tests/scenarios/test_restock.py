"""Restocking in the simulator is the scenario's data (`restock:`), not a code constant."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inventory.warranty import Cause
from optimizer import PartsSource
from scenarios.context import RunContext, RunParams
from scenarios.demand import DemandTicket
from scenarios.model import RestockPolicy, ReturnsPolicy, SimWorld
from scenarios.policies import JobPlan
from scenarios.records import JobRecord, ReturnsTally
from scenarios.returns import Returns
from scenarios.run import with_settings
from scenarios.running import JobRunner
from scenarios.spec import Scenario

DAY, HOUR = 86_400, 3_600


def _van_at_its_reorder_point(world: SimWorld) -> tuple[int, int, int]:
    """(engineer, his van, a part) with the van at its reorder point and a depot of his
    region holding enough units to refill it."""
    for e in world.engineers:
        van = e.van_depot_id
        for (depot, part), qty in world.stock.items():
            point = world.reorder_points.get((depot, part), 1)
            if depot != van or qty != point or qty < 1:
                continue
            if any(
                d.region_id == e.region_id
                and d.location is not None
                and world.stock.get((d.id, part), 0) >= 2 * point
                for d in world.depots
            ):
                return e.id, van, part
    raise AssertionError("the small world has no such van")


def _van_stock(world: SimWorld, refill_h: float) -> tuple[int, int]:
    """A job takes one unit from the van at its fix: the van's stock before, and 3 days on."""
    world = replace(world, restock=RestockPolicy(van_refill_s=round(refill_h * HOUR)))
    eid, van, part = _van_at_its_reorder_point(world)
    run = RunContext.start(world, RunParams("base", "naive", 0, DAY))
    returns = Returns(
        run.env, run.state, ReturnsTally(), policy=ReturnsPolicy(enabled=False),
        replication=0, nearest_depot=lambda _: None,
    )  # fmt: skip
    site = next(s for s in world.sites if world.assets_by_site.get(s.id))
    asset = world.assets_by_site[site.id][0]
    ticket = DemandTicket(
        1, 0, site.id, site.region_id, asset.id, asset.line, 1, HOUR, HOUR, 3, (part,),
        Cause.NORMAL_FAULT,
    )  # fmt: skip
    record = JobRecord(1, "r", "general", 0, None, None, needs_parts=True)
    before = run.state.available((van, part))
    JobRunner(run, returns).start(
        ticket, record, JobPlan(eid, 0, 0, PartsSource.VAN, ((van, part, 1),))
    )
    run.env.run(until=3 * DAY)
    assert record.fixed_at is not None  # the job ended (the same day)
    return before, run.state.available((van, part))


def test_scenario_files_default_to_the_documented_restock_times(small: SimWorld) -> None:
    world = with_settings(Scenario(name="x"), small)
    assert world.restock == RestockPolicy(12 * HOUR, 7 * DAY)
    given = Scenario(name="x", restock={"van_refill_h": 2, "unsourced_lead_days": 3})
    assert with_settings(given, small).restock == RestockPolicy(2 * HOUR, 3 * DAY)


@pytest.mark.parametrize("refill_h", [1.0, 100.0])
def test_a_van_below_its_reorder_point_is_refilled_after_the_scenarios_time(
    small: SimWorld, refill_h: float
) -> None:
    before, later = _van_stock(small, refill_h)
    # one unit used: refilled to twice the reorder point within the 3 days only when the
    # scenario's refill is that quick; else the van still lacks the unit
    assert later == (2 * before if refill_h < 24 else before - 1)
