"""Ticket types: product line x fault class, with the standard service duration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import FIELD_READERS, PageDep, SessionDep, requires
from api.schemas.common import IdPath, PageRead, ProductModelFilter
from api.schemas.ticket import TicketTypeRead
from dispatch import queries

router = APIRouter(prefix="/ticket-types", tags=["tickets"])


@router.get("", dependencies=[requires(*FIELD_READERS)])
def list_ticket_types(
    session: SessionDep, page: PageDep, filters: Annotated[ProductModelFilter, Query()]
) -> PageRead[TicketTypeRead]:
    """List ticket types, optionally of one product line (`product_line` code or id)."""
    found = queries.list_ticket_types(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    return PageRead[TicketTypeRead].model_validate(found)


@router.get("/{ticket_type_id}", dependencies=[requires(*FIELD_READERS)])
def get_ticket_type(session: SessionDep, ticket_type_id: IdPath) -> TicketTypeRead:
    """One ticket type."""
    found = queries.get_ticket_type(session=session, ticket_type_id=ticket_type_id)
    return TicketTypeRead.model_validate(found)
