"""An engineer still on site past his job's planned end plus the policy's threshold (the
simulator's `redispatch_after_min`): his next visits are asked the simulator's overrun rule
(`optimizer.keeps_what_was_planned`), once per overrun; every answer is stored."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.assign import confirm_assignment
from dispatch.models import (
    Assignment,
    MoveProposal,
    PromisePolicy,
    Ticket,
    TicketStatus,
    TicketType,
)
from dispatch.move_store import overrun_due, store_asked, stored_moves
from dispatch.moves import RULE_OVERRUN, overrunning
from dispatch.redispatch import review
from dispatch.tickets import transition
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


def _on_site(session: Session, dw: DispatchWorld, at: datetime) -> tuple[int, Assignment]:
    """Haizhu on site since ``at`` at one ticket, his next (general) visit planned after it:
    (the planned duration of his job in seconds, the next visit's assignment)."""
    first = open_ticket(session, dw.base, severity="general")
    confirm_assignment(
        session, ticket_id=first.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=at - timedelta(hours=1), travel=TRAVEL,
    )  # fmt: skip
    for step in (TicketStatus.EN_ROUTE, TicketStatus.ON_SITE):
        transition(session, ticket_id=first.id, target=step, user=dw.base.dispatcher, now=at)
    nxt = open_ticket(session, dw.base, severity="general")
    confirm_assignment(
        session, ticket_id=nxt.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher, now=at,
        travel=TRAVEL,
    )  # fmt: skip
    row = session.scalars(select(Assignment).where(Assignment.ticket_id == nxt.id)).one()
    kind = session.get(TicketType, first.ticket_type_id)
    assert kind is not None
    return kind.service_min * 60, row  # the log is empty: the standard duration is planned


def test_an_engineer_within_the_threshold_is_not_overrunning(
    session: Session, dw: DispatchWorld
) -> None:
    planned_s, _ = _on_site(session, dw, T0)
    # e.g. arrived 08:00, planned 60 min, threshold 15 min: 09:15 is not past it yet
    at = T0 + timedelta(seconds=planned_s, minutes=15)
    assert overrunning(session, now=at) == {}
    assert overrun_due(session, now=at) == []


def test_past_the_threshold_his_next_visit_is_asked_the_overrun_rule_once(
    session: Session, dw: DispatchWorld
) -> None:
    planned_s, nxt = _on_site(session, dw, T0)
    passed = T0 + timedelta(seconds=planned_s, minutes=15)
    at = passed + timedelta(minutes=1)
    assert overrunning(session, now=at) == {dw.haizhu.id: passed}
    assert overrun_due(session, now=at) == [nxt.id]
    asked = review(session, now=at, travel=TRAVEL, assignment_ids=[nxt.id])
    assert [(a.assignment_id, a.rule) for a in asked] == [(nxt.id, RULE_OVERRUN)]
    store_asked(session, asked, now=at)
    stored = session.get(MoveProposal, nxt.id)
    assert stored is not None
    assert (stored.rule, stored.reviewed_at) == (RULE_OVERRUN, at)
    # asked once per overrun: the next rounds of the worker leave it alone
    assert overrun_due(session, now=at + timedelta(minutes=5)) == []


def test_the_threshold_is_the_policys(session: Session, dw: DispatchWorld) -> None:
    planned_s, _ = _on_site(session, dw, T0)
    session.execute(update(PromisePolicy).values(redispatch_after_min=60))
    at = T0 + timedelta(seconds=planned_s, minutes=16)
    assert overrunning(session, now=at) == {}
    assert overrunning(session, now=at + timedelta(minutes=45)) != {}


def test_a_move_the_overrun_rule_proposes_keeps_the_arrival_the_plan_kept(
    session: Session, dw: DispatchWorld
) -> None:
    # 30-minute jobs: at 08:46 Panyu (44 min away) still arrives by 10:00, as Haizhu's plan does
    session.execute(update(TicketType).values(service_min=30))
    planned_s, nxt = _on_site(session, dw, T0)
    ticket = session.get(Ticket, nxt.ticket_id)
    assert ticket is not None
    assert ticket.arrive_by is not None
    assert nxt.arrives_at <= ticket.arrive_by  # the plan keeps the arrival
    at = T0 + timedelta(seconds=planned_s, minutes=16)
    store_asked(session, review(session, now=at, travel=TRAVEL), now=at)
    (stored,) = stored_moves(session)
    move = stored.move
    assert stored.to_label.startswith("engineer ")
    assert (move.assignment_id, move.rule) == (nxt.id, RULE_OVERRUN)
    assert move.from_engineer_id == dw.haizhu.id != move.to_engineer_id
    assert move.arrives_at <= ticket.arrive_by  # so does the move
