"""What a re-dispatch move is, and when an engineer's job on site counts as overrunning.

Shared by the rule's questions (`dispatch.redispatch`) and its stored answers
(`dispatch.move_store`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.durations import DurationLog
from dispatch.models import Assignment, PromisePolicy, Ticket, TicketStatus
from dispatch.names import engineer_label
from dispatch.snapshot import (
    ACTIVE_VISIT,
    VISIT_ARRIVED,
    duration_log,
    planned_s,
    with_planning,
)

RULE_BETTER = "better"  # optimizer.better_elsewhere: the plan breaks a clock, someone is cheaper
RULE_OVERRUN = "overrun"  # optimizer.keeps_what_was_planned: his job on site overruns


@dataclass(frozen=True, slots=True)
class Move:
    """A proposed move of one visit not departed yet: to whom, and what it saves."""

    ticket_id: int
    assignment_id: int
    from_engineer_id: int
    to_engineer_id: int
    departs_at: datetime
    arrives_at: datetime
    keep_cost: int  # fen: the clocks' penalties if the plan is kept
    move_cost: int  # fen: the option's cost (penalties + travel + overtime)
    late_min: int = 0  # how late the planned engineer would arrive (0: the arrival is kept)
    rule: str = "better"  # RULE_BETTER or RULE_OVERRUN: which rule proposed it

    def reason(self, session: Session) -> str:
        """The audit's words: who keeps the promise, and how late the plan would be."""
        to, frm = (
            engineer_label(session, self.to_engineer_id),
            engineer_label(session, self.from_engineer_id),
        )
        return f"re-dispatched: {to} keeps the promise, {frm} would be {self.late_min} min late"


@dataclass(frozen=True, slots=True)
class Asked:
    """One visit asked the rule: its move, or None to keep the plan (stored either way)."""

    assignment_id: int
    ticket_id: int
    engineer_id: int
    rule: str
    move: Move | None


DurationSource = Callable[[Session], DurationLog]  # how to read the log of finished jobs


def overrunning(
    session: Session,
    *,
    now: datetime,
    engineer_ids: list[int] | None = None,
    durations: DurationSource = duration_log,
) -> dict[int, datetime]:
    """Engineers whose job on site runs past its planned end by more than the policy's
    `redispatch_after_min`: engineer id -> the instant the threshold passed.

    The job began at its visit's arrival (`dispatch.snapshot.VISIT_ARRIVED`: this engineer's,
    not the ticket's first); its planned duration is the one dispatch plans it with
    (`dispatch.durations`, as `dispatch.snapshot` does for the job on site); the rule is the
    simulator's number and test (`optimizer.overrun_past`), the threshold the job's policy.
    ``durations`` reads the log (the worker's is cached: it asks every round).
    """
    stmt = (
        with_planning(Ticket.engineer_id, VISIT_ARRIVED, PromisePolicy.redispatch_after_min)
        .outerjoin(Assignment, ACTIVE_VISIT)
        .where(
            Ticket.status == TicketStatus.ON_SITE,
            VISIT_ARRIVED.is_not(None),
            Ticket.engineer_id.is_not(None),
        )
    )
    if engineer_ids is not None:
        stmt = stmt.where(Ticket.engineer_id.in_(engineer_ids))
    rows = list(session.execute(stmt))
    if not rows:
        return {}
    log = durations(session)
    out: dict[int, datetime] = {}
    for row in rows:
        eid, arrived, after_min = row[:3]
        if eid is None or arrived is None:  # filtered in SQL; for the type checker
            continue
        planned = planned_s(log, row)
        since = int((now - arrived).total_seconds())
        if opt.overrun_past(started_at=0, planned_s=planned, after_s=after_min * 60, now=since):
            out[eid] = arrived + timedelta(seconds=planned + after_min * 60)
    return out
