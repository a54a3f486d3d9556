"""Scenario runs for planners: queue one (202 + job), poll it, cancel it."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from api.deps import CurrentUser, NowDep, SessionDep, requires
from api.schemas.common import IdPath
from api.schemas.scenario import ScenarioRunCreate, ScenarioRunRead
from db import Role, jobs
from scenarios.job import SCENARIO_JOB

router = APIRouter(prefix="/scenarios/runs", tags=["scenarios"])
PLANNERS = (Role.PLANNER, Role.ADMIN)


def _run(session: Session, run_id: int) -> jobs.Job:
    """The job of a scenario run; another kind of job is not found here (404)."""
    job = jobs.get_job(session, run_id)
    if job.kind != SCENARIO_JOB:
        raise jobs.JobNotFoundError(run_id)
    return job


@router.post("", status_code=status.HTTP_202_ACCEPTED, dependencies=[requires(*PLANNERS)])
def create_run(
    body: ScenarioRunCreate, session: SessionDep, user: CurrentUser, now: NowDep,
    response: Response,
) -> ScenarioRunRead:  # fmt: skip
    """Queue the scenario for `spares worker`; poll the answer's url."""
    payload = body.model_dump(mode="json")
    job = jobs.enqueue(session, kind=SCENARIO_JOB, payload=payload, user_id=user.id, now=now)
    response.headers["Location"] = f"/v1/scenarios/runs/{job.id}"
    return ScenarioRunRead.of(job)


@router.get("/{run_id}", dependencies=[requires(*PLANNERS)])
def get_run(run_id: IdPath, session: SessionDep) -> ScenarioRunRead:
    """Status and progress; once done, the KPIs and the chart file names."""
    return ScenarioRunRead.of(_run(session, run_id))


@router.post("/{run_id}/cancel", dependencies=[requires(*PLANNERS)])
def cancel_run(run_id: IdPath, session: SessionDep, now: NowDep) -> ScenarioRunRead:
    """Cancel a queued run at once; a running one stops within a simulated hour."""
    job = _run(session, run_id)
    return ScenarioRunRead.of(jobs.request_cancel(session, job_id=job.id, now=now))
