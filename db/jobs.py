"""Background jobs: a table that workers claim from, for plans and scenario runs.

A job is queued with a kind and a JSON payload; a worker claims it (on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, so many workers never take the same job; on SQLite one worker),
heartbeats while it runs, and stores the JSON result or the error. A job whose heartbeat
went stale (its worker died) is claimed again.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from db.base import Base, IdMixin
from db.types import UTCDateTime, enum_column


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(IdMixin, Base):
    """One unit of background work and its outcome."""

    __tablename__ = "jobs"

    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(default=0.0)
    attempts: Mapped[int] = mapped_column(default=0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    worker: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_jobs_claim", "status", "created_at"),)


# How many times a job is started before a worker that keeps dying gives it up as failed.
MAX_ATTEMPTS = 3


class JobError(Exception):
    """Base of the errors the job functions raise on purpose."""


class JobNotFoundError(JobError):
    """No job has this id."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id} does not exist")
        self.entity = "job"
        self.key = job_id


class JobLostError(JobError):
    """The job is no longer this worker's (its heartbeat went stale and another took it)."""

    def __init__(self, job_id: int, worker: str) -> None:
        super().__init__(f"job {job_id} is no longer run by worker {worker!r}")
        self.job_id = job_id
        self.worker = worker


class JobCancelledError(JobError):
    """Raised by a handler that saw the job's cancel request (the worker records it)."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id} was cancelled")
        self.job_id = job_id


@dataclass(frozen=True, eq=False)
class JobContext:
    """What a handler gets: the job's data, a session factory, the clock and two callbacks.

    A handler opens its own transactions with `factory` (services only flush), reports
    `progress(fraction)` now and then, and stops early (raising `JobCancelledError`) when
    `cancelled()` turns true. It returns the JSON result (e.g. a link to what it made).
    """

    job_id: int
    kind: str
    payload: dict[str, Any]
    user_id: int | None
    factory: sessionmaker[Session]
    clock: Callable[[], datetime]
    progress: Callable[[float], None]
    cancelled: Callable[[], bool]


# The registry entrypoints fill: job kind -> the callable that runs it (see spares.worker).
Handler = Callable[[JobContext], dict[str, Any]]


def enqueue(
    session: Session, *, kind: str, payload: dict[str, Any], user_id: int | None, now: datetime
) -> Job:
    """Queue a job of `kind`; a worker will claim it in creation order."""
    job = Job(kind=kind, payload=payload, created_by_id=user_id, created_at=now)
    job.status = JobStatus.QUEUED
    job.progress, job.attempts, job.cancel_requested = 0.0, 0, False
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job:
    """The job with this id, or `JobNotFoundError`."""
    job = session.get(Job, job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    return job


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    stale_after: timedelta,
    max_attempts: int = MAX_ATTEMPTS,
) -> Job | None:
    """Take the oldest queued job, or a running one whose worker stopped heartbeating.

    Run it in a write transaction (`db.transactions.run_in_transaction`): on PostgreSQL the
    candidate row is locked `FOR UPDATE SKIP LOCKED`, so concurrent workers take different
    jobs; on SQLite `BEGIN IMMEDIATE` serialises the claimers. A stale job that has been
    started `max_attempts` times already is given up as failed (or cancelled, if asked).
    """
    stale = (Job.status == JobStatus.RUNNING) & (Job.heartbeat_at < now - stale_after)
    stmt = (
        select(Job)
        .where((Job.status == JobStatus.QUEUED) | stale)
        .order_by(Job.created_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    while (job := session.scalars(stmt).first()) is not None:
        if job.cancel_requested:
            _close(job, JobStatus.CANCELLED, now, error="cancelled before it ran again")
        elif job.attempts >= max_attempts:
            _close(job, JobStatus.FAILED, now, error=_gave_up(job, max_attempts))
        else:
            job.status, job.worker = JobStatus.RUNNING, worker
            job.attempts += 1
            job.started_at = job.heartbeat_at = now
            session.flush()
            return job
        session.flush()
    return None


def _gave_up(job: Job, max_attempts: int) -> str:
    return (
        f"gave up after {max_attempts} attempts: the worker running it stopped heartbeating"
        f" (last: {job.worker!r} at {job.heartbeat_at})"
    )


def _close(job: Job, status: JobStatus, now: datetime, *, error: str | None = None) -> None:
    job.status, job.finished_at = status, now
    if error is not None:
        job.error = error


def _owned(session: Session, job_id: int, worker: str) -> Job:
    job = get_job(session, job_id)
    if job.status is not JobStatus.RUNNING or job.worker != worker:
        raise JobLostError(job_id, worker)
    return job


def heartbeat(
    session: Session, *, job_id: int, worker: str, now: datetime, progress: float | None = None
) -> Job:
    """Tell others this worker still runs the job; `JobLostError` if it no longer does."""
    job = _owned(session, job_id, worker)
    job.heartbeat_at = now
    if progress is not None:
        job.progress = min(max(progress, 0.0), 1.0)
    session.flush()
    return job


def finish(
    session: Session, *, job_id: int, worker: str, result: dict[str, Any], now: datetime
) -> Job:
    """Record the job's result: done (or cancelled, when a cancel arrived meanwhile)."""
    job = _owned(session, job_id, worker)
    job.result, job.progress = result, 1.0
    _close(job, JobStatus.CANCELLED if job.cancel_requested else JobStatus.DONE, now)
    session.flush()
    return job


def fail(session: Session, *, job_id: int, worker: str, error: str, now: datetime) -> Job:
    """Record why the job failed (a handler's exception); a cancelled handler is cancelled."""
    job = _owned(session, job_id, worker)
    status = JobStatus.CANCELLED if job.cancel_requested else JobStatus.FAILED
    _close(job, status, now, error=error)
    session.flush()
    return job


def request_cancel(session: Session, *, job_id: int, now: datetime) -> Job:
    """Cancel a queued job at once; ask a running one to stop (its handler checks)."""
    job = get_job(session, job_id)
    if job.status is JobStatus.QUEUED:
        job.cancel_requested = True
        _close(job, JobStatus.CANCELLED, now)
    elif job.status is JobStatus.RUNNING:
        job.cancel_requested = True
    session.flush()
    return job
