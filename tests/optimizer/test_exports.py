"""The optimizer's public names are deliberate: a guard like httpx's test_exported_members."""

from __future__ import annotations

import optimizer

EXPECTED = {
    "Depot", "DispatchWorld", "Engineer", "Exclusion", "ExclusionReason", "GeodesicTravelTimes",
    "InvalidProblemError", "Loaner", "Location", "MatrixTravelTimes", "OptimizerError", "Option",
    "PartLine", "PartUse", "PartsPlan", "PartsSource", "Promise", "PromiseCheck",
    "RecommendParams", "Recommendation", "RoadModel", "RoadNetwork", "RoadNetworkError",
    "RoadNetworkTravelTimes", "Suggestion", "SuggestionKind", "Supplier", "Ticket", "TravelTimes",
    "UNREACHABLE", "Unreached", "Window", "coordinates", "earliest_arrival", "haversine_m",
    "load_road_network", "parse_maxspeed", "rank_key", "recommend",
    # route planning (issue 7)
    "DropReason", "Dropped", "PickupOption", "Plan", "PlanKpis", "PlanParams", "PlanQuality",
    "PromiseTally", "Route", "Shipped", "SolverStats", "Stop", "StopKind", "TicketSupply",
    "allocate", "plan", "validate", "warm_up",
    # re-planning with stability (issue 8)
    "Baseline", "Commitment", "Disrupted", "DisruptionResult", "Frequency", "InspectionPolicy",
    "InspectionSite", "Insertion", "PlanDiff", "PromiseState", "ReservationDiff", "RouteDiff",
    "TicketDiff", "VisitChange", "carry_over", "check_commitments", "diff", "engineer_absent",
    "insert_urgent", "inspection_visits", "part_runs_out", "replan", "replan_disrupted",
    "visit_overruns", "PreparedInsertion", "insert_prepared", "prepare_insertion",
    # a price per promise clock (issue 16)
    "ClockPenalties", "clock_cost", "default_penalties",
    # rush hours (issue 16)
    "GUANGDONG_RUSH_HOURS", "ScaledTravelTimes", "SpeedProfile", "TimedTravelTimes", "travel_at",
    # call-outs of on-call engineers (issue 16)
    "OnCall", "callout_options", "worth_waking",
    # plans that survive overruns (issue 16)
    "short_of_slack",
    # a province's day by regions (issue 20)
    "ProvinceParams", "ProvincePlan", "plan_province",
    # re-dispatch of visits not departed yet (issue 16)
    "better_elsewhere", "keeps_what_was_planned", "planned_cost", "overrun_past",
    # committed work as reserved time: the gap before a later visit (issue 16)
    "Committed", "Gap", "Reserved", "free_gap",
    # engineers drive home between shifts (issue 16)
    "heads_home_at", "standing_at",
    # parts shipped at intake (issue 16: ship within 8 h)
    "ship_at_intake", "swap_in_reach",
    # a later shift starts from home (issue 16)
    "sets_off_from",
    # a job on site past its planned end still runs (issue 16)
    "overrun_ends",
    # committed visits pushed behind an overrun; when a cached snapshot's overrun moves
    "retimed", "overrun_changes_at",
    # make room for a new ticket's arrival: move a committed visit that keeps its clocks
    "Held", "MAKE_ROOM_ENGINEERS", "Room", "make_room", "nearest_held", "wants_room",
    "DIVERT_ENGINEERS", "Diversion", "Driving", "divert", "drive_share", "en_route_at",
    "keeps_planned", "nearest_driving", "point_along",
}  # fmt: skip


def test_all_lists_exactly_the_public_api_sorted() -> None:
    assert set(optimizer.__all__) == EXPECTED
    assert optimizer.__all__ == sorted(optimizer.__all__)


def test_every_exported_name_exists_and_belongs_to_the_optimizer() -> None:
    for name in set(optimizer.__all__) - {"UNREACHABLE", "Window"}:  # a constant, an alias
        member = getattr(optimizer, name)
        module = getattr(member, "__module__", "optimizer")
        assert module.startswith("optimizer"), name
