"""`spares worker`: claim background jobs, run them in this process, record how they ended.

Each round: sweep expired stock holds (the stock issue's sweeper), claim the oldest job
(`db.jobs.claim`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite),
run its handler while a thread heartbeats, then finish or fail it. A job whose worker died
is claimed again once its heartbeat is `stale_after` old. SIGINT/SIGTERM stop the loop
after the running job. Handlers are a plain dict by job kind: `handlers()` below. Beside
the rounds, a thread asks the re-dispatch rules where due (`Worker.redispatch`: each
promise policy's tick, an engineer's overrun), so that a long tick never holds up a job.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

import optimizer as opt
from db import jobs
from db.transactions import run_in_transaction
from dispatch.errors import AssignmentConflict, NotFoundError
from dispatch.move_store import claim_ticks, store_asked
from dispatch.moves import Move
from dispatch.planning import PLAN_JOB, run_plan_job
from dispatch.redispatch import accept_move, tick_review, to_apply, worker_user
from dispatch.replanning import REPLAN_JOB, run_replan_job
from dispatch.snapshot_cache import DurationCache
from inventory.idempotency import purge_expired
from inventory.reservations import sweep_expired
from scenarios.job import ADVICE_JOB, SCENARIO_JOB, run_advice_document, run_document
from spares.worker_cli import POLL_S

logger = logging.getLogger("spares.worker")

STALE_AFTER = timedelta(seconds=60)
HEARTBEAT_EVERY_S = 10.0


SCENARIO_REPORTS = Path("reports") / "runs"  # relative to the worker's working directory


def handlers(
    travel: opt.TravelTimes, *, reports: Path = SCENARIO_REPORTS
) -> dict[str, jobs.Handler]:
    """The job kinds this worker runs: route plans, re-plans, scenario runs and advice."""
    return {
        PLAN_JOB: partial(run_plan_job, travel=travel),
        REPLAN_JOB: partial(run_replan_job, travel=travel),
        SCENARIO_JOB: partial(run_scenario_job, reports=reports),
        ADVICE_JOB: partial(run_advice_job, reports=reports),
    }


ReportRun = Callable[..., dict[str, Any]]  # (document, folder, *, progress, check) -> result


def _run_reporting(ctx: jobs.JobContext, reports: Path, run: ReportRun) -> dict[str, Any]:
    """Run a document that writes a report into reports/job-<id>/, cancellable."""

    def check() -> None:
        if ctx.cancelled():
            raise jobs.JobCancelledError(ctx.job_id)

    folder = (reports / f"job-{ctx.job_id}").resolve()
    return run(ctx.payload, folder, progress=ctx.progress, check=check)


def run_scenario_job(ctx: jobs.JobContext, *, reports: Path) -> dict[str, Any]:
    """The "scenario" handler: run the document, report into reports/job-<id>/."""
    return _run_reporting(ctx, reports, run_document)


def run_advice_job(ctx: jobs.JobContext, *, reports: Path) -> dict[str, Any]:
    """The "advice" handler: advise on the document, report into reports/job-<id>/."""
    return _run_reporting(ctx, reports, run_advice_document)


def worker_name() -> str:
    """Host and process id: who holds a job, for people reading the table."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Worker:
    """One worker process's loop; `run_once` is one round (the `--once` flag, tests)."""

    factory: sessionmaker[Session]
    registry: Mapping[str, jobs.Handler]
    name: str = field(default_factory=worker_name)
    clock: Callable[[], datetime] = _utc_now
    stale_after: timedelta = STALE_AFTER
    heartbeat_every_s: float = HEARTBEAT_EVERY_S
    stop: threading.Event = field(default_factory=threading.Event)
    travel: opt.TravelTimes | None = None  # None: no re-dispatch tick (tests of jobs alone)
    durations: DurationCache = field(default_factory=DurationCache)  # the tick's job log

    def sweep(self) -> int:
        """Release expired reservations (one batch) and forget idempotency keys past 24 h."""
        released = run_in_transaction(
            self.factory, lambda s: sweep_expired(session=s, now=self.clock())
        )
        run_in_transaction(self.factory, lambda s: purge_expired(session=s, now=self.clock()))
        return released

    def redispatch(self) -> int:
        """The re-dispatch tick (issue 16): ask the simulator's rules where due, store every
        answer for the board, carry out the moves the policy applies at once; how many.

        Due: the visits not departed yet of each promise policy whose tick
        (`redispatch_every_min`) a round of this worker claimed, and at once the next visits
        of an engineer whose job on site runs `redispatch_after_min` past its planned end.
        The questions run in a read transaction (no write lock while the rule is asked);
        each move is then its own transaction through `accept_move`, which locks the
        ticket and asks the rule again: a move another worker or a dispatcher made first
        is refused (409) and skipped, and a killed worker leaves each move wholly applied
        or absent (a claimed tick it did not finish waits for the next interval). One
        snapshot serves every visit of the tick (`dispatch.redispatch.review`); the log of
        finished jobs is re-read only when it changed (`DurationCache`). `run` calls this in
        its own thread, with its own sessions, so that a long tick never holds up a job.
        """
        if self.travel is None:
            return 0
        travel, now = self.travel, self.clock()
        policies = run_in_transaction(self.factory, lambda s: claim_ticks(s, now=now))
        with self.factory() as session:
            version, asked = tick_review(
                session, now=now, travel=travel, policy_ids=policies, durations=self.durations.get
            )
            moves = to_apply(session, asked)
        if not asked:
            return 0
        run_in_transaction(self.factory, lambda s: store_asked(s, asked, now=now, version=version))
        applied = 0
        for move in moves:
            try:
                run_in_transaction(
                    self.factory, partial(_accept, move=move, now=now, travel=travel)
                )
            except (AssignmentConflict, NotFoundError):  # taken meanwhile: nothing written
                continue
            applied += 1
        return applied

    def claim(self) -> tuple[int, str, dict[str, Any], int | None] | None:
        """Claim a job; its id, kind, payload and creator, or None when there is none."""

        def take(session: Session) -> tuple[int, str, dict[str, Any], int | None] | None:
            job = jobs.claim(
                session, worker=self.name, now=self.clock(), stale_after=self.stale_after
            )
            return None if job is None else (job.id, job.kind, dict(job.payload), job.created_by_id)

        return run_in_transaction(self.factory, take)

    def tick(self) -> None:
        """One re-dispatch tick; a failure is logged and retried next round (jobs go on)."""
        try:
            self.redispatch()
        except Exception:
            logger.exception("re-dispatch tick failed")

    def run_once(self, *, tick: bool = True) -> jobs.JobStatus | None:
        """Sweep, re-dispatch (unless ``tick`` is false: `run`'s thread does it), then claim
        and run one job; return how it ended (None: no job)."""
        self.sweep()
        if tick:
            self.tick()
        claimed = self.claim()
        if claimed is None:
            return None
        job_id, kind, payload, user_id = claimed
        beat = _Heartbeat(self, job_id)
        ctx = jobs.JobContext(
            job_id, kind, payload, user_id, self.factory, self.clock, beat.set_progress,
            beat.cancelled,
        )  # fmt: skip
        beat.start()
        try:
            handler = self.registry.get(kind)
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {kind!r}")
            result = handler(ctx)
        except Exception as exc:  # any handler failure is recorded, never fatal to the worker
            beat.halt()
            logger.warning("job %s (%s) failed: %s", job_id, kind, exc)
            error = _describe(exc)
            return self._end(job_id, lambda s: jobs.fail(
                s, job_id=job_id, worker=self.name, error=error, now=self.clock()
            ))  # fmt: skip
        beat.halt()
        return self._end(job_id, lambda s: jobs.finish(
            s, job_id=job_id, worker=self.name, result=result, now=self.clock()
        ))  # fmt: skip

    def _end(self, job_id: int, record: Callable[[Session], jobs.Job]) -> jobs.JobStatus | None:
        try:
            return run_in_transaction(self.factory, lambda s: record(s).status)
        except jobs.JobLostError:  # another worker took it over: its outcome counts
            logger.warning("job %s was taken over by another worker; result dropped", job_id)
            return None

    def run(self, *, poll_s: float = POLL_S) -> None:
        """Loop until `stop` is set (by a signal): run jobs back to back, else wait `poll_s`;
        the re-dispatch tick runs beside them in its own thread, every `poll_s`."""
        ticker = threading.Thread(
            target=self._tick_loop, args=(poll_s,), name="re-dispatch tick", daemon=True
        )
        ticker.start()
        try:
            while not self.stop.is_set():
                if self.run_once(tick=False) is None:
                    self.stop.wait(poll_s)
        finally:
            self.stop.set()
            ticker.join()

    def _tick_loop(self, poll_s: float) -> None:
        while not self.stop.is_set():
            self.tick()
            self.stop.wait(poll_s)


