"""Call-outs on stored data: on-call shifts and labour rules reach the recommendation."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.models import Absence, Assignment, LabourRule, Shift
from dispatch.planning import PlanRequest, plan_region
from dispatch.publish import publish_plan
from dispatch.recommend import recommend_ticket
from dispatch.snapshot import load_snapshot
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()


def _nobody_at_work(session: Session, dw: DispatchWorld) -> None:
    """Haizhu and Panyu are away for the afternoon; Liwan (nights) is on call from 14:00."""
    for e in (dw.haizhu, dw.panyu):
        session.add(
            Absence(engineer_id=e.id, starts_at=T0 - timedelta(hours=1),
                    ends_at=T0 + timedelta(hours=6), reason="training")
        )  # fmt: skip
    for weekday in range(7):
        session.add(
            Shift(engineer_id=dw.liwan.id, weekday=weekday, starts_at=time(14),
                  ends_at=time(22), on_call=True)
        )  # fmt: skip
    session.flush()


def test_the_on_call_engineer_is_woken_at_his_rules_cost(session: Session) -> None:
    dw = make_dispatch_world(session, with_part=False)
    _nobody_at_work(session, dw)
    rule = LabourRule(code="OC", name="on call", callout_cost=450, callout_lead_min=20)
    session.add(rule)
    session.flush()
    dw.liwan.labour_rule_id = rule.id
    session.flush()
    ticket = open_ticket(session, dw.base)  # urgent
    found = recommend_ticket(session, ticket_id=ticket.id, now=T0, travel=TRAVEL)
    best = found.recommendation.options[0]
    assert (best.engineer_id, best.callout, best.callout_cost) == (dw.liwan.id, True, 45_000)
    assert found.snapshot.at(best.departs_at) == T0 + timedelta(minutes=20)
    assert "call-out" in best.reason


def test_a_general_ticket_waits_for_the_next_shift(session: Session) -> None:
    dw = make_dispatch_world(session, with_part=False)
    _nobody_at_work(session, dw)
    ticket = open_ticket(session, dw.base, severity="general")
    found = recommend_ticket(session, ticket_id=ticket.id, now=T0, travel=TRAVEL)
    assert not any(o.callout for o in found.recommendation.options)


def test_on_call_windows_reach_the_world_apart_from_working_time(session: Session) -> None:
    dw = make_dispatch_world(session)
    _nobody_at_work(session, dw)
    world = load_snapshot(session, now=T0).world
    (on_call,) = world.on_call
    assert on_call.engineer.id == dw.liwan.id
    assert (on_call.cost, on_call.lead_s, on_call.max_rank) == (30_000, 1_800, 1)  # defaults
    assert any(s <= 0 < e for s, e in on_call.engineer.shifts)  # 14:00-22:00 local: now
    liwan = next(e for e in world.engineers if e.id == dw.liwan.id)
    assert not any(s <= 0 < e for s, e in liwan.shifts)


def test_the_planner_wakes_him_and_publishing_assigns_the_call_out(session: Session) -> None:
    dw = make_dispatch_world(session)  # the ticket needs a part: Baiyun depot has it
    _nobody_at_work(session, dw)
    request = PlanRequest(ticket_ids=(dw.ticket.id,), time_limit_s=None, failure_limit=50)
    plan = plan_region(
        session, request=request, now=T0, travel=TRAVEL, user_id=dw.base.dispatcher.id
    )
    assert plan.result is not None
    (woken,) = plan.result["callouts"]
    assert (woken["ticket_id"], woken["engineer_id"]) == (dw.ticket.id, dw.liwan.id)
    assert woken["callout_cost_minor"] == 30_000
    assert not plan.result["routes"]
    done = publish_plan(session, plan_id=plan.id, user=dw.base.dispatcher, now=T0)
    assert done.assigned == (dw.ticket.id,)
    a = session.scalars(select(Assignment)).one()
    assert a.engineer_id == dw.liwan.id
    assert a.departs_at.isoformat() == woken["departs_at"]
