"""Dispatch: who goes to this ticket, with which part from where, arriving when."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import NowDep, SessionDep, TravelDep, requires
from api.dispatch_schemas import RecommendationRead, RecommendationRequest
from db import Role
from dispatch.recommend import recommend_ticket

router = APIRouter(prefix="/dispatch", tags=["dispatch"])
DISPATCHERS = (Role.DISPATCHER, Role.ADMIN)


@router.post("/recommendations", dependencies=[requires(*DISPATCHERS)])
def recommend(
    body: RecommendationRequest, session: SessionDep, travel: TravelDep, now: NowDep
) -> RecommendationRead:
    """Rank the qualified engineers for a ticket; explain who is left out and why."""
    as_of = body.as_of or now
    found = recommend_ticket(
        session, ticket_id=body.ticket_id, now=as_of, travel=travel, limit=body.limit
    )
    return RecommendationRead.build(found, as_of=as_of, explain=body.explain)
