"""The simulator reads the same labour rules as production, and counts overtime against caps."""

from __future__ import annotations

from dataclasses import replace

from dispatch.labour import LabourRules
from optimizer import Location
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


def _capped(small: SimWorld) -> tuple[LiveState, int, int, Location]:
    """An engineer whose day and week caps equal the per-visit allowance (an hour), and a
    visit committed to him (ticket 7) planned to end 50 minutes past his first shift."""
    capped = LabourRules(overtime_max_min=60, overtime_day_max_min=60, overtime_week_max_min=60)
    first = replace(small.engineers[0], labour=capped)
    state = LiveState(replace(small, engineers=(first, *small.engineers[1:])), 7 * 86_400)
    _, end = state.windows[first.id][0]
    site = small.sites[0].location
    state.commit(first.id, end + 3_000, site, start=end - 7_200, arrives=end - 6_600, key=7)
    return state, first.id, end, site


def _allowance(state: LiveState, eid: int, now: int) -> int:
    view = state.view(now)
    return view.engineers[view.engineer_row[eid]].overtime_s


def test_a_visit_worked_into_overtime_spends_the_caps(small: SimWorld) -> None:
    state, eid, end, site = _capped(small)
    state.departed(eid, 7, end - 7_200)
    state.finished(eid, 7, site, since=end + 3_000, start=end - 7_200)
    assert _allowance(state, eid, end + 4_000) == 600  # an hour's cap less 50 minutes


def test_a_visit_handed_over_gives_its_overtime_back(small: SimWorld) -> None:
    """Production counts the overtime of the jobs he fixed (`snapshot.overtime_worked`),
    not of an assignment withdrawn: a later visit may use the whole allowance."""
    state, eid, end, _ = _capped(small)
    state.released(eid, 7, end - 9_000)  # handed to another engineer before departing
    assert _allowance(state, eid, end + 4_000) == 3_600
    assert state.overtime_used(eid, end + 4_000) == (0, 0)


def test_a_visit_interrupted_gives_its_overtime_back(small: SimWorld) -> None:
    state, eid, end, _ = _capped(small)
    state.finished(eid, 7, None)  # the job process interrupted: handed to someone else
    assert _allowance(state, eid, end + 4_000) == 3_600
