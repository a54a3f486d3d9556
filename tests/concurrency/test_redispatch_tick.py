"""The worker's re-dispatch tick (issue 16) on committed rows: each policy's tick is claimed
by one worker per interval, its answers are stored for the board, and a move applied at once
happens exactly once however many workers (or a dispatcher) race for it."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

import dispatch.snapshot
import optimizer as opt
from db import User, jobs, make_sessionmaker
from db.transactions import run_in_transaction
from dispatch.assign import confirm_assignment
from dispatch.durations import DurationLog
from dispatch.errors import AssignmentConflict
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    MoveProposal,
    PromisePolicy,
    ServiceLogEntry,
    TicketStatus,
)
from dispatch.move_store import stored_moves
from dispatch.redispatch import accept_move, proposed_moves
from dispatch.tickets import transition
from spares.worker import Worker
from tests.concurrency.conftest import race
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()


def _late_visit(engine: Engine, *, apply: bool) -> tuple[DispatchWorld, int]:
    """A general ticket whose engineer's plan departs 6 h late; (world, its ticket id)."""
    with Session(engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s, with_part=False)
        s.execute(update(PromisePolicy).values(redispatch_apply=apply))
        ticket = open_ticket(s, dw.base, severity="general")
        confirm_assignment(
            s, ticket_id=ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher, now=T0,
            travel=TRAVEL, pinned=False,
        )  # fmt: skip
        row = s.scalars(select(Assignment).where(Assignment.ticket_id == ticket.id)).one()
        for name in ("departs_at", "arrives_at", "fixes_at"):
            setattr(row, name, getattr(row, name) + timedelta(hours=6))
        return dw, ticket.id


def _worker(engine: Engine, at: datetime) -> Worker:
    return Worker(make_sessionmaker(engine), {}, clock=lambda: at, travel=TRAVEL)


def _assignments(engine: Engine, ticket_id: int) -> list[tuple[int, str]]:
    with Session(engine) as s:
        rows = s.scalars(select(Assignment).where(Assignment.ticket_id == ticket_id))
        return sorted((r.engineer_id, str(r.status)) for r in rows)


def test_the_tick_stores_the_proposal_and_asks_again_one_interval_later(
    clean_engine: Engine,
) -> None:
    dw, ticket_id = _late_visit(clean_engine, apply=False)
    assert _worker(clean_engine, T0).redispatch() == 0  # proposed only (the default)
    with Session(clean_engine) as s:
        (stored,) = stored_moves(s, region_id=dw.base.region.id)
        move = stored.move
        assert (move.ticket_id, move.from_engineer_id) == (ticket_id, dw.haizhu.id)
        assert move.to_engineer_id != dw.haizhu.id
        asked_at = s.scalars(select(MoveProposal.reviewed_at)).one()
    assert asked_at == T0
    _worker(clean_engine, T0 + timedelta(minutes=14)).redispatch()  # not due: not asked
    with Session(clean_engine) as s:
        assert s.scalars(select(MoveProposal.reviewed_at)).one() == T0
    later = T0 + timedelta(minutes=15)  # the policy's redispatch_every_min (default 15)
    _worker(clean_engine, later).redispatch()
    with Session(clean_engine) as s:
        assert s.scalars(select(MoveProposal.reviewed_at)).one() == later
    assert _assignments(clean_engine, ticket_id) == [(dw.haizhu.id, "active")]


def test_two_workers_ticking_at_once_move_the_visit_once(clean_engine: Engine) -> None:
    dw, ticket_id = _late_visit(clean_engine, apply=True)
    applied = race(2, lambda _: _worker(clean_engine, T0).redispatch())
    assert sum(applied) == 1
    rows = _assignments(clean_engine, ticket_id)
    assert sorted(status for _, status in rows) == ["active", "withdrawn"]
    assert (dw.haizhu.id, "withdrawn") in rows
    with Session(clean_engine) as s:
        moved = s.scalar(
            select(func.count())
            .select_from(ServiceLogEntry)
            .where(
                ServiceLogEntry.ticket_id == ticket_id,
                ServiceLogEntry.reason.startswith("re-dispatched:"),
                ServiceLogEntry.kind == "decision",
            )
        )
    assert moved == 1


