"""The travel model production dispatches with: rush hours on by default, off by setting."""

from __future__ import annotations

from api.settings import Settings
from api.travel import make_travel
from optimizer import GUANGDONG_RUSH_HOURS, GeodesicTravelTimes, TimedTravelTimes


def test_rush_hours_are_on_by_default_with_the_documented_profile() -> None:
    travel = make_travel(Settings(_env_file=None))
    assert isinstance(travel, TimedTravelTimes)
    assert travel.profile == GUANGDONG_RUSH_HOURS


def test_rush_hours_none_is_free_flow() -> None:
    travel = make_travel(Settings(_env_file=None, rush_hours="none"))
    assert isinstance(travel, GeodesicTravelTimes)
