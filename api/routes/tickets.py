"""Tickets: intake, reads with promise clocks, the worklist, lifecycle steps, service log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentUser, NowDep, PageDep, SessionDep, TravelDep, requires
from api.etag import ETAG_RESPONSE, IfMatchDep, set_etag
from api.idempotency import IdempotencyKeyIfSent, require_key, stock_router
from api.schemas.common import IdPath
from api.schemas.ticket import (
    LogEntryRead,
    TicketCreate,
    TicketFilterIn,
    TicketPage,
    TicketRead,
    TicketUpdate,
    TransitionIn,
)
from api.scoping import SCOPED
from db import Role
from dispatch import ticket_views, tickets
from dispatch.models import TicketStatus
from dispatch.names import user_names
from dispatch.redispatch import redispatch

router = APIRouter(prefix="/tickets", tags=["tickets"], dependencies=[SCOPED])
# Intake may hold stock (ship at intake): a stock write, with its Idempotency-Key and retries.
writes = stock_router("/tickets", ["tickets"], [SCOPED])

WRITERS = (Role.DISPATCHER, Role.ADMIN)
READERS = (Role.DISPATCHER, Role.ADMIN, Role.WAREHOUSE, Role.PLANNER)


@writes.post("", status_code=status.HTTP_201_CREATED, dependencies=[requires(*WRITERS)])
def create_ticket(
    body: TicketCreate,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    travel: TravelDep,
    key: IdempotencyKeyIfSent,
) -> TicketRead:
    """Take a ticket in; its promise clocks start at `reported_at` (default: now).

    Parts no stock in reach can swap within the promise are shipped at once (its
    `GET /v1/shipments?ticket_id=` lists them); the visit planned later waits for them.
    That holds stock, so a body with `parts` needs an `Idempotency-Key` (a retry replays
    the first answer: one ticket, one hold); without parts the key is honoured if sent.
    """
    if body.parts:
        require_key(key)
    intake = tickets.TicketIntake(
        **body.model_dump(exclude={"skills", "parts"}),
        skills=None
        if body.skills is None
        else [tickets.SkillNeed(**s.model_dump()) for s in body.skills],
        parts=[tickets.PartNeed(**p.model_dump()) for p in body.parts],
    )
    ticket = tickets.create_ticket(session, intake, user=user, now=now, travel=travel)
    return TicketRead.from_view(ticket_views.view_ticket(session, ticket_id=ticket.id, now=now))


@router.get("", dependencies=[requires(*READERS)])
def list_tickets(
    session: SessionDep, page: PageDep, now: NowDep, filters: Annotated[TicketFilterIn, Query()]
) -> TicketPage:
    """List tickets by id; `at_risk=true` gives the worklist, most urgent first.

    Both page the same way: follow `next_after` until it is null.
    """
    criteria = ticket_views.TicketFilter(**filters.model_dump(exclude={"at_risk"}))
    if filters.at_risk:
        found = ticket_views.list_at_risk(
            session, filters=criteria, now=now, after=page.after, limit=page.limit
        )
    else:
        found = ticket_views.list_tickets(
            session, filters=criteria, now=now, after=page.after, limit=page.limit
        )
    return TicketPage.from_page(found)


def _tagged(response: Response, read: TicketRead) -> TicketRead:
    set_etag(response, read.version)
    return read


@router.get("/{ticket_id}", dependencies=[requires(*READERS)], responses=ETAG_RESPONSE)
def get_ticket(
    session: SessionDep, ticket_id: IdPath, now: NowDep, response: Response
) -> TicketRead:
    """One ticket with its clocks: on time, at risk, breached, met or void; `ETag`: its version."""
    view = ticket_views.view_ticket(session, ticket_id=ticket_id, now=now)
    return _tagged(response, TicketRead.from_view(view))


@router.patch("/{ticket_id}", dependencies=[requires(*WRITERS)], responses=ETAG_RESPONSE)
def update_ticket(
    body: TicketUpdate, session: SessionDep, user: CurrentUser, now: NowDep, ticket_id: IdPath,
    if_version: IfMatchDep, response: Response,
) -> TicketRead:  # fmt: skip
    """Change the severity; every deadline is recomputed from `reported_at`.

    With `If-Match` (the ETag read) only that version is changed, else 412.
    """
    tickets.change_severity(session, ticket_id=ticket_id, severity=body.severity, user=user,
                            now=now, reason=body.reason, if_version=if_version)  # fmt: skip
    view = ticket_views.view_ticket(session, ticket_id=ticket_id, now=now)
    return _tagged(response, TicketRead.from_view(view))


@router.post("/{ticket_id}/transitions", dependencies=[requires(*WRITERS)], responses=ETAG_RESPONSE)
def transition_ticket(
    body: TransitionIn, session: SessionDep, user: CurrentUser, now: NowDep, ticket_id: IdPath,
    travel: TravelDep, if_version: IfMatchDep, response: Response,
) -> TicketRead:  # fmt: skip
    """Move the ticket along its lifecycle; a refused step is a 409 naming the allowed ones.

    With `If-Match` (the ETag read) only that version is moved, else 412. A fix recorded
    is a job's end: the engineer's next visits are asked the re-dispatch rule again
    (moved at once where the policy says so, otherwise proposed).
    """
    done = tickets.transition(
        session,
        ticket_id=ticket_id,
        target=body.to,
        user=user,
        now=now,
        if_version=if_version,
        **body.model_dump(exclude={"to"}),
    )
    if body.to is TicketStatus.FIXED and done.engineer_id is not None:
        redispatch(session, now=now, travel=travel, user=user, engineer_id=done.engineer_id)
    view = ticket_views.view_ticket(session, ticket_id=ticket_id, now=now)
    return _tagged(response, TicketRead.from_view(view))


@router.get("/{ticket_id}/log", dependencies=[requires(*WRITERS)])
def ticket_log(session: SessionDep, ticket_id: IdPath) -> list[LogEntryRead]:
    """The ticket's service log: every transition and change with user, time and reason."""
    entries = tickets.service_log(session, ticket_id)
    who = user_names(session, (e.user_id for e in entries))
    return [
        LogEntryRead.model_validate(e).model_copy(update={"user_name": who.get(e.user_id)})
        for e in entries
    ]
