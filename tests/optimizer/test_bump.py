"""Making room for a new ticket's arrival (`optimizer.make_room`, issue 16): the near
engineer's next visit moves to a colleague who keeps its clocks, he takes the new ticket."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import (
    Diversion,
    Driving,
    Engineer,
    GeodesicTravelTimes,
    Held,
    Option,
    RecommendParams,
    Room,
    Ticket,
    divert,
    en_route_at,
    make_room,
    nearest_driving,
    nearest_held,
    recommend,
    wants_room,
)
from tests.optimizer.builders import grid, grid_travel, make_engineer, make_ticket, make_world

M = 60
TRAVEL = grid_travel()
PARAMS = RecommendParams(max_options=1)
NEAR, FAR = 1, 2


def _room(
    new: Ticket, held_ticket: Ticket, *, far_at: tuple[int, int] = (11, 11),
    held_departs: int = 20 * M, held_arrives: int = 36 * M,
) -> tuple[Room | None, Option | None]:  # fmt: skip
    """Engineer NEAR stands at the new ticket's site, busy with his next visit until
    1:30; engineer FAR is free at ``far_at``."""
    world = make_world(
        [
            make_engineer(NEAR, (2, 2), busy_until=90 * M, busy_location=grid(2, 2)),
            make_engineer(FAR, far_at),
        ]
    )
    best = recommend(world, new, now=0, travel=TRAVEL, params=PARAMS).best
    held = Held(NEAR, held_ticket, held_departs, held_arrives)
    room = make_room(
        world, new, best, [held], freed=lambda h: make_engineer(NEAR, (2, 2)), now=0,
        travel=TRAVEL, params=PARAMS,
    )  # fmt: skip
    return room, best


def test_the_near_engineer_takes_the_ticket_and_a_colleague_his_visit() -> None:
    new = make_ticket(at=(2, 2), arrive_by=10 * M, fix_by=3 * 3_600)
    visit = make_ticket(ticket_id=2, at=(10, 10), arrive_by=60 * M)
    room, best = _room(new, visit)
    assert best is not None
    assert best.arrives_at > 10 * M
    assert room is not None
    assert room.option.engineer_id == NEAR
    assert room.option.arrives_at <= 10 * M
    assert room.move.engineer_id == FAR
    assert room.move.arrives_at <= 60 * M
    assert room.held.ticket.id == 2
    assert room.cost < best.cost


def test_no_room_when_nobody_else_keeps_the_visit() -> None:
    new = make_ticket(at=(2, 2), arrive_by=10 * M, fix_by=3 * 3_600)
    visit = make_ticket(ticket_id=2, at=(0, 0), arrive_by=15 * M)  # FAR needs 22 min
    room, _ = _room(new, visit, held_arrives=14 * M)
    assert room is None


def test_no_room_asked_when_the_best_option_keeps_the_arrival() -> None:
    new = make_ticket(at=(2, 2), arrive_by=60 * M, fix_by=3 * 3_600)
    visit = make_ticket(ticket_id=2, at=(10, 10), arrive_by=60 * M)
    room, best = _room(new, visit)
    assert not wants_room(new, best)
    assert room is None


def test_the_nearest_qualified_holders_first() -> None:
    world = make_world(
        [
            make_engineer(1, (9, 9)),
            make_engineer(2, (3, 3)),
            make_engineer(3, (2, 2), skills={"storage": 2}),  # not qualified
            make_engineer(4, (5, 5)),
        ]
    )
    new = make_ticket(at=(2, 2))
    assert nearest_held(world, new, [1, 2, 3, 4], travel=TRAVEL, limit=2) == [2, 4]
    assert nearest_held(world, new, [1, 2, 3, 4], travel=TRAVEL, limit=0) == []


POINT = st.tuples(st.integers(0, 11), st.integers(0, 11))


@settings(max_examples=60, deadline=None)
@given(
    new_at=POINT, near_at=POINT, far_at=POINT, visit_at=POINT,
    arrive_by=st.integers(1, 40), visit_by=st.integers(1, 90), held_arrives=st.integers(0, 90),
    busy_min=st.integers(0, 180),
)  # fmt: skip
def test_a_room_keeps_both_promises_and_pays_for_itself(
    new_at: tuple[int, int], near_at: tuple[int, int], far_at: tuple[int, int],
    visit_at: tuple[int, int], arrive_by: int, visit_by: int, held_arrives: int, busy_min: int,
) -> None:  # fmt: skip
    """Whatever the places and clocks: a room is only ever made for a ticket whose best
    option breaks its arrival; the new ticket's option keeps it (and the depart clock when
    the best did), the held visit goes to another engineer keeping the arrival its plan
    kept, the pair costs less than the best option; and more engineers asked never make
    the answer dearer."""
    world = make_world(
        [
            make_engineer(NEAR, near_at, busy_until=busy_min * M, busy_location=grid(*near_at)),
            make_engineer(FAR, far_at),
            make_engineer(3, (11 - far_at[0], 11 - far_at[1])),
        ]
    )
    new = make_ticket(at=new_at, arrive_by=arrive_by * M, fix_by=5 * 3_600)
    visit = make_ticket(ticket_id=2, at=visit_at, arrive_by=visit_by * M, fix_by=5 * 3_600)
    best = recommend(world, new, now=0, travel=TRAVEL, params=PARAMS).best
    held = [Held(NEAR, visit, 0, held_arrives * M), Held(3, visit, 0, held_arrives * M)]

    def freed(h: Held) -> Engineer:
        row = world.engineer_row[h.engineer_id]
        e = world.engineers[row]
        return make_engineer(e.id, (0, 0)) if h.engineer_id == 3 else make_engineer(NEAR, near_at)

    def ask(which: list[Held]) -> Room | None:
        return make_room(
            world, new, best, which, freed=freed, now=0, travel=TRAVEL, params=PARAMS,
        )  # fmt: skip

    one, both = ask(held[:1]), ask(held)
    if one is not None:
        assert both is not None
        assert both.cost <= one.cost
    for room in (one, both):
        if room is None:
            continue
        assert wants_room(new, best)
        assert room.option.engineer_id == room.held.engineer_id
        assert room.option.arrives_at <= arrive_by * M
        if best is not None and not best.departs_late:
            assert not room.option.departs_late
        assert room.move.engineer_id != room.held.engineer_id
        if held_arrives <= visit_by:
            assert room.move.arrives_at <= visit_by * M
        if best is not None:
            assert room.cost < best.cost


# -- divert: an engineer driving to a visit takes the new ticket first ---------------------

DRIVER, OTHER = 1, 2
BOTH = {"server": 2, "storage": 2}


def _driving(visit: Ticket, *, arrives: int = 10 * M) -> Driving:
    """DRIVER set off from (0, 0) at 0 for ``visit``, expected there at ``arrives``."""
    return Driving(DRIVER, visit, grid(0, 0), 0, arrives)


def _divert(
    new: Ticket, visit: Ticket, *, other_skills: dict[str, int] | None = None,
    at: tuple[int, int] = (2, 0), now: int = 2 * M, arrives: int = 10 * M,
) -> tuple[Diversion | None, Option | None]:  # fmt: skip
    """DRIVER is on the road at ``at`` (the view shows him busy with his visit at its
    site); OTHER is free at (11, 11)."""
    world = make_world(
        [
            make_engineer(
                DRIVER, (10, 0), skills=BOTH, busy_until=90 * M, busy_location=visit.site
            ),  # fmt: skip
            make_engineer(OTHER, (11, 11), skills=other_skills or {"server": 2}),
        ]
    )
    best = recommend(world, new, now=now, travel=TRAVEL, params=PARAMS).best
    diversion = divert(
        world, new, best, [_driving(visit, arrives=arrives)],
        freed=lambda d, _: make_engineer(DRIVER, at, skills=BOTH), now=now, travel=TRAVEL,
        params=PARAMS,
    )  # fmt: skip
    return diversion, best


def test_a_driver_takes_the_new_ticket_and_goes_on_to_his_visit_after_it() -> None:
    new = make_ticket(at=(2, 1), arrive_by=10 * M, fix_by=3 * 3_600)
    visit = make_ticket(ticket_id=2, at=(10, 0), skills={"storage": 2}, arrive_by=90 * M)
    diversion, best = _divert(new, visit)
    assert best is not None
    assert best.arrives_at > 10 * M
    assert diversion is not None
    assert diversion.option.engineer_id == DRIVER
    assert diversion.option.arrives_at == 3 * M  # one step from where he is on the road
    assert diversion.by_him  # nobody else can do his visit
    assert diversion.move.departs_at >= diversion.option.fixes_at
    assert diversion.move.arrives_at <= 90 * M
    assert diversion.cost < best.cost


def test_a_colleague_takes_the_drivers_visit_when_he_would_come_too_late() -> None:
    new = make_ticket(at=(2, 1), arrive_by=10 * M, fix_by=3 * 3_600)
    visit = make_ticket(ticket_id=2, at=(10, 0), arrive_by=30 * M)  # him: 72 min
    diversion, _ = _divert(new, visit, other_skills=BOTH)
    assert diversion is not None
    assert diversion.move.engineer_id == OTHER
    assert diversion.move.arrives_at <= 30 * M


def test_no_diversion_when_his_visit_would_break_a_clock_it_keeps() -> None:
    new = make_ticket(at=(2, 1), arrive_by=10 * M, fix_by=3 * 3_600)
    visit = make_ticket(ticket_id=2, at=(10, 0), skills={"storage": 2}, arrive_by=30 * M)
    diversion, _ = _divert(new, visit)  # OTHER is not qualified, he would arrive at 72 min
    assert diversion is None


def test_a_depart_clock_counts_anew() -> None:
    """He departed in time; going on after the new job departs again, too late."""
    new = make_ticket(at=(2, 1), arrive_by=10 * M, fix_by=3 * 3_600)
    visit = make_ticket(
        ticket_id=2, at=(10, 0), skills={"storage": 2}, arrive_by=90 * M, depart_by=5 * M
    )
    diversion, _ = _divert(new, visit)
    assert diversion is None


def test_no_diversion_asked_when_the_best_option_keeps_the_arrival() -> None:
    new = make_ticket(at=(2, 1), arrive_by=60 * M, fix_by=3 * 3_600)
    visit = make_ticket(ticket_id=2, at=(10, 0), skills={"storage": 2}, arrive_by=90 * M)
    diversion, best = _divert(new, visit)
    assert not wants_room(new, best)
    assert diversion is None


def test_where_a_driver_is_on_the_road() -> None:
    d = Driving(DRIVER, make_ticket(at=(10, 0)), grid(0, 0), 100, 700)
    half = en_route_at(d, 400)
    assert abs(half.lon - grid(5, 0).lon) < 1e-9
    assert abs(half.lat - grid(5, 0).lat) < 1e-9
    assert en_route_at(d, 0) == grid(0, 0)  # not yet set off: where he set off
    assert en_route_at(d, 900) == grid(10, 0)  # past his expected arrival: on site


def test_the_nearest_qualified_drivers_first() -> None:
    world = make_world([make_engineer(1), make_engineer(2), make_engineer(3, skills=BOTH)])
    new = make_ticket(at=(0, 5), skills={"storage": 2})
    visit = make_ticket(ticket_id=9, at=(10, 10))
    drivers = [Driving(e, visit, grid(0, 0), 0, 60 * M) for e in (1, 2, 3)]
    geo = GeodesicTravelTimes()
    assert [d.engineer_id for d in nearest_driving(
        world, new, drivers, now=0, travel=geo, limit=3)] == [3]  # fmt: skip
    near = make_ticket(at=(0, 5))
    far = Driving(1, visit, grid(11, 11), 0, 60 * M)
    assert [d.engineer_id for d in nearest_driving(
        world, near, [far, drivers[1]], now=0, travel=geo, limit=1)] == [2]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    new_at=POINT, on_road=POINT, other_at=POINT, visit_at=POINT,
    arrive_by=st.integers(1, 40), visit_by=st.integers(1, 200), visit_fix=st.integers(60, 400),
    depart_by=st.one_of(st.none(), st.integers(0, 60)), arrives=st.integers(3, 120),
)  # fmt: skip
def test_a_diversion_keeps_both_promises_and_pays_for_itself(
    new_at: tuple[int, int], on_road: tuple[int, int], other_at: tuple[int, int],
    visit_at: tuple[int, int], arrive_by: int, visit_by: int, visit_fix: int,
    depart_by: int | None, arrives: int,
) -> None:  # fmt: skip
    """Whatever the places and clocks: a diversion is only offered for a ticket whose best
    option breaks its arrival; the new ticket's option keeps it (and the depart clock when
    the best did); the driver's visit, with him after the new job or with a colleague,
    keeps every depart, arrival and fix clock its plan keeps; the pair costs less."""
    now = 2 * M
    visit = make_ticket(
        ticket_id=2, at=visit_at, arrive_by=max(visit_by, depart_by or 0) * M,
        fix_by=max(visit_fix, visit_by, depart_by or 0) * M,
        depart_by=None if depart_by is None else depart_by * M,
    )  # fmt: skip
    world = make_world(
        [
            make_engineer(
                DRIVER, visit_at, busy_until=(arrives + 60) * M, busy_location=visit.site
            ),  # fmt: skip
            make_engineer(OTHER, other_at),
        ]
    )
    new = make_ticket(at=new_at, arrive_by=arrive_by * M, fix_by=5 * 3_600)
    best = recommend(world, new, now=now, travel=TRAVEL, params=PARAMS).best
    d = Driving(DRIVER, visit, grid(0, 0), 0, arrives * M)
    got = divert(
        world, new, best, [d], freed=lambda d, _: make_engineer(DRIVER, on_road), now=now,
        travel=TRAVEL, params=PARAMS,
    )  # fmt: skip
    if got is None:
        return
    assert wants_room(new, best)
    assert got.option.engineer_id == DRIVER
    assert got.option.arrives_at <= arrive_by * M
    if best is not None:
        assert got.cost < best.cost
        if not best.departs_late:
            assert not got.option.departs_late
    planned = {
        "depart": (visit.depart_by, 0, got.move.departs_at),
        "arrive": (visit.arrive_by, arrives * M, got.move.arrives_at),
        "fix": (visit.fix_by, arrives * M + visit.service_s, got.move.fixes_at),
    }
    for by, was, now_at in planned.values():
        if by is not None and was <= by:
            assert now_at <= by
    if got.by_him:
        assert got.move.departs_at >= got.option.fixes_at
