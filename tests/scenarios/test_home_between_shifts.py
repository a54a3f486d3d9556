"""Issue 16: the simulator sends an engineer home when his shift ends with no work in
progress, so his next shift starts from home, as production's snapshot does and as the
bounds judge (`optimizer.standing_at`: tests/dispatch/test_home_between_shifts.py)."""

from __future__ import annotations

import pytest

from optimizer import Location, heads_home_at, standing_at
from scenarios.demand import ticket_stream
from scenarios.live import LiveState
from scenarios.model import SimWorld
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Demand

DAY = 86_400
HOUR = 3_600


def _degrees(a: Location, b: Location) -> float:
    return abs(a.lat - b.lat) + abs(a.lon - b.lon)


def _far_site(world: SimWorld, home: Location) -> Location:
    return max((s.location for s in world.sites), key=lambda p: _degrees(home, p))


def _where(state: LiveState, eid: int, now: int) -> Location:
    view = state.view(now)
    return view.engineers[view.engineer_row[eid]].location


def test_a_far_last_job_leaves_him_there_until_the_shift_ends_then_home(
    small: SimWorld,
) -> None:
    state = LiveState(small, 3 * DAY)
    engineer = next(e for e in small.engineers if state.windows[e.id])
    eid, home = engineer.id, engineer.home
    (start, end), (following, _) = [w for w in state.windows[eid] if w[0] >= 0][:2]
    site = _far_site(small, home)
    assert _degrees(home, site) > 0.2  # some 20 km or more
    state.view(start)  # built before the job: later views are patched, then rebuilt
    state.commit(eid, end - HOUR, site, start=end - 3 * HOUR)  # his last job of the shift
    assert _where(state, eid, end - HOUR // 2) == site  # on shift, idle where it left him
    assert _where(state, eid, end) == home  # the shift is over: he drove home
    assert _where(state, eid, following) == home  # the next shift starts from home
    assert state.position[eid] == home  # what the naive scan reads
    state.invalidate()
    assert _where(state, eid, following + HOUR) == home  # a fresh view agrees


def test_a_job_past_the_shift_end_sends_him_home_when_done(small: SimWorld) -> None:
    state = LiveState(small, 3 * DAY)
    engineer = next(e for e in small.engineers if state.windows[e.id])
    eid = engineer.id
    _, end = next(w for w in state.windows[eid] if w[0] >= 0)
    site = _far_site(small, engineer.home)
    state.commit(eid, end + HOUR, site, start=end - HOUR)  # overtime
    assert _where(state, eid, end + HOUR // 2) == site  # still at work
    assert _where(state, eid, end + HOUR) == engineer.home


def test_production_and_simulator_read_one_rule(small: SimWorld) -> None:
    shifts = ((0, 8 * HOUR), (DAY, DAY + 8 * HOUR))
    home, site = Location(23.1, 113.3), Location(23.5, 113.6)
    assert heads_home_at(2 * HOUR, shifts) == 8 * HOUR
    assert heads_home_at(9 * HOUR, shifts) == 9 * HOUR  # off shift: straight home
    assert standing_at(site, 2 * HOUR, home, shifts, 7 * HOUR) == site
    assert standing_at(site, 2 * HOUR, home, shifts, DAY) == home


@pytest.mark.parametrize("policy", ["naive", "optimised"])
def test_the_simulated_drive_starts_where_dispatch_planned_it_from(
    small: SimWorld, policy: str
) -> None:
    """The world the simulator runs follows the rule the view plans with: an engineer idle
    past his shift's end set off from home the next day, not from his last job's site (it
    did before, so plans from home ran hours late)."""
    stream = ticket_stream(small, Demand(tickets_per_day=60), horizon_s=3 * DAY, seed=3,
                           replication=0)  # fmt: skip
    result = simulate(small, stream, RunParams("base", policy, 0, 3 * DAY))
    straight = [
        j for j in result.jobs
        if j.source in ("none", "van") and j.departed_at is not None
        and j.departed_at == j.planned_depart and j.arrived_at is not None
    ]  # fmt: skip
    assert len(straight) > 50
    after_a_night = 0
    for j in straight:
        assert j.planned_arrival is not None
        assert j.planned_depart is not None
        assert j.arrived_at - j.departed_at == j.planned_arrival - j.planned_depart, j
        after_a_night += j.departed_at % DAY < 12 * HOUR
    assert after_a_night > 0
