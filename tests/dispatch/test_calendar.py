"""Weekly shifts in local time become absolute working windows, minus absences."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from dispatch.calendar import (
    WeeklyShift,
    merge,
    shift_intervals,
    subtract,
    to_offsets,
    working_windows,
)

SH = "Asia/Shanghai"  # UTC+8, no daylight saving
MON = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_day_shift_in_local_time() -> None:
    day = WeeklyShift(0, time(8, 0), time(17, 0))  # Monday 08-17 Shanghai = 00-09 UTC
    got = shift_intervals([day], start=MON, end=MON + timedelta(days=1), timezone=SH)
    assert got == [(utc(2, 0), utc(2, 9))]


def test_night_shift_started_the_day_before_is_included_and_clipped() -> None:
    night = WeeklyShift(6, time(22, 0), time(6, 0))  # Sunday 22:00 -> Monday 06:00 local
    start = utc(1, 20)  # Monday 04:00 local
    got = shift_intervals([night], start=start, end=start + timedelta(hours=12), timezone=SH)
    assert got == [(start, utc(1, 22))]  # until Monday 06:00 local


def test_night_shift_running_into_a_morning_shift_merges() -> None:
    night = WeeklyShift(6, time(22, 0), time(8, 0))
    morning = WeeklyShift(0, time(8, 0), time(16, 0))
    start = utc(1, 12)  # Sunday 20:00 local
    got = shift_intervals([night, morning], start=start, end=utc(3, 0), timezone=SH)
    assert got == [(utc(1, 14), utc(2, 8))]  # Sun 22:00 -> Mon 16:00 local, one window


def test_daylight_saving_moves_the_utc_instant() -> None:
    shift = WeeklyShift(6, time(8, 0), time(12, 0))  # Sunday 08-12 in Berlin
    # 2026-03-29 is the spring-forward Sunday in Europe: CEST (UTC+2) from 02:00 local
    got = shift_intervals(
        [shift],
        start=datetime(2026, 3, 28, tzinfo=UTC),
        end=datetime(2026, 3, 30, tzinfo=UTC),
        timezone="Europe/Berlin",
    )
    assert got == [(datetime(2026, 3, 29, 6, tzinfo=UTC), datetime(2026, 3, 29, 10, tzinfo=UTC))]


def test_absence_cuts_a_hole() -> None:
    day = WeeklyShift(0, time(8, 0), time(17, 0))
    sick = (utc(2, 3), utc(2, 5))  # 11:00-13:00 local
    got = working_windows([day], [sick], start=MON, end=MON + timedelta(days=1), timezone=SH)
    assert got == [(utc(2, 0), utc(2, 3)), (utc(2, 5), utc(2, 9))]


def test_absence_covering_the_shift_removes_it() -> None:
    windows = [(utc(2, 0), utc(2, 9))]
    assert subtract(windows, [(utc(1, 0), utc(3, 0))]) == []


def test_merge_joins_touching_and_overlapping() -> None:
    assert merge([(utc(2, 5), utc(2, 8)), (utc(2, 0), utc(2, 5)), (utc(2, 7), utc(2, 9))]) == [
        (utc(2, 0), utc(2, 9))
    ]


def test_offsets_never_grow_by_rounding() -> None:
    epoch = utc(2, 0)
    window = (epoch + timedelta(seconds=1.5), epoch + timedelta(seconds=10.5))
    assert to_offsets([window], epoch) == ((2, 10),)


def test_bad_shift_refused() -> None:
    with pytest.raises(ValueError, match="weekday"):
        WeeklyShift(7, time(8), time(9))
    with pytest.raises(ValueError, match="same time"):
        WeeklyShift(0, time(8), time(8))


def test_naive_horizon_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        shift_intervals([], start=datetime(2026, 11, 2), end=MON, timezone=SH)  # noqa: DTZ001
