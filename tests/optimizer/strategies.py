"""Hypothesis strategies: small random dispatch worlds on the test grid."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from optimizer import (
    ClockPenalties,
    Depot,
    DispatchWorld,
    Engineer,
    PartLine,
    RecommendParams,
    Supplier,
    Ticket,
)
from tests.optimizer.builders import EPOCH, GRID, HOUR, grid

PARTS = (10, 11, 12)
points = st.builds(grid, st.integers(0, GRID - 1), st.integers(0, GRID - 1))
stock = st.dictionaries(st.sampled_from(PARTS), st.integers(0, 3), max_size=3)
minutes = st.integers(-4 * 60, 12 * 60).map(lambda m: m * 60)


@st.composite
def shifts(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    """Zero to two sorted, disjoint shift windows around the test's morning."""
    edges = sorted(set(draw(st.lists(minutes, min_size=0, max_size=4))))
    if len(edges) % 2:
        edges = edges[:-1]
    return tuple((edges[i], edges[i + 1]) for i in range(0, len(edges), 2))


@st.composite
def engineers(draw: st.DrawFn, engineer_id: int, homes: bool = False) -> Engineer:
    """One engineer; ``homes``: some have a home away from where they stand (a departure in
    a later shift sets off from there, `optimizer.sets_off_from`)."""
    level = draw(st.integers(0, 3))
    skills = {"server": level} if level else {"storage": 1}
    busy = draw(st.booleans())
    return Engineer(
        engineer_id,
        draw(points),
        skills,
        draw(shifts()),
        overtime_s=draw(st.sampled_from([0, 1_800])),
        busy_until=draw(st.integers(-HOUR, 3 * HOUR)) if busy else None,
        busy_location=draw(points) if busy else None,
        van_stock=draw(stock),
        dedicated_sites=frozenset({100}) if draw(st.booleans()) else frozenset(),
        # labour rules and rates (issue 16): they enter the ranking's cost
        start_into_overtime=draw(st.booleans()),
        overtime_cost_per_hour=draw(st.sampled_from([0, 9_000])),
        cost_per_hour=draw(st.sampled_from([0, 12_000])),
        cost_per_km=draw(st.sampled_from([0, 150])),
        home=draw(points) if homes and draw(st.booleans()) else None,
    )


@st.composite
def depots(draw: st.DrawFn, depot_id: int) -> Depot:
    opening = draw(
        st.sampled_from([(), ((2 * HOUR, 6 * HOUR),), ((-HOUR, HOUR), (3 * HOUR, 9 * HOUR))])
    )
    return Depot(
        depot_id,
        draw(points),
        draw(stock),
        opening=opening,
        pick_s=draw(st.sampled_from([None, 300])),
        ship_lead_s=draw(st.sampled_from([0, HOUR, 9 * HOUR])),
    )


@st.composite
def worlds(
    draw: st.DrawFn, homes: bool = False, most: int = 8, least: int = 1, crowded: bool = False
) -> DispatchWorld:
    """Up to ``most`` engineers; ``crowded``: nearly all qualified and on shift, so that
    over 16 of them (the search's first chunk) some go unreached."""
    n = draw(st.integers(least, most))
    people = tuple(draw(engineers(i, homes)) for i in range(1, n + 1))
    if crowded:
        day = ((-4 * HOUR, 12 * HOUR),)
        people = tuple(
            replace(e, skills={"server": 3}, shifts=day) if draw(st.integers(0, 9)) else e
            for e in people
        )
    places = tuple(draw(depots(j)) for j in range(1, draw(st.integers(0, 3)) + 1))
    suppliers = tuple(
        Supplier(k, draw(stock), lead_s=draw(st.sampled_from([HOUR, 9 * HOUR])), transit_s=2 * HOUR)
        for k in range(1, draw(st.integers(0, 2)) + 1)
    )
    return DispatchWorld(EPOCH, people, places, suppliers)


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    lines = draw(st.lists(st.sampled_from(PARTS[:2]), unique=True, max_size=2))
    deadline = st.none() | st.integers(0, 6 * 60).map(lambda m: m * 60)
    depart_deadline = st.none() | st.integers(0, 3 * 60).map(lambda m: m * 60)
    return Ticket(
        1,
        draw(points),
        100,
        {"server": draw(st.integers(1, 3))},
        draw(st.sampled_from([0, 1_800, HOUR])),
        depart_by=draw(depart_deadline),
        arrive_by=draw(deadline),
        fix_by=draw(deadline),
        parts=tuple(PartLine(p, draw(st.integers(1, 2))) for p in lines),
        substitutes=draw(st.sampled_from([{}, {10: (12,)}, {10: (12, 11), 11: (12,)}])),
        dedicated_engineer=draw(st.none() | st.integers(1, 8)),
        swap_within_s=draw(st.none() | st.sampled_from([HOUR, 2 * HOUR])),
        penalties=draw(
            st.none()
            | st.builds(
                ClockPenalties,
                depart=st.sampled_from([0, 50_000]),
                arrive=st.sampled_from([0, 100_000]),
                fix=st.sampled_from([0, 3_000, 100_000]),
                swap=st.sampled_from([0, 50_000]),
                ship=st.sampled_from([0, 30_000]),
                late_pct_per_hour=st.sampled_from([0, 25]),
                at_risk_pct=st.sampled_from([0, 10]),
                at_risk_margin_s=st.sampled_from([0, 900]),
            )
        ),
    )


params = st.builds(
    RecommendParams,
    max_options=st.integers(1, 4),
    overtime_s=st.none() | st.sampled_from([0, 1_800]),
    max_travel_s=st.sampled_from([6 * HOUR, 15 * 60]),
)
nows = st.integers(0, 2 * 60).map(lambda m: m * 60)
