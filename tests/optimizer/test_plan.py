"""Route planning rules, one small world per rule (grid travel: one step = 1 min, 1 km).

Every plan returned by `plan` has been through the independent validator; each test also
asserts it found nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from optimizer import (
    DropReason,
    Engineer,
    Plan,
    PlanParams,
    PlanQuality,
    StopKind,
    Ticket,
    allocate,
    plan,
    recommend,
    validate,
)
from optimizer.world import DispatchWorld
from tests.optimizer.builders import (
    HOUR,
    grid,
    grid_travel,
    make_depot,
    make_engineer,
    make_supplier,
    make_ticket,
    make_world,
)

TRAVEL = grid_travel()
SEARCH = PlanParams(time_limit_ms=None, solution_limit=50, failure_limit=2_000)


def _plan(world: DispatchWorld, tickets: list[Ticket], **kw: object) -> Plan:
    params = replace(SEARCH, **kw) if kw else SEARCH
    out = plan(world, tickets, now=0, travel=TRAVEL, params=params)
    assert out.is_feasible(), out.violations
    return out


def _served_by(p: Plan) -> dict[int, int]:
    return {s.ticket_id: r.engineer_id for r in p.routes for s in r.visits}


def _drop(p: Plan, ticket_id: int) -> DropReason:
    return next(d.reason for d in p.dropped if d.ticket_id == ticket_id)


class TestVehicles:
    def test_an_engineer_without_the_skill_never_gets_the_ticket(self) -> None:
        # engineer 1 is 3 min away but has server level 1 < 2; engineer 2 is 12 min away
        world = make_world(
            [make_engineer(1, (3, 0), skills={"server": 1}), make_engineer(2, (9, 9))]
        )
        assert _served_by(_plan(world, [make_ticket((3, 3))])) == {1: 2}

    def test_an_engineer_whose_shift_is_over_is_not_used(self) -> None:
        near = make_engineer(1, (3, 2), shifts=((-8 * HOUR, -HOUR),))
        world = make_world([near, make_engineer(2, (9, 9))])
        assert _served_by(_plan(world, [make_ticket((3, 3))])) == {1: 2}

    def test_an_absent_engineer_is_not_used(self) -> None:
        near = make_engineer(1, (3, 2), absences=((-HOUR, 4 * HOUR),))
        world = make_world([near, make_engineer(2, (9, 9))])
        assert _served_by(_plan(world, [make_ticket((3, 3))])) == {1: 2}

    def test_work_after_an_absence_is_planned_after_it(self) -> None:
        # absent 0-1 h: the visit 1 min away starts after 1 h, not before
        world = make_world([make_engineer(1, (3, 2), absences=((-HOUR, HOUR),))])
        visit = _plan(world, [make_ticket((3, 3))]).routes[0].visits[0]
        assert visit.arrives_at >= HOUR

    @pytest.mark.parametrize(
        "how",
        [{}, {"time_limit_ms": 0}, {"ruin_recreate": True, "ruin_iterations": 200}],
        ids=["or-tools", "greedy", "ruin-and-recreate"],
    )
    def test_no_work_in_the_drive_home_after_the_shift(self, how: dict[str, object]) -> None:
        # Busy 8 min from home until 5 min before his shift ends (no overtime): his route may
        # end 3 min after the shift (the drive home), but no visit may start in that time,
        # not even a zero-length one at his home's door.
        def engineer(free: int) -> Engineer:
            return make_engineer(
                1, (0, 0), shifts=((0, HOUR),), overtime_s=0, busy_until=free,
                busy_location=grid(8, 0),
            )  # fmt: skip

        door = make_ticket((0, 0), service_s=0, arrive_by=None, fix_by=None)
        late = _plan(make_world([engineer(HOUR - 300)]), [door], **how)
        assert _drop(late, 1) is DropReason.NO_ROOM
        early = _plan(make_world([engineer(HOUR - 900)]), [door], **how)
        assert _served_by(early) == {1: 1}  # home by the shift's end: served

    def test_van_capacity_is_never_exceeded(self) -> None:
        # capacity 1: two part pickups cannot ride together
        world = make_world(
            [make_engineer(1, (0, 0), capacity=1)], [make_depot(1, (1, 1), stock={10: 5})]
        )
        tickets = [
            make_ticket((5, 5), ticket_id=1, parts=[(10, 1)]),
            make_ticket((6, 6), ticket_id=2, parts=[(10, 1)]),
        ]
        p = _plan(world, tickets)
        assert max(s.load for r in p.routes for s in r.stops) <= 1
        assert p.kpis.served == 2


class TestParts:
    def test_a_pickup_comes_before_its_visit_on_the_same_route(self) -> None:
        world = make_world(
            [make_engineer(1, (0, 0))],
            [make_depot(1, (1, 1), stock={10: 1}), make_depot(2, (2, 1), stock={10: 1})],
        )
        p = _plan(world, [make_ticket((4, 4), parts=[(10, 1)])])
        kinds = [(s.kind, s.depot_id) for s in p.routes[0].stops]
        assert kinds[0][0] is StopKind.PICKUP
        assert kinds[0][1] in (1, 2)
        assert kinds[1] == (StopKind.VISIT, None)

    def test_alternative_depots_are_offered_when_stock_allows(self) -> None:
        world = make_world(
            [make_engineer(1)],
            [make_depot(1, (1, 1), stock={10: 1}), make_depot(2, (2, 1), stock={10: 1})],
        )
        supply = allocate(
            world, [make_ticket(parts=[(10, 1)])], now=0, travel=TRAVEL, params=SEARCH
        )
        assert {o.depot_id for o in supply[1].pickups} == {1, 2}

    def test_a_shipped_part_sets_the_earliest_start(self) -> None:
        # only a supplier has part 10: 1 h lead + 2 h transit, so service starts at 3 h
        world = make_world([make_engineer(1)], suppliers=[make_supplier(parts={10: 5})])
        visit = _plan(world, [make_ticket(parts=[(10, 1)])]).routes[0].visits[0]
        assert visit.starts_at == 3 * HOUR
        assert visit.shipped[0].supplier_id == 1

    def test_the_flow_never_plans_one_unit_twice(self) -> None:
        # one unit at depot 1, three tickets want it: exactly one may pick it up
        world = make_world([make_engineer(1)], [make_depot(1, (1, 1), stock={10: 1})])
        tickets = [make_ticket((i, 3), ticket_id=i, parts=[(10, 1)]) for i in (1, 2, 3)]
        supply = allocate(world, tickets, now=0, travel=TRAVEL, params=SEARCH)
        held = sum(u.qty for s in supply.values() for o in s.pickups for u in o.uses)
        assert held == 1
        p = _plan(world, tickets)
        assert p.kpis.served == 1
        assert {d.reason for d in p.dropped} == {DropReason.NO_STOCK}

    def test_two_lines_on_the_same_part_are_counted_together(self) -> None:
        # Found by hypothesis. Ticket 4 wants 2 x part 10 (or 12, or 11) and 2 x part 11 (or
        # 12). Depot 2 has 3 x 11: each line alone fits there, both together (4 x 11) do
        # not, so it may not be offered as a pickup holding both.
        engineer = make_engineer(1, (0, 0), skills={"server": 1}, shifts=((0, 60),))
        depots = [
            make_depot(1, (0, 0), stock={10: 2, 11: 2}, opening=((7_200, 21_600),)),
            make_depot(2, (0, 0), stock={10: 1, 11: 3, 12: 2}),
        ]

        def ticket(tid: int, rank: int, parts: list[tuple[int, int]], **subs: object) -> Ticket:
            return make_ticket(
                (0, 0), ticket_id=tid, skills={"server": 1}, service_s=0, arrive_by=None,
                fix_by=None, severity_rank=rank, parts=parts, **subs,
            )  # fmt: skip

        tickets = [
            ticket(1, 1, []),
            ticket(2, 2, [(10, 2)], substitutes={10: (12,)}),
            ticket(3, 0, [(10, 1), (11, 1)]),
            ticket(4, 1, [(10, 2), (11, 2)], substitutes={10: (12, 11), 11: (12,)}),
        ]
        world = make_world([engineer], depots)
        supply = allocate(world, tickets, now=0, travel=TRAVEL, params=SEARCH)
        stock = {d.id: d.stock for d in depots}
        for option in (o for s in supply.values() for o in s.pickups):
            held: dict[int, int] = {}
            for use in option.uses:
                held[use.part_id] = held.get(use.part_id, 0) + use.qty
            assert option.depot_id is not None
            assert all(q <= stock[option.depot_id].get(part, 0) for part, q in held.items())
        p = plan(world, tickets, now=0, travel=TRAVEL, params=SEARCH)
        assert p.violations == ()

    def test_a_recommendation_counts_two_lines_on_one_part_together(self) -> None:
        # The near depot has 3 x part 11 and no 10; the ticket wants 2 x 10 (or 11) and
        # 2 x 11: only the far depot holds both lines at once.
        world = make_world(
            [make_engineer(1, (0, 0))],
            [make_depot(1, (1, 0), stock={11: 3}), make_depot(2, (0, 6), stock={10: 2, 11: 2})],
        )
        t = make_ticket((2, 0), parts=[(10, 2), (11, 2)], substitutes={10: (11,)})
        (option, *_) = recommend(world, t, now=0, travel=TRAVEL).options
        assert option.parts.depot_id == 2
        assert sorted((u.part_id, u.qty) for u in option.parts.uses) == [(10, 2), (11, 2)]

    def test_scarce_stock_goes_to_the_most_severe_ticket(self) -> None:
        world = make_world([make_engineer(1)], [make_depot(1, (1, 1), stock={10: 1})])
        tickets = [
            make_ticket((2, 3), ticket_id=1, parts=[(10, 1)], severity_rank=2),
            make_ticket((3, 2), ticket_id=2, parts=[(10, 1)], severity_rank=0),
        ]
        supply = allocate(world, tickets, now=0, travel=TRAVEL, params=SEARCH)
        assert supply[2].pickups
        assert supply[1].missing == (10,)

    def test_van_stock_is_used_first(self) -> None:
        world = make_world(
            [make_engineer(1, van_stock={10: 1})], [make_depot(1, (1, 1), stock={10: 1})]
        )
        supply = allocate(
            world, [make_ticket(parts=[(10, 1)])], now=0, travel=TRAVEL, params=SEARCH
        )
        assert supply[1].pickups[0].van_of == 1


class TestShipPromise:
    """The ship promise is per ticket (its contract's policy), else the params' default."""

    def _world(self) -> DispatchWorld:
        # supplier 1 leaves at 5 h and arrives at 6 h; supplier 2 leaves at 1 h, arrives at 7 h
        return make_world(
            [make_engineer(1, shifts=((0, 12 * HOUR),))],
            suppliers=[
                make_supplier(1, parts={10: 5}, lead_s=5 * HOUR, transit_s=HOUR),
                make_supplier(2, parts={10: 5}, lead_s=HOUR, transit_s=6 * HOUR),
            ],
        )

    def _shipped(self, ticket: Ticket) -> tuple[int | None, int | None]:
        p = _plan(self._world(), [ticket])
        sh = p.routes[0].visits[0].shipped[0]
        return sh.supplier_id, sh.ship_by

    def test_a_4_hour_contract_ships_by_4_hours_after_the_report(self) -> None:
        # reported at 0:30, 4 h promise: ship by 4:30, which only supplier 2 (1 h) keeps
        t = make_ticket(parts=[(10, 1)], reported_at=1_800, ship_within_s=4 * HOUR,
                        arrive_by=None, fix_by=None)  # fmt: skip
        assert self._shipped(t) == (2, 1_800 + 4 * HOUR)

    def test_without_its_own_promise_the_params_8_hours_apply(self) -> None:
        # ship by 8:30: both keep it, supplier 1 arrives first
        t = make_ticket(parts=[(10, 1)], reported_at=1_800, arrive_by=None, fix_by=None)
        assert self._shipped(t) == (1, 1_800 + 8 * HOUR)

    def test_the_ship_promise_is_in_the_plan_json(self) -> None:
        t = make_ticket(parts=[(10, 1)], ship_within_s=4 * HOUR, arrive_by=None, fix_by=None)
        data = _plan(self._world(), [t]).to_dict()
        shipped = data["routes"][0]["stops"][0]["shipped"][0]
        assert shipped["ship_by"].startswith("2026-11-02T05:00")  # EPOCH 01:00 UTC + 4 h

    def test_the_recommendation_reads_the_tickets_promise_too(self) -> None:
        t = make_ticket(parts=[(10, 1)], ship_within_s=4 * HOUR, arrive_by=None, fix_by=None)
        rec = recommend(self._world(), t, now=0, travel=TRAVEL)
        assert rec.options[0].parts.ship_by == 4 * HOUR
        assert rec.options[0].parts.supplier_id == 2

    def test_a_negative_promise_is_refused(self) -> None:
        with pytest.raises(ValueError, match="ship_within_s"):
            make_ticket(ship_within_s=-1)


class TestObjective:
    def test_the_urgent_promise_is_kept_first(self) -> None:
        # one engineer, two tickets 10 min apart in opposite directions, 1 h service each,
        # arrival promised within 40 min: only the first visited keeps it
        world = make_world([make_engineer(1, (5, 5))])
        tickets = [
            make_ticket((0, 5), ticket_id=1, severity_rank=2, arrive_by=40 * 60, fix_by=None),
            make_ticket((10, 5), ticket_id=2, severity_rank=0, arrive_by=40 * 60, fix_by=None),
        ]
        visits = _plan(world, tickets).routes[0].visits
        assert [v.ticket_id for v in visits] == [2, 1]
        assert visits[0].arrival_late_s == 0

    def test_the_dedicated_engineer_is_preferred(self) -> None:
        world = make_world([make_engineer(1, (2, 3)), make_engineer(2, (4, 3))])
        p = _plan(world, [make_ticket((3, 3), dedicated_engineer=2)])
        assert _served_by(p) == {1: 2}

    def test_a_hard_deadline_is_never_broken(self) -> None:
        # 10 min drive; the hard arrival in 5 min is out of reach: dropped, not planned late
        world = make_world([make_engineer(1, (0, 0))])
        t = make_ticket((5, 5), arrive_by=5 * 60, hard_arrival=True)
        p = _plan(world, [t])
        assert _drop(p, 1) is DropReason.DEADLINE_OUT_OF_REACH
        assert "best arrival" in p.dropped[0].detail
        assert "vs deadline" in p.dropped[0].detail
        soft = _plan(world, [replace(t, hard_arrival=False)])
        assert soft.routes[0].visits[0].arrival_late_s == 5 * 60

    def test_hard_deadlines_by_policy(self) -> None:
        world = make_world([make_engineer(1, (0, 0))])
        p = _plan(world, [make_ticket((5, 5), arrive_by=5 * 60)], hard_deadlines=True)
        assert _drop(p, 1) is DropReason.DEADLINE_OUT_OF_REACH


class TestDrops:
    def test_no_qualified_engineer(self) -> None:
        p = _plan(make_world([make_engineer(1)]), [make_ticket(skills={"storage": 1})])
        assert _drop(p, 1) is DropReason.NO_QUALIFIED_ENGINEER
        assert "no qualified engineer on shift" in p.dropped[0].detail

    def test_no_stock_anywhere_names_the_supplier_lead_time(self) -> None:
        world = make_world([make_engineer(1)], suppliers=[make_supplier(parts={10: 0})])
        p = _plan(world, [make_ticket(parts=[(10, 1)])])
        assert _drop(p, 1) is DropReason.NO_STOCK
        assert p.dropped[0].lead_s == 3 * HOUR
        assert "supplier lead time 3 h" in p.dropped[0].detail

    def test_no_room_in_any_shift(self) -> None:
        # a 10 h job does not fit an 8 h shift
        p = _plan(make_world([make_engineer(1)]), [make_ticket(service_s=10 * HOUR)])
        assert _drop(p, 1) is DropReason.NO_ROOM


class TestSolving:
    WORLD = make_world(
        [make_engineer(i, (i * 2, i), van_stock={11: 1}) for i in range(1, 5)],
        [make_depot(1, (5, 5), stock={10: 3}), make_depot(2, (8, 2), stock={10: 1})],
    )
    TICKETS = [
        make_ticket(((3 * i) % 12, (5 * i) % 12), ticket_id=i, severity_rank=i % 3,
                    parts=[(10 + i % 2, 1)] if i % 3 == 0 else [])
        for i in range(1, 16)
    ]  # fmt: skip

    def test_the_same_seed_gives_the_same_plan(self) -> None:
        a = _plan(self.WORLD, self.TICKETS, seed=3)
        b = _plan(self.WORLD, self.TICKETS, seed=3)
        assert a.routes == b.routes
        assert a.dropped == b.dropped

    def test_the_search_never_makes_the_greedy_plan_worse(self) -> None:
        p = _plan(self.WORLD, self.TICKETS)
        assert p.stats.objective <= p.stats.greedy_objective
        assert p.quality in (PlanQuality.IMPROVED, PlanQuality.OPTIMAL, PlanQuality.FALLBACK)

    def test_a_plan_that_drops_every_ticket_is_not_called_optimal(self) -> None:
        # nobody holds the network skill: both tickets are dropped, nothing is planned
        tickets = [make_ticket(at=(3, 3), skills={"network": 1}),
                   make_ticket(at=(4, 4), skills={"network": 1}, ticket_id=2)]  # fmt: skip
        p = _plan(make_world([make_engineer(1)]), tickets)
        assert p.routes == ()
        assert {d.reason for d in p.dropped} == {DropReason.NO_QUALIFIED_ENGINEER}
        assert p.quality is PlanQuality.NOTHING_PLACED
        assert p.to_dict()["quality"] == "nothing_placed"

    def test_an_empty_request_is_optimal(self) -> None:
        assert _plan(make_world([make_engineer(1)]), []).quality is PlanQuality.OPTIMAL

    def test_greedy_only(self) -> None:
        p = _plan(self.WORLD, self.TICKETS, time_limit_ms=0)
        assert p.quality is PlanQuality.FALLBACK
        assert p.stats.objective == p.stats.greedy_objective

    def test_a_tiny_wall_clock_limit_returns_a_valid_plan_flagged(self) -> None:
        # 1 ms: the greedy stops at the deadline too (issue 20), what it never tried is dropped
        # as out_of_time, so nothing may be placed at all (flagged nothing_placed)
        p = _plan(self.WORLD, self.TICKETS, time_limit_ms=1, solution_limit=None)
        assert p.quality in (
            PlanQuality.FALLBACK,
            PlanQuality.TIME_LIMITED,
            PlanQuality.NOTHING_PLACED,
        )
        assert p.kpis.served + p.kpis.dropped == len(self.TICKETS)

    def test_the_plan_is_json_friendly(self) -> None:
        data = _plan(self.WORLD, self.TICKETS).to_dict()
        assert json.loads(json.dumps(data))["feasible"] is True
        assert data["routes"][0]["departs_at"].endswith("+00:00")


class TestValidator:
    def test_it_catches_a_wrong_eta_and_a_double_visit(self) -> None:
        world = make_world([make_engineer(1)])
        tickets = [make_ticket((3, 3))]
        p = _plan(world, tickets)
        route = p.routes[0]
        late = replace(route.stops[0], arrives_at=route.stops[0].arrives_at + 60)
        bad = replace(p, routes=(replace(route, stops=(late, route.stops[0])),))
        found = validate(world, tickets, bad, travel=TRAVEL)
        assert any("travel model says" in v for v in found)
        assert any("planned 2 times" in v for v in found)

    def test_it_catches_an_engineer_booked_twice(self) -> None:
        # a plan merged from regions must not give one engineer two days
        world = make_world([make_engineer(1)])
        tickets = [make_ticket((3, 3), ticket_id=1), make_ticket((0, 4), ticket_id=2)]
        p = _plan(world, tickets)
        one, two = (replace(p.routes[0], stops=(s,)) for s in p.routes[0].visits)
        found = validate(world, tickets, replace(p, routes=(one, two)), travel=TRAVEL)
        assert "engineer 1 has 2 routes" in found

    def test_it_catches_an_unqualified_engineer(self) -> None:
        world = make_world([make_engineer(1), make_engineer(2, skills={"storage": 1})])
        tickets = [make_ticket((0, 1))]
        p = _plan(world, tickets)
        bad = replace(p, routes=(replace(p.routes[0], engineer_id=2),))
        assert any(
            "needs server level 2" in v for v in validate(world, tickets, bad, travel=TRAVEL)
        )


@pytest.mark.parametrize("field", ["severity_weights", "failure_limit", "metaheuristic"])
def test_bad_params_name_the_field(field: str) -> None:
    bad = {"severity_weights": (1, 10), "failure_limit": 0, "metaheuristic": "X"}[field]
    with pytest.raises(ValueError, match=field):
        PlanParams(**{field: bad})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="failure_limit"):
        PlanParams(time_limit_ms=None)
