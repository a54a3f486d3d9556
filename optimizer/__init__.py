"""Pure solver core: plain data in, plans out (no database, web, clock or global RNG).

Two entry points over one `DispatchWorld` (build it once per snapshot) and a `TravelTimes`
provider (`GeodesicTravelTimes` by default, `RoadNetworkTravelTimes` on an OpenStreetMap
extract):

- `recommend(world, ticket, *, now, travel, params)`: the ranked engineers for one ticket;
- `plan(world, tickets, *, now, travel, params)`: whole-region routes (`Plan`), validated by
  the independent `validate`; OR-Tools is imported by `optimizer.routing` only.
"""

from optimizer.allocation import PickupOption, TicketSupply, allocate
from optimizer.assignment import earliest_arrival, rank_key, recommend
from optimizer.errors import InvalidProblemError, OptimizerError, RoadNetworkError
from optimizer.model import Depot, Engineer, Location, PartLine, Supplier, Ticket, Window
from optimizer.network import RoadNetwork, RoadNetworkTravelTimes, load_road_network, parse_maxspeed
from optimizer.params import PlanParams, RecommendParams
from optimizer.plan_result import (
    Dropped,
    DropReason,
    Plan,
    PlanKpis,
    PlanQuality,
    PromiseTally,
    Route,
    Shipped,
    SolverStats,
    Stop,
    StopKind,
)
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
from optimizer.solve import plan, warm_up
from optimizer.travel import (
    UNREACHABLE,
    GeodesicTravelTimes,
    MatrixTravelTimes,
    RoadModel,
    TravelTimes,
    haversine_m,
)
from optimizer.validate import validate
from optimizer.world import DispatchWorld, coordinates

__all__ = [
    "Depot",
    "DispatchWorld",
    "DropReason",
    "Dropped",
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
    "PickupOption",
    "Plan",
    "PlanKpis",
    "PlanParams",
    "PlanQuality",
    "Promise",
    "PromiseCheck",
    "PromiseTally",
    "RecommendParams",
    "Recommendation",
    "RoadModel",
    "RoadNetwork",
    "RoadNetworkError",
    "RoadNetworkTravelTimes",
    "Route",
    "Shipped",
    "SolverStats",
    "Stop",
    "StopKind",
    "Suggestion",
    "SuggestionKind",
    "Supplier",
    "Ticket",
    "TicketSupply",
    "TravelTimes",
    "UNREACHABLE",
    "Window",
    "allocate",
    "coordinates",
    "earliest_arrival",
    "haversine_m",
    "load_road_network",
    "parse_maxspeed",
    "plan",
    "rank_key",
    "recommend",
    "validate",
    "warm_up",
]
