"""Promise clocks: deadlines from a contract's policy, and their state at a moment (pure).

Rules (domain.md, "precise defaults"):
- every clock starts at the ticket's `reported_at`; a severity change recomputes every
  deadline from that same start;
- a clock whose offset is None has no deadline under that policy;
- a general ticket may carry a later arrival appointment agreed with the customer, which
  then is its arrival deadline;
- **at risk**: the projected time of the clock's event is later than the deadline minus the
  policy's margin, or nobody can meet it; **breached**: the deadline passed without the
  event (or the event came after it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class Clock(enum.StrEnum):
    """The four promise clocks of a ticket, in the order they run out."""

    RESPOND = "respond"
    DEPART = "depart"
    ARRIVE = "arrive"
    FIX = "fix"


class ClockState(enum.StrEnum):
    ON_TIME = "on_time"  # pending, and the projection keeps the margin
    AT_RISK = "at_risk"  # pending, projected inside the margin or past the deadline
    BREACHED = "breached"  # the deadline passed without the event, or the event was late
    MET = "met"  # the event happened by the deadline
    VOID = "void"  # the event will not happen: the ticket was cancelled or solved remotely


@dataclass(frozen=True, slots=True)
class SeverityOffsets:
    """The clock offsets (minutes after `reported_at`) of one severity of a policy."""

    respond_min: int | None
    depart_min: int | None
    arrive_min: int | None
    fix_min: int | None

    def __post_init__(self) -> None:
        for clock in Clock:
            value = getattr(self, f"{clock.value}_min")
            if value is not None and value < 0:
                raise ValueError(f"{clock.value}_min must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The deadline of each clock; None where the policy sets none."""

    respond_by: datetime | None
    depart_by: datetime | None
    arrive_by: datetime | None
    fix_by: datetime | None

    def of(self, clock: Clock) -> datetime | None:
        """The deadline of one clock."""
        value: datetime | None = getattr(self, f"{clock.value}_by")
        return value


def compute_deadlines(
    reported_at: datetime,
    offsets: SeverityOffsets,
    *,
    agreed_arrival: datetime | None = None,
) -> Deadlines:
    """Deadlines of every clock, counted from `reported_at`.

    An arrival appointment agreed with the customer replaces the arrival deadline only when
    it is later (a customer can grant more time, never less); the fix deadline moves by the
    same amount so the repair keeps its promised duration after arrival.
    """
    if reported_at.tzinfo is None:
        raise ValueError("reported_at must carry a time zone")

    def after(minutes: int | None) -> datetime | None:
        return None if minutes is None else reported_at + timedelta(minutes=minutes)

    arrive_by = after(offsets.arrive_min)
    fix_by = after(offsets.fix_min)
    if agreed_arrival is not None:
        if agreed_arrival.tzinfo is None:
            raise ValueError("agreed_arrival must carry a time zone")
        if arrive_by is None or agreed_arrival > arrive_by:
            shift = agreed_arrival - (arrive_by or reported_at)
            arrive_by = agreed_arrival
            fix_by = None if fix_by is None else fix_by + shift
    return Deadlines(
        respond_by=after(offsets.respond_min),
        depart_by=after(offsets.depart_min),
        arrive_by=arrive_by,
        fix_by=fix_by,
    )


def clock_state(
    deadline: datetime,
    *,
    now: datetime,
    margin: timedelta,
    event_at: datetime | None = None,
    projected_at: datetime | None = None,
    reachable: bool = True,
) -> ClockState:
    """The state of one clock at `now`.

    - event happened: MET when at or before the deadline, else BREACHED;
    - now past the deadline (strictly) without the event: BREACHED;
    - nobody can meet it (`reachable=False`): AT_RISK;
    - otherwise the event cannot happen before now, so the projection is
      max(projected_at, now); AT_RISK when it is later than deadline - margin
      (e.g. deadline 12:00, margin 15 min: a projection of 11:45 is on time,
      11:46 is at risk).
    """
    if event_at is not None:
        return ClockState.MET if event_at <= deadline else ClockState.BREACHED
    if now > deadline:
        return ClockState.BREACHED
    if not reachable:
        return ClockState.AT_RISK
    projection = now if projected_at is None else max(projected_at, now)
    if projection > deadline - margin:
        return ClockState.AT_RISK
    return ClockState.ON_TIME
