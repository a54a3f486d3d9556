"""Make room for a new ticket's arrival: the simulator's rule (`optimizer.make_room`) asked
in production.

When no option keeps an open ticket's arrival, the dispatcher asks whether a nearby
engineer's next visit (assigned, not departed) could go to a colleague who keeps its
clocks, so that he takes the new ticket first. The answer pairs the two reassignments;
`apply_room` carries both out in one transaction, through the usual paths (the visit
withdrawn and confirmed to the colleague, the new ticket confirmed, `dispatch.assign`), or
neither. The simulator's optimised policy takes the same answer at intake
(`scenarios.simulate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.assign import Confirmed, confirm_assignment
from dispatch.errors import AssignmentConflict, NotFoundError
from dispatch.models import Assignment, LogKind, PromisePolicy, Ticket
from dispatch.pinning import withdraw_assignment
from dispatch.recommend import recommend_ticket
from dispatch.redispatch import not_departed
from dispatch.snapshot import Snapshot, asked_view, projected_visit, reused_job, ticket_policy
from dispatch.tickets import log_entry


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
    session: Session, *, ticket_id: int, now: datetime, travel: opt.TravelTimes
) -> RoomMade | None:
    """Who makes room for an open ticket whose best option breaks its arrival clock: the
    nearest qualified engineers with a visit not departed, as many as the ticket's promise
    policy says (`make_room_engineers`, the simulator reads the same), are asked
    (`optimizer.make_room`), each priced without its booking (`asked_view`). None: no
    move keeps the arrival for less than the best option costs, or the policy asks nobody."""
    found = recommend_ticket(session, ticket_id=ticket_id, now=now, travel=travel, limit=1)
    snap, job, best = found.snapshot, found.job, found.recommendation.best
    engineers = _engineers_asked(session, ticket_id)
    if engineers == 0 or not opt.wants_room(job, best):
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


@dataclass(frozen=True, slots=True)
class RoomApplied:
    """Both reassignments written: the new ticket's and the moved visit's."""

    taken: Confirmed
    moved: Confirmed


def apply_room(
    session: Session, *, ticket_id: int, engineer_id: int, moved_assignment_id: int,
    moved_to: int, user: User, now: datetime, travel: opt.TravelTimes,
) -> RoomApplied:  # fmt: skip
    """Carry out the room `make_room_for` offers now: the visit ``moved_assignment_id``
    withdrawn and confirmed to ``moved_to``, then the ticket confirmed to ``engineer_id``.

    Both tickets are locked first, in id order (two dispatchers making rooms that cross
    wait for each other instead of deadlocking), and the room is asked again under the
    locks: when the day moved on since it was offered (the visit departed, someone took
    either engineer, the ticket was assigned) it is refused with a 409
    (`AssignmentConflict`) and nothing is written. Flush only: the caller commits.
    """
    moved_row = session.get(Assignment, moved_assignment_id)
    if moved_row is None:
        raise NotFoundError("assignment", moved_assignment_id)
    for tid in sorted({ticket_id, moved_row.ticket_id}):
        if session.get(Ticket, tid, with_for_update=True, populate_existing=True) is None:
            raise NotFoundError("ticket", tid)
    room = make_room_for(session, ticket_id=ticket_id, now=now, travel=travel)
    asked = (engineer_id, moved_assignment_id, moved_to)
    if room is None or (room.engineer_id, room.moved_assignment_id, room.moved_to) != asked:
        raise AssignmentConflict(ticket_id, "this room is not offered now: ask for it again")
    why = f"makes room for {_code(session, ticket_id)}, whose arrival only its engineer keeps"
    withdraw_assignment(session, assignment_id=moved_assignment_id, user=user, now=now, reason=why)
    moved = confirm_assignment(
        session, ticket_id=room.moved_ticket_id, engineer_id=moved_to, user=user, now=now,
        travel=travel, pinned=False,
    )  # fmt: skip
    taken = confirm_assignment(
        session, ticket_id=ticket_id, engineer_id=engineer_id, user=user, now=now,
        travel=travel,
    )  # fmt: skip
    if not _keeps_arrival(taken):
        raise AssignmentConflict(ticket_id, "the room no longer keeps the arrival: ask again")
    moved_ticket = session.get(Ticket, room.moved_ticket_id)
    assert moved_ticket is not None  # locked above
    log_entry(
        session, moved_ticket, user=user, at=now, kind=LogKind.DECISION, reason=why,
        details={"moved_from_assignment_id": moved_assignment_id, "room_for": ticket_id,
                 "room_cost": room.cost, "best_cost": room.best_cost},
    )  # fmt: skip
    return RoomApplied(taken, moved)


def _engineers_asked(session: Session, ticket_id: int) -> int:
    """The ticket's policy's `make_room_engineers` (the ticket exists: it was recommended)."""
    stmt = ticket_policy(PromisePolicy.make_room_engineers).where(Ticket.id == ticket_id)
    return int(session.scalars(stmt).one())


def _keeps_arrival(done: Confirmed) -> bool:
    return all(p.kept for p in done.option.promises if p.promise is opt.Promise.ARRIVAL)


def _code(session: Session, ticket_id: int) -> str:
    ticket = session.get(Ticket, ticket_id)
    return ticket.code if ticket is not None else str(ticket_id)


def _next_visits(session: Session) -> dict[int, Assignment]:
    """Each engineer's next visit not departed yet (the earliest planned departure)."""
    out: dict[int, Assignment] = {}
    for a in session.scalars(not_departed()):
        out.setdefault(a.engineer_id, a)
    return out


def _held(session: Session, snap: Snapshot, a: Assignment, now: int) -> opt.Held:
    """The visit with its projected times (`projected_visit`, as the re-dispatch review)."""
    departs, arrives, _ = projected_visit(
        snap.offset(a.departs_at), snap.offset(a.arrives_at), snap.offset(a.fixes_at),
        pushed=snap.delay(a.engineer_id, a.ticket_id), now=now,
    )  # fmt: skip
    return opt.Held(a.engineer_id, reused_job(session, snap, a.ticket_id), departs, arrives)


__all__ = ["RoomApplied", "RoomMade", "apply_room", "make_room_for"]
