"""Pinning an assignment (re-planning keeps it with its engineer) and withdrawing one.

Only an active assignment can be pinned or unpinned: a withdrawn or finished one is no
longer a promise a plan could keep or release. The change is logged on the ticket as a
dispatch decision, so a later dispute can see who fixed the engineer and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db import User
from dispatch.errors import AssignmentConflict, NotFoundError
from dispatch.models import Assignment, AssignmentStatus, LogKind, Ticket, TicketStatus
from dispatch.names import engineer_label
from dispatch.servicelog import log_entry
from dispatch.tickets import transition


def set_pinned(
    session: Session, *, assignment_id: int, pinned: bool, user: User, now: datetime
) -> Assignment:
    """Pin (or unpin) an active assignment; a no-op when it already is; flush only."""
    assignment = _locked(session, assignment_id)
    if assignment.status is not AssignmentStatus.ACTIVE:
        action = "pinned" if pinned else "unpinned"
        reason = f"assignment {assignment_id} is {assignment.status}: only active ones are {action}"
        raise AssignmentConflict(assignment.ticket_id, reason)
    if assignment.pinned == pinned:
        return assignment  # repeating the request changes nothing (and logs nothing)
    assignment.pinned = pinned
    ticket = session.get(Ticket, assignment.ticket_id)  # locked by _locked
    assert ticket is not None  # foreign key
    log_entry(
        session,
        ticket,
        user=user,
        at=now,
        kind=LogKind.DECISION,
        reason=("pinned to " if pinned else "unpinned from ")
        + engineer_label(session, assignment.engineer_id),
        details={"assignment_id": assignment.id, "pinned": pinned},
    )
    session.flush()
    return assignment


def _locked(session: Session, assignment_id: int) -> Assignment:
    """The assignment, read after its ticket's row lock (PostgreSQL): racing pins and
    withdrawals of one assignment queue up on the ticket, as every ticket write does."""
    found = session.get(Assignment, assignment_id)
    if found is None:
        raise NotFoundError("assignment", assignment_id)
    session.get(Ticket, found.ticket_id, with_for_update=True, populate_existing=True)
    assignment = session.get(Assignment, assignment_id, populate_existing=True)
    assert assignment is not None  # assignments are never deleted
    return assignment


WITHDRAWABLE = frozenset({TicketStatus.ASSIGNED, TicketStatus.EN_ROUTE, TicketStatus.ON_SITE})


def withdraw_assignment(
    session: Session, *, assignment_id: int, user: User, now: datetime, reason: str
) -> Assignment:
    """Take an active assignment back from its engineer: the ticket waits for dispatch again.

    For the engineer who cannot go on (ill, van broken down, called away): the ticket goes
    back to "responded" (its clocks keep running from the report), his holds are released
    (parts he already picked stay in his van) and the step is logged with ``reason``; the
    next recommendation, plan or publish assigns it again. Flush only.
    """
    assignment = _locked(session, assignment_id)
    ticket = session.get(Ticket, assignment.ticket_id)  # locked by _locked
    assert ticket is not None  # foreign key
    if assignment.status is not AssignmentStatus.ACTIVE or ticket.status not in WITHDRAWABLE:
        why = f"assignment {assignment_id} is {assignment.status} and its ticket {ticket.status}"
        raise AssignmentConflict(ticket.id, f"{why}: only an active, unfinished one is withdrawn")
    transition(
        session, ticket_id=ticket.id, target=TicketStatus.RESPONDED, user=user, now=now,
        reason=f"withdrawn from {engineer_label(session, assignment.engineer_id)}: {reason}",
        via_dispatch=True,
    )  # fmt: skip
    return assignment
