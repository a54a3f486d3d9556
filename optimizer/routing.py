"""The only module that imports OR-Tools: the routing model of a `RoutingProblem`, solved.

Index <-> node: OR-Tools numbers its variables ("indices") differently from our nodes when
vehicles have their own start and end nodes; every crossing goes through the manager
(``NodeToIndex``/``IndexToNode``), and matrices are registered per node.

The model:

- **time** dimension: transit = service at the node + drive; cumul = start of service;
  waiting allowed (slack); node windows ``[earliest, latest]`` (hard), vehicle start in
  ``[depart, close]`` and end by ``close``; a soft upper bound at each visit's ``due``
  weighted by its clocks' lateness share (points per second late: a linear stand-in for
  the penalty of a broken clock, which `optimizer.greedy.route_cost` prices exactly when
  the result is compared), moved earlier by the slack its arrive and fix clocks want
  after another job (`_slack_s`) and at each vehicle's shift end (overtime weight plus his
  overtime rate); the engineer's hourly cost as a span cost;
- **arc cost**: drive seconds x travel weight (plus a distance dimension's span cost for the
  per-km rate when ``cost_weight`` is set);
- **skills**: allowed vehicles per visit and per pickup (a van pickup: its owner only), as
  the domain of the node's vehicle variable (this wheel's ``SetAllowedVehiclesForIndex``
  rejects every Python sequence);
- **pickups**: the alternative pickups of a visit form a disjunction, paired with the visit
  (``AddPickupAndDeliverySets``): same vehicle, pickup first;
- **load** dimension (only when someone has a capacity or a visit a demand): pickups add,
  visits remove; the start cumul is free and the end cumul is 0, so the start load is the
  route's VRP demand and the load is exact everywhere;
- **dedicated engineer**: a per-vehicle unary dimension charging the penalty at visits whose
  dedicated engineer is someone else, paid as a span cost;
- **drops**: each visit is a disjunction with its severity-scaled drop penalty;
- **gap twins**: an engineer's route into his gap before a committed visit and his route
  after his committed work are two vehicles (`RoutingProblem.twin`), at most one active.

OR-Tools is deterministic for a fixed search stopped by a solution limit; a wall-clock limit
makes the result depend on the machine (production only, see `optimizer.solve`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# OR-Tools ships no type hints for its SWIG wrappers.
from ortools.constraint_solver import (  # type: ignore[import-untyped]
    pywrapcp,
    routing_enums_pb2,
)

from optimizer.problem import BIG_LOAD, END, VISIT, RoutingProblem

STATUS = {
    0: "not_solved", 1: "success", 2: "local_optimum_not_reached", 3: "fail", 4: "fail_timeout",
    5: "invalid", 6: "infeasible", 7: "optimal",
}  # fmt: skip
Routes = tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class Improvement:
    """What the search returned: node routes per vehicle, objective and status."""

    routes: Routes
    objective: int
    status: str


def improve(
    p: RoutingProblem,
    initial: Sequence[Sequence[int]] | None,
    *,
    time_limit_ms: int | None,
    solution_limit: int | None,
    on_solution: Callable[[Routes, int], None] | None = None,
) -> Improvement | None:
    """Improve ``initial`` routes with OR-Tools local search.

    Parameters
    ----------
    p
        The problem.
    initial
        Routes (node sequences without start and end) to start from; ``None`` builds a first
        solution with ``params.first_solution_strategy``.
    time_limit_ms, solution_limit
        OR-Tools' own limits (it may overrun the time limit: `optimizer.solve` enforces a
        hard deadline around this call).
    on_solution
        Called with every improving solution (routes, objective) as it is found.

    Returns
    -------
    Improvement or None
        ``None`` when OR-Tools finds no solution.
    """
    manager = pywrapcp.RoutingIndexManager(
        len(p.kind), p.vehicles, [int(s) for s in p.starts], [int(e) for e in p.ends]
    )
    routing = pywrapcp.RoutingModel(manager)
    _time(p, routing, manager)
    _nodes(p, routing, manager)
    _load(p, routing)
    _dedicated(p, routing)
    _twins(p, routing)
    search = _search(p, time_limit_ms, solution_limit)
    if p.params.failure_limit is not None:
        routing.AddSearchMonitor(routing.solver().FailuresLimit(p.params.failure_limit))
    if on_solution is not None:
        best = [np.iinfo(np.int64).max]

        def report() -> None:
            cost = int(routing.CostVar().Value())
            if cost < best[0]:
                best[0] = cost
                on_solution(_routes(p, routing, manager, None), cost)

        routing.AddAtSolutionCallback(report)
    routing.CloseModelWithParameters(search)
    start = None
    if initial is not None:
        indices = [[manager.NodeToIndex(int(n)) for n in r] for r in initial]
        start = routing.ReadAssignmentFromRoutes(indices, True)
    solution = (
        routing.SolveFromAssignmentWithParameters(start, search)
        if start is not None
        else routing.SolveWithParameters(search)
    )
    if solution is None:
        return None
    routes = _routes(p, routing, manager, solution)
    return Improvement(routes, int(solution.ObjectiveValue()), STATUS.get(routing.status(), "?"))


def _routes(p: RoutingProblem, routing: object, manager: object, solution: object) -> Routes:
    out = []
    for v in range(p.vehicles):
        seq = []
        index = routing.Start(v)  # type: ignore[attr-defined]
        while True:
            var = routing.NextVar(index)  # type: ignore[attr-defined]
            index = solution.Value(var) if solution is not None else var.Value()  # type: ignore[attr-defined]
            if routing.IsEnd(index):  # type: ignore[attr-defined]
                break
            seq.append(int(manager.IndexToNode(index)))  # type: ignore[attr-defined]
        out.append(tuple(seq))
    return tuple(out)


def _time(p: RoutingProblem, routing: object, manager: object) -> None:
    r: pywrapcp.RoutingModel = routing
    params = p.params
    transit = (p.seconds + p.service[:, None]).tolist()
    time_cb = r.RegisterTransitMatrix(transit)
    arc = p.seconds * params.travel_weight + p.metres * params.distance_weight
    cost_cb = r.RegisterTransitMatrix(arc.tolist())
    r.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    r.AddDimension(time_cb, p.horizon, p.horizon, False, "time")
    dim = r.GetDimensionOrDie("time")
    for v in range(p.vehicles):
        start, end = r.Start(v), r.End(v)
        dim.CumulVar(start).SetRange(int(p.depart[v]), int(p.close[v]))
        dim.CumulVar(end).SetRange(int(p.depart[v]), int(p.close[v]))
        rate = 0 if p.overtime_cost is None else int(p.overtime_cost[v]) // 3_600
        dim.SetCumulVarSoftUpperBound(
            end, max(0, int(p.shift_end[v])), params.overtime_weight + rate
        )
        dim.SetSpanCostCoefficientForVehicle(int(p.hour_cost[v]) * params.cost_weight // 3_600, v)
    if params.cost_weight and p.km_cost.any():
        dist_cb = r.RegisterTransitMatrix(p.metres.tolist())
        r.AddDimension(dist_cb, 0, int(p.metres.sum()) + 1, True, "distance")
        dist = r.GetDimensionOrDie("distance")
        for v in range(p.vehicles):
            dist.SetSpanCostCoefficientForVehicle(
                int(p.km_cost[v]) * params.cost_weight // 1_000, v
            )
    for node in np.flatnonzero(p.kind > END).tolist():
        index = manager.NodeToIndex(node)  # type: ignore[attr-defined]
        if p.earliest[node] > p.latest[node]:  # e.g. parts arrive after every shift: drop it
            r.VehicleVar(index).SetValues([-1])
            continue
        dim.CumulVar(index).SetRange(int(p.earliest[node]), int(p.latest[node]))
        if p.due[node] >= 0 and p.weight[node] > 0:
            due = max(0, int(p.due[node]) - _slack_s(p, node))
            dim.SetCumulVarSoftUpperBound(index, due, int(p.weight[node]))
    _work_ends(p, r, manager, dim)


def _slack_s(p: RoutingProblem, node: int) -> int:
    """The slack a visit's arrive or fix clock wants (`RoutingProblem.clocks`' margin after
    another job, the policy's ``slack_min``), so OR-Tools searches the model the result is
    judged by (`optimizer.greedy.route_cost`): its soft bound starts that much before
    ``due``. A soft bound cannot see the visit's place in the route, so a free engineer's
    first visit is held to it too; its linear price per second short (the lateness share:
    30 min at 25 %/h is 12.5 % of the penalty) stands in for the at-risk share."""
    if p.clocks is None:
        return 0
    row = p.clocks[node]
    return int(row[9]) if row[1] > 0 or row[3] > 0 else 0


def _work_ends(p: RoutingProblem, r: pywrapcp.RoutingModel, manager: object, dim: Any) -> None:
    """Every service ends within its vehicle's working time, not in the drive home after it.

    Only needed where a vehicle's route may end later than its working time (he starts far
    from home near the end of his shift): then each node's service end is bounded by the
    serving vehicle's work end (an element constraint on its vehicle variable).
    """
    work = p.work_ends()
    if not (work < p.close).any():
        return
    solver = r.solver()
    bounds = [int(p.horizon), *(int(w) for w in work.tolist())]  # [0]: not served
    for node in np.flatnonzero(p.kind > END).tolist():
        if p.earliest[node] > p.latest[node]:
            continue
        index = manager.NodeToIndex(node)  # type: ignore[attr-defined]
        served_by = (r.VehicleVar(index) + 1).Var()
        solver.Add(dim.CumulVar(index) + int(p.service[node]) <= solver.Element(bounds, served_by))


def _nodes(p: RoutingProblem, routing: object, manager: object) -> None:
    """Allowed vehicles, drop disjunctions and pickup-and-delivery sets."""
    r: pywrapcp.RoutingModel = routing
    for node in np.flatnonzero(p.kind > END).tolist():
        if p.allowed[node] and p.earliest[node] <= p.latest[node]:
            index = manager.NodeToIndex(node)  # type: ignore[attr-defined]
            r.VehicleVar(index).SetValues([-1, *p.allowed[node]])  # -1: dropped
    for node in np.flatnonzero(p.kind == VISIT).tolist():
        index = manager.NodeToIndex(node)  # type: ignore[attr-defined]
        visit = r.AddDisjunction([index], int(p.drop[node]), 1)
        picks = p.pickups.get(node, ())
        if picks:
            indices = [manager.NodeToIndex(n) for n in picks]  # type: ignore[attr-defined]
            pick = r.AddDisjunction(indices, 0, 1)
            r.AddPickupAndDeliverySets(pick, visit)


def _load(p: RoutingProblem, routing: object) -> None:
    r: pywrapcp.RoutingModel = routing
    capped = (p.capacity < BIG_LOAD).any()
    if not capped and not (p.load < 0).any():
        return
    cb = r.RegisterUnaryTransitVector(p.load.tolist())
    caps = [int(min(c, BIG_LOAD)) for c in p.capacity]
    r.AddDimensionWithVehicleCapacity(cb, 0, caps, False, "load")
    dim = r.GetDimensionOrDie("load")
    for v in range(p.vehicles):
        dim.CumulVar(r.End(v)).SetRange(0, 0)


def _dedicated(p: RoutingProblem, routing: object) -> None:
    r: pywrapcp.RoutingModel = routing
    if not any(p.preferred[n] for n in p.visits.tolist()):
        return
    vectors: dict[tuple[int, ...], int] = {}
    evaluators = []
    for v in range(p.vehicles):
        vec = tuple(p.dedicated_cost(n, v) if p.kind[n] == VISIT else 0 for n in range(len(p.kind)))
        if vec not in vectors:
            vectors[vec] = r.RegisterUnaryTransitVector(list(vec))
        evaluators.append(vectors[vec])
    total = p.params.dedicated_penalty * len(p.visits) + 1
    r.AddDimensionWithVehicleTransits(evaluators, 0, total, True, "dedicated")
    r.GetDimensionOrDie("dedicated").SetSpanCostCoefficientForAllVehicles(1)


def _twins(p: RoutingProblem, routing: object) -> None:
    """An engineer's gap route and his route after committed work: at most one is used."""
    r: pywrapcp.RoutingModel = routing
    if p.twin is None:
        return
    solver = r.solver()
    for a, b in enumerate(p.twin.tolist()):
        if a < b:
            solver.Add(r.ActiveVehicleVar(a) + r.ActiveVehicleVar(b) <= 1)


def _search(p: RoutingProblem, time_limit_ms: int | None, solution_limit: int | None) -> object:
    params = p.params
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, params.first_solution_strategy
    )
    search.local_search_metaheuristic = getattr(
        routing_enums_pb2.LocalSearchMetaheuristic, params.metaheuristic
    )
    if time_limit_ms is not None:
        search.time_limit.FromMilliseconds(max(1, time_limit_ms))
    if solution_limit is not None:
        search.solution_limit = solution_limit
    return search
