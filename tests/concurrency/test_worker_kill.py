"""A worker killed (SIGKILL) while it stores a plan job's draft: the write is wholly absent,
and a worker started afterwards (here in-process: one `spares worker` start is slow enough)
takes the job over once its heartbeat is stale and stores exactly one draft. The test holds
the lock the draft's INSERT needs, so the kill lands while the worker is writing.

The second test is the narrower window, made deterministic in-process: the draft was
committed but the job not yet recorded done when the worker died.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

import optimizer as opt
from db import jobs, make_sessionmaker
from dispatch.models import Plan
from dispatch.planning import PLAN_JOB, PlanRequest
from spares.worker import Worker, handlers
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, open_ticket

ROOT = Path(__file__).resolve().parents[2]
SEARCH_S = 3.0  # long enough to be killed in the middle of the search


def _queue_plan(engine: Engine, *, time_limit_s: float) -> int:
    """A plan job of seven tickets (its search takes about a second)."""
    with Session(engine) as s, s.begin():
        world = make_dispatch_world(s)
        more = [open_ticket(s, world.base, severity=sev).id for sev in ("serious", "general") * 3]
        as_of = T0 + timedelta(minutes=5)
        request = PlanRequest(ticket_ids=(world.ticket.id, *more), as_of=as_of,
                              time_limit_s=time_limit_s)  # fmt: skip
        return jobs.enqueue(s, kind=PLAN_JOB, payload=request.to_payload(), user_id=None,
                            now=T0).id  # fmt: skip


def _job(engine: Engine, job_id: int) -> jobs.Job:
    with Session(engine) as s:
        return jobs.get_job(s, job_id)


def _drafts(engine: Engine, job_id: int) -> list[int]:
    with Session(engine) as s:
        return list(s.scalars(select(Plan.id).where(Plan.job_id == job_id)))


def _worker(engine: Engine, tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "SPARES_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SPARES_WORKER_HEARTBEAT_S": "0.2",
        "SPARES_WORKER_STALE_AFTER_S": "1",
    }
    code = "from spares.cli import app; app()"
    # Its own process group: the kill takes its solver server too, as a dead host would.
    return subprocess.Popen([sys.executable, "-c", code, "worker", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip


def _until(condition: Any, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@contextmanager
def _plans_locked(engine: Engine) -> Iterator[Connection]:
    """Hold what storing a draft needs: SQLite's write lock, PostgreSQL's lock on `plans`
    (reads and the job table stay free there, so the worker claims and solves)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin() as txn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE plans IN SHARE ROW EXCLUSIVE MODE"))
            yield conn
            txn.rollback()


def _storing(engine: Engine) -> bool:
    """True once a backend waits to insert the draft (PostgreSQL), or after a pause (SQLite).

    A connection of its own: inside a transaction pg_stat_activity is a frozen snapshot.
    """
    if engine.dialect.name == "sqlite":
        time.sleep(2.0)  # the solve (about a second) is over: the worker waits for the lock
        return True
    with engine.connect() as conn:
        waiting = conn.execute(text(
            "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        )).scalars().all()  # fmt: skip
    return any("INSERT INTO plans" in q for q in waiting)


def test_a_worker_killed_while_storing_a_draft_leaves_none_and_the_job_runs_again(
    clean_engine: Engine, tmp_path: Path
) -> None:
    job_id = _queue_plan(clean_engine, time_limit_s=SEARCH_S)
    pg = clean_engine.dialect.name == "postgresql"
    with ExitStack() as stack:
        # PostgreSQL: lock first, the claim still goes through. SQLite: a write lock would
        # stop the claim too, so it is taken once the job runs, while the solver works.
        conn = stack.enter_context(_plans_locked(clean_engine)) if pg else None
        first = _worker(clean_engine, tmp_path, "--poll", "0.1")
        try:
            _until(lambda: _job(clean_engine, job_id).status is jobs.JobStatus.RUNNING)
            if conn is None:
                conn = stack.enter_context(_plans_locked(clean_engine))
            _until(lambda: _storing(clean_engine))
        finally:
            os.killpg(first.pid, signal.SIGKILL)  # the worker and its solver server
            first.wait()
    killed = _job(clean_engine, job_id)
    assert (killed.status, killed.attempts) == (jobs.JobStatus.RUNNING, 1)
    assert _drafts(clean_engine, job_id) == []  # nothing half-written
    time.sleep(1.2)  # its heartbeat goes stale
    restarted = Worker(make_sessionmaker(clean_engine), handlers(opt.GeodesicTravelTimes()),
                       stale_after=timedelta(seconds=1))  # fmt: skip
    assert restarted.run_once() is jobs.JobStatus.DONE
    done = _job(clean_engine, job_id)
    assert (done.status, done.attempts) == (jobs.JobStatus.DONE, 2)
    assert done.result is not None
    assert _drafts(clean_engine, job_id) == [done.result["plan_id"]]


def test_a_draft_stored_before_the_worker_died_is_not_stored_twice(clean_engine: Engine) -> None:
    job_id = _queue_plan(clean_engine, time_limit_s=0)
    factory = make_sessionmaker(clean_engine)
    registry = handlers(opt.GeodesicTravelTimes())
    now = [T0]
    dying = Worker(factory, registry, name="dying", clock=lambda: now[0])
    claimed = dying.claim()
    assert claimed is not None
    ctx = jobs.JobContext(job_id, PLAN_JOB, claimed[2], None, factory, dying.clock,
                          lambda _: None, lambda: False)  # fmt: skip
    stored = registry[PLAN_JOB](ctx)  # committed; the worker dies before `finish`
    now[0] = T0 + dying.stale_after + timedelta(seconds=1)
    taker = Worker(factory, registry, name="taker", clock=lambda: now[0])
    assert taker.run_once() is jobs.JobStatus.DONE
    done = _job(clean_engine, job_id)
    assert done.attempts == 2
    assert done.result == stored
    assert _drafts(clean_engine, job_id) == [stored["plan_id"]]
