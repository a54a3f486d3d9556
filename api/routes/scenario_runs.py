"""Scenario runs for planners: queue one (202 + job), poll it, cancel it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from api.deps import CurrentUser, NowDep, SessionDep, requires
from api.schemas.common import IdPath
from api.schemas.scenario import ExampleRead, ScenarioRunCreate, ScenarioRunRead
from db import Role, jobs
from scenarios.catalogue import example_scenarios
from scenarios.job import SCENARIO_JOB

router = APIRouter(prefix="/scenarios", tags=["scenarios"])
PLANNERS = (Role.PLANNER, Role.ADMIN)
CHART_NAME = re.compile(r"[a-z0-9_]{1,64}\.png")


def job_of_kind(session: Session, job_id: int, kind: str) -> jobs.Job:
    """The job if it is of `kind`; another kind of job is not found here (404)."""
    job = jobs.get_job(session, job_id)
    if job.kind != kind:
        raise jobs.JobNotFoundError(job_id)
    return job


def _run(session: Session, run_id: int) -> jobs.Job:
    """The job of a scenario run."""
    return job_of_kind(session, run_id, SCENARIO_JOB)


def chart_response(job: jobs.Job, name: str) -> FileResponse:
    """A chart the job's report lists, as PNG; any other name, or a missing file: 404."""
    result = job.result or {}
    if not CHART_NAME.fullmatch(name) or name not in result.get("files", []):
        raise HTTPException(404, f"run {job.id} has no chart {name!r}")
    path = Path(result["report"]) / name
    if not path.is_file():  # the worker wrote it on another machine, or it was deleted
        raise HTTPException(404, f"chart {name!r} of run {job.id} is not on this machine")
    return FileResponse(path, media_type="image/png")


CHART_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "the chart"}
}


@router.post("/runs", status_code=status.HTTP_202_ACCEPTED, dependencies=[requires(*PLANNERS)])
def create_run(
    body: ScenarioRunCreate, session: SessionDep, user: CurrentUser, now: NowDep,
    response: Response,
) -> ScenarioRunRead:  # fmt: skip
    """Queue the scenario for `spares worker`; poll the answer's url."""
    payload = body.model_dump(mode="json")
    job = jobs.enqueue(session, kind=SCENARIO_JOB, payload=payload, user_id=user.id, now=now)
    response.headers["Location"] = f"/v1/scenarios/runs/{job.id}"
    return ScenarioRunRead.of(job)


@router.get("/runs/{run_id}", dependencies=[requires(*PLANNERS)])
def get_run(run_id: IdPath, session: SessionDep) -> ScenarioRunRead:
    """Status and progress; once done, the KPIs and the chart file names."""
    return ScenarioRunRead.of(_run(session, run_id))


@router.post("/runs/{run_id}/cancel", dependencies=[requires(*PLANNERS)])
def cancel_run(run_id: IdPath, session: SessionDep, now: NowDep) -> ScenarioRunRead:
    """Cancel a queued run at once; a running one stops within a simulated hour."""
    job = _run(session, run_id)
    return ScenarioRunRead.of(jobs.request_cancel(session, job_id=job.id, now=now))


@router.get(
    "/runs/{run_id}/charts/{name}",
    dependencies=[requires(*PLANNERS)],
    response_class=FileResponse,
    responses=CHART_RESPONSES,
)
def chart(
    run_id: IdPath, name: Annotated[str, PathParam(max_length=68)], session: SessionDep
) -> FileResponse:
    """One chart of a finished run, as PNG (names in the run's `charts`)."""
    return chart_response(_run(session, run_id), name)


@router.get("/examples", dependencies=[requires(*PLANNERS)])
def examples() -> list[ExampleRead]:
    """The example scenarios shipped with Spares: pick one, change it, run it."""
    return [ExampleRead(file=e.file, name=e.name, description=e.description,
                        document=e.document) for e in example_scenarios()]  # fmt: skip
