"""Input validation: every bad value raises ValueError naming its field."""

from __future__ import annotations

from datetime import datetime

import pytest

from optimizer import Depot, DispatchWorld, Engineer, Location, PartLine, RecommendParams, Supplier
from tests.optimizer.builders import EPOCH, make_engineer, make_ticket


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Location(91, 0), "lat"),
        (lambda: Location(0, 181), "lon"),
        (lambda: PartLine(1, 0), "qty"),
        (lambda: make_engineer(skills={"server": 0}), "skills"),
        (lambda: make_engineer(shifts=((10, 5),)), "shifts"),
        (lambda: make_engineer(shifts=((0, 10), (5, 20))), "shifts"),
        (lambda: make_engineer(busy_until=5), "busy_location"),
        (lambda: make_engineer(van_stock={1: -1}), "van_stock"),
        (lambda: make_engineer(overtime_s=-1), "overtime_s"),
        (lambda: Depot(1, Location(0, 0), {1: -2}), "stock"),
        (lambda: Depot(1, Location(0, 0), {}, ship_lead_s=-1), "ship_lead_s"),
        (lambda: Supplier(1, {}, lead_s=-1, transit_s=0), "lead_s"),
        (lambda: make_ticket(service_s=-1), "service_s"),
        (lambda: make_ticket(reported_at=100, arrive_by=50), "arrive_by"),
        (lambda: make_ticket(parts=[(1, 1), (1, 2)]), "parts"),
        (lambda: RecommendParams(max_options=0), "max_options"),
        (lambda: RecommendParams(overtime_s=-5), "overtime_s"),
        (lambda: RecommendParams(max_travel_s=0), "max_travel_s"),
        (lambda: DispatchWorld(datetime(2026, 1, 1), ()), "epoch"),  # noqa: DTZ001
        (lambda: DispatchWorld(EPOCH, (make_engineer(1), make_engineer(1))), "engineers"),
    ],
)
def test_bad_input_raises_value_error_naming_the_field(build, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        build()


def test_world_arrays_are_built_once_from_the_engineers() -> None:
    engineers = (
        make_engineer(1, skills={"server": 2}, van_stock={7: 2}),
        Engineer(
            2,
            Location(22.6, 114.0),
            {"storage": 1},
            ((0, 10), (20, 30)),
            dedicated_sites=frozenset({9}),
        ),
    )
    world = DispatchWorld(EPOCH, engineers)
    arrays = world.engineer_arrays
    assert arrays.skill_level.shape == (2, 2)
    assert arrays.shift_start.shape == (2, 2)
    assert arrays.van[7][0].tolist() == [0]
    assert arrays.dedicated_rows[9].tolist() == [1]
    assert world.at(world.offset(EPOCH)) == EPOCH
