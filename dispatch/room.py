"""Make room for a new ticket's arrival: the simulator's rule (`optimizer.make_room`) asked
in production.

When no option keeps an open ticket's arrival, the dispatcher asks whether a nearby
engineer's next visit (assigned, not departed) could go to a colleague who keeps its
clocks, so that he takes the new ticket first. The answer pairs the two reassignments;
the dispatcher carries them out through the usual paths (the visit's move as a re-dispatch,
`dispatch.redispatch`; the new ticket's assignment, `dispatch.assign`). The simulator's
optimised policy takes the same answer at intake (`scenarios.simulate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.models import Assignment, AssignmentStatus, Ticket, TicketStatus
from dispatch.recommend import recommend_ticket
from dispatch.snapshot import Snapshot, asked_view, projected_visit, reused_job


@dataclass(frozen=True, slots=True)
class RoomMade:
    """The new ticket to ``engineer_id`` and his next visit (``moved_assignment_id``) to
    ``moved_to``, with each plan's times; ``cost`` (fen) is the pair's, net of keeping the
    visit's plan, against ``best_cost``, the best option's without the move (None: nobody)."""

    ticket_id: int
    engineer_id: int
    departs_at: datetime
    arrives_at: datetime
    moved_ticket_id: int
    moved_assignment_id: int
    moved_to: int
    moved_departs_at: datetime
    moved_arrives_at: datetime
    cost: int
    best_cost: int | None


def make_room_for(
    session: Session, *, ticket_id: int, now: datetime, travel: opt.TravelTimes,
    engineers: int = opt.MAKE_ROOM_ENGINEERS,
) -> RoomMade | None:  # fmt: skip
    """Who makes room for an open ticket whose best option breaks its arrival clock: the
    ``engineers`` nearest qualified engineers with a visit not departed are asked
    (`optimizer.make_room`), each priced without its booking (`asked_view`). None: no
    move keeps the arrival for less than the best option costs."""
    found = recommend_ticket(session, ticket_id=ticket_id, now=now, travel=travel, limit=1)
    snap, job, best = found.snapshot, found.job, found.recommendation.best
    if not opt.wants_room(job, best):
        return None
    nxt = _next_visits(session)
    near = opt.nearest_held(snap.world, job, nxt, travel=travel, limit=engineers)
    if not near:
        return None
    at = snap.offset(now)
    held = [_held(session, snap, nxt[eid], at) for eid in near]
    by_ticket = {h.ticket.id: nxt[h.engineer_id] for h in held}

    def freed(h: opt.Held) -> opt.Engineer:
        view = asked_view(session, snap, h.ticket.id, now=now).world
        return view.engineers[view.engineer_row[h.engineer_id]]

    assert job.ship_within_s is not None  # job_for sets the contract's ship promise
    params = opt.RecommendParams(max_options=1, ship_within_s=job.ship_within_s)
    room = opt.make_room(
        snap.world, job, best, held, freed=freed, now=at, travel=travel, params=params
    )
    if room is None:
        return None
    return RoomMade(
        ticket_id, room.option.engineer_id, snap.at(room.option.departs_at),
        snap.at(room.option.arrives_at), room.held.ticket.id, by_ticket[room.held.ticket.id].id,
        room.move.engineer_id, snap.at(room.move.departs_at), snap.at(room.move.arrives_at),
        room.cost, None if best is None else best.cost,
    )  # fmt: skip


def _next_visits(session: Session) -> dict[int, Assignment]:
    """Each engineer's next visit not departed yet (the earliest planned departure)."""
    stmt = (
        select(Assignment)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(
            Assignment.status == AssignmentStatus.ACTIVE,
            Ticket.status == TicketStatus.ASSIGNED,
        )
        .order_by(Assignment.departs_at, Assignment.id)
    )
    out: dict[int, Assignment] = {}
    for a in session.scalars(stmt):
        out.setdefault(a.engineer_id, a)
    return out


def _held(session: Session, snap: Snapshot, a: Assignment, now: int) -> opt.Held:
    """The visit with its projected times (`projected_visit`, as the re-dispatch review)."""
    departs, arrives, _ = projected_visit(
        snap.offset(a.departs_at), snap.offset(a.arrives_at), snap.offset(a.fixes_at),
        pushed=snap.delay(a.engineer_id, a.ticket_id), now=now,
    )  # fmt: skip
    return opt.Held(a.engineer_id, reused_job(session, snap, a.ticket_id), departs, arrives)


__all__ = ["RoomMade", "make_room_for"]
