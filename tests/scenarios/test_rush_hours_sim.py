"""The simulator drives by the same rush-hour profile the optimizer plans with."""

from __future__ import annotations

from dataclasses import replace

from optimizer import GUANGDONG_RUSH_HOURS, SpeedProfile, TimedTravelTimes
from scenarios.context import travel_for
from scenarios.demand import ticket_stream
from scenarios.model import SimWorld
from scenarios.run import with_settings
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Demand
from tests.scenarios.conftest import tiny_scenario

DAY = 86_400
HALF = SpeedProfile((0.5,) * 24, (0.5,) * 24)


def _drive_s(world: SimWorld) -> list[int]:
    """Each of a few tickets alone in a run: its drive from departure to arrival."""
    stream = ticket_stream(world, Demand(tickets_per_day=30, part_share=0), horizon_s=DAY,
                           seed=4, replication=0)  # fmt: skip
    out = []
    for t in stream[:5]:
        (job,) = simulate(world, (t,), RunParams("base", "naive_unlimited", 0, DAY)).jobs
        assert job.arrived_at is not None
        assert job.departed_at is not None
        out.append(job.arrived_at - job.departed_at)
    return out


def test_half_speed_all_day_doubles_every_drive(small: SimWorld) -> None:
    free, slow = _drive_s(small), _drive_s(replace(small, speed_by_hour=HALF))
    # the naive rule picks by the same (scaled) times, so the same engineer drives (without
    # the labour rules, which half speed would tighten: some tickets would wait)
    assert all(2 * f <= s <= 2 * f + 1 for f, s in zip(free, slow, strict=True))


def test_the_scenario_default_is_the_production_default(small: SimWorld) -> None:
    world = with_settings(tiny_scenario(), small)
    assert world.speed_by_hour == GUANGDONG_RUSH_HOURS
    travel = travel_for(world)
    assert isinstance(travel, TimedTravelTimes)
    assert travel.profile == GUANGDONG_RUSH_HOURS
    flat = tiny_scenario(rush_hours={"weekday": [1] * 24, "weekend": [1] * 24})
    assert not isinstance(travel_for(with_settings(flat, small)), TimedTravelTimes)
