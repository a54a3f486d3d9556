"""Background jobs (plans now, scenario runs later): poll one, or ask it to stop."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import NowDep, SessionDep, requires
from api.schemas.common import IdPath
from api.schemas.plan import JobRead
from db import Role, jobs

router = APIRouter(prefix="/jobs", tags=["jobs"])
READERS = (Role.DISPATCHER, Role.PLANNER, Role.ADMIN)


@router.get("/{job_id}", dependencies=[requires(*READERS)])
def get_job(job_id: IdPath, session: SessionDep) -> JobRead:
    """The job's status, progress, error or result, and a link to what it made."""
    return JobRead.of(jobs.get_job(session, job_id))


@router.post("/{job_id}/cancel", dependencies=[requires(*READERS)])
def cancel_job(job_id: IdPath, session: SessionDep, now: NowDep) -> JobRead:
    """Cancel a queued job at once; a running one stops at its next check."""
    return JobRead.of(jobs.request_cancel(session, job_id=job_id, now=now))
