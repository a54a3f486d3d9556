"""Pure solver core: plain data in, plans out (no database, web, clock or global RNG).

Two entry points over one `DispatchWorld` (build it once per snapshot) and a `TravelTimes`
provider (`GeodesicTravelTimes` by default, `RoadNetworkTravelTimes` on an OpenStreetMap
extract):

- `recommend(world, ticket, *, now, travel, params)`: the ranked engineers for one ticket;
- `plan(world, tickets, *, now, travel, params)`: whole-region routes (`Plan`), validated by
  the independent `validate`; OR-Tools is imported by `optimizer.routing` only;
- `replan` / `insert_urgent` (with a `Baseline` of commitments; `prepare_insertion` then
  `insert_prepared` for several tickets into one published plan), `diff`, disruption
  transforms and `inspection_visits`: re-planning with stability (issue 8).
"""

from optimizer.allocation import PickupOption, TicketSupply, allocate
from optimizer.assignment import earliest_arrival, rank_key, recommend
from optimizer.commitments import Baseline, Commitment, check_commitments
from optimizer.diff import PlanDiff, PromiseState, ReservationDiff, RouteDiff, TicketDiff, diff
from optimizer.disruptions import (
    Disrupted,
    DisruptionResult,
    engineer_absent,
    part_runs_out,
    replan_disrupted,
    visit_overruns,
)
from optimizer.errors import InvalidProblemError, OptimizerError, RoadNetworkError
from optimizer.inspections import (
    Frequency,
    InspectionPolicy,
    InspectionSite,
    carry_over,
    inspection_visits,
)
from optimizer.model import Depot, Engineer, Location, PartLine, Supplier, Ticket, Window
from optimizer.network import RoadNetwork, RoadNetworkTravelTimes, load_road_network, parse_maxspeed
from optimizer.params import PlanParams, RecommendParams
from optimizer.penalties import ClockPenalties, clock_cost, default_penalties
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
from optimizer.replan import replan
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
    GUANGDONG_RUSH_HOURS,
    UNREACHABLE,
    GeodesicTravelTimes,
    MatrixTravelTimes,
    RoadModel,
    ScaledTravelTimes,
    SpeedProfile,
    TimedTravelTimes,
    TravelTimes,
    haversine_m,
    travel_at,
)
from optimizer.urgent import (
    PreparedInsertion,
    insert_prepared,
    insert_urgent,
    prepare_insertion,
)
from optimizer.urgent_result import Insertion, VisitChange
from optimizer.validate import validate
from optimizer.world import DispatchWorld, coordinates

__all__ = [
    "Baseline",
    "ClockPenalties",
    "Commitment",
    "Depot",
    "DispatchWorld",
    "Disrupted",
    "DisruptionResult",
    "DropReason",
    "Dropped",
    "Engineer",
    "Exclusion",
    "ExclusionReason",
    "Frequency",
    "GUANGDONG_RUSH_HOURS",
    "GeodesicTravelTimes",
    "Insertion",
    "InspectionPolicy",
    "InspectionSite",
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
    "PlanDiff",
    "PlanKpis",
    "PlanParams",
    "PlanQuality",
    "PreparedInsertion",
    "Promise",
    "PromiseCheck",
    "PromiseState",
    "PromiseTally",
    "RecommendParams",
    "Recommendation",
    "ReservationDiff",
    "RoadModel",
    "RoadNetwork",
    "RoadNetworkError",
    "RoadNetworkTravelTimes",
    "Route",
    "RouteDiff",
    "ScaledTravelTimes",
    "Shipped",
    "SolverStats",
    "SpeedProfile",
    "Stop",
    "StopKind",
    "Suggestion",
    "SuggestionKind",
    "Supplier",
    "Ticket",
    "TicketDiff",
    "TicketSupply",
    "TimedTravelTimes",
    "TravelTimes",
    "UNREACHABLE",
    "VisitChange",
    "Window",
    "allocate",
    "carry_over",
    "check_commitments",
    "clock_cost",
    "coordinates",
    "default_penalties",
    "diff",
    "earliest_arrival",
    "engineer_absent",
    "haversine_m",
    "insert_prepared",
    "insert_urgent",
    "inspection_visits",
    "load_road_network",
    "parse_maxspeed",
    "part_runs_out",
    "plan",
    "prepare_insertion",
    "rank_key",
    "recommend",
    "replan",
    "replan_disrupted",
    "travel_at",
    "validate",
    "visit_overruns",
    "warm_up",
]