def test_a_dispatcher_accepting_while_the_worker_applies_moves_the_visit_once(
    clean_engine: Engine,
) -> None:
    dw, ticket_id = _late_visit(clean_engine, apply=True)
    with Session(clean_engine) as s:
        row = s.scalars(select(Assignment).where(Assignment.ticket_id == ticket_id)).one()
        proposal = _worker_free_proposal(s, row.id)
    factory = make_sessionmaker(clean_engine)

    def dispatcher() -> str:
        try:
            run_in_transaction(factory, lambda s: accept_move(
                s, assignment_id=row.id, to_engineer_id=proposal, user=_user(s, dw), now=T0,
                travel=TRAVEL,
            ))  # fmt: skip
        except AssignmentConflict:
            return "409"
        return "moved"

    def worker() -> str:
        return "moved" if _worker(clean_engine, T0).redispatch() else "none"

    outcomes = race(2, lambda i: dispatcher() if i == 0 else worker())
    assert sorted(outcomes).count("moved") == 1, outcomes
    rows = _assignments(clean_engine, ticket_id)
    assert sum(1 for _, status in rows if status == str(AssignmentStatus.ACTIVE)) == 1
    assert len(rows) == 2


def _worker_free_proposal(session: Session, assignment_id: int) -> int:
    """The engineer the rule proposes for the visit (asked without storing anything)."""
    (move,) = proposed_moves(session, now=T0, travel=TRAVEL, assignment_ids=[assignment_id])
    return move.to_engineer_id


def _user(session: Session, dw: DispatchWorld) -> User:
    user = session.get(User, dw.base.dispatcher.id)
    assert user is not None
    return user


def test_a_worker_dying_inside_a_move_leaves_it_absent(
    clean_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Withdrawn from one engineer, the worker dies before the other is confirmed: the
    move's transaction is rolled back whole (the visit stays with its engineer, no log)."""
    dw, ticket_id = _late_visit(clean_engine, apply=True)

    def killed(*_: object, **__: object) -> None:
        raise SystemExit("killed between withdraw and confirm")

    monkeypatch.setattr("dispatch.redispatch.confirm_assignment", killed)
    with pytest.raises(SystemExit):
        _worker(clean_engine, T0).redispatch()
    assert _assignments(clean_engine, ticket_id) == [(dw.haizhu.id, "active")]
    monkeypatch.undo()
    assert _worker(clean_engine, T0 + timedelta(minutes=15)).redispatch() == 1  # next tick
    assert sorted(s for _, s in _assignments(clean_engine, ticket_id)) == ["active", "withdrawn"]


def test_a_job_runs_while_a_tick_is_under_way(
    clean_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick runs in its own thread: a job queued meanwhile is claimed and finished
    while the tick still asks its visits."""
    ticking, release = threading.Event(), threading.Event()

    def slow_tick(self: Worker) -> int:
        ticking.set()
        assert release.wait(60)
        return 0

    monkeypatch.setattr(Worker, "redispatch", slow_tick)
    with Session(clean_engine) as s, s.begin():
        job_id = jobs.enqueue(s, kind="echo", payload={"n": 1}, user_id=None, now=T0).id
    worker = Worker(
        make_sessionmaker(clean_engine), {"echo": lambda ctx: dict(ctx.payload)},
        clock=lambda: T0, travel=TRAVEL,
    )  # fmt: skip
    loop = threading.Thread(target=worker.run, kwargs={"poll_s": 0.05})
    loop.start()
    try:
        assert ticking.wait(60)
        deadline = time.monotonic() + 60
        while _job_status(clean_engine, job_id) is not jobs.JobStatus.DONE:
            assert time.monotonic() < deadline, "the job waited for the tick"
            time.sleep(0.05)
        assert not release.is_set()  # the tick is still under way
    finally:
        release.set()
        worker.stop.set()
        loop.join(60)
    assert not loop.is_alive()


def _job_status(engine: Engine, job_id: int) -> jobs.JobStatus:
    with Session(engine) as s:
        return jobs.get_job(s, job_id).status


def test_the_log_of_finished_jobs_is_read_again_only_after_a_new_row(
    clean_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker asks every round whether a job on site overruns: the log of finished
    jobs behind that answer is read once, and again only once a ticket step wrote a row."""
    with Session(clean_engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s, with_part=False)
        ticket = open_ticket(s, dw.base, severity="general")
        confirm_assignment(
            s, ticket_id=ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher, now=T0,
            travel=TRAVEL,
        )  # fmt: skip
        for step in (TicketStatus.EN_ROUTE, TicketStatus.ON_SITE):
            transition(s, ticket_id=ticket.id, target=step, user=dw.base.dispatcher, now=T0)
    reads = []
    real = dispatch.snapshot.duration_log

    def counted(session: Session) -> DurationLog:
        reads.append(1)
        return real(session)

    monkeypatch.setattr("dispatch.snapshot_cache.duration_log", counted)
    worker = _worker(clean_engine, T0 + timedelta(minutes=5))
    for _ in range(3):  # three rounds, someone on site, nothing written
        worker.redispatch()
    assert len(reads) == 1
    with Session(clean_engine) as s, s.begin():
        other = open_ticket(s, dw.base, severity="general")  # a new row
        assert other.id
    worker.redispatch()
    worker.redispatch()
    assert len(reads) == 2
