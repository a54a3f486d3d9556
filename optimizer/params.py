"""`RecommendParams` and `PlanParams`: the knobs of the solver, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo


@dataclass(frozen=True, slots=True)
class RecommendParams:
    """Parameters of `optimizer.recommend`.

    Parameters
    ----------
    max_options
        How many ranked options to return (>= 1).
    pick_s
        Time to pick parts at a depot counter, for depots without their own ``pick_s``.
    ship_within_s
        The ship promise: a part not picked up leaves a source within this time of the
        ticket's ``reported_at`` (default 8 h).
    overtime_s
        When set, every engineer's allowed overtime (a what-if); otherwise each engineer's own.
    max_travel_s
        Engineers whose straight drive to the site is longer are excluded as too far.
    zone
        The time zone the explanations' texts state their times in (the reader's local
        time); ``None`` keeps the zone of the world's ``epoch``.
    """

    max_options: int = 5
    pick_s: int = 600
    ship_within_s: int = 8 * 3_600
    overtime_s: int | None = None
    max_travel_s: int = 6 * 3_600
    zone: tzinfo | None = None

    def __post_init__(self) -> None:
        if self.max_options < 1:
            raise ValueError(f"max_options: must be >= 1, got {self.max_options}")
        for name in ("pick_s", "ship_within_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if self.overtime_s is not None and self.overtime_s < 0:
            raise ValueError(f"overtime_s: must be >= 0, got {self.overtime_s}")
        if self.max_travel_s <= 0:
            raise ValueError(f"max_travel_s: must be > 0, got {self.max_travel_s}")


FIRST_SOLUTION_STRATEGIES = (
    "AUTOMATIC",
    "PATH_CHEAPEST_ARC",
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SAVINGS",
    "CHRISTOFIDES",
)
METAHEURISTICS = (
    "AUTOMATIC",
    "GREEDY_DESCENT",
    "GUIDED_LOCAL_SEARCH",
    "SIMULATED_ANNEALING",
    "TABU_SEARCH",
)


@dataclass(frozen=True, slots=True)
class PlanParams:
    """Parameters of `optimizer.plan`: stopping, objective weights and sourcing.

    Parameters
    ----------
    time_limit_ms
        Hard wall-clock limit of the improvement (production): the OR-Tools search runs in a
        child process that is stopped at this deadline; the best plan found so far (at worst
        the greedy plan) is returned. ``0`` skips the improvement. ``None``: no wall-clock
        limit (tests stop on ``solution_limit`` instead, which is deterministic).
    solution_limit
        Stop the search after this many improving solutions (deterministic); ``None``: none.
    failure_limit
        Stop the search after this many rejected moves (deterministic). Guided local search
        never stops by itself, and on a small problem it may find no further solution at
        all, so a run without a wall-clock limit needs this one.
    seed
        Breaks ties between equally urgent tickets in the greedy construction; the same seed
        and inputs give the same plan when the search stops on ``solution_limit``.
    first_solution_strategy
        OR-Tools first-solution strategy, used only when the greedy routes are not accepted.
    metaheuristic
        OR-Tools local-search metaheuristic (default guided local search).
    severity_weights
        Objective points per second late, by ``Ticket.severity_rank`` (0 = most severe;
        higher ranks take the last weight). Must not increase.
    travel_weight, overtime_weight, cost_weight
        Points per second of driving, per second past a shift's end, and per minor currency
        unit of engineer cost (hour and km rates).
    distance_weight
        Points per metre driven (default 0: distance counts only through ``cost_weight``).
        With ``travel_weight=0`` and no soft promises the objective is pure distance, as in
        the Solomon benchmark (`optimizer.solomon`).
    dedicated_penalty
        Points charged when a ticket with a dedicated engineer is served by someone else.
    drop_penalty
        Points for leaving a ticket of the least severe rank unserved; scaled up by the
        severity weights. Keep it above any lateness so that a drop is the last resort.
    hard_deadlines
        Every ``arrive_by`` is hard (as if each ticket had ``hard_arrival``).
    pick_s
        Pick time at depots without their own ``pick_s``.
    ship_within_s
        The ship promise of tickets without their own (`Ticket.ship_within_s`, the
        contract's): each shipment carries its ``ship_by``, and the allocation ranks a
        shipment that leaves after it below every one that keeps it.
    pickup_radius_s
        Depots farther from the site than this ship instead of being visited.
    max_alternatives
        Alternative pickup sources kept per ticket (each holds its units; see `allocate`).
    overtime_s
        When set, every engineer's allowed overtime; otherwise each engineer's own.
    greedy_candidates
        Nearest qualified engineers the greedy construction tries per ticket.
    ruin_recreate
        Improve with ruin and recreate instead of OR-Tools' guided local search: the
        compiled SISR of `optimizer.sisr` on the plain time-window model (the Solomon
        benchmark; the vectorised `optimizer.ruin` in a process server started without
        `optimizer.warm_up`), `optimizer.search` on every other problem (skills, pickups, soft
        promises, costs, overtime, locks). ``False``: OR-Tools (the cross-check).
    ruin_route_removal
        Share of ruin-and-recreate steps that remove a whole (short) route and reinsert its
        visits into the other routes (fewer routes on long-route instances such as C2).
    ruin_iterations
        Ruin-and-recreate steps without a wall-clock limit (deterministic).
    ruin_patience
        Under a wall-clock limit, the least number of steps without a new best plan after
        which `optimizer.search` stops (a small plan need not use its whole limit); see
        ``ruin_patience_early`` for the count a plan of many visits waits.
    ruin_patience_after
        Share of the wall-clock limit past which ``ruin_patience`` alone (not the count per
        visit) stops the search. Default 1: never. Its temperature falls with the share of
        the limit used, so a search stopped at a share is still warm: at 0.5, 200-ticket
        plans stopped at 5 s of 10 s at -2.1..-6.1 % travel against OR-Tools on one seed,
        where running on reached -6.0..-8.5 % (issue 20, BENCHMARKS.md). 0: the flat count
        from the start (before issue 20 a search stopped after a few hundred ms of 10 s).
    ruin_patience_early
        Steps without a new best, per visit to plan (at least ``ruin_patience``), that stop
        the search before ``ruin_patience_after``: a plan with little to search (one
        ticket, a few dozen) returns at once instead of waiting for its limit, while a
        larger one searches on while it cools.
    ruin_cooling
        Steps per visit to plan (at least ``ruin_patience``, and half the steps already
        made) over which a search that a patience count would stop still hot cools to its
        final temperature instead; then ``ruin_patience`` steps without a new best stop it.
        0: it stops at once, hot (200-ticket plans at 20 s stopped so at 3.8-14.7 s, one at
        169 h of travel where the whole limit gives 150-157 h; issue 20, BENCHMARKS.md).
    workers
        Searches run in parallel under a wall-clock limit (seeds ``seed``, ``seed + 1``,
        ...); the best plan wins. Ruin and recreate only; OR-Tools runs one search.
    """

    time_limit_ms: int | None = 10_000
    solution_limit: int | None = None
    failure_limit: int | None = None
    seed: int = 0
    first_solution_strategy: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    severity_weights: tuple[int, ...] = (10_000, 1_000, 100)
    travel_weight: int = 1
    overtime_weight: int = 2
    cost_weight: int = 0
    distance_weight: int = 0
    dedicated_penalty: int = 1_800
    drop_penalty: int = 10**9
    hard_deadlines: bool = False
    pick_s: int = 600
    ship_within_s: int = 8 * 3_600
    pickup_radius_s: int = 3 * 3_600
    max_alternatives: int = 3
    overtime_s: int | None = None
    greedy_candidates: int = 12
    ruin_recreate: bool = True
    ruin_iterations: int = 2_000
    ruin_route_removal: float = 0.0
    ruin_patience: int = 2_000
    ruin_patience_after: float = 1.0
    ruin_patience_early: int = 100
    ruin_cooling: int = 50
    workers: int = 1

    def __post_init__(self) -> None:
        if self.time_limit_ms is not None and self.time_limit_ms < 0:
            raise ValueError(f"time_limit_ms: must be >= 0, got {self.time_limit_ms}")
        for name in ("solution_limit", "failure_limit"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.time_limit_ms is None and self.failure_limit is None:
            raise ValueError("failure_limit: required without a wall-clock limit")
        if self.first_solution_strategy not in FIRST_SOLUTION_STRATEGIES:
            raise ValueError(f"first_solution_strategy: one of {FIRST_SOLUTION_STRATEGIES}")
        if self.metaheuristic not in METAHEURISTICS:
            raise ValueError(f"metaheuristic: one of {METAHEURISTICS}")
        weights = self.severity_weights
        if not weights or min(weights) < 1 or list(weights) != sorted(weights, reverse=True):
            raise ValueError("severity_weights: must be >= 1 and must not increase")
        for name in (
            "travel_weight", "overtime_weight", "cost_weight", "distance_weight",
            "dedicated_penalty", "pick_s",
            "ship_within_s", "pickup_radius_s",
        ):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        for name in (
            "drop_penalty", "max_alternatives", "greedy_candidates", "ruin_iterations",
            "ruin_patience", "ruin_patience_early", "workers",
        ):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.ruin_cooling < 0:
            raise ValueError(f"ruin_cooling: must be >= 0, got {self.ruin_cooling}")
        if not 0.0 <= self.ruin_patience_after <= 1.0:
            raise ValueError(f"ruin_patience_after: in [0, 1], got {self.ruin_patience_after}")
        if not 0.0 <= self.ruin_route_removal <= 1.0:
            raise ValueError(f"ruin_route_removal: in [0, 1], got {self.ruin_route_removal}")
        if self.overtime_s is not None and self.overtime_s < 0:
            raise ValueError(f"overtime_s: must be >= 0, got {self.overtime_s}")

    def weight(self, severity_rank: int) -> int:
        """Return the points per second late of a severity rank."""
        return self.severity_weights[min(max(severity_rank, 0), len(self.severity_weights) - 1)]

    def drop_cost(self, severity_rank: int) -> int:
        """Return the points for dropping a ticket of a severity rank."""
        return self.drop_penalty * (self.weight(severity_rank) // self.severity_weights[-1])