def _accept(session: Session, *, move: Move, now: datetime, travel: opt.TravelTimes) -> None:
    accept_move(
        session, assignment_id=move.assignment_id, to_engineer_id=move.to_engineer_id,
        user=worker_user(session), now=now, travel=travel,
    )  # fmt: skip


def _describe(exc: Exception) -> str:
    last = traceback.format_exception(exc)[-1].strip()
    return last if len(last) <= 2_000 else last[:2_000] + "..."


class _Heartbeat:
    """A thread that marks the job alive every few seconds and notices a cancel request."""

    def __init__(self, worker: Worker, job_id: int) -> None:
        self.worker, self.job_id = worker, job_id
        self.progress: float | None = None
        self.cancel = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def halt(self) -> None:
        self.done.set()
        self.thread.join()

    def set_progress(self, fraction: float) -> None:
        self.progress = fraction

    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def _loop(self) -> None:
        w = self.worker
        while not self.done.wait(w.heartbeat_every_s):
            try:
                job = run_in_transaction(w.factory, lambda s: jobs.heartbeat(
                    s, job_id=self.job_id, worker=w.name, now=w.clock(), progress=self.progress
                ).cancel_requested)  # fmt: skip
            except jobs.JobLostError:
                self.cancel.set()  # someone else runs it now: stop wasting work
                return
            except Exception:  # a missed beat is retried next time; the job goes on
                logger.exception("heartbeat of job %s failed", self.job_id)
                continue
            if job:
                self.cancel.set()


SIGNALS = (signal.SIGINT, signal.SIGTERM)  # stop the loop after the running job
