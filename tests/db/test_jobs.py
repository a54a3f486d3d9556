"""The job table's services: claim order, SKIP LOCKED, stale heartbeats, cancel, failure."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from db import jobs
from db.jobs import Job, JobStatus
from db.transactions import WRITE_OPTIONS, run_in_transaction
from tests.conftest import postgres_url

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
STALE = timedelta(seconds=60)


def _queue(session: Session, n: int, *, kind: str = "test") -> list[int]:
    return [
        jobs.enqueue(
            session, kind=kind, payload={"n": i}, user_id=None, now=T0 + timedelta(seconds=i)
        ).id
        for i in range(n)
    ]


def _claim(session: Session, worker: str = "w1", now: datetime = T0) -> Job | None:
    return jobs.claim(session, worker=worker, now=now, stale_after=STALE)


class TestClaim:
    def test_oldest_first_and_marked_running(self, session: Session) -> None:
        first, second = _queue(session, 2)
        job = _claim(session)
        assert job is not None
        assert job.id == first
        assert (job.status, job.worker, job.attempts) == (JobStatus.RUNNING, "w1", 1)
        assert job.heartbeat_at == T0
        again = _claim(session, "w2")
        assert again is not None
        assert again.id == second
        assert _claim(session, "w3") is None

    def test_a_live_running_job_is_not_taken(self, session: Session) -> None:
        _queue(session, 1)
        _claim(session)
        assert _claim(session, "w2", T0 + STALE) is None  # exactly stale_after: still alive

    def test_a_stale_job_is_taken_again_and_attempts_counted(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        _claim(session)
        later = T0 + STALE + timedelta(seconds=1)
        job = _claim(session, "w2", later)
        assert job is not None
        assert (job.id, job.worker, job.attempts, job.heartbeat_at) == (job_id, "w2", 2, later)
        with pytest.raises(jobs.JobLostError):
            jobs.heartbeat(session, job_id=job_id, worker="w1", now=later)

    def test_a_job_whose_workers_keep_dying_is_given_up(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        at = T0
        for attempt in range(jobs.MAX_ATTEMPTS):
            job = _claim(session, f"w{attempt}", at)
            assert job is not None
            at += STALE * 2
        assert _claim(session, "last", at) is None
        job = jobs.get_job(session, job_id)
        assert job.status is JobStatus.FAILED
        assert job.error is not None
        assert "gave up after 3 attempts" in job.error


class TestHeartbeatFinishFail:
    def test_heartbeat_keeps_it_alive_and_records_progress(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        _claim(session)
        beat = T0 + timedelta(seconds=50)
        jobs.heartbeat(session, job_id=job_id, worker="w1", now=beat, progress=0.5)
        assert _claim(session, "w2", T0 + STALE + timedelta(seconds=1)) is None
        assert jobs.get_job(session, job_id).progress == 0.5

    def test_finish_stores_the_result(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        _claim(session)
        job = jobs.finish(session, job_id=job_id, worker="w1", result={"plan_id": 7}, now=T0)
        assert (job.status, job.result, job.progress, job.finished_at) == (
            JobStatus.DONE, {"plan_id": 7}, 1.0, T0
        )  # fmt: skip

    def test_failure_is_recorded_with_its_error(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        _claim(session)
        job = jobs.fail(session, job_id=job_id, worker="w1", error="ValueError: boom", now=T0)
        assert (job.status, job.error) == (JobStatus.FAILED, "ValueError: boom")

    def test_another_worker_cannot_finish_it(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        _claim(session)
        with pytest.raises(jobs.JobLostError):
            jobs.finish(session, job_id=job_id, worker="w2", result={}, now=T0)


class TestCancel:
    def test_a_queued_job_is_cancelled_at_once(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        job = jobs.request_cancel(session, job_id=job_id, now=T0)
        assert job.status is JobStatus.CANCELLED
        assert _claim(session) is None

    def test_a_running_job_is_asked_and_ends_cancelled(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        _claim(session)
        assert jobs.request_cancel(session, job_id=job_id, now=T0).status is JobStatus.RUNNING
        beat = jobs.heartbeat(session, job_id=job_id, worker="w1", now=T0)
        assert beat.cancel_requested
        job = jobs.finish(session, job_id=job_id, worker="w1", result={}, now=T0)
        assert job.status is JobStatus.CANCELLED

    def test_a_stale_cancelled_job_is_not_run_again(self, session: Session) -> None:
        (job_id,) = _queue(session, 1)
        _claim(session)
        jobs.request_cancel(session, job_id=job_id, now=T0)
        assert _claim(session, "w2", T0 + STALE * 2) is None
        assert jobs.get_job(session, job_id).status is JobStatus.CANCELLED

    def test_unknown_job(self, session: Session) -> None:
        with pytest.raises(jobs.JobNotFoundError):
            jobs.request_cancel(session, job_id=987654, now=T0)


@pytest.fixture
def committed(engine: Engine) -> Iterator[Engine]:
    """Jobs that other connections see: committed, and deleted after the test."""
    yield engine
    with Session(engine) as s, s.begin():
        s.execute(delete(Job).where(Job.kind == "race"))


def test_concurrent_claimers_take_different_jobs_on_postgresql(committed: Engine) -> None:
    if committed.dialect.name != "postgresql" or postgres_url() is None:
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite serialises claimers instead")
    with Session(committed) as s, s.begin():
        ids = _queue(s, 2, kind="race")
    with Session(committed) as a, Session(committed) as b:
        first = _claim(a, "a")  # holds its row lock until commit
        second = _claim(b, "b")  # skips that row instead of waiting for it
        assert first is not None
        assert second is not None
        assert {first.id, second.id} == set(ids)
        a.commit()
        b.commit()


def test_one_sqlite_worker_claims_in_order_with_begin_immediate(committed: Engine) -> None:
    if committed.dialect.name != "sqlite":
        pytest.skip("the SQLite path")
    with Session(committed) as s, s.begin():
        ids = _queue(s, 2, kind="race")
    factory = lambda: Session(committed)  # noqa: E731
    got = [
        run_in_transaction(factory, lambda s: _claim(s).id)  # type: ignore[arg-type, union-attr]
        for _ in ids
    ]
    assert got == ids
    assert WRITE_OPTIONS["sqlite_begin"] == "IMMEDIATE"
