"""The audit trail: who changed which master data, when, from what to what (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import PageDep, SessionDep, requires
from api.schemas.common import Id, PageRead, ReadModel, Timestamp
from db import Role
from dispatch import queries
from dispatch.names import user_names

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditRead(ReadModel):
    id: int
    at: Timestamp
    user_id: int | None
    user_name: str | None = Field(None, description="who: the user's name")
    entity: str = Field(description="the table, e.g. engineers")
    entity_key: str = Field(description="the row's primary key ('/' joins composite keys)")
    action: str = Field(description="insert, update or delete")
    changes: dict[str, Any] = Field(description="{column: [old, new]}")


class AuditFilter(BaseModel):
    entity: str | None = Field(None, max_length=64)
    entity_key: str | None = Field(None, max_length=128)
    user_id: Id | None = None


@router.get("", dependencies=[requires(Role.ADMIN)])
def list_audit(
    session: SessionDep, page: PageDep, filters: Annotated[AuditFilter, Query()]
) -> PageRead[AuditRead]:
    """The trail, oldest first; filter by table, row or user."""
    found = queries.list_audit(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    read = PageRead[AuditRead].model_validate(found)
    who = user_names(session, (e.user_id for e in read.items))
    for entry in read.items:
        entry.user_name = None if entry.user_id is None else who.get(entry.user_id)
    return read
