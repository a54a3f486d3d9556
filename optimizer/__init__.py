"""Pure solver core: plain data in, plans out (no database, web, clock or global RNG).

The entry point is `recommend(world, ticket, *, now, travel, params)`: build a
`DispatchWorld` once per snapshot, pick a `TravelTimes` provider (`GeodesicTravelTimes` by
default, `RoadNetworkTravelTimes` on an OpenStreetMap extract), and ask per ticket.
"""

from optimizer.assignment import earliest_arrival, rank_key, recommend
from optimizer.errors import InvalidProblemError, OptimizerError, RoadNetworkError
from optimizer.model import Depot, Engineer, Location, PartLine, Supplier, Ticket, Window
from optimizer.network import RoadNetwork, RoadNetworkTravelTimes, load_road_network, parse_maxspeed
from optimizer.params import RecommendParams
from optimizer.result import (
    Exclusion,
    ExclusionReason,
    Loaner,
    Option,
    PartsPlan,
    PartsSource,
    PartUse,
    Promise,
    PromiseCheck,
    Recommendation,
    Suggestion,
    SuggestionKind,
)
from optimizer.travel import (
    UNREACHABLE,
    GeodesicTravelTimes,
    MatrixTravelTimes,
    RoadModel,
    TravelTimes,
    haversine_m,
)
from optimizer.world import DispatchWorld, coordinates

__all__ = [
    "Depot",
    "DispatchWorld",
    "Engineer",
    "Exclusion",
    "ExclusionReason",
    "GeodesicTravelTimes",
    "InvalidProblemError",
    "Loaner",
    "Location",
    "MatrixTravelTimes",
    "OptimizerError",
    "Option",
    "PartLine",
    "PartUse",
    "PartsPlan",
    "PartsSource",
    "Promise",
    "PromiseCheck",
    "RecommendParams",
    "Recommendation",
    "RoadModel",
    "RoadNetwork",
    "RoadNetworkError",
    "RoadNetworkTravelTimes",
    "Suggestion",
    "SuggestionKind",
    "Supplier",
    "Ticket",
    "TravelTimes",
    "UNREACHABLE",
    "Window",
    "coordinates",
    "earliest_arrival",
    "haversine_m",
    "load_road_network",
    "parse_maxspeed",
    "rank_key",
    "recommend",
]
