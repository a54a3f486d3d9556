"""The re-dispatch rule's answers, stored: the board reads them instead of asking per poll.

Asking the rule for one visit costs a snapshot and a recommendation (tens to hundreds of
milliseconds on a large world), so `GET /v1/dispatch/moves` asking it for every assigned
visit of a region on every poll was the board's slowest read. The answers are asked:

- by the worker's tick (`spares.worker`), every `redispatch_every_min` of each promise
  policy (a `redispatch_ticks` row per policy, claimed by one worker with a conditional
  update), for every visit not departed yet of that policy's tickets;
- by the worker at once for an engineer's next visits when his job on site overruns
  (`dispatch.moves.overrunning`), with the simulator's overrun rule, once per overrun;
- when a fix is recorded (`dispatch.redispatch.redispatch`), for that engineer's visits;
- on demand by the board's read, for visits never asked, or asked longer ago than twice
  their policy's interval while the world changed since (`world_version`, the snapshot cache's
  key: a move may go to any engineer, so the version is the world's, not the region's).

Each answer is one row per visit (`MoveProposal`), the move or "keep the plan", written by
upsert: a newer answer is never overwritten by an older one. A proposal is advice: its
acceptance asks the rule again (`dispatch.redispatch.accept_move`). Flush only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Contract,
    Engineer,
    MoveProposal,
    PromisePolicy,
    RedispatchTick,
    Site,
    Ticket,
    TicketStatus,
)
from dispatch.moves import Asked, DurationSource, Move, overrunning
from dispatch.snapshot import duration_log
from dispatch.snapshot_cache import world_version

_CHUNK = 500  # rows per upsert statement (SQLite binds at most 32,766 variables)


def world_tag(session: Session) -> str:
    """The world version as stored with an answer."""
    return ",".join(str(v) for v in world_version(session))


def store_asked(
    session: Session, asked: Sequence[Asked], *, now: datetime, version: str | None = None
) -> None:
    """Store each visit's answer (its move, or none), replacing older answers only."""
    if not asked:
        return
    tag = world_tag(session) if version is None else version
    regions: dict[int, int] = {
        tid: rid
        for tid, rid in session.execute(
            select(Ticket.id, Site.region_id)
            .join(Site, Site.id == Ticket.site_id)
            .where(Ticket.id.in_({a.ticket_id for a in asked}))
        )
    }
    rows = [_row(a, regions[a.ticket_id], now, tag) for a in asked]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for start in range(0, len(rows), _CHUNK):
        ins = dialect.insert(MoveProposal).values(rows[start : start + _CHUNK])
        newer = {k: ins.excluded[k] for k in rows[0] if k != "assignment_id"}
        session.execute(
            ins.on_conflict_do_update(
                index_elements=["assignment_id"],
                set_=newer,
                where=MoveProposal.reviewed_at <= ins.excluded.reviewed_at,
            )
        )


def _row(a: Asked, region_id: int, now: datetime, tag: str) -> dict[str, Any]:
    m = a.move
    return {
        "assignment_id": a.assignment_id,
        "ticket_id": a.ticket_id,
        "region_id": region_id,
        "from_engineer_id": a.engineer_id,
        "to_engineer_id": None if m is None else m.to_engineer_id,
        "rule": a.rule,
        "departs_at": None if m is None else m.departs_at,
        "arrives_at": None if m is None else m.arrives_at,
        "keep_cost": 0 if m is None else m.keep_cost,
        "move_cost": 0 if m is None else m.move_cost,
        "late_min": 0 if m is None else m.late_min,
        "reviewed_at": now,
        "world_version": tag,
    }


def _open_visits() -> Any:
    """Active assignments of tickets not departed yet, with their policy."""
    return (
        select(Assignment.id)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .join(Site, Site.id == Ticket.site_id)
        .join(Contract, Contract.id == Site.contract_id)
        .join(PromisePolicy, PromisePolicy.id == Contract.policy_id)
        .where(Assignment.status == AssignmentStatus.ACTIVE, Ticket.status == TicketStatus.ASSIGNED)
    )


@dataclass(frozen=True, slots=True)
class StoredMove:
    """A stored move as the board shows it: is the visit pinned, who would take it."""

    move: Move
    pinned: bool
    to_label: str  # "engineer NAME (CODE)", as `dispatch.names.engineer_label` words it


