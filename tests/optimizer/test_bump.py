"""Making room for a new ticket's arrival (`optimizer.make_room`, issue 16): the near
engineer's next visit moves to a colleague who keeps its clocks, he takes the new ticket."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import (
    Engineer,
    Held,
    Option,
    RecommendParams,
    Room,
    Ticket,
    make_room,
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
