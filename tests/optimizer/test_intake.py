"""The intake's ship rule: ship what is not swappable from stock in reach, never oversell."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import (
    DispatchWorld,
    PartsPlan,
    PartsSource,
    PartUse,
    PlanParams,
    RecommendParams,
    Ticket,
    allocate,
    recommend,
    ship_at_intake,
    swap_in_reach,
)
from optimizer.sourcing import take_whole
from tests.optimizer.builders import (
    HOUR,
    STEP_S,
    grid_travel,
    make_depot,
    make_engineer,
    make_supplier,
    make_ticket,
    make_world,
)
from tests.optimizer.strategies import nows, tickets, worlds

TRAVEL = grid_travel()
SHIP_8H = 8 * HOUR


def _ticket(**kw: object) -> Ticket:
    kw.setdefault("parts", [(10, 1)])
    kw.setdefault("swap_within_s", 2 * HOUR)
    kw.setdefault("ship_within_s", SHIP_8H)
    return make_ticket((0, 0), **kw)


class TestShipAtIntake:
    def test_a_van_in_reach_ships_nothing(self) -> None:
        world = make_world([make_engineer(at=(5, 5), van_stock={10: 1})])
        assert ship_at_intake(world, _ticket(), now=0, travel=TRAVEL, ship_within_s=SHIP_8H) is None

    def test_a_depot_in_reach_ships_nothing(self) -> None:
        # 10 grid steps = 10 min from the site: well inside the 2 h swap promise
        world = make_world([make_engineer()], [make_depot(at=(5, 5), stock={10: 1})])
        assert ship_at_intake(world, _ticket(), now=0, travel=TRAVEL, ship_within_s=SHIP_8H) is None

    def test_a_depot_beyond_the_swap_promise_ships_at_once(self) -> None:
        # 20 min away, but the promise is 10 min: not in reach, so it ships from there
        world = make_world([make_engineer()], [make_depot(7, at=(10, 10), stock={10: 1})])
        ticket = _ticket(swap_within_s=10 * 60)
        plan = ship_at_intake(world, ticket, now=60, travel=TRAVEL, ship_within_s=SHIP_8H)
        assert plan is not None
        assert (plan.source, plan.depot_id, plan.uses) == (
            PartsSource.SHIPMENT,
            7,
            (PartUse(10, 10, 1),),
        )
        # leaves after the depot's 1 h ship lead; ship-by is reported + 8 h
        assert (plan.ships_at, plan.ship_by) == (60 + HOUR, SHIP_8H)
        assert plan.part_arrives_at == 60 + HOUR + 20 * STEP_S

    def test_a_substitute_in_reach_counts_as_in_reach(self) -> None:
        world = make_world([make_engineer(at=(1, 1), van_stock={12: 1})])
        ticket = _ticket(substitutes={10: (12,)})
        assert swap_in_reach(world, ticket, now=0, travel=TRAVEL)
        assert ship_at_intake(world, ticket, now=0, travel=TRAVEL, ship_within_s=SHIP_8H) is None

    def test_nothing_in_stock_ships_from_the_supplier(self) -> None:
        world = make_world([make_engineer()], suppliers=[make_supplier(3, parts={10: 5})])
        plan = ship_at_intake(world, _ticket(), now=0, travel=TRAVEL, ship_within_s=SHIP_8H)
        assert plan is not None
        assert (plan.supplier_id, plan.ships_at, plan.part_arrives_at) == (3, HOUR, 3 * HOUR)

    def test_a_source_that_keeps_the_ship_promise_wins_over_a_faster_late_one(self) -> None:
        slow_depot = make_depot(1, at=(11, 11), stock={10: 1}, ship_lead_s=2 * HOUR)
        late_supplier = make_supplier(2, parts={10: 1}, lead_s=9 * HOUR, transit_s=0)
        world = make_world([make_engineer()], [slow_depot], [late_supplier])
        ticket = _ticket(swap_within_s=60, ship_within_s=3 * HOUR)
        plan = ship_at_intake(world, ticket, now=0, travel=TRAVEL, ship_within_s=SHIP_8H)
        assert plan is not None
        assert plan.depot_id == 1

    def test_no_parts_no_promise_or_already_under_way_decide_nothing(self) -> None:
        world = make_world([make_engineer()], suppliers=[make_supplier(3, parts={10: 5})])
        underway = PartsPlan(PartsSource.SHIPMENT, (PartUse(10, 10, 1),), supplier_id=3)
        for ticket in (
            _ticket(parts=()),
            _ticket(swap_within_s=None),
            _ticket(parts_underway=underway),
        ):
            plan = ship_at_intake(world, ticket, now=0, travel=TRAVEL, ship_within_s=SHIP_8H)
            assert plan is None

    def test_no_source_at_all_ships_nothing(self) -> None:
        world = make_world([make_engineer()])
        assert ship_at_intake(world, _ticket(), now=0, travel=TRAVEL, ship_within_s=SHIP_8H) is None


def _in_reach_by_brute_force(world: DispatchWorld, ticket: Ticket, now: int) -> bool:
    """Every van and depot one by one: covers every line and drives there within the promise."""
    assert ticket.swap_within_s is not None
    site = np.array([[ticket.site.lat, ticket.site.lon]])
    for e in world.engineers:
        if take_whole(ticket, ticket.parts, e.van_stock) is not None:
            here = np.array([[e.location.lat, e.location.lon]])
            if int(TRAVEL.many_to_one(here, site)[0][0]) <= ticket.swap_within_s:
                return True
    for d in world.depots:
        if take_whole(ticket, ticket.parts, d.stock) is None:
            continue
        opens = next((max(now, a) for a, b in d.opening if now < b), None) if d.opening else now
        here = np.array([[d.location.lat, d.location.lon]])
        drive = int(TRAVEL.many_to_one(here, site)[0][0])
        if opens is not None and opens - now + drive <= ticket.swap_within_s:
            return True
    return False


class TestShipAtIntakeProperties:
    @settings(max_examples=150, deadline=None)
    @given(world=worlds(), ticket=tickets(), now=nows)
    def test_never_ships_what_is_swappable_from_stock_in_reach(
        self, world: DispatchWorld, ticket: Ticket, now: int
    ) -> None:
        plan = ship_at_intake(world, ticket, now=now, travel=TRAVEL, ship_within_s=SHIP_8H)
        if ticket.parts and ticket.swap_within_s is not None:
            in_reach = _in_reach_by_brute_force(world, ticket, now)
            assert swap_in_reach(world, ticket, now=now, travel=TRAVEL) == in_reach
            if in_reach:
                assert plan is None
        else:
            assert plan is None

    @settings(max_examples=150, deadline=None)
    @given(world=worlds(), ticket=tickets(), now=nows)
    def test_never_ships_more_than_its_source_holds(
        self, world: DispatchWorld, ticket: Ticket, now: int
    ) -> None:
        plan = ship_at_intake(world, ticket, now=now, travel=TRAVEL, ship_within_s=SHIP_8H)
        if plan is None:
            return
        if plan.depot_id is not None:
            (source,) = (d.stock for d in world.depots if d.id == plan.depot_id)
        else:
            (source,) = (s.parts for s in world.suppliers if s.id == plan.supplier_id)
        taken: dict[int, int] = {}
        for use in plan.uses:
            taken[use.part_id] = taken.get(use.part_id, 0) + use.qty
        assert all(source.get(part, 0) >= qty for part, qty in taken.items())
        assert sorted(u.line_part_id for u in plan.uses) == sorted(p.part_id for p in ticket.parts)
        assert plan.ship_by == ticket.reported_at + (ticket.ship_within_s or SHIP_8H)

    @settings(max_examples=60, deadline=None)
    @given(world=worlds(), ticket=tickets(), now=nows, lead=st.integers(0, 10 * HOUR))
    def test_every_option_waits_for_the_parts_under_way(
        self, world: DispatchWorld, ticket: Ticket, now: int, lead: int
    ) -> None:
        if not ticket.parts:
            return
        uses = tuple(PartUse(p.part_id, p.part_id, p.qty) for p in ticket.parts)
        underway = PartsPlan(
            PartsSource.SHIPMENT, uses, supplier_id=9, ships_at=now, ship_by=now + SHIP_8H,
            part_arrives_at=now + lead,
        )  # fmt: skip
        shipped = Ticket(**{**_fields(ticket), "parts_underway": underway})
        rec = recommend(world, shipped, now=now, travel=TRAVEL, params=RecommendParams())
        for option in rec.options:
            assert option.parts == underway
            assert option.fixes_at >= now + lead + shipped.service_s


def _fields(ticket: Ticket) -> dict[str, object]:
    return {name: getattr(ticket, name) for name in Ticket.__dataclass_fields__}


class TestPartsUnderwayInPlans:
    def test_allocation_keeps_the_shipment_and_takes_no_stock(self) -> None:
        depot = make_depot(1, at=(1, 1), stock={10: 1})
        world = make_world([make_engineer()], [depot])
        underway = PartsPlan(
            PartsSource.SHIPMENT, (PartUse(10, 10, 1),), depot_id=4, ships_at=HOUR,
            ship_by=SHIP_8H, part_arrives_at=3 * HOUR,
        )  # fmt: skip
        shipped = _ticket(ticket_id=1, parts_underway=underway)
        other = _ticket(ticket_id=2)
        supply = allocate(world, [shipped, other], now=0, travel=TRAVEL, params=PlanParams())
        assert supply[1].ready_at == 3 * HOUR
        assert supply[1].pickups == ()
        (ship,) = supply[1].shipped
        assert (ship.depot_id, ship.ships_at, ship.ship_by) == (4, HOUR, SHIP_8H)
        # the depot's one unit is left for the ticket that still needs it
        assert [u.part_id for p in supply[2].pickups for u in p.uses] == [10]
