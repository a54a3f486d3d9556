"""Make room for a new ticket's arrival: the simulator's rule (`optimizer.make_room`) asked
in production.

When no option keeps an open ticket's arrival, the dispatcher asks whether a nearby
engineer's next visit (assigned, not departed) could go to a colleague who keeps its
clocks, so that he takes the new ticket first. The answer pairs the two reassignments;
`apply_room` carries both out in one transaction, through the usual paths (the visit
withdrawn and confirmed to the colleague, the new ticket confirmed, `dispatch.assign`), or
neither. The simulator's optimised policy takes the same answer at intake
(`scenarios.simulate`).

When no room is made, an engineer driving to a visit (nothing committed after it, no depot
or shipment on the way) may be diverted to the new ticket first (`optimizer.divert`, the
simulator's rule): his drive stops where he is (the share of it done on the straight line
from where he set off), his visit goes back to dispatch and on to him after the new job or
to a colleague. The same answer says which (`RoomMade.kind`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.assign import Confirmed, confirm_assignment
from dispatch.errors import AssignmentConflict, NotFoundError
from dispatch.models import (
    Assignment,
    Engineer,
    LogKind,
    PromisePolicy,
    Ticket,
    TicketStatus,
)
from dispatch.pinning import withdraw_assignment
from dispatch.recommend import recommend_ticket
from dispatch.redispatch import not_departed
from dispatch.snapshot import (
    ACTIVE_VISIT,
    VISIT_DEPARTED,
    Snapshot,
    asked_view,
    en_route_visit,
    projected_visit,
    reused_job,
    ticket_policy,
)
from dispatch.tickets import log_entry


@dataclass(frozen=True, slots=True)
class RoomMade:
    """The new ticket to ``engineer_id`` and his next visit (``moved_assignment_id``) to
    ``moved_to``, with each plan's times; ``cost`` (fen) is the pair's, net of keeping the
    visit's plan, against ``best_cost``, the best option's without the move (None: nobody).
    ``kind``: "room" (his next visit, not departed, goes to a colleague) or "divert" (he is
    driving to it: he is stopped on the road, the visit goes to ``moved_to``, which may be
    him after the new job)."""

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
    kind: Literal["room", "divert"] = "room"
    stopped_at: opt.Location | None = None  # a divert: where his drive stops (`en_route_at`)


def make_room_for(
    session: Session, *, ticket_id: int, now: datetime, travel: opt.TravelTimes
) -> RoomMade | None:
    """Who makes room for an open ticket whose best option breaks its arrival clock: the
    nearest qualified engineers with a visit not departed, as many as the ticket's promise
    policy says (`make_room_engineers`, the simulator reads the same), are asked
    (`optimizer.make_room`), each priced without its booking (`asked_view`). When none
    makes room, the nearest engineers driving to a visit, as many as the policy's
    `divert_engineers`, are asked whether one takes it first (`optimizer.divert`,
    `divert_for`). None: no move keeps the arrival for less than the best option costs, or
    the policy asks nobody."""
    found = recommend_ticket(session, ticket_id=ticket_id, now=now, travel=travel, limit=1)
    snap, job, best = found.snapshot, found.job, found.recommendation.best
    engineers, drivers = _engineers_asked(session, ticket_id)
    if not opt.wants_room(job, best):
        return None
    room = _room(session, snap, job, best, engineers, now=now, travel=travel)
    if room is None and drivers > 0:
        return _divert(session, snap, job, best, drivers, now=now, travel=travel)
    return room


def _room(
    session: Session, snap: Snapshot, job: opt.Ticket, best: opt.Option | None, engineers: int,
    *, now: datetime, travel: opt.TravelTimes,
) -> RoomMade | None:  # fmt: skip
    """`optimizer.make_room` over the ``engineers`` nearest with a visit not departed."""
    if engineers == 0:
        return None
    ticket_id = job.id
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
    kind: Literal["room", "divert"] = "room",
) -> RoomApplied:  # fmt: skip
    """Carry out the room `make_room_for` offers now: the visit ``moved_assignment_id``
    withdrawn and confirmed to ``moved_to``, then the ticket confirmed to ``engineer_id``.
    A divert (``kind``): his drive is stopped where `en_route_at` puts him (his position
    recorded there, now), the visit withdrawn (its departure cleared: it departs anew), the
    ticket confirmed to him, then the visit to ``moved_to`` (him: after the new job).

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
    asked = (kind, engineer_id, moved_assignment_id, moved_to)
    if (
        room is None
        or (room.kind, room.engineer_id, room.moved_assignment_id, room.moved_to) != asked
    ):
        raise AssignmentConflict(ticket_id, "this room is not offered now: ask for it again")
    if room.kind == "divert":
        return _apply_divert(session, room, user=user, now=now, travel=travel)
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


