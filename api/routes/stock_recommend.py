"""Stock recommendations for planners: METRIC base-stock levels against today's stock."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import NowDep, SessionDep, reads_only, requires
from api.schemas.metric import RecommendationCreate, RecommendationRead
from db import Role
from inventory.stock_recommend import recommend_stock

router = APIRouter(tags=["stock"])


@router.post(
    "/stock/recommendations", dependencies=[requires(Role.PLANNER, Role.ADMIN), reads_only()]
)
def recommend(body: RecommendationCreate, session: SessionDep, now: NowDep) -> RecommendationRead:
    """Levels per depot x part that reach the target at least inventory value; nothing stored."""
    found = recommend_stock(
        session=session, now=now, target=body.target, metric=body.metric, region=body.region,
        central_fill=body.central_fill,
    )  # fmt: skip
    return RecommendationRead.of(found)
