"""Promise clocks: deadlines from the policy and every state at its boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.promises import (
    Clock,
    ClockState,
    SeverityOffsets,
    clock_state,
    compute_deadlines,
)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
MARGIN = timedelta(minutes=15)
# domain.md, default policy
URGENT = SeverityOffsets(respond_min=10, depart_min=15, arrive_min=120, fix_min=240)
GENERAL = SeverityOffsets(respond_min=120, depart_min=None, arrive_min=120, fix_min=480)


class TestComputeDeadlines:
    def test_urgent_default_policy(self) -> None:
        d = compute_deadlines(T0, URGENT)
        assert d.respond_by == T0 + timedelta(minutes=10)
        assert d.depart_by == T0 + timedelta(minutes=15)
        assert d.arrive_by == T0 + timedelta(hours=2)
        assert d.fix_by == T0 + timedelta(hours=4)

    def test_clock_without_offset_has_no_deadline(self) -> None:
        assert compute_deadlines(T0, GENERAL).depart_by is None
        assert compute_deadlines(T0, GENERAL).of(Clock.DEPART) is None

    def test_later_agreed_appointment_moves_arrival_and_fix(self) -> None:
        # 08:00 + 2 h = 10:00 promised; customer agrees 14:00 -> fix 08:00+8h+4h = 20:00
        d = compute_deadlines(T0, GENERAL, agreed_arrival=T0 + timedelta(hours=6))
        assert d.arrive_by == T0 + timedelta(hours=6)
        assert d.fix_by == T0 + timedelta(hours=12)
        assert d.respond_by == T0 + timedelta(hours=2)

    def test_earlier_appointment_does_not_shorten_the_promise(self) -> None:
        d = compute_deadlines(T0, GENERAL, agreed_arrival=T0 + timedelta(hours=1))
        assert d.arrive_by == T0 + timedelta(hours=2)

    def test_severity_change_recomputes_from_the_same_start(self) -> None:
        assert compute_deadlines(T0, GENERAL).fix_by == T0 + timedelta(hours=8)
        assert compute_deadlines(T0, URGENT).fix_by == T0 + timedelta(hours=4)

    def test_naive_start_is_refused(self) -> None:
        with pytest.raises(ValueError, match="time zone"):
            compute_deadlines(datetime(2026, 11, 2, 8), URGENT)  # noqa: DTZ001

    def test_negative_offset_is_refused(self) -> None:
        with pytest.raises(ValueError, match="fix_min must be >= 0"):
            SeverityOffsets(respond_min=1, depart_min=1, arrive_min=1, fix_min=-1)


class TestClockState:
    deadline = T0 + timedelta(hours=2)  # 10:00

    def state(self, **kwargs: object) -> ClockState:
        return clock_state(self.deadline, margin=MARGIN, **kwargs)  # type: ignore[arg-type]

    def test_event_exactly_at_deadline_is_met(self) -> None:
        assert self.state(now=T0, event_at=self.deadline) is ClockState.MET

    def test_event_one_second_late_is_breached(self) -> None:
        late = self.deadline + timedelta(seconds=1)
        assert self.state(now=late, event_at=late) is ClockState.BREACHED

    def test_now_exactly_at_deadline_is_not_yet_breached(self) -> None:
        assert self.state(now=self.deadline) is ClockState.AT_RISK

    def test_now_past_deadline_without_event_is_breached(self) -> None:
        assert self.state(now=self.deadline + timedelta(seconds=1)) is ClockState.BREACHED

    def test_projection_at_margin_edge_is_on_time(self) -> None:
        # 10:00 - 15 min = 09:45: projected 09:45 keeps the margin
        edge = self.deadline - MARGIN
        assert self.state(now=T0, projected_at=edge) is ClockState.ON_TIME

    def test_projection_inside_margin_is_at_risk(self) -> None:
        inside = self.deadline - MARGIN + timedelta(seconds=1)
        assert self.state(now=T0, projected_at=inside) is ClockState.AT_RISK

    def test_unreachable_is_at_risk_even_early(self) -> None:
        assert self.state(now=T0, reachable=False) is ClockState.AT_RISK

    def test_without_projection_time_running_out_is_at_risk(self) -> None:
        assert self.state(now=self.deadline - timedelta(minutes=10)) is ClockState.AT_RISK
        assert self.state(now=self.deadline - timedelta(minutes=20)) is ClockState.ON_TIME

    def test_projection_in_the_past_counts_from_now(self) -> None:
        now = self.deadline - timedelta(minutes=5)
        assert self.state(now=now, projected_at=T0) is ClockState.AT_RISK


@given(
    offset=st.integers(min_value=0, max_value=10_000),
    now_min=st.integers(min_value=-10_000, max_value=20_000),
    projected_min=st.none() | st.integers(min_value=-10_000, max_value=20_000),
)
def test_state_is_monotonic_in_time(offset: int, now_min: int, projected_min: int | None) -> None:
    """Later `now` never improves a pending clock: on time -> at risk -> breached."""
    deadline = T0 + timedelta(minutes=offset)
    projected = None if projected_min is None else T0 + timedelta(minutes=projected_min)
    order = [ClockState.ON_TIME, ClockState.AT_RISK, ClockState.BREACHED]
    now = T0 + timedelta(minutes=now_min)
    earlier = clock_state(deadline, now=now, margin=MARGIN, projected_at=projected)
    later = clock_state(
        deadline, now=now + timedelta(minutes=1), margin=MARGIN, projected_at=projected
    )
    assert order.index(later) >= order.index(earlier)
