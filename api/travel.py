"""The travel-time provider the settings choose; apart from `api.app` so that the command line
and the worker get it without building the web application."""

from __future__ import annotations

from api.settings import Settings
from optimizer import (
    GeodesicTravelTimes,
    RoadNetworkTravelTimes,
    TravelTimes,
    load_road_network,
)


def make_travel(settings: Settings) -> TravelTimes:
    """The travel-time provider the settings choose: geodesic, or a real road network."""
    if settings.travel_provider == "road":
        assert settings.road_network_pbf is not None  # the settings validator guarantees it
        return RoadNetworkTravelTimes(load_road_network(settings.road_network_pbf))
    return GeodesicTravelTimes()
