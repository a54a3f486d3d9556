"""Visits not departed yet that another engineer would serve better: the simulator's rule.

The simulator re-dispatches a visit that has not departed when its plan breaks a clock that
another engineer's fresh option keeps at a lower cost (`optimizer.better_elsewhere`, issue
16). Production asks the same rule here, on a fresh snapshot: when a job's end is recorded
or on the worker's tick, the dispatcher sees each proposed move (who, when it would depart
and arrive, and what keeping the plan costs) and decides; nothing is moved by this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.models import Assignment, AssignmentStatus, Ticket, TicketStatus
from dispatch.recommend import recommend_ticket
from dispatch.snapshot import load_snapshot


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
            )  # fmt: skip
        )
    return out
