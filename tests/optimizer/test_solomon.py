"""The Solomon benchmark's reader, DIMACS distance, exact checker and a feasibility smoke test.

The data live outside the repository (``../shared/benchmarks/solomon``, or
``$SPARES_SOLOMON_DIR``); without them every test here skips and says why. No gap and no
time is asserted: quality is measured by ``spares bench solomon`` (see BENCHMARKS.md).
"""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from pathlib import Path

import pytest

from optimizer import PlanParams, plan, validate, warm_up
from optimizer.allocation import allocate
from optimizer.problem import build_problem, vehicles_of
from optimizer.ruin import applies
from optimizer.solomon import (
    SCALE,
    SolomonInstance,
    check_routes,
    dimacs_distance,
    distance_params,
    exact_distance,
    parse_instance,
    parse_solution,
    to_model,
)

DIR = Path(
    os.environ.get("SPARES_SOLOMON_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "solomon"
)
pytestmark = pytest.mark.skipif(
    not (DIR / "instances").is_dir(),
    reason=f"Solomon data not found at {DIR} (set SPARES_SOLOMON_DIR to the shared folder)",
)


def _instance(name: str) -> SolomonInstance:
    return parse_instance((DIR / "instances" / f"{name}.vrp").read_text())


def _bks_routes(name: str) -> tuple[tuple[int, ...], ...]:
    routes, _ = parse_solution((DIR / "bks_routes_dimacs" / f"{name}.sol").read_text())
    return routes


def _bks_rows() -> dict[str, dict[str, str]]:
    with (DIR / "bks_dimacs.csv").open(newline="") as f:
        return {r["instance"]: r for r in csv.DictReader(f)}


class TestReader:
    def test_c101_has_100_customers_capacity_200_and_25_vehicles(self) -> None:
        inst = _instance("C101")
        assert (inst.name, inst.customers, inst.capacity, inst.vehicles) == ("C101", 100, 200, 25)
        assert tuple(inst.xy[0]) == (40.0, 50.0)  # node 1 of the file is the depot
        assert (inst.ready[0], inst.due[0], inst.service[0]) == (0.0, 1236.0, 0.0)
        assert inst.service[1] == 90.0
        assert inst.demand[1] == 10

    def test_solution_file_routes_and_cost(self) -> None:
        routes, cost = parse_solution((DIR / "bks_routes_dimacs" / "C101.sol").read_text())
        assert len(routes) == 10
        assert cost == 827.3
        assert sorted(c for r in routes for c in r) == list(range(1, 101))

    def test_missing_section_names_it(self) -> None:
        with pytest.raises(ValueError, match="DEMAND_SECTION"):
            parse_instance("NAME : X\nVEHICLES : 1\nCAPACITY : 1\nNODE_COORD_SECTION\n1 0 0\n")


class TestDimacsDistance:
    def test_c101_bks_routes_measure_the_csv_distance(self) -> None:
        # Each arc truncated to one decimal, then summed: 827.3, the `distance` column.
        assert dimacs_distance(_instance("C101"), _bks_routes("C101")) == 827.3

    def test_every_bks_route_set_measures_its_csv_distance(self) -> None:
        for name, row in _bks_rows().items():
            inst, routes = _instance(name), _bks_routes(name)
            assert dimacs_distance(inst, routes) == pytest.approx(float(row["distance"]), abs=1e-6)
            assert exact_distance(inst, routes) == pytest.approx(
                float(row["distance_float"]), abs=5e-3
            )


class TestCheckRoutes:
    def test_bks_routes_of_c101_are_feasible_with_exact_times(self) -> None:
        assert check_routes(_instance("C101"), _bks_routes("C101")) == []

    def test_r102_bks_is_late_with_exact_times(self) -> None:
        # feasible_float = 0: feasible only with truncated travel times; exact is late by < 0.5.
        problems = check_routes(_instance("R102"), _bks_routes("R102"))
        assert len(problems) == 1
        assert "starts at" in problems[0]

    def test_a_reversed_route_breaks_a_time_window(self) -> None:
        routes = list(_bks_routes("C101"))
        routes[0] = tuple(reversed(routes[0]))
        assert any("due" in p for p in check_routes(_instance("C101"), routes))

    def test_a_missing_customer_is_reported(self) -> None:
        routes = list(_bks_routes("C101"))
        routes[0] = routes[0][1:]
        assert any("served 0 times" in p for p in check_routes(_instance("C101"), routes))

    def test_one_route_for_everyone_breaks_the_capacity(self) -> None:
        everyone = (tuple(c for r in _bks_routes("C101") for c in r),)
        assert any("over capacity" in p for p in check_routes(_instance("C101"), everyone))


class TestMapping:
    def test_times_are_scaled_and_travel_rounds_up(self) -> None:
        inst = _instance("C101")
        model = to_model(inst)
        assert len(model.world.engineers) == 25
        assert len(model.tickets) == 100
        assert model.world.engineers[0].capacity == 200
        t = model.tickets[0]
        assert (t.not_before, t.arrive_by, t.service_s, t.demand) == (
            int(inst.ready[1]) * SCALE, int(inst.due[1]) * SCALE, 90 * SCALE, 10,
        )  # fmt: skip
        pts = [[loc.lat, loc.lon] for loc in (model.world.engineers[0].location, t.site)]
        seconds, metres = model.travel.matrix(pts, pts)
        # Depot (40, 50) to customer 1 (45, 68): sqrt(349) = 18.68154, up 186,816; DIMACS 18.6.
        # x 10^4 rounded up: 186,816; DIMACS 18.6 x 10^4: 186,000.
        assert int(seconds[0, 1]) == 186_816
        assert int(metres[0, 1]) == 186_000

    def test_the_distance_objective_switches_time_off(self) -> None:
        params = distance_params(PlanParams())
        assert (params.travel_weight, params.distance_weight) == (0, 1)
        assert PlanParams().distance_weight == 0  # real tickets: unchanged


@pytest.mark.parametrize("name", ["C101", "R101", "RC101"])
def test_smoke_plan_is_feasible(name: str) -> None:
    inst = _instance(name)
    model = to_model(inst)
    params = distance_params(
        PlanParams(time_limit_ms=None, solution_limit=20, failure_limit=2_000, seed=1)
    )
    result = plan(model.world, model.tickets, now=0, travel=model.travel, params=params)
    routes = [tuple(s.ticket_id for s in r.visits) for r in result.routes]
    assert validate(model.world, model.tickets, result, travel=model.travel) == []
    assert check_routes(inst, routes) == []
    assert not result.dropped


class TestRuinRecreate:
    def _params(self, **changes: object) -> PlanParams:
        base = PlanParams(time_limit_ms=None, failure_limit=1, ruin_recreate=True, seed=3)
        return distance_params(replace(base, **changes))  # type: ignore[arg-type]

    def test_same_seed_and_iterations_give_the_same_plan(self) -> None:
        model = to_model(_instance("R101"))
        params = self._params(ruin_iterations=150)
        first, second = (
            plan(model.world, model.tickets, now=0, travel=model.travel, params=params)
            for _ in range(2)
        )
        assert [r.stops for r in first.routes] == [r.stops for r in second.routes]

    def test_it_never_makes_the_greedy_plan_longer(self) -> None:
        inst = _instance("RC101")
        model = to_model(inst)
        greedy = plan(
            model.world, model.tickets, now=0, travel=model.travel,
            params=self._params(time_limit_ms=0),
        )  # fmt: skip
        better = plan(
            model.world, model.tickets, now=0, travel=model.travel,
            params=self._params(ruin_iterations=150),
        )  # fmt: skip
        assert (
            check_routes(inst, [tuple(s.ticket_id for s in r.visits) for r in better.routes]) == []
        )
        assert better.kpis.travel_m <= greedy.kpis.travel_m

    def test_route_removal_steps_keep_the_plan_feasible_and_no_longer(self) -> None:
        inst = _instance("C206")
        model = to_model(inst)
        greedy = plan(
            model.world, model.tickets, now=0, travel=model.travel,
            params=self._params(time_limit_ms=0),
        )  # fmt: skip
        better = plan(
            model.world, model.tickets, now=0, travel=model.travel,
            params=self._params(ruin_iterations=150, ruin_route_removal=0.5),
        )  # fmt: skip
        routes = [tuple(s.ticket_id for s in r.visits) for r in better.routes]
        assert check_routes(inst, routes) == []
        assert validate(model.world, model.tickets, better, travel=model.travel) == []
        assert better.kpis.travel_m <= greedy.kpis.travel_m

    def test_route_removal_share_is_a_probability(self) -> None:
        with pytest.raises(ValueError, match="ruin_route_removal"):
            PlanParams(ruin_route_removal=1.5)

    def test_it_applies_only_to_the_plain_time_window_model(self) -> None:
        model = to_model(_instance("C101"))
        params = self._params()
        vehicles = vehicles_of(model.world, 0, params)
        keep = list(model.tickets)
        supplies = allocate(model.world, keep, now=0, travel=model.travel, params=params)
        allowed = [tuple(range(len(vehicles)))] * len(keep)
        args = (model.world, keep, supplies, vehicles, allowed)
        p = build_problem(*args, now=0, travel=model.travel, params=params)
        assert applies(p)
        # One soft promise (a due time with a weight) is not plain time windows any more.
        soft = replace(keep[0], hard_arrival=False)
        p = build_problem(
            model.world, [soft, *keep[1:]], supplies, vehicles, allowed, now=0,
            travel=model.travel, params=params,
        )  # fmt: skip
        assert not applies(p)

    def test_a_plan_with_a_limit_after_warm_up_is_feasible_and_no_longer(self) -> None:
        # the search children of a warmed-up process server run the compiled `optimizer.sisr`
        warm_up()
        inst = _instance("R211")
        model = to_model(inst)
        greedy = plan(
            model.world, model.tickets, now=0, travel=model.travel,
            params=self._params(time_limit_ms=0),
        )  # fmt: skip
        limited = plan(
            model.world, model.tickets, now=0, travel=model.travel,
            params=self._params(time_limit_ms=1_500, ruin_route_removal=0.1, workers=2),
        )  # fmt: skip
        routes = [tuple(s.ticket_id for s in r.visits) for r in limited.routes]
        assert check_routes(inst, routes) == []
        assert validate(model.world, model.tickets, limited, travel=model.travel) == []
        assert not limited.dropped
        assert limited.kpis.travel_m <= greedy.kpis.travel_m
