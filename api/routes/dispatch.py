"""Dispatch: who goes to this ticket, with which part from where, arriving when."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from api.deps import (
    CurrentUser,
    NowDep,
    PublishedDep,
    SessionDep,
    SnapshotsDep,
    TravelDep,
    reads_only,
    requires,
)
from api.idempotency import IDEMPOTENT, stock_router
from api.localtime import DisplayZoneDep
from api.schemas.common import IdPath
from api.schemas.dispatch import (
    AssignmentCheckRead,
    AssignmentCheckRequest,
    AssignmentRead,
    AssignmentRequest,
    MoveAccept,
    MoveRead,
    PublishRead,
    RecommendationRead,
    RecommendationRequest,
    RoomAppliedRead,
    RoomApply,
    RoomRead,
    WithdrawRequest,
)
from api.schemas.disruption import DisruptionCreate, DisruptionRead
from api.schemas.plan import InsertCreate, InsertRead
from api.scoping import SCOPED
from db import Role
from db.transactions import restart_as_writer
from dispatch.assign import check_assignment, confirm_assignment
from dispatch.disruptions import disruption_summary, report_disruption
from dispatch.move_store import store_asked, stored_moves
from dispatch.names import engineer_names, ticket_codes
from dispatch.pinning import set_pinned, withdraw_assignment
from dispatch.planning import PlanRequest
from dispatch.publish import diff_against_published, publish_plan
from dispatch.recommend import price_engineer, recommend_ticket
from dispatch.redispatch import accept_move, refresh_stale
from dispatch.replanning import insert_ticket, insertion_summary
from dispatch.room import apply_room, make_room_for

router = APIRouter(prefix="/dispatch", tags=["dispatch"], dependencies=[SCOPED])
# Assigning and publishing hold parts: stock writes, with an Idempotency-Key and retries.
writes = stock_router("/dispatch", ["dispatch"], [SCOPED])
DISPATCHERS = (Role.DISPATCHER, Role.ADMIN)


@router.post(
    "/recommendations",
    dependencies=[requires(*DISPATCHERS), reads_only()],
    response_model=RecommendationRead,
)
def recommend(
    body: RecommendationRequest,
    session: SessionDep,
    travel: TravelDep,
    now: NowDep,
    snapshots: SnapshotsDep,
    zone: DisplayZoneDep,
    response: Response,
) -> Response:
    """Rank the qualified engineers for a ticket; explain who is left out and why.

    Engineers the search stopped before are listed once, together, unpriced (`unreached`);
    `engineer_id` prices one engineer in full (`asked`)."""
    as_of = body.as_of or now
    found = recommend_ticket(
        session,
        ticket_id=body.ticket_id,
        now=as_of,
        travel=travel,
        limit=body.limit,
        snapshot=snapshots.get(session, now=as_of),
        zone=zone,
    )
    asked = None if body.engineer_id is None else price_engineer(found, body.engineer_id)
    # Written here, once (RecommendationRead.json_of): no model per excluded engineer, and
    # FastAPI does not check a built model again. The dependencies' headers (the Time-Zone
    # label) are carried over by hand.
    wire = RecommendationRead.json_of(found, as_of=as_of, explain=body.explain, asked=asked)
    written = Response(wire, media_type="application/json")
    written.raw_headers.extend(h for h in response.raw_headers if h[0] != b"content-length")
    return written


@router.get("/tickets/{ticket_id}/room", dependencies=[requires(*DISPATCHERS), reads_only()])
def room(ticket_id: IdPath, session: SessionDep, travel: TravelDep, now: NowDep) -> RoomRead | None:
    """For an open ticket whose best option breaks its arrival promise: the nearby
    engineer whose next visit (not departed) a colleague keeps, so he takes the ticket
    (the simulator's rule, `optimizer.make_room`), or else an engineer driving to a visit
    diverted to it first (`optimizer.divert`, kind "divert"); null when no such move keeps
    it for less. `POST` the same path makes both reassignments at once."""
    found = make_room_for(session, ticket_id=ticket_id, now=now, travel=travel)
    if found is None:
        return None
    names = engineer_names(session, (found.engineer_id, found.moved_to))
    codes = ticket_codes(session, (found.moved_ticket_id,))
    return RoomRead(
        kind=found.kind, ticket_id=found.ticket_id, engineer_id=found.engineer_id,
        engineer_name=names.get(found.engineer_id, ""), departs_at=found.departs_at,
        arrives_at=found.arrives_at, moved_ticket_id=found.moved_ticket_id,
        moved_ticket_code=codes.get(found.moved_ticket_id, ""),
        moved_assignment_id=found.moved_assignment_id, moved_to=found.moved_to,
        moved_to_name=names.get(found.moved_to, ""), moved_departs_at=found.moved_departs_at,
        moved_arrives_at=found.moved_arrives_at, cost=found.cost, best_cost=found.best_cost,
    )  # fmt: skip


@writes.post("/tickets/{ticket_id}/room", dependencies=[requires(*DISPATCHERS), IDEMPOTENT])
def make_room(
    ticket_id: IdPath, body: RoomApply, session: SessionDep, user: CurrentUser,
    travel: TravelDep, now: NowDep,
) -> RoomAppliedRead:  # fmt: skip
    """Make the room `GET` offered: the visit moves to the colleague, the engineer takes
    the ticket; both or neither. A divert (``kind``) also stops his drive where he is and
    the visit departs anew. 409 (problem+json) when that room is not offered now (the visit
    departed or he arrived, either engineer was taken, the ticket assigned): ask again."""
    done = apply_room(
        session, ticket_id=ticket_id, engineer_id=body.engineer_id,
        moved_assignment_id=body.moved_assignment_id, moved_to=body.moved_to, user=user,
        now=now, travel=travel, kind=body.kind,
    )  # fmt: skip
    return RoomAppliedRead(
        taken=AssignmentRead.confirmed(done.taken), moved=AssignmentRead.confirmed(done.moved)
    )


@router.get("/moves", dependencies=[requires(*DISPATCHERS), reads_only()])
def moves(
    session: SessionDep, travel: TravelDep, now: NowDep, engineer_id: int | None = None,
    region_id: int | None = None,
) -> list[MoveRead]:  # fmt: skip
    """Visits not departed yet that another engineer would serve better (the simulator's
    re-dispatch rules); `POST .../accept` carries one out. Reads the stored answers of the
    worker's tick; visits never asked or out of date are asked now (dispatch.move_store)."""
    version, fresh = refresh_stale(
        session, now=now, travel=travel, region_id=region_id, engineer_id=engineer_id
    )
    if fresh:
        restart_as_writer(session)  # a SQLite reader cannot write once another writer has
        store_asked(session, fresh, now=now, version=version)
    out = []
    for stored in stored_moves(session, region_id=region_id, engineer_id=engineer_id):
        m, to = stored.move, stored.to_label
        out.append(
            MoveRead(
                ticket_id=m.ticket_id, assignment_id=m.assignment_id,
                from_engineer_id=m.from_engineer_id, to_engineer_id=m.to_engineer_id,
                to_engineer=to, departs_at=m.departs_at, arrives_at=m.arrives_at,
                keep_cost=m.keep_cost, move_cost=m.move_cost, late_min=m.late_min,
                pinned=stored.pinned,
                text=f"move to {to} keeps the promise: costs {m.move_cost / 100:.2f} CNY "
                f"against {m.keep_cost / 100:.2f} CNY of broken promises if kept",
            )
        )  # fmt: skip
    return out


@writes.post("/moves/{assignment_id}/accept", dependencies=[requires(*DISPATCHERS), IDEMPOTENT])
def accept(
    assignment_id: IdPath, body: MoveAccept, session: SessionDep, user: CurrentUser,
    travel: TravelDep, now: NowDep,
) -> AssignmentRead:  # fmt: skip
    """Carry out a proposed move: the visit goes to the proposed engineer, the log says why.

    409 (problem+json) when the visit has departed, is pinned, or the move is no longer
    proposed; the new assignment is unpinned.
    """
    done = accept_move(
        session, assignment_id=assignment_id, to_engineer_id=body.to_engineer_id, user=user,
        now=now, travel=travel,
    )  # fmt: skip
    return AssignmentRead.confirmed(done)


@router.post("/checks", dependencies=[requires(*DISPATCHERS), reads_only()])
def check(
    body: AssignmentCheckRequest, session: SessionDep, travel: TravelDep, now: NowDep,
    snapshots: SnapshotsDep,
) -> AssignmentCheckRead:  # fmt: skip
    """Would confirming this engineer be accepted? Skills, shift, parts, promises; no write."""
    as_of = body.as_of or now
    found = check_assignment(
        session, ticket_id=body.ticket_id, engineer_id=body.engineer_id, now=as_of,
        travel=travel, snapshot=snapshots.get(session, now=as_of),
    )  # fmt: skip
    return AssignmentCheckRead.build(found)


@writes.post(
    "/assignments",
    status_code=status.HTTP_201_CREATED,
    dependencies=[requires(*DISPATCHERS), IDEMPOTENT],
)
def confirm(
    body: AssignmentRequest, session: SessionDep, user: CurrentUser, travel: TravelDep, now: NowDep
) -> AssignmentRead:
    """Assign the engineer with his current best option: ticket, schedule and parts at once."""
    done = confirm_assignment(
        session,
        ticket_id=body.ticket_id,
        engineer_id=body.engineer_id,
        user=user,
        now=body.as_of or now,
        travel=travel,
        pinned=body.pinned,
    )
    return AssignmentRead.confirmed(done)


@writes.post("/plans/{plan_id}/publish", dependencies=[requires(*DISPATCHERS), IDEMPOTENT])
def publish(plan_id: IdPath, session: SessionDep, user: CurrentUser, now: NowDep) -> PublishRead:
    """Turn a draft plan into assignments and part holds, all or nothing (409 lists conflicts)."""
    done = publish_plan(session, plan_id=plan_id, user=user, now=now)
    return PublishRead(
        plan_id=done.plan.id,
        stage=str(done.plan.stage),
        assigned=list(done.assigned),
        kept=list(done.kept),
        superseded_plan_id=done.superseded,
    )


@router.get("/plans/{plan_id}/diff", dependencies=[requires(*DISPATCHERS)])
def plan_diff(plan_id: IdPath, session: SessionDep) -> dict[str, Any]:
    """The draft against the published plan it would replace: moves, ETAs, promises, parts."""
    return diff_against_published(session, plan_id=plan_id)


@router.post("/assignments/{assignment_id}/pin", dependencies=[requires(*DISPATCHERS)])
def pin(
    assignment_id: IdPath, session: SessionDep, user: CurrentUser, now: NowDep
) -> AssignmentRead:
    """Keep this active assignment with its engineer through re-plans (409 if not active)."""
    row = set_pinned(session, assignment_id=assignment_id, pinned=True, user=user, now=now)
    return AssignmentRead.of(row)


@router.post("/assignments/{assignment_id}/unpin", dependencies=[requires(*DISPATCHERS)])
def unpin(
    assignment_id: IdPath, session: SessionDep, user: CurrentUser, now: NowDep
) -> AssignmentRead:
    """Let re-plans move this active assignment again (409 if not active)."""
    row = set_pinned(session, assignment_id=assignment_id, pinned=False, user=user, now=now)
    return AssignmentRead.of(row)


@router.post("/assignments/{assignment_id}/withdraw", dependencies=[requires(*DISPATCHERS)])
def withdraw(
    assignment_id: IdPath, body: WithdrawRequest, session: SessionDep, user: CurrentUser,
    now: NowDep,
) -> AssignmentRead:  # fmt: skip
    """Take an active assignment back (ill, van down): the ticket waits for dispatch again.

    Allowed until the fix (assigned, en route, on site); his part holds are released, so
    the next recommendation, plan or publish can send someone else (409 otherwise).
    """
    row = withdraw_assignment(
        session, assignment_id=assignment_id, user=user, now=now, reason=body.reason
    )
    return AssignmentRead.of(row)


@router.post(
    "/plans/{plan_id}/insert", status_code=status.HTTP_201_CREATED,
    dependencies=[requires(*DISPATCHERS)],
)  # fmt: skip
def insert(
    plan_id: IdPath, body: InsertCreate, session: SessionDep, user: CurrentUser,
    travel: TravelDep, now: NowDep, published: PublishedDep,
) -> InsertRead:  # fmt: skip
    """Insert an urgent ticket into the published plan at once: a draft, improved in a job."""
    done = insert_ticket(
        session, plan_id=plan_id, ticket_id=body.ticket_id, change_budget=body.change_budget,
        now=now, travel=travel, user_id=user.id, cache=published,
        allow_eta_moves=body.allow_eta_moves,
    )  # fmt: skip
    return InsertRead.model_validate(insertion_summary(done))


@router.post(
    "/plans/{plan_id}/disruptions", status_code=status.HTTP_201_CREATED,
    dependencies=[requires(*DISPATCHERS)],
)  # fmt: skip
def disrupt(
    plan_id: IdPath, body: DisruptionCreate, session: SessionDep, user: CurrentUser,
    travel: TravelDep, now: NowDep, response: Response,
) -> DisruptionRead:  # fmt: skip
    """Report an absence, an overrun or a part out: a draft re-plan and the promises at risk."""
    # One writer throughout (the session began as one): an absence is recorded, then
    # solved around, in the one transaction that also stores the draft.
    done = report_disruption(
        session, plan_id=plan_id, disruption=body.to_disruption(), now=now, travel=travel,
        user=user, allow_eta_moves=body.allow_eta_moves,
        request=PlanRequest(time_limit_s=body.time_limit_s),
    )  # fmt: skip
    response.headers["Location"] = f"/v1/dispatch/plans/{done.plan.id}"
    return DisruptionRead.model_validate(disruption_summary(done))
