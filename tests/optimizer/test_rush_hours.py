"""Rush hours: a speed factor by local hour, shared by every optimizer entry point."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimizer import (
    GUANGDONG_RUSH_HOURS,
    ScaledTravelTimes,
    SpeedProfile,
    TimedTravelTimes,
    plan,
    recommend,
    travel_at,
)
from tests.optimizer.builders import (
    EPOCH,
    grid,
    grid_travel,
    make_engineer,
    make_ticket,
    make_world,
)

HALF_AT_NINE = SpeedProfile(tuple(0.5 if h == 9 else 1.0 for h in range(24)), (1.0,) * 24)


def test_the_factor_is_read_on_the_local_clock_weekdays_and_weekends() -> None:
    monday_8 = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    saturday_8 = datetime(2026, 11, 7, 0, 30, tzinfo=UTC)
    assert GUANGDONG_RUSH_HOURS.factor(monday_8) == GUANGDONG_RUSH_HOURS.weekday[8] < 1
    assert GUANGDONG_RUSH_HOURS.factor(saturday_8) == GUANGDONG_RUSH_HOURS.weekend[8] == 1.0


@pytest.mark.parametrize("bad", [(1.0,) * 23, (0.0,) * 24, (float("nan"),) * 24])
def test_a_profile_needs_24_positive_factors(bad: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="weekday"):
        SpeedProfile(bad)


def test_free_flow_everywhere_is_the_model_itself() -> None:
    inner = grid_travel()
    timed = TimedTravelTimes(inner, SpeedProfile())
    assert timed.at(EPOCH) is inner
    assert travel_at(inner, EPOCH) is inner  # any other model: as is


def test_a_slower_hour_divides_seconds_and_keeps_metres() -> None:
    inner = grid_travel()
    slow = travel_at(TimedTravelTimes(inner, HALF_AT_NINE), EPOCH)  # 09:00 local
    a, b = (
        np.array([[grid(0, 0).lat, grid(0, 0).lon]]),
        np.array([[grid(3, 3).lat, grid(3, 3).lon]]),
    )
    assert slow.matrix(a, b)[0][0, 0] == 2 * inner.matrix(a, b)[0][0, 0]
    assert slow.matrix(a, b)[1][0, 0] == inner.matrix(a, b)[1][0, 0]


@given(speed=st.floats(0.2, 3.0), i=st.integers(0, 143), j=st.integers(0, 143),
       k=st.integers(0, 143))  # fmt: skip
def test_scaling_keeps_the_triangle_inequality(speed: float, i: int, j: int, k: int) -> None:
    inner = grid_travel()
    points = np.array([(grid(x, y).lat, grid(x, y).lon) for x in range(12) for y in range(12)])
    seconds, _ = ScaledTravelTimes(inner, speed).matrix(points[[i, j]], points[[j, k]])
    direct, _ = ScaledTravelTimes(inner, speed).matrix(points[[i]], points[[k]])
    assert direct[0, 0] <= seconds[0, 0] + seconds[1, 1]


def test_recommend_reads_the_speed_of_its_moment() -> None:
    world = make_world([make_engineer(1)])
    ticket = make_ticket()  # 6 grid steps: 6 minutes at free flow
    free = recommend(world, ticket, now=0, travel=grid_travel()).best
    timed = TimedTravelTimes(grid_travel(), HALF_AT_NINE)
    rush = recommend(world, ticket, now=0, travel=timed).best  # 09:00: half speed
    later = recommend(world, ticket, now=3_600, travel=timed).best  # 10:00: free flow
    assert free is not None
    assert rush is not None
    assert later is not None
    assert (free.arrives_at, rush.arrives_at, later.arrives_at) == (360, 720, 3_600 + 360)


def test_plan_reads_the_speed_of_its_moment() -> None:
    world = make_world([make_engineer(1)])
    timed = TimedTravelTimes(grid_travel(), HALF_AT_NINE)
    free = plan(world, [make_ticket()], now=0, travel=grid_travel())
    rush = plan(world, [make_ticket()], now=0, travel=timed)
    (visit_free,) = [s for r in free.routes for s in r.stops if s.ticket_id == 1]
    (visit_rush,) = [s for r in rush.routes for s in r.stops if s.ticket_id == 1]
    assert visit_rush.arrives_at - visit_free.arrives_at == 360
    assert rush.is_feasible
