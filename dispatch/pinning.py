"""Pinning an assignment: re-planning keeps a pinned visit with its engineer, in its order.

Only an active assignment can be pinned or unpinned: a withdrawn or finished one is no
longer a promise a plan could keep or release. The change is logged on the ticket as a
dispatch decision, so a later dispute can see who fixed the engineer and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db import User
from dispatch.errors import AssignmentConflict, NotFoundError
from dispatch.models import Assignment, AssignmentStatus, LogKind, Ticket
from dispatch.servicelog import log_entry


def set_pinned(
    session: Session, *, assignment_id: int, pinned: bool, user: User, now: datetime
) -> Assignment:
    """Pin (or unpin) an active assignment; a no-op when it already is; flush only."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFoundError("assignment", assignment_id)
    if assignment.status is not AssignmentStatus.ACTIVE:
        action = "pinned" if pinned else "unpinned"
        reason = f"assignment {assignment_id} is {assignment.status}: only active ones are {action}"
        raise AssignmentConflict(assignment.ticket_id, reason)
    if assignment.pinned == pinned:
        return assignment  # repeating the request changes nothing (and logs nothing)
    assignment.pinned = pinned
    ticket = session.get(Ticket, assignment.ticket_id)
    assert ticket is not None  # foreign key
    log_entry(
        session,
        ticket,
        user=user,
        at=now,
        kind=LogKind.DECISION,
        reason=("pinned to" if pinned else "unpinned from") + f" engineer {assignment.engineer_id}",
        details={"assignment_id": assignment.id, "pinned": pinned},
    )
    session.flush()
    return assignment
