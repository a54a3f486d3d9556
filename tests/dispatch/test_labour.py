"""Labour rules are data: resolution (group, region, defaults), caps, and what the solver gets."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from dispatch.labour import (
    DEFAULT_LABOUR_RULES,
    LabourRules,
    overtime_allowance_s,
    rules_for,
    solver_fields,
)
from dispatch.models import LabourRule, Shift
from dispatch.snapshot import load_snapshot
from optimizer import Engineer, Location
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0


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