def _apply_divert(
    session: Session, room: RoomMade, *, user: User, now: datetime, travel: opt.TravelTimes
) -> RoomApplied:
    """`apply_room` for a divert offered again under the locks (``room``)."""
    where = room.stopped_at
    assert where is not None  # a divert's
    engineer = session.get(Engineer, room.engineer_id, with_for_update=True)
    assert engineer is not None  # he drives
    engineer.current_lat, engineer.current_lon, engineer.position_at = where.lat, where.lon, now
    code = _code(session, room.ticket_id)
    why = f"diverted on the road to {code}, whose arrival only he keeps"
    withdraw_assignment(
        session, assignment_id=room.moved_assignment_id, user=user, now=now, reason=why
    )
    moved_ticket = session.get(Ticket, room.moved_ticket_id)
    assert moved_ticket is not None  # locked by apply_room
    # Its depart clock counts anew, as the simulator counts a diverted visit's; where the
    # new visit stands is read from its own assignment's events either way.
    departed, moved_ticket.departed_at = moved_ticket.departed_at, None
    taken = confirm_assignment(
        session, ticket_id=room.ticket_id, engineer_id=room.engineer_id, user=user, now=now,
        travel=travel,
    )  # fmt: skip
    if not _keeps_arrival(taken):
        raise AssignmentConflict(
            room.ticket_id, "the divert no longer keeps the arrival: ask again"
        )
    moved = confirm_assignment(
        session, ticket_id=room.moved_ticket_id, engineer_id=room.moved_to, user=user, now=now,
        travel=travel, pinned=False,
    )  # fmt: skip
    log_entry(
        session, moved_ticket, user=user, at=now, kind=LogKind.DECISION, reason=why,
        details={"moved_from_assignment_id": room.moved_assignment_id,
                 "diverted_for": room.ticket_id, "departed_at": departed.isoformat()
                 if departed is not None else None, "stopped_at": [where.lat, where.lon],
                 "room_cost": room.cost, "best_cost": room.best_cost},
    )  # fmt: skip
    return RoomApplied(taken, moved)


def _divert(
    session: Session, snap: Snapshot, job: opt.Ticket, best: opt.Option | None, drivers: int,
    *, now: datetime, travel: opt.TravelTimes,
) -> RoomMade | None:  # fmt: skip
    """`optimizer.divert` over the ``drivers`` nearest engineers driving to a visit
    (`driving_now`), each priced free where he is on the road without that visit
    (`asked_view`, his position moved to `optimizer.en_route_at`)."""
    at = snap.offset(now)
    driving = driving_now(session, snap, now=now)
    near = opt.nearest_driving(
        snap.world, job, [d for d, _ in driving.values()], now=at, travel=travel, limit=drivers
    )
    if not near:
        return None

    def freed(d: opt.Driving, where: opt.Location) -> opt.Engineer:
        view = asked_view(session, snap, d.ticket.id, now=now).world
        e = view.engineers[view.engineer_row[d.engineer_id]]
        return replace(e, location=where, busy_until=None, busy_location=None, gap=None)

    assert job.ship_within_s is not None  # job_for sets the contract's ship promise
    params = opt.RecommendParams(max_options=1, ship_within_s=job.ship_within_s)
    got = opt.divert(snap.world, job, best, near, freed=freed, now=at, travel=travel, params=params)
    if got is None:
        return None
    moved = driving[got.driving.ticket.id][1]
    return RoomMade(
        job.id, got.option.engineer_id, snap.at(got.option.departs_at),
        snap.at(got.option.arrives_at), got.driving.ticket.id, moved.id,
        got.move.engineer_id, snap.at(got.move.departs_at), snap.at(got.move.arrives_at),
        got.cost, None if best is None else best.cost, "divert",
        opt.en_route_at(got.driving, at),
    )  # fmt: skip


def driving_now(
    session: Session, snap: Snapshot, *, now: datetime
) -> dict[int, tuple[opt.Driving, Assignment]]:
    """The engineers a divert may stop (ticket id -> his drive, its assignment): en route
    to a visit with a recorded departure (the visit's own, `VISIT_DEPARTED`), straight to
    its site (its parts in the van or none: no depot pickup, no shipment), nothing else
    committed to him. He set off from where the snapshot stood him when he departed
    (`optimizer.sets_off_from`: his reported position, or home once he went home since; a
    position reported after the departure is taken as where he set off, an approximation)
    and arrives when `en_route_visit` expects him (his planned drive from the departure,
    not before now)."""
    at = snap.offset(now)
    rows = session.execute(
        select(Ticket.id, VISIT_DEPARTED, Assignment, Engineer.position_at)
        .join(Assignment, ACTIVE_VISIT)
        .join(Engineer, Engineer.id == Assignment.engineer_id)
        .where(
            Ticket.status == TicketStatus.EN_ROUTE,
            VISIT_DEPARTED.is_not(None),
            Assignment.parts_source.in_(("none", "van")),
        )
        .order_by(Ticket.id)
    ).all()
    busy = select(Ticket.engineer_id).where(
        Ticket.status.in_([TicketStatus.ASSIGNED, TicketStatus.ON_SITE]),
        Ticket.engineer_id.is_not(None),
    )
    committed = set(session.scalars(busy))
    world = snap.world
    out: dict[int, tuple[opt.Driving, Assignment]] = {}
    for tid, departed_at, a, position_at in rows:
        eid = a.engineer_id
        if departed_at is None or eid in committed or eid not in world.engineer_row:
            continue
        e = world.engineers[world.engineer_row[eid]]
        departed = snap.offset(departed_at)
        since = departed if position_at is None else snap.offset(position_at)
        home = e.home or e.location
        set_off = opt.sets_off_from(e.location, since, home, e.shifts, departed)
        arrives, _ = en_route_visit(
            departed, snap.offset(a.departs_at), snap.offset(a.arrives_at),
            snap.offset(a.fixes_at), now=at,
        )  # fmt: skip
        job = reused_job(session, snap, tid)
        out[tid] = (opt.Driving(eid, job, set_off, departed, arrives), a)
    return out


def _engineers_asked(session: Session, ticket_id: int) -> tuple[int, int]:
    """The ticket's policy's `make_room_engineers` and `divert_engineers` (the ticket
    exists: it was recommended)."""
    stmt = ticket_policy(PromisePolicy.make_room_engineers, PromisePolicy.divert_engineers).where(
        Ticket.id == ticket_id
    )
    room, drivers = session.execute(stmt).one()
    return int(room), int(drivers)


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
