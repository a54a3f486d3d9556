"""Engineers: home base, position, skills; read by the office, not by other engineers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import MASTER_DATA_READERS, PageDep, SessionDep, requires
from api.schemas.common import EngineerFilter, EngineerRead, IdPath, PageRead, name_skills
from dispatch import queries

router = APIRouter(prefix="/engineers", tags=["engineers"])


@router.get("", dependencies=[requires(*MASTER_DATA_READERS)])
def list_engineers(
    session: SessionDep, page: PageDep, filters: Annotated[EngineerFilter, Query()]
) -> PageRead[EngineerRead]:
    """List engineers with skills; `skill` with `min_level` finds who can do the work."""
    found = queries.list_engineers(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    read = PageRead[EngineerRead].model_validate(found)
    name_skills(session, read.items)
    return read


@router.get("/{engineer_id}", dependencies=[requires(*MASTER_DATA_READERS)])
def get_engineer(session: SessionDep, engineer_id: IdPath) -> EngineerRead:
    """One engineer with skills."""
    found = queries.get_engineer(session=session, engineer_id=engineer_id)
    read = EngineerRead.model_validate(found)
    name_skills(session, [read])
    return read
