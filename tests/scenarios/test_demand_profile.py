"""Ticket arrivals by hour and weekday: thinning, the default peak, a log's profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from scenarios.demand import arrival_times, history_profiles, region_profile, ticket_stream
from scenarios.model import FLAT_ARRIVALS, ArrivalProfile, SimWorld
from scenarios.spec import Demand, ScenarioError, parse_scenario

DAY = 86_400
WEEK = 7 * DAY


def _hour_counts(times: np.ndarray) -> np.ndarray:
    return np.bincount((times % DAY) // 3_600, minlength=24)


def test_thinning_follows_the_hour_profile_and_keeps_the_weekly_mean() -> None:
    # day shift only: 08:00-20:00 three times the night's weight
    profile = ArrivalProfile(tuple(3.0 if 8 <= h < 20 else 1.0 for h in range(24)), (1.0,) * 7)
    rng = np.random.default_rng(1)
    times = arrival_times(rng, 500.0, profile, epoch_weekday=0, start=0, end=8 * WEEK)
    counts = _hour_counts(times)
    # 12 h at 3 and 12 h at 1: the day takes 3 / 4 of the arrivals
    assert counts[8:20].sum() / counts.sum() == pytest.approx(0.75, abs=0.01)
    assert len(times) / 56 == pytest.approx(500, rel=0.02)  # mean per day kept
    assert np.all(np.diff(times) >= 0)


def test_the_weekday_profile_moves_arrivals_to_working_days() -> None:
    profile = ArrivalProfile((1.0,) * 24, (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0))
    rng = np.random.default_rng(2)
    # the epoch is a Wednesday (weekday 2): offsets of days 3 and 4 are Saturday and Sunday
    times = arrival_times(rng, 100.0, profile, epoch_weekday=2, start=0, end=4 * WEEK)
    weekday = (2 + times // DAY) % 7
    assert not np.any(weekday >= 5)
    assert len(times) / 28 == pytest.approx(100, rel=0.05)


def test_the_default_profile_peaks_in_business_hours(small: SimWorld) -> None:
    stream = ticket_stream(
        small, Demand(tickets_per_day=400), horizon_s=WEEK, seed=1, replication=0
    )
    counts = _hour_counts(np.array([t.at_s for t in stream]))
    assert counts[9:12].mean() > 4 * counts[1:5].mean()


def test_a_flat_profile_draws_the_homogeneous_stream() -> None:
    flat = arrival_times(np.random.default_rng(5), 50.0, FLAT_ARRIVALS, epoch_weekday=0,
                         start=0, end=DAY)  # fmt: skip
    rng = np.random.default_rng(5)
    n = int(rng.poisson(50.0))
    assert np.array_equal(flat, np.sort(rng.integers(0, DAY, size=n)))


def test_a_profile_per_region_overrides_the_default(small: SimWorld) -> None:
    code = next(iter(small.regions.values()))
    nights = {"hours": [1.0 if h < 6 else 0.0 for h in range(24)]}
    demand = Demand.model_validate({"per_region_profile": {code: nights}})
    rid = small.region_id(code)
    assert region_profile(small, demand, rid).hours[:6] == (1.0,) * 6
    stream = ticket_stream(small, demand.model_copy(update={"tickets_per_day": 300.0}),
                           horizon_s=2 * DAY, seed=1, replication=0)  # fmt: skip
    assert all(t.at_s % DAY < 6 * 3_600 for t in stream if t.region_id == rid)
    others = [t for t in stream if t.region_id != rid]
    assert any(t.at_s % DAY >= 6 * 3_600 for t in others)


def test_a_profile_of_the_wrong_length_is_refused_with_its_place() -> None:
    with pytest.raises(ScenarioError, match=r"demand\.profile.*hours: 24 weights"):
        parse_scenario({"name": "x", "demand": {"profile": {"hours": [1, 2]}}}, "file")


def test_the_service_log_gives_each_region_its_profile() -> None:
    monday = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
    # region 1: 40 tickets at 02:00 UTC = 10:00 Shanghai; region 2: 5 tickets at 14:00 local
    tickets = [
        {"site_id": 10, "reported_at": monday + timedelta(days=i % 5, hours=2)} for i in range(40)
    ] + [{"site_id": 20, "reported_at": monday + timedelta(hours=6)} for _ in range(5)]
    sites = [{"id": 10, "region_id": 1}, {"id": 20, "region_id": 2}]
    profiles = history_profiles({"tickets": tickets, "sites": sites}, "Asia/Shanghai")
    one = profiles[1]
    assert one.hours[10] == 41  # 40 seen + 1 (no hour is ever impossible)
    assert one.hours[3] == 1
    assert one.weekdays[5] == 1
    assert one.weekdays[0] == 9
    # too few tickets of its own: region 2 gets the whole log's profile
    assert profiles[2].hours[10] == 41
    assert profiles[2].hours[14] == 6


def test_too_short_a_log_learns_nothing() -> None:
    log = {"tickets": [{"site_id": 1, "reported_at": datetime(2026, 1, 1, tzinfo=UTC)}],
           "sites": [{"id": 1, "region_id": 1}]}  # fmt: skip
    assert history_profiles(log, "Asia/Shanghai") == {}
