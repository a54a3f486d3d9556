"""Dispatch: who goes to this ticket, with which part from where, arriving when."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CurrentUser, NowDep, SessionDep, SnapshotsDep, TravelDep, requires
from api.dispatch_schemas import (
    AssignmentRead,
    AssignmentRequest,
    RecommendationRead,
    RecommendationRequest,
)
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.recommend import recommend_ticket

router = APIRouter(prefix="/dispatch", tags=["dispatch"])
DISPATCHERS = (Role.DISPATCHER, Role.ADMIN)


@router.post("/recommendations", dependencies=[requires(*DISPATCHERS)])
def recommend(
    body: RecommendationRequest, session: SessionDep, travel: TravelDep, now: NowDep,
    snapshots: SnapshotsDep,
) -> RecommendationRead:  # fmt: skip
    """Rank the qualified engineers for a ticket; explain who is left out and why."""
    as_of = body.as_of or now
    found = recommend_ticket(
        session, ticket_id=body.ticket_id, now=as_of, travel=travel, limit=body.limit,
        snapshot=snapshots.get(session, now=as_of),
    )  # fmt: skip
    return RecommendationRead.build(found, as_of=as_of, explain=body.explain)


@router.post(
    "/assignments", status_code=status.HTTP_201_CREATED, dependencies=[requires(*DISPATCHERS)]
)
def confirm(
    body: AssignmentRequest, session: SessionDep, user: CurrentUser, travel: TravelDep, now: NowDep
) -> AssignmentRead:
    """Assign the engineer with his current best option: ticket, schedule and parts at once."""
    done = confirm_assignment(
        session, ticket_id=body.ticket_id, engineer_id=body.engineer_id, user=user,
        now=body.as_of or now, travel=travel, pinned=body.pinned,
    )  # fmt: skip
    return AssignmentRead.confirmed(done)
