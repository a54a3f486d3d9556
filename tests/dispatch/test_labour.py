"""Labour rules are data: resolution (group, region, defaults), caps, and what the solver gets."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from dispatch.labour import (
    DEFAULT_LABOUR_RULES,
    LabourRules,
    overtime_allowance_s,
    overtime_cap,
    overtime_used,
    rules_for,
    solver_fields,
    tally_overtime,
)
from dispatch.models import Assignment, AssignmentStatus, LabourRule, Shift, TicketStatus
from dispatch.recommend import recommend_ticket
from dispatch.snapshot import load_snapshot
from optimizer import Engineer, GeodesicTravelTimes, Location
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = GeodesicTravelTimes()


class TestAllowance:
    def test_the_per_visit_allowance_when_the_caps_have_room(self) -> None:
        assert overtime_allowance_s(DEFAULT_LABOUR_RULES) == 120 * 60

    def test_the_day_cap_cuts_what_is_left(self) -> None:
        # 120 min a day, 90 used: 30 min left, below the 120 min per visit.
        assert overtime_allowance_s(DEFAULT_LABOUR_RULES, used_day_s=90 * 60) == 30 * 60

    def test_the_week_cap_cuts_what_is_left_and_never_below_zero(self) -> None:
        assert overtime_allowance_s(DEFAULT_LABOUR_RULES, used_week_s=470 * 60) == 10 * 60
        assert overtime_allowance_s(DEFAULT_LABOUR_RULES, used_week_s=900 * 60) == 0

    def test_negative_numbers_are_refused(self) -> None:
        with pytest.raises(ValueError, match="overtime_max_min"):
            LabourRules(overtime_max_min=-1)


class TestResolution:
    group, region = LabourRules(overtime_max_min=10), LabourRules(overtime_max_min=20)

    def test_the_group_overrides_the_region(self) -> None:
        found = rules_for(
            own_rule_id=1, region_id=5, by_id={1: self.group}, by_region={5: self.region}
        )
        assert found is self.group

    def test_the_region_without_a_group(self) -> None:
        found = rules_for(own_rule_id=None, region_id=5, by_id={}, by_region={5: self.region})
        assert found is self.region

    def test_the_documented_defaults_without_either(self) -> None:
        assert (
            rules_for(own_rule_id=None, region_id=5, by_id={}, by_region={}) is DEFAULT_LABOUR_RULES
        )


class TestSolverFields:
    def test_no_start_into_overtime_plans_no_overtime_but_keeps_the_allowance(self) -> None:
        fields = solver_fields(
            LabourRules(start_into_overtime=False, overtime_cost_per_hour=Decimal("60"))
        )
        e = Engineer(1, Location(23.1, 113.3), {}, ((0, 3_600),), **fields)
        assert (e.overtime_s, e.plan_overtime_s, e.overtime_cost_per_hour) == (7_200, 0, 6_000)


class TestSnapshot:
    def test_region_and_group_rules_reach_the_solver(self, session: Session) -> None:
        dw = make_dispatch_world(session)
        region = LabourRule(
            code="R", name="region", region_id=dw.base.region.id, overtime_max_min=45
        )
        group = LabourRule(code="G", name="group", overtime_max_min=5, start_into_overtime=False)
        session.add_all([region, group])
        session.flush()
        dw.panyu.labour_rule_id = group.id
        session.flush()
        snap = load_snapshot(session, now=T0)
        by_id = {e.id: e for e in snap.world.engineers}
        assert (by_id[dw.haizhu.id].overtime_s, by_id[dw.haizhu.id].plan_overtime_s) == (
            2_700,
            2_700,
        )
        assert (by_id[dw.panyu.id].overtime_s, by_id[dw.panyu.id].plan_overtime_s) == (300, 0)
        assert by_id[dw.haizhu.id].overtime_cost_per_hour == 9_000  # the default 90.00 CNY

    def test_without_rules_every_engineer_gets_the_defaults(self, session: Session) -> None:
        dw = make_dispatch_world(session)
        snap = load_snapshot(session, now=T0)
        e = next(x for x in snap.world.engineers if x.id == dw.haizhu.id)
        assert (e.overtime_s, e.start_into_overtime) == (7_200, True)

    def test_an_on_call_shift_is_not_working_time(self, session: Session) -> None:
        dw = make_dispatch_world(session)
        before = next(
            e for e in load_snapshot(session, now=T0).world.engineers if e.id == dw.yuexiu.id
        )
        for weekday in range(7):
            session.add(
                Shift(engineer_id=dw.yuexiu.id, weekday=weekday, starts_at=time(20),
                      ends_at=time(23), on_call=True)
            )  # fmt: skip
        session.flush()
        after = next(
            e for e in load_snapshot(session, now=T0).world.engineers if e.id == dw.yuexiu.id
        )
        assert after.shifts == before.shifts


class TestOvertimeWorked:
    """One rule counts overtime already worked, in the snapshot and in the simulator."""

    windows = ((0, 100), (200, 300))

    def test_a_job_past_a_window_end_is_its_overtime_the_latest_wins(self) -> None:
        jobs = [(None, 150), (90, 120), (None, 250), (None, 330)]
        assert tally_overtime({}, self.windows, jobs) == {100: 50, 300: 30}

    def test_a_job_begun_after_the_window_while_on_call_is_a_call_out(self) -> None:
        jobs = [(120, 180), (90, 110)]
        # the call-out is no overrun of the shift, but its 60 s are worked: keyed by its start
        assert tally_overtime({}, self.windows, jobs, on_call=[(100, 200)]) == {100: 10, 120: 60}
        assert tally_overtime({}, self.windows, jobs) == {100: 80}  # a chain of overruns

    def test_call_out_work_counts_against_the_day_and_week_caps(self) -> None:
        """A night woken on call is overtime worked: the next day's allowance is smaller."""
        worked = tally_overtime({}, self.windows, [(120, 180)], on_call=[(100, 200)])
        assert overtime_used(worked, now=400, day_start=0, week_start=0) == (60, 60)
        assert overtime_used(worked, now=150, day_start=0, week_start=0) == (0, 0)  # not over
        assert overtime_used(worked, now=400, day_start=150, week_start=0) == (0, 60)
        into_shift = tally_overtime({}, self.windows, [(150, 260)], on_call=[(100, 200)])
        assert into_shift == {150: 50}  # from the shift's start at 200 it is shift time

    def test_only_overtime_over_by_now_and_in_the_week_counts(self) -> None:
        by_window = {100: 50, 300: 30}
        assert overtime_used(by_window, now=400, day_start=250, week_start=0) == (30, 80)
        assert overtime_used(by_window, now=320, day_start=250, week_start=0) == (0, 50)
        assert overtime_used(by_window, now=400, day_start=250, week_start=200) == (30, 30)

    def test_the_cap_that_cut_the_allowance_is_named(self) -> None:
        assert overtime_cap(DEFAULT_LABOUR_RULES) is None
        assert overtime_cap(DEFAULT_LABOUR_RULES, used_day_s=60 * 60) == "day"
        assert overtime_cap(DEFAULT_LABOUR_RULES, used_week_s=400 * 60) == "week"

    @staticmethod
    def _fixed(
        session: Session, dw: DispatchWorld, at: datetime, departed: datetime | None = None
    ) -> None:
        """A ticket Haizhu fixed at ``at`` (the work the snapshot reads)."""
        ticket = open_ticket(session, dw.base)
        ticket.engineer_id, ticket.status, ticket.fixed_at = dw.haizhu.id, TicketStatus.FIXED, at
        ticket.departed_at = departed
        session.flush()

    def test_the_snapshot_reads_the_overtime_worked_today(self, session: Session) -> None:
        dw = make_dispatch_world(session)
        # Haizhu works 08:00-20:00 Guangzhou (12:00 UTC); he fixed a ticket at 21:30 local.
        self._fixed(session, dw, T0 + timedelta(hours=5, minutes=30))
        now = T0 + timedelta(hours=7)  # Monday 23:00 local
        e = next(x for x in load_snapshot(session, now=now).world.engineers if x.id == dw.haizhu.id)
        assert (e.overtime_s, e.overtime_cap) == (30 * 60, "day")  # 120 a day, 90 worked
        tomorrow = T0 + timedelta(days=1, hours=7)
        e = next(
            x for x in load_snapshot(session, now=tomorrow).world.engineers if x.id == dw.haizhu.id
        )
        assert (e.overtime_s, e.overtime_cap) == (120 * 60, None)  # a new day, 390 left this week

    def test_a_visit_moved_away_counts_against_its_new_engineer_only(
        self, session: Session
    ) -> None:
        """Haizhu's visit planned to end 21:30 local was withdrawn and Panyu fixed it then:
        the overtime is Panyu's; Haizhu's allowance is whole (the simulator's rule too,
        `LiveState.finished`)."""
        dw = make_dispatch_world(session)
        ticket = open_ticket(session, dw.base)
        at = T0 + timedelta(hours=5, minutes=30)  # Monday 21:30 local
        session.add(
            Assignment(ticket_id=ticket.id, engineer_id=dw.haizhu.id,
                       status=AssignmentStatus.WITHDRAWN, departs_at=at - timedelta(hours=2),
                       arrives_at=at - timedelta(hours=1), fixes_at=at, parts_source="none",
                       created_at=T0, created_by_id=dw.base.dispatcher.id, closed_at=T0)
        )  # fmt: skip
        ticket.engineer_id, ticket.status, ticket.fixed_at = dw.panyu.id, TicketStatus.FIXED, at
        session.flush()
        now = T0 + timedelta(hours=7)  # Monday 23:00 local
        engineers = {x.id: x for x in load_snapshot(session, now=now).world.engineers}
        assert (engineers[dw.haizhu.id].overtime_s, engineers[dw.haizhu.id].overtime_cap) == (
            120 * 60, None,
        )  # fmt: skip
        assert (engineers[dw.panyu.id].overtime_s, engineers[dw.panyu.id].overtime_cap) == (
            30 * 60, "day",
        )  # fmt: skip

    def test_the_snapshot_counts_a_call_out_against_the_day_cap(self, session: Session) -> None:
        dw = make_dispatch_world(session)
        # On call Monday 20:00-24:00 local after his 08:00-20:00 shift; woken, he set off at
        # 21:00 and fixed at 22:00 local: an hour of call-out work.
        session.add(
            Shift(engineer_id=dw.haizhu.id, weekday=0, starts_at=time(20, 0),
                  ends_at=time(0, 0), on_call=True)
        )  # fmt: skip
        self._fixed(session, dw, T0 + timedelta(hours=6), departed=T0 + timedelta(hours=5))
        now = T0 + timedelta(hours=7)  # Monday 23:00 local
        e = next(x for x in load_snapshot(session, now=now).world.engineers if x.id == dw.haizhu.id)
        assert (e.overtime_s, e.overtime_cap) == (60 * 60, "day")  # 120 a day, 60 worked

    def test_a_spent_week_cap_keeps_him_out_of_overtime_and_the_option_says_so(
        self, session: Session
    ) -> None:
        dw = make_dispatch_world(session)
        rule = LabourRule(code="W", name="week", overtime_week_max_min=150)
        session.add(rule)
        session.flush()
        dw.haizhu.labour_rule_id = rule.id
        self._fixed(session, dw, T0 + timedelta(hours=6))  # Monday 22:00 local: 120 min
        self._fixed(session, dw, T0 + timedelta(days=1, hours=4, minutes=30))  # Tue 20:30: 30 min
        now = T0 + timedelta(days=2, hours=3, minutes=30)  # Wednesday 19:30 local
        rec = recommend_ticket(session, ticket_id=dw.ticket.id, now=now, travel=TRAVEL, limit=5)
        snap = rec.snapshot
        e = next(x for x in snap.world.engineers if x.id == dw.haizhu.id)
        assert (e.overtime_s, e.overtime_cap) == (0, "week")
        option = next(o for o in rec.recommendation.options if o.engineer_id == dw.haizhu.id)
        assert option.overtime_s == 0
        assert snap.at(option.departs_at) >= now + timedelta(hours=12, minutes=30)  # Thu 08:00
        assert "week's overtime cap leaves 0 min" in option.reason