def stored_moves(
    session: Session, *, region_id: int | None = None, engineer_id: int | None = None
) -> list[StoredMove]:
    """The stored moves of visits still planned as they were asked (active, not departed,
    same engineer), soonest departure first; of a region (its tickets') or an engineer.
    One query: the board polls it."""
    to = aliased(Engineer)
    stmt = (
        select(
            MoveProposal.ticket_id,
            MoveProposal.assignment_id,
            MoveProposal.from_engineer_id,
            MoveProposal.to_engineer_id,
            MoveProposal.departs_at,
            MoveProposal.arrives_at,
            MoveProposal.keep_cost,
            MoveProposal.move_cost,
            MoveProposal.late_min,
            MoveProposal.rule,
            Assignment.pinned,
            to.name,
            to.code,
        )  # fmt: skip
        .join(Assignment, Assignment.id == MoveProposal.assignment_id)
        .join(Ticket, Ticket.id == MoveProposal.ticket_id)
        .join(to, to.id == MoveProposal.to_engineer_id)
        .where(
            Assignment.status == AssignmentStatus.ACTIVE,
            Ticket.status == TicketStatus.ASSIGNED,
            Assignment.engineer_id == MoveProposal.from_engineer_id,
        )
        .order_by(Assignment.departs_at, Assignment.id)
    )
    if region_id is not None:
        stmt = stmt.where(MoveProposal.region_id == region_id)
    if engineer_id is not None:
        stmt = stmt.where(MoveProposal.from_engineer_id == engineer_id)
    out = []
    # Plain rows, not ORM objects: the board polls this (one query, no identity map).
    for (
        tid,
        aid,
        frm,
        to_id,
        departs,
        arrives,
        keep,
        cost,
        late,
        rule,
        pinned,
        name,
        code,
    ) in session.execute(stmt):
        if to_id is None or departs is None or arrives is None:
            continue  # a stored move has all three (the columns allow "keep the plan")
        move = Move(tid, aid, frm, to_id, departs, arrives, keep, cost, late, rule)
        out.append(StoredMove(move, pinned, f"engineer {name} ({code})"))
    return out


def stale(
    session: Session,
    *,
    now: datetime,
    version: str,
    region_id: int | None = None,
    engineer_id: int | None = None,
) -> list[int]:
    """Visits (of a region, or an engineer) never asked, or asked longer ago than twice
    their policy's `redispatch_every_min` while the world changed since (version differs).

    Twice: the worker's tick asks every interval, and a large region's tick takes a while;
    the board's read asks itself only when no worker did (none runs, or it is down)."""
    stmt = _open_visits().add_columns(
        MoveProposal.reviewed_at, MoveProposal.world_version, PromisePolicy.redispatch_every_min
    )
    stmt = stmt.outerjoin(MoveProposal, MoveProposal.assignment_id == Assignment.id)
    if region_id is not None:
        stmt = stmt.where(Site.region_id == region_id)
    if engineer_id is not None:
        stmt = stmt.where(Assignment.engineer_id == engineer_id)
    return [
        aid
        for aid, at, tag, every in session.execute(stmt)
        if at is None or (tag != version and at + timedelta(minutes=2 * every) <= now)
    ]


def claim_ticks(session: Session, *, now: datetime) -> list[int]:
    """The policies whose tick is due, claimed for this worker: their next tick is moved
    one interval on by a conditional update (PostgreSQL re-checks it after a concurrent
    one commits; SQLite writers are serial), so two workers never claim the same tick."""
    claimed = []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for pid, every in session.execute(
        select(PromisePolicy.id, PromisePolicy.redispatch_every_min).order_by(PromisePolicy.id)
    ):
        nxt = now + timedelta(minutes=every)
        first = dialect.insert(RedispatchTick).values(policy_id=pid, next_at=nxt)
        moved = (
            update(RedispatchTick)
            .where(RedispatchTick.policy_id == pid, RedispatchTick.next_at <= now)
            .values(next_at=nxt)
        )
        # RETURNING, not rowcount: an ORM-enabled INSERT may not report how many rows
        for stmt in (first.on_conflict_do_nothing(index_elements=["policy_id"]), moved):
            if session.execute(stmt.returning(RedispatchTick.policy_id)).first() is not None:
                claimed.append(pid)
                break
    return claimed


def of_policies(session: Session, policy_ids: Sequence[int]) -> list[int]:
    """The visits not departed yet of tickets under these policies (a tick's visits)."""
    if not policy_ids:
        return []
    stmt = _open_visits().where(PromisePolicy.id.in_(list(policy_ids)))
    return list(session.scalars(stmt))


def overrun_due(
    session: Session, *, now: datetime, durations: DurationSource = duration_log
) -> list[int]:
    """Visits not departed yet of engineers whose job on site overruns, not asked since
    the overrun passed its threshold: each overrun asks once (the worker's trigger)."""
    late = overrunning(session, now=now, durations=durations)
    if not late:
        return []
    stmt = (
        _open_visits()
        .add_columns(Assignment.engineer_id, MoveProposal.reviewed_at)
        .outerjoin(MoveProposal, MoveProposal.assignment_id == Assignment.id)
        .where(Assignment.engineer_id.in_(list(late)))
    )
    return [aid for aid, eid, at in session.execute(stmt) if at is None or at < late[eid]]
