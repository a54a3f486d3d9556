"""Advice for planners over HTTP: queue one (202 + job), poll it, cancel it, see its chart.

The scenario runs' job machinery (`spares worker`, the jobs table, 202 + polling), with
the advice document (docs/advise.md) as the job's payload; the search is scenarios.advise.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from api.deps import CurrentUser, NowDep, SessionDep, requires
from api.routes.scenario_runs import CHART_RESPONSES, PLANNERS, chart_response, job_of_kind
from api.schemas.advice import AdviceRunCreate, AdviceRunRead
from api.schemas.common import IdPath
from db import jobs
from scenarios.job import ADVICE_JOB

router = APIRouter(prefix="/advice", tags=["advice"])


def _run(session: Session, run_id: int) -> jobs.Job:
    return job_of_kind(session, run_id, ADVICE_JOB)


@router.post("/runs", status_code=status.HTTP_202_ACCEPTED, dependencies=[requires(*PLANNERS)])
def create_run(
    body: AdviceRunCreate, session: SessionDep, user: CurrentUser, now: NowDep,
    response: Response,
) -> AdviceRunRead:  # fmt: skip
    """Queue the advice for `spares worker`; poll the answer's url."""
    payload = body.model_dump(mode="json")
    job = jobs.enqueue(session, kind=ADVICE_JOB, payload=payload, user_id=user.id, now=now)
    response.headers["Location"] = f"/v1/advice/runs/{job.id}"
    return AdviceRunRead.of(job)


@router.get("/runs/{run_id}", dependencies=[requires(*PLANNERS)])
def get_run(run_id: IdPath, session: SessionDep) -> AdviceRunRead:
    """Status and progress; once done, the plan, its cost and the attainment measured."""
    return AdviceRunRead.of(_run(session, run_id))


@router.post("/runs/{run_id}/cancel", dependencies=[requires(*PLANNERS)])
def cancel_run(run_id: IdPath, session: SessionDep, now: NowDep) -> AdviceRunRead:
    """Cancel a queued advice at once; a running one stops within a simulated hour."""
    job = _run(session, run_id)
    return AdviceRunRead.of(jobs.request_cancel(session, job_id=job.id, now=now))


@router.get(
    "/runs/{run_id}/charts/{name}",
    dependencies=[requires(*PLANNERS)],
    response_class=FileResponse,
    responses=CHART_RESPONSES,
)
def chart(
    run_id: IdPath, name: Annotated[str, PathParam(max_length=68)], session: SessionDep
) -> FileResponse:
    """The frontier chart of a finished advice, as PNG (names in the answer's `charts`)."""
    return chart_response(_run(session, run_id), name)
