"""The simulator reads the same labour rules as production, and counts overtime against caps."""

from __future__ import annotations

from dataclasses import replace

from dispatch.labour import LabourRules
from scenarios.live import LiveState
from scenarios.model import SimWorld


def test_the_view_carries_each_engineers_labour_rules(small: SimWorld) -> None:
    strict = LabourRules(overtime_max_min=15, start_into_overtime=False)
    first = replace(small.engineers[0], labour=strict)
    world = replace(small, engineers=(first, *small.engineers[1:]))
    view = LiveState(world, 86_400).view(0)
    e = view.engineers[view.engineer_row[first.id]]
    assert (e.overtime_s, e.plan_overtime_s) == (900, 0)
    other = view.engineers[view.engineer_row[small.engineers[1].id]]
    assert other.overtime_s == small.engineers[1].labour.overtime_max_min * 60


def test_overtime_worked_counts_against_the_day_and_week_caps(small: SimWorld) -> None:
    state = LiveState(small, 7 * 86_400)
    eid = next(e for e, w in state.windows.items() if w)
    start, end = state.windows[eid][0]
    state.commit(eid, end + 1_200, small.sites[0].location)  # planned: 20 min over
    state.commit(eid, end + 3_000, small.sites[0].location)  # it ran late: 50 min over
    assert state.overtime_used(eid, end + 2_000) == (0, 0)  # still working: not yet counted
    day, week = state.overtime_used(eid, end + 3_000)
    assert week == 3_000
    assert day == (3_000 if (end + 3_000) // 86_400 == end // 86_400 else 0)
