"""Pure solver core: plain data in, plans out (no database, web, clock or global RNG).

Two entry points over one `DispatchWorld` (build it once per snapshot) and a `TravelTimes`
provider (`GeodesicTravelTimes` by default, `RoadNetworkTravelTimes` on an OpenStreetMap
extract):

- `recommend(world, ticket, *, now, travel, params)`: the ranked engineers for one ticket;
- `plan(world, tickets, *, now, travel, params)`: whole-region routes (`Plan`), validated by
  the independent `validate`; OR-Tools is imported by `optimizer.routing` only;
- `plan_province(world, tickets, *, now, travel, params, province, run)`: a province's day
  by regions planned through the caller's ``map`` (process pool, Dask), engineers borrowed
  across borders and the seams repaired (`optimizer.province`);
- `replan` / `insert_urgent` (with a `Baseline` of commitments; `prepare_insertion` then
  `insert_prepared` for several tickets into one published plan), `diff`, disruption
  transforms and `inspection_visits`: re-planning with stability (issue 8).

Names load on first use (PEP 562 `__getattr__` below): `import optimizer` costs nothing, and
a caller pays only for the modules it touches (a recommendation never loads OR-Tools, scipy's
optimiser or the road network), which keeps the command line quick to start.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.allocation import PickupOption, TicketSupply, allocate
    from optimizer.assignment import (
        callout_options,
        earliest_arrival,
        rank_key,
        recommend,
        worth_waking,
    )
    from optimizer.bump import (
        DIVERT_ENGINEERS,
        MAKE_ROOM_ENGINEERS,
        Diversion,
        Driving,
        Held,
        Room,
        divert,
        drive_share,
        en_route_at,
        keeps_planned,
        make_room,
        nearest_driving,
        nearest_held,
        point_along,
        wants_room,
    )
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
    from optimizer.intake import ship_at_intake, swap_in_reach
    from optimizer.model import (
        Depot,
        Engineer,
        Gap,
        Location,
        OnCall,
        PartLine,
        Supplier,
        Ticket,
        Window,
    )
    from optimizer.network import (
        RoadNetwork,
        RoadNetworkTravelTimes,
        load_road_network,
        parse_maxspeed,
    )
    from optimizer.overrun import overrun_changes_at, overrun_ends
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
    from optimizer.province import ProvinceParams, ProvincePlan, plan_province
    from optimizer.reassign import (
        better_elsewhere,
        keeps_what_was_planned,
        overrun_past,
        planned_cost,
    )
    from optimizer.replan import replan
    from optimizer.reserved import Committed, Reserved, free_gap, retimed
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
        Unreached,
    )
    from optimizer.solve import plan, warm_up
    from optimizer.standing import heads_home_at, sets_off_from, standing_at
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
    from optimizer.validate import short_of_slack, validate
    from optimizer.world import DispatchWorld, coordinates

_HOMES: dict[str, str] = {
    "Baseline": "optimizer.commitments",
    "ClockPenalties": "optimizer.penalties",
    "Commitment": "optimizer.commitments",
    "Committed": "optimizer.reserved",
    "Depot": "optimizer.model",
    "DispatchWorld": "optimizer.world",
    "Disrupted": "optimizer.disruptions",
    "DisruptionResult": "optimizer.disruptions",
    "DropReason": "optimizer.plan_result",
    "Dropped": "optimizer.plan_result",
    "Engineer": "optimizer.model",
    "Exclusion": "optimizer.result",
    "ExclusionReason": "optimizer.result",
    "Frequency": "optimizer.inspections",
    "GUANGDONG_RUSH_HOURS": "optimizer.travel",
    "Gap": "optimizer.model",
    "GeodesicTravelTimes": "optimizer.travel",
    "Insertion": "optimizer.urgent_result",
    "InspectionPolicy": "optimizer.inspections",
    "InspectionSite": "optimizer.inspections",
    "InvalidProblemError": "optimizer.errors",
    "Loaner": "optimizer.result",
    "Location": "optimizer.model",
    "MatrixTravelTimes": "optimizer.travel",
    "OnCall": "optimizer.model",
    "OptimizerError": "optimizer.errors",
    "Option": "optimizer.result",
    "PartLine": "optimizer.model",
    "PartUse": "optimizer.result",
    "PartsPlan": "optimizer.result",
    "PartsSource": "optimizer.result",
    "PickupOption": "optimizer.allocation",
    "Plan": "optimizer.plan_result",
    "PlanDiff": "optimizer.diff",
    "PlanKpis": "optimizer.plan_result",
    "PlanParams": "optimizer.params",
    "PlanQuality": "optimizer.plan_result",
    "PreparedInsertion": "optimizer.urgent",
    "Promise": "optimizer.result",
    "PromiseCheck": "optimizer.result",
    "PromiseState": "optimizer.diff",
    "PromiseTally": "optimizer.plan_result",
    "ProvinceParams": "optimizer.province",
    "ProvincePlan": "optimizer.province",
    "RecommendParams": "optimizer.params",
    "Recommendation": "optimizer.result",
    "ReservationDiff": "optimizer.diff",
    "Reserved": "optimizer.reserved",
    "RoadModel": "optimizer.travel",
    "RoadNetwork": "optimizer.network",
    "RoadNetworkError": "optimizer.errors",
    "RoadNetworkTravelTimes": "optimizer.network",
    "Route": "optimizer.plan_result",
    "RouteDiff": "optimizer.diff",
    "ScaledTravelTimes": "optimizer.travel",
    "Shipped": "optimizer.plan_result",
    "SolverStats": "optimizer.plan_result",
    "SpeedProfile": "optimizer.travel",
    "Stop": "optimizer.plan_result",
    "StopKind": "optimizer.plan_result",
    "Suggestion": "optimizer.result",
    "SuggestionKind": "optimizer.result",
    "Supplier": "optimizer.model",
    "Ticket": "optimizer.model",
    "TicketDiff": "optimizer.diff",
    "TicketSupply": "optimizer.allocation",
    "TimedTravelTimes": "optimizer.travel",
    "TravelTimes": "optimizer.travel",
    "UNREACHABLE": "optimizer.travel",
    "Unreached": "optimizer.result",
    "VisitChange": "optimizer.urgent_result",
    "Window": "optimizer.model",
    "allocate": "optimizer.allocation",
    "better_elsewhere": "optimizer.reassign",
    "Held": "optimizer.bump",
    "Diversion": "optimizer.bump",
    "Driving": "optimizer.bump",
    "divert": "optimizer.bump",
    "drive_share": "optimizer.bump",
    "point_along": "optimizer.bump",
    "en_route_at": "optimizer.bump",
    "keeps_planned": "optimizer.bump",
    "nearest_driving": "optimizer.bump",
    "MAKE_ROOM_ENGINEERS": "optimizer.bump",
    "DIVERT_ENGINEERS": "optimizer.bump",
    "Room": "optimizer.bump",
    "make_room": "optimizer.bump",
    "nearest_held": "optimizer.bump",
    "wants_room": "optimizer.bump",
    "callout_options": "optimizer.assignment",
    "carry_over": "optimizer.inspections",
    "check_commitments": "optimizer.commitments",
    "clock_cost": "optimizer.penalties",
    "coordinates": "optimizer.world",
    "default_penalties": "optimizer.penalties",
    "diff": "optimizer.diff",
    "earliest_arrival": "optimizer.assignment",
    "engineer_absent": "optimizer.disruptions",
    "free_gap": "optimizer.reserved",
    "haversine_m": "optimizer.travel",
    "heads_home_at": "optimizer.standing",
    "insert_prepared": "optimizer.urgent",
    "insert_urgent": "optimizer.urgent",
    "inspection_visits": "optimizer.inspections",
    "keeps_what_was_planned": "optimizer.reassign",
    "load_road_network": "optimizer.network",
    "parse_maxspeed": "optimizer.network",
    "part_runs_out": "optimizer.disruptions",
    "plan": "optimizer.solve",
    "plan_province": "optimizer.province",
    "planned_cost": "optimizer.reassign",
    "overrun_past": "optimizer.reassign",
    "overrun_ends": "optimizer.overrun",
    "overrun_changes_at": "optimizer.overrun",
    "retimed": "optimizer.reserved",
    "prepare_insertion": "optimizer.urgent",
    "rank_key": "optimizer.assignment",
    "recommend": "optimizer.assignment",
    "replan": "optimizer.replan",
    "replan_disrupted": "optimizer.disruptions",
    "travel_at": "optimizer.travel",
    "ship_at_intake": "optimizer.intake",
    "short_of_slack": "optimizer.validate",
    "sets_off_from": "optimizer.standing",
    "standing_at": "optimizer.standing",
    "swap_in_reach": "optimizer.intake",
    "validate": "optimizer.validate",
    "visit_overruns": "optimizer.disruptions",
    "warm_up": "optimizer.solve",
    "worth_waking": "optimizer.assignment",
}

__all__ = [
    "Baseline",
    "ClockPenalties",
    "Commitment",
    "Committed",
    "DIVERT_ENGINEERS",
    "Depot",
    "DispatchWorld",
    "Disrupted",
    "DisruptionResult",
    "Diversion",
    "Driving",
    "DropReason",
    "Dropped",
    "Engineer",
    "Exclusion",
    "ExclusionReason",
    "Frequency",
    "GUANGDONG_RUSH_HOURS",
    "Gap",
    "GeodesicTravelTimes",
    "Held",
    "Insertion",
    "InspectionPolicy",
    "InspectionSite",
    "InvalidProblemError",
    "Loaner",
    "Location",
    "MAKE_ROOM_ENGINEERS",
    "MatrixTravelTimes",
    "OnCall",
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
    "ProvinceParams",
    "ProvincePlan",
    "RecommendParams",
    "Recommendation",
    "ReservationDiff",
    "Reserved",
    "RoadModel",
    "RoadNetwork",
    "RoadNetworkError",
    "RoadNetworkTravelTimes",
    "Room",
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
    "Unreached",
    "VisitChange",
    "Window",
    "allocate",
    "better_elsewhere",
    "callout_options",
    "carry_over",
    "check_commitments",
    "clock_cost",
    "coordinates",
    "default_penalties",
    "diff",
    "divert",
    "drive_share",
    "earliest_arrival",
    "en_route_at",
    "engineer_absent",
    "free_gap",
    "haversine_m",
    "heads_home_at",
    "insert_prepared",
    "insert_urgent",
    "inspection_visits",
    "keeps_planned",
    "keeps_what_was_planned",
    "load_road_network",
    "make_room",
    "nearest_driving",
    "nearest_held",
    "overrun_changes_at",
    "overrun_ends",
    "overrun_past",
    "parse_maxspeed",
    "part_runs_out",
    "plan",
    "plan_province",
    "planned_cost",
    "point_along",
    "prepare_insertion",
    "rank_key",
    "recommend",
    "replan",
    "replan_disrupted",
    "retimed",
    "sets_off_from",
    "ship_at_intake",
    "short_of_slack",
    "standing_at",
    "swap_in_reach",
    "travel_at",
    "validate",
    "visit_overruns",
    "wants_room",
    "warm_up",
    "worth_waking",
]


# Functions named like their own module: importing `optimizer.diff` (say, from another
# submodule) would otherwise set the package's `diff` to the module and hide the function.
_SHADOWED = frozenset({"diff", "replan", "validate"})


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return  # the submodule stays reachable as sys.modules["optimizer.<name>"]
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
