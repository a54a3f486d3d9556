"""Engineers' working time as absolute windows: weekly shifts in local time, minus absences.

Shifts are stored as weekday + local start/end (a shift whose end is not after its start
ends the next day). The solver wants absolute, sorted, non-overlapping windows on one time
axis, so this module turns a week pattern into windows over a horizon, merges shifts that
touch (a night shift running into a morning one), and cuts out absences. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class WeeklyShift:
    weekday: int  # 0 = Monday
    starts_at: time
    ends_at: time  # <= starts_at: the next day

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")
        if self.starts_at == self.ends_at:
            raise ValueError("a shift must not start and end at the same time")


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def shift_intervals(
    shifts: Iterable[WeeklyShift], *, start: datetime, end: datetime, timezone: str
) -> list[Interval]:
    """Every shift occurrence overlapping [start, end), clipped to it, as aware datetimes.

    A shift that began the day before `start` (a night shift) is included too. Local times
    are resolved in `timezone`, so daylight-saving changes move the UTC instants correctly.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must carry a time zone")
    zone = ZoneInfo(timezone)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    out: list[Interval] = []
    pattern = list(shifts)
    day = first
    while day <= last:
        for shift in pattern:
            if shift.weekday != day.weekday():
                continue
            s = _local(day, shift.starts_at, zone)
            e_day = day + timedelta(days=1) if shift.ends_at <= shift.starts_at else day
            e = _local(e_day, shift.ends_at, zone)
            lo, hi = max(s, start), min(e, end)
            if lo < hi:
                out.append((lo, hi))
        day += timedelta(days=1)
    return merge(out)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching ones join (a night shift into a morning one)."""
    merged: list[Interval] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def subtract(windows: Sequence[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """`windows` with every hole (absence) cut out."""
    result = list(windows)
    for h_start, h_end in merge(holes):
        cut: list[Interval] = []
        for s, e in result:
            if e <= h_start or s >= h_end:
                cut.append((s, e))
                continue
            if s < h_start:
                cut.append((s, h_start))
            if e > h_end:
                cut.append((h_end, e))
        result = cut
    return result


def working_windows(
    shifts: Iterable[WeeklyShift],
    absences: Iterable[Interval],
    *,
    start: datetime,
    end: datetime,
    timezone: str,
) -> list[Interval]:
    """When an engineer works within [start, end): his shifts minus his absences."""
    return subtract(shift_intervals(shifts, start=start, end=end, timezone=timezone), absences)


def to_offsets(windows: Sequence[Interval], epoch: datetime) -> tuple[tuple[int, int], ...]:
    """Windows as integer second offsets from `epoch` (the solver's time axis).

    Starts round up and ends round down, so a window never grows by rounding.
    """
    out = []
    for s, e in windows:
        lo = -int(-(s - epoch).total_seconds() // 1)
        hi = int((e - epoch).total_seconds() // 1)
        if lo < hi:
            out.append((lo, hi))
    return tuple(out)
