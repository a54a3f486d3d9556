"""Visits not departed yet that another engineer would serve better: the simulator's rule.

The simulator re-dispatches a visit that has not departed when its plan breaks a clock that
another engineer's fresh option keeps at a lower cost (`optimizer.better_elsewhere`, issue
16). Production asks the same rule here, on a fresh snapshot: the dispatcher sees each
proposed move (who, when it would depart and arrive, and what keeping the plan costs) and
decides; `accept_move` carries one out through the dispatcher's own reassignment path
(withdraw, then confirm), only while the rule still proposes it and the visit is neither
departed nor pinned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.assign import Confirmed, confirm_assignment
from dispatch.errors import AssignmentConflict, NotFoundError
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Contract,
    LogKind,
    PromisePolicy,
    Site,
    Ticket,
    TicketStatus,
)
from dispatch.names import engineer_label
from dispatch.pinning import withdraw_assignment
from dispatch.recommend import recommend_ticket
from dispatch.snapshot import load_snapshot
from dispatch.tickets import log_entry


@dataclass(frozen=True, slots=True)
class Move:
    """A proposed move of one visit not departed yet: to whom, and what it saves."""

    ticket_id: int
    assignment_id: int
    from_engineer_id: int
    to_engineer_id: int
    departs_at: datetime
    arrives_at: datetime
    keep_cost: int  # fen: the clocks' penalties if the plan is kept
    move_cost: int  # fen: the option's cost (penalties + travel + overtime)
    late_min: int = 0  # how late the planned engineer would arrive (0: the arrival is kept)

    def reason(self, session: Session) -> str:
        """The audit's words: who keeps the promise, and how late the plan would be."""
        to, frm = (
            engineer_label(session, self.to_engineer_id),
            engineer_label(session, self.from_engineer_id),
        )
        return f"re-dispatched: {to} keeps the promise, {frm} would be {self.late_min} min late"


def proposed_moves(
    session: Session, *, now: datetime, travel: opt.TravelTimes, engineer_id: int | None = None
) -> list[Move]:
    """The moves `optimizer.better_elsewhere` proposes for assignments not departed yet.

    Each visit is projected to depart at its planned time, or now when that is past (its
    engineer has not set off); another engineer's option is proposed when it costs less than
    the penalties of keeping it. ``engineer_id``: only his visits (e.g. his job just ended
    late or early). One snapshot serves every visit.
    """
    stmt = (
        select(Assignment)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(
            Assignment.status == AssignmentStatus.ACTIVE,
            Ticket.status == TicketStatus.ASSIGNED,
        )
        .order_by(Assignment.departs_at, Assignment.id)
    )
    if engineer_id is not None:
        stmt = stmt.where(Assignment.engineer_id == engineer_id)
    rows = list(session.scalars(stmt))
    if not rows:
        return []
    snap = load_snapshot(session, now=now)
    out = []
    for a in rows:
        rec = recommend_ticket(
            session, ticket_id=a.ticket_id, now=now, travel=travel, snapshot=snap
        )
        departs = max(snap.offset(a.departs_at), snap.offset(now))
        arrives = departs + snap.offset(a.arrives_at) - snap.offset(a.departs_at)
        fixes = departs + snap.offset(a.fixes_at) - snap.offset(a.departs_at)
        better = opt.better_elsewhere(
            rec.recommendation, rec.job, engineer_id=a.engineer_id, departs_at=departs,
            arrives_at=arrives, fixes_at=fixes,
        )  # fmt: skip
        if better is None:
            continue
        keep = opt.planned_cost(rec.job, departs_at=departs, arrives_at=arrives, fixes_at=fixes)
        due = rec.job.arrive_by
        late = 0 if due is None else max(0, arrives - due) // 60
        out.append(
            Move(
                a.ticket_id,
                a.id,
                a.engineer_id,
                better.engineer_id,
                snap.at(better.departs_at),
                snap.at(better.arrives_at),
                keep,
                better.cost,
                late,
            )  # fmt: skip
        )
    return out


