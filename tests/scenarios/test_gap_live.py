"""Issue 16: the simulator reads committed work with production's rule (`optimizer.free_gap`):
a visit committed for later leaves the time before it free, and a job placed there runs
before it, one job at a time."""

from __future__ import annotations

from dataclasses import replace

from optimizer import Reserved, free_gap
from scenarios.demand import ticket_stream
from scenarios.live import LiveState
from scenarios.model import SimWorld
from scenarios.records import RunResult
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Demand, PlanningChange
from scenarios.whatif import planning

DAY = 86_400
HOUR = 3_600


def test_the_view_offers_the_gap_production_would(small: SimWorld) -> None:
    state = LiveState(small, 2 * DAY)
    view = state.view(0)  # built before the commitment: the next view is patched
    engineer = small.engineers[2]
    site = small.sites[5].location
    state.commit(engineer.id, 6 * HOUR, site, start=5 * HOUR, arrives=5 * HOUR + 600, key=7)
    patched = state.view(0)
    assert patched is view
    e = patched.engineers[patched.engineer_row[engineer.id]]
    expected = free_gap(0, [Reserved(5 * HOUR, 5 * HOUR + 600, 6 * HOUR, site)])
    assert e.busy_until == expected.busy_until == 6 * HOUR
    assert expected.gap is not None
    assert e.gap == replace(expected.gap, origin=engineer.home)  # free now, where he stands
    fresh = LiveState.__new__(LiveState)
    fresh.__dict__.update(state.__dict__)
    built = fresh._build(0)
    assert built.engineers[built.engineer_row[engineer.id]].gap == e.gap
    a, b = view.engineer_arrays, built.engineer_arrays
    for name in ("gap_ready", "gap_origin", "gap_back", "gap_back_by", "busy_until"):
        assert (getattr(a, name) == getattr(b, name)).all(), name


def test_the_visit_is_over_the_gap_closes(small: SimWorld) -> None:
    state = LiveState(small, 2 * DAY)
    eid, site = small.engineers[2].id, small.sites[5].location
    state.commit(eid, 6 * HOUR, site, start=5 * HOUR, arrives=5 * HOUR + 600, key=7)
    state.finished(eid, 7, None)  # handed to someone else
    view = state.view(0)
    assert view.engineers[view.engineer_row[eid]].gap is None


def test_an_engineer_works_one_job_at_a_time(small: SimWorld) -> None:
    stream = ticket_stream(
        small, Demand(tickets_per_day=120), horizon_s=2 * DAY, seed=5, replication=0
    )
    result = simulate(small, stream, RunParams("base", "optimised", 0, 2 * DAY))
    _assert_one_job_at_a_time(result)


def test_a_visit_handed_over_frees_him_and_without_it_reads_the_same(small: SimWorld) -> None:
    """`LiveState.without` (what `optimizer.make_room` prices a new ticket on) is the engineer
    the view shows once the visit is handed over (`LiveState.released`), and changes nothing."""
    state = LiveState(small, 2 * DAY)
    eid, site = small.engineers[2].id, small.sites[5].location
    state.commit(eid, 6 * HOUR, site, start=5 * HOUR, arrives=5 * HOUR + 600, key=7)
    view = state.view(0)
    before = view.engineers[view.engineer_row[eid]]
    assert before.busy_until == 6 * HOUR
    alone = state.without(eid, 7, 0)
    assert state.view(0).engineers[view.engineer_row[eid]] == before  # nothing changed
    state.released(eid, 7, 0)
    after = state.view(0).engineers[view.engineer_row[eid]]
    assert after.busy_until is None
    assert after.gap is None
    assert (alone.busy_until, alone.gap, alone.location) == (None, None, after.location)


def test_made_room_engineers_still_work_one_job_at_a_time(small: SimWorld) -> None:
    """Every policy asks 5 engineers (`planning` change: the policies' data the run reads);
    the same run with policies asking none plans otherwise."""
    stream = ticket_stream(
        small, Demand(tickets_per_day=160), horizon_s=2 * DAY, seed=5, replication=0
    )
    grace = 15 * 60
    params = RunParams("base", "optimised", 0, 2 * DAY, redispatch_grace_s=grace, make_room=True)
    five = planning(small, PlanningChange(kind="planning", make_room_engineers=5))
    result = simulate(five, stream, params)
    _assert_one_job_at_a_time(result)
    assert sum(j.fixed_at is not None for j in result.jobs) > 0
    none = planning(small, PlanningChange(kind="planning", make_room_engineers=0))
    assert _plans(result) != _plans(simulate(none, stream, params))  # rooms were made


def _plans(result: RunResult) -> list[tuple[int, int | None, int | None]]:
    return [(j.ticket_id, j.engineer_id, j.arrived_at) for j in result.jobs]


def test_made_room_and_diverted_engineers_still_work_one_job_at_a_time(
    small: SimWorld,
) -> None:
    """Rooms made and drivers diverted from the road (`optimizer.divert`): no engineer's
    jobs overlap, and every visit whose drive was stopped is still fixed."""
    stream = ticket_stream(
        small, Demand(tickets_per_day=160), horizon_s=2 * DAY, seed=5, replication=0
    )
    params = RunParams(
        "base", "optimised", 0, 2 * DAY, redispatch_grace_s=15 * 60, make_room=True,
        divert=True,
    )  # fmt: skip
    change = PlanningChange(kind="planning", make_room_engineers=5, divert_engineers=5)
    five = planning(small, change)
    result = simulate(five, stream, params)
    _assert_one_job_at_a_time(result)
    stopped = [j for j in result.jobs if j.diverted]
    assert len(stopped) == result.diverted >= 1
    assert all(j.fixed_at is not None for j in stopped)


def test_stopped_on_the_road_he_is_free_there_and_on_the_road_reads_the_same(
    small: SimWorld,
) -> None:
    """`LiveState.on_the_road` (what `optimizer.divert` prices a new ticket on) is the
    engineer the view shows once his drive is stopped (`LiveState.diverted`), and changes
    nothing."""
    state = LiveState(small, 2 * DAY)
    eid, site = small.engineers[2].id, small.sites[5].location
    start = next(s for s, _ in state.windows[eid] if s >= 0)  # his first shift's start
    state.commit(eid, start + HOUR, site, start=start, arrives=start + 600, key=7)
    state.departed(eid, 7, start)
    now = start + 300
    view = state.view(now)
    before = view.engineers[view.engineer_row[eid]]
    assert before.busy_until == start + HOUR
    road = small.sites[6].location  # a stand-in for a point on his way
    alone = state.on_the_road(eid, 7, road, now)
    assert state.view(now).engineers[view.engineer_row[eid]] == before  # nothing changed
    state.diverted(eid, 7, road, now)
    after = state.view(now).engineers[view.engineer_row[eid]]
    assert (after.busy_until, after.gap, after.location) == (None, None, road)
    assert (alone.busy_until, alone.gap, alone.location) == (None, None, road)


def _assert_one_job_at_a_time(result: RunResult) -> None:
    """No engineer's jobs overlap, from setting off to the fix."""
    by_engineer: dict[int, list[tuple[int, int]]] = {}
    for j in result.jobs:
        if j.engineer_id is not None and j.departed_at is not None and j.fixed_at is not None:
            by_engineer.setdefault(j.engineer_id, []).append((j.departed_at, j.fixed_at))
    for jobs in by_engineer.values():
        jobs.sort()
        assert all(a[1] <= b[0] for a, b in zip(jobs, jobs[1:], strict=False))
