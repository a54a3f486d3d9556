"""Preventive inspections: generated with wide windows, dropped first, carried over."""

from __future__ import annotations

import pytest

from optimizer import (
    Frequency,
    InspectionPolicy,
    InspectionSite,
    PlanParams,
    carry_over,
    inspection_visits,
    plan,
)
from tests.optimizer.builders import HOUR, grid, grid_travel, make_engineer, make_ticket, make_world

TRAVEL = grid_travel()
POLICY = InspectionPolicy(window_s=3 * 86_400, severity_rank=3)
# inspections rank 3 with the smallest weight: their drop penalty is 10x a general repair's
PARAMS = PlanParams(
    time_limit_ms=None, solution_limit=50, failure_limit=2_000,
    severity_weights=(10_000, 1_000, 100, 10),
)  # fmt: skip
SITES = (
    InspectionSite(7, grid(4, 4), Frequency.QUARTERLY, {"server": 1}, first_month=2),
    InspectionSite(5, grid(3, 3), Frequency.MONTHLY, {"server": 1}),
)


class TestGenerate:
    def test_monthly_every_month_quarterly_one_month_in_three(self) -> None:
        may = inspection_visits(SITES, month=5, period_start=0, first_id=1, policy=POLICY, now=0)
        june = inspection_visits(SITES, month=6, period_start=0, first_id=1, policy=POLICY, now=0)
        assert [t.site_id for t in may] == [5, 7]  # Feb, May, Aug, Nov
        assert [t.site_id for t in june] == [5]

    def test_windows_are_as_wide_as_the_policy_and_low_priority(self) -> None:
        (t,) = inspection_visits(
            SITES[1:], month=1, period_start=-HOUR, first_id=50, policy=POLICY, now=0
        )
        assert (t.id, t.not_before, t.arrive_by) == (50, 0, 3 * 86_400)
        assert t.severity_rank == 3
        assert not t.hard_arrival

    def test_a_bad_month_is_refused(self) -> None:
        with pytest.raises(ValueError, match="month"):
            inspection_visits(SITES, month=13, period_start=0, first_id=1, policy=POLICY, now=0)


class TestPlanning:
    def test_a_full_day_drops_the_inspection_first_and_carries_it_over(self) -> None:
        # a 2 h shift, a 75 min repair and a 75 min inspection: only one fits
        world = make_world([make_engineer(1, (3, 2), shifts=((0, 2 * HOUR),))])
        repair = make_ticket((3, 4), ticket_id=1, service_s=75 * 60, severity_rank=2,
                             arrive_by=None, fix_by=None)  # fmt: skip
        site = InspectionSite(5, grid(3, 3), Frequency.MONTHLY, {"server": 1}, service_s=75 * 60)
        visits = inspection_visits(
            [site], month=1, period_start=0, first_id=2, policy=POLICY, now=0
        )
        out = plan(world, [repair, *visits], now=0, travel=TRAVEL, params=PARAMS)
        assert out.is_feasible(), out.violations
        assert [d.ticket_id for d in out.dropped] == [2]
        (again,) = carry_over(out.dropped, visits, now=86_400, policy=POLICY)
        assert (again.id, again.not_before, again.arrive_by) == (2, 86_400, 4 * 86_400)

    def test_a_served_inspection_is_not_carried_over(self) -> None:
        visits = inspection_visits(SITES, month=5, period_start=0, first_id=1, policy=POLICY, now=0)
        assert carry_over((), visits, now=HOUR, policy=POLICY) == ()
