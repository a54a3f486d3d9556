"""Route plans: plan a region (at once, or as a job to poll), read a plan as JSON or GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from api.deps import CurrentUser, NowDep, SessionDep, TravelDep, requires, writes_late
from api.schemas.common import IdPath
from api.schemas.plan import JobRead, PlanCreate, PlanRead
from api.scoping import SCOPED
from db import Role
from db.transactions import restart_as_writer
from dispatch import planning
from dispatch.geojson import MEDIA_TYPE, plan_geojson

router = APIRouter(prefix="/dispatch/plans", tags=["dispatch"], dependencies=[SCOPED])
PLANNERS = (Role.DISPATCHER, Role.ADMIN)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[requires(*PLANNERS), writes_late()],
    responses={202: {"model": JobRead, "description": "too large to answer at once: a job"}},
)
def create_plan(
    body: PlanCreate, session: SessionDep, user: CurrentUser, travel: TravelDep, now: NowDep,
    response: Response,
) -> PlanRead | JobRead:  # fmt: skip
    """Plan routes for a region's open tickets or a list; large requests answer 202 + a job."""
    prepared = planning.prepare_plan(session, body.to_request())
    if not prepared.run_now:
        restart_as_writer(session)  # the preparation read; the job writes
        job = planning.enqueue_plan(session, prepared, user_id=user.id, now=now)
        response.status_code, response.headers["Location"] = 202, f"/v1/jobs/{job.id}"
        return JobRead.of(job)
    computed = planning.compute_plan(session, prepared, now=now, travel=travel)
    restart_as_writer(session)  # the solve read; the insert writes
    row = planning.store_plan(session, computed, user_id=user.id, job_id=None, now=now)
    response.headers["Location"] = f"/v1/dispatch/plans/{row.id}"
    return PlanRead.of(row)


# Declared before "/{plan_id}": that path's parameter would otherwise take "7.geojson".
@router.get(
    "/{plan_id}.geojson",
    dependencies=[requires(*PLANNERS)],
    response_class=JSONResponse,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "a FeatureCollection"}},
)
def plan_as_geojson(plan_id: IdPath, session: SessionDep) -> JSONResponse:
    """The plan as GeoJSON: routes as LineStrings, stops and dropped tickets as Points."""
    row = planning.get_plan(session, plan_id)
    return JSONResponse(plan_geojson(row.result or {}, plan_id=row.id), media_type=MEDIA_TYPE)


@router.get(
    "/{plan_id}",
    dependencies=[requires(*PLANNERS)],
    response_model=PlanRead,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "JSON, or GeoJSON on request"}},
)
def get_plan(
    plan_id: IdPath,
    session: SessionDep,
    format: Annotated[Literal["json", "geojson"], Query(description="json or geojson")] = "json",
) -> PlanRead | JSONResponse:
    """The plan: routes, dropped tickets with reasons, KPIs, quality, validator findings."""
    row = planning.get_plan(session, plan_id)
    if format == "geojson":
        body = plan_geojson(row.result or {}, plan_id=row.id)
        return JSONResponse(body, media_type=MEDIA_TYPE)
    return PlanRead.of(row)
