"""The travel-time provider the settings choose; apart from `api.app` so that the command line
and the worker get it without building the web application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer import GUANGDONG_RUSH_HOURS, GeodesicTravelTimes, TimedTravelTimes

if TYPE_CHECKING:
    from api.settings import Settings
    from optimizer import TravelTimes


def make_travel(settings: Settings) -> TravelTimes:
    """The travel-time provider the settings choose: geodesic, or a real road network.

    With rush hours on, the optimizer reads each decision's speed from the profile
    (`optimizer.TimedTravelTimes`), the same profile the what-if simulator drives by.
    """
    road: TravelTimes
    if settings.travel_provider == "road":
        # The road network (networkx, scipy's KD-tree) loads only when it is configured.
        from optimizer import RoadNetworkTravelTimes, load_road_network

        assert settings.road_network_pbf is not None  # the settings validator guarantees it
        road = RoadNetworkTravelTimes(load_road_network(settings.road_network_pbf))
    else:
        road = GeodesicTravelTimes()
    if settings.rush_hours == "none":
        return road
    return TimedTravelTimes(road, GUANGDONG_RUSH_HOURS)