def accept_move(
    session: Session,
    *,
    assignment_id: int,
    to_engineer_id: int,
    user: User,
    now: datetime,
    travel: opt.TravelTimes,
) -> Confirmed:
    """Carry out a proposed move: withdraw the visit from its engineer, confirm the other.

    Refused (AssignmentConflict, a 409) when the visit has departed, is pinned (a
    dispatcher's promise: unpin it first), or the rule no longer proposes this engineer
    (the day moved on since the proposal). The ticket's row is locked first, as every
    reassignment does; the new assignment stays unpinned (re-plans may move it again) and
    the ticket log says why it moved. Flush only: the caller commits or rolls back.
    """
    found = session.get(Assignment, assignment_id)
    if found is None:
        raise NotFoundError("assignment", assignment_id)
    ticket = session.get(Ticket, found.ticket_id, with_for_update=True, populate_existing=True)
    assert ticket is not None  # foreign key
    row = session.get(Assignment, assignment_id, populate_existing=True)
    assert row is not None  # assignments are never deleted
    if row.status is not AssignmentStatus.ACTIVE or ticket.status is not TicketStatus.ASSIGNED:
        raise AssignmentConflict(
            ticket.id, f"the visit is {ticket.status}: only a visit not departed yet moves"
        )
    if row.pinned:
        raise AssignmentConflict(ticket.id, "the visit is pinned to its engineer: unpin it first")
    move = next(
        (
            m
            for m in proposed_moves(session, now=now, travel=travel, engineer_id=row.engineer_id)
            if m.assignment_id == row.id and m.to_engineer_id == to_engineer_id
        ),
        None,
    )
    if move is None:
        raise AssignmentConflict(
            ticket.id, f"the move to {engineer_label(session, to_engineer_id)} is not proposed now"
        )
    why = move.reason(session)
    withdraw_assignment(session, assignment_id=row.id, user=user, now=now, reason=why)
    done = confirm_assignment(
        session, ticket_id=ticket.id, engineer_id=to_engineer_id, user=user, now=now,
        travel=travel, pinned=False,
    )  # fmt: skip
    log_entry(
        session, ticket, user=user, at=now, kind=LogKind.DECISION, reason=why,
        details={"moved_from_assignment_id": row.id, "keep_cost": move.keep_cost,
                 "move_cost": move.move_cost, "late_min": move.late_min},
    )  # fmt: skip
    return done


def redispatch(
    session: Session,
    *,
    now: datetime,
    travel: opt.TravelTimes,
    user: User,
    engineer_id: int | None = None,
) -> list[Move]:
    """The triggers' step (a job's end recorded, the worker's tick): apply the moves whose
    ticket's policy says so (`redispatch_apply`), propose the rest; the moves applied.

    A pinned visit is never moved; a move refused meanwhile (409: departed, part taken)
    is rolled back alone and stays a proposal. ``engineer_id``: only his visits.
    """
    moves = proposed_moves(session, now=now, travel=travel, engineer_id=engineer_id)
    applied = []
    for move in moves:
        row = session.get(Assignment, move.assignment_id)
        if row is None or row.pinned or not _applies(session, move.ticket_id):
            continue
        try:
            with session.begin_nested():
                accept_move(
                    session, assignment_id=move.assignment_id, to_engineer_id=move.to_engineer_id,
                    user=user, now=now, travel=travel,
                )  # fmt: skip
        except AssignmentConflict:
            continue
        applied.append(move)
    return applied


def _applies(session: Session, ticket_id: int) -> bool:
    """Whether the ticket's promise policy applies a move at once (default: propose only)."""
    stmt = (
        select(PromisePolicy.redispatch_apply)
        .join(Contract, Contract.policy_id == PromisePolicy.id)
        .join(Site, Site.contract_id == Contract.id)
        .join(Ticket, Ticket.site_id == Site.id)
        .where(Ticket.id == ticket_id)
    )
    return bool(session.scalars(stmt).one_or_none())
