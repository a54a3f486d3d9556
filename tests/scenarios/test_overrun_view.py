"""Issue 16: an engineer on site past his job's planned end is not free "now". Production's
snapshot and the simulator's view read his job with one rule (`optimizer.overrun_ends` over
the duration log, `dispatch.durations.DurationLog.ends_at`): the same situation, the same
free time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.assign import confirm_assignment
from dispatch.durations import DurationLog, duration_policy
from dispatch.models import PromisePolicy, TicketStatus, TicketType
from dispatch.snapshot import load_snapshot
from dispatch.tickets import transition
from scenarios.live import LiveState, OnSite
from scenarios.model import SimWorld
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, open_ticket

DAY = 86_400
MIN = 60
TRAVEL = opt.GeodesicTravelTimes()
EXTRA_MIN = (-20, 0, 20, 40, 60)  # the logged jobs: their standard and these minutes


def _on_site_since_t0(session: Session) -> tuple[int, int, int]:
    """Haizhu on site since T0 at a ticket whose type logged EXTRA_MIN jobs: (his id, the
    type, its standard in seconds)."""
    dw = make_dispatch_world(session, with_part=False)
    session.execute(update(PromisePolicy).values(plan_min_jobs=len(EXTRA_MIN)))
    job = open_ticket(session, dw.base, severity="general")
    kind = session.get(TicketType, job.ticket_type_id)
    assert kind is not None
    for extra in EXTRA_MIN:  # finished jobs of the type: the log
        done = open_ticket(session, dw.base, severity="general")
        done.status = TicketStatus.CLOSED
        done.arrived_at = T0 - timedelta(days=1)
        done.fixed_at = done.arrived_at + timedelta(minutes=kind.service_min + extra)
    session.flush()
    confirm_assignment(
        session, ticket_id=job.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=T0 - timedelta(hours=1), travel=TRAVEL,
    )  # fmt: skip
    for step in (TicketStatus.EN_ROUTE, TicketStatus.ON_SITE):
        transition(session, ticket_id=job.id, target=step, user=dw.base.dispatcher, now=T0)
    return dw.haizhu.id, kind.id, kind.service_min * MIN


def _free_in(busy_until: int | None) -> int:
    """Seconds from now until he is free (busy until now, or none: free now)."""
    return 0 if busy_until is None else max(0, busy_until)


def _production_free_in(session: Session, engineer_id: int, elapsed_min: int) -> int:
    """When he is free in production's snapshot `elapsed_min` after T0, from then (s)."""
    snap = load_snapshot(session, now=T0 + timedelta(minutes=elapsed_min))
    return _free_in(next(e.busy_until for e in snap.world.engineers if e.id == engineer_id))


def _simulator_free_in(
    small: SimWorld, session: Session, elapsed_min: int, type_id: int, standard_s: int
) -> int:
    """The same job in the simulator's view: on site from 10:00 of day 1, the same log
    and the contract's duration policy; busy until, seconds from `elapsed_min` later."""
    policy_row = session.scalars(select(PromisePolicy)).first()
    policy = duration_policy(policy_row)
    log = DurationLog.of((type_id, standard_s, standard_s + m * MIN) for m in EXTRA_MIN)
    planned = log.planning_s(type_id, standard_s, policy)
    state = LiveState(small, 2 * DAY, log)
    engineer, site = small.engineers[2], small.sites[5].location
    started = DAY + 2 * 3_600
    state.view(started)  # built before the job: later views are patched
    state.commit(engineer.id, started + planned, site, start=started - 600, arrives=started,
                 key=7)  # fmt: skip
    state.serving(engineer.id, OnSite(7, started, planned, type_id, standard_s, policy))
    now = started + elapsed_min * MIN
    view = state.view(now)
    busy = view.engineers[view.engineer_row[engineer.id]].busy_until
    fresh = LiveState.__new__(LiveState)  # a view built afresh reads the same
    fresh.__dict__.update(state.__dict__)
    built = fresh._build(now)
    assert built.engineers[built.engineer_row[engineer.id]].busy_until == busy
    assert (
        view.engineer_arrays.busy_until[view.engineer_row[engineer.id]]
        == (built.engineer_arrays.busy_until[built.engineer_row[engineer.id]])
    )
    return _free_in(None if busy is None else busy - now)


@pytest.mark.parametrize("past_plan_min", [-10, 5, 30, 200])
def test_production_and_the_simulator_see_him_free_at_the_same_time(
    session: Session, small: SimWorld, past_plan_min: int
) -> None:
    engineer_id, type_id, standard_s = _on_site_since_t0(session)
    planned_min = standard_s // MIN + 20  # EXTRA_MIN's median and mean: 20 min over it
    assert _production_free_in(session, engineer_id, 0) == planned_min * MIN  # just arrived
    elapsed = planned_min + past_plan_min
    production = _production_free_in(session, engineer_id, elapsed)
    assert production == _simulator_free_in(small, session, elapsed, type_id, standard_s)
    if past_plan_min < 0:
        assert production == -past_plan_min * MIN  # within the plan: its planned end
    elif past_plan_min == 5:  # 85 min in: 100 and 120 ran longer (110 on average)
        assert production == (110 - 85) * MIN  # not free now: he was, before
    elif past_plan_min == 30:  # 110 min in: only the 120-minute job ran longer
        assert production == 10 * MIN
    else:
        assert production == 0  # longer than every logged job: the log knows no later end
