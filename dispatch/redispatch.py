"""Visits not departed yet that another engineer would serve better: the simulator's rule.

The simulator re-dispatches a visit that has not departed when its plan breaks a clock that
another engineer's fresh option keeps at a lower cost (`optimizer.better_elsewhere`, issue
16), or when its engineer's job before it overruns, to another engineer who keeps the
clocks its plan kept (`optimizer.keeps_what_was_planned`). Production asks the same rules
here (`review`; `dispatch.move_store` stores the answers for the board): the dispatcher
sees each proposed move (who, when it would depart and arrive, what keeping the plan
costs) and decides; `accept_move` carries one out through the dispatcher's own reassignment path
(withdraw, then confirm), only while the rule still proposes it and the visit is neither
departed nor pinned.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role, User
from db.errors import DuplicateUserError
from db.identity import create_user
from dispatch.assign import Confirmed, confirm_assignment
from dispatch.errors import AssignmentConflict, NotFoundError
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    LogKind,
    PromisePolicy,
    Ticket,
    TicketStatus,
)
from dispatch.move_store import of_policies, overrun_due, stale, store_asked, world_tag
from dispatch.moves import (
    RULE_BETTER,
    RULE_OVERRUN,
    Asked,
    DurationSource,
    Move,
    overrunning,
)
from dispatch.names import engineer_label
from dispatch.pinning import withdraw_assignment
from dispatch.recommend import recommend_ticket
from dispatch.snapshot import (
    Snapshot,
    duration_log,
    load_snapshot,
    projected_visit,
    ticket_policy,
)
from dispatch.tickets import log_entry


def proposed_moves(
    session: Session,
    *,
    now: datetime,
    travel: opt.TravelTimes,
    engineer_id: int | None = None,
    assignment_ids: Collection[int] | None = None,
) -> list[Move]:
    """The moves the simulator's rules propose for assignments not departed yet (`review`);
    ``engineer_id``/``assignment_ids``: only those visits."""
    asked = review(
        session, now=now, travel=travel, engineer_id=engineer_id, assignment_ids=assignment_ids
    )
    return [a.move for a in asked if a.move is not None]


def not_departed() -> Select[Assignment]:
    """The active assignments whose engineer has not set off yet, by planned departure: the
    visits a re-dispatch (`review`) or a room (`dispatch.room`) may move."""
    return (
        select(Assignment)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(
            Assignment.status == AssignmentStatus.ACTIVE,
            Ticket.status == TicketStatus.ASSIGNED,
        )
        .order_by(Assignment.departs_at, Assignment.id)
    )


def review(
    session: Session,
    *,
    now: datetime,
    travel: opt.TravelTimes,
    engineer_id: int | None = None,
    assignment_ids: Collection[int] | None = None,
    durations: DurationSource = duration_log,
) -> list[Asked]:
    """Ask the simulator's rules for each assignment not departed yet, as its run does.

    A visit whose engineer's job on site overruns (`dispatch.moves.overrunning`: nobody
    knows when he leaves) goes to another engineer who keeps every clock its plan kept
    (`optimizer.keeps_what_was_planned`, the simulator's overrun watch). Any visit, projected
    to depart at its planned time pushed behind the work before it (`optimizer.retimed`:
    his job on site overruns, `Snapshot.delay`), or now when that is past (its engineer has
    not set off), goes to another engineer whose option costs less than the penalties of
    keeping it (`optimizer.better_elsewhere`, the simulator's retry tick and overrun check).
    One snapshot serves every visit; ``durations`` reads the log of finished jobs (the
    worker's is cached).
    """
    stmt = not_departed()
    if engineer_id is not None:
        stmt = stmt.where(Assignment.engineer_id == engineer_id)
    if assignment_ids is not None:
        stmt = stmt.where(Assignment.id.in_(list(assignment_ids)))
    rows = list(session.scalars(stmt))
    if not rows:
        return []
    # One snapshot of the whole world for every visit: each reads it without its own
    # booking (`dispatch.snapshot.asked_view`), as its recommendation would on its own.
    snap = load_snapshot(session, now=now, durations=durations(session))
    late = overrunning(
        session, now=now, engineer_ids=sorted({a.engineer_id for a in rows}),
        durations=lambda _: snap.durations,
    )  # fmt: skip
    asked = []
    for a in rows:
        overrun = a.engineer_id in late
        move = _ask(session, a, now, travel, snap, overrun=overrun)
        rule = RULE_OVERRUN if overrun else RULE_BETTER
        asked.append(Asked(a.id, a.ticket_id, a.engineer_id, rule, move))
    return asked


def _ask(
    session: Session, a: Assignment, now: datetime, travel: opt.TravelTimes, world: Snapshot,
    *, overrun: bool,
) -> Move | None:  # fmt: skip
    # An assigned ticket's recommendation reads the world without its booking (no one's).
    rec = recommend_ticket(session, ticket_id=a.ticket_id, now=now, travel=travel, snapshot=world)
    snap = rec.snapshot
    # projected: behind the work before it as now read (an overrun pushes it,
    # `optimizer.retimed`), and not before now when its planned departure is past
    departs, arrives, fixes = projected_visit(
        snap.offset(a.departs_at), snap.offset(a.arrives_at), snap.offset(a.fixes_at),
        pushed=world.delay(a.engineer_id, a.ticket_id), now=snap.offset(now),
    )  # fmt: skip
    rule, better = RULE_BETTER, None
    if overrun:  # the simulator's overrun rule judges the plan as planned
        rule, better = RULE_OVERRUN, opt.keeps_what_was_planned(
            rec.recommendation, rec.job, engineer_id=a.engineer_id,
            departs_at=snap.offset(a.departs_at), arrives_at=snap.offset(a.arrives_at),
        )  # fmt: skip
    if better is None:
        rule, better = RULE_BETTER, opt.better_elsewhere(
            rec.recommendation, rec.job, engineer_id=a.engineer_id, departs_at=departs,
            arrives_at=arrives, fixes_at=fixes,
        )  # fmt: skip
    if better is None:
        return None
    keep = opt.planned_cost(rec.job, departs_at=departs, arrives_at=arrives, fixes_at=fixes)
    due = rec.job.arrive_by
    late = 0 if due is None else max(0, arrives - due) // 60
    return Move(
        a.ticket_id, a.id, a.engineer_id, better.engineer_id, snap.at(better.departs_at),
        snap.at(better.arrives_at), keep, better.cost, late, rule,
    )  # fmt: skip


def accept_move(
    session: Session,
    *,
    assignment_id: int,
    to_engineer_id: int,
    user: User,
    now: datetime,
    travel: opt.TravelTimes,
) -> Confirmed:
    """Carry out a proposed move: withdraw the visit from its engineer, confirm the other.

    Refused (AssignmentConflict, a 409) when the visit has departed, is pinned (a
    dispatcher's promise: unpin it first), or the rule no longer proposes this engineer
    (the day moved on since the proposal). The ticket's row is locked first, as every
    reassignment does; the new assignment stays unpinned (re-plans may move it again) and
    the ticket log says why it moved. Flush only: the caller commits or rolls back.
    """
    found = session.get(Assignment, assignment_id)
    if found is None:
        raise NotFoundError("assignment", assignment_id)
    ticket = session.get(Ticket, found.ticket_id, with_for_update=True, populate_existing=True)
    assert ticket is not None  # foreign key
    row = session.get(Assignment, assignment_id, populate_existing=True)
    assert row is not None  # assignments are never deleted
    if row.status is not AssignmentStatus.ACTIVE or ticket.status is not TicketStatus.ASSIGNED:
        raise AssignmentConflict(
            ticket.id, f"the visit is {ticket.status}: only a visit not departed yet moves"
        )
    if row.pinned:
        raise AssignmentConflict(ticket.id, "the visit is pinned to its engineer: unpin it first")
    move = next(
        (
            m
            for m in proposed_moves(session, now=now, travel=travel, assignment_ids=[row.id])
            if m.to_engineer_id == to_engineer_id
        ),
        None,
    )
    if move is None:
        raise AssignmentConflict(
            ticket.id, f"the move to {engineer_label(session, to_engineer_id)} is not proposed now"
        )
    why = move.reason(session)
    withdraw_assignment(session, assignment_id=row.id, user=user, now=now, reason=why)
    done = confirm_assignment(
        session, ticket_id=ticket.id, engineer_id=to_engineer_id, user=user, now=now,
        travel=travel, pinned=False,
    )  # fmt: skip
    log_entry(
        session, ticket, user=user, at=now, kind=LogKind.DECISION, reason=why,
        details={"moved_from_assignment_id": row.id, "keep_cost": move.keep_cost,
                 "move_cost": move.move_cost, "late_min": move.late_min},
    )  # fmt: skip
    return done


def redispatch(
    session: Session,
    *,
    now: datetime,
    travel: opt.TravelTimes,
    user: User,
    engineer_id: int | None = None,
) -> list[Move]:
    """The triggers' step (a job's end recorded, the worker's tick): apply the moves whose
    ticket's policy says so (`redispatch_apply`), propose the rest; the moves applied.

    Every answer is stored (`dispatch.move_store`: the board reads it). A pinned visit is
    never moved; a move refused meanwhile (409: departed, part taken) is rolled back alone
    and stays a proposal. ``engineer_id``: only his visits.
    """
    asked = review(session, now=now, travel=travel, engineer_id=engineer_id)
    store_asked(session, asked, now=now)
    applied = []
    for move in (a.move for a in asked if a.move is not None):
        row = session.get(Assignment, move.assignment_id)
        if row is None or row.pinned or not applies_at_once(session, move.ticket_id):
            continue
        try:
            with session.begin_nested():
                accept_move(
                    session, assignment_id=move.assignment_id, to_engineer_id=move.to_engineer_id,
                    user=user, now=now, travel=travel,
                )  # fmt: skip
        except AssignmentConflict:
            continue
        applied.append(move)
    return applied


def refresh_stale(
    session: Session,
    *,
    now: datetime,
    travel: opt.TravelTimes,
    region_id: int | None = None,
    engineer_id: int | None = None,
) -> tuple[str, list[Asked]]:
    """The board's on-demand answers: the visits (of a region, an engineer) that
    `dispatch.move_store.stale` finds never asked or out of date, asked now, with the world
    version they were asked on (not stored: the caller stores them with `store_asked` once
    it may write)."""
    version = world_tag(session)
    ids = stale(session, now=now, version=version, region_id=region_id, engineer_id=engineer_id)
    return version, (review(session, now=now, travel=travel, assignment_ids=ids) if ids else [])


WORKER_USER = "re-dispatch (worker)"  # who the worker's moves are logged as


def tick_review(
    session: Session, *, now: datetime, travel: opt.TravelTimes, policy_ids: Sequence[int],
    durations: DurationSource = duration_log,
) -> tuple[str, list[Asked]]:  # fmt: skip
    """The worker's questions (read only; the worker stores and applies the answers): every
    visit not departed yet of the claimed policies (`move_store.claim_ticks`), and the next
    visits of engineers whose job on site overruns (`move_store.overrun_due`), once per
    overrun; with the world version they were asked on. ``durations``: the worker's
    cached log of finished jobs (`dispatch.snapshot_cache.DurationCache`)."""
    version = world_tag(session)
    due = overrun_due(session, now=now, durations=durations)
    ids = sorted(set(of_policies(session, policy_ids)) | set(due))
    if not ids:
        return version, []
    return version, review(session, now=now, travel=travel, assignment_ids=ids, durations=durations)


def to_apply(session: Session, asked: Sequence[Asked]) -> list[Move]:
    """The moves to carry out at once: their ticket's policy says so, the visit is unpinned."""
    out = []
    for a in asked:
        row = session.get(Assignment, a.assignment_id)
        pinned = row is None or row.pinned
        if a.move is not None and not pinned and applies_at_once(session, a.ticket_id):
            out.append(a.move)
    return out


def worker_user(session: Session) -> User:
    """The worker's own user (created inactive on first use: no key logs in as it)."""
    stmt = select(User).where(User.name == WORKER_USER)
    found = session.scalars(stmt).one_or_none()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            user, _ = create_user(session, name=WORKER_USER, role=Role.DISPATCHER, active=False)
        return user
    except DuplicateUserError:  # another worker created it meanwhile
        return session.scalars(stmt).one()


def applies_at_once(session: Session, ticket_id: int) -> bool:
    """Whether the ticket's promise policy applies a move at once (default: propose only)."""
    stmt = ticket_policy(PromisePolicy.redispatch_apply).where(Ticket.id == ticket_id)
    return bool(session.scalars(stmt).one_or_none())
